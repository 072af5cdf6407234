// The build store (docs/concourse-semantics.md §4.4, §6, §7): creating builds (manual trigger, rerun,
// one-off, check), their lifecycle (start, finish, abort), their events, inputs and outputs,
// and reading them back.
import type { BuildEvent, BuildEventData, BuildEventType, BuildStatus } from '../model/build-events.ts';
import type { Plan } from '../model/plan.ts';
import { publicPlan } from '../model/public-plan.ts';
import type { Queryable } from './database.ts';
import { ConflictError, NotFoundError } from './errors.ts';
import { saveVersions } from './versions.ts';
import { versionDigest } from '../model/version.ts';
import type { MetadataField } from '../model/version.ts';
import type { Version } from '../model/version.ts';

export type { BuildStatus } from '../model/build-events.ts';

export const TERMINAL_STATUSES: readonly BuildStatus[] = ['succeeded', 'failed', 'errored', 'aborted'];

export interface BuildRecord {
  id: number;
  name: string;
  teamId: number;
  teamName: string;
  jobId: number | null;
  jobName: string | null;
  pipelineId: number | null;
  pipelineName: string | null;
  pipelineInstanceVars: Record<string, unknown> | null;
  /** Check builds: the resource or resource type checked. */
  resourceId: number | null;
  resourceTypeId: number | null;
  status: BuildStatus;
  manuallyTriggered: boolean;
  scheduled: boolean;
  inputsReady: boolean;
  rerunOf: number | null;
  rerunOfName: string | null;
  rerunNumber: number;
  aborted: boolean;
  completed: boolean;
  createTime: Date;
  startTime: Date | null;
  endTime: Date | null;
  reapTime: Date | null;
  createdBy: string | null;
  comment: string;
  /** containers (pods) the build created, by purpose (step, image) and step type */
  containersCreated: ContainerCounts;
}

export type ContainerCounts = Record<string, Record<string, number>>;

export interface BuildRow extends Record<string, unknown> {
  id: number;
  name: string;
  team_id: number;
  team_name: string;
  job_id: number | null;
  job_name: string | null;
  pipeline_id: number | null;
  pipeline_name: string | null;
  pipeline_instance_vars: Record<string, unknown> | null;
  resource_id: number | null;
  resource_type_id: number | null;
  status: BuildStatus;
  manually_triggered: boolean;
  scheduled: boolean;
  inputs_ready: boolean;
  rerun_of: number | null;
  rerun_of_name: string | null;
  rerun_number: number;
  aborted: boolean;
  completed: boolean;
  create_time: Date;
  start_time: Date | null;
  end_time: Date | null;
  reap_time: Date | null;
  created_by: string | null;
  comment: string;
  containers_created: ContainerCounts;
}

/**
 * The SELECT list (BUILD_COLUMNS) and joins (BUILD_FROM: b the build, t its team, j its job, p its
 * pipeline) giving a BuildRow. rerun_of_name is a subquery, not a join of builds to itself: the
 * planner costed that join as a hash of every build (12 ms a page at 11,000 builds,
 * bench/api.ts); the subquery is one index probe a row.
 */
export const BUILD_COLUMNS = `b.id, b.name, b.team_id, t.name AS team_name, b.job_id, j.name AS job_name,
    b.pipeline_id, p.name AS pipeline_name, p.instance_vars AS pipeline_instance_vars, b.resource_id,
    b.resource_type_id, b.status, b.manually_triggered, b.scheduled, b.inputs_ready, b.rerun_of,
    (SELECT ob.name FROM builds ob WHERE ob.id = b.rerun_of) AS rerun_of_name, b.rerun_number, b.aborted,
    b.completed, b.create_time, b.start_time, b.end_time, b.reap_time, b.created_by, b.comment, b.containers_created`;
/** What BUILD_COLUMNS reads beside the build `b`: its team, job and pipeline. */
const BUILD_JOINS = `JOIN teams t ON t.id = b.team_id
  LEFT JOIN jobs j ON j.id = b.job_id
  LEFT JOIN pipelines p ON p.id = b.pipeline_id`;
export const BUILD_FROM = `FROM builds b
  ${BUILD_JOINS}`;
export const BUILD_SELECT = `SELECT ${BUILD_COLUMNS}
  ${BUILD_FROM}`;

export function toBuildRecord(r: BuildRow): BuildRecord {
  return {
    id: r.id,
    name: r.name,
    teamId: r.team_id,
    teamName: r.team_name,
    jobId: r.job_id,
    jobName: r.job_name,
    pipelineId: r.pipeline_id,
    pipelineName: r.pipeline_name,
    pipelineInstanceVars: r.pipeline_instance_vars,
    resourceId: r.resource_id,
    resourceTypeId: r.resource_type_id,
    status: r.status,
    manuallyTriggered: r.manually_triggered,
    scheduled: r.scheduled,
    inputsReady: r.inputs_ready,
    rerunOf: r.rerun_of,
    rerunOfName: r.rerun_of_name,
    rerunNumber: r.rerun_number,
    aborted: r.aborted,
    completed: r.completed,
    createTime: r.create_time,
    startTime: r.start_time,
    endTime: r.end_time,
    reapTime: r.reap_time,
    createdBy: r.created_by,
    comment: r.comment,
    containersCreated: r.containers_created ?? {},
  };
}

export async function getBuild(db: Queryable, buildId: number): Promise<BuildRecord | undefined> {
  const r = await db.query<BuildRow>(`${BUILD_SELECT} WHERE b.id = $1`, [buildId]);
  const row = r.rows[0];
  return row ? toBuildRecord(row) : undefined;
}

/** Rows of `select` for several build ids, in one statement, by id. */
async function buildsById<R extends Record<string, unknown> & { id: number }, T>(
  db: Queryable,
  select: string,
  buildIds: readonly number[],
  to: (row: R) => T,
): Promise<Map<number, T>> {
  const out = new Map<number, T>();
  if (buildIds.length === 0) return out;
  const r = await db.query<R>(`${select} WHERE b.id = ANY($1::int[])`, [[...new Set(buildIds)]]);
  for (const row of r.rows) out.set(row.id, to(row));
  return out;
}

