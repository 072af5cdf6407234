// The scheduling loop (docs/concourse-semantics.md §4.1): every interval (10 s by default), or when nudged,
// schedule each job whose schedule_requested > last_scheduled, one at a time per job under a
// per-job Postgres advisory lock.
import { COMPONENT } from '../component/names.ts';
import { silentLogger, type Logger } from '../log.ts';
import { PeriodicPass, type PassGate } from '../component/periodic.ts';
import { PostgresVersionsStore } from '../db/algorithm-store.ts';
import { ensurePendingBuildExists } from '../db/builds.ts';
import type { Database } from '../db/database.ts';
import { tryWithJobSchedulingLock } from '../db/scheduling.ts';
import {
  getJob,
  jobInputConfigs,
  jobsDueForScheduling,
  markJobScheduled,
  requestJobSchedule,
  saveNextInputMapping,
  setHasNewInputs,
  toAlgorithmInputs,
} from '../db/jobs.ts';
import { computeInputs } from './algorithm/index.ts';
import { tryStartPendingBuildsForJob, type StartOutcome } from './build-starter.ts';
import { triggerDecision } from './decisions.ts';
import type { BuildTracker, CheckRequester } from './interfaces.ts';

export const DEFAULT_SCHEDULER_INTERVAL_MS = 10_000;

export interface SchedulerOptions {
  tracker: BuildTracker;
  checks: CheckRequester;
  /** Time between passes (default 10 s). */
  intervalMs?: number;
  /** Jobs scheduled in parallel in one pass (default 4; each holds a connection for its lock). */
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
    this.concurrency = Math.max(1, opts.concurrency ?? 4);
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
    const due = await jobsDueForScheduling(this.db);
    const results: JobScheduleResult[] = [];
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < due.length) {
        const job = due[next++]!;
        try {
          results.push(await this.scheduleJobLocked(job.id, job.scheduleRequested));
        } catch (err) {
          this.logger.error({ jobId: job.id, err }, 'scheduling a job failed');
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(this.concurrency, due.length) }, worker));
    return results.sort((a, b) => a.jobId - b.jobId);
  }

  /** Schedules one job under its advisory lock (skipped when another scheduler holds it). */
  async scheduleJobLocked(jobId: number, scheduleRequested: string): Promise<JobScheduleResult> {
    const deps = { db: this.db, tracker: this.tracker, checks: this.checks, logger: this.logger };
    const r = await tryWithJobSchedulingLock(this.db, jobId, () => scheduleJob(deps, jobId, scheduleRequested));
    return r.locked ? r.value : { jobId, locked: false, needsRetry: true, outcomes: [] };
  }
}

export interface ScheduleDeps {
  db: Database;
  tracker: BuildTracker;
  checks: CheckRequester;
  logger: Logger;
}

/**
 * `Schedule(job)` (§4.1), the caller holding the job's lock. `scheduleRequested` is the
 * schedule_requested value read when the job was picked; it becomes last_scheduled unless a
 * retry is needed.
 */
export async function scheduleJob(deps: ScheduleDeps, jobId: number, scheduleRequested: string): Promise<JobScheduleResult> {
  const { db } = deps;
  const job = await getJob(db, jobId);
  if (!job) return { jobId, locked: true, needsRetry: false, outcomes: [] };
  const inputs = await jobInputConfigs(db, jobId);
  const starter = { db, tracker: deps.tracker, checks: deps.checks, logger: deps.logger };

  // 1. paused: only start or abort pending builds
  if (job.paused || job.pipelinePaused || job.pipelineArchived) {
    const started = await tryStartPendingBuildsForJob(starter, job, inputs);
    if (!started.needsRetry) await markJobScheduled(db, jobId, scheduleRequested);
    return { jobId, locked: true, needsRetry: started.needsRetry, outcomes: started.outcomes };
  }

  // 2-4. resolve the inputs
  const result = await computeInputs(new PostgresVersionsStore(db), jobId, toAlgorithmInputs(inputs));
  if (result.hasNext) await requestJobSchedule(db, jobId);

  // 5. SaveNextInputMapping
  await saveNextInputMapping(db, jobId, result);

  // 6. the trigger decision
  let createdBuildId: number | undefined;
  if (result.ok) {
    const decision = triggerDecision(inputs, result.mapping);
    if (decision.createBuild) createdBuildId = await ensurePendingBuildExists(db, jobId);
    await setHasNewInputs(db, jobId, decision.hasNewInputs);
  }

  // 7. start pending builds (with the inputs_determined just stored)
  const fresh = (await getJob(db, jobId)) ?? job;
  const started = await tryStartPendingBuildsForJob(starter, fresh, inputs);

  // 8. done unless a retry is needed
  if (!started.needsRetry) await markJobScheduled(db, jobId, scheduleRequested);
  return {
    jobId,
    locked: true,
    needsRetry: started.needsRetry,
    ...(createdBuildId !== undefined ? { createdBuildId } : {}),
    outcomes: started.outcomes,
  };
}
