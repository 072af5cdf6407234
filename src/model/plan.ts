// Build plans: the JSON tree a job's config becomes when a build starts (docs/concourse-semantics.md §3.1).
// The shape follows Concourse's so that plans stored in the database and served by the API read
// the same way Concourse users know them.

import type { Version } from './version.ts';

export type PlanId = string;
export type JsonObject = Record<string, unknown>;
/** A source or params object, or a whole `((var))` that is interpolated when the step runs. */
export type Params = JsonObject | `((${string}))`;

/** How a step's container image is found: a base type directly, or a custom type's check + get. */
export interface TypeImage {
  base_type?: string;
  privileged?: boolean;
  check_plan?: Plan;
  get_plan?: Plan;
}

export interface GetPlan {
  name: string;
  type: string;
  resource?: string;
  source: Params;
  params?: Params;
  version?: Version;
  version_from?: PlanId;
  tags?: string[];
  timeout?: string;
  image: TypeImage;
}

export interface PutPlan {
  name: string;
  type: string;
  resource: string;
  source: Params;
  params?: Params;
  inputs?: 'all' | 'detect' | string[];
  tags?: string[];
  timeout?: string;
  expose_build_created_by?: boolean;
  image: TypeImage;
}

export interface CheckPlan {
  name: string;
  type: string;
  source: Params;
  from_version?: Version;
  resource?: string;
  resource_type?: string;
  interval: string;
  skip_interval?: boolean;
  timeout?: string;
  tags?: string[];
  image: TypeImage;
}

export interface TaskPlan {
  name: string;
  privileged?: boolean;
  hermetic?: boolean;
  tags?: string[];
  config_path?: string;
  config?: JsonObject;
  container_limits?: JsonObject;
  image?: string;
  vars?: Params;
  params?: Params;
  input_mapping?: Record<string, string>;
  output_mapping?: Record<string, string>;
  timeout?: string;
  /** The pipeline's resource types, needed to resolve a custom-typed `image_resource` at run time. */
  resource_types?: JsonObject[];
  check_skip_interval?: boolean;
  /**
   * The check + get of an inline config's `image_resource` (ids `<task>/image-check`,
   * `<task>/image-get`). A task file's image is only known at run time, which plans it then.
   */
  image_plan?: TypeImage;
}

export interface SetPipelinePlan {
  name: string;
  file: string;
  team?: string;
  vars?: Params;
  var_files?: string[];
  instance_vars?: JsonObject;
}

export interface LoadVarPlan {
  name: string;
  file: string;
  format?: string;
  reveal?: boolean;
}

/**
 * A `run` step (Concourse's experimental prototypes, atc.RunPlan): the message, the prototype
 * and its object (the prototype's `defaults` under the step's `params`). Concourse's run step
 * does not run anything yet (atc/exec/run_step.go says so and succeeds); neither does Jetway's.
 */
export interface RunPlan {
  message: string;
  type: string;
  object?: JsonObject;
  privileged?: boolean;
  tags?: string[];
  timeout?: string;
}

/** fly execute: an uploaded directory becomes the artifact `name`. */
export interface ArtifactInputPlan {
  artifact_id: number;
  name: string;
}

/** fly execute: the artifact `name` is kept as a tarball the client downloads afterwards. */
export interface ArtifactOutputPlan {
  name: string;
}

export interface InParallelPlan {
  steps: Plan[];
  limit?: number;
  fail_fast?: boolean;
}

export interface AcrossVar {
  name: string;
  values: unknown;
  max_in_flight?: number | 'all';
}

export interface AcrossPlan {
  vars: AcrossVar[];
  /** The sub-step planned once, as JSON; concrete sub-plans are built from it at run time. */
  substep_template: string;
  fail_fast?: boolean;
}

export interface HookPlan {
  step: Plan;
}

interface PlanBase {
  id: PlanId;
  attempts?: number[];
}

export type Plan = PlanBase &
  (
    | { get: GetPlan }
    | { put: PutPlan }
    | { check: CheckPlan }
    | { task: TaskPlan }
    | { set_pipeline: SetPipelinePlan }
    | { load_var: LoadVarPlan }
    | { run: RunPlan }
    | { artifact_input: ArtifactInputPlan }
    | { artifact_output: ArtifactOutputPlan }
    | { do: Plan[] }
    | { in_parallel: InParallelPlan }
    | { across: AcrossPlan }
    | { on_success: HookPlan & { on_success: Plan } }
    | { on_failure: HookPlan & { on_failure: Plan } }
    | { on_abort: HookPlan & { on_abort: Plan } }
    | { on_error: HookPlan & { on_error: Plan } }
    | { ensure: HookPlan & { ensure: Plan } }
    | { try: HookPlan }
    | { timeout: HookPlan & { duration: string } }
    | { retry: Plan[] }
  );

/** Hands out plan ids: a counter formatted as lowercase hex, unique within one build. */
export class PlanIdFactory {
  private next: number;
  constructor(seed = 1) {
    this.next = seed;
  }
  nextId(): PlanId {
    return (this.next++).toString(16);
  }
}