/** Several whole builds by id (a page's pending builds, for their reasons). */
export function getBuilds(db: Queryable, buildIds: readonly number[]): Promise<Map<number, BuildRecord>> {
  return buildsById(db, BUILD_SELECT, buildIds, toBuildRecord);
}

/** Several builds by id as lists show them (a job's next, finished and transition builds). */
export function getBuildSummaries(db: Queryable, buildIds: readonly number[]): Promise<Map<number, BuildSummary>> {
  return buildsById(db, SUMMARY_SELECT, buildIds, toBuildSummary);
}

export async function mustGetBuild(db: Queryable, buildId: number): Promise<BuildRecord> {
  const build = await getBuild(db, buildId);
  if (!build) throw new NotFoundError(`build ${buildId} not found`);
  return build;
}

/** A job's build by name (`42`, or `42.1` for a rerun). */
export async function findJobBuild(db: Queryable, jobId: number, name: string): Promise<BuildRecord | undefined> {
  const r = await db.query<BuildRow>(`${BUILD_SELECT} WHERE b.job_id = $1 AND b.name = $2`, [jobId, name]);
  const row = r.rows[0];
  return row ? toBuildRecord(row) : undefined;
}

export interface BuildPlans {
  /** The private plan (sources, params): for the engine only. */
  plan: Plan | null;
  /** The public plan (no sources or params): for the API. */
  publicPlan: Plan | null;
}

export async function getBuildPlans(db: Queryable, buildId: number): Promise<BuildPlans | undefined> {
  const r = await db.query<{ plan: Plan | null; public_plan: Plan | null }>(
    'SELECT plan, public_plan FROM builds WHERE id = $1',
    [buildId],
  );
  const row = r.rows[0];
  return row ? { plan: row.plan, publicPlan: row.public_plan } : undefined;
}

// ------------------------------------------------------------------------------ listing

export interface Page {
  /** Builds with id ≥ from (the page just newer than a previous one). */
  from?: number;
  /** Builds with id ≤ to. */
  to?: number;
  /** Default 100. */
  limit?: number;
}

/**
 * A build as a list shows it (Concourse's atc.Build in a page of builds): the API's fields only,
 * times in Unix seconds. Lists read this, not BuildRecord: a page of 100 reads 17 columns instead
 * of 27 and no timestamp is parsed, which is most of such a request's CPU (BENCHMARKS.md, api_rps).
 */
export type BuildSummary = Pick<
  BuildRecord,
  | 'id' | 'name' | 'teamName' | 'jobId' | 'jobName' | 'pipelineId' | 'pipelineName' | 'pipelineInstanceVars' | 'status'
  | 'rerunOf' | 'rerunOfName' | 'rerunNumber' | 'createdBy' | 'comment' | 'containersCreated'
> & { startUnix: number | null; endUnix: number | null; reapUnix: number | null };

const unixOf = (d: Date | null): number | null => (d === null ? null : Math.floor(d.getTime() / 1000));

/** The summary of a build read whole (one build's JSON is the same shape as a listed one's). */
export function summaryOf(b: BuildRecord): BuildSummary {
  return {
    id: b.id,
    name: b.name,
    teamName: b.teamName,
    jobId: b.jobId,
    jobName: b.jobName,
    pipelineId: b.pipelineId,
    pipelineName: b.pipelineName,
    pipelineInstanceVars: b.pipelineInstanceVars,
    status: b.status,
    startUnix: unixOf(b.startTime),
    endUnix: unixOf(b.endTime),
    reapUnix: unixOf(b.reapTime),
    rerunOf: b.rerunOf,
    rerunOfName: b.rerunOfName,
    rerunNumber: b.rerunNumber,
    createdBy: b.createdBy,
    comment: b.comment,
    containersCreated: b.containersCreated,
  };
}

interface BuildSummaryRow extends Record<string, unknown> {
  id: number;
  name: string;
  team_name: string;
  job_id: number | null;
  job_name: string | null;
  pipeline_id: number | null;
  pipeline_name: string | null;
  pipeline_instance_vars: Record<string, unknown> | null;
  status: BuildStatus;
  start_unix: number | null;
  end_unix: number | null;
  reap_unix: number | null;
  rerun_of: number | null;
  rerun_of_name: string | null;
  rerun_number: number;
  created_by: string | null;
  comment: string;
  containers_created: ContainerCounts | null;
}

// floor(date_part(…)) as Math.floor(ms / 1000) does; date_part is float8 (extract is numeric, slower)
const SUMMARY_SELECT = `SELECT b.id, b.name, t.name AS team_name, b.job_id, j.name AS job_name,
    b.pipeline_id, p.name AS pipeline_name, p.instance_vars AS pipeline_instance_vars, b.status,
    floor(date_part('epoch', b.start_time))::int8 AS start_unix, floor(date_part('epoch', b.end_time))::int8 AS end_unix,
    floor(date_part('epoch', b.reap_time))::int8 AS reap_unix, b.rerun_of,
    (SELECT ob.name FROM builds ob WHERE ob.id = b.rerun_of) AS rerun_of_name, b.rerun_number,
    b.created_by, b.comment, b.containers_created
  ${BUILD_FROM}`;

function toBuildSummary(r: BuildSummaryRow): BuildSummary {
  return {
    id: r.id,
    name: r.name,
    teamName: r.team_name,
    jobId: r.job_id,
    jobName: r.job_name,
    pipelineId: r.pipeline_id,
    pipelineName: r.pipeline_name,
    pipelineInstanceVars: r.pipeline_instance_vars,
    status: r.status,
    startUnix: r.start_unix,
    endUnix: r.end_unix,
    reapUnix: r.reap_unix,
    rerunOf: r.rerun_of,
    rerunOfName: r.rerun_of_name,
    rerunNumber: r.rerun_number,
    createdBy: r.created_by,
    comment: r.comment,
    containersCreated: r.containers_created ?? {},
  };
}

export interface BuildPage {
  /** Newest first. */
  builds: BuildSummary[];
  /** The page of older builds, if any: `?to=N&limit=L`. */
  next?: { to: number; limit: number };
  /** The page of newer builds, if any: `?from=N&limit=L`. */
  previous?: { from: number; limit: number };
}

