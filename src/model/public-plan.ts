// The public form of a plan (Concourse's `plan.Public()`): what `GET /builds/:id/plan` and image
// events show. Sources, params, vars and inline task configs can carry credentials, so they go.
import type { Plan } from './plan.ts';

const PRIVATE_KEYS = new Set(['source', 'params', 'vars', 'var_files', 'instance_vars', 'config', 'resource_types']);

function redact(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(redact);
  if (value === null || typeof value !== 'object') return value;
  const out: Record<string, unknown> = {};
  for (const [key, child] of Object.entries(value)) {
    if (PRIVATE_KEYS.has(key)) continue;
    out[key] = redact(child);
  }
  return out;
}

export function publicPlan(plan: Plan): Plan {
  return redact(plan) as Plan;
}
