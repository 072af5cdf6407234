// `buildStarter.TryStartPendingBuildsForJob` (docs/concourse-semantics.md §4.4): takes a job's pending
// builds in order, schedules them (pause, max-in-flight, serial groups), waits for the checks
// their inputs need, determines their inputs, plans and starts them, and hands them to the
// build tracker.
import { isDeepStrictEqual } from 'node:util';
import { errorText, type Logger } from '../log.ts';
import { jobStep, type PipelineConfig } from '../config/index.ts';
import {
  adoptInputsAndPipes,
  adoptRerunInputsAndPipes,
  buildInputs,
  finishBuild,
  pendingBuilds,
  saveBuildEvent,
  startBuild,
  type BuildInputRecord,
  type BuildRecord,
} from '../db/builds.ts';
import type { Queryable } from '../db/database.ts';
import { inputPin, saveNextInputMapping, scheduleBuild, toAlgorithmInputs, type JobInputConfig, type JobRecord } from '../db/jobs.ts';
import { scopeFreshness, type ScopeFreshness } from '../db/resources.ts';
import { pipelineConfigById } from '../db/scheduling.ts';
import { PostgresVersionsStore } from '../db/algorithm-store.ts';
import { createPlan } from '../planner/planner.ts';
import type { Plan } from '../model/plan.ts';
import { computeInputs, type ComputeResult } from './algorithm/index.ts';
import { buildReadiness, maxInFlightDecision, pendingBuildKind, type ReadinessInput } from './decisions.ts';
import type { BuildTracker, CheckRequester } from './interfaces.ts';


export interface StarterDeps {
  db: Queryable;
  tracker: BuildTracker;
  checks: CheckRequester;
  logger: Logger;
}

/** Why the starter stopped at a build (for logs and tests). */
export type StartOutcome =
  | { build: number; outcome: 'started' }
  | { build: number; outcome: 'aborted' | 'errored' }
  | { build: number; outcome: 'not-scheduled'; reason: 'paused' | 'max-in-flight' | 'not-oldest' }
  | { build: number; outcome: 'waiting-for-checks'; inputs: string[] }
  | { build: number; outcome: 'inputs-not-determined' };

export interface StartResult {
  needsRetry: boolean;
  outcomes: StartOutcome[];
}

/**
 * Starts what can be started of the job's pending builds. Returns whether the job needs another
 * scheduling pass without a new request (max-in-flight reached, or inputs waiting for checks).
 * A paused job or pipeline needs no retry: unpausing requests scheduling.
 */
