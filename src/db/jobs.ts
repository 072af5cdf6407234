// The job store: reading jobs (with their next/finished builds), pause/unpause, and what the
// scheduler reads and writes per job (docs/concourse-semantics.md §4.1): due jobs, algorithm inputs, the next input mapping,
// has_new_inputs, last_scheduled.
import type { Job } from '../config/index.ts';
import type { AlgorithmInput, ComputeResult } from '../model/inputs.ts';
import { isResolveError } from '../model/inputs.ts';
import { getBuildSummaries, type BuildSummary } from './builds.ts';
import type { Queryable } from './database.ts';
import { NotFoundError } from './errors.ts';
import type { Version } from '../model/version.ts';

export { requestJobSchedule } from './builds.ts';

export interface JobRecord {
  id: number;
  name: string;
  pipelineId: number;
  pipelineName: string;
  pipelineInstanceVars: Record<string, unknown> | null;
  teamId: number;
  teamName: string;
  config: Job;
  active: boolean;
  paused: boolean;
  pipelinePaused: boolean;
  pipelineArchived: boolean;
  public: boolean;
  /** Effective: 1 for serial / serial_groups, else max_in_flight, 0 = unlimited. */
  maxInFlight: number;
  tags: string[];
  disableManualTrigger: boolean;
  disableReruns: boolean;
  buildNumberSeq: number;
  inputsDetermined: boolean;
  hasNewInputs: boolean;
  maxInFlightReached: boolean;
  latestCompletedBuildId: number | null;
  nextBuildId: number | null;
  transitionBuildId: number | null;
  serialGroups: string[];
}

interface JobRow extends Record<string, unknown> {
  id: number;
  name: string;
  pipeline_id: number;
  pipeline_name: string;
  pipeline_instance_vars: Record<string, unknown> | null;
  team_id: number;
  team_name: string;
  config: Job;
  active: boolean;
  paused: boolean;
  pipeline_paused: boolean;
  pipeline_archived: boolean;
  public: boolean;
  max_in_flight: number;
  tags: string[];
  disable_manual_trigger: boolean;
  disable_reruns: boolean;
  build_number_seq: number;
  inputs_determined: boolean;
  has_new_inputs: boolean;
  max_in_flight_reached: boolean;
  latest_completed_build_id: number | null;
  next_build_id: number | null;
  transition_build_id: number | null;
  serial_groups: string[];
}

const JOB_COLUMNS = `j.id, j.name, j.pipeline_id, p.name AS pipeline_name, p.instance_vars AS pipeline_instance_vars,
    p.team_id, t.name AS team_name, j.config, j.active, j.paused, p.paused AS pipeline_paused,
    p.archived AS pipeline_archived, j.public, j.max_in_flight, j.tags, j.disable_manual_trigger, j.disable_reruns,
    j.build_number_seq, j.inputs_determined, j.has_new_inputs, j.max_in_flight_reached,
    j.latest_completed_build_id, j.next_build_id, j.transition_build_id,
    ARRAY(SELECT serial_group FROM jobs_serial_groups g WHERE g.job_id = j.id ORDER BY serial_group) AS serial_groups`;
const JOB_FROM = 'FROM jobs j JOIN pipelines p ON p.id = j.pipeline_id JOIN teams t ON t.id = p.team_id';
const JOB_SELECT = `SELECT ${JOB_COLUMNS}
  ${JOB_FROM}`;

