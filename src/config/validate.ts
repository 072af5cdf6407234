// Semantic validation of a schema-valid pipeline (docs/concourse-semantics.md §1.8, plus
// Jetway's decisions 5, 6 and 9 in docs/image-features.md). Pure: config in, findings (errors
// and warnings, with config paths) out. Every problem is reported, never just the first.
import { parseIdTokenConfig } from './idtoken-config.ts';
import type { Job, PipelineConfig, StepConfig, TaskConfig } from './schema.ts';
import { jobInputs, jobOutputs, jobStep, walkSteps, type ConfigPath, type Step } from './steps.ts';
import { checkIdentifier } from './identifier.ts';
import { expandGlob, hasGlobMeta, isValidGlob } from './glob.ts';
import { error, warning, type Finding } from './diagnostic.ts';
import { checkImageSource } from './image-ref.ts';
import { isVarRef } from './var-syntax.ts';
import { FETCH_ARTIFACT_MUST, readFetchArtifact } from './fetch-artifact.ts';

/** The only value of `produces` Jetway knows (docs/image-features.md, decision 6). */
export const PRODUCES_VALUES = ['registry-image'] as const;

/**
 * Concourse's base resource types (the concourse/<type>-resource images its workers ship, which
 * the Kubernetes runtime maps by default). A resource's type must be one of them or a type of
 * resource_types: Concourse refuses any other at set-pipeline.
 */
export const BASE_RESOURCE_TYPES: readonly string[] = [
  'bosh-io-release', 'bosh-io-stemcell', 'cf', 'docker-image', 'git', 'github-release', 'hg', 'mock', 'pool', 'registry-image', 's3', 'semver', 'time', 'tracker',
];

export interface ValidateOptions {
  /**
   * The base resource types of the web node that will run the pipeline (Concourse's and those its
   * operator added with `--base-resource-type`). Without it, only Concourse's are known (offline
   * validation), and an unknown type's message says how to check against a web node's.
   */
  baseResourceTypes?: readonly string[];
  /** Leave unknown types to the web node the pipeline is sent to (`jetway set-pipeline` checks there). */
  typesCheckedByServer?: boolean;
}

/** An unknown `type:` of a resource or resource type (none for a ((var)) or a missing type). */
function unknownType(config: PipelineConfig, type: string | undefined, at: ConfigPath, opts: ValidateOptions): Finding[] {
  if (type === undefined || type === '' || isVarRef(type) || type.includes('((') || opts.typesCheckedByServer) return [];
  const base = opts.baseResourceTypes ?? BASE_RESOURCE_TYPES;
  if (base.includes(type) || (config.resource_types ?? []).some((t) => t.name === type)) return [];
  if (opts.baseResourceTypes) {
    const extra = opts.baseResourceTypes.filter((t) => !BASE_RESOURCE_TYPES.includes(t));
    const added = extra.length > 0 ? `added with --base-resource-type: ${extra.join(', ')}` : 'none added with --base-resource-type';
    return [error(at, `unknown resource type '${type}': not a base type (Concourse's: ${BASE_RESOURCE_TYPES.join(', ')}; ${added}) nor declared in resource_types`)];
  }
  return [
    error(
      at,
      `unknown resource type '${type}': not one of Concourse's base types (${BASE_RESOURCE_TYPES.join(', ')}) nor declared in resource_types; if your web node adds it (jetway web --base-resource-type ${type}=IMAGE), validate with --base-resource-type ${type}`,
    ),
  ];
}

const SUPPORTED_VAR_SOURCES = new Set(['vault', 'dummy', 'ssm', 'secretsmanager', 'idtoken']);
const KNOWN_VAR_SOURCES = new Set([...SUPPORTED_VAR_SOURCES, 'credhub', 'kubernetes', 'conjur']);

/**
 * Jetway's bounds on one pipeline (docs/security.md, API): checked before anything else, so
 * that validating and saving stay near-linear in the config's size (a `passed` glob makes a
 * pair of jobs per match; 800 jobs passed by all others are 640,000 pairs).
 */
export const PIPELINE_LIMITS = { jobs: 2000, resources: 2000, resourceTypes: 500, passedPairs: 100_000 };