/**
 * The rows a page's statement asks for: `wanted` (its size and one more) rounded up to one of a
 * few sizes, which are written into the statement's text. In the text, because a LIMIT parameter
 * kept Postgres from settling on a generic plan for the build lists (it planned each execution
 * again: 0.45 ms of 0.9 a page of /api/v1/builds, BENCHMARKS.md part 12); one of a few, because
 * every size a request gave (1 to 1,000) would otherwise be a text of its own, and a caller could
 * use up the node's prepared statement names (database.ts). The sizes the UI and fly ask for
 * (100, 50) and their neighbours fetch exactly; others at most 2.5 times their rows.
 */
export function pageFetchSize(wanted: number): number {
  return PAGE_FETCH_SIZES.find((n) => n >= wanted) ?? wanted;
}
const PAGE_FETCH_SIZES = [2, 3, 6, 11, 21, 26, 51, 101, 201, 501, 1001];

async function pageOf(db: Queryable, where: string, params: unknown[], page: Page): Promise<BuildPage> {
  const limit = Math.max(1, Math.min(page.limit ?? 100, 1000));
  const asked = pageFetchSize(limit + 1);
  const values = [...params];
  const cond = [where];
  // one row more than the page: whether there are more beyond its far end, without a statement
  // of its own (a page was three statements, bench/api.ts)
  let rows: BuildSummaryRow[];
  let beyond: boolean;
  const ascending = page.from !== undefined && page.to === undefined;
  if (ascending) {
    // the `limit` oldest builds ≥ from, shown newest first
    values.push(page.from);
    cond.push(`b.id >= $${values.length}`);
    const r = await db.query<BuildSummaryRow>(`${SUMMARY_SELECT} WHERE ${cond.join(' AND ')} ORDER BY b.id ASC LIMIT ${asked}`, values);
    beyond = r.rows.length > limit;
    rows = r.rows.slice(0, limit).reverse();
  } else {
    if (page.to !== undefined) {
      values.push(page.to);
      cond.push(`b.id <= $${values.length}`);
    }
    if (page.from !== undefined) {
      values.push(page.from);
      cond.push(`b.id >= $${values.length}`);
    }
    const r = await db.query<BuildSummaryRow>(`${SUMMARY_SELECT} WHERE ${cond.join(' AND ')} ORDER BY b.id DESC LIMIT ${asked}`, values);
    beyond = r.rows.length > limit;
    rows = r.rows.slice(0, limit);
  }
  const builds = rows.map(toBuildSummary);
  const result: BuildPage = { builds };
  const newest = builds[0];
  const oldest = builds[builds.length - 1];
  if (newest && oldest) {
    const exists = async (op: '<' | '>', id: number): Promise<boolean> =>
      (await db.query(`SELECT 1 FROM builds b WHERE ${where} AND b.id ${op} $${params.length + 1} LIMIT 1`, [...params, id])).rowCount > 0;
    // older: the extra row says so going down; a page ending at `from` has none below it only if the query says so
    const older = ascending ? await exists('<', oldest.id) : beyond || (page.from !== undefined && (await exists('<', oldest.id)));
    // newer: the extra row says so going up; the first page (neither from nor to) starts at the newest
    const newer = ascending ? beyond : page.to !== undefined || page.from !== undefined ? await exists('>', newest.id) : false;
    if (older) result.next = { to: oldest.id - 1, limit };
    if (newer) result.previous = { from: newest.id + 1, limit };
  }
  return result;
}

/** A job's builds, newest first, paginated by build id. */
export function listJobBuilds(db: Queryable, jobId: number, page: Page = {}): Promise<BuildPage> {
  return pageOf(db, 'b.job_id = $1', [jobId], page);
}

/**
 * A job's builds as listJobBuilds, the job named by its pipeline and name and found inside the
 * page's statement: the route the UI and fly poll reads a page in one round trip, not two.
 * Undefined when the pipeline has no such active job, which is asked only of an empty page.
 */
export async function listJobBuildsByName(db: Queryable, pipelineId: number, jobName: string, page: Page = {}): Promise<BuildPage | undefined> {
  const result = await pageOf(db, `b.job_id = (${JOB_BY_NAME})`, [pipelineId, jobName], page);
  if (result.builds.length > 0) return result;
  const job = await db.query(JOB_BY_NAME, [pipelineId, jobName]);
  return job.rowCount > 0 ? result : undefined;
}
const JOB_BY_NAME = 'SELECT id FROM jobs WHERE pipeline_id = $1 AND name = $2 AND active';

export interface BuildFilter {
  teamId?: number;
  /** Builds of any of these teams (GET /api/v1/builds: the caller's teams). */
  teamIds?: readonly number[];
  /** With teamIds: also the builds of public pipelines of other teams (Concourse's VisibleBuilds). */
  orPublic?: boolean;
  pipelineId?: number;
  /** Include check builds (default false: job and one-off builds only, as Concourse lists). */
  includeChecks?: boolean;
}

/** Builds across jobs (and one-off builds), newest first. */
export function listBuilds(db: Queryable, filter: BuildFilter = {}, page: Page = {}): Promise<BuildPage> {
  const cond: string[] = [];
  const params: unknown[] = [];
  if (filter.teamId !== undefined) {
    params.push(filter.teamId);
    cond.push(`b.team_id = $${params.length}`);
  }
  if (filter.pipelineId !== undefined) {
    params.push(filter.pipelineId);
    cond.push(`b.pipeline_id = $${params.length}`);
  }
  if (filter.teamIds !== undefined) {
    params.push(filter.teamIds);
    const mine = `b.team_id = ANY($${params.length}::int[])`;
    cond.push(filter.orPublic ? `(${mine} OR b.pipeline_id IN (SELECT id FROM pipelines WHERE public))` : mine);
  }
  if (!filter.includeChecks) cond.push('b.resource_id IS NULL AND b.resource_type_id IS NULL');
  return pageOf(db, cond.length > 0 ? cond.join(' AND ') : 'true', params, page);
}

/** The latest check build of a resource (or resource type), for the API's resource view. */
export async function latestCheckBuild(
  db: Queryable,
  target: { resourceId: number } | { resourceTypeId: number },
): Promise<BuildRecord | undefined> {
  const [col, id] = 'resourceId' in target ? ['resource_id', target.resourceId] : ['resource_type_id', target.resourceTypeId];
  const r = await db.query<BuildRow>(`${BUILD_SELECT} WHERE b.${col} = $1 ORDER BY b.id DESC LIMIT 1`, [id]);
  const row = r.rows[0];
  return row ? toBuildRecord(row) : undefined;
}

