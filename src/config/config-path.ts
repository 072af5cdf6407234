// Concourse-style display paths (`jobs.build.plan.do[1].get(repo).passed`) for structural paths.
import { stepLabel, type ConfigPath } from './steps.ts';

const NAMED_SECTIONS = new Set(['resources', 'resource_types', 'prototypes', 'jobs', 'groups', 'var_sources']);
const HOOKS = new Set(['on_success', 'on_failure', 'on_abort', 'on_error', 'ensure']);

type Ctx = 'top' | 'section' | 'job' | 'steps' | 'step' | 'parallel' | 'other';

function child(value: unknown, seg: string | number): unknown {
  if (Array.isArray(value) && typeof seg === 'number') return value[seg];
  if (typeof value === 'object' && value !== null) return (value as Record<string, unknown>)[String(seg)];
  return undefined;
}

function nameOf(value: unknown): string | undefined {
  const name = child(value, 'name');
  return typeof name === 'string' && name !== '' ? name : undefined;
}

/** Names section items by their name when they have one, and labels each step by its core key. */
export function describePath(root: unknown, at: ConfigPath): string {
  let out = '';
  let cur = root;
  let ctx: Ctx = 'top';
  let section = '';
  for (const seg of at) {
    const next = child(cur, seg);
    let nextCtx: Ctx = 'other';
    if (typeof seg === 'number') {
      const name = ctx === 'section' ? nameOf(next) : undefined;
      out += name !== undefined ? `.${name}` : `[${seg}]`;
      if (ctx === 'section') nextCtx = section === 'jobs' ? 'job' : 'other';
      else if (ctx === 'steps') nextCtx = 'step';
    } else {
      // Concourse wraps a job's plan in a `do` step carrying the job's hooks, so its paths read
      // `jobs.J.plan.do[0]…` and `jobs.J.plan.on_failure…` (atc/configvalidate/validate_test.go)
      if (ctx === 'job' && seg === 'plan') out += '.plan.do';
      else if (ctx === 'job' && HOOKS.has(seg)) out += `.plan.${seg}`;
      else out += out === '' ? seg : `.${seg}`;
      if (ctx === 'top' && NAMED_SECTIONS.has(seg)) {
        nextCtx = 'section';
        section = seg;
      } else if (ctx === 'job' && seg === 'plan') nextCtx = 'steps';
      else if ((ctx === 'job' || ctx === 'step') && HOOKS.has(seg)) nextCtx = 'step';
      else if (ctx === 'step' && seg === 'try') nextCtx = 'step';
      else if (ctx === 'step' && seg === 'do') nextCtx = 'steps';
      else if (ctx === 'step' && seg === 'in_parallel') nextCtx = Array.isArray(next) ? 'steps' : 'parallel';
      else if (ctx === 'parallel' && seg === 'steps') nextCtx = 'steps';
    }
    if (nextCtx === 'step') {
      const label = stepLabel(next);
      if (label) out += `.${label}`;
    }
    cur = next;
    ctx = nextCtx;
  }
  return out;
}
