// The JSON the API serves, one type per answer for the server that builds it (src/api) and the
// clients that read it (the jetway command, src/cli, and the web UI, src/ui/app). Field names
// are Concourse's (atc/build.go, job.go, pipeline.go, resource.go, team.go, user.go, info.go),
// so fly's habits hold; Jetway's additions are marked. Times are unix seconds. An optional field
// is left out of the JSON when it is empty, as Concourse's `omitempty`.
//
// Types only: no runtime code and no imports, so the browser bundle's tsconfig (DOM, no Node)
// checks this file as it is.

// ------------------------------------------------------------------------------ shared shapes

export type BuildStatus = 'pending' | 'started' | 'succeeded' | 'failed' | 'errored' | 'aborted';

/** A resource version: string fields. */
export type Version = Record<string, string>;

/** An instanced pipeline's vars. */
export type InstanceVars = Record<string, unknown>;

export interface MetadataField {
  name: string;
  value: string;
}

/** A problem that does not stop a save (Concourse's atc.ConfigWarning). */
export interface ConfigWarning {
  type: string;
  message: string;
}

// ------------------------------------------------------------------------------ errors

/** The stable codes of the API's errors; src/api/errors.ts gives each its status, docs/api-errors.md its meaning. */
export type ApiErrorCode =
  | 'JW_BAD_REQUEST'
  | 'JW_INVALID_REQUEST'
  | 'JW_EMPTY_BODY'
  | 'JW_INVALID_JSON'
  | 'JW_INVALID_CONFIG'
  | 'JW_UNRESOLVED_CREDENTIALS'
  | 'JW_INVALID_PLAN'
  | 'JW_INVALID_TEAM_NAME'
  | 'JW_INVALID_TEAM_AUTH'
  | 'JW_INVALID_PIPELINE_ORDER'
  | 'JW_INVALID_PAGE'
  | 'JW_INVALID_ARTIFACT'
  | 'JW_CONTAINER_AMBIGUOUS'
  | 'JW_UNAUTHORIZED'
  | 'JW_INVALID_LOGIN'
  | 'JW_INVALID_WEBHOOK_TOKEN'
  | 'JW_FORBIDDEN'
  | 'JW_NOT_FOUND'
  | 'JW_ROUTE_NOT_FOUND'
  | 'JW_FLY_NOT_SHIPPED'
  | 'JW_TEAM_NOT_FOUND'
  | 'JW_PIPELINE_NOT_FOUND'
  | 'JW_JOB_NOT_FOUND'
  | 'JW_BUILD_NOT_FOUND'
  | 'JW_BUILD_PLAN_NOT_FOUND'
  | 'JW_RESOURCE_NOT_FOUND'
  | 'JW_RESOURCE_TYPE_NOT_FOUND'
  | 'JW_PROTOTYPE_NOT_FOUND'
  | 'JW_VERSION_NOT_FOUND'
  | 'JW_TASK_STEP_NOT_FOUND'
  | 'JW_ARTIFACT_NOT_FOUND'
  | 'JW_CONTAINER_NOT_FOUND'
  | 'JW_CONFLICT'
  | 'JW_STALE_CONFIG_VERSION'
  | 'JW_PINNED_IN_CONFIG'
  | 'JW_NOT_PINNED'
  | 'JW_MAIN_TEAM_PROTECTED'
  | 'JW_BODY_TOO_LARGE'
  | 'JW_URI_TOO_LONG'
  | 'JW_UNSUPPORTED_MEDIA_TYPE'
  | 'JW_CAUSALITY_TOO_LARGE'
  | 'JW_VERSIONS_DB_TOO_LARGE'
  | 'JW_TOO_MANY_LOGINS'
  | 'JW_INTERNAL_ERROR'
  | 'JW_STORAGE_ERROR'
  | 'JW_INTERCEPT_UNSUPPORTED'
  | 'JW_UNAVAILABLE';

/**
 * Every error answer: `error` (one message), or `errors` (a list of problems: an invalid config,
 * body or plan), and the code.
 */
export interface ErrorBody {
  code: ApiErrorCode;
  error?: string;
  errors?: string[];
  /** an invalid pipeline config's warnings, as a save would have given them */
  warnings?: ConfigWarning[];
}

// ------------------------------------------------------------------------------ server, session

/** `GET /api/v1/info` (atc.Info). */
export interface Info {
  /** the Concourse version fly compares with its own (jetway web --concourse-version) */
  version: string;
  /** Jetway's own version */
  jetway_version: string;
  worker_version: string;
  feature_flags: Record<string, boolean>;
  external_url: string;
  cluster_name: string;
}