function sizeProblems(config: PipelineConfig, jobNames: string[]): Finding[] {
  const out: Finding[] = [];
  const counts = [
    ['jobs', config.jobs?.length ?? 0, PIPELINE_LIMITS.jobs],
    ['resources', config.resources?.length ?? 0, PIPELINE_LIMITS.resources],
    ['resource_types', config.resource_types?.length ?? 0, PIPELINE_LIMITS.resourceTypes],
  ] as const;
  for (const [key, n, max] of counts) if (n > max) out.push(error([key], `${n} ${key}: a pipeline may have at most ${max}`));
  if (out.length > 0) return out;
  // every `passed` list anywhere in the jobs (a linear walk; expansions are cached per glob)
  let pairs = 0;
  const stack: unknown[] = [...(config.jobs ?? [])];
  while (stack.length > 0 && pairs <= PIPELINE_LIMITS.passedPairs) {
    const v = stack.pop();
    if (Array.isArray(v)) stack.push(...(v as unknown[]));
    else if (isObject(v)) {
      const passed = v.passed;
      if (Array.isArray(passed)) for (const p of passed) if (typeof p === 'string') pairs += expandGlob(p, jobNames).length;
      for (const [k, x] of Object.entries(v)) if (k !== 'passed' && typeof x === 'object' && x !== null) stack.push(x);
    }
  }
  if (pairs > PIPELINE_LIMITS.passedPairs) {
    out.push(error(['jobs'], `the jobs' passed constraints name more than ${PIPELINE_LIMITS.passedPairs} upstream jobs in all (globs expanded): narrow the globs`));
  }
  return out;
}

export function validatePipeline(config: PipelineConfig, opts: ValidateOptions = {}): Finding[] {
  const out: Finding[] = [];
  const jobs = config.jobs ?? [];
  const jobNames = jobs.map((j) => j.name).filter((n): n is string => typeof n === 'string' && n !== '');
  const tooLarge = sizeProblems(config, jobNames);
  if (tooLarge.length > 0) return tooLarge;
  out.push(...validateGroups(config, jobNames));
  out.push(...validateResources(config, opts));
  out.push(...validateResourceTypes(config, opts));
  out.push(...validateVarSources(config));
  out.push(...validateJobs(config, jobNames));
  out.push(...validateCycles(jobs, jobNames));
  out.push(...validateDisplay(config));
  const shared = jobsContext(config);
  for (let i = 0; i < jobs.length; i++) out.push(...validateJobSteps(config, jobs[i] as Job, i, jobNames, shared));
  return out;
}

/**
 * What every job's step checks look up, computed once per config (not once per job, which
 * made validation quadratic or worse: 800 jobs with `passed: ["j*"]` took minutes).
 */
interface JobsContext {
  resources: Set<string | undefined>;
  prototypes: Set<string | undefined>;
  images: Set<string>;
  /** the resources a job's gets and puts touch, by job name (computed on first use) */
  touched(job: string): Set<string> | undefined;
}

function jobsContext(config: PipelineConfig): JobsContext {
  const jobsByName = new Map((config.jobs ?? []).map((j) => [j.name, j]));
  const touched = new Map<string, Set<string>>();
  return {
    resources: new Set((config.resources ?? []).map((r) => r.name)),
    prototypes: new Set((config.prototypes ?? []).map((p) => p.name)),
    images: imageTypes(config),
    touched(name) {
      const known = touched.get(name);
      if (known) return known;
      const job = jobsByName.get(name);
      if (!job) return undefined;
      // the resources only: no job names needed to expand `passed`
      const set = new Set([...jobInputs(job, []).map((i) => i.resource), ...jobOutputs(job).map((o) => o.resource)]);
      touched.set(name, set);
      return set;
    },
  };
}

function identifier(name: string | undefined, at: ConfigPath): Finding[] {
  if (name === undefined) return [];
  const p = checkIdentifier(name);
  if (!p) return [];
  return p.severity === 'error' ? [error(at, p.message)] : [warning(at, 'invalid_identifier', p.message)];
}