function toJob(r: JobRow): JobRecord {
  return {
    id: r.id,
    name: r.name,
    pipelineId: r.pipeline_id,
    pipelineName: r.pipeline_name,
    pipelineInstanceVars: r.pipeline_instance_vars,
    teamId: r.team_id,
    teamName: r.team_name,
    config: r.config,
    active: r.active,
    paused: r.paused,
    pipelinePaused: r.pipeline_paused,
    pipelineArchived: r.pipeline_archived,
    public: r.public,
    maxInFlight: r.max_in_flight,
    tags: r.tags,
    disableManualTrigger: r.disable_manual_trigger,
    disableReruns: r.disable_reruns,
    buildNumberSeq: r.build_number_seq,
    inputsDetermined: r.inputs_determined,
    hasNewInputs: r.has_new_inputs,
    maxInFlightReached: r.max_in_flight_reached,
    latestCompletedBuildId: r.latest_completed_build_id,
    nextBuildId: r.next_build_id,
    transitionBuildId: r.transition_build_id,
    serialGroups: r.serial_groups,
  };
}

export async function getJob(db: Queryable, jobId: number): Promise<JobRecord | undefined> {
  const r = await db.query<JobRow>(`${JOB_SELECT} WHERE j.id = $1`, [jobId]);
  const row = r.rows[0];
  return row ? toJob(row) : undefined;
}

export async function mustGetJob(db: Queryable, jobId: number): Promise<JobRecord> {
  const job = await getJob(db, jobId);
  if (!job) throw new NotFoundError(`job ${jobId} not found`);
  return job;
}

/** An active job of a pipeline by name. */
export async function findJob(db: Queryable, pipelineId: number, name: string): Promise<JobRecord | undefined> {
  const r = await db.query<JobRow>(`${JOB_SELECT} WHERE j.pipeline_id = $1 AND j.name = $2 AND j.active`, [pipelineId, name]);
  const row = r.rows[0];
  return row ? toJob(row) : undefined;
}

export interface JobSummary extends JobRecord {
  nextBuild: BuildSummary | null;
  finishedBuild: BuildSummary | null;
  transitionBuild: BuildSummary | null;
}

/** The active jobs of a pipeline in config order, with next/finished/transition builds. */
export async function listJobs(db: Queryable, pipelineId: number): Promise<JobSummary[]> {
  return (await listJobsOfPipelines(db, [pipelineId])).get(pipelineId) ?? [];
}

/**
 * The active jobs of several pipelines, by pipeline, in two statements whatever their number
 * (GET /api/v1/jobs across a thousand pipelines: test/api/statements.test.ts).
 */
export async function listJobsOfPipelines(db: Queryable, pipelineIds: readonly number[]): Promise<Map<number, JobSummary[]>> {
  const byPipeline = new Map<number, JobSummary[]>(pipelineIds.map((id) => [id, []]));
  if (pipelineIds.length === 0) return byPipeline;
  const r = await db.query<JobRow>(`${JOB_SELECT} WHERE j.pipeline_id = ANY($1::int[]) AND j.active ORDER BY j.pipeline_id, j.ordering, j.id`, [pipelineIds]);
  const jobs = r.rows.map(toJob);
  const ids = [
    ...new Set(jobs.flatMap((j) => [j.nextBuildId, j.latestCompletedBuildId, j.transitionBuildId]).filter((x): x is number => x !== null)),
  ];
  const builds = await getBuildSummaries(db, ids);
  const pick = (id: number | null): BuildSummary | null => (id === null ? null : (builds.get(id) ?? null));
  for (const j of jobs) {
    byPipeline.get(j.pipelineId)?.push({
      ...j,
      nextBuild: pick(j.nextBuildId),
      finishedBuild: pick(j.latestCompletedBuildId),
      transitionBuild: pick(j.transitionBuildId),
    });
  }
  return byPipeline;
}

export async function pauseJob(db: Queryable, jobId: number, by?: string): Promise<void> {
  const r = await db.query('UPDATE jobs SET paused = true, paused_by = $2, paused_at = now() WHERE id = $1', [jobId, by ?? null]);
  if (r.rowCount === 0) throw new NotFoundError(`job ${jobId} not found`);
}

