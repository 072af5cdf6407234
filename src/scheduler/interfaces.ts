// What the scheduler and the checker hand work to, and ask for.

/**
 * Runs started builds: the engine implements it. `track` is called once a build is started in
 * the database (job builds by the build starter, check builds by the checker); the tracker runs
 * its plan and finishes it with `finishBuild`. It must not throw; it runs the build in the
 * background.
 */
export interface BuildTracker {
  track(buildId: number): void;
}

/** A check the build starter needs before it can determine a pending build's inputs (docs/concourse-semantics.md §4.4 step 3). */
export interface CheckRequest {
  resourceId: number;
  /** A manual build's check: skips the check interval and the one-running-check rule. */
  manual: boolean;
  /**
   * The pending build waiting for it: a check build of the resource created since that build
   * (and still running) already serves it, so no other is created.
   */
  forBuildId: number;
}

/** Creates check builds on the scheduler's behalf: the checker implements it. */
export interface CheckRequester {
  requestChecks(requests: readonly CheckRequest[]): Promise<void>;
}