/** `GET /api/v1/health` (Jetway). */
/** `GET /api/v1/health`: Concourse's atc.Health (atc/health.go), with Jetway's `disk`. */
export interface Health {
  /** `failing` comes with 503 (issue 17): the database or a disk */
  status: 'ok' | 'degraded' | 'failing';
  /** RFC 3339 */
  timestamp: string;
  database: { status: 'healthy' | 'unhealthy'; error?: string };
  /** the web nodes: each is a worker */
  workers: WorkerHealth;
  components: ComponentHealth[];
  /** Jetway's: the web node's disk (its data dir's, or the database's) is full */
  disk?: { status: 'unhealthy'; error: string };
}

export interface WorkerHealth {
  status: 'healthy' | 'degraded' | 'unhealthy';
  total: number;
  running: number;
  unhealthy_workers?: string[];
}

export interface ComponentHealth {
  name: string;
  status: 'healthy' | 'unhealthy';
  paused: boolean;
  /** RFC 3339; Go's zero time when it never ran */
  last_ran: string;
}

/** `POST /api/v1/token`. */
export interface TokenResponse {
  access_token: string;
  token_type: 'bearer';
  /** seconds from now */
  expires_in: number;
  /** ISO time */
  expiry: string;
  username: string;
  teams: string[];
}

/** `GET /api/v1/user` (the fields of atc.UserInfo Jetway has). */
/** `GET /api/v1/user`: Concourse's `atc.UserInfo` (fly's login reads `is_admin` and `teams`). */
export interface UserInfo {
  sub: string;
  name: string;
  user_id: string;
  user_name: string;
  email: string;
  /** the user's roles, by team */
  teams: Record<string, string[]>;
  is_admin: boolean;
  is_system: boolean;
  /** `local` for Jetway's local users, as Concourse's local connector */
  connector: string;
  display_user_id: string;
}

// ------------------------------------------------------------------------------ teams

/** Per role (owner, member, pipeline-operator, viewer): the users (`local:<name>`) and groups holding it. */
export type TeamAuth = Record<string, { users?: string[]; groups?: string[] }>;

/** atc.Team; `auth` only for the team's owners and admins. */
export interface Team {
  id: number;
  name: string;
  auth?: TeamAuth;
}

/** `PUT /api/v1/teams/:team`. */
export interface SetTeamResponse {
  /** `{name}` alone when the team could not be read back */
  team: Team | { name: string };
  warnings: string[];
}

/** `PUT /api/v1/teams/:team/rename`. */
export interface RenameTeamResponse {
  warnings: string[];
}

// ------------------------------------------------------------------------------ pipelines

export interface PipelineGroup {
  name: string;
  jobs?: string[];
  resources?: string[];
}

/** atc.Pipeline. */
export interface Pipeline {
  id: number;
  name: string;
  instance_vars?: InstanceVars;
  paused: boolean;
  paused_by?: string;
  paused_at?: number;
  public: boolean;
  archived: boolean;
  groups?: PipelineGroup[];
  team_name: string;
  display?: Record<string, unknown>;
  last_updated: number;
  /** set by a set_pipeline step: the job and build that set it (omitted otherwise, as Concourse's omitempty) */
  parent_build_id?: number;
  parent_job_id?: number;
}

/** `GET …/config`: the config as saved (its version is the X-Concourse-Config-Version header). */
export interface ConfigResponse<C = Record<string, unknown>> {
  config: C;
}

/** `PUT …/config` (atc.SaveConfigResponse) and `PUT …/rename`. */
export interface SaveConfigResponse {
  warnings: ConfigWarning[];
}

// ------------------------------------------------------------------------------ builds

export interface RerunOfBuild {
  id: number;
  name: string;
}

/** atc.Build. */
export interface Build {
  id: number;
  team_name: string;
  name: string;
  status: BuildStatus;
  api_url: string;
  comment?: string;
  job_name?: string;
  /** A check build's resource (atc.Build); Jetway's build lists leave check builds out, so never sent yet */
  resource_name?: string;
  pipeline_id?: number;
  pipeline_name?: string;
  pipeline_instance_vars?: InstanceVars;
  start_time?: number;
  end_time?: number;
  reap_time?: number;
  rerun_number?: number;
  rerun_of?: RerunOfBuild;
  created_by?: string;
  /** Jetway: what the build spent, e.g. `{"step": {"task": 1}, "image": {}}` (pods on Kubernetes) */
  containers_created: Record<string, Record<string, number>>;
  /** Jetway: why a pending job build does not start (paused, max-in-flight, checks, inputs), one line */
  pending_reason?: string;
}

