// A pass that runs on an interval, one at a time, and can be nudged to run sooner: the shape
// of the web node's components (the scheduler's passes, the checker's scans, GC's collections).
export class PeriodicPass<T> {
  private timer: NodeJS.Timeout | undefined;
  /** Passes run one after another on this chain. */
  private chain: Promise<unknown> = Promise.resolve();
  /** A nudged pass is queued and has not begun yet (further nudges join it). */
  private queued = false;
  private stopped = true;

  constructor(
    private readonly pass: () => Promise<T>,
    private readonly intervalMs: number,
    private readonly onError: (err: unknown) => void,
    /** `immediate: false`: the first pass comes one interval after start (GC's pace). */
    private readonly opts: { immediate?: boolean } = {},
  ) {}

  /** A pass now (unless not immediate), then every interval. */
  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    if (this.opts.immediate !== false) this.nudge();
    this.timer = setInterval(() => this.nudge(), this.intervalMs);
    this.timer.unref();
  }

  /** Stops the interval and waits for the pass in progress. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    await this.chain;
  }

  /** Runs a pass as soon as possible; nudges made before it begins share it. */
  nudge(): void {
    if (this.queued || this.stopped) return;
    this.queued = true;
    this.runOnce().catch(this.onError);
  }

  /** One pass, after any pass in progress (tests drive components with it). */
  runOnce(): Promise<T> {
    const run = this.chain.then(() => {
      this.queued = false;
      return this.pass();
    });
    this.chain = run.catch(() => undefined);
    return run;
  }
}
