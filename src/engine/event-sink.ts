// A build's events on their way to the store (issue 17, docs/web-nodes.md "When Postgres is away"):
// written in call order; while the database is away they wait in a bounded buffer and are
// retried, each under a writer key so that a retried write whose commit went through unseen is
// saved once. What cannot be written is counted: a build that lost events, or whose finish the
// database refused for a full disk, does not claim success.
import type { Logger } from '../log.ts';
import type { BuildEvent } from '../model/build-events.ts';
import { randomUUID } from 'node:crypto';
import type { EventSink } from './exec.ts';
import { errorMessage } from './exec.ts';
import type { Redactor } from './vars.ts';

/** What the sink needs of the engine's store. */
export interface EventStore {
  saveBuildEvent(buildId: number, event: BuildEvent, writerKey?: string): Promise<void>;
  /** Several events in order, all or none (one round trip in Postgres); without it, one at a time. */
  saveBuildEvents?(buildId: number, events: readonly { event: BuildEvent; writerKey: string }[]): Promise<void>;
}

/** An event waiting to be written, under its writer key. */
type Pending = { event: BuildEvent; key: string; bytes: number };

/** The most events (and their bytes) one write takes: what waited while the previous write ran. */
const BATCH_EVENTS = 500;
const BATCH_BYTES = 1024 * 1024;
/** Waiting events (and bytes) past which emit's promise waits for the writes. */
const HIGH_WATER_EVENTS = 1000;
const HIGH_WATER_BYTES = 1024 * 1024;
const DONE: Promise<void> = Promise.resolve();

/** Postgres error codes and Node socket errors that mean "the database is away, try again". */
const TRANSIENT_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'EHOSTUNREACH', 'ENOTFOUND', 'EAI_AGAIN', '40001', '40P01', '57P01', '57P02', '57P03', '57014']);
const TRANSIENT_MESSAGES = [/connection terminated/i, /timeout exceeded when trying to connect/i, /query read timeout/i, /connection .*(closed|ended)/i, /cannot use a pool after calling end/i, /client has encountered a connection error/i];

/** The Postgres error code (or Node's errno code) of err. */
export function errorCode(err: unknown): string | undefined {
  if (err && typeof err === 'object' && 'code' in err && typeof err.code === 'string') return err.code;
  return undefined;
}

/** Postgres's "disk full" (53100): the database cannot extend a file. */
export function isDiskFull(err: unknown): boolean {
  return errorCode(err) === '53100' || /no space left on device/i.test(errorMessage(err));
}

/**
 * Whether a failed write may succeed when tried again: the database is unreachable, restarting,
 * out of resources (class 08 connection, class 53 insufficient resources, 57P0x shutdown,
 * 57014 statement timeout), or the transaction lost a race (40001, 40P01).
 */
export function isTransient(err: unknown): boolean {
  const code = errorCode(err);
  if (code !== undefined && (TRANSIENT_CODES.has(code) || code.startsWith('08') || code.startsWith('53'))) return true;
  const message = errorMessage(err);
  return TRANSIENT_MESSAGES.some((re) => re.test(message));
}

/** The wait before retry number `attempt` (0-based): doubling from 100 ms to 5 s. */
export function retryDelayMs(attempt: number): number {
  return Math.min(5_000, 100 * 2 ** Math.min(attempt, 16));
}

export interface EventSinkLimits {
  /** events waiting while the database is away (default 50,000) */
  maxPending?: number;
  /** their bytes (default 64 MiB) */
  maxPendingBytes?: number;
  /** attempts at an event the database refuses for good (not transient; default 5) */
  maxPermanentAttempts?: number;
}

/** How a build's events went. */
export interface SinkReport {
  /** events that could not be written (buffer full, or refused for good) */
  lost: number;
  /** why the first one was lost */
  firstLoss?: string;
  /** a write failed because the database's disk was full (written later or not) */
  diskFull: boolean;
}

const sleep = (ms: number, signal?: AbortSignal): Promise<void> =>
  new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const t = setTimeout(resolve, ms);
    signal?.addEventListener('abort', () => (clearTimeout(t), resolve()), { once: true });
  });

/**
 * An event as a build's records keep it: every event but `log` (whose payload the step redacts as
 * it writes) with the build's secrets redacted, so a secret in a version, metadata or message (a
 * resource echoing its source, an error quoting a value) never reaches them.
 */
export function redactedEvent(redactor: Redactor | undefined, event: BuildEvent): BuildEvent {
  return redactor && event.event !== 'log' ? ({ ...event, data: redactor.redactValue(event.data) } as BuildEvent) : event;
}

/** Writes events to the store in call order, even when callers do not wait for each write. */
export class StoreEventSink implements EventSink {
  /** The build's secrets, once its steps can find any (redactedEvent). */
  redactor: Redactor | undefined;
  private readonly pending: Pending[] = [];
  private pendingBytes = 0;
  private seq = 0;
  private readonly writer = randomUUID().slice(0, 8);
  private draining: Promise<void> | undefined;
  private readonly report: SinkReport = { lost: 0, diskFull: false };
  private warnedAway = false;
  /** aborted: stop waiting for the database (the web node stops; what is left is lost) */
  private readonly giveUp = new AbortController();