/** atc.BuildSummary: a resource's latest check build (its first fields), a job summary's builds (all). */
export interface BuildSummary {
  id: number;
  name: string;
  status: BuildStatus;
  start_time?: number;
  end_time?: number;
  team_name?: string;
  pipeline_id?: number;
  pipeline_name?: string;
  pipeline_instance_vars?: InstanceVars;
  job_name?: string;
}

/** `GET /api/v1/builds/:id/plan` (atc.PublicBuildPlan). */
export interface PublicBuildPlan<P = unknown> {
  schema: string;
  plan: P;
}

export type BuildPreparationStatus = 'unknown' | 'blocking' | 'not_blocking';

/** `GET /api/v1/builds/:id/preparation` (atc.BuildPreparation). */
export interface BuildPreparation {
  build_id: number;
  paused_pipeline: BuildPreparationStatus;
  paused_job: BuildPreparationStatus;
  max_running_builds: BuildPreparationStatus;
  inputs: Record<string, BuildPreparationStatus>;
  inputs_satisfied: BuildPreparationStatus;
  missing_input_reasons: Record<string, string>;
  /** Jetway: every reason the build does not start, one line each, most fundamental first */
  reasons?: string[];
}

export interface PublicBuildInput {
  name: string;
  resource: string;
  version: Version | null;
  first_occurrence: boolean;
  pipeline_id?: number;
}

export interface PublicBuildOutput {
  name: string;
  resource: string;
  version: Version | null;
}

/** `GET /api/v1/builds/:id/resources` (atc.BuildInputsOutputs). */
export interface BuildInputsOutputs {
  inputs: PublicBuildInput[];
  outputs: PublicBuildOutput[];
}

/** One build event as the event stream carries it (the `data:` of an `event: event` message). */
export interface EventEnvelope {
  event: string;
  version: string;
  data: Record<string, unknown>;
  event_id?: string;
}

/** An artifact of a one-off build: an upload, or what an `artifact_output` step saved (Jetway). */
export interface Artifact {
  id: number;
  /** '' for an upload */
  name: string;
  build_id?: number;
  created_at: number;
}

/** One container of `GET /api/v1/builds/:id/containers`, a command can run in (jetway intercept). */
export interface Container {
  handle: string;
  step: string;
  type: string;
  state: 'running' | 'failed';
  purpose?: 'image';
  name: string;
  work_dir: string;
  created_at?: string;
}

/** `GET /api/v1/workers`: atc.Worker, the fields fly reads (each web node is one worker: routes/workers.ts). */
export interface Worker {
  addr: string;
  baggageclaim_url: string;
  active_containers: number;
  active_volumes: number;
  active_tasks: number;
  resource_types: { type: string; image: string; version: string; privileged: boolean }[];
  platform: string;
  tags: string[];
  team: string;
  name: string;
  version: string;
  start_time: number;
  ephemeral: boolean;
  state: 'running' | 'landing' | 'stalled';
  /** Jetway: where this node runs steps (`kubernetes` or `local`) */
  runtime?: string;
}

/** One container of `GET /api/v1/teams/:team/containers` (atc.Container, the fields Jetway fills; `jetway containers`). */
export interface TeamContainer {
  id: string;
  worker_name: string;
  state?: string;
  type?: string;
  step_name?: string;
  pipeline_id?: number;
  job_id?: number;
  build_id?: number;
  pipeline_name?: string;
  pipeline_instance_vars?: Record<string, unknown>;
  job_name?: string;
  build_name?: string;
  working_directory?: string;
}

/** `GET /api/v1/wall`: atc.Wall; `TTL` is a Go time.Duration, so nanoseconds on the wire. */
export interface Wall {
  message?: string;
  TTL?: number;
}

/** One of `GET /api/v1/components` (atc.Component; atc/component.go): a periodic pass of the web nodes. */
export interface Component {
  name: string;
  /** nanoseconds, as Go's time.Duration */
  interval: number;
  /** RFC 3339; Go's zero time when it never ran */
  last_ran: string;
  paused: boolean;
}

/** One user of `GET /api/v1/users` (atc.User: who logged in, fly active-users). */
export interface ActiveUser {
  username: string;
  connector: string;
  last_login: number;
  sub: string;
}