/** Unpauses the job and requests its scheduling (pending builds may start now). */
export async function unpauseJob(db: Queryable, jobId: number): Promise<void> {
  const r = await db.query(
    'UPDATE jobs SET paused = false, paused_by = NULL, paused_at = NULL, schedule_requested = clock_timestamp() WHERE id = $1',
    [jobId],
  );
  if (r.rowCount === 0) throw new NotFoundError(`job ${jobId} not found`);
}

// ------------------------------------------------------------------------------ scheduling

export interface DueJob {
  id: number;
  /** schedule_requested as Postgres text (full microsecond precision), to store back as last_scheduled. */
  scheduleRequested: string;
}

/** A job to schedule with what its pass reads of it, read for many jobs at once. */
export interface JobToSchedule extends DueJob {
  job: JobRecord;
  inputs: JobInputConfig[];
  /** It had a pending build when read (a build created later also requests scheduling again). */
  hasPendingBuild: boolean;
}

/**
 * The due jobs, or the given ones, each with its inputs, in one statement whatever their number
 * (a pass over a thousand due jobs reads them once, not per job: issue 23). Read outside the
 * jobs' locks, as Concourse's JobsToSchedule: a job changed since (a new config, a trigger)
 * requested scheduling again, later than the schedule_requested read here, so it stays due.
 */
export async function jobsToSchedule(db: Queryable, jobIds?: readonly number[]): Promise<JobToSchedule[]> {
  const where = jobIds ? 'j.id = ANY($1::int[])' : 'j.active AND j.schedule_requested > j.last_scheduled';
  // each job's inputs come with it, as JSON rows of jobInputConfigsOf's shape
  const r = await db.query<JobRow & { requested: string; has_pending: boolean; inputs: JobInputRow[] }>(
    `SELECT ${JOB_COLUMNS}, j.schedule_requested::text AS requested,
       EXISTS (SELECT 1 FROM builds b WHERE b.job_id = j.id AND b.status = 'pending') AS has_pending,
       (SELECT coalesce(json_agg(json_build_object('job_id', ji.job_id, 'name', ji.name, 'resource_id', ji.resource_id,
                 'resource_name', r.name, 'passed_job_id', ji.passed_job_id, 'trigger', ji.trigger, 'version', ji.version,
                 'pin', rp.version) ORDER BY ji.id), '[]')
          FROM job_inputs ji JOIN resources r ON r.id = ji.resource_id
          LEFT JOIN resource_pins rp ON rp.resource_id = ji.resource_id
         WHERE ji.job_id = j.id) AS inputs
     ${JOB_FROM} WHERE ${where} ORDER BY j.id`,
    jobIds ? [jobIds] : [],
  );
  const inputs = groupJobInputs(r.rows.flatMap((row) => row.inputs));
  return r.rows.map((row) => ({
    id: row.id,
    scheduleRequested: row.requested,
    job: toJob(row),
    inputs: inputs.get(row.id) ?? [],
    hasPendingBuild: row.has_pending,
  }));
}

/** Stores each job's last_scheduled = the schedule_requested read with it, in one statement. */
export async function markJobsScheduled(db: Queryable, jobs: readonly DueJob[]): Promise<void> {
  if (jobs.length === 0) return;
  await db.query(
    `UPDATE jobs j SET last_scheduled = d.requested
       FROM unnest($1::int[], $2::timestamptz[]) AS d(id, requested)
      WHERE j.id = d.id AND j.last_scheduled < d.requested`,
    [jobs.map((j) => j.id), jobs.map((j) => j.scheduleRequested)],
  );
}

/** One get-input of a job, as configured (job_inputs rows of one name), plus its pin. */
export interface JobInputConfig {
  name: string;
  resourceId: number;
  resourceName: string;
  passed: number[];
  trigger: boolean;
  version: 'latest' | 'every' | Version;
  /** The resource's pin (config or API), if any. */
  resourcePin: Version | null;
}

/** A job's inputs in config order (one entry per input name). */
export async function jobInputConfigs(db: Queryable, jobId: number): Promise<JobInputConfig[]> {
  return (await jobInputConfigsOf(db, [jobId])).get(jobId) ?? [];
}

