// Concourse's ListContainers filters (atc/api/containerserver/list.go createContainerLocatorFromRequest),
// which a stock `fly intercept -j P/J -s STEP` sends (fly/commands/hijack.go's locators) and then
// takes the only match without asking: unfiltered, any one container of the team would be entered.
// No query: every container of the team. `type=check`: check containers by resource_name and
// pipeline. Otherwise each given field must equal the container's. `attempt` is accepted and not
// matched: Jetway's containers do not record attempts (a retried step's containers are all listed).
import { badRequest } from './errors.ts';
import { instanceVarsFrom } from './context.ts';
import { canonicalJson } from '../model/version.ts';
import type { TeamContainer } from './wire.ts';

/** db.ContainerTypeFromString's names (atc/db/container_metadata.go). */
const CONTAINER_TYPES = new Set(['check', 'get', 'put', 'task', 'run']);

export interface ContainerFilter {
  type?: string;
  stepName?: string;
  resourceName?: string;
  pipelineId?: number;
  jobId?: number;
  buildId?: number;
  pipelineName?: string;
  instanceVars?: Record<string, unknown>;
  jobName?: string;
  buildName?: string;
}

function text(query: Record<string, unknown>, name: string): string | undefined {
  const raw = query[name];
  const value = Array.isArray(raw) ? raw[0] : raw;
  return typeof value === 'string' && value !== '' ? value : undefined;
}

/** parseIntParam: a number, or Concourse's 400 naming the parameter. */
function int(query: Record<string, unknown>, name: string): number | undefined {
  const value = text(query, name);
  if (value === undefined) return undefined;
  if (!/^[+-]?\d{1,15}$/.test(value)) throw badRequest(`non-numeric '${name}' param (${value})`);
  return Number(value);
}

/** The filter a ListContainers query asks for; a bad type or number is a 400. */
export function containerFilterFrom(query: unknown): ContainerFilter {
  const q = typeof query === 'object' && query !== null ? (query as Record<string, unknown>) : {};
  const filter: ContainerFilter = {};
  const set = <K extends keyof ContainerFilter>(key: K, value: ContainerFilter[K] | undefined): void => {
    if (value !== undefined) filter[key] = value;
  };
  const type = text(q, 'type');
  if (type !== undefined && !CONTAINER_TYPES.has(type)) throw badRequest(`unrecognized containerType: ${type}`);
  set('type', type);
  set('pipelineName', text(q, 'pipeline_name'));
  set('instanceVars', instanceVarsFrom(q) ?? undefined);
  if (type === 'check') {
    set('resourceName', text(q, 'resource_name'));
    return filter;
  }
  set('stepName', text(q, 'step_name'));
  set('pipelineId', int(q, 'pipeline_id'));
  set('jobId', int(q, 'job_id'));
  set('buildId', int(q, 'build_id'));
  set('jobName', text(q, 'job_name'));
  set('buildName', text(q, 'build_name'));
  // `attempt` is not matched (see above)
  return filter;
}

/** Whether the container is one the filter asks for. */
export function containerMatches(c: TeamContainer, f: ContainerFilter): boolean {
  const same = (want: string | number | undefined, have: string | number | undefined): boolean => want === undefined || want === have;
  if (f.instanceVars && canonicalJson(f.instanceVars) !== canonicalJson(c.pipeline_instance_vars ?? null)) return false;
  return (
    same(f.type, c.type) &&
    same(f.resourceName, f.type === 'check' ? c.step_name : undefined) &&
    same(f.stepName, c.step_name) &&
    same(f.pipelineId, c.pipeline_id) &&
    same(f.jobId, c.job_id) &&
    same(f.buildId, c.build_id) &&
    same(f.pipelineName, c.pipeline_name) &&
    same(f.jobName, c.job_name) &&
    same(f.buildName, c.build_name)
  );
}