/** Duplicate names and missing names/types for a named section. */
function namedItems(
  section: string,
  items: readonly { name?: string | undefined; type?: string | undefined }[],
  opts: { requireType: boolean; seen?: Map<string, string> },
): Finding[] {
  const out: Finding[] = [];
  const seen = opts.seen ?? new Map<string, string>();
  items.forEach((item, i) => {
    const at = [section, i];
    const id = `${section}[${i}]`;
    if (item.name === undefined) out.push(error(at, `${id} has no name`, { path: id }));
    else {
      out.push(...identifier(item.name, [...at, 'name']));
      const first = seen.get(item.name);
      if (first !== undefined && item.name !== '') {
        out.push(error(at, `${first} and ${id} have the same name ('${item.name}')`, { path: id }));
      } else seen.set(item.name, id);
    }
    if (opts.requireType && (item.type === undefined || item.type === '')) out.push(error(at, 'has no type'));
  });
  return out;
}

function validateGroups(config: PipelineConfig, jobNames: string[]): Finding[] {
  const groups = config.groups ?? [];
  const out: Finding[] = [];
  const resourceNames = new Set((config.resources ?? []).map((r) => r.name));
  const counts = new Map<string, number>();
  for (const g of groups) if (g.name !== undefined) counts.set(g.name, (counts.get(g.name) ?? 0) + 1);
  const reported = new Set<string>();
  const grouped = new Set<string>();
  groups.forEach((g, i) => {
    const at = ['groups', i];
    out.push(...identifier(g.name, [...at, 'name']));
    const name = g.name ?? '';
    const n = counts.get(name) ?? 0;
    if (n > 1 && !reported.has(name)) {
      reported.add(name);
      out.push(error(at, `group '${name}' appears ${n} times. Duplicate names are not allowed.`));
    }
    (g.jobs ?? []).forEach((pattern, k) => {
      if (!isValidGlob(pattern)) {
        out.push(error([...at, 'jobs', k], `invalid glob expression '${pattern}' for group '${name}'`));
        return;
      }
      const matched = expandGlob(pattern, jobNames);
      if (matched.length === 0) out.push(error([...at, 'jobs', k], `no jobs match '${pattern}' for group '${name}'`));
      for (const m of matched) grouped.add(m);
    });
    (g.resources ?? []).forEach((r, k) => {
      if (!resourceNames.has(r)) out.push(error([...at, 'resources', k], `group '${name}' has unknown resource '${r}'`));
    });
  });
  if (groups.length > 0) {
    (config.jobs ?? []).forEach((j, i) => {
      if (j.name !== undefined && !grouped.has(j.name)) {
        out.push(error(['jobs', i], `job '${j.name}' belongs to no group`));
      }
    });
  }
  return out;
}

/** Types whose resources are registry images: the base type, and custom types that declare it. */
function imageTypes(config: PipelineConfig): Set<string> {
  const set = new Set(['registry-image']);
  for (const t of config.resource_types ?? []) {
    if (t.name !== undefined && t.produces === 'registry-image') set.add(t.name);
  }
  return set;
}

function usedResources(config: PipelineConfig): Set<string> {
  const used = new Set<string>();
  const names = (config.jobs ?? []).map((j) => j.name ?? '');
  for (const job of config.jobs ?? []) {
    for (const i of jobInputs(job, names)) used.add(i.resource);
    for (const o of jobOutputs(job)) used.add(o.resource);
  }
  return used;
}

function validateResources(config: PipelineConfig, opts: ValidateOptions): Finding[] {
  const resources = config.resources ?? [];
  const out = namedItems('resources', resources, { requireType: true });
  const used = usedResources(config);
  const images = imageTypes(config);
  resources.forEach((r, i) => {
    if (r.name && !used.has(r.name)) out.push(error(['resources', i, 'name'], `resource '${r.name}' is not used`));
    out.push(...unknownType(config, r.type, ['resources', i, 'type'], opts));
    if (r.type !== undefined && images.has(r.type)) out.push(...checkImageSource(r.source, ['resources', i, 'source']));
    out.push(...missingRepository(config, r.type, r.source, ['resources', i], `resource '${r.name ?? i}'`));
  });
  return out;
}

