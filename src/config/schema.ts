// The pipeline configuration schema (docs/concourse-semantics.md §1). The types keep Concourse's JSON shape:
// this is what users write, what is stored and what the API returns, so nothing is renamed,
// defaulted or transformed here. Semantic checks (names, references, cycles) live in validate.ts;
// this file only says which keys exist and what type each value has.
//
// Field order in each object is the canonical key order used by format-pipeline.
import { z } from 'zod';
import { isDuration } from './duration.ts';
import { isVarRef, type VarRef } from './var-syntax.ts';

export type { VarRef } from './var-syntax.ts';

/** An unresolved `((var))` left in place by interpolation; accepted wherever a typed value is. */
export const varRefSchema = z.custom<VarRef>((v) => isVarRef(v), { message: 'expected a ((var))' });

/** The value, or a whole-value `((var))` that is resolved later (at runtime, or never). */
function withVar<T extends z.ZodType>(schema: T) {
  return z.union([schema, varRefSchema]);
}

/** A free-form JSON object (`source`, `params`, ...). */
export const jsonObjectSchema = z.record(z.string(), z.unknown());
const freeObject = withVar(jsonObjectSchema);

/** A Go `time.Duration` string, or a var. */
export const durationSchema = z.string().superRefine((v, ctx) => {
  if (!isDuration(v) && !isVarRef(v)) ctx.addIssue({ code: 'custom', message: `invalid duration '${v}'` });
});

/** `check_every` also accepts `never`. */
export const checkEverySchema = z.string().superRefine((v, ctx) => {
  if (v !== 'never' && !isDuration(v) && !isVarRef(v)) {
    ctx.addIssue({ code: 'custom', message: `invalid duration '${v}' (a Go duration such as 1m30s, or never)` });
  }
});

/** A resource version: string keys to string values. */
export const versionSchema = z.record(z.string(), z.string());

const bool = withVar(z.boolean());
const int = withVar(z.number().int());
const strings = z.array(z.string());

// ---------------------------------------------------------------------------------------------
// resources, resource types, prototypes (§1.2, §1.3)

export const resourceSchema = z.strictObject({
  name: z.string().optional(),
  old_name: z.string().optional(),
  type: z.string().optional(),
  icon: z.string().optional(),
  source: freeObject.optional(),
  version: withVar(versionSchema).optional(),
  check_every: checkEverySchema.optional(),
  check_timeout: durationSchema.optional(),
  tags: strings.optional(),
  public: bool.optional(),
  webhook_token: z.string().optional(),
  expose_build_created_by: bool.optional(),
});

const resourceTypeShape = {
  name: z.string().optional(),
  type: z.string().optional(),
  source: freeObject.optional(),
  defaults: freeObject.optional(),
  privileged: bool.optional(),
  params: freeObject.optional(),
  check_every: checkEverySchema.optional(),
  tags: strings.optional(),
};

/** `produces` is Jetway's (docs/image-features.md, decision 6): only `registry-image` is accepted, checked in validate.ts. */
export const resourceTypeSchema = z.strictObject({ ...resourceTypeShape, produces: z.string().optional() });

/** Prototypes have the resource-type shape, without Jetway's `produces`. */
export const prototypeSchema = z.strictObject(resourceTypeShape);

// ---------------------------------------------------------------------------------------------
// groups, var_sources, display

export const groupSchema = z.strictObject({
  name: z.string().optional(),
  jobs: strings.optional(),
  resources: strings.optional(),
});

export const varSourceSchema = z.strictObject({
  name: z.string().optional(),
  type: z.string().optional(),
  config: freeObject.optional(),
});

export const displaySchema = z.strictObject({
  background_image: z.string().optional(),
  background_filter: z.string().optional(),
});

// ---------------------------------------------------------------------------------------------
// task config (§1.6)

export const containerLimitsSchema = z.strictObject({
  cpu: withVar(z.number().int().nonnegative()).nullable().optional(),
  // an integer number of bytes, or a size such as "512MB" / "1GiB"
  memory: withVar(z.union([z.number().int().nonnegative(), z.string()])).nullable().optional(),
});

export const imageResourceSchema = z.strictObject({
  type: z.string(),
  source: freeObject.optional(),
  params: freeObject.optional(),
  version: withVar(versionSchema).optional(),
  tags: strings.optional(),
});

export const taskConfigSchema = z.strictObject({
  platform: z.string().optional(),
  image_resource: imageResourceSchema.optional(),
  rootfs_uri: z.string().optional(),
  container_limits: containerLimitsSchema.optional(),
  params: freeObject.optional(),
  run: z
    .strictObject({
      path: z.string().optional(),
      args: z.array(z.string()).optional(),
      dir: z.string().optional(),
      user: z.string().optional(),
    })
    .optional(),
  inputs: z
    .array(z.strictObject({ name: z.string().optional(), path: z.string().optional(), optional: bool.optional() }))
    .optional(),
  outputs: z.array(z.strictObject({ name: z.string().optional(), path: z.string().optional() })).optional(),
  caches: z.array(z.strictObject({ path: z.string(), ttl: durationSchema.optional() })).optional(),
});

// ---------------------------------------------------------------------------------------------
// steps (§1.5). The raw step object holds every key any step may have; which keys belong
// together (and which are "unknown fields") depends on key precedence, decided in steps.ts.

export const acrossVarSchema = z.strictObject({
  var: z.string().optional(),
  values: z.unknown().optional(),
  max_in_flight: withVar(z.union([z.literal('all'), z.number().int()])).optional(),
});

export const LOAD_VAR_FORMATS = ['json', 'yaml', 'yml', 'trim', 'raw'] as const;

