// Validation of a build plan that comes from a client (`POST /teams/:team/builds`, `jetway
// execute`). Such a plan skips the pipeline's config validation and goes straight to the engine,
// so it is checked here as strictly as a pipeline's config: every node has the shape of
// src/model/plan.ts (exactly one step key, no unknown fields, each field of its type), inline
// task configs pass the pipeline's task-config schema, names that become paths are safe, and
// every `across.substep_template` (plan JSON inside a string, which the engine parses at run
// time) is parsed and checked the same way, recursively. Sizes are bounded (nesting, nodes,
// JSON depth) so that checking is linear in the body and never overflows the stack.
//
// Concourse decodes the body into its typed atc.Plan (atc/api/buildserver/create.go) and stops
// there; Jetway checks more because a plan here names artifacts of a team and reaches the engine
// without any other validation.
import { LOAD_VAR_FORMATS, isDuration, isVarRef, taskConfigSchema } from '../config/index.ts';
import { zodMessages } from './errors.ts';
import { hasNul, unsafeNameProblem } from './names.ts';

/** The bounds of a client's plan. */
export const PLAN_LIMITS = {
  /** plan nodes inside one another (templates and image sub-plans included) */
  maxDepth: 64,
  /** plan nodes in all (each template counted once) */
  maxNodes: 10_000,
  /** nesting of any JSON value (objects and arrays), the whole body */
  maxJsonDepth: 256,
  /** an `attempts`, `limit` or `max_in_flight` number */
  maxCount: 10_000,
  /** an artifact id (a Postgres integer) */
  maxId: 2_147_483_647,
};

/** The step keys a plan node may have (exactly one of them). */
export const STEP_KEYS = [
  'get',
  'put',
  'check',
  'task',
  'set_pipeline',
  'load_var',
  'artifact_input',
  'artifact_output',
  'do',
  'in_parallel',
  'across',
  'on_success',
  'on_failure',
  'on_abort',
  'on_error',
  'ensure',
  'try',
  'timeout',
  'retry',
] as const;

const HOOKS = ['on_success', 'on_failure', 'on_abort', 'on_error', 'ensure'] as const;

export interface PlanCheck {
  errors: string[];
  /** `artifact_input` nodes (in templates too): where they are and the artifact they name. */
  artifactInputs: { at: string; id: number }[];
}