// ------------------------------------------------------------------------------ creating

interface JobForBuild extends Record<string, unknown> {
  id: number;
  name: string;
  pipeline_id: number;
  team_id: number;
  disable_manual_trigger: boolean;
  disable_reruns: boolean;
  archived: boolean;
}

async function lockJob(tx: Queryable, jobId: number): Promise<JobForBuild> {
  const r = await tx.query<JobForBuild>(
    `SELECT j.id, j.name, j.pipeline_id, p.team_id, j.disable_manual_trigger, j.disable_reruns, p.archived
       FROM jobs j JOIN pipelines p ON p.id = j.pipeline_id WHERE j.id = $1 FOR UPDATE OF j`,
    [jobId],
  );
  const job = r.rows[0];
  if (!job) throw new NotFoundError(`job ${jobId} not found`);
  return job;
}

/** `++jobs.build_number_seq`; the caller holds the job row (or gets its lock here). */
async function nextBuildNumber(tx: Queryable, jobId: number): Promise<number> {
  const r = await tx.query<{ n: number }>(
    'UPDATE jobs SET build_number_seq = build_number_seq + 1 WHERE id = $1 RETURNING build_number_seq AS n',
    [jobId],
  );
  const n = r.rows[0]?.n;
  if (n === undefined) throw new NotFoundError(`job ${jobId} not found`);
  return n;
}

/** `schedule_requested = now` (the wall clock, so a request made during a long transaction is not dated back). */
export async function requestJobSchedule(db: Queryable, jobId: number): Promise<void> {
  await db.query('UPDATE jobs SET schedule_requested = clock_timestamp() WHERE id = $1', [jobId]);
}

export interface CreateBuildOptions {
  createdBy?: string | null;
  comment?: string;
}

/**
 * Manual trigger (`POST …/jobs/:job/builds`): a pending, manually triggered build named
 * `++build_number_seq`; requests scheduling of the job. Refused (ConflictError, HTTP 409) when the
 * job has `disable_manual_trigger` or its pipeline is archived.
 */
export async function createManualBuild(db: Queryable, jobId: number, opts: CreateBuildOptions = {}): Promise<BuildRecord> {
  // one round trip (migration 0023), under the job's row lock: the function returns the new
  // build's row, joined here; refused, it raises before anything is written
  try {
    const r = await db.query<BuildRow>(`SELECT ${BUILD_COLUMNS} FROM jetway_trigger_manual_build($1, $2, $3) b ${BUILD_JOINS}`, [jobId, opts.createdBy ?? null, opts.comment ?? '']);
    const row = r.rows[0];
    if (!row) throw new NotFoundError(`job ${jobId} not found`);
    return toBuildRecord(row);
  } catch (err) {
    const code = err && typeof err === 'object' && 'code' in err ? err.code : undefined;
    if (code === 'JW404') throw new NotFoundError(`job ${jobId} not found`);
    if (code === 'JW409') throw new ConflictError(err instanceof Error ? err.message : String(err));
    throw err;
  }
}

/**
 * The scheduler's trigger: a pending (not manual) build, unless the job already has a pending
 * build. Returns the new build's id, or undefined when one existed.
 */
export async function ensurePendingBuildExists(db: Queryable, jobId: number): Promise<number | undefined> {
  return db.transaction(async (tx) => {
    const job = await lockJob(tx, jobId);
    const pending = await tx.query(`SELECT 1 FROM builds WHERE job_id = $1 AND status = 'pending' LIMIT 1`, [jobId]);
    if (pending.rowCount > 0) return undefined;
    const n = await nextBuildNumber(tx, jobId);
    const r = await tx.query<{ id: number }>(
      `INSERT INTO builds (name, job_id, pipeline_id, team_id, status) VALUES ($1, $2, $3, $4, 'pending') RETURNING id`,
      [String(n), jobId, job.pipeline_id, job.team_id],
    );
    await refreshJobBuildPointers(tx, jobId);
    return r.rows[0]!.id;
  });
}

/**
 * Rerun (`POST …/jobs/:job/builds/:name`): a pending build with `rerun_of` = the original (the
 * original's original when rerunning a rerun), named `<original>.<n>`. Refused when the job has
 * `disable_reruns`, or the original build never determined its inputs (nothing to rerun with).
 */
export async function createRerun(db: Queryable, buildId: number, opts: CreateBuildOptions = {}): Promise<BuildRecord> {
  const id = await db.transaction(async (tx) => {
    const b = await tx.query<{ job_id: number | null; rerun_of: number | null; inputs_ready: boolean; name: string }>(
      'SELECT job_id, rerun_of, inputs_ready, name FROM builds WHERE id = $1',
      [buildId],
    );
    const build = b.rows[0];
    if (!build) throw new NotFoundError(`build ${buildId} not found`);
    if (build.job_id === null) throw new ConflictError(`build ${buildId} is not a job build and cannot be rerun`);
    const job = await lockJob(tx, build.job_id);
    if (job.disable_reruns) throw new ConflictError(`job ${job.name} has reruns disabled`);
    if (job.archived) throw new ConflictError(`job ${job.name} belongs to an archived pipeline`);
    const originalId = build.rerun_of ?? buildId;
    const orig = await tx.query<{ name: string; inputs_ready: boolean; max: number | null }>(
      `SELECT o.name, o.inputs_ready, (SELECT max(rerun_number) FROM builds WHERE rerun_of = o.id) AS max FROM builds o WHERE o.id = $1`,
      [originalId],
    );
    const original = orig.rows[0]!;
    if (!original.inputs_ready) {
      throw new ConflictError(`build ${job.name} #${original.name} has not determined its inputs and cannot be rerun`);
    }
    const number = (original.max ?? 0) + 1;
    const r = await tx.query<{ id: number }>(
      `INSERT INTO builds (name, job_id, pipeline_id, team_id, status, manually_triggered, rerun_of, rerun_number, created_by, comment)
       VALUES ($1, $2, $3, $4, 'pending', true, $5, $6, $7, $8) RETURNING id`,
      [
        `${original.name}.${number}`,
        job.id,
        job.pipeline_id,
        job.team_id,
        originalId,
        number,
        opts.createdBy ?? null,
        opts.comment ?? '',
      ],
    );
    await refreshJobBuildPointers(tx, job.id);
    await requestJobSchedule(tx, job.id);
    return r.rows[0]!.id;
  });
  return mustGetBuild(db, id);
}

