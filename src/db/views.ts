// The API's read views: pipelines with their groups, resources and resource types as the API
// shows them (last check, pin), versions a page at a time, jobs' inputs and outputs, and the
// small lookups behind the version routes. Typed rows only: the API maps them to its JSON.
import { LAST_CHECK } from './in-memory-checks.ts';
import type { Queryable, Row } from './database.ts';
import { keysetPage, type PageRequest, type PageResult } from './keyset.ts';
import type { PipelineRef } from './pipelines.ts';

type JsonObject = Record<string, unknown>;

const ivParam = (ref: PipelineRef): string | null =>
  ref.instanceVars && Object.keys(ref.instanceVars).length > 0 ? JSON.stringify(ref.instanceVars) : null;

// ------------------------------------------------------------------------------ pipelines

export interface PipelineView {
  id: number;
  team: string;
  name: string;
  instanceVars: JsonObject | null;
  paused: boolean;
  pausedBy: string | null;
  pausedAt: Date | null;
  archived: boolean;
  public: boolean;
  groups: unknown[];
  display: JsonObject | null;
  lastUpdated: Date;
  version: number;
  /** the job and build whose set_pipeline step set it (atc.Pipeline's parent_job_id / parent_build_id) */
  parentJobId: number | null;
  parentBuildId: number | null;
}

interface PipelineViewRow extends Row {
  id: number;
  team: string;
  name: string;
  instance_vars: JsonObject | null;
  paused: boolean;
  paused_by: string | null;
  paused_at: Date | null;
  archived: boolean;
  public: boolean;
  groups: unknown[];
  display: JsonObject | null;
  last_updated: Date;
  version: number;
  parent_job_id: number | null;
  parent_build_id: number | null;
}

const PIPELINE_VIEW = `SELECT p.id, t.name AS team, p.name, p.instance_vars, p.paused, p.paused_by, p.paused_at, p.archived,
    p.public, p.groups, p.display, p.last_updated, p.version, p.parent_job_id, p.parent_build_id
  FROM pipelines p JOIN teams t ON t.id = p.team_id`;

const toPipelineView = (r: PipelineViewRow): PipelineView => ({
  id: r.id,
  team: r.team,
  name: r.name,
  instanceVars: r.instance_vars,
  paused: r.paused,
  pausedBy: r.paused_by,
  pausedAt: r.paused_at,
  archived: r.archived,
  public: r.public,
  groups: r.groups,
  display: r.display,
  lastUpdated: r.last_updated,
  version: r.version,
  parentJobId: r.parent_job_id,
  parentBuildId: r.parent_build_id,
});

/** Pipelines of the given teams, in each team's order; archived ones only when asked for. */
export async function listPipelineViews(db: Queryable, teams: readonly string[], includeArchived = false): Promise<PipelineView[]> {
  const r = await db.query<PipelineViewRow>(
    `${PIPELINE_VIEW} WHERE t.name = ANY($1::text[]) AND ($2 OR NOT p.archived) ORDER BY t.name, p.ordering, p.secondary_ordering, p.id`,
    [teams, includeArchived],
  );
  return r.rows.map(toPipelineView);
}

export async function findPipelineView(db: Queryable, ref: PipelineRef): Promise<PipelineView | undefined> {
  const r = await db.query<PipelineViewRow>(
    `${PIPELINE_VIEW} WHERE t.name = $1 AND p.name = $2
       AND ((p.instance_vars IS NULL AND $3::jsonb IS NULL) OR p.instance_vars = $3::jsonb)`,
    [ref.team, ref.name, ivParam(ref)],
  );
  const row = r.rows[0];
  return row ? toPipelineView(row) : undefined;
}

/** The active jobs of a pipeline (to wake the scheduler for them). */
export async function activeJobIds(db: Queryable, pipelineId: number): Promise<number[]> {
  const r = await db.query<{ id: number }>('SELECT id FROM jobs WHERE pipeline_id = $1 AND active', [pipelineId]);
  return r.rows.map((row) => row.id);
}

