// The API's JSON (src/api/wire.ts) from the storage layer's records and views: pipelines,
// resources and their types, builds and jobs. The rows come from src/db (views.ts for what only
// the API reads); this module only shapes them.
import { globMatch } from '../config/index.ts';
import { runningBuildsOfTeam, summaryOf, teamBuildsAmong, type BuildRecord, type BuildSummary } from '../db/builds.ts';
import type { Runtime } from '../runtime/runtime.ts';
import type { Queryable } from '../db/database.ts';
import type { JobRecord } from '../db/jobs.ts';
import type { PipelineRef } from '../db/pipelines.ts';
import { teamNames } from '../db/teams.ts';
import {
  jobInputViews,
  listPipelineViews,
  jobOutputViews,
  type JobInputView,
  type JobOutputView,
  type PipelineView,
  type ResourceTypeView,
  type ResourceView,
} from '../db/views.ts';
import type * as wire from './wire.ts';

export function describePipeline(ref: PipelineRef): string {
  const iv = ref.instanceVars && Object.keys(ref.instanceVars).length > 0 ? JSON.stringify(ref.instanceVars) : '';
  return `pipeline ${ref.team}/${ref.name}${iv}`;
}

export const unix = (d: Date): number => Math.floor(d.getTime() / 1000);

// ------------------------------------------------------------------------------ pipelines

/**
 * The pipelines a caller sees across teams (GET /pipelines, /jobs, /resources): every pipeline of
 * the caller's teams (an admin's are every team), and the public ones of the others
 * (atc/api/pipelineserver/list_all.go). Archived ones only when asked, and only the caller's.
 */
export async function visiblePipelineViews(db: Queryable, user: { teams: readonly string[]; isAdmin: boolean } | null, includeArchived: boolean): Promise<PipelineView[]> {
  const mine = [...(user?.teams ?? [])];
  // an admin's teams are every team already
  const others = user?.isAdmin ? [] : (await teamNames(db)).filter((t) => !mine.includes(t));
  const [own, shared] = await Promise.all([listPipelineViews(db, mine, includeArchived), others.length > 0 ? listPipelineViews(db, others, false) : Promise.resolve([])]);
  return [...own, ...shared.filter((p) => p.public)];
}

export function pipelineJson(p: PipelineView): wire.Pipeline {
  return {
    id: p.id,
    name: p.name,
    instance_vars: p.instanceVars ?? undefined,
    paused: p.paused,
    paused_by: p.pausedBy ?? undefined,
    paused_at: p.pausedAt ? unix(p.pausedAt) : undefined,
    public: p.public,
    archived: p.archived,
    // the config's groups, validated when the pipeline was set
    groups: p.groups.length > 0 ? (p.groups as wire.PipelineGroup[]) : undefined,
    team_name: p.team,
    display: p.display ?? undefined,
    last_updated: unix(p.lastUpdated),
    parent_build_id: p.parentBuildId ?? undefined,
    parent_job_id: p.parentJobId ?? undefined,
  };
}

// ------------------------------------------------------------------------------ resources

export function resourceJson(r: ResourceView, p: PipelineView): wire.Resource {
  const icon = typeof r.config.icon === 'string' ? r.config.icon : undefined;
  const b = r.lastCheckBuild;
  return {
    name: r.name,
    pipeline_id: p.id,
    pipeline_name: p.name,
    pipeline_instance_vars: p.instanceVars ?? undefined,
    team_name: p.team,
    type: r.type,
    last_checked: r.lastChecked ? unix(r.lastChecked) : undefined,
    icon,
    pinned_version: r.pinnedVersion ?? undefined,
    pinned_in_config: r.pinnedInConfig || undefined,
    pin_comment: r.pinComment || undefined,
    build: b
      ? {
          id: b.id,
          name: b.name,
          status: b.status as wire.BuildStatus,
          ...(b.startTime ? { start_time: unix(b.startTime) } : {}),
          ...(b.endTime ? { end_time: unix(b.endTime) } : {}),
        }
      : undefined,
  };
}

/** A resource type as Concourse lists it; `source` is left out (it may hold secrets). */
export function resourceTypeJson(t: ResourceTypeView): wire.ResourceType {
  // the config was validated when the pipeline was set
  const c = t.config as { privileged?: unknown; check_every?: string; tags?: string[]; params?: Record<string, unknown>; defaults?: Record<string, unknown> };
  return {
    name: t.name,
    type: t.type,
    privileged: c.privileged === true || undefined,
    check_every: c.check_every,
    tags: c.tags,
    params: c.params,
    defaults: c.defaults,
    last_checked: t.lastChecked ? unix(t.lastChecked) : undefined,
  };
}

// ------------------------------------------------------------------------------ builds and jobs

export function buildJson(b: BuildRecord, externalUrl: string): wire.Build {
  return buildSummaryJson(summaryOf(b), externalUrl);
}