export interface StartedBuildInput extends CreateBuildOptions {
  teamId: number;
  plan: Plan;
  /** Check builds: the pipeline and the checked resource or resource type. */
  pipelineId?: number | null;
  resourceId?: number | null;
  resourceTypeId?: number | null;
  manuallyTriggered?: boolean;
  /** Build name; default: the build id (one-off builds) or `check` (check builds). */
  name?: string;
}

/**
 * A build created already started with its plan (one-off `fly execute` builds, check builds):
 * status started, plan and public plan saved, the `status: started` event written.
 */
export async function createStartedBuild(db: Queryable, input: StartedBuildInput): Promise<BuildRecord> {
  const isCheck = input.resourceId != null || input.resourceTypeId != null;
  const id = await db.transaction(async (tx) => {
    const r = await tx.query<{ id: number }>(
      `INSERT INTO builds (name, team_id, pipeline_id, resource_id, resource_type_id, status, manually_triggered,
                           scheduled, inputs_ready, plan, public_plan, schema, start_time, created_by, comment)
       VALUES ($1, $2, $3, $4, $5, 'started', $6, true, true, $7::jsonb, $8::jsonb, 'jetway.v1', now(), $9, $10)
       RETURNING id`,
      [
        input.name ?? (isCheck ? 'check' : ''),
        input.teamId,
        input.pipelineId ?? null,
        input.resourceId ?? null,
        input.resourceTypeId ?? null,
        input.manuallyTriggered ?? false,
        JSON.stringify(input.plan),
        JSON.stringify(publicPlan(input.plan)),
        input.createdBy ?? null,
        input.comment ?? '',
      ],
    );
    const bid = r.rows[0]!.id;
    if (input.name === undefined && !isCheck) await tx.query('UPDATE builds SET name = $1 WHERE id = $2', [String(bid), bid]);
    await saveBuildEvent(tx, bid, statusEvent('started'));
    return bid;
  });
  return mustGetBuild(db, id);
}

/**
 * A one-off build (`fly execute`): team-scoped (or of one of the team's pipelines:
 * CreatePipelineBuild, whose var sources it then uses), named after its id, started with the plan.
 */
export function createOneOffBuild(db: Queryable, teamId: number, plan: Plan, opts: CreateBuildOptions & { pipelineId?: number } = {}): Promise<BuildRecord> {
  return createStartedBuild(db, { ...opts, teamId, plan, manuallyTriggered: true });
}

// ------------------------------------------------------------------------------ lifecycle

function statusEvent(status: BuildStatus): BuildEvent {
  return { event: 'status', version: '1.0', data: { status, time: Math.floor(Date.now() / 1000) } };
}

/**
 * `build.Start(plan)`: pending → started unless aborted (or no longer pending); saves the plan
 * and the public plan, and writes the `status: started` event. Returns whether it started.
 */
export async function startBuild(db: Queryable, buildId: number, plan: Plan): Promise<boolean> {
  // one round trip (migration 0022): the status, its event, the job's build pointers
  const r = await db.query<{ started: boolean }>('SELECT jetway_start_build($1, $2::jsonb, $3::jsonb, $4, $5::jsonb) AS started', [
    buildId,
    JSON.stringify(plan),
    JSON.stringify(publicPlan(plan)),
    EVENT_LOCK_CLASS,
    eventsPayload([{ event: statusEvent('started') }]),
  ]);
  return r.rows[0]?.started === true;
}

/**
 * `build.Finish(status)` (§4.4), in one transaction: the status event, end time, completed;
 * for a succeeded job build the successful_build_outputs (de-duplicated outputs, then inputs,
 * per resource id), older image caches of the job dropped and child pipelines set by older
 * builds of the job archived; for any job build, scheduling of downstream jobs requested and
 * the job's latest_completed/next/transition builds updated. Jetway also requests scheduling of
 * the job itself, so has_new_inputs is recomputed once the build's inputs are no longer new. Finishing a completed build does
 * nothing (returns false).
 */
export async function finishBuild(db: Queryable, buildId: number, status: BuildStatus): Promise<boolean> {
  if (!TERMINAL_STATUSES.includes(status)) throw new Error(`cannot finish build ${buildId} as ${status}`);
  return db.transaction(async (tx) => {
    const r = await tx.query<{ job_id: number | null; rerun_of: number | null }>(
      `UPDATE builds SET status = $2, end_time = now(), completed = true,
              start_time = COALESCE(start_time, CASE WHEN $2 = 'aborted' THEN NULL ELSE now() END)
        WHERE id = $1 AND NOT completed RETURNING job_id, rerun_of`,
      [buildId, status],
    );
    const row = r.rows[0];
    if (!row) return false;
    await saveBuildEvent(tx, buildId, statusEvent(status));
    const jobId = row.job_id;
    if (jobId === null) return true;

    if (status === 'succeeded') {
      const outputs = await successfulOutputs(tx, buildId);
      await tx.query(
        `INSERT INTO successful_build_outputs (build_id, job_id, rerun_of, outputs) VALUES ($1, $2, $3, $4::jsonb)
         ON CONFLICT (build_id) DO UPDATE SET outputs = EXCLUDED.outputs`,
        [buildId, jobId, row.rerun_of, JSON.stringify(outputs)],
      );
      await tx.query('DELETE FROM build_image_resource_caches WHERE job_id = $1 AND build_id < $2', [jobId, buildId]);
      // child pipelines set by older builds of this job, and their descendants, are archived
      await tx.query(
        `WITH RECURSIVE doomed AS (
           SELECT id FROM pipelines WHERE parent_job_id = $1 AND parent_build_id < $2
           UNION
           SELECT p.id FROM pipelines p JOIN jobs j ON j.id = p.parent_job_id JOIN doomed d ON d.id = j.pipeline_id
         )
         UPDATE pipelines SET archived = true, paused = true WHERE id IN (SELECT id FROM doomed) AND NOT archived`,
        [jobId, buildId],
      );
    }
    await tx.query(
      `UPDATE jobs SET schedule_requested = clock_timestamp()
        WHERE id = $1 OR id IN (SELECT job_id FROM job_inputs WHERE passed_job_id = $1)`,
      [jobId],
    );
    await refreshJobBuildPointers(tx, jobId);
    return true;
  });
}

