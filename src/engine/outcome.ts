// How steps end (docs/concourse-semantics.md §1.5): ok (true/false), an error, or an abort. An abort is the
// build's cancellation; a timeout is its own reason so that `timeout:` can turn it into a failure.

export class BuildAborted extends Error {
  constructor() {
    super('build aborted');
    this.name = 'BuildAborted';
  }
}

export class StepTimedOut extends Error {
  constructor(readonly duration: string) {
    super('timeout exceeded');
    this.name = 'StepTimedOut';
  }
}

/** in_parallel's fail_fast stops its siblings; that cancellation is not an error of theirs. */
export class CancelledByFailFast extends Error {
  constructor() {
    super('cancelled because a sibling step failed');
    this.name = 'CancelledByFailFast';
  }
}

export function isAbort(err: unknown): err is BuildAborted {
  return err instanceof BuildAborted;
}

/** Throws the signal's reason when it has fired, so steps stop at safe points. */
export function throwIfAborted(signal: AbortSignal): void {
  if (signal.aborted) throw signal.reason instanceof Error ? signal.reason : new BuildAborted();
}

/** Several errors from one step and its hooks, or from parallel steps. */
export function combineErrors(errors: unknown[]): unknown {
  const real = errors.filter((e) => e !== undefined);
  if (real.length <= 1) return real[0];
  return new AggregateError(real, real.map((e) => (e instanceof Error ? e.message : String(e))).join('; '));
}
