// The JSON the web node's API answers with, as far as the UI reads it (src/api/queries.ts makes
// it). Times are unix seconds, as in Concourse.

export type BuildStatus = 'pending' | 'started' | 'succeeded' | 'failed' | 'errored' | 'aborted';

export interface Build {
  id: number;
  team_name: string;
  name: string;
  status: BuildStatus;
  job_name?: string;
  pipeline_id?: number;
  pipeline_name?: string;
  pipeline_instance_vars?: Record<string, unknown>;
  start_time?: number;
  end_time?: number;
  api_url?: string;
  rerun_number?: number;
  rerun_of?: { id: number; name: string };
  created_by?: string;
  comment?: string;
}

export interface JobInput {
  name: string;
  resource: string;
  trigger: boolean;
  passed?: string[];
}

export interface JobOutput {
  name: string;
  resource: string;
}

export interface Job {
  id: number;
  name: string;
  team_name: string;
  pipeline_name: string;
  paused?: boolean;
  has_new_inputs?: boolean;
  disable_manual_trigger?: boolean;
  groups: string[];
  next_build?: Build;
  finished_build?: Build;
  transition_build?: Build;
  inputs: JobInput[];
  outputs: JobOutput[];
}

export interface PipelineGroup {
  name: string;
  jobs?: string[];
  resources?: string[];
}

export interface Pipeline {
  id: number;
  name: string;
  instance_vars?: Record<string, unknown>;
  paused: boolean;
  paused_by?: string;
  public: boolean;
  archived: boolean;
  groups?: PipelineGroup[];
  team_name: string;
  last_updated: number;
}

export interface Resource {
  name: string;
  type: string;
  team_name: string;
  pipeline_name: string;
  last_checked?: number;
  icon?: string;
  pinned_version?: Record<string, string>;
  pinned_in_config?: boolean;
  pin_comment?: string;
  /** the resource's latest check build */
  build?: { id: number; name: string; status: BuildStatus; start_time?: number; end_time?: number };
}

export interface MetadataField {
  name: string;
  value: string;
}

export interface ResourceVersion {
  id: number;
  version: Record<string, string>;
  metadata: MetadataField[] | null;
  enabled: boolean;
}

/** `POST /api/v1/token`. */
export interface TokenResponse {
  access_token: string;
  token_type: string;
  expires_in: number;
  expiry: string;
  username: string;
  teams: string[];
}

/** One build event as the event stream carries it (`data:` of an `event: event` message). */
export interface EventEnvelope {
  event: string;
  version: string;
  data: Record<string, unknown>;
  event_id?: string;
}
