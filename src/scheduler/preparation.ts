// `GET /builds/:id/preparation` (docs/concourse-semantics.md §7.2): why a build waits.
import { mustGetBuild } from '../db/builds.ts';
import type { Queryable } from '../db/database.ts';
import { jobInputConfigs, mustGetJob, nextBuildInputs, type NextBuildInput } from '../db/jobs.ts';

export type PreparationStatus = 'blocking' | 'not_blocking';

export interface BuildPreparation {
  build_id: number;
  paused_pipeline: PreparationStatus;
  paused_job: PreparationStatus;
  max_running_builds: PreparationStatus;
  inputs: Record<string, PreparationStatus>;
  inputs_satisfied: PreparationStatus;
  missing_input_reasons: Record<string, string>;
}

export interface PreparationFacts {
  buildId: number;
  /** The build is no longer pending (or is not a job build): nothing blocks it. */
  pending: boolean;
  isJobBuild: boolean;
  /** Reruns take their inputs from the original build. */
  rerun: boolean;
  pipelinePaused: boolean;
  jobPaused: boolean;
  maxInFlightReached: boolean;
  inputsDetermined: boolean;
  /** The job's input names, in config order. */
  inputNames: string[];
  nextInputs: NextBuildInput[];
}

export const NO_VERSION_REASON = 'no versions available';

/** Pure: the preparation view from the facts. */
export function preparationView(f: PreparationFacts): BuildPreparation {
  const view: BuildPreparation = {
    build_id: f.buildId,
    paused_pipeline: 'not_blocking',
    paused_job: 'not_blocking',
    max_running_builds: 'not_blocking',
    inputs: {},
    inputs_satisfied: 'not_blocking',
    missing_input_reasons: {},
  };
  if (!f.isJobBuild) return view;
  if (!f.pending || f.rerun) {
    for (const name of f.inputNames) view.inputs[name] = 'not_blocking';
    if (f.pending) {
      view.paused_pipeline = f.pipelinePaused ? 'blocking' : 'not_blocking';
      view.paused_job = f.jobPaused ? 'blocking' : 'not_blocking';
      view.max_running_builds = f.maxInFlightReached ? 'blocking' : 'not_blocking';
    }
    return view;
  }
  view.paused_pipeline = f.pipelinePaused ? 'blocking' : 'not_blocking';
  view.paused_job = f.jobPaused ? 'blocking' : 'not_blocking';
  view.max_running_builds = f.maxInFlightReached ? 'blocking' : 'not_blocking';
  const byName = new Map(f.nextInputs.map((i) => [i.name, i]));
  let allResolved = true;
  for (const name of f.inputNames) {
    const next = byName.get(name);
    if (next && next.resolveError === null && next.versionDigest !== null) {
      view.inputs[name] = 'not_blocking';
      continue;
    }
    allResolved = false;
    view.inputs[name] = 'blocking';
    view.missing_input_reasons[name] = next?.resolveError ?? NO_VERSION_REASON;
  }
  view.inputs_satisfied = f.inputsDetermined && allResolved ? 'not_blocking' : 'blocking';
  return view;
}

/** The preparation view of a build. */
export async function buildPreparation(db: Queryable, buildId: number): Promise<BuildPreparation> {
  const build = await mustGetBuild(db, buildId);
  if (build.jobId === null) {
    return preparationView({
      buildId,
      pending: build.status === 'pending',
      isJobBuild: false,
      rerun: false,
      pipelinePaused: false,
      jobPaused: false,
      maxInFlightReached: false,
      inputsDetermined: true,
      inputNames: [],
      nextInputs: [],
    });
  }
  const job = await mustGetJob(db, build.jobId);
  const inputs = await jobInputConfigs(db, job.id);
  return preparationView({
    buildId,
    pending: build.status === 'pending',
    isJobBuild: true,
    rerun: build.rerunOf !== null,
    pipelinePaused: job.pipelinePaused,
    jobPaused: job.paused,
    maxInFlightReached: job.maxInFlightReached,
    inputsDetermined: job.inputsDetermined,
    inputNames: inputs.map((i) => i.name),
    nextInputs: await nextBuildInputs(db, job.id),
  });
}
