// The parsed step tree (docs/concourse-semantics.md §1.5). A raw step object becomes a chain of wrappers
// around one core step, decided by Concourse's fixed key precedence, not by key order in YAML.
import type { AcrossVar, Job, StepConfig, VarRef } from './schema.ts';
import { expandGlob } from './glob.ts';

/** A location inside the raw config: object keys and array indexes. */
export type ConfigPath = (string | number)[];

/** The precedence order: the first key found is the outermost wrapper. */
export const STEP_PRECEDENCE = [
  'ensure',
  'on_error',
  'on_abort',
  'on_failure',
  'on_success',
  'across',
  'attempts',
  'run',
  'task',
  'put',
  'get',
  'timeout',
  'set_pipeline',
  'load_var',
  'try',
  'do',
  'in_parallel',
] as const;

export type HookKind = 'ensure' | 'on_error' | 'on_abort' | 'on_failure' | 'on_success';
export const HOOK_KINDS: readonly HookKind[] = ['ensure', 'on_error', 'on_abort', 'on_failure', 'on_success'];
export type CoreKind = 'run' | 'task' | 'put' | 'get' | 'set_pipeline' | 'load_var' | 'try' | 'do' | 'in_parallel';

/** The keys each step kind owns; whatever is left after parsing is an unknown field. */
const OWNED_KEYS: Record<string, readonly string[]> = {
  ensure: ['ensure'],
  on_error: ['on_error'],
  on_abort: ['on_abort'],
  on_failure: ['on_failure'],
  on_success: ['on_success'],
  across: ['across', 'fail_fast'],
  attempts: ['attempts'],
  timeout: ['timeout'],
  // task/get/put/run own `timeout` (the process timeout): they come before `timeout` in precedence.
  run: ['run', 'type', 'params', 'privileged', 'tags', 'timeout'],
  task: [
    'task',
    'config',
    'file',
    'image',
    'privileged',
    'hermetic',
    'vars',
    'params',
    'tags',
    'input_mapping',
    'output_mapping',
    'container_limits',
    'timeout',
  ],
  put: ['put', 'resource', 'params', 'inputs', 'get_params', 'no_get', 'tags', 'timeout'],
  get: ['get', 'resource', 'version', 'params', 'passed', 'trigger', 'tags', 'timeout'],
  set_pipeline: ['set_pipeline', 'file', 'team', 'vars', 'var_files', 'instance_vars'],
  load_var: ['load_var', 'file', 'format', 'reveal'],
  try: ['try'],
  do: ['do'],
  in_parallel: ['in_parallel'],
};

interface StepBase {
  /** where the raw step object is, relative to where parsing started (the job, for jobStep) */
  path: ConfigPath;
  /** the raw step object this node was parsed from (wrappers share it with their core step) */
  config: StepConfig;
}

export type GetStep = StepBase & { kind: 'get'; name: string; resource: string };
export type PutStep = StepBase & { kind: 'put'; name: string; resource: string };
export type TaskStep = StepBase & { kind: 'task'; name: string };
export type RunStep = StepBase & { kind: 'run'; message: string };
export type SetPipelineStep = StepBase & { kind: 'set_pipeline'; name: string };
export type LoadVarStep = StepBase & { kind: 'load_var'; name: string };
export type DoStep = StepBase & { kind: 'do'; steps: Step[] };
export type InParallelStep = StepBase & {
  kind: 'in_parallel';
  steps: Step[];
  limit?: number | VarRef;
  fail_fast?: boolean | VarRef;
};
export type TryStep = StepBase & { kind: 'try'; step: Step };
export type TimeoutStep = StepBase & { kind: 'timeout'; duration: string; step: Step };
export type AttemptsStep = StepBase & { kind: 'attempts'; attempts: number | VarRef; step: Step };
export type AcrossStep = StepBase & { kind: 'across'; vars: AcrossVar[]; fail_fast?: boolean | VarRef; step: Step };
export type HookStep = StepBase & { kind: HookKind; step: Step; hook: Step };

/** A parsed step: a discriminated union on `kind`. */
export type Step =
  | GetStep
  | PutStep
  | TaskStep
  | RunStep
  | SetPipelineStep
  | LoadVarStep
  | DoStep
  | InParallelStep
  | TryStep
  | TimeoutStep
  | AttemptsStep
  | AcrossStep
  | HookStep;

/** A structural problem found while parsing a step; `path` is the step's (or the key's) location. */
export type StepIssue = { path: ConfigPath; message: string; key?: string };

export class StepConfigError extends Error {
  constructor(readonly issues: StepIssue[]) {
    super(issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('\n'));
  }
}