export async function tryStartPendingBuildsForJob(
  deps: StarterDeps,
  job: JobRecord,
  inputs: readonly JobInputConfig[],
  /** the mapping the caller saved for the job a moment ago, under the same lock */
  saved?: ComputeResult,
): Promise<StartResult> {
  const { db } = deps;
  const outcomes: StartOutcome[] = [];
  let lastSaved = saved;
  const pending = await pendingBuilds(db, job.id);
  for (const build of pending) {
    // 1. aborted, or the pipeline archived
    if (build.aborted || job.pipelineArchived) {
      await finishBuild(db, build.id, 'aborted');
      outcomes.push({ build: build.id, outcome: 'aborted' });
      continue;
    }

    // 2. ScheduleBuild
    const sched = await scheduleBuild(db, job.id, build.id, maxInFlightDecision);
    if (!sched.scheduled) {
      const reason = sched.paused ? 'paused' : sched.maxInFlightReached ? 'max-in-flight' : 'not-oldest';
      outcomes.push({ build: build.id, outcome: 'not-scheduled', reason });
      return { needsRetry: !sched.paused, outcomes };
    }

    // 3. ready to determine inputs?
    const kind = pendingBuildKind(build);
    const freshness = await scopeFreshness(
      db,
      inputs.map((i) => i.resourceId),
      build.id,
    );
    const readiness = buildReadiness(kind, readinessInputs(inputs, freshness));
    if (!readiness.ready) {
      await deps.checks.requestChecks(
        readiness.checkResourceIds.map((resourceId) => ({ resourceId, manual: kind === 'manual', forBuildId: build.id })),
      );
      outcomes.push({ build: build.id, outcome: 'waiting-for-checks', inputs: readiness.waitingFor });
      return { needsRetry: true, outcomes };
    }

    // 4. inputs (a rerun's copied; the others adopted, answered with the pipeline's config,
    // read meanwhile: the plan needs both)
    let determined: boolean;
    let known: KnownForPlan | undefined;
    if (kind === 'rerun') {
      const adopted = await adoptRerunInputsAndPipes(db, build.id, build.rerunOf!);
      if (adopted.unavailableInput !== undefined) {
        await errorBuild(db, build.id, `chosen version of input ${adopted.unavailableInput} not available`, 'aborted');
        outcomes.push({ build: build.id, outcome: 'aborted' });
        continue;
      }
      if (!adopted.determined) {
        outcomes.push({ build: build.id, outcome: 'inputs-not-determined' });
        continue;
      }
      determined = true;
    } else {
      if (kind === 'manual') {
        const result = await computeInputs(new PostgresVersionsStore(db), job.id, toAlgorithmInputs(inputs));
        // the same as the mapping stored a moment ago (under this job's lock): nothing to write
        if (!lastSaved || !isDeepStrictEqual(result, lastSaved)) await saveNextInputMapping(db, job.id, result);
        lastSaved = result;
      }
      const [adopted, config] = await Promise.all([adoptInputsAndPipes(db, build.id, job.id), pipelineConfigById(db, job.pipelineId)]);
      determined = adopted.determined;
      if (adopted.determined) known = { config, inputs: adopted.inputs };
    }
    if (!determined) {
      outcomes.push({ build: build.id, outcome: 'inputs-not-determined' });
      return { needsRetry: false, outcomes };
    }

    // 5. plan
    let plan: Plan;
    try {
      plan = await planBuild(db, job, build, known);
    } catch (err) {
      await errorBuild(db, build.id, errorText(err), 'errored');
      outcomes.push({ build: build.id, outcome: 'errored' });
      continue;
    }

    // 6. start
    if (await startBuild(db, build.id, plan)) {
      outcomes.push({ build: build.id, outcome: 'started' });
      deps.logger.info({ job: job.name, build: build.name, buildId: build.id }, 'build started');
      deps.tracker.track(build.id);
    } else {
      await finishBuild(db, build.id, 'aborted');
      outcomes.push({ build: build.id, outcome: 'aborted' });
    }
  }
  return { needsRetry: false, outcomes };
}

/** The readiness decision's facts: each input's config with its scope's check state for the build. */
export function readinessInputs(inputs: readonly JobInputConfig[], freshness: ReadonlyMap<number, ScopeFreshness>): ReadinessInput[] {
  return inputs.map((i) => {
    const f = freshness.get(i.resourceId);
    return {
      name: i.name,
      resourceId: i.resourceId,
      passed: i.passed.length > 0,
      pinned: inputPin(i) !== undefined,
      trigger: i.trigger,
      hasScope: f?.hasScope ?? false,
      checkedSinceBuildCreated: f?.checkedSinceBuildCreated ?? false,
      checkedRecentlyForBuild: f?.checkedRecentlyForBuild ?? false,
    };
  });
}

/** Writes a build-level `error` event (origin: no plan yet) and finishes the build. */
async function errorBuild(db: Queryable, buildId: number, message: string, status: 'errored' | 'aborted'): Promise<void> {
  await db.transaction(async (tx) => {
    await saveBuildEvent(tx, buildId, {
      event: 'error',
      version: '4.1',
      data: { message, origin: { id: '' }, time: Math.floor(Date.now() / 1000) },
    });
    await finishBuild(tx, buildId, status);
  });
}

/** What the plan is made of, when the caller read it already: the pipeline's config and the build's inputs. */
interface KnownForPlan {
  config: PipelineConfig | undefined;
  inputs: BuildInputRecord[];
}

/** The build's plan from its job's current config, the pipeline's resources and types, and its inputs. */
export async function planBuild(db: Queryable, job: JobRecord, build: BuildRecord, known?: KnownForPlan): Promise<Plan> {
  // two reads, neither waiting for the other
  const [stored, inputs] = known ? [known.config, known.inputs] : await Promise.all([pipelineConfigById(db, job.pipelineId), buildInputs(db, build.id)]);
  const config: PipelineConfig = stored ?? {};
  const versions: Record<string, Record<string, string>> = {};
  for (const input of inputs) {
    if (!input.version) throw new Error(`the version of input ${input.name} is no longer available`);
    versions[input.name] = input.version;
  }
  return createPlan({
    step: jobStep(job.config),
    resources: config.resources ?? [],
    resourceTypes: config.resource_types ?? [],
    prototypes: config.prototypes ?? [],
    buildInputs: versions,
    manuallyTriggered: build.manuallyTriggered,
    jobTags: job.tags,
  });
}