/** `{"<resource_id>": [digest, …]}`: a build's outputs, then its inputs, de-duplicated per resource. */
async function successfulOutputs(tx: Queryable, buildId: number): Promise<Record<string, string[]>> {
  const r = await tx.query<{ resource_id: number; version_digest: string }>(
    `SELECT resource_id, version_digest FROM (
       SELECT resource_id, version_digest, 0 AS kind, name FROM build_resource_config_version_outputs WHERE build_id = $1
       UNION ALL
       SELECT resource_id, version_digest, 1 AS kind, name FROM build_resource_config_version_inputs WHERE build_id = $1
     ) x ORDER BY kind, name, resource_id, version_digest`,
    [buildId],
  );
  return groupOutputs(r.rows.map((row) => ({ resourceId: row.resource_id, digest: row.version_digest })));
}

/** Pure: pairs (outputs first, then inputs) → per-resource lists, de-duplicated, order kept. */
export function groupOutputs(pairs: readonly { resourceId: number; digest: string }[]): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const { resourceId, digest } of pairs) {
    const list = (out[String(resourceId)] ??= []);
    if (!list.includes(digest)) list.push(digest);
  }
  return out;
}

/**
 * Recomputes jobs.latest_completed_build_id (newest completed build, reruns sorting with their
 * original), next_build_id (oldest pending or started build) and transition_build_id (the first
 * completed build of the current run of equal statuses).
 */
export async function refreshJobBuildPointers(tx: Queryable, jobId: number): Promise<void> {
  // the SQL is migration 0022's, shared with jetway_start_build
  await tx.query('SELECT jetway_refresh_job_build_pointers($1)', [jobId]);
}

export interface AbortResult {
  build: BuildRecord;
  /** The build was finished `aborted` here (force, or it had not started yet and force was given). */
  finished: boolean;
}

/**
 * Abort (`PUT /builds/:id/abort[?force]`): sets `aborted`. A pending job build is finished
 * `aborted` by the build starter (its job's scheduling is requested here); a running build is
 * cancelled by the engine, which is told by the caller (the API notifies the engine). With
 * `force`, a build that is not completed is finished `aborted` directly.
 */
export async function abortBuild(db: Queryable, buildId: number, opts: { force?: boolean } = {}): Promise<AbortResult> {
  const finished = await db.transaction(async (tx) => {
    const r = await tx.query<{ job_id: number | null; status: BuildStatus; completed: boolean }>(
      'UPDATE builds SET aborted = true WHERE id = $1 RETURNING job_id, status, completed',
      [buildId],
    );
    const row = r.rows[0];
    if (!row) throw new NotFoundError(`build ${buildId} not found`);
    if (row.completed) return false;
    if (opts.force) return finishBuild(tx, buildId, 'aborted');
    if (row.status === 'pending' && row.job_id !== null) await requestJobSchedule(tx, row.job_id);
    return false;
  });
  return { build: await mustGetBuild(db, buildId), finished };
}

/** Builds that started but have not completed (for the engine to resume or abort after a restart). */
export async function listRunningBuilds(db: Queryable): Promise<BuildRecord[]> {
  const r = await db.query<BuildRow>(`${BUILD_SELECT} WHERE b.status = 'started' AND NOT b.completed ORDER BY b.id`);
  return r.rows.map(toBuildRecord);
}

// ------------------------------------------------------------------------------ events

/** Advisory-lock class of the per-build event id allocation. */
const EVENT_LOCK_CLASS = 0x6a7701;

export interface StoredBuildEvent {
  /** 0-based position in the build's event stream. */
  eventId: number;
  event: BuildEvent;
}

/** An event to append, with its writer key (the writer and its position in its stream), if any. */
export interface EventToSave {
  event: BuildEvent;
  writerKey?: string | undefined;
}

/**
 * Appends events to a build's stream, in order, in one statement (migration 0020's
 * jetway_append_build_events): event_id = the build's max + 1 (0 for the first), allocated under
 * a per-build transaction lock, so concurrent writers never collide and ids are visible in order
 * (id n+1 is only inserted after id n committed). One NOTIFY build_events with the build id wakes
 * the streaming readers. An event whose writer key is saved already (a retried write whose commit
 * went through unseen, issue 17) is not saved again. Returns the events' ids.
 */
export async function saveBuildEvents(db: Queryable, buildId: number, events: readonly EventToSave[]): Promise<number[]> {
  if (events.length === 0) return [];
  const r = await db.query<{ event_id: number }>('SELECT jetway_append_build_events($1, $2, $3::jsonb) AS event_id', [buildId, EVENT_LOCK_CLASS, eventsPayload(events)]);
  return r.rows.map((row) => row.event_id);
}

/** Events as jetway_append_build_events takes them (migration 0020). */
function eventsPayload(events: readonly EventToSave[]): string {
  return JSON.stringify(events.map((e) => ({ type: e.event.event, version: e.event.version, payload: e.event.data, writer_key: e.writerKey ?? null })));
}

/** Appends one event (saveBuildEvents); returns its id. */
export async function saveBuildEvent(db: Queryable, buildId: number, event: BuildEvent, writerKey?: string): Promise<number> {
  const [id] = await saveBuildEvents(db, buildId, [{ event, writerKey }]);
  return id!;
}

/** A build's events with event_id ≥ from, in order. */
export async function buildEvents(db: Queryable, buildId: number, from = 0, limit?: number): Promise<StoredBuildEvent[]> {
  const r = await db.query<{ event_id: number; type: BuildEventType; version: string; payload: BuildEventData[BuildEventType] }>(
    `SELECT event_id, type, version, payload FROM build_events WHERE build_id = $1 AND event_id >= $2
      ORDER BY event_id ${limit !== undefined ? `LIMIT ${Math.max(0, Math.floor(limit))}` : ''}`,
    [buildId, from],
  );
  return r.rows.map((row) => ({
    eventId: row.event_id,
    event: { event: row.type, version: row.version, data: row.payload } as BuildEvent,
  }));
}

// ------------------------------------------------------------------------------ inputs and outputs

