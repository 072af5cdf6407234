// The scheduler's decisions as pure functions (docs/concourse-semantics.md §4.1, §4.4): the trigger
// decision, the max-in-flight decision, the kind of a pending build, and its readiness.
import type { ComputeResult } from './algorithm/types.ts';
import { isResolveError } from './algorithm/types.ts';

export interface TriggerInput {
  name: string;
  trigger: boolean;
}

export interface TriggerDecision {
  /** Some input's next version is a first occurrence (UI: "new inputs available"). */
  hasNewInputs: boolean;
  /** A pending build should exist (a first-occurrence version of a `trigger: true` input). */
  createBuild: boolean;
}

/**
 * `ensurePendingBuildExists` (§4.1 step 6), only meaningful when the inputs are determined: walk
 * the inputs in config order; a first-occurrence version sets hasNewInputs; if that input
 * triggers, a pending build is wanted and the walk stops.
 */
export function triggerDecision(inputs: readonly TriggerInput[], mapping: ComputeResult['mapping']): TriggerDecision {
  let hasNewInputs = false;
  for (const input of inputs) {
    const next = mapping[input.name];
    if (!next || isResolveError(next) || !next.firstOccurrence) continue;
    hasNewInputs = true;
    if (input.trigger) return { hasNewInputs, createBuild: true };
  }
  return { hasNewInputs, createBuild: false };
}

export interface MaxInFlightFacts {
  /** The job's effective max_in_flight (0 = unlimited). */
  maxInFlight: number;
  /** Scheduled, not completed builds across the jobs sharing a serial group with this job. */
  running: number;
  /** The oldest pending build among those jobs (unpaused, inputs determined), if any. */
  oldestPendingBuildId: number | undefined;
  buildId: number;
}

export interface MaxInFlightDecision {
  scheduled: boolean;
  /** jobs.max_in_flight_reached. */
  maxInFlightReached: boolean;
}

/** `ScheduleBuild`'s max-in-flight rule (§4.4 step 2), for an unpaused job. */
export function maxInFlightDecision(f: MaxInFlightFacts): MaxInFlightDecision {
  if (f.maxInFlight <= 0) return { scheduled: true, maxInFlightReached: false };
  if (f.running >= f.maxInFlight) return { scheduled: false, maxInFlightReached: true };
  return { scheduled: f.oldestPendingBuildId === f.buildId, maxInFlightReached: false };
}

export type PendingBuildKind = 'manual' | 'rerun' | 'scheduler';

export function pendingBuildKind(build: { rerunOf: number | null; manuallyTriggered: boolean }): PendingBuildKind {
  if (build.rerunOf !== null) return 'rerun';
  return build.manuallyTriggered ? 'manual' : 'scheduler';
}

export interface ReadinessInput {
  name: string;
  resourceId: number;
  /** Has a `passed:` constraint. */
  passed: boolean;
  /** Pinned by the step's version or the resource. */
  pinned: boolean;
  trigger: boolean;
  hasScope: boolean;
  /** last_check_end_time ≥ build.create_time. */
  checkedSinceBuildCreated: boolean;
  /** next_check_time ≥ build.create_time. */
  checkedRecentlyForBuild: boolean;
}

export interface Readiness {
  ready: boolean;
  /** Resources to check (distinct, in input order) when not ready. */
  checkResourceIds: number[];
  /** The inputs not ready yet (for logs and the preparation view). */
  waitingFor: string[];
}

/**
 * "Ready to determine inputs?" (§4.4 step 3). manual: every non-passed, non-pinned input's scope
 * was checked since the build was created; scheduler: the same for non-trigger inputs, by
 * next_check_time; rerun: always. When not ready, the inputs to check are the waiting ones.
 */
export function buildReadiness(kind: PendingBuildKind, inputs: readonly ReadinessInput[]): Readiness {
  if (kind === 'rerun') return { ready: true, checkResourceIds: [], waitingFor: [] };
  const waiting = inputs.filter((i) => {
    if (i.passed || i.pinned) return false;
    if (kind === 'manual') return !i.hasScope || !i.checkedSinceBuildCreated;
    if (i.trigger) return false;
    return !i.hasScope || !i.checkedRecentlyForBuild;
  });
  return {
    ready: waiting.length === 0,
    checkResourceIds: [...new Set(waiting.map((i) => i.resourceId))],
    waitingFor: waiting.map((i) => i.name),
  };
}