/** A job_inputs row with its resource's name and pin, as jobInputConfigsOf and jobsToSchedule read it. */
interface JobInputRow extends Record<string, unknown> {
  job_id: number;
  name: string;
  resource_id: number;
  resource_name: string;
  passed_job_id: number | null;
  trigger: boolean;
  version: 'latest' | 'every' | Version;
  pin: Version | null;
}

/** The inputs of several jobs, by job, in one statement. */
export async function jobInputConfigsOf(db: Queryable, jobIds: readonly number[]): Promise<Map<number, JobInputConfig[]>> {
  if (jobIds.length === 0) return new Map();
  const r = await db.query<JobInputRow>(
    `SELECT ji.job_id, ji.name, ji.resource_id, r.name AS resource_name, ji.passed_job_id, ji.trigger, ji.version, rp.version AS pin
       FROM job_inputs ji JOIN resources r ON r.id = ji.resource_id
       LEFT JOIN resource_pins rp ON rp.resource_id = ji.resource_id
      WHERE ji.job_id = ANY($1::int[]) ORDER BY ji.job_id, ji.id`,
    [jobIds],
  );
  return groupJobInputs(r.rows);
}

/** Rows of job_inputs (in config order per job) as each job's inputs, one entry per input name. */
function groupJobInputs(rows: readonly JobInputRow[]): Map<number, JobInputConfig[]> {
  const byJob = new Map<number, Map<string, JobInputConfig>>();
  for (const row of rows) {
    let inputs = byJob.get(row.job_id);
    if (!inputs) byJob.set(row.job_id, (inputs = new Map()));
    let input = inputs.get(row.name);
    if (!input) {
      input = {
        name: row.name,
        resourceId: row.resource_id,
        resourceName: row.resource_name,
        passed: [],
        trigger: row.trigger,
        version: row.version,
        resourcePin: row.pin,
      };
      inputs.set(row.name, input);
    }
    if (row.passed_job_id !== null && !input.passed.includes(row.passed_job_id)) input.passed.push(row.passed_job_id);
  }
  return new Map([...byJob].map(([id, inputs]) => [id, [...inputs.values()]]));
}

/** Pure: the pinned version of an input: the step's `version: {…}`, else the resource pin. */
export function inputPin(input: JobInputConfig): Version | undefined {
  if (typeof input.version === 'object') return input.version;
  return input.resourcePin ?? undefined;
}

/** Pure: `job.AlgorithmInputs()`. */
export function toAlgorithmInputs(inputs: readonly JobInputConfig[]): AlgorithmInput[] {
  return inputs.map((input) => {
    const pinned = inputPin(input);
    return {
      name: input.name,
      resourceId: input.resourceId,
      passed: new Set(input.passed),
      useEvery: input.version === 'every',
      ...(pinned ? { pinnedVersion: pinned } : {}),
      trigger: input.trigger,
    };
  });
}

/**
 * `SaveNextInputMapping`: inputs_determined = ok; next_build_inputs made one row per input
 * (version or resolve_error); next_build_pipes made the vouching builds. One statement (a pass
 * saves a mapping per due job: issue 23), and rows that did not change are not rewritten, as
 * Concourse's saveJobInputMapping compares with the stored mapping (no dead tuples for an
 * unchanged mapping, pass after pass). `hasNewInputs`, the trigger decision's, is stored with it
 * (left as it is when undefined).
 */
export async function saveNextInputMapping(db: Queryable, jobId: number, result: ComputeResult, hasNewInputs?: boolean): Promise<void> {
  await saveNextInputMappings(db, [{ jobId, result, ...(hasNewInputs !== undefined ? { hasNewInputs } : {}) }]);
}

export interface NextInputMapping {
  jobId: number;
  result: ComputeResult;
  /** the trigger decision's has_new_inputs (undefined: left as it is) */
  hasNewInputs?: boolean;
}