export interface BuildInputRecord {
  name: string;
  resourceId: number;
  resourceName: string;
  versionDigest: string;
  /** Undefined when the version is no longer in the resource's current scope. */
  version: Version | undefined;
  firstOccurrence: boolean;
}

export interface BuildOutputRecord {
  name: string;
  resourceId: number;
  resourceName: string;
  versionDigest: string;
  version: Version | undefined;
}

/** A build's inputs (`…/resources`), with versions looked up in each resource's current scope. */
/** A row of jetway_build_inputs (migration 0024), as a statement answers it or as JSON. */
interface BuildInputRow extends Record<string, unknown> {
  name: string;
  resource_id: number;
  resource_name: string;
  version_digest: string;
  version: Version | null;
  first_occurrence: boolean;
}

function toBuildInput(row: BuildInputRow): BuildInputRecord {
  return {
    name: row.name,
    resourceId: row.resource_id,
    resourceName: row.resource_name,
    versionDigest: row.version_digest,
    version: row.version ?? undefined,
    firstOccurrence: row.first_occurrence,
  };
}

export async function buildInputs(db: Queryable, buildId: number): Promise<BuildInputRecord[]> {
  const r = await db.query<BuildInputRow>('SELECT name, resource_id, resource_name, version_digest, version, first_occurrence FROM jetway_build_inputs($1)', [buildId]);
  return r.rows.map(toBuildInput);
}

export async function buildOutputs(db: Queryable, buildId: number): Promise<BuildOutputRecord[]> {
  const r = await db.query<{ name: string; resource_id: number; resource_name: string; version_digest: string; version: Version | null }>(
    `SELECT o.name, o.resource_id, r.name AS resource_name, o.version_digest, v.version
       FROM build_resource_config_version_outputs o JOIN resources r ON r.id = o.resource_id
       LEFT JOIN resource_config_versions v ON v.resource_config_scope_id = r.resource_config_scope_id
                                           AND o.version_digest IN (v.version_sha256, v.version_md5)
      WHERE o.build_id = $1 ORDER BY o.name`,
    [buildId],
  );
  return r.rows.map((row) => ({
    name: row.name,
    resourceId: row.resource_id,
    resourceName: row.resource_name,
    versionDigest: row.version_digest,
    version: row.version ?? undefined,
  }));
}

export interface SaveOutputOptions {
  metadata?: MetadataField[];
  /**
   * The scope to save the version into. Default: the resource's current scope. The engine passes
   * it when the put ran with a config the resource was never checked with (it finds or creates
   * that scope and points the resource at it first).
   */
  scopeId?: number;
}

/**
 * A put's output: the version is saved into the resource's scope (re-ordered as the newest and
 * scheduling requested when it is new, see saveVersions), and recorded as an output of the build.
 */
export async function saveBuildOutput(
  db: Queryable,
  buildId: number,
  resourceId: number,
  version: Version,
  name: string,
  opts: SaveOutputOptions = {},
): Promise<void> {
  await db.transaction(async (tx) => {
    let scopeId = opts.scopeId;
    if (scopeId === undefined) {
      const r = await tx.query<{ scope: number | null }>('SELECT resource_config_scope_id AS scope FROM resources WHERE id = $1', [
        resourceId,
      ]);
      if (r.rowCount === 0) throw new NotFoundError(`resource ${resourceId} not found`);
      scopeId = r.rows[0]?.scope ?? undefined;
    }
    if (scopeId === undefined) {
      throw new NotFoundError(`resource ${resourceId} has no version history yet; pass the scope of the put's config`);
    }
    await saveVersions(tx, scopeId, [opts.metadata === undefined ? { version } : { version, metadata: opts.metadata }]);
    await tx.query(
      `INSERT INTO build_resource_config_version_outputs (build_id, resource_id, version_digest, name)
       VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING`,
      [buildId, resourceId, versionDigest(version), name],
    );
  });
}

// ------------------------------------------------------------------------------ the build starter

/** A job's pending builds in start order: `(coalesce(rerun_of, id) ASC, id ASC)`. */
export async function pendingBuilds(db: Queryable, jobId: number): Promise<BuildRecord[]> {
  const r = await db.query<BuildRow>(
    `${BUILD_SELECT} WHERE b.job_id = $1 AND b.status = 'pending' ORDER BY coalesce(b.rerun_of, b.id) ASC, b.id ASC`,
    [jobId],
  );
  return r.rows.map(toBuildRecord);
}

export interface AdoptResult {
  determined: boolean;
  /** The input whose chosen version is no longer in its resource's current scope. */
  unavailableInput?: string;
}

/** Adopted: the build's inputs as buildInputs reads them. */
export type AdoptedInputs = { determined: true; inputs: BuildInputRecord[] } | { determined: false; unavailableInput?: string };

export const chosenVersionNotAvailable = (input: string): string => `chosen version of input ${input} not available`;

/** Whether the digest is a version of the resource's current scope. */
async function versionInCurrentScope(tx: Queryable, resourceId: number, digest: string): Promise<boolean> {
  const r = await tx.query(
    `SELECT 1 FROM resource_config_versions v JOIN resources r ON r.resource_config_scope_id = v.resource_config_scope_id
      WHERE r.id = $1 AND $2 IN (v.version_sha256, v.version_md5) LIMIT 1`,
    [resourceId, digest],
  );
  return r.rowCount > 0;
}

/**
 * `AdoptInputsAndPipes` (scheduler and manual builds): requires the job's inputs_determined;
 * re-checks each chosen version is still in its resource's current scope (else stores
 * resolve_error "chosen version of input X not available", inputs_determined=false, and adopts
 * nothing); copies next_build_inputs → the build's inputs and next_build_pipes → build_pipes;
 * sets inputs_ready.
 */
export async function adoptInputsAndPipes(db: Queryable, buildId: number, jobId: number): Promise<AdoptedInputs> {
  // one round trip (migrations 0022, 0024), under the job's row lock, answering the inputs adopted
  const r = await db.query<{ determined: boolean; unavailable_input: string | null; inputs: BuildInputRow[] | null }>(
    'SELECT determined, unavailable_input, inputs FROM jetway_adopt_inputs($1, $2, $3)',
    [buildId, jobId, chosenVersionNotAvailable('%s')],
  );
  const row = r.rows[0];
  if (!row?.determined) return row?.unavailable_input ? { determined: false, unavailableInput: row.unavailable_input } : { determined: false };
  return { determined: true, inputs: (row.inputs ?? []).map(toBuildInput) };
}

