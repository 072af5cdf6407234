// Job config -> build plan (docs/concourse-semantics.md §3.2). Pure: the same job, resources, types and
// build inputs always give the same plan, ids included.
import type { Prototype, Resource, ResourceType, StepConfig } from '../config/schema.ts';
import type { GetStep, Step } from '../config/steps.ts';
import { applyDefaults, fetchImagePlan, imageForType, type PlannerResourceType } from './image-plan.ts';
import { PlanIdFactory, type JsonObject, type Plan, type PlanId, type TypeImage } from '../model/plan.ts';
import type { Version } from '../model/version.ts';

export class PlannerError extends Error {}

export interface PlannerInput {
  /** the job's step tree, hooks included (`jobStep(job)`) */
  step: Step;
  resources: readonly Resource[];
  resourceTypes: readonly ResourceType[];
  /** the pipeline's prototypes (`run` steps) */
  prototypes?: readonly Prototype[];
  /** the build's resolved input versions, by input (get step) name */
  buildInputs: Readonly<Record<string, Version>>;
  manuallyTriggered: boolean;
  /** the job's `tags`, inherited by leaf steps that have none */
  jobTags?: string[];
  ids?: PlanIdFactory;
}

export function createPlan(input: PlannerInput): Plan {
  const planner = new Planner(input);
  return planner.visit(input.step, input.jobTags);
}

/**
 * A get of one of a pipeline's resources at a version, planned as a job's get is (its type,
 * source with the types' defaults, and a custom type's image plans): the gets of a build created
 * in a pipeline (CreatePipelineBuild, `jetway execute -j`). `id` is the step's plan id.
 */
export function planPipelineGet(input: {
  resources: readonly Resource[];
  resourceTypes: readonly ResourceType[];
  id: PlanId;
  name: string;
  resource: string;
  version: Version;
  params?: JsonObject;
}): Plan {
  const seed = Number.parseInt(input.id, 16);
  const step: GetStep = { kind: 'get', name: input.name, resource: input.resource, path: [], config: { get: input.name, resource: input.resource, ...(input.params ? { params: input.params } : {}) } };
  const planner = new Planner({
    step,
    resources: input.resources,
    resourceTypes: input.resourceTypes,
    buildInputs: { [input.name]: input.version },
    manuallyTriggered: true,
    ...(Number.isSafeInteger(seed) ? { ids: new PlanIdFactory(seed) } : {}),
  });
  const planned = planner.visit(step, undefined);
  return { ...planned, id: input.id };
}

class Planner {
  private readonly ids: PlanIdFactory;
  private readonly types: PlannerResourceType[];

  constructor(private readonly input: PlannerInput) {
    this.ids = input.ids ?? new PlanIdFactory();
    this.types = input.resourceTypes.map(toPlannerType);
  }

  visit(step: Step, tags: string[] | undefined): Plan {
    const raw = step.config;
    switch (step.kind) {
      case 'get':
        return this.get(step.name, step.resource, raw, this.tagsOf(raw, tags));
      case 'put':
        return this.put(step.name, step.resource, raw, this.tagsOf(raw, tags));
      case 'task':
        return this.task(step.name, raw, this.tagsOf(raw, tags));
      case 'set_pipeline':
        return {
          id: this.ids.nextId(),
          set_pipeline: {
            name: step.name,
            file: raw.file ?? '',
            ...pick(raw, ['team', 'vars', 'var_files', 'instance_vars']),
          },
        };
      case 'load_var':
        return {
          id: this.ids.nextId(),
          load_var: { name: step.name, file: raw.file ?? '', ...pick(raw, ['format', 'reveal']) },
        };
      case 'run':
        return this.run(step.message, raw, this.tagsOf(raw, tags));
      case 'do':
        return { id: this.ids.nextId(), do: step.steps.map((s) => this.visit(s, tags)) };
      case 'in_parallel':
        return {
          id: this.ids.nextId(),
          in_parallel: {
            steps: step.steps.map((s) => this.visit(s, tags)),
            ...(typeof step.limit === 'number' ? { limit: step.limit } : {}),
            ...(typeof step.fail_fast === 'boolean' ? { fail_fast: step.fail_fast } : {}),
          },
        };
      case 'try':
        return { id: this.ids.nextId(), try: { step: this.visit(step.step, tags) } };
      case 'timeout':
        return { id: this.ids.nextId(), timeout: { step: this.visit(step.step, tags), duration: step.duration } };
      case 'attempts': {
        const n = typeof step.attempts === 'number' ? step.attempts : 1;
        const id = this.ids.nextId();
        // Each attempt is planned separately so each gets fresh ids.
        const retry = Array.from({ length: n }, (_, i) => ({ ...this.visit(step.step, tags), attempts: [i + 1] }));
        return { id, retry };
      }
      case 'across': {
        const id = this.ids.nextId();
        const template = this.visit(step.step, tags);
        return {
          id,
          across: {
            vars: step.vars.map((v) => ({
              name: v.var ?? '',
              values: v.values,
              ...(v.max_in_flight !== undefined ? { max_in_flight: v.max_in_flight as number | 'all' } : {}),
            })),
            substep_template: JSON.stringify(template),
            ...(typeof step.fail_fast === 'boolean' ? { fail_fast: step.fail_fast } : {}),
          },
        };
      }
      case 'on_success':
        return { id: this.ids.nextId(), on_success: { step: this.visit(step.step, tags), on_success: this.visit(step.hook, tags) } };
      case 'on_failure':
        return { id: this.ids.nextId(), on_failure: { step: this.visit(step.step, tags), on_failure: this.visit(step.hook, tags) } };
      case 'on_abort':
        return { id: this.ids.nextId(), on_abort: { step: this.visit(step.step, tags), on_abort: this.visit(step.hook, tags) } };
      case 'on_error':
        return { id: this.ids.nextId(), on_error: { step: this.visit(step.step, tags), on_error: this.visit(step.hook, tags) } };
      case 'ensure':
        return { id: this.ids.nextId(), ensure: { step: this.visit(step.step, tags), ensure: this.visit(step.hook, tags) } };
    }
  }