/**
 * SaveNextInputMapping of several jobs in one statement (a scheduling pass saves its jobs'
 * together): each job's inputs_determined and has_new_inputs, its next_build_inputs and
 * next_build_pipes, rewriting no row that did not change (as Concourse's saveJobInputMapping
 * compares). A job given twice keeps its last mapping.
 */
export async function saveNextInputMappings(db: Queryable, mappings: readonly NextInputMapping[]): Promise<void> {
  const byJob = new Map(mappings.map((m) => [m.jobId, m]));
  if (byJob.size === 0) return;
  const jobs = { ids: [] as number[], ok: [] as boolean[], hasNew: [] as (boolean | null)[] };
  const inputs = {
    jobIds: [] as number[],
    names: [] as string[],
    resourceIds: [] as (number | null)[],
    digests: [] as (string | null)[],
    firsts: [] as boolean[],
    errors: [] as (string | null)[],
  };
  const pipes = { jobIds: [] as number[], buildIds: [] as number[] };
  for (const { jobId, result, hasNewInputs } of byJob.values()) {
    jobs.ids.push(jobId);
    jobs.ok.push(result.ok);
    jobs.hasNew.push(hasNewInputs ?? null);
    const passed = new Set<number>();
    for (const [name, input] of Object.entries(result.mapping)) {
      inputs.jobIds.push(jobId);
      inputs.names.push(name);
      if (isResolveError(input)) {
        inputs.resourceIds.push(null);
        inputs.digests.push(null);
        inputs.firsts.push(false);
        inputs.errors.push(input.resolveError);
        continue;
      }
      inputs.resourceIds.push(input.resourceId);
      inputs.digests.push(input.versionDigest);
      inputs.firsts.push(input.firstOccurrence);
      inputs.errors.push(null);
      for (const b of input.passedBuildIds) passed.add(b);
    }
    for (const b of passed) {
      pipes.jobIds.push(jobId);
      pipes.buildIds.push(b);
    }
  }
  await db.query(
    `WITH j AS (
       SELECT * FROM unnest($1::int[], $2::bool[], $3::bool[]) AS j(id, ok, has_new)
     ), m AS (
       SELECT * FROM unnest($4::int[], $5::text[], $6::int[], $7::text[], $8::bool[], $9::text[])
         AS m(job_id, name, resource_id, digest, first, error)
     ), p AS (
       SELECT * FROM unnest($10::int[], $11::int[]) AS p(job_id, build_id)
     ), job AS (
       UPDATE jobs t SET inputs_determined = j.ok, has_new_inputs = coalesce(j.has_new, t.has_new_inputs)
         FROM j
        WHERE t.id = j.id AND (t.inputs_determined <> j.ok OR t.has_new_inputs <> coalesce(j.has_new, t.has_new_inputs))
     ), gone AS (
       DELETE FROM next_build_inputs n USING j
        WHERE n.job_id = j.id AND NOT EXISTS (SELECT 1 FROM m WHERE m.job_id = n.job_id AND m.name = n.input_name)
     ), inputs AS (
       INSERT INTO next_build_inputs AS n (job_id, input_name, resource_id, version_digest, first_occurrence, resolve_error)
       SELECT m.job_id, m.name, m.resource_id, m.digest, m.first, m.error FROM m
       ON CONFLICT (job_id, input_name) DO UPDATE
         SET resource_id = excluded.resource_id, version_digest = excluded.version_digest,
             first_occurrence = excluded.first_occurrence, resolve_error = excluded.resolve_error
         WHERE (n.resource_id, n.version_digest, n.first_occurrence, n.resolve_error)
               IS DISTINCT FROM (excluded.resource_id, excluded.version_digest, excluded.first_occurrence, excluded.resolve_error)
     ), pipes_gone AS (
       DELETE FROM next_build_pipes x USING j
        WHERE x.to_job_id = j.id AND NOT EXISTS (SELECT 1 FROM p WHERE p.job_id = x.to_job_id AND p.build_id = x.from_build_id)
     )
     INSERT INTO next_build_pipes (to_job_id, from_build_id) SELECT job_id, build_id FROM p ON CONFLICT DO NOTHING`,
    [jobs.ids, jobs.ok, jobs.hasNew, inputs.jobIds, inputs.names, inputs.resourceIds, inputs.digests, inputs.firsts, inputs.errors, pipes.jobIds, pipes.buildIds],
  );
}