/**
 * A rerun's inputs: the original build's inputs (first_occurrence=false) and pipes. Not
 * determined when the original has no inputs, or one of its versions is no longer in the
 * resource's current scope (`unavailableInput`).
 */
export async function adoptRerunInputsAndPipes(db: Queryable, buildId: number, originalId: number): Promise<AdoptResult> {
  return db.transaction(async (tx) => {
    const orig = await tx.query<{ inputs_ready: boolean }>('SELECT inputs_ready FROM builds WHERE id = $1', [originalId]);
    if (!orig.rows[0]?.inputs_ready) return { determined: false };
    const rows = await tx.query<{ name: string; resource_id: number; version_digest: string }>(
      'SELECT name, resource_id, version_digest FROM build_resource_config_version_inputs WHERE build_id = $1 ORDER BY name',
      [originalId],
    );
    for (const row of rows.rows) {
      if (!(await versionInCurrentScope(tx, row.resource_id, row.version_digest))) return { determined: false, unavailableInput: row.name };
    }
    await tx.query('DELETE FROM build_resource_config_version_inputs WHERE build_id = $1', [buildId]);
    await tx.query('DELETE FROM build_pipes WHERE to_build_id = $1', [buildId]);
    await tx.query(
      `INSERT INTO build_resource_config_version_inputs (build_id, resource_id, version_digest, name, first_occurrence)
       SELECT $1, resource_id, version_digest, name, false FROM build_resource_config_version_inputs WHERE build_id = $2`,
      [buildId, originalId],
    );
    await tx.query(
      `INSERT INTO build_pipes (from_build_id, to_build_id) SELECT from_build_id, $1 FROM build_pipes WHERE to_build_id = $2
       ON CONFLICT DO NOTHING`,
      [buildId, originalId],
    );
    await tx.query('UPDATE builds SET inputs_ready = true WHERE id = $1', [buildId]);
    return { determined: true };
  });
}

/** Counts a container the build created (for the build's record of what it spent). */
export async function countBuildContainer(db: Queryable, buildId: number, purpose: string, type: string): Promise<void> {
  await db.query(
    `UPDATE builds SET containers_created = jsonb_set(
        jsonb_set(containers_created, ARRAY[$2::text], coalesce(containers_created -> $2, '{}'::jsonb)),
        ARRAY[$2::text, $3::text], to_jsonb(coalesce((containers_created -> $2 ->> $3)::int, 0) + 1))
      WHERE id = $1`,
    [buildId, purpose, type],
  );
}

/** Of these build ids, the ones that are completed or do not exist (the Kubernetes reaper asks). */
export async function finishedBuildIds(db: Queryable, ids: readonly number[]): Promise<Set<number>> {
  const r = await db.query<{ id: number }>('SELECT id FROM builds WHERE id = ANY($1::int[]) AND NOT completed', [ids]);
  const running = new Set(r.rows.map((row) => Number(row.id)));
  return new Set(ids.filter((id) => !running.has(id)));
}

// ---------------------------------------------------------------- Concourse's other build reads

/** Sets a build's comment (Concourse's SetBuildComment); false when the build does not exist. */
export async function setBuildComment(db: Queryable, buildId: number, comment: string): Promise<boolean> {
  const r = await db.query('UPDATE builds SET comment = $2 WHERE id = $1', [buildId, comment]);
  return r.rowCount > 0;
}

export interface BuildTimeRange {
  /** unix seconds: builds that started at or after it */
  since?: number;
  /** unix seconds: builds that started at or before it */
  until?: number;
}

/**
 * Job and one-off builds that started within the range, newest first (Concourse's
 * getBuildsWithDates: `?timestamps=true` turns from/to into start times, without pages).
 * teamIds undefined: every team's (an admin's view).
 */
export async function buildsStartedBetween(
  db: Queryable,
  visible: { teamIds?: readonly number[]; orPublic?: boolean },
  range: BuildTimeRange,
  limit: number,
): Promise<BuildRecord[]> {
  const params: unknown[] = [];
  const cond = ['b.resource_id IS NULL AND b.resource_type_id IS NULL'];
  if (visible.teamIds !== undefined) {
    params.push(visible.teamIds);
    const mine = `b.team_id = ANY($${params.length}::int[])`;
    cond.push(visible.orPublic ? `(${mine} OR p.public)` : mine);
  }
  if (range.since !== undefined) {
    params.push(range.since);
    cond.push(`b.start_time >= to_timestamp($${params.length})`);
  }
  if (range.until !== undefined) {
    params.push(range.until);
    cond.push(`b.start_time <= to_timestamp($${params.length})`);
  }
  params.push(limit);
  const r = await db.query<Parameters<typeof toBuildRecord>[0]>(
    `${BUILD_SELECT} WHERE ${cond.join(' AND ')} ORDER BY coalesce(b.rerun_of, b.id) DESC, b.id DESC LIMIT $${params.length}`,
    params,
  );
  return r.rows.map(toBuildRecord);
}

/** A team's builds that have not completed (their containers are the team's), newest first, at most `limit`. */
export async function runningBuildsOfTeam(db: Queryable, teamName: string, limit: number): Promise<BuildRecord[]> {
  const r = await db.query<Parameters<typeof toBuildRecord>[0]>(
    `${BUILD_SELECT} WHERE t.name = $1 AND NOT b.completed AND b.status IN ('pending', 'started') ORDER BY b.id DESC LIMIT $2`,
    [teamName, limit],
  );
  return r.rows.map(toBuildRecord);
}

/** Those of `ids` that are the team's builds, newest first, at most `limit` (one statement). */
export async function teamBuildsAmong(db: Queryable, teamName: string, ids: readonly number[], limit: number): Promise<BuildRecord[]> {
  if (ids.length === 0) return [];
  const r = await db.query<Parameters<typeof toBuildRecord>[0]>(`${BUILD_SELECT} WHERE t.name = $1 AND b.id = ANY($2::bigint[]) ORDER BY b.id DESC LIMIT $3`, [teamName, [...ids], limit]);
  return r.rows.map(toBuildRecord);
}