export type ParseStepOptions = {
  /** the raw step's location, prefixed to every node's and issue's path */
  path?: ConfigPath;
  /** receives each issue; without it parseStep throws a StepConfigError listing them all */
  onIssue?: (issue: StepIssue) => void;
};

/**
 * Parses a raw step. A broken step (no core key) becomes an empty `do` so the rest of the tree
 * can still be walked; the problem is reported through onIssue (or thrown).
 */
export function parseStep(raw: StepConfig, opts: ParseStepOptions = {}): Step {
  const issues: StepIssue[] = [];
  const report = opts.onIssue ?? ((i: StepIssue) => issues.push(i));
  const step = parseAt(raw, opts.path ?? [], report);
  if (!opts.onIssue && issues.length > 0) throw new StepConfigError(issues);
  return step;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function parseAt(raw: StepConfig, path: ConfigPath, report: (i: StepIssue) => void): Step {
  const base = { path, config: raw };
  if (!isObject(raw)) {
    report({ path, message: 'step must be an object' });
    return { ...base, kind: 'do', steps: [] };
  }
  const remaining = new Set(Object.keys(raw));
  const wrappers: ((inner: Step) => Step)[] = [];
  let core: Step | undefined;
  for (const key of STEP_PRECEDENCE) {
    if (!(key in raw) || !remaining.has(key)) continue;
    for (const owned of OWNED_KEYS[key] ?? []) remaining.delete(owned);
    const wrapper = wrapperFor(key, raw, path, report);
    if (wrapper) {
      wrappers.push(wrapper);
      continue;
    }
    core = coreFor(key as CoreKind, raw, path, report);
    break;
  }
  if (!core) {
    report({
      path,
      message: wrappers.length === 0 ? 'no step configured' : 'no core step type declared (e.g. get, put, task, etc.)',
    });
    core = { ...base, kind: 'do', steps: [] };
  } else if (remaining.size > 0) {
    const keys = [...remaining];
    report({ path, key: keys[0], message: `unknown fields ${JSON.stringify(keys)}` });
  }
  // The first key found is the outermost wrapper, so apply them from the innermost out.
  return wrappers.reduceRight((inner, wrap) => wrap(inner), core);
}

function wrapperFor(
  key: string,
  raw: StepConfig,
  path: ConfigPath,
  report: (i: StepIssue) => void,
): ((inner: Step) => Step) | undefined {
  const base = { path, config: raw };
  switch (key) {
    case 'ensure':
    case 'on_error':
    case 'on_abort':
    case 'on_failure':
    case 'on_success': {
      const hookKey = key;
      const hook = parseAt(raw[hookKey] as StepConfig, [...path, hookKey], report);
      return (step) => ({ ...base, kind: hookKey, step, hook });
    }
    case 'across':
      return (step) => ({ ...base, kind: 'across', vars: raw.across ?? [], fail_fast: raw.fail_fast, step });
    case 'attempts':
      return (step) => ({ ...base, kind: 'attempts', attempts: raw.attempts ?? 1, step });
    case 'timeout':
      return (step) => ({ ...base, kind: 'timeout', duration: raw.timeout ?? '', step });
    default:
      return undefined;
  }
}

function coreFor(kind: CoreKind, raw: StepConfig, path: ConfigPath, report: (i: StepIssue) => void): Step {
  const base = { path, config: raw };
  switch (kind) {
    case 'get':
      return { ...base, kind, name: raw.get ?? '', resource: raw.resource ?? raw.get ?? '' };
    case 'put':
      return { ...base, kind, name: raw.put ?? '', resource: raw.resource ?? raw.put ?? '' };
    case 'task':
      return { ...base, kind, name: raw.task ?? '' };
    case 'run':
      return { ...base, kind, message: raw.run ?? '' };
    case 'set_pipeline':
      return { ...base, kind, name: raw.set_pipeline ?? '' };
    case 'load_var':
      return { ...base, kind, name: raw.load_var ?? '' };
    case 'try':
      return { ...base, kind, step: parseAt(raw.try as StepConfig, [...path, 'try'], report) };
    case 'do':
      return {
        ...base,
        kind,
        steps: (Array.isArray(raw.do) ? raw.do : []).map((s, i) => parseAt(s, [...path, 'do', i], report)),
      };
    case 'in_parallel': {
      const ip = raw.in_parallel;
      if (Array.isArray(ip)) {
        return { ...base, kind, steps: ip.map((s, i) => parseAt(s, [...path, 'in_parallel', i], report)) };
      }
      const steps = isObject(ip) && Array.isArray(ip.steps) ? ip.steps : [];
      return {
        ...base,
        kind,
        steps: steps.map((s, i) => parseAt(s, [...path, 'in_parallel', 'steps', i], report)),
        ...(ip?.limit !== undefined ? { limit: ip.limit } : {}),
        ...(ip?.fail_fast !== undefined ? { fail_fast: ip.fail_fast } : {}),
      };
    }
  }
}

/** The child steps of a node (hooks included), in execution order. */
export function childSteps(step: Step): Step[] {
  switch (step.kind) {
    case 'do':
    case 'in_parallel':
      return step.steps;
    case 'try':
    case 'timeout':
    case 'attempts':
    case 'across':
      return [step.step];
    case 'ensure':
    case 'on_error':
    case 'on_abort':
    case 'on_failure':
    case 'on_success':
      return [step.step, step.hook];
    default:
      return [];
  }
}

/** Visits every node depth-first, parents before children; `parents` is outermost first. */
export function walkSteps(step: Step, visit: (step: Step, parents: readonly Step[]) => void): void {
  const go = (s: Step, parents: Step[]): void => {
    visit(s, parents);
    const next = [...parents, s];
    for (const c of childSteps(s)) go(c, next);
  };
  go(step, []);
}

/**
 * The job's step: its plan as a `do`, wrapped by the job hooks inside-out:
 * ensure(on_error(on_abort(on_failure(on_success(do(plan)))))). Paths are relative to the job.
 */
export function jobStep(job: Job, onIssue?: (issue: StepIssue) => void): Step {
  const issues: StepIssue[] = [];
  const report = onIssue ?? ((i: StepIssue) => issues.push(i));
  const jobConfig = job as unknown as StepConfig;
  let step: Step = {
    path: ['plan'],
    config: { do: job.plan ?? [] },
    kind: 'do',
    steps: (job.plan ?? []).map((s, i) => parseAt(s, ['plan', i], report)),
  };
  for (const hook of ['on_success', 'on_failure', 'on_abort', 'on_error', 'ensure'] as const) {
    const raw = job[hook];
    if (raw === undefined) continue;
    step = { path: [], config: jobConfig, kind: hook, step, hook: parseAt(raw, [hook], report) };
  }
  if (!onIssue && issues.length > 0) throw new StepConfigError(issues);
  return step;
}

/** A job input as stored in job_inputs: one per get step anywhere in the job (hooks included). */
export type JobInput = {
  name: string;
  resource: string;
  /** job names, with globs expanded (Go path.Match) against the pipeline's jobs */
  passed: string[];
  trigger: boolean;
  /** `latest` when absent, or when still an unresolved ((var)) */
  version: 'latest' | 'every' | Record<string, string>;
  params?: Record<string, unknown> | VarRef;
  /** the get step's own `tags` (atc.JobInputParams) */
  tags?: string[];
};

export type JobOutput = { name: string; resource: string };

function collect<T>(job: Job, pick: (s: Step) => T | undefined): T[] {
  const out: T[] = [];
  // Structural problems are validate.ts's business; collect from whatever parses.
  walkSteps(
    jobStep(job, () => {}),
    (s) => {
      const v = pick(s);
      if (v !== undefined) out.push(v);
    },
  );
  return out;
}

/** Every get step of the job (plan and hooks), with `passed` globs expanded. */
export function jobInputs(job: Job, allJobNames: readonly string[]): JobInput[] {
  return collect(job, (s) => {
    if (s.kind !== 'get') return undefined;
    // a Set: a glob matching n jobs made this quadratic with includes()
    const passed = new Set<string>();
    for (const pattern of s.config.passed ?? []) {
      for (const name of expandGlob(pattern, allJobNames)) passed.add(name);
    }
    const v = s.config.version;
    const version: JobInput['version'] = v === 'every' ? 'every' : typeof v === 'object' && v !== null ? v : 'latest';
    const input: JobInput = { name: s.name, resource: s.resource, passed: [...passed], trigger: s.config.trigger === true, version };
    if (s.config.params !== undefined) input.params = s.config.params;
    if (Array.isArray(s.config.tags) && s.config.tags.length > 0) input.tags = s.config.tags;
    return input;
  });
}

/** Every put step of the job (plan and hooks), in order. */
export function jobOutputs(job: Job): JobOutput[] {
  return collect(job, (s) => (s.kind === 'put' ? { name: s.name, resource: s.resource } : undefined));
}

/** A short label for a step in diagnostics: `get(repo)`, `task(build)`, `do`. */
export function stepLabel(raw: unknown): string | undefined {
  if (!isObject(raw)) return undefined;
  for (const key of STEP_PRECEDENCE) {
    if (!(key in raw)) continue;
    if (['ensure', 'on_error', 'on_abort', 'on_failure', 'on_success', 'across', 'attempts', 'timeout'].includes(key)) {
      continue;
    }
    const v = raw[key];
    return typeof v === 'string' ? `${key}(${v})` : key;
  }
  return undefined;
}
