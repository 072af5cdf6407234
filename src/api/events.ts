// The build event stream (docs/concourse-semantics.md §7.1): Server-Sent Events written by hand.
//
// Each event is `id: <n>` / `event: event` / `data: <envelope JSON>`; `Last-Event-ID: n` resumes
// at n+1. Once the build has completed and every event has been sent, `event: end` follows and
// the connection is held open until the client closes it. New events are noticed through
// Postgres notifications (src/db/build-events.ts), with a poll as the fallback.
import { ListeningEndedError } from '../db/notifications.ts';
import type { ServerResponse } from 'node:http';
import { listenForBuildEvents, type BuildEventListener } from '../db/build-events.ts';
import type { Database } from '../db/database.ts';
import type { Logger } from '../log.ts';
import { buildEvents, getBuild, type StoredBuildEvent } from '../db/builds.ts';

export const SSE_HEADERS = {
  'Content-Type': 'text/event-stream; charset=utf-8',
  'Cache-Control': 'no-cache, no-store, must-revalidate, max-age=0',
  Connection: 'keep-alive',
  'X-Accel-Buffering': 'no',
  'X-ATC-Stream-Version': '2.0',
} as const;

/** One SSE message for a stored event. */
export function formatEventMessage(eventId: number, event: { event: string; version: string; data: unknown }): string {
  const envelope = JSON.stringify({ data: event.data, event: event.event, version: event.version, event_id: String(eventId) });
  return `id: ${eventId}\nevent: event\ndata: ${envelope}\n\n`;
}

export const END_MESSAGE = 'event: end\ndata: \n\n';

/**
 * Concurrent reads of the same key share one query: the promise in flight, forgotten as soon as
 * it settles (nothing is kept, so nothing goes stale). Followers of a build are woken together by
 * its notification and ask for the same events at once: 40 followers of a build writing 100
 * events a second made 8,000 queries a second, one each (bench/event-streams.ts).
 */
export class SharedReads<K, V> {
  private readonly inFlight = new Map<K, Promise<V>>();
  read(key: K, load: () => Promise<V>): Promise<V> {
    let p = this.inFlight.get(key);
    if (!p) {
      p = load().finally(() => this.inFlight.delete(key));
      this.inFlight.set(key, p);
    }
    return p;
  }
}

/** Wakes streams when a build's events change: LISTEN build_events, shared by all streams. */
export class BuildEventNotifier {
  /**
   * The streams' reads of a build (completed?, then its events from an id), shared while in
   * flight by the streams at the same position that were woken by the same notification: a read
   * begun before a notification may miss its event, so the key counts notifications.
   */
  readonly reads = new SharedReads<string, { completed: boolean; events: StoredBuildEvent[] }>();
  private notifications = 0;
  /** The key of a read of the build's events from `from`, now. */
  readKey(buildId: number, from: number): string {
    return `${buildId}/${from}/${this.notifications}`;
  }

  private listener: BuildEventListener | undefined;
  private starting: Promise<void> | undefined;
  private readonly waiters = new Map<number, Set<() => void>>();
  private stopped = false;

  constructor(
    private readonly db: Database,
    private readonly logger: Logger,
  ) {}

  private start(): Promise<void> {
    this.starting ??= (async () => {
      try {
        const listener = await listenForBuildEvents(this.db, {
          onBuild: (id) => {
            this.notifications++;
            const set = this.waiters.get(id);
            if (!set) return;
            this.waiters.delete(id);
            for (const wake of set) wake();
          },
          onError: (err) => {
            this.listener = undefined;
            if (err instanceof ListeningEndedError) return; // the database closed
            this.logger.warn({ err }, 'build event listener connection failed; streams fall back to polling');
          },
        });
        if (this.stopped) await listener.close();
        else this.listener = listener;
      } catch (err) {
        this.logger.warn({ err }, 'cannot LISTEN for build events; polling');
      }
    })();
    return this.starting;
  }

  /** Resolves when the build has new events, or after timeoutMs, whichever comes first. */
  async wait(buildId: number, timeoutMs: number): Promise<void> {
    await this.start();
    await new Promise<void>((resolve) => {
      let set = this.waiters.get(buildId);
      if (!set) this.waiters.set(buildId, (set = new Set()));
      const wake = (): void => {
        clearTimeout(timer);
        set.delete(wake);
        resolve();
      };
      const timer = setTimeout(wake, timeoutMs);
      set.add(wake);
    });
  }

  async stop(): Promise<void> {
    this.stopped = true;
    for (const set of this.waiters.values()) for (const wake of [...set]) wake();
    this.waiters.clear();
    const listener = this.listener;
    this.listener = undefined;
    await listener?.close();
  }
}

export interface StreamOptions {
  db: Database;
  notifier: BuildEventNotifier;
  buildId: number;
  /** Position of the last event the client has (Last-Event-ID), or -1. */
  lastEventId: number;
  pollIntervalMs: number;
  res: ServerResponse;
  /**
   * How long a client may leave the socket's buffer full before it is dropped (default 60 s).
   * While the buffer is full nothing more is read from the database.
   */
  stallTimeoutMs?: number;
  /** Told when a stalled client is dropped. */
  onStalled?: () => void;
}

export const DEFAULT_STALL_TIMEOUT_MS = 60_000;


/** Writes the stream until the client goes away (or the server closes the response). */
export async function streamBuildEvents(opts: StreamOptions): Promise<void> {
  const { db, res, buildId } = opts;
  let closed = false;
  const onClose = new Promise<void>((resolve) => {
    res.on('close', () => {
      closed = true;
      resolve();
    });
  });
  res.writeHead(200, SSE_HEADERS);
  res.flushHeaders();
  const stallMs = opts.stallTimeoutMs ?? DEFAULT_STALL_TIMEOUT_MS;
  // Backpressure: once write() says the socket's buffer is full, wait for 'drain' before
  // reading more; a client that never drains is dropped after stallMs (four such clients on a
  // 100 MB log held the whole log in memory each).
  const drained = async (): Promise<void> => {
    if (closed || !res.writableNeedDrain) return;
    let timer: NodeJS.Timeout | undefined;
    const stalled = await Promise.race([
      new Promise<boolean>((resolve) => res.once('drain', () => resolve(false))),
      onClose.then(() => false),
      new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(true), stallMs))),
    ]);
    clearTimeout(timer);
    if (stalled && !closed) {
      opts.onStalled?.();
      res.destroy(); // no error object: nobody listens for it on a hijacked response
    }
  };
  let next = opts.lastEventId + 1;
  const BATCH = 100;
  while (!closed) {
    const from = next;
    // completed is read before the events: a completed build's events are all there
    const { completed, events } = await opts.notifier.reads.read(opts.notifier.readKey(buildId, from), async () => ({
      completed: (await getBuild(db, buildId))?.completed ?? true, // a deleted build has nothing more to say
      events: await buildEvents(db, buildId, from, BATCH),
    }));
    for (const e of events) {
      if (closed) break;
      if (!res.write(formatEventMessage(e.eventId, e.event))) await drained();
      next = e.eventId + 1;
    }
    if (events.length === BATCH) continue;
    if (completed) {
      if (!closed) res.write(END_MESSAGE);
      break;
    }
    await Promise.race([opts.notifier.wait(buildId, opts.pollIntervalMs), onClose]);
  }
  await onClose;
}