  /** Concourse's VisitRun (atc/builds/planner.go): the prototype's defaults under the step's params. */
  private run(message: string, raw: StepConfig, tags: string[] | undefined): Plan {
    const type = typeof raw.type === 'string' ? raw.type : '';
    const prototype = this.input.prototypes?.find((p) => p.name === type);
    if (!prototype) throw new PlannerError(`unknown prototype '${type}'`);
    const object: JsonObject = { ...(isObject(prototype.defaults) ? prototype.defaults : {}), ...(isObject(raw.params) ? raw.params : {}) };
    return {
      id: this.ids.nextId(),
      run: {
        message,
        type,
        ...(Object.keys(object).length > 0 ? { object } : {}),
        ...(raw.privileged === true ? { privileged: true } : {}),
        ...(tags ? { tags } : {}),
        ...(typeof raw.timeout === 'string' ? { timeout: raw.timeout } : {}),
      },
    };
  }

  private tagsOf(raw: StepConfig, inherited: string[] | undefined): string[] | undefined {
    return raw.tags && raw.tags.length > 0 ? raw.tags : inherited;
  }

  private resource(name: string): Resource {
    const resource = this.input.resources.find((r) => r.name === name);
    if (!resource) throw new PlannerError(`unknown resource '${name}'`);
    return resource;
  }

  private get(name: string, resourceName: string, raw: StepConfig, tags: string[] | undefined): Plan {
    const resource = this.resource(resourceName);
    const version = this.input.buildInputs[name];
    if (!version) throw new PlannerError(`no version for input '${name}'`);
    const id = this.ids.nextId();
    const type = resource.type ?? '';
    return {
      id,
      get: {
        name,
        type,
        resource: resourceName,
        source: applyDefaults(resource.source, type, this.types),
        ...(raw.params ? { params: raw.params } : {}),
        version,
        ...(tags ? { tags } : {}),
        ...(raw.timeout ? { timeout: raw.timeout } : {}),
        image: imageForType(id, type, this.types, tags, false),
      },
    };
  }

  private put(name: string, resourceName: string, raw: StepConfig, tags: string[] | undefined): Plan {
    const resource = this.resource(resourceName);
    const type = resource.type ?? '';
    const source = applyDefaults(resource.source, type, this.types);
    const skipInterval = this.input.manuallyTriggered;
    const putId = this.ids.nextId();
    const put: Plan = {
      id: putId,
      put: {
        name,
        type,
        resource: resourceName,
        source,
        ...(raw.params ? { params: raw.params } : {}),
        ...(raw.inputs !== undefined ? { inputs: raw.inputs as 'all' | 'detect' | string[] } : {}),
        ...(tags ? { tags } : {}),
        ...(raw.timeout ? { timeout: raw.timeout } : {}),
        ...(resource.expose_build_created_by === true ? { expose_build_created_by: true } : {}),
        image: imageForType(putId, type, this.types, tags, skipInterval),
      },
    };
    if (raw.no_get === true) return put;
    // The implicit get fetches the version the put produced; it becomes artifact `<put name>`.
    const hookId: PlanId = this.ids.nextId();
    const getId = this.ids.nextId();
    return {
      id: hookId,
      on_success: {
        step: put,
        on_success: {
          id: getId,
          get: {
            name,
            type,
            resource: resourceName,
            source,
            ...(raw.get_params ? { params: raw.get_params } : {}),
            version_from: putId,
            ...(tags ? { tags } : {}),
            ...(raw.timeout ? { timeout: raw.timeout } : {}),
            image: imageForType(getId, type, this.types, tags, skipInterval),
          },
        },
      },
    };
  }

