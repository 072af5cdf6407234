// What the API looks up at nearly every request, kept in memory: a token's owner and lifetime,
// every team with its auth, and the pipelines that paths name (issue 23: the read routes spent
// two of their two to four statements on these). Concourse keeps the first two the same way
// (atc/api/accessor: claimsCacher, teamsCacher).
//
// Kept only while the node LISTENs for their changes (migrations 0025, 0026, 0029: triggers NOTIFY
// whoever changes them: set-team, rename, destroy, a logout or an expired token's deletion, a
// pipeline set, paused, exposed, ordered or archived, on any node or in SQL). A notification
// sent while nobody listened is lost, so when the listening connection fails everything kept
// is dropped and every request reads the database until LISTEN is back (retried).
// A read that began before a change was heard is not kept (generations): it may have read the
// old row. This node's own changes are forgotten at once (teamsChanged, forgetToken,
// pipelinesChanged), before their notification comes back. What is kept is frozen: requests
// share it.
import { randomUUID } from 'node:crypto';
import { findAccessToken } from '../db/access-tokens.ts';
import type { Database } from '../db/database.ts';
import { listen, ListeningEndedError, notify, type Listener, type NotificationHandlers } from '../db/notifications.ts';
import type { PipelineRef } from '../db/pipelines.ts';
import { listTeamRecords, type TeamRecord } from '../db/teams.ts';
import { findPipelineView, type PipelineView } from '../db/views.ts';
import type { Logger } from '../log.ts';

export const TEAMS_CHANNEL = 'jetway_teams';
export const TOKENS_CHANNEL = 'jetway_access_tokens';
export const PIPELINES_CHANNEL = 'jetway_pipelines';
/** Where heardUpTo() sends itself a marker. */
export const SYNC_CHANNEL = 'jetway_lookups_sync';

/** A token as authentication needs it. */
export interface TokenOwner {
  username: string;
  expired: boolean;
}

export interface LookupCacheOptions {
  /** Tokens and pipelines kept at most, each (least recently used dropped first; default 10,000). */
  maxEntries?: number;
  /** Wait before LISTENing again after the connection failed (default 1 s, doubling to 30 s). */
  retryMs?: number;
  /** How to LISTEN (tests give a fake). */
  listen?: (db: Database, channels: readonly string[], handlers: NotificationHandlers) => Promise<Listener>;
  /** The clock token deadlines are kept on (tests give their own). */
  now?: () => number;
}

const MAX_RETRY_MS = 30_000;

function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const v of Object.values(value)) deepFreeze(v);
  }
  return value;
}