  constructor(
    private readonly store: EventStore,
    private readonly buildId: number,
    private readonly logger: Logger,
    private readonly limits: EventSinkLimits = {},
  ) {}

  emit(event: BuildEvent, writerKey?: string): Promise<void> {
    const safe = redactedEvent(this.redactor, event);
    const key = writerKey ?? `${this.writer}:${this.seq++}`;
    const bytes = JSON.stringify(safe.data).length;
    if (this.pending.length >= (this.limits.maxPending ?? 50_000) || this.pendingBytes + bytes > (this.limits.maxPendingBytes ?? 64 * 1024 * 1024)) {
      this.lose(`more than ${this.limits.maxPending ?? 50_000} events (or ${Math.round((this.limits.maxPendingBytes ?? 64 * 1024 * 1024) / 1048576)} MiB) waited for the database`);
      return this.flushed().then(() => undefined);
    }
    this.pending.push({ event: safe, key, bytes });
    this.pendingBytes += bytes;
    this.draining ??= this.drain();
    // the write goes on, in order, without its caller: a step does not spend a round trip on each
    // of its events (the engine waits for flushed() before a build ends); a caller that emits
    // faster than the database takes them waits, past the high-water mark
    return this.pending.length > HIGH_WATER_EVENTS || this.pendingBytes > HIGH_WATER_BYTES ? this.draining : DONE;
  }

  /** Resolves once every event emitted so far is written or given up; what happened. */
  async flushed(): Promise<SinkReport> {
    while (this.draining) await this.draining;
    return { ...this.report };
  }

  /** Stops retrying (the web node stops): events still waiting are counted lost. */
  abandon(): void {
    this.giveUp.abort();
  }

  private lose(why: string): void {
    if (this.report.lost === 0) {
      this.report.firstLoss = why;
      this.logger.error({ buildId: this.buildId, reason: why }, 'build events lost: the build will end errored');
    }
    this.report.lost++;
  }

  /** Events of a batch the database refused for good, still to be written one at a time. */
  private alone = 0;

  /** The events the next write takes: the oldest waiting, as many as one batch holds. */
  private nextBatch(): Pending[] {
    if (!this.store.saveBuildEvents || this.alone > 0) return this.pending.slice(0, 1);
    let bytes = 0;
    let n = 0;
    while (n < this.pending.length && n < BATCH_EVENTS && (n === 0 || bytes + this.pending[n]!.bytes <= BATCH_BYTES)) bytes += this.pending[n++]!.bytes;
    return this.pending.slice(0, n);
  }

  private async drain(): Promise<void> {
    // events emitted one after the other in the same turn (a step's image-check and image-get)
    // join the first write instead of each waiting for the one before
    await Promise.resolve();
    while (this.pending.length > 0) {
      const batch = this.nextBatch();
      let permanentFailures = 0;
      let split = false;
      for (let attempt = 0; ; attempt++) {
        if (this.giveUp.signal.aborted) {
          for (let i = 0; i < batch.length; i++) this.lose('the web node stopped while the database was unavailable');
          break;
        }
        try {
          if (this.store.saveBuildEvents && batch.length > 1) await this.store.saveBuildEvents(this.buildId, batch.map((p) => ({ event: p.event, writerKey: p.key })));
          else await this.store.saveBuildEvent(this.buildId, batch[0]!.event, batch[0]!.key);
          if (this.warnedAway) {
            this.warnedAway = false;
            this.logger.info({ buildId: this.buildId, waiting: this.pending.length - 1 }, 'saving build events again');
          }
          break;
        } catch (err) {
          if (isDiskFull(err)) this.report.diskFull = true;
          if (!isTransient(err) && ++permanentFailures >= (this.limits.maxPermanentAttempts ?? 5)) {
            // a batch refused for good: its events are tried one at a time (with the same retries),
            // so that one bad event loses only itself
            if (batch.length > 1) {
              this.alone = batch.length;
              split = true;
              break;
            }
            this.lose(`the database refused an event: ${errorMessage(err)}`);
            break;
          }
          if (!this.warnedAway) {
            this.warnedAway = true;
            this.logger.warn({ buildId: this.buildId, err: errorMessage(err), waiting: this.pending.length }, 'saving a build event failed; retrying');
          }
          await sleep(retryDelayMs(attempt), this.giveUp.signal);
        }
      }
      if (split) continue;
      if (this.alone > 0) this.alone--;
      this.pending.splice(0, batch.length);
      for (const p of batch) this.pendingBytes -= p.bytes;
    }
    // synchronously after the last check: an event emitted from now on starts a new drain
    this.draining = undefined;
  }
}
