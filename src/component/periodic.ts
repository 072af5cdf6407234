// A pass that runs on an interval, one at a time, and can be nudged to run sooner: the shape
// of the web node's components (the scheduler's passes, the checker's scans, GC's collections).

/**
 * Runs periodic work once per interval across several web nodes (src/db/cluster.ts's
 * PostgresPassGate; docs/web-nodes.md). `begin` resolves the release when this node runs the
 * pass now, undefined when another node ran it in this interval (or still runs it).
 */
export interface PassGate {
  /** `signal`: the pass's runner stops (a nudged pass waiting for another node gives up). */
  begin(name: string, intervalMs: number, nudged: boolean, signal: AbortSignal): Promise<(() => Promise<void>) | undefined>;
  /** Makes the pass known with its interval (listed as a component from its start). */
  register?(name: string, intervalMs: number): Promise<unknown>;
}

export interface PeriodicPassOptions {
  /** `immediate: false`: the first pass comes one interval after start (GC's pace). */
  immediate?: boolean;
  /** with several web nodes: the pass's name and the cluster's gate (timer and nudged passes go through it) */
  cluster?: { name: string; gate: PassGate };
}

export class PeriodicPass<T> {
  private timer: NodeJS.Timeout | undefined;
  /** Passes run one after another on this chain. */
  private chain: Promise<unknown> = Promise.resolve();
  /** A nudged pass is queued and has not begun yet (further nudges join it). */
  private queued = false;
  private stopped = true;
  private stopping = new AbortController();

  constructor(
    private readonly pass: () => Promise<T>,
    private readonly intervalMs: number,
    private readonly onError: (err: unknown) => void,
    private readonly opts: PeriodicPassOptions = {},
  ) {}

  /** A pass now (unless not immediate), then every interval. */
  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    this.stopping = new AbortController();
    const cluster = this.opts.cluster;
    cluster?.gate.register?.(cluster.name, this.intervalMs).catch(this.onError);
    if (this.opts.immediate !== false) this.schedule(false);
    this.timer = setInterval(() => this.schedule(false), this.intervalMs);
    this.timer.unref();
  }

  /** Stops the interval and waits for the pass in progress. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.stopping.abort();
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    await this.chain;
  }

  /** Runs a pass as soon as possible; nudges made before it begins share it. */
  nudge(): void {
    this.schedule(true);
  }

  private schedule(nudged: boolean): void {
    if (this.queued || this.stopped) return;
    this.queued = true;
    this.enqueue(() => this.gated(nudged)).catch(this.onError);
  }

  /** A pass through the cluster's gate, if any: skipped when another node has it. */
  private async gated(nudged: boolean): Promise<T | undefined> {
    const cluster = this.opts.cluster;
    if (!cluster) return this.pass();
    const release = await cluster.gate.begin(cluster.name, this.intervalMs, nudged, this.stopping.signal);
    if (!release) return undefined;
    try {
      return await this.pass();
    } finally {
      await release().catch(this.onError);
    }
  }

  /** One pass, after any pass in progress, without the cluster's gate (tests drive components with it). */
  runOnce(): Promise<T> {
    return this.enqueue(() => this.pass());
  }

  private enqueue<R>(fn: () => Promise<R>): Promise<R> {
    const run = this.chain.then(() => {
      this.queued = false;
      return fn();
    });
    this.chain = run.catch(() => undefined);
    return run;
  }
}