/** A build as the API shows it, in a list or alone. */
export function buildSummaryJson(b: BuildSummary, externalUrl: string): wire.Build {
  return {
    id: b.id,
    team_name: b.teamName,
    name: b.name,
    status: b.status,
    job_name: b.jobName ?? undefined,
    pipeline_id: b.pipelineId ?? undefined,
    pipeline_name: b.pipelineName ?? undefined,
    pipeline_instance_vars: b.pipelineInstanceVars ?? undefined,
    start_time: b.startUnix ?? undefined,
    end_time: b.endUnix ?? undefined,
    reap_time: b.reapUnix ?? undefined,
    api_url: `${externalUrl.replace(/\/$/, '')}/api/v1/builds/${b.id}`,
    rerun_number: b.rerunNumber || undefined,
    rerun_of: b.rerunOf !== null ? { id: b.rerunOf, name: b.rerunOfName ?? '' } : undefined,
    // Jetway: what the build spent, e.g. {"step": {"task": 1}, "image": {}} (pods on Kubernetes)
    containers_created: b.containersCreated,
    created_by: b.createdBy ?? undefined,
    comment: b.comment || undefined,
  };
}

export interface JobBuilds {
  nextBuild: BuildSummary | null;
  finishedBuild: BuildSummary | null;
  transitionBuild: BuildSummary | null;
}

/**
 * A job as Concourse presents it (inputs/outputs from job_inputs/job_outputs, groups from the
 * pipeline). `views`: the job's inputs and outputs read already (jobViewsOfPipelines, for lists).
 */
export async function jobJson(
  db: Queryable,
  job: JobRecord,
  builds: JobBuilds,
  p: PipelineView,
  externalUrl: string,
  views?: { inputs: readonly JobInputView[]; outputs: readonly JobOutputView[] },
): Promise<wire.Job> {
  const inputs = inputsByName(views ? views.inputs : await jobInputViews(db, job.id), (row) => {
    const input: wire.JobInput = { name: row.name, resource: row.resource, trigger: row.trigger };
    if (row.version !== 'latest') input.version = row.version === 'every' ? { every: true } : { pinned: row.version as wire.Version };
    return input;
  });
  const outputs = views ? views.outputs : await jobOutputViews(db, job.id);
  const groups = jobGroups(p, job.name);
  const b = (x: BuildSummary | null): wire.Build | undefined => (x ? buildSummaryJson(x, externalUrl) : undefined);
  return {
    id: job.id,
    name: job.name,
    team_name: p.team,
    pipeline_id: p.id,
    pipeline_name: p.name,
    pipeline_instance_vars: p.instanceVars ?? undefined,
    paused: job.paused || undefined,
    has_new_inputs: job.hasNewInputs || undefined,
    disable_manual_trigger: job.disableManualTrigger || undefined,
    groups,
    next_build: b(builds.nextBuild) ?? null,
    finished_build: b(builds.finishedBuild) ?? null,
    transition_build: b(builds.transitionBuild),
    inputs,
    outputs: outputs.map((o) => ({ name: o.name, resource: o.resource })),
  };
}

/**
 * A job's inputs, one per name in config order, from its rows (one per input and `passed` job):
 * `first` makes an input from its first row; the rows' `passed` jobs are gathered on it.
 */
export function inputsByName<T extends { passed?: string[] }>(rows: readonly JobInputView[], first: (row: JobInputView) => T): T[] {
  const byName = new Map<string, T>();
  for (const row of rows) {
    let input = byName.get(row.name);
    if (!input) byName.set(row.name, (input = first(row)));
    if (row.passed) (input.passed ??= []).push(row.passed);
  }
  return [...byName.values()];
}

/** The pipeline's groups that show the job (their `jobs` are glob patterns). */
export function jobGroups(p: PipelineView, job: string): string[] {
  return p.groups
    .filter((g): g is { name: string; jobs?: string[] } => typeof g === 'object' && g !== null && 'name' in g)
    .filter((g) => (g.jobs ?? []).some((pattern) => globMatch(pattern, job)))
    .map((g) => g.name);
}

/** The most builds searched for a team's containers (its running builds, and those with kept containers). */
export const MAX_CONTAINER_BUILDS = 200;

/**
 * The team's builds that may hold containers: its running builds, and the builds whose failed
 * step's container the runtime keeps for intercept after they ended (issue 19). Bounded.
 */
export async function buildsWithContainers(db: Queryable, runtime: Pick<Runtime, 'containerBuildIds'>, team: string): Promise<BuildRecord[]> {
  const builds = await runningBuildsOfTeam(db, team, MAX_CONTAINER_BUILDS);
  const running = new Set(builds.map((b) => b.id));
  // the runtime's ids are every team's: filtered to this team's in one statement, then bounded
  const kept = ((await runtime.containerBuildIds?.().catch(() => [])) ?? []).filter((id) => !running.has(id));
  builds.push(...(await teamBuildsAmong(db, team, kept, MAX_CONTAINER_BUILDS)));
  return builds;
}