/** The active resources of a pipeline (to wake the checker for them). */
export async function activeResourceIds(db: Queryable, pipelineId: number): Promise<number[]> {
  const r = await db.query<{ id: number }>('SELECT id FROM resources WHERE pipeline_id = $1 AND active', [pipelineId]);
  return r.rows.map((row) => row.id);
}

// ------------------------------------------------------------------------------ resources

export interface CheckBuildSummary {
  id: number;
  name: string;
  status: string;
  startTime: Date | null;
  endTime: Date | null;
}

export interface ResourceView {
  id: number;
  name: string;
  type: string;
  config: JsonObject;
  scopeId: number | null;
  lastChecked: Date | null;
  /** null while the resource has no scope (never checked) */
  lastCheckSucceeded: boolean | null;
  /** the latest check build: the scope's, or the resource's own when newer */
  lastCheckBuild: CheckBuildSummary | null;
  pinnedVersion: Record<string, string> | null;
  pinnedInConfig: boolean;
  pinComment: string | null;
}

interface ResourceRow extends Row {
  id: number;
  name: string;
  type: string;
  config: JsonObject;
  scope_id: number | null;
  last_checked: Date | null;
  last_check_succeeded: boolean | null;
  build_id: number | null;
  build_name: string | null;
  build_status: string | null;
  build_start: Date | null;
  build_end: Date | null;
  pinned_version: Record<string, string> | null;
  pinned_in_config: boolean | null;
  pin_comment: string | null;
}

const RESOURCE_VIEW = `SELECT r.id, r.name, r.type, r.config, r.resource_config_scope_id AS scope_id,
    s.last_check_end_time AS last_checked, s.last_check_succeeded,
    b.id AS build_id, b.name AS build_name, b.status AS build_status, b.start_time AS build_start, b.end_time AS build_end,
    pin.version AS pinned_version, pin.config AS pinned_in_config, pin.comment_text AS pin_comment
  FROM resources r
  LEFT JOIN resource_config_scopes s ON s.id = r.resource_config_scope_id
  LEFT JOIN LATERAL (${LAST_CHECK}) b ON true
  LEFT JOIN resource_pins pin ON pin.resource_id = r.id`;

const toResourceView = (r: ResourceRow): ResourceView => ({
  id: r.id,
  name: r.name,
  type: r.type,
  config: r.config,
  scopeId: r.scope_id,
  lastChecked: r.last_checked,
  lastCheckSucceeded: r.scope_id === null ? null : r.last_check_succeeded,
  lastCheckBuild:
    r.build_id === null
      ? null
      : { id: r.build_id, name: r.build_name ?? '', status: r.build_status ?? '', startTime: r.build_start, endTime: r.build_end },
  pinnedVersion: r.pinned_version,
  pinnedInConfig: r.pinned_in_config === true,
  pinComment: r.pin_comment,
});

/** The active resources of a pipeline, in config order. */
export async function listResourceViews(db: Queryable, pipelineId: number): Promise<ResourceView[]> {
  const r = await db.query<ResourceRow>(`${RESOURCE_VIEW} WHERE r.pipeline_id = $1 AND r.active ORDER BY r.ordering, r.id`, [pipelineId]);
  return r.rows.map(toResourceView);
}

/** The active resources of several pipelines in one statement, by pipeline, in their order. */
export async function listResourceViewsOfPipelines(db: Queryable, pipelineIds: readonly number[]): Promise<Map<number, ResourceView[]>> {
  const byPipeline = new Map<number, ResourceView[]>(pipelineIds.map((id) => [id, []]));
  if (pipelineIds.length === 0) return byPipeline;
  const r = await db.query<ResourceRow & { pipeline_id: number }>(
    `${RESOURCE_VIEW.replace('SELECT r.id,', 'SELECT r.pipeline_id, r.id,')} WHERE r.pipeline_id = ANY($1::int[]) AND r.active ORDER BY r.pipeline_id, r.ordering, r.id`,
    [pipelineIds],
  );
  for (const row of r.rows) byPipeline.get(row.pipeline_id)?.push(toResourceView(row));
  return byPipeline;
}