export interface NextBuildInput {
  name: string;
  resourceId: number | null;
  versionDigest: string | null;
  firstOccurrence: boolean;
  resolveError: string | null;
}

export async function nextBuildInputs(db: Queryable, jobId: number): Promise<NextBuildInput[]> {
  const r = await db.query<{
    input_name: string;
    resource_id: number | null;
    version_digest: string | null;
    first_occurrence: boolean;
    resolve_error: string | null;
  }>('SELECT input_name, resource_id, version_digest, first_occurrence, resolve_error FROM next_build_inputs WHERE job_id = $1 ORDER BY input_name', [
    jobId,
  ]);
  return r.rows.map((row) => ({
    name: row.input_name,
    resourceId: row.resource_id,
    versionDigest: row.version_digest,
    firstOccurrence: row.first_occurrence,
    resolveError: row.resolve_error,
  }));
}

// ------------------------------------------------------------------------------ ScheduleBuild

/** Advisory-lock class serialising ScheduleBuild within a serial group. */
const SERIAL_GROUP_LOCK_CLASS = 0x6a7702;

export interface ScheduleBuildResult {
  scheduled: boolean;
  /** Not scheduled because the job or pipeline is paused. */
  paused: boolean;
  maxInFlightReached: boolean;
}

/**
 * `ScheduleBuild` (§4.4 step 2): already scheduled → ok; paused → not; with max_in_flight, the
 * count of running builds across the job's serial groups (the implicit one named after the job
 * included) must be below it and the build must be the oldest pending build of those jobs. The
 * decision itself is `decide` (pure); this reads the facts under per-group locks, stores
 * max_in_flight_reached and sets builds.scheduled.
 */
export async function scheduleBuild(db: Queryable, jobId: number, buildId: number, decide: MaxInFlightDecide): Promise<ScheduleBuildResult> {
  // a job without max_in_flight (nor serial groups) is decided in one statement: nothing to lock
  // or count; any other goes through the transaction under its groups' locks
  const r = await db.query<{ scheduled: boolean | null; paused: boolean | null; done: boolean }>(
    `WITH b AS (SELECT scheduled FROM builds WHERE id = $2),
          j AS (SELECT j.paused OR p.paused AS paused, j.max_in_flight FROM jobs j JOIN pipelines p ON p.id = j.pipeline_id WHERE j.id = $1),
          go AS (SELECT 1 FROM j WHERE NOT j.paused AND j.max_in_flight <= 0 AND NOT coalesce((SELECT scheduled FROM b), false)),
          reached AS (UPDATE jobs SET max_in_flight_reached = false WHERE id = $1 AND max_in_flight_reached AND EXISTS (SELECT 1 FROM go)),
          done AS (UPDATE builds SET scheduled = true WHERE id = $2 AND EXISTS (SELECT 1 FROM go) RETURNING id)
     SELECT (SELECT scheduled FROM b) AS scheduled, (SELECT paused FROM j) AS paused, EXISTS (SELECT 1 FROM done) AS done`,
    [jobId, buildId],
  );
  const row = r.rows[0];
  if (row?.scheduled) return { scheduled: true, paused: false, maxInFlightReached: false };
  if (row?.paused === null || row?.paused === undefined) throw new NotFoundError(`job ${jobId} not found`);
  if (row.paused) return { scheduled: false, paused: true, maxInFlightReached: false };
  if (row.done) return { scheduled: true, paused: false, maxInFlightReached: false };
  return scheduleLimitedBuild(db, jobId, buildId, decide);
}