const stepShape = {
  // core keys first: they name the step
  get: z.string().optional(),
  put: z.string().optional(),
  task: z.string().optional(),
  run: z.string().optional(),
  set_pipeline: z.string().optional(),
  load_var: z.string().optional(),
  get do(): z.ZodOptional<z.ZodArray<typeof stepConfigSchema>> {
    return z.array(stepConfigSchema).optional();
  },
  get in_parallel(): z.ZodOptional<z.ZodUnion<readonly [z.ZodArray<typeof stepConfigSchema>, typeof inParallelConfigSchema]>> {
    return z.union([z.array(stepConfigSchema), inParallelConfigSchema]).optional();
  },
  get try(): z.ZodOptional<typeof stepConfigSchema> {
    return stepConfigSchema.optional();
  },
  // get / put
  resource: z.string().optional(),
  passed: strings.optional(),
  trigger: bool.optional(),
  // any string: `every` and `latest` mean what they say, any other the default (latest), as
  // Concourse's VersionConfig reads it (atc/steps.go)
  version: withVar(z.union([z.string(), versionSchema])).optional(),
  inputs: withVar(z.union([z.literal('all'), z.literal('detect'), strings])).optional(),
  no_get: bool.optional(),
  get_params: freeObject.optional(),
  // task / run / set_pipeline / load_var
  type: z.string().optional(),
  file: z.string().optional(),
  config: taskConfigSchema.optional(),
  image: z.string().optional(),
  privileged: bool.optional(),
  hermetic: bool.optional(),
  team: z.string().optional(),
  format: z.enum(LOAD_VAR_FORMATS).optional(),
  reveal: bool.optional(),
  params: freeObject.optional(),
  vars: freeObject.optional(),
  var_files: strings.optional(),
  instance_vars: freeObject.optional(),
  input_mapping: z.record(z.string(), z.string()).optional(),
  output_mapping: z.record(z.string(), z.string()).optional(),
  container_limits: containerLimitsSchema.optional(),
  tags: strings.optional(),
  // modifiers
  across: z.array(acrossVarSchema).optional(),
  fail_fast: bool.optional(),
  attempts: int.optional(),
  timeout: durationSchema.optional(),
  get on_success(): z.ZodOptional<typeof stepConfigSchema> {
    return stepConfigSchema.optional();
  },
  get on_failure(): z.ZodOptional<typeof stepConfigSchema> {
    return stepConfigSchema.optional();
  },
  get on_abort(): z.ZodOptional<typeof stepConfigSchema> {
    return stepConfigSchema.optional();
  },
  get on_error(): z.ZodOptional<typeof stepConfigSchema> {
    return stepConfigSchema.optional();
  },
  get ensure(): z.ZodOptional<typeof stepConfigSchema> {
    return stepConfigSchema.optional();
  },
};

/** Loose: unknown keys are kept and reported by the step parser as `unknown fields`. */
export const stepConfigSchema: z.ZodObject<typeof stepShape, z.core.$loose> = z.looseObject(stepShape);

export const inParallelConfigSchema = z.strictObject({
  get steps(): z.ZodOptional<z.ZodArray<typeof stepConfigSchema>> {
    return z.array(stepConfigSchema).optional();
  },
  limit: int.optional(),
  fail_fast: bool.optional(),
});

// ---------------------------------------------------------------------------------------------
// jobs (§1.4)

export const jobSchema = z.strictObject({
  name: z.string().optional(),
  old_name: z.string().optional(),
  serial: bool.optional(),
  serial_groups: strings.optional(),
  max_in_flight: int.optional(),
  build_log_retention: z
    .strictObject({ builds: int.optional(), days: int.optional(), minimum_succeeded_builds: int.optional() })
    .optional(),
  build_logs_to_retain: int.optional(),
  public: bool.optional(),
  disable_manual_trigger: bool.optional(),
  disable_reruns: bool.optional(),
  interruptible: bool.optional(),
  tags: strings.optional(),
  plan: z.array(stepConfigSchema).optional(),
  on_success: stepConfigSchema.optional(),
  on_failure: stepConfigSchema.optional(),
  on_abort: stepConfigSchema.optional(),
  on_error: stepConfigSchema.optional(),
  ensure: stepConfigSchema.optional(),
});

// ---------------------------------------------------------------------------------------------
// the pipeline (§1.1). A plain (stripping) object: unknown top-level keys are dropped silently,
// as Concourse does.

export const pipelineConfigSchema = z.object({
  groups: z.array(groupSchema).optional(),
  var_sources: z.array(varSourceSchema).optional(),
  resources: z.array(resourceSchema).optional(),
  resource_types: z.array(resourceTypeSchema).optional(),
  prototypes: z.array(prototypeSchema).optional(),
  jobs: z.array(jobSchema).optional(),
  display: displaySchema.optional(),
});

export type PipelineConfig = z.infer<typeof pipelineConfigSchema>;
export type Resource = z.infer<typeof resourceSchema>;
export type ResourceType = z.infer<typeof resourceTypeSchema>;
export type Prototype = z.infer<typeof prototypeSchema>;
export type Job = z.infer<typeof jobSchema>;
export type Group = z.infer<typeof groupSchema>;
export type VarSource = z.infer<typeof varSourceSchema>;
export type Display = z.infer<typeof displaySchema>;
export type TaskConfig = z.infer<typeof taskConfigSchema>;
export type ImageResource = z.infer<typeof imageResourceSchema>;
export type ContainerLimits = z.infer<typeof containerLimitsSchema>;
export type AcrossVar = z.infer<typeof acrossVarSchema>;
export type InParallelConfig = z.infer<typeof inParallelConfigSchema>;
/** The raw step object as written (every key any step may have, plus unknown keys). */
export type StepConfig = z.infer<typeof stepConfigSchema>;