export async function findResourceView(db: Queryable, pipelineId: number, name: string): Promise<ResourceView | undefined> {
  const r = await db.query<ResourceRow>(`${RESOURCE_VIEW} WHERE r.pipeline_id = $1 AND r.name = $2 AND r.active`, [pipelineId, name]);
  const row = r.rows[0];
  return row ? toResourceView(row) : undefined;
}

export interface ResourceTypeView {
  name: string;
  type: string;
  config: JsonObject;
  lastChecked: Date | null;
}

/** The active resource types of a pipeline, in the order they were created. */
export async function listResourceTypeViews(db: Queryable, pipelineId: number): Promise<ResourceTypeView[]> {
  const r = await db.query<{ name: string; type: string; config: JsonObject; last_checked: Date | null }>(
    `SELECT rt.name, rt.type, rt.config, s.last_check_end_time AS last_checked
       FROM resource_types rt LEFT JOIN resource_config_scopes s ON s.id = rt.resource_config_scope_id
      WHERE rt.pipeline_id = $1 AND rt.active ORDER BY rt.id`,
    [pipelineId],
  );
  return r.rows.map((row) => ({ name: row.name, type: row.type, config: row.config, lastChecked: row.last_checked }));
}

// ------------------------------------------------------------------------------ versions

export interface ResourceVersionView extends Row {
  id: number;
  version: Record<string, string>;
  metadata: { name: string; value: string }[];
  enabled: boolean;
}

/**
 * The versions of a resource's current scope, newest (check_order) first, one page; `filter`
 * matches version fields; `enabled` is false for a version disabled for this resource.
 */
export async function pageResourceVersions(
  db: Queryable,
  resource: Pick<ResourceView, 'id' | 'scopeId'>,
  page: PageRequest,
  filter: Record<string, string>,
): Promise<PageResult<ResourceVersionView>> {
  if (resource.scopeId === null) return { rows: [] };
  // no filter, no containment test: `version @> '{}'` on every row was 60% of the page's time in
  // Postgres (0.5 ms → 0.2 ms a page of 100, BENCHMARKS.md part 11)
  const filtered = Object.keys(filter).length > 0;
  // the resource a parameter, never in the text: one prepared statement for every resource's
  // pages, not one per resource (the web node names only its first 2,000 texts, database.ts)
  return keysetPage<ResourceVersionView>(
    db,
    {
      source: `FROM resource_config_versions v
               LEFT JOIN resource_disabled_versions d ON d.resource_id = $2 AND d.version_digest = v.version_sha256
              WHERE v.resource_config_scope_id = $1${filtered ? ' AND v.version @> $3::jsonb' : ''}`,
      params: filtered ? [resource.scopeId, resource.id, JSON.stringify(filter)] : [resource.scopeId, resource.id],
      key: ['v.check_order', 'v.id'],
      id: 'v.id',
      select: 'v.id, v.version, v.metadata, d.resource_id IS NULL AS enabled',
      itemName: 'version',
    },
    page,
  );
}

export interface VersionRef {
  id: number;
  version: Record<string, string>;
  sha256: string;
  md5: string | null;
}

/** A version of a resource, by `resource_config_versions.id`, in the resource's current scope. */
export async function findResourceVersion(db: Queryable, resource: Pick<ResourceView, 'scopeId'>, versionId: number): Promise<VersionRef | undefined> {
  if (resource.scopeId === null) return undefined;
  const r = await db.query<{ id: number; version: Record<string, string>; sha256: string; md5: string | null }>(
    `SELECT id, version, version_sha256 AS sha256, version_md5 AS md5 FROM resource_config_versions
      WHERE id = $1 AND resource_config_scope_id = $2`,
    [versionId, resource.scopeId],
  );
  return r.rows[0];
}

/** Ids of the builds that had the version as an input (or output), newest first. */
export async function buildIdsWithVersion(db: Queryable, resourceId: number, v: VersionRef, kind: 'inputs' | 'outputs'): Promise<number[]> {
  const table = kind === 'inputs' ? 'build_resource_config_version_inputs' : 'build_resource_config_version_outputs';
  const r = await db.query<{ build_id: number }>(
    `SELECT DISTINCT build_id FROM ${table} WHERE resource_id = $1 AND version_digest = ANY($2::text[]) ORDER BY build_id DESC`,
    [resourceId, [v.sha256, ...(v.md5 ? [v.md5] : [])]],
  );
  return r.rows.map((row) => row.build_id);
}