type Obj = Record<string, unknown>;
const isObject = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * The first problem of a JSON value as a whole: nested deeper than `maxDepth`, or a NUL
 * character in a key or string (Postgres's jsonb refuses it). Iterative: a deep value cannot
 * overflow the stack.
 */
export function jsonValueProblem(value: unknown, at: string, maxDepth = PLAN_LIMITS.maxJsonDepth): string | undefined {
  const stack: { v: unknown; depth: number; at: string }[] = [{ v: value, depth: 0, at }];
  while (stack.length > 0) {
    const { v, depth, at: here } = stack.pop()!;
    if (typeof v === 'string') {
      if (hasNul(v)) return `${here}: must not contain a NUL character`;
      continue;
    }
    if (typeof v !== 'object' || v === null) continue;
    if (depth >= maxDepth) return `${here}: nested more than ${maxDepth} levels deep`;
    if (Array.isArray(v)) v.forEach((x, i) => stack.push({ v: x, depth: depth + 1, at: `${here}[${i}]` }));
    else {
      for (const [k, x] of Object.entries(v as Obj)) {
        if (hasNul(k)) return `${here}: a key must not contain a NUL character`;
        stack.push({ v: x, depth: depth + 1, at: `${here}.${k}` });
      }
    }
  }
  return undefined;
}

// ------------------------------------------------------------------------------ field kinds

type Kind =
  | 'string'
  | 'name'
  | 'bool'
  | 'params'
  | 'object'
  | 'strings'
  | 'attempts'
  | 'version'
  | 'duration'
  | 'image'
  | 'stringMap'
  | 'objects'
  | 'taskConfig'
  | 'putInputs'
  | 'loadVarFormat'
  | 'count'
  | 'artifactId'
  | 'planId'
  | 'plans'
  | 'plan'
  | 'acrossVars'
  | 'template';

interface Shape {
  fields: Record<string, Kind>;
  required: string[];
}

const image: Kind = 'image';
const LEAVES: Record<string, Shape> = {
  get: {
    fields: { name: 'name', type: 'name', resource: 'name', source: 'params', params: 'params', version: 'version', version_from: 'planId', tags: 'strings', timeout: 'duration', image },
    required: ['name', 'type', 'source'],
  },
  put: {
    fields: {
      name: 'name',
      type: 'name',
      resource: 'name',
      source: 'params',
      params: 'params',
      inputs: 'putInputs',
      tags: 'strings',
      timeout: 'duration',
      expose_build_created_by: 'bool',
      image,
    },
    required: ['name', 'type', 'resource', 'source'],
  },
  check: {
    fields: {
      name: 'name',
      type: 'name',
      source: 'params',
      from_version: 'version',
      resource: 'name',
      resource_type: 'name',
      interval: 'string',
      skip_interval: 'bool',
      timeout: 'duration',
      tags: 'strings',
      image,
    },
    required: ['name', 'type', 'source'],
  },
  task: {
    fields: {
      name: 'name',
      privileged: 'bool',
      hermetic: 'bool',
      tags: 'strings',
      config_path: 'string',
      config: 'taskConfig',
      container_limits: 'object',
      image: 'name',
      vars: 'params',
      params: 'params',
      input_mapping: 'stringMap',
      output_mapping: 'stringMap',
      timeout: 'duration',
      resource_types: 'objects',
      check_skip_interval: 'bool',
      image_plan: image,
    },
    required: ['name'],
  },
  set_pipeline: {
    fields: { name: 'name', file: 'string', team: 'name', vars: 'params', var_files: 'strings', instance_vars: 'object' },
    required: ['name', 'file'],
  },
  load_var: { fields: { name: 'name', file: 'string', format: 'loadVarFormat', reveal: 'bool' }, required: ['name', 'file'] },
  artifact_input: { fields: { artifact_id: 'artifactId', name: 'name' }, required: ['name', 'artifact_id'] },
  artifact_output: { fields: { name: 'name' }, required: ['name'] },
  in_parallel: { fields: { steps: 'plans', limit: 'count', fail_fast: 'bool' }, required: ['steps'] },
  across: { fields: { vars: 'acrossVars', substep_template: 'template', fail_fast: 'bool' }, required: ['vars', 'substep_template'] },
  try: { fields: { step: 'plan' }, required: ['step'] },
  timeout: { fields: { step: 'plan', duration: 'duration' }, required: ['step', 'duration'] },
};
for (const hook of HOOKS) LEAVES[hook] = { fields: { step: 'plan', [hook]: 'plan' }, required: ['step', hook] };

const TYPE_IMAGE: Shape = { fields: { base_type: 'name', privileged: 'bool', check_plan: 'plan', get_plan: 'plan' }, required: [] };

const REQUIRED_HINT: Partial<Record<string, string>> = {
  artifact_id: 'a positive integer (the id POST /teams/:team/artifacts returned)',
  substep_template: 'the sub-plan as JSON text',
  duration: 'a duration such as "10m"',
  steps: 'a list of plans',
  vars: 'a list of {name, values}',
};

// ------------------------------------------------------------------------------ the checker

class Checker {
  readonly out: PlanCheck = { errors: [], artifactInputs: [] };
  private nodes = 0;
  private tooMany = false;

  err(path: string, message: string): void {
    this.out.errors.push(`${path}: ${message}`);
  }

  plan(value: unknown, at: string, depth: number): void {
    if (!isObject(value)) return this.err(at, 'must be a plan object ({"id": …, "<step>": …})');
    if (depth > PLAN_LIMITS.maxDepth) return this.err(at, `plans are nested more than ${PLAN_LIMITS.maxDepth} levels deep`);
    if (++this.nodes > PLAN_LIMITS.maxNodes) {
      if (!this.tooMany) this.err(at, `the plan has more than ${PLAN_LIMITS.maxNodes} steps`);
      this.tooMany = true;
      return;
    }
    if (typeof value.id !== 'string' || value.id === '') this.err(`${at}.id`, 'required: a non-empty string');
    const steps = STEP_KEYS.filter((k) => k in value);
    const others = Object.keys(value).filter((k) => k !== 'id' && k !== 'attempts' && !(STEP_KEYS as readonly string[]).includes(k));
    if (steps.length === 0) {
      return this.err(at, `has no step: expected one of ${STEP_KEYS.join(', ')}${others.length > 0 ? ` (got ${others.join(', ')})` : ''}`);
    }
    if (steps.length > 1) return this.err(at, `has more than one step (${steps.join(', ')}); a plan node has exactly one`);
    if (others.length > 0) this.err(at, `unknown fields: ${others.join(', ')}`);
    if (value.attempts !== undefined) this.field(value.attempts, `${at}.attempts`, 'attempts', depth);
    const key = steps[0]!;
    const body = value[key];
    const here = `${at}.${key}`;
    if (key === 'do' || key === 'retry') return this.field(body, here, 'plans', depth);
    if (!isObject(body)) return this.err(here, 'must be an object');
    this.shape(body, here, LEAVES[key]!, depth);
    if (key === 'task' && body.config === undefined && body.config_path === undefined) this.err(here, 'needs config (inline) or config_path');
    if (key === 'artifact_input' && typeof body.artifact_id === 'number' && this.validId(body.artifact_id)) {
      this.out.artifactInputs.push({ at: `${here}.artifact_id`, id: body.artifact_id });
    }
  }

  private validId(n: number): boolean {
    return Number.isSafeInteger(n) && n >= 1 && n <= PLAN_LIMITS.maxId;
  }

  private shape(body: Obj, at: string, shape: Shape, depth: number): void {
    for (const name of shape.required) {
      if (body[name] === undefined) {
        const kind = shape.fields[name];
        const hint = REQUIRED_HINT[name] ?? (kind === 'name' ? 'a non-empty string' : kind === 'params' ? 'an object' : kind === 'plan' ? 'a plan' : 'a value');
        this.err(`${at}.${name}`, `required: ${hint}`);
      }
    }
    const unknown = Object.keys(body).filter((k) => !(k in shape.fields));
    if (unknown.length > 0) this.err(at, `unknown fields: ${unknown.join(', ')}`);
    for (const [name, kind] of Object.entries(shape.fields)) {
      if (body[name] !== undefined) this.field(body[name], `${at}.${name}`, kind, depth);
    }
  }

  private field(v: unknown, at: string, kind: Kind, depth: number): void {
    const bad = (what: string) => this.err(at, `must be ${what}`);
    switch (kind) {
      case 'string':
      case 'planId':
        if (typeof v !== 'string') return bad('a string');
        if (kind === 'planId' && v === '') return bad('a plan id');
        return;
      case 'name': {
        if (typeof v !== 'string' || v === '') return this.err(at, 'required: a non-empty string');
        const problem = unsafeNameProblem(v);
        if (problem) this.err(at, `${JSON.stringify(v)} ${problem}`);
        return;
      }
      case 'bool':
        if (typeof v !== 'boolean') bad('true or false');
        return;
      case 'params':
        if (!isObject(v) && !isVarRef(v)) bad('an object or a ((var))');
        return;
      case 'object':
        if (!isObject(v)) bad('an object');
        return;
      case 'attempts':
        if (!Array.isArray(v) || !v.every((n) => typeof n === 'number' && Number.isSafeInteger(n) && n >= 0 && n <= PLAN_LIMITS.maxCount)) {
          bad(`a list of integers from 0 to ${PLAN_LIMITS.maxCount}`);
        }
        return;
      case 'strings':
        if (!Array.isArray(v) || !v.every((s) => typeof s === 'string')) bad('a list of strings');
        return;
      case 'version':
      case 'stringMap':
        if (!isObject(v) || !Object.values(v).every((s) => typeof s === 'string')) bad('an object of strings');
        else if (kind === 'stringMap') {
          for (const [k, s] of Object.entries(v)) {
            const problem = unsafeNameProblem(k) ?? unsafeNameProblem(s as string);
            if (problem) this.err(`${at}.${k}`, `names an artifact that ${problem}`);
          }
        }
        return;
      case 'duration':
        if (typeof v !== 'string' || (!isDuration(v) && !isVarRef(v))) bad('a duration such as "10m"');
        return;
      case 'image':
        if (!isObject(v)) return bad('an object');
        return this.shape(v, at, TYPE_IMAGE, depth);
      case 'objects':
        if (!Array.isArray(v) || !v.every(isObject)) bad('a list of objects');
        return;
      case 'taskConfig': {
        const r = taskConfigSchema.safeParse(v);
        if (!r.success) {
          this.out.errors.push(...zodMessages(r.error, at));
          return;
        }
        const config = r.data;
        if (!config.platform) this.err(at, "missing 'platform'");
        const names = [...(config.inputs ?? []), ...(config.outputs ?? [])];
        names.forEach((n) => {
          const problem = n.name === undefined ? 'is missing' : unsafeNameProblem(n.name);
          if (problem) this.err(`${at}`, `input or output name ${JSON.stringify(n.name ?? '')} ${problem}`);
        });
        return;
      }
      case 'putInputs':
        if (v !== 'all' && v !== 'detect' && !(Array.isArray(v) && v.every((s) => typeof s === 'string'))) bad('"all", "detect" or a list of names');
        return;
      case 'loadVarFormat':
        if (!(LOAD_VAR_FORMATS as readonly unknown[]).includes(v)) bad(`one of ${LOAD_VAR_FORMATS.join(', ')}`);
        return;
      case 'count':
        if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0 || v > PLAN_LIMITS.maxCount) bad(`an integer from 0 to ${PLAN_LIMITS.maxCount}`);
        return;
      case 'artifactId':
        if (typeof v !== 'number' || !this.validId(v)) {
          this.err(at, `required: a positive integer (the id POST /teams/:team/artifacts returned)${typeof v === 'number' && v > PLAN_LIMITS.maxId ? `, at most ${PLAN_LIMITS.maxId}` : ''}`);
        }
        return;
      case 'plans':
        if (!Array.isArray(v)) return bad('a list of plans');
        v.forEach((p, i) => this.plan(p, `${at}[${i}]`, depth + 1));
        return;
      case 'plan':
        return this.plan(v, at, depth + 1);
      case 'acrossVars':
        if (!Array.isArray(v)) return bad('a list of {name, values}');
        v.forEach((x, i) => {
          const here = `${at}[${i}]`;
          if (!isObject(x)) return this.err(here, 'must be an object ({name, values})');
          const unknown = Object.keys(x).filter((k) => !['name', 'values', 'max_in_flight'].includes(k));
          if (unknown.length > 0) this.err(here, `unknown fields: ${unknown.join(', ')}`);
          if (typeof x.name !== 'string' || x.name === '') this.err(`${here}.name`, 'required: a non-empty string');
          if (x.values === undefined) this.err(`${here}.values`, 'required: a list, or a ((var)) of one');
          else if (!Array.isArray(x.values) && !isVarRef(x.values)) this.err(`${here}.values`, 'must be a list, or a ((var)) of one');
          const m = x.max_in_flight;
          if (m !== undefined && m !== 'all' && !(typeof m === 'number' && Number.isSafeInteger(m) && m >= 1 && m <= PLAN_LIMITS.maxCount)) {
            this.err(`${here}.max_in_flight`, `must be "all" or an integer from 1 to ${PLAN_LIMITS.maxCount}`);
          }
        });
        return;
      case 'template': {
        if (typeof v !== 'string') return this.err(at, 'required: the sub-plan as JSON text');
        let parsed: unknown;
        try {
          parsed = JSON.parse(v) as unknown;
        } catch (e) {
          return this.err(at, `is not valid JSON: ${(e as Error).message}`);
        }
        const problem = jsonValueProblem(parsed, at);
        if (problem) return void this.out.errors.push(problem);
        // the template is a plan like any other: checked, and its artifacts collected, the same way
        return this.plan(parsed, at, depth + 1);
      }
    }
  }
}

/**
 * Checks a plan from a client. Problems are `path: message`, the path from `at` (`body`);
 * `artifactInputs` lists every artifact the plan names, so the caller can check its team.
 */
export function checkPlan(value: unknown, at = 'body'): PlanCheck {
  const checker = new Checker();
  const problem = jsonValueProblem(value, at);
  if (problem) {
    checker.out.errors.push(problem);
    return checker.out;
  }
  checker.plan(value, at, 1);
  return checker.out;
}