/** JSON with object keys sorted: one key for instance vars jsonb holds equal. */
function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonical(v)}`).join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

/** Entries by key, least recently used first, bounded, with the generation a read must match to be kept. */
class Kept<V> {
  private readonly entries = new Map<string, V>();
  generation = 0;

  constructor(private readonly max: number) {}

  get(key: string): V | undefined {
    const v = this.entries.get(key);
    if (v !== undefined) {
      this.entries.delete(key); // most recently used last
      this.entries.set(key, v);
    }
    return v;
  }

  /** Keeps what a read begun under `generation` answered, unless a change was heard since. */
  keep(key: string, value: V, generation: number): void {
    if (generation !== this.generation) return;
    this.entries.set(key, value);
    while (this.entries.size > this.max) this.entries.delete(this.entries.keys().next().value!);
  }

  forget(key?: string): void {
    this.generation++;
    if (key === undefined) this.entries.clear();
    else this.entries.delete(key);
  }
}

export class LookupCache {
  /** by token sha256: its user and the moment (this.now) it expires */
  private readonly tokens: Kept<{ username: string; deadline: number }>;
  private readonly pipelines: Kept<PipelineView>;
  private readonly teamRecords: Kept<readonly TeamRecord[]>;
  private listener: Listener | undefined;
  private starting: Promise<void> | undefined;
  private retry: NodeJS.Timeout | undefined;
  private retryMs: number;
  private stopped = false;
  /** heardUpTo's markers not heard yet */
  private readonly markers = new Map<string, () => void>();
  private readonly now: () => number;
  private readonly listenTo: NonNullable<LookupCacheOptions['listen']>;

  constructor(
    private readonly db: Database,
    private readonly logger: Logger,
    private readonly opts: LookupCacheOptions = {},
  ) {
    const max = opts.maxEntries ?? 10_000;
    this.tokens = new Kept(max);
    this.pipelines = new Kept(max);
    this.teamRecords = new Kept(1);
    this.retryMs = opts.retryMs ?? 1_000;
    this.now = opts.now ?? (() => performance.now());
    this.listenTo = opts.listen ?? listen;
  }

  /** Whether answers are kept now (the node is listening for their changes). */
  get listening(): boolean {
    return this.listener !== undefined;
  }

  /** LISTENs for changes; until it has, nothing is kept. Never throws: a failure is logged and retried. */
  start(): Promise<void> {
    this.starting ??= this.connect().finally(() => (this.starting = undefined));
    return this.starting;
  }

  private async connect(): Promise<void> {
    if (this.stopped || this.listener) return;
    try {
      const established: { listener?: Listener } = {};
      const listener = await this.listenTo(this.db, [TEAMS_CHANNEL, TOKENS_CHANNEL, PIPELINES_CHANNEL, SYNC_CHANNEL], {
        onNotification: (channel, payload) => this.heard(channel, payload),
        onError: (err) => this.lost(established.listener, err),
      });
      established.listener = listener;
      if (this.stopped) {
        await listener.close();
        return;
      }
      // a read begun before LISTEN took effect may have missed a change it will never hear of
      this.forgetAll();
      this.listener = listener;
      this.retryMs = this.opts.retryMs ?? 1_000;
    } catch (err) {
      this.logger.warn({ err, retry_ms: this.retryMs }, 'cannot LISTEN for team, token and pipeline changes; the API reads them at every request');
      this.scheduleRetry();
    }
  }

  private scheduleRetry(): void {
    if (this.stopped || this.retry) return;
    const wait = this.retryMs;
    this.retryMs = Math.min(this.retryMs * 2, MAX_RETRY_MS);
    this.retry = setTimeout(() => {
      this.retry = undefined;
      void this.start();
    }, wait);
    this.retry.unref();
  }

  private heard(channel: string, payload: string): void {
    if (channel === SYNC_CHANNEL) this.markers.get(payload)?.();
    else if (channel === TEAMS_CHANNEL) this.teamsChanged();
    else if (channel === PIPELINES_CHANNEL) this.pipelinesChanged();
    else if (channel === TOKENS_CHANNEL) {
      if (payload === '*') this.tokens.forget();
      else this.forgetToken(payload);
    }
  }

  private forgetAll(): void {
    this.tokens.forget();
    this.teamsChanged();
  }

  /** The listening connection failed: what was heard so far may be incomplete from now on. */
  private lost(listener: Listener | undefined, err: Error): void {
    if (listener !== undefined && this.listener !== listener) return;
    this.listener = undefined;
    this.forgetAll();
    for (const heard of this.markers.values()) heard(); // nothing is kept now: reads are fresh
    if (err instanceof ListeningEndedError) {
      this.stopped = true; // the database closed: nothing to listen to again
      return;
    }
    this.logger.warn({ err }, 'lost the connection listening for team, token and pipeline changes; the API reads them until it is back');
    void listener?.close().catch(() => undefined);
    this.scheduleRetry();
  }

  /** Teams or their auth changed (this node changed them, or another did): a pipeline's team name too. */
  teamsChanged(): void {
    this.teamRecords.forget();
    this.pipelines.forget();
  }

  /** Pipelines changed (set, paused, exposed, ordered, renamed, archived, destroyed). */
  pipelinesChanged(): void {
    this.pipelines.forget();
  }

  /** A token was deleted (logout, expiry) or changed. */
  forgetToken(sha256: string): void {
    this.tokens.forget(sha256);
  }

  /** The token's user and whether it expired; undefined for an unknown token (never kept). */
  async token(sha256: string): Promise<TokenOwner | undefined> {
    const kept = this.listening ? this.tokens.get(sha256) : undefined;
    if (kept) return { username: kept.username, expired: this.now() >= kept.deadline };
    const generation = this.tokens.generation;
    const asked = this.now();
    const row = await findAccessToken(this.db, sha256);
    if (!row) return undefined;
    // the database's remaining lifetime on this node's clock: no skew between nodes' clocks
    if (this.listening && !row.expired) this.tokens.keep(sha256, { username: row.username, deadline: asked + row.expiresInMs }, generation);
    return { username: row.username, expired: row.expired };
  }

  /** Every team with its auth, by name. */
  async teams(): Promise<readonly TeamRecord[]> {
    const kept = this.listening ? this.teamRecords.get('') : undefined;
    if (kept) return kept;
    const generation = this.teamRecords.generation;
    const rows = deepFreeze(await listTeamRecords(this.db));
    if (this.listening) this.teamRecords.keep('', rows, generation);
    return rows;
  }

  /** The pipeline a path names (team, name, instance vars); undefined when there is none (never kept). */
  async pipeline(ref: PipelineRef): Promise<PipelineView | undefined> {
    const key = canonical([ref.team, ref.name, ref.instanceVars ?? null]);
    const kept = this.listening ? this.pipelines.get(key) : undefined;
    if (kept) return kept;
    const generation = this.pipelines.generation;
    const view = await findPipelineView(this.db, ref);
    if (!view) return undefined;
    deepFreeze(view);
    if (this.listening) this.pipelines.keep(key, view, generation);
    return view;
  }

  /**
   * Resolves once every change committed before the call has been heard (Postgres delivers
   * notifications in commit order: a marker sent now arrives after them). For tests, and for
   * anything that must not answer from before a change another session made.
   */
  async heardUpTo(timeoutMs = 5_000): Promise<void> {
    if (!this.listening) return; // nothing is kept: every read is fresh
    const marker = randomUUID();
    const heard = new Promise<void>((resolve) => {
      // not heard in time: what is kept may be older than the change, so it is dropped
      const timer = setTimeout(() => {
        this.forgetAll();
        done();
      }, timeoutMs);
      const done = (): void => {
        clearTimeout(timer);
        this.markers.delete(marker);
        resolve();
      };
      this.markers.set(marker, done);
    });
    await notify(this.db, SYNC_CHANNEL, marker);
    await heard;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.retry) clearTimeout(this.retry);
    this.retry = undefined;
    await this.starting?.catch(() => undefined);
    const listener = this.listener;
    this.listener = undefined;
    await listener?.close();
  }
}
