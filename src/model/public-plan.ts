// The public form of a plan (Concourse's `plan.Public()`): what `GET /builds/:id/plan` and image
// events show. Sources, params, vars and inline task configs can carry credentials, so they go.
// Image sub-plans are `image_get_plan` / `image_check_plan`, as atc/public_plan.go names them.
import type { Plan } from './plan.ts';

const PRIVATE_KEYS = new Set(['source', 'params', 'vars', 'var_files', 'instance_vars', 'config', 'resource_types', 'object']);

function redact(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(redact);
  if (value === null || typeof value !== 'object') return value;
  const out: Record<string, unknown> = {};
  for (const [key, child] of Object.entries(value)) {
    if (key === 'across') {
      out[key] = publicAcross(child);
      continue;
    }
    if (PRIVATE_KEYS.has(key)) continue;
    // a step's image (a get/put/check's `image`, a task's `image_plan`; a task's `image` names an
    // artifact) as Concourse shows it: its check and get plans beside the step's own fields
    if ((key === 'image' || key === 'image_plan') && child !== null && typeof child === 'object' && !Array.isArray(child)) {
      const image = child as { check_plan?: unknown; get_plan?: unknown };
      if (image.get_plan !== undefined) out.image_get_plan = redact(image.get_plan);
      if (image.check_plan !== undefined) out.image_check_plan = redact(image.check_plan);
      continue;
    }
    out[key] = redact(child);
  }
  return out;
}

/**
 * An across step as Concourse's AcrossPlan.Public(): its vars' names and fail_fast; neither the
 * values (they may come from vars) nor the substep template (a whole plan, sources included).
 */
function publicAcross(across: unknown): unknown {
  if (across === null || typeof across !== 'object' || Array.isArray(across)) return {};
  const a = across as { vars?: unknown; fail_fast?: unknown };
  const names = Array.isArray(a.vars) ? a.vars.map((v) => ({ name: (v as { name?: unknown } | null)?.name })) : [];
  return { vars: names, ...(a.fail_fast === true ? { fail_fast: true } : {}) };
}

export function publicPlan(plan: Plan): Plan {
  return redact(plan) as Plan;
}
