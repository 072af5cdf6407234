// Statuses as the UI shows them: a job's or pipeline's colour comes from its builds, as on
// Concourse's dashboard. Pure: used by the browser bundle and table-tested under node.
import type { BuildStatus, Resource } from '../../api/wire.ts';

/** What colours a job: a pipeline's job (atc.Job) or the dashboard's summary of one (atc.JobSummary). */
export interface StatusJob {
  paused?: boolean;
  next_build?: { status: BuildStatus } | null;
  finished_build?: { status: BuildStatus; end_time?: number } | null;
}

/** What a job or pipeline is coloured by: a build status, or paused, or no builds yet. */
export type DisplayStatus = BuildStatus | 'paused' | 'no-builds';

const LABELS: Record<DisplayStatus, string> = {
  pending: 'pending',
  started: 'started',
  succeeded: 'succeeded',
  failed: 'failed',
  errored: 'errored',
  aborted: 'aborted',
  paused: 'paused',
  'no-builds': 'no builds',
};

export function statusLabel(status: DisplayStatus): string {
  return LABELS[status] ?? status;
}

/** The CSS class that colours an element by status (see style.css). */
export function statusClass(status: DisplayStatus): string {
  return `status-${status}`;
}

export function isBuildStatus(value: unknown): value is BuildStatus {
  return value === 'pending' || value === 'started' || value === 'succeeded' || value === 'failed' || value === 'errored' || value === 'aborted';
}

/** Whether a build has ended (no more events will come). */
export function isFinished(status: BuildStatus): boolean {
  return status === 'succeeded' || status === 'failed' || status === 'errored' || status === 'aborted';
}

/**
 * A job's colour: paused wins; a running build shows as started (pulsing); else the latest
 * finished build's status; a build waiting to start shows as pending.
 */
export function jobStatus(job: StatusJob): DisplayStatus {
  if (job.paused) return 'paused';
  if (job.next_build?.status === 'started') return 'started';
  if (job.finished_build) return job.finished_build.status;
  if (job.next_build) return job.next_build.status;
  return 'no-builds';
}

/** Whether a job has a build running or waiting: the dashboard pulses it. */
export function jobIsRunning(job: Pick<StatusJob, 'next_build'>): boolean {
  return job.next_build != null && (job.next_build.status === 'started' || job.next_build.status === 'pending');
}

// The worst status among a pipeline's jobs' latest finished builds names the pipeline, in
// Concourse's order of precedence.
const PRECEDENCE: BuildStatus[] = ['failed', 'errored', 'aborted', 'succeeded'];

/**
 * A pipeline's colour on the dashboard: paused, or the most severe latest status of its jobs;
 * without any finished build, started or pending while one runs or waits. (Whether it runs is
 * shown apart, by jobIsRunning.)
 */
export function pipelineStatus(paused: boolean, jobs: readonly StatusJob[]): DisplayStatus {
  if (paused) return 'paused';
  const finished = new Set(jobs.map((j) => j.finished_build?.status).filter(isBuildStatus));
  for (const s of PRECEDENCE) if (finished.has(s)) return s;
  if (jobs.some((j) => j.next_build?.status === 'started')) return 'started';
  return jobs.some((j) => j.next_build) ? 'pending' : 'no-builds';
}

/**
 * A job's colour in the pipeline graph, as Concourse's: paused, else its latest finished build's
 * status (a running build pulses the box, see jobIsRunning), else pending while one waits.
 */
export function graphJobStatus(job: StatusJob): DisplayStatus {
  if (job.paused) return 'paused';
  return job.finished_build?.status ?? (job.next_build ? 'pending' : 'no-builds');
}

/** Whether a resource's latest check failed or errored (its box, card and page say so). */
export function checkFailing(r: Pick<Resource, 'build'>): boolean {
  return r.build?.status === 'failed' || r.build?.status === 'errored';
}
