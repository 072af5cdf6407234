// What Go's encoding/json does when fly decodes a response into Concourse's types (atc/*.go):
// a field of the wrong JSON type is an error (a number into a string, a fraction into an int, an
// object into a list), null leaves the zero value, an unknown field is ignored. The specs below
// are the fields of the types fly decodes, with their Go types; `required` are those a response
// must carry for fly to show anything (Go would decode their absence as zero values silently).
export type GoType = 'int' | 'string' | 'bool' | 'any' | { list: GoType } | { map: GoType } | { struct: GoStruct; nullable?: boolean };
export interface GoStruct {
  name: string;
  fields: Record<string, GoType>;
  required?: string[];
}

/** The problems Go would have decoding `value` into `type` at `path` (empty: it decodes). */
export function goDecodeProblems(value: unknown, type: GoType, path = '$'): string[] {
  if (value === null) return []; // null: the zero value, for every Go type
  if (type === 'any') return [];
  if (type === 'int') return typeof value === 'number' && Number.isInteger(value) ? [] : [`${path}: ${JSON.stringify(value)} is not a Go int`];
  if (type === 'string') return typeof value === 'string' ? [] : [`${path}: ${JSON.stringify(value)} is not a Go string`];
  if (type === 'bool') return typeof value === 'boolean' ? [] : [`${path}: ${JSON.stringify(value)} is not a Go bool`];
  if ('list' in type) return Array.isArray(value) ? value.flatMap((v, i) => goDecodeProblems(v, type.list, `${path}[${i}]`)) : [`${path}: not a JSON list`];
  if ('map' in type) {
    if (typeof value !== 'object' || Array.isArray(value)) return [`${path}: not a JSON object`];
    return Object.entries(value).flatMap(([k, v]) => goDecodeProblems(v, type.map, `${path}.${k}`));
  }
  if (typeof value !== 'object' || Array.isArray(value)) return [`${path}: not a JSON object (${type.struct.name})`];
  const obj = value as Record<string, unknown>;
  const out: string[] = [];
  for (const req of type.struct.required ?? []) if (!(req in obj)) out.push(`${path}.${req}: missing (${type.struct.name})`);
  for (const [k, v] of Object.entries(obj)) {
    const field = type.struct.fields[k];
    if (field !== undefined) out.push(...goDecodeProblems(v, field, `${path}.${k}`));
  }
  return out;
}

const instanceVars: GoType = { map: 'any' };

/** atc.Build (atc/build.go) */
export const BUILD: GoStruct = {
  name: 'atc.Build',
  fields: {
    id: 'int',
    team_name: 'string',
    name: 'string',
    status: 'string',
    api_url: 'string',
    comment: 'string',
    job_name: 'string',
    resource_name: 'string',
    pipeline_id: 'int',
    pipeline_name: 'string',
    pipeline_instance_vars: instanceVars,
    start_time: 'int',
    end_time: 'int',
    reap_time: 'int',
    rerun_number: 'int',
    rerun_of: { struct: { name: 'atc.RerunOfBuild', fields: { id: 'int', name: 'string' } } },
    created_by: 'string',
  },
  required: ['id', 'team_name', 'name', 'status', 'api_url'],
};

/** atc.Pipeline (atc/pipeline.go) */
export const PIPELINE: GoStruct = {
  name: 'atc.Pipeline',
  fields: {
    id: 'int',
    name: 'string',
    instance_vars: instanceVars,
    paused: 'bool',
    paused_by: 'string',
    paused_at: 'int',
    public: 'bool',
    archived: 'bool',
    groups: { list: { struct: { name: 'atc.GroupConfig', fields: { name: 'string', jobs: { list: 'string' }, resources: { list: 'string' } } } } },
    team_name: 'string',
    display: { struct: { name: 'atc.DisplayConfig', fields: { background_image: 'string', background_filter: 'string' } } },
    user_data: 'any',
    parent_build_id: 'int',
    parent_job_id: 'int',
    last_updated: 'int',
  },
  required: ['id', 'name', 'paused', 'public', 'archived', 'team_name'],
};

/** atc.Job (atc/job.go) */
export const JOB: GoStruct = {
  name: 'atc.Job',
  fields: {
    id: 'int',
    name: 'string',
    team_name: 'string',
    pipeline_id: 'int',
    pipeline_name: 'string',
    pipeline_instance_vars: instanceVars,
    paused: 'bool',
    paused_by: 'string',
    paused_at: 'int',
    has_new_inputs: 'bool',
    groups: { list: 'string' },
    first_logged_build_id: 'int',
    disable_manual_trigger: 'bool',
    disable_reruns: 'bool',
    next_build: { struct: BUILD },
    finished_build: { struct: BUILD },
    transition_build: { struct: BUILD },
    inputs: { list: { struct: { name: 'atc.JobInput', fields: { name: 'string', resource: 'string', type: 'string', passed: { list: 'string' }, trigger: 'bool' } } } },
    outputs: { list: { struct: { name: 'atc.JobOutput', fields: { name: 'string', resource: 'string' } } } },
  },
  required: ['id', 'name', 'team_name', 'pipeline_id', 'pipeline_name', 'next_build', 'finished_build'],
};

/** atc.UserInfo (atc/user.go) */
export const USER_INFO: GoStruct = {
  name: 'atc.UserInfo',
  fields: { sub: 'string', name: 'string', user_id: 'string', user_name: 'string', email: 'string', is_admin: 'bool', is_system: 'bool', teams: { map: { list: 'string' } }, connector: 'string', display_user_id: 'string' },
  required: ['sub', 'name', 'user_id', 'user_name', 'email', 'is_admin', 'is_system', 'teams', 'connector', 'display_user_id'],
};

/** atc.SaveConfigResponse (atc/responses.go) with atc.ConfigWarning (atc/configwarning.go) */
export const SAVE_CONFIG_RESPONSE: GoStruct = {
  name: 'atc.SaveConfigResponse',
  fields: { errors: { list: 'string' }, warnings: { list: { struct: { name: 'atc.ConfigWarning', fields: { type: 'string', message: 'string' }, required: ['type', 'message'] } } } },
};

/** atc.BuildInput (atc/job.go), ListJobInputs' items (atc/api/present/build_input.go) */
export const BUILD_INPUT: GoStruct = {
  name: 'atc.BuildInput',
  fields: { name: 'string', resource: 'string', type: 'string', source: { map: 'any' }, params: { map: 'any' }, version: { map: 'string' }, tags: { list: 'string' } },
  required: ['name', 'resource', 'type'],
};

/** event.Message (atc/event/events.go): the data of each SSE `event` */
export const EVENT_MESSAGE: GoStruct = { name: 'event.Message', fields: { event: 'string', version: 'string', data: 'any' }, required: ['event', 'version', 'data'] };