// ------------------------------------------------------------------------------ jobs

/** `{every: true}`, or the version the config pins; absent for `latest`. */
export type JobInputVersion = { every: true } | { pinned: Version };

export interface JobInput {
  name: string;
  resource: string;
  trigger: boolean;
  passed?: string[];
  version?: JobInputVersion;
}

export interface JobOutput {
  name: string;
  resource: string;
}

/** atc.JobInputSummary. */
export interface JobInputSummary {
  name: string;
  resource: string;
  passed?: string[];
  trigger?: boolean;
}

/** What atc.Job and atc.JobSummary both begin with: the job and its pipeline. */
export interface JobOfPipeline {
  id: number;
  name: string;
  team_name: string;
  pipeline_id: number;
  pipeline_name: string;
  pipeline_instance_vars?: InstanceVars;
}

/**
 * atc.JobSummary: a job in `GET /api/v1/jobs`, the dashboard's list of every job (no config, no
 * build URLs; empty fields left out, as Go's omitempty does).
 */
export interface JobSummary extends JobOfPipeline {
  paused?: boolean;
  paused_by?: string;
  paused_at?: number;
  has_new_inputs?: boolean;
  groups?: string[];
  finished_build?: BuildSummary;
  next_build?: BuildSummary;
  transition_build?: BuildSummary;
  inputs?: JobInputSummary[];
  outputs?: JobOutput[];
}

/** atc.Job. */
export interface Job extends JobOfPipeline {
  paused?: boolean;
  has_new_inputs?: boolean;
  disable_manual_trigger?: boolean;
  groups: string[];
  /** null when there is none, as Concourse sends it (atc.Job's pointers have no omitempty) */
  next_build?: Build | null;
  finished_build?: Build | null;
  transition_build?: Build;
  inputs: JobInput[];
  outputs: JobOutput[];
  /** Jetway: why the job will not run now (its pending build's reason, or pause, archive, inputs), one line */
  pending_reason?: string;
}

/** One input of `GET …/jobs/:job/inputs` (Jetway): the next build's input as the scheduler last resolved it. */
/** atc.BuildInput (ListJobInputs) and what the scheduler knows of it. */
export interface NextBuildInput {
  name: string;
  resource: string;
  /** the resource's type and source, the get's params and tags, as Concourse's present.BuildInput */
  type: string;
  source?: Record<string, unknown>;
  params?: Record<string, unknown> | string;
  tags?: string[];
  trigger: boolean;
  passed?: string[];
  version?: Version;
  first_occurrence?: boolean;
  /** why the input could not be resolved */
  resolve_error?: string;
}

/** Clearing a task step's caches (`…/jobs/:job/tasks/:step/cache`) or a resource's (`…/resources/:resource/cache`). */
export interface ClearCacheResponse {
  caches_removed: number;
}

// ------------------------------------------------------------------------------ resources

/** atc.Resource. */
export interface Resource {
  name: string;
  pipeline_id: number;
  pipeline_name: string;
  pipeline_instance_vars?: InstanceVars;
  team_name: string;
  type: string;
  last_checked?: number;
  icon?: string;
  pinned_version?: Version;
  pinned_in_config?: boolean;
  pin_comment?: string;
  /** the resource's latest check build */
  build?: BuildSummary;
}

/** A pipeline's resource type as `GET …/resource-types` lists it; never its `source` (it may hold secrets). */
export interface ResourceType {
  name: string;
  type: string;
  privileged?: boolean;
  check_every?: string;
  tags?: string[];
  params?: Record<string, unknown>;
  defaults?: Record<string, unknown>;
  last_checked?: number;
}

/** atc.ResourceVersion. */
export interface ResourceVersion {
  id: number;
  version: Version;
  metadata: MetadataField[] | null;
  enabled: boolean;
}

export interface ResourceIdentifier {
  name: string;
  pipeline_id: number;
  pipeline_name: string;
  pipeline_instance_vars?: InstanceVars;
  team_name: string;
}

/** `GET …/resources/:r/shared` and `…/resource-types/:t/shared` (atc.ResourcesAndTypes). */
export interface ResourcesAndTypes {
  resources: ResourceIdentifier[];
  resource_types: ResourceIdentifier[];
  /** Jetway: how many of the sharers belong to teams the user holds no role in */
  other_teams: number;
}

/** Clearing a resource's or resource type's versions (`…/versions`; atc.ClearVersionsResponse). */
export interface ClearVersionsResponse {
  versions_removed: number;
}