/** Ids of the active jobs that use the resource as an input (to wake the scheduler for them). */
export async function jobIdsUsingResource(db: Queryable, resourceId: number): Promise<number[]> {
  const r = await db.query<{ job_id: number }>(
    `SELECT DISTINCT ji.job_id FROM job_inputs ji JOIN jobs j ON j.id = ji.job_id WHERE ji.resource_id = $1 AND j.active ORDER BY ji.job_id`,
    [resourceId],
  );
  return r.rows.map((row) => row.job_id);
}

/** The version a digest names in a resource's current scope. */
export async function versionByDigest(db: Queryable, resourceId: number, digest: string): Promise<Record<string, string> | undefined> {
  const r = await db.query<{ version: Record<string, string> }>(
    `SELECT v.version FROM resource_config_versions v JOIN resources r ON r.resource_config_scope_id = v.resource_config_scope_id
      WHERE r.id = $1 AND $2 IN (v.version_sha256, v.version_md5)`,
    [resourceId, digest],
  );
  return r.rows[0]?.version;
}

// ------------------------------------------------------------------------------ jobs

/** One row per input and `passed` job (an input with several has several rows, in order). */
export interface JobInputView {
  name: string;
  resource: string;
  trigger: boolean;
  /** 'latest', 'every', or the pinned version */
  version: unknown;
  passed: string | null;
}

export interface JobOutputView {
  name: string;
  resource: string;
}

export async function jobInputViews(db: Queryable, jobId: number): Promise<JobInputView[]> {
  const r = await db.query<JobInputView & Row>(
    `SELECT ji.name, r.name AS resource, ji.trigger, ji.version, pj.name AS passed
       FROM job_inputs ji JOIN resources r ON r.id = ji.resource_id LEFT JOIN jobs pj ON pj.id = ji.passed_job_id
      WHERE ji.job_id = $1 ORDER BY ji.id`,
    [jobId],
  );
  return r.rows;
}

export async function jobOutputViews(db: Queryable, jobId: number): Promise<JobOutputView[]> {
  const r = await db.query<JobOutputView & Row>(
    `SELECT o.name, r.name AS resource FROM job_outputs o JOIN resources r ON r.id = o.resource_id WHERE o.job_id = $1 ORDER BY o.name`,
    [jobId],
  );
  return r.rows;
}

/**
 * The inputs and outputs of every active job of the pipelines, by job id, in two statements (the
 * jobs list asked twice per job before: 20 statements for 10 jobs, bench/api.ts). Rows as
 * jobInputViews and jobOutputViews give them, in the same order.
 */
export async function jobViewsOfPipelines(
  db: Queryable,
  pipelineIds: readonly number[],
): Promise<Map<number, { inputs: JobInputView[]; outputs: JobOutputView[] }>> {
  const out = new Map<number, { inputs: JobInputView[]; outputs: JobOutputView[] }>();
  if (pipelineIds.length === 0) return out;
  const of = (jobId: number) => {
    let v = out.get(jobId);
    if (!v) out.set(jobId, (v = { inputs: [], outputs: [] }));
    return v;
  };
  const [inputs, outputs] = await Promise.all([
    db.query<JobInputView & Row & { job_id: number }>(
      `SELECT ji.job_id, ji.name, r.name AS resource, ji.trigger, ji.version, pj.name AS passed
         FROM jobs j JOIN job_inputs ji ON ji.job_id = j.id JOIN resources r ON r.id = ji.resource_id LEFT JOIN jobs pj ON pj.id = ji.passed_job_id
        WHERE j.pipeline_id = ANY($1::int[]) AND j.active ORDER BY ji.job_id, ji.id`,
      [[...pipelineIds]],
    ),
    db.query<JobOutputView & Row & { job_id: number }>(
      `SELECT o.job_id, o.name, r.name AS resource
         FROM jobs j JOIN job_outputs o ON o.job_id = j.id JOIN resources r ON r.id = o.resource_id
        WHERE j.pipeline_id = ANY($1::int[]) AND j.active ORDER BY o.job_id, o.name`,
      [[...pipelineIds]],
    ),
  ]);
  for (const { job_id, ...row } of inputs.rows) of(job_id).inputs.push(row);
  for (const { job_id, ...row } of outputs.rows) of(job_id).outputs.push(row);
  return out;
}

