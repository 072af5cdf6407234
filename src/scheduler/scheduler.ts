// The scheduling loop (docs/concourse-semantics.md §4.1): every interval (10 s by default), or when nudged,
// schedule each job whose schedule_requested > last_scheduled, one at a time per job under a
// per-job Postgres advisory lock. A pass reads its due jobs with their inputs at once, and takes,
// marks and releases their locks a chunk at a time; a chunk's jobs are scheduled together, their
// algorithm reads and mappings batched across them (issue 23: a thousand jobs due in one pass).
import { COMPONENT } from '../component/names.ts';
import { silentLogger, type Logger } from '../log.ts';
import { PeriodicPass, type PassGate } from '../component/periodic.ts';
import { BatchedVersionsStore, batchedMappingSaver } from '../db/algorithm-batch.ts';
import { PostgresVersionsStore } from '../db/algorithm-store.ts';
import { ensurePendingBuildExists } from '../db/builds.ts';
import type { Database } from '../db/database.ts';
import { CONNECTIONS_BESIDE_LOCKS, DEFAULT_POOL_SIZE } from '../db/pool-size.ts';
import { withJobSchedulingLocks } from '../db/scheduling.ts';
import {
  jobsToSchedule,
  markJobsScheduled,
  requestJobSchedule,
  saveNextInputMapping,
  toAlgorithmInputs,
  type JobToSchedule,
  type NextInputMapping,
} from '../db/jobs.ts';
import { computeInputs, passSharedStore, type VersionsStore } from './algorithm/index.ts';
import { tryStartPendingBuildsForJob, type StartOutcome } from './build-starter.ts';
import { triggerDecision } from './decisions.ts';
import type { BuildTracker, CheckRequester } from './interfaces.ts';

export const DEFAULT_SCHEDULER_INTERVAL_MS = 10_000;
const DEFAULT_CONCURRENCY = 4;

/**
 * Chunks a pass schedules at once on a pool of `poolSize` connections. Each chunk holds a
 * connection for its locks while its jobs' work takes others from the same pool: with as many
 * chunks as free connections, every connection would hold locks and wait for another, until the
 * pool's connect timeout failed them all. So a connection is always left for the work.
 */
export function schedulingConcurrency(requested: number, poolSize: number): number {
  return Math.max(1, Math.min(requested, poolSize - CONNECTIONS_BESIDE_LOCKS));
}
/** Due jobs locked, scheduled and marked together (fewer a chunk when fewer are due). */
const MAX_CHUNK = 64;

export interface SchedulerOptions {
  tracker: BuildTracker;
  checks: CheckRequester;
  /** Time between passes (default 10 s). */
  intervalMs?: number;
  /** Chunks of jobs scheduled at once in a pass (default 4, fewer on a small pool: schedulingConcurrency). */
  concurrency?: number;
  logger?: Logger;
  /** told how long each pass took (src/metrics) */
  metrics?: { schedulingPass(seconds: number): void };
  /** several web nodes: a pass runs once per interval across them (docs/web-nodes.md) */
  cluster?: PassGate;
}

export interface JobScheduleResult {
  jobId: number;
  /** False when another scheduler held the job's lock. */
  locked: boolean;
  needsRetry: boolean;
  /** A pending build was created by the trigger decision. */
  createdBuildId?: number;
  outcomes: StartOutcome[];
}

export class Scheduler {
  private readonly tracker: BuildTracker;
  private readonly checks: CheckRequester;
  private readonly intervalMs: number;
  private readonly concurrency: number;
  private readonly logger: Logger;
  private readonly loop: PeriodicPass<JobScheduleResult[]>;
  private readonly metrics: SchedulerOptions['metrics'];

  constructor(
    private readonly db: Database,
    opts: SchedulerOptions,
  ) {
    this.tracker = opts.tracker;
    this.checks = opts.checks;
    this.intervalMs = opts.intervalMs ?? DEFAULT_SCHEDULER_INTERVAL_MS;
    this.concurrency = schedulingConcurrency(opts.concurrency ?? DEFAULT_CONCURRENCY, db.pool.options.max ?? DEFAULT_POOL_SIZE);
    this.logger = opts.logger ?? silentLogger;
    this.metrics = opts.metrics;
    this.loop = new PeriodicPass(
      () => this.pass(),
      this.intervalMs,
      (err) => this.logger.error({ err }, 'scheduling pass failed'),
      opts.cluster ? { cluster: { name: COMPONENT.scheduler, gate: opts.cluster } } : {},
    );
  }

  /** Starts the loop: a pass now, then every interval. */
  start(): void {
    this.loop.start();
  }

  /** Stops the loop and waits for the pass in progress. */
  async stop(): Promise<void> {
    await this.loop.stop();
  }

  /** A nudge: run a pass as soon as possible (nudges made before it begins share it). */
  scheduleNow(): void {
    this.loop.nudge();
  }

  /** One pass, after any pass in progress; tests drive it directly. */
  tick(): Promise<JobScheduleResult[]> {
    return this.loop.runOnce();
  }

  private async pass(): Promise<JobScheduleResult[]> {
    const started = process.hrtime.bigint();
    try {
      return await this.passOverDueJobs();
    } finally {
      this.metrics?.schedulingPass(Number(process.hrtime.bigint() - started) / 1e9);
    }
  }

