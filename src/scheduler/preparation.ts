// Why a build waits: `GET /builds/:id/preparation` (docs/concourse-semantics.md §7.2), and the
// one-line reason of a pending build or of a job that will not run (the build and job JSON). The
// facts are read now (pause, archive, checks, versions, the builds holding max-in-flight) and from
// what the scheduler's last pass stored (next_build_inputs): the decision is pendingReasons().
import { getBuild, mustGetBuild, pendingBuilds, type BuildRecord } from '../db/builds.ts';
import type { Queryable } from '../db/database.ts';
import { inputPin, jobInputConfigs, mustGetJob, nextBuildInputs, type JobInputConfig, type JobRecord } from '../db/jobs.ts';
import { inputResourceStates, jobSuccesses, pinnedVersionExists, serialGroupState, type InputResourceState } from '../db/pending-facts.ts';
import { scopeFreshness } from '../db/resources.ts';
import { readinessInputs } from './build-starter.ts';
import { buildReadiness, pendingBuildKind } from './decisions.ts';
import { describePendingReason, pendingReasonLine, pendingReasons, type CheckState, type PendingFacts, type PendingReason } from './pending-reasons.ts';

export type PreparationStatus = 'blocking' | 'not_blocking';

export interface BuildPreparation {
  build_id: number;
  paused_pipeline: PreparationStatus;
  paused_job: PreparationStatus;
  max_running_builds: PreparationStatus;
  inputs: Record<string, PreparationStatus>;
  inputs_satisfied: PreparationStatus;
  missing_input_reasons: Record<string, string>;
  /** Jetway: every reason the build does not start, one line each, most fundamental first. */
  reasons: string[];
}

/** A check error as one bounded line (the full text is in the check build's log). */
function oneLine(text: string): string {
  const line = text.trim().split('\n')[0] ?? '';
  return line.length > 300 ? `${line.slice(0, 299)}…` : line;
}

/** Pure: the latest check of a resource, from its state. */
export function checkState(s: InputResourceState | undefined): CheckState {
  if (!s) return { status: 'never' };
  if (s.checkBuildStatus === 'pending' || s.checkBuildStatus === 'started') {
    return s.previousCheckError === null ? { status: 'running' } : { status: 'running', previousError: oneLine(s.previousCheckError) };
  }
  if (s.checkBuildStatus === 'succeeded') return { status: 'succeeded' };
  if (s.checkBuildStatus !== null) return { status: 'failed', error: oneLine(s.checkError ?? `the check build ${s.checkBuildStatus}`) };
  if (!s.scopeChecked) return { status: 'never' };
  return s.scopeCheckSucceeded ? { status: 'succeeded' } : { status: 'failed', error: 'the last check failed' };
}

const withoutError = (c: CheckState): CheckState =>
  c.status === 'failed' ? { status: 'failed', error: '' } : c.status === 'running' && c.previousError !== undefined ? { status: 'running', previousError: '' } : c;

const pinText = (pin: Record<string, string>): string =>
  Object.keys(pin)
    .sort()
    .map((k) => `${k}:${pin[k] ?? ''}`)
    .join(',');

/** Who reads the reasons: a reader outside the team (a public pipeline's) sees no check error text. */
export interface ReasonReader {
  showCheckErrors: boolean;
}

const TEAM_READER: ReasonReader = { showCheckErrors: true };

/**
 * The facts about the job and, when given, one of its pending builds: without a build, those of
 * a build that would be created now (no max-in-flight, no checks to wait for).
 */
export async function pendingFacts(
  db: Queryable,
  job: JobRecord,
  build?: BuildRecord,
  inputs?: readonly JobInputConfig[],
  reader: ReasonReader = TEAM_READER,
): Promise<PendingFacts> {
  const configs = inputs ?? (await jobInputConfigs(db, job.id));
  const resourceIds = [...new Set(configs.map((i) => i.resourceId))];
  const [next, states, passedJobs] = await Promise.all([
    nextBuildInputs(db, job.id),
    inputResourceStates(db, resourceIds),
    jobSuccesses(db, [...new Set(configs.flatMap((i) => i.passed))]),
  ]);
  const resolveErrors = new Map(next.map((n) => [n.name, n.resolveError]));

  let waiting = new Set<string>();
  let running: PendingFacts['running'] = [];
  let olderPending: PendingFacts['olderPending'];
  if (build) {
    const kind = pendingBuildKind(build);
    const readiness = buildReadiness(kind, readinessInputs(configs, await scopeFreshness(db, resourceIds, build.id)));
    waiting = new Set(readiness.waitingFor);
    // scheduleBuild lets a build it scheduled once go on
    if (!build.scheduled && job.maxInFlight > 0) {
      const group = await serialGroupState(db, job.id);
      running = group.running.map((b) => ({ job: b.job, name: b.name }));
      if (group.firstPending && group.firstPending.id !== build.id) olderPending = { job: group.firstPending.job, name: group.firstPending.name };
    }
  }

  const factsOfInputs: PendingFacts['inputs'] = [];
  for (const i of configs) {
    const state = states.get(i.resourceId);
    const pin = inputPin(i);
    factsOfInputs.push({
      name: i.name,
      resource: i.resourceName,
      resolveError: resolveErrors.has(i.name) ? (resolveErrors.get(i.name) ?? null) : undefined,
      passed: i.passed.map((id) => ({ job: passedJobs.get(id)?.name ?? String(id), succeeded: passedJobs.get(id)?.succeeded ?? false })),
      ...(pin ? { pinned: pinText(pin), pinFound: await pinnedVersionExists(db, i.resourceId, pin) } : {}),
      hasVersions: state?.hasVersions ?? false,
      hasEnabledVersions: state?.hasEnabledVersions ?? false,
      check: reader.showCheckErrors ? checkState(state) : withoutError(checkState(state)),
      waitingForCheck: waiting.has(i.name),
    });
  }
  return {
    pipeline: job.pipelineName,
    job: job.name,
    pipelineArchived: job.pipelineArchived,
    pipelinePaused: job.pipelinePaused,
    jobPaused: job.paused,
    rerun: build !== undefined && build.rerunOf !== null,
    maxInFlight: job.maxInFlight,
    // `serial: true` is stored as a group named after the job (as Concourse does): not a group to name
    serialGroups: job.serialGroups.length === 1 && job.serialGroups[0] === job.name ? [] : job.serialGroups,
    running,
    ...(olderPending ? { olderPending } : {}),
    inputsDetermined: job.inputsDetermined,
    inputs: factsOfInputs,
  };
}