/** A build as a job summary shows it (atc.BuildSummary): times in Unix seconds, read so by SQL. */
export interface BuildSummaryView {
  id: number;
  name: string;
  status: string;
  startTime: number | null;
  endTime: number | null;
}

/**
 * A job as the dashboard's list shows it (atc.JobSummary) but for its inputs and outputs, which
 * change only with the pipeline's config (jobViewsOfPipelines): no config, three build summaries.
 */
export interface JobSummaryView {
  id: number;
  name: string;
  pipelineId: number;
  paused: boolean;
  pausedBy: string | null;
  pausedAt: number | null;
  hasNewInputs: boolean;
  finishedBuild: BuildSummaryView | null;
  nextBuild: BuildSummaryView | null;
  transitionBuild: BuildSummaryView | null;
}

const SUMMARY_BUILDS = { fb: 'latest_completed_build_id', nb: 'next_build_id', tb: 'transition_build_id' } as const;

/**
 * The active jobs of the pipelines with their finished, next and transition builds, by pipeline
 * in config order, in one statement reading only what a summary shows (GET /api/v1/jobs over a
 * thousand pipelines: issue 23). Plain columns: pg reads them faster than a json value a build.
 */
export async function jobSummariesOfPipelines(db: Queryable, pipelineIds: readonly number[]): Promise<Map<number, JobSummaryView[]>> {
  const byPipeline = new Map<number, JobSummaryView[]>(pipelineIds.map((id) => [id, []]));
  if (pipelineIds.length === 0) return byPipeline;
  const cols = Object.keys(SUMMARY_BUILDS)
    .map(
      (a) => `${a}.id AS ${a}_id, ${a}.name AS ${a}_name, ${a}.status AS ${a}_status,
        extract(epoch FROM ${a}.start_time)::bigint AS ${a}_start, extract(epoch FROM ${a}.end_time)::bigint AS ${a}_end`,
    )
    .join(',\n');
  const joins = Object.entries(SUMMARY_BUILDS)
    .map(([a, col]) => `LEFT JOIN builds ${a} ON ${a}.id = j.${col}`)
    .join('\n');
  const r = await db.query<Row>(
    `SELECT j.id, j.name, j.pipeline_id, j.paused, j.paused_by, extract(epoch FROM j.paused_at)::bigint AS paused_at, j.has_new_inputs,
       ${cols}
       FROM jobs j
       ${joins}
      WHERE j.pipeline_id = ANY($1::int[]) AND j.active ORDER BY j.pipeline_id, j.ordering, j.id`,
    [[...pipelineIds]],
  );
  const build = (row: Row, a: keyof typeof SUMMARY_BUILDS): BuildSummaryView | null =>
    row[`${a}_id`] == null
      ? null
      : {
          id: row[`${a}_id`] as number,
          name: row[`${a}_name`] as string,
          status: row[`${a}_status`] as string,
          startTime: (row[`${a}_start`] as number | null) ?? null,
          endTime: (row[`${a}_end`] as number | null) ?? null,
        };
  for (const row of r.rows) {
    byPipeline.get(row.pipeline_id as number)?.push({
      id: row.id as number,
      name: row.name as string,
      pipelineId: row.pipeline_id as number,
      paused: row.paused as boolean,
      pausedBy: (row.paused_by as string | null) ?? null,
      pausedAt: (row.paused_at as number | null) ?? null,
      hasNewInputs: row.has_new_inputs as boolean,
      finishedBuild: build(row, 'fb'),
      nextBuild: build(row, 'nb'),
      transitionBuild: build(row, 'tb'),
    });
  }
  return byPipeline;
}