  private task(name: string, raw: StepConfig, tags: string[] | undefined): Plan {
    const id = this.ids.nextId();
    return {
      id,
      task: {
        name,
        ...(raw.privileged === true ? { privileged: true } : {}),
        ...(raw.hermetic === true ? { hermetic: true } : {}),
        ...(tags ? { tags } : {}),
        ...(raw.file !== undefined ? { config_path: raw.file } : {}),
        ...(raw.config !== undefined ? { config: raw.config as JsonObject } : {}),
        ...pick(raw, ['container_limits', 'image', 'vars', 'params', 'input_mapping', 'output_mapping', 'timeout']),
        resource_types: this.input.resourceTypes.map((t) => ({ ...t }) as JsonObject),
        check_skip_interval: this.input.manuallyTriggered,
        ...this.taskImagePlan(id, raw, tags),
      },
    };
  }

  /** The step's `image:` artifact wins over the config's image_resource, so only plan it when used. */
  private taskImagePlan(taskId: PlanId, raw: StepConfig, tags: string[] | undefined): { image_plan?: TypeImage } {
    const image = raw.config?.image_resource;
    if (!image || raw.image !== undefined) return {};
    const type = image.type ?? '';
    const { get, check } = fetchImagePlan(
      taskId,
      {
        name: 'image',
        type,
        source: applyDefaults(image.source, type, this.types),
        ...(image.params ? { params: image.params } : {}),
        ...(image.version && typeof image.version === 'object' ? { version: image.version } : {}),
        ...(image.tags ? { tags: image.tags } : {}),
      },
      this.types,
      tags,
      this.input.manuallyTriggered,
      undefined,
    );
    const baseType = 'get' in get ? (get.get.image.base_type ?? type) : type;
    return { image_plan: { base_type: baseType, get_plan: get, ...(check ? { check_plan: check } : {}) } };
  }
}

function toPlannerType(t: ResourceType): PlannerResourceType {
  return {
    name: t.name ?? '',
    type: t.type ?? '',
    ...(t.source ? { source: t.source } : {}),
    ...(t.params ? { params: t.params } : {}),
    ...(t.privileged === true ? { privileged: true } : {}),
    ...(t.check_every ? { check_every: t.check_every } : {}),
    ...(t.tags ? { tags: t.tags } : {}),
    ...(t.defaults ? { defaults: t.defaults } : {}),
  };
}

function pick<K extends string>(raw: StepConfig, keys: readonly K[]): Partial<Record<K, never>> {
  const out: Record<string, unknown> = {};
  for (const key of keys) {
    const value = (raw as Record<string, unknown>)[key];
    if (value !== undefined) out[key] = value;
  }
  return out as Partial<Record<K, never>>;
}

/**
 * A plan sent to CreatePipelineBuild with gets that name only a pipeline resource
 * (`{get: {name, resource, version}}`): each completed as the pipeline's job would plan it
 * (planPipelineGet). Other steps are left as they are. Errors name the step's place and the
 * resource; nothing is completed then.
 */
export function completePipelineGets(plan: unknown, resources: readonly Resource[], resourceTypes: readonly ResourceType[]): { plan: unknown; errors: string[] } {
  const errors: string[] = [];
  const walk = (node: unknown, at: string): unknown => {
    if (Array.isArray(node)) return node.map((n, i) => walk(n, `${at}[${i}]`));
    if (node === null || typeof node !== 'object') return node;
    const obj = node as Record<string, unknown>;
    const get = obj.get as Record<string, unknown> | undefined;
    if (get && typeof get === 'object' && typeof get.resource === 'string' && get.type === undefined && typeof obj.id === 'string') {
      const resource = get.resource;
      const name = typeof get.name === 'string' ? get.name : resource;
      if (!resources.some((r) => r.name === resource)) {
        errors.push(`${at}.get.resource: the pipeline has no resource '${resource}'`);
        return node;
      }
      const version = get.version;
      if (version === null || typeof version !== 'object' || Array.isArray(version)) {
        errors.push(`${at}.get.version: a get of pipeline resource '${resource}' needs the version to fetch`);
        return node;
      }
      const params = get.params !== null && typeof get.params === 'object' && !Array.isArray(get.params) ? (get.params as JsonObject) : undefined;
      return planPipelineGet({ resources, resourceTypes, id: obj.id, name, resource, version: version as Version, ...(params ? { params } : {}) });
    }
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(obj)) out[k] = walk(v, at === '' ? k : `${at}.${k}`);
    return out;
  };
  const completed = walk(plan, 'plan');
  return { plan: errors.length > 0 ? plan : completed, errors };
}

const isObject = (v: unknown): v is JsonObject => typeof v === 'object' && v !== null && !Array.isArray(v);