function validateResourceTypes(config: PipelineConfig, opts: ValidateOptions): Finding[] {
  // resource types and prototypes share one namespace
  const seen = new Map<string, string>();
  const types = config.resource_types ?? [];
  const out = namedItems('resource_types', types, { requireType: true, seen });
  out.push(...namedItems('prototypes', config.prototypes ?? [], { requireType: true, seen }));
  const images = imageTypes(config);
  types.forEach((t, i) => {
    if (t.produces !== undefined && !(PRODUCES_VALUES as readonly string[]).includes(t.produces)) {
      out.push(
        error(
          ['resource_types', i, 'produces'],
          `produces must be 'registry-image' (the only kind of artifact Jetway can use as an image), got '${t.produces}'`,
        ),
      );
    }
    out.push(...unknownType(config, t.type, ['resource_types', i, 'type'], opts));
    // the type's own image is fetched with its `type`; a registry-image source names an image
    if (t.type !== undefined && images.has(t.type)) out.push(...checkImageSource(t.source, ['resource_types', i, 'source']));
    out.push(...missingRepository(config, t.type, t.source, ['resource_types', i], `resource type '${t.name ?? i}'`));
  });
  return out;
}

function validateVarSources(config: PipelineConfig): Finding[] {
  const sources = config.var_sources ?? [];
  const out = namedItems('var_sources', sources, { requireType: false });
  const names = new Set(sources.map((s) => s.name ?? ''));
  const deps = new Map<string, string[]>();
  sources.forEach((s, i) => {
    const at = ['var_sources', i];
    if (s.type === undefined || !KNOWN_VAR_SOURCES.has(s.type)) {
      out.push(error([...at, 'type'], `unknown credential manager type: ${s.type ?? ''}`));
    } else if (!SUPPORTED_VAR_SOURCES.has(s.type)) {
      out.push(error([...at, 'type'], `credential manager type ${s.type} is not supported in pipeline yet`));
    } else if (s.type === 'idtoken' && !JSON.stringify(s.config ?? {}).includes('((')) {
      // a config with ((vars)) is checked when its token is signed, once they are resolved
      const checked = parseIdTokenConfig(s.config as Record<string, unknown> | undefined);
      if (!checked.ok) out.push(error([...at, 'config'], `invalid idtoken config: ${checked.error}`));
    }
    // a config may read another var source (`((other:x))`): they must be orderable
    const text = JSON.stringify(s.config ?? {});
    const refs = [...text.matchAll(/\(\(([-/.\w\p{L}]+):/gu)].map((m) => m[1] as string).filter((n) => names.has(n));
    deps.set(s.name ?? '', refs);
  });
  const cycle = findCycle([...deps.keys()], (n) => deps.get(n) ?? []);
  if (cycle) {
    out.push(error(['var_sources'], `could not resolve inter-dependent var sources: ${cycle.join(', ')}`));
  }
  return out;
}

function validateJobs(config: PipelineConfig, _jobNames: string[]): Finding[] {
  const jobs = config.jobs ?? [];
  if (jobs.length === 0) return [error(['jobs'], 'pipeline must contain at least one job', { path: 'jobs' })];
  const out = namedItems('jobs', jobs, { requireType: false });
  jobs.forEach((job, i) => {
    const at = ['jobs', i];
    if (job.build_log_retention !== undefined && job.build_logs_to_retain !== undefined) {
      out.push(error(at, "can't use both build_log_retention and build_logs_to_retain"));
    }
    if (job.build_logs_to_retain !== undefined) {
      out.push(
        warning([...at, 'build_logs_to_retain'], 'deprecated_field', 'build_logs_to_retain is deprecated; use build_log_retention'),
      );
      if (typeof job.build_logs_to_retain === 'number' && job.build_logs_to_retain < 0) {
        out.push(error([...at, 'build_logs_to_retain'], 'build_logs_to_retain cannot be negative'));
      }
    }
    const r = job.build_log_retention;
    if (r) {
      for (const k of ['builds', 'days', 'minimum_succeeded_builds'] as const) {
        const v = r[k];
        if (typeof v === 'number' && v < 0) out.push(error([...at, 'build_log_retention', k], `${k} cannot be negative`));
      }
      if (typeof r.minimum_succeeded_builds === 'number' && typeof r.builds === 'number' && r.builds > 0) {
        if (r.minimum_succeeded_builds > r.builds) {
          out.push(
            error(
              [...at, 'build_log_retention', 'minimum_succeeded_builds'],
              `min_success_builds (${r.minimum_succeeded_builds}) cannot be greater than builds (${r.builds})`,
            ),
          );
        }
      }
    }
    if (typeof job.max_in_flight === 'number' && job.max_in_flight < 0) {
      out.push(error([...at, 'max_in_flight'], 'max_in_flight cannot be negative'));
    }
  });
  return out;
}

/** The first cycle found by DFS from each node in order, as the list of nodes on it. */
function findCycle(nodes: string[], edges: (n: string) => string[]): string[] | undefined {
  const state = new Map<string, 'visiting' | 'done'>();
  const stack: string[] = [];
  const dfs = (n: string): string[] | undefined => {
    if (state.get(n) === 'done') return undefined;
    if (state.get(n) === 'visiting') return stack.slice(stack.indexOf(n));
    state.set(n, 'visiting');
    stack.push(n);
    for (const m of edges(n)) {
      const c = dfs(m);
      if (c) return c;
    }
    stack.pop();
    state.set(n, 'done');
    return undefined;
  };
  for (const n of nodes) {
    const c = dfs(n);
    if (c) return c;
  }
  return undefined;
}

function validateCycles(jobs: Job[], jobNames: string[]): Finding[] {
  const passed = new Map<string, string[]>();
  for (const job of jobs) {
    if (!job.name) continue;
    passed.set(job.name, [...new Set(jobInputs(job, jobNames).flatMap((i) => i.passed))]);
  }
  const cycle = findCycle(jobNames, (n) => passed.get(n) ?? []);
  if (!cycle) return [];
  const start = cycle[0] as string;
  return [error(['jobs', jobs.findIndex((j) => j.name === start)], `pipeline contains a cycle that starts at Job '${start}'`)];
}

function validateDisplay(config: PipelineConfig): Finding[] {
  const image = config.display?.background_image;
  if (image === undefined || isVarRef(image)) return [];
  const at = ['display', 'background_image'];
  let url: URL;
  try {
    url = new URL(image, 'relative:/');
  } catch {
    return [error(at, 'background_image is not a valid URL')];
  }
  if (!['http:', 'https:', 'relative:'].includes(url.protocol)) {
    return [error(at, `background_image scheme must be http, https or relative, got '${url.protocol.slice(0, -1)}'`)];
  }
  return [];
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/**
 * A type that declares `produces: registry-image` builds the image reference of what it fetches
 * from `source.repository` (docs/image-features.md, decisions 6 and 9): a source without one fails
 * at run time, so warn now. A whole-((var)) source or defaults are only known when the step runs.
 */
function missingRepository(config: PipelineConfig, typeName: string | undefined, source: unknown, at: ConfigPath, subject: string): Finding[] {
  const type = (config.resource_types ?? []).find((t) => t.name !== undefined && t.name === typeName);
  if (type?.produces !== 'registry-image') return [];
  if (source !== undefined && (!isObject(source) || 'repository' in source)) return [];
  if (type.defaults !== undefined && (!isObject(type.defaults) || 'repository' in type.defaults)) return [];
  return [
    warning(
      source === undefined ? at : [...at, 'source'],
      'pipeline',
      `${subject} has no repository in its source, but its type '${type.name}' declares produces: registry-image: its image reference is built from source.repository, so fetching it will fail`,
    ),
  ];
}

/**
 * `fetch_artifact` is a boolean (decision 5), read by the get step's own rule: after interpolation
 * (`-v fa=true`) the strings "true"/"false" count as the booleans they spell. A var is checked when
 * it is resolved.
 */
function checkFetchArtifact(params: unknown, at: ConfigPath): Finding[] {
  if (!isObject(params) || !('fetch_artifact' in params)) return [];
  const v = params.fetch_artifact;
  if (isVarRef(v)) return [];
  const read = readFetchArtifact(v);
  if ('fetch' in read) return [];
  return [error([...at, 'fetch_artifact'], `${FETCH_ARTIFACT_MUST}, got ${read.got} (write fetch_artifact: true or false)`)];
}

export function validateTaskConfig(config: TaskConfig, at: ConfigPath, images: Set<string>): Finding[] {
  const out: Finding[] = [];
  if (config.platform === undefined || config.platform === '') out.push(error(at, "missing 'platform'"));
  (config.inputs ?? []).forEach((input, i) => {
    if (!input.name) out.push(error([...at, 'inputs', i], `input in position ${i} is missing a name`));
  });
  (config.outputs ?? []).forEach((output, i) => {
    if (!output.name) out.push(error([...at, 'outputs', i], `output in position ${i} is missing a name`));
  });
  const ir = config.image_resource;
  if (ir && images.has(ir.type)) out.push(...checkImageSource(ir.source, [...at, 'image_resource', 'source']));
  return out;
}

function validateJobSteps(config: PipelineConfig, job: Job, jobIndex: number, jobNames: string[], shared: JobsContext = jobsContext(config)): Finding[] {
  const out: Finding[] = [];
  const jobAt: ConfigPath = ['jobs', jobIndex];
  const { resources, prototypes, images } = shared;
  const root = jobStep(job, (issue) => {
    out.push(error([...jobAt, ...issue.path], issue.message, issue.key !== undefined ? { key: issue.key } : {}));
  });
  const getNames = new Set<string>();
  const loadVars = new Set<string>();
  /** The local vars declared in each scope: the job's (root) and each across step's. */
  const varScopes = new Map<object, Set<string>>();

  walkSteps(root, (step: Step, parents) => {
    const at = [...jobAt, ...step.path];
    const raw: StepConfig = step.config;
    const directlyInAcross = parents.at(-1)?.kind === 'across';
    // local vars from enclosing across steps are in scope here
    const acrossScope = new Set(parents.flatMap((p) => (p.kind === 'across' ? p.vars.map((v) => v.var ?? '') : [])));
    switch (step.kind) {
      case 'get': {
        out.push(...identifier(step.name, [...at, 'get']));
        if (getNames.has(step.name)) out.push(error(at, `repeated name '${step.name}'`));
        getNames.add(step.name);
        const resAt = raw.resource !== undefined ? [...at, 'resource'] : [...at, 'get'];
        if (!resources.has(step.resource)) out.push(error(resAt, `unknown resource '${step.resource}'`));
        (raw.passed ?? []).forEach((pattern, k) => {
          const pAt = [...at, 'passed', k];
          const matched = expandGlob(pattern, jobNames);
          if (matched.length === 0) {
            out.push(error(pAt, hasGlobMeta(pattern) && !isValidGlob(pattern) ? `invalid glob '${pattern}'` : `no matching job(s) for '${pattern}'`));
            return;
          }
          for (const name of matched) {
            const touched = shared.touched(name);
            if (!touched) continue;
            if (!touched.has(step.resource)) out.push(error(pAt, `job '${name}' does not interact with resource '${step.resource}'`));
          }
        });
        out.push(...checkFetchArtifact(raw.params, [...at, 'params']));
        break;
      }
      case 'put': {
        out.push(...identifier(step.name, [...at, 'put']));
        const resAt = raw.resource !== undefined ? [...at, 'resource'] : [...at, 'put'];
        if (!resources.has(step.resource)) out.push(error(resAt, `unknown resource '${step.resource}'`));
        // a put's params go to the `out` script, which downloads nothing: the flag belongs to
        // get steps, or to the put's implicit get through get_params
        if (isObject(raw.params) && 'fetch_artifact' in raw.params) {
          out.push(
            error(
              [...at, 'params', 'fetch_artifact'],
              'fetch_artifact is a get step param; on a put use get_params: {fetch_artifact: true} for its implicit get',
            ),
          );
        }
        out.push(...checkFetchArtifact(raw.get_params, [...at, 'get_params']));
        break;
      }
      case 'task': {
        if (!directlyInAcross) out.push(...identifier(step.name, [...at, 'task']));
        const hasFile = raw.file !== undefined;
        const hasConfig = raw.config !== undefined;
        if (hasFile && hasConfig) out.push(error(at, 'must specify one of `file:` or `config:`, not both'));
        else if (!hasFile && !hasConfig) out.push(error(at, 'must specify either `file:` or `config:`'));
        if (raw.config) {
          out.push(...validateTaskConfig(raw.config, [...at, 'config'], images));
          const ir = raw.config.image_resource;
          if (ir) out.push(...missingRepository(config, ir.type, ir.source, [...at, 'config', 'image_resource'], `the image_resource of task '${step.name}'`));
          if (raw.image !== undefined && (raw.config.image_resource !== undefined || raw.config.rootfs_uri !== undefined)) {
            out.push(
              warning(
                at,
                'pipeline',
                `task '${step.name}' sets image: ${raw.image} and its config has an image; the step's image is used`,
              ),
            );
          }
        }
        if (raw.hermetic === true) {
          out.push(warning([...at, 'hermetic'], 'pipeline', 'hermetic is only supported by the containerd runtime'));
        }
        break;
      }
      case 'set_pipeline':
        if (!directlyInAcross && step.name !== 'self') out.push(...identifier(step.name, [...at, 'set_pipeline']));
        if (!raw.file) out.push(error(at, 'no file specified'));
        break;
      case 'load_var': {
        out.push(...identifier(step.name, [...at, 'load_var']));
        if (!raw.file) out.push(error(at, 'no file specified'));
        // Concourse's scopes (atc/step_validator.go declareLocalVar): the job's plan is one, each
        // across step opens one holding its vars. A name declared again in the same scope is an
        // error; one declared in an enclosing scope is shadowed (a warning).
        const across = parents.findLast((p) => p.kind === 'across');
        const scope = across ?? root;
        const declared = varScopes.get(scope) ?? new Set<string>(across?.kind === 'across' ? across.vars.map((v) => v.var ?? '') : []);
        varScopes.set(scope, declared);
        if (declared.has(step.name)) out.push(error([...at, 'load_var'], `repeated var name '${step.name}'`));
        else {
          const enclosing = [root, ...parents.filter((p) => p.kind === 'across' && p !== across)];
          if (acrossScope.has(step.name) || enclosing.some((sc) => varScopes.get(sc)?.has(step.name))) {
            out.push(warning([...at, 'load_var'], 'var_shadowed', `shadows local var '${step.name}'`));
          }
        }
        declared.add(step.name);
        loadVars.add(step.name);
        break;
      }
      case 'run': {
        const type = raw.type;
        if (!type || !prototypes.has(type)) out.push(error([...at, type ? 'type' : 'run'], `unknown prototype '${type ?? ''}'`));
        break;
      }
      case 'across': {
        const aAt = [...at, 'across'];
        if (step.vars.length === 0) out.push(error(aAt, 'no vars specified'));
        const names = new Set<string>();
        step.vars.forEach((v, k) => {
          const vAt = [...aAt, k];
          if (v.var === undefined) out.push(error(vAt, 'var has no name'));
          else {
            out.push(...identifier(v.var, [...vAt, 'var']));
            if (names.has(v.var)) out.push(error([...vAt, 'var'], `repeated var name '${v.var}'`));
            names.add(v.var);
            if (acrossScope.has(v.var) || loadVars.has(v.var)) {
              out.push(warning([...vAt, 'var'], 'var_shadowed', `shadows local var '${v.var}'`));
            }
          }
          if (typeof v.max_in_flight === 'number' && v.max_in_flight <= 0) {
            out.push(error([...vAt, 'max_in_flight'], `max_in_flight must be greater than 0, got ${v.max_in_flight}`));
          }
        });
        break;
      }
      case 'attempts':
        if (typeof step.attempts === 'number' && step.attempts <= 0) {
          out.push(error([...at, 'attempts'], 'must be greater than 0'));
        }
        break;
      case 'in_parallel':
        if (typeof step.limit === 'number' && step.limit < 0) {
          out.push(error([...at, 'in_parallel', 'limit'], 'limit cannot be negative'));
        }
        break;
      default:
        break;
    }
  });
  return out;
}