/** Pure: Concourse's preparation fields from the reasons (Concourse's web UI lists them). */
export function preparationOf(buildId: number, f: PendingFacts, reasons: readonly PendingReason[]): BuildPreparation {
  const blocking = (b: boolean): PreparationStatus => (b ? 'blocking' : 'not_blocking');
  const has = (kind: PendingReason['kind']): boolean => reasons.some((r) => r.kind === kind);
  const inputs: Record<string, PreparationStatus> = {};
  const missing: Record<string, string> = {};
  for (const i of f.inputs) inputs[i.name] = 'not_blocking';
  for (const r of reasons) {
    if (r.kind !== 'input' && r.kind !== 'waiting-for-check') continue;
    inputs[r.input] = 'blocking';
    missing[r.input] = describePendingReason(r, f).replace(/^input [^:]+: /, '');
  }
  return {
    build_id: buildId,
    paused_pipeline: blocking(has('pipeline-paused') || has('pipeline-archived')),
    paused_job: blocking(has('job-paused')),
    max_running_builds: blocking(has('max-in-flight') || has('older-pending')),
    inputs,
    inputs_satisfied: blocking(has('input') || has('waiting-for-check') || has('inputs-not-resolved')),
    missing_input_reasons: missing,
    reasons: reasons.map((r) => describePendingReason(r, f)),
  };
}

/** The preparation view of a build: nothing blocks a build that is not a pending job build. */
export async function buildPreparation(db: Queryable, buildId: number, reader: ReasonReader = TEAM_READER): Promise<BuildPreparation> {
  const build = await mustGetBuild(db, buildId);
  const clear: BuildPreparation = {
    build_id: buildId,
    paused_pipeline: 'not_blocking',
    paused_job: 'not_blocking',
    max_running_builds: 'not_blocking',
    inputs: {},
    inputs_satisfied: 'not_blocking',
    missing_input_reasons: {},
    reasons: [],
  };
  if (build.jobId === null) return clear;
  const job = await mustGetJob(db, build.jobId);
  const inputs = await jobInputConfigs(db, job.id);
  if (build.status !== 'pending') return { ...clear, inputs: Object.fromEntries(inputs.map((i) => [i.name, 'not_blocking' as const])) };
  const facts = await pendingFacts(db, job, build, inputs, reader);
  return preparationOf(buildId, facts, pendingReasons(facts));
}

/** The reasons of pending job builds, by build id (one line each); other builds have none. */
export async function pendingReasonsOfBuilds(
  db: Queryable,
  builds: readonly BuildRecord[],
  readerOf: (b: BuildRecord) => ReasonReader = () => TEAM_READER,
): Promise<Map<number, string>> {
  const out = new Map<number, string>();
  const jobs = new Map<number, { job: JobRecord; inputs: JobInputConfig[] }>();
  for (const b of builds) {
    if (b.status !== 'pending' || b.jobId === null) continue;
    let j = jobs.get(b.jobId);
    if (!j) {
      const job = await mustGetJob(db, b.jobId);
      j = { job, inputs: await jobInputConfigs(db, job.id) };
      jobs.set(b.jobId, j);
    }
    const line = pendingReasonLine(await pendingFacts(db, j.job, b, j.inputs, readerOf(b)));
    if (line) out.set(b.id, line);
  }
  return out;
}

/**
 * Why the job will not run now: its first pending build's reason, else what would hold a new one.
 * `nextBuild` is the job's oldest pending or started build (jobs.next_build_id).
 */
export async function jobPendingReason(
  db: Queryable,
  job: JobRecord,
  nextBuild: Pick<BuildRecord, 'id' | 'status'> | null,
  reader: ReasonReader = TEAM_READER,
): Promise<string | undefined> {
  // a list reads the job's builds as summaries: a pending one is read whole for its reason
  const pendingNext = nextBuild?.status === 'pending' ? await getBuild(db, nextBuild.id) : undefined;
  if (pendingNext?.status === 'pending') return pendingReasonLine(await pendingFacts(db, job, pendingNext, undefined, reader));
  if (nextBuild?.status === 'started') {
    // a running build: a pending one behind it waits for max-in-flight, say so
    const [pending] = await pendingBuilds(db, job.id);
    if (pending) return pendingReasonLine(await pendingFacts(db, job, pending, undefined, reader));
  }
  // cheap cases first: a job whose inputs resolved and that nothing pauses has nothing to say
  if (!job.pipelineArchived && !job.pipelinePaused && !job.paused && job.inputsDetermined) return undefined;
  return pendingReasonLine(await pendingFacts(db, job, undefined, undefined, reader));
}