  private async passOverDueJobs(): Promise<JobScheduleResult[]> {
    const due = await jobsToSchedule(this.db);
    // the jobs of a chunk run together: their reads and mappings are batched across them
    // (db/algorithm-batch.ts), and what every job reads alike is read once a pass (pass-store.ts)
    const pass: PassBatches = { versions: passSharedStore(new BatchedVersionsStore(this.db)), saveMapping: batchedMappingSaver(this.db) };
    const chunk = Math.max(1, Math.min(MAX_CHUNK, Math.ceil(due.length / this.concurrency)));
    const results: JobScheduleResult[] = [];
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < due.length) {
        const jobs = due.slice(next, next + chunk);
        next += jobs.length;
        try {
          results.push(...(await this.scheduleChunk(jobs, pass)));
        } catch (err) {
          // the locks or the marks failed (Postgres gone?): the chunk's jobs stay due for the next pass
          this.logger.error({ jobIds: jobs.map((j) => j.id), err }, 'scheduling jobs failed');
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(this.concurrency, Math.ceil(due.length / chunk)) }, worker));
    return results.sort((a, b) => a.jobId - b.jobId);
  }

  /**
   * Schedules jobs under their locks (those another scheduler holds are skipped, for it to do),
   * all at once (each job is independent of the others, as Concourse schedules its jobs in
   * parallel), and marks those that need no retry scheduled before letting go.
   */
  private async scheduleChunk(jobs: readonly JobToSchedule[], pass?: PassBatches): Promise<JobScheduleResult[]> {
    const deps: ScheduleDeps = { db: this.db, tracker: this.tracker, checks: this.checks, logger: this.logger, ...pass };
    return withJobSchedulingLocks(
      this.db,
      jobs.map((j) => j.id),
      async (locked) => {
        const results: JobScheduleResult[] = [];
        const done: JobToSchedule[] = [];
        await Promise.all(
          jobs.map(async (j) => {
            if (!locked.has(j.id)) {
              results.push({ jobId: j.id, locked: false, needsRetry: true, outcomes: [] });
              return;
            }
            try {
              const r = await scheduleJob(deps, j);
              results.push(r);
              if (!r.needsRetry) done.push(j);
            } catch (err) {
              this.logger.error({ jobId: j.id, err }, 'scheduling a job failed');
            }
          }),
        );
        await markJobsScheduled(this.db, done);
        return results;
      },
    );
  }

  /** Schedules one job under its lock (skipped when another scheduler holds it); tests use it. */
  async scheduleJobLocked(jobId: number, scheduleRequested: string): Promise<JobScheduleResult> {
    const [job] = await jobsToSchedule(this.db, [jobId]);
    if (!job) return { jobId, locked: true, needsRetry: false, outcomes: [] };
    const [r] = await this.scheduleChunk([{ ...job, scheduleRequested }]);
    return r ?? { jobId, locked: true, needsRetry: true, outcomes: [] };
  }
}

/** What the jobs of a pass share: their reads and their mappings' saves, batched. */
interface PassBatches {
  versions: VersionsStore;
  saveMapping: (mapping: NextInputMapping) => Promise<void>;
}

export interface ScheduleDeps extends Partial<PassBatches> {
  db: Database;
  tracker: BuildTracker;
  checks: CheckRequester;
  logger: Logger;
}

/**
 * `Schedule(job)` (§4.1), the caller holding the job's lock, with the job as its pass read it.
 * The caller stores last_scheduled (the schedule_requested read with the job) unless a retry is
 * needed.
 */
export async function scheduleJob(deps: ScheduleDeps, toSchedule: JobToSchedule): Promise<JobScheduleResult> {
  const { db } = deps;
  const { job, inputs } = toSchedule;
  const jobId = job.id;
  const starter = { db, tracker: deps.tracker, checks: deps.checks, logger: deps.logger };

  // 1. paused: only start or abort pending builds
  if (job.paused || job.pipelinePaused || job.pipelineArchived) {
    if (!toSchedule.hasPendingBuild) return { jobId, locked: true, needsRetry: false, outcomes: [] };
    const started = await tryStartPendingBuildsForJob(starter, job, inputs);
    return { jobId, locked: true, needsRetry: started.needsRetry, outcomes: started.outcomes };
  }

  // 2-4. resolve the inputs
  const result = await computeInputs(deps.versions ?? new PostgresVersionsStore(db), jobId, toAlgorithmInputs(inputs));
  if (result.hasNext) await requestJobSchedule(db, jobId);

  // 5-6. the trigger decision, and SaveNextInputMapping with its has_new_inputs
  const decision = result.ok ? triggerDecision(inputs, result.mapping) : undefined;
  const mapping = { jobId, result, ...(decision ? { hasNewInputs: decision.hasNewInputs } : {}) };
  await (deps.saveMapping ? deps.saveMapping(mapping) : saveNextInputMapping(db, jobId, result, mapping.hasNewInputs));
  let createdBuildId: number | undefined;
  if (decision?.createBuild) createdBuildId = await ensurePendingBuildExists(db, jobId);

  // 7. start pending builds (with the inputs_determined just stored); none to start when the
  // job had none and none was just wanted
  if (!toSchedule.hasPendingBuild && !decision?.createBuild) return { jobId, locked: true, needsRetry: false, outcomes: [] };
  const started = await tryStartPendingBuildsForJob(starter, job, inputs, result);
  return {
    jobId,
    locked: true,
    needsRetry: started.needsRetry,
    ...(createdBuildId !== undefined ? { createdBuildId } : {}),
    outcomes: started.outcomes,
  };
}