type MaxInFlightDecide = (f: { maxInFlight: number; running: number; oldestPendingBuildId: number | undefined; buildId: number }) => {
  scheduled: boolean;
  maxInFlightReached: boolean;
};

/** ScheduleBuild of a job with max_in_flight (serial, or in serial groups): the facts read under the groups' locks. */
async function scheduleLimitedBuild(db: Queryable, jobId: number, buildId: number, decide: MaxInFlightDecide): Promise<ScheduleBuildResult> {
  return db.transaction(async (tx) => {
    const b = await tx.query<{ scheduled: boolean }>('SELECT scheduled FROM builds WHERE id = $1', [buildId]);
    if (b.rows[0]?.scheduled) return { scheduled: true, paused: false, maxInFlightReached: false };
    const j = await tx.query<{ name: string; paused: boolean; pipeline_paused: boolean; max_in_flight: number; groups: string[] }>(
      `SELECT j.name, j.paused, p.paused AS pipeline_paused, j.max_in_flight,
              ARRAY(SELECT serial_group FROM jobs_serial_groups WHERE job_id = j.id ORDER BY serial_group) AS groups
         FROM jobs j JOIN pipelines p ON p.id = j.pipeline_id WHERE j.id = $1`,
      [jobId],
    );
    const job = j.rows[0];
    if (!job) throw new NotFoundError(`job ${jobId} not found`);
    if (job.paused || job.pipeline_paused) return { scheduled: false, paused: true, maxInFlightReached: false };

    let decision = { scheduled: true, maxInFlightReached: false };
    if (job.max_in_flight > 0) {
      const groups = job.groups.length > 0 ? job.groups : [job.name];
      for (const g of [...groups].sort()) {
        await tx.query(`SELECT pg_advisory_xact_lock($1, hashtext((SELECT pipeline_id FROM jobs WHERE id = $2)::text || '/' || $3))`, [
          SERIAL_GROUP_LOCK_CLASS,
          jobId,
          g,
        ]);
      }
      // the jobs sharing a group: of the same pipeline (serial groups are per pipeline)
      const members = `SELECT g.job_id FROM jobs_serial_groups g JOIN jobs gj ON gj.id = g.job_id
                        WHERE gj.pipeline_id = (SELECT pipeline_id FROM jobs WHERE id = $1) AND g.serial_group = ANY($2::text[])
                       UNION SELECT $1`;
      const running = await tx.query<{ n: number }>(
        `SELECT count(*)::int AS n FROM builds b WHERE b.job_id IN (${members}) AND b.scheduled AND NOT b.completed`,
        [jobId, groups],
      );
      const oldest = await tx.query<{ id: number }>(
        `SELECT b.id FROM builds b JOIN jobs bj ON bj.id = b.job_id JOIN pipelines p ON p.id = bj.pipeline_id
          WHERE b.job_id IN (${members}) AND b.status = 'pending' AND NOT b.aborted
            AND bj.inputs_determined AND NOT bj.paused AND NOT p.paused
          ORDER BY coalesce(b.rerun_of, b.id) ASC, b.id ASC LIMIT 1`,
        [jobId, groups],
      );
      decision = decide({
        maxInFlight: job.max_in_flight,
        running: running.rows[0]?.n ?? 0,
        oldestPendingBuildId: oldest.rows[0]?.id,
        buildId,
      });
    }
    await tx.query('UPDATE jobs SET max_in_flight_reached = $2 WHERE id = $1 AND max_in_flight_reached <> $2', [
      jobId,
      decision.maxInFlightReached,
    ]);
    if (decision.scheduled) await tx.query('UPDATE builds SET scheduled = true WHERE id = $1', [buildId]);
    return { scheduled: decision.scheduled, paused: false, maxInFlightReached: decision.maxInFlightReached };
  });
}
