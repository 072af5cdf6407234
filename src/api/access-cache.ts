// What authentication reads at every request, kept in memory: a token's owner and lifetime, and
// every team with its auth (issue 23: the read routes spent one or two of their two to four
// statements on them). Concourse keeps the same (atc/api/accessor: claimsCacher, teamsCacher).
//
// Kept only while the node LISTENs for their changes (migration 0025's triggers NOTIFY whoever
// changed them: set-team, rename, destroy, a logout or an expired token's deletion on any node).
// A notification sent while nobody listened is lost, so when the listening connection fails the
// cache is emptied and every request reads the database again until LISTEN is back (retried).
// A read that began before a change was heard is not kept (generations): it may have read the
// old row. This node's own changes are forgotten at once (teamsChanged, forgetToken), before
// their notification comes back.
import type { Database } from '../db/database.ts';
import { findAccessToken } from '../db/access-tokens.ts';
import { randomUUID } from 'node:crypto';
import { listen, notify, type Listener, type NotificationHandlers } from '../db/notifications.ts';
import { listTeamRecords, type TeamRecord } from '../db/teams.ts';
import type { Logger } from '../log.ts';

export const TEAMS_CHANNEL = 'jetway_teams';
export const TOKENS_CHANNEL = 'jetway_access_tokens';
/** Where heardUpTo() sends itself a marker. */
export const SYNC_CHANNEL = 'jetway_access_sync';

/** A token as authentication needs it. */
export interface TokenOwner {
  username: string;
  expired: boolean;
}

export interface AccessCacheOptions {
  /** Tokens kept at most (least recently used dropped first; default 10,000). */
  maxTokens?: number;
  /** Wait before LISTENing again after the connection failed (default 1 s, doubling to 30 s). */
  retryMs?: number;
  /** How to LISTEN (tests give a fake). */
  listen?: (db: Database, channels: readonly string[], handlers: NotificationHandlers) => Promise<Listener>;
  /** The clock deadlines are kept on (tests give their own). */
  now?: () => number;
}

const MAX_RETRY_MS = 30_000;

export class AccessCache {
  /** by token sha256: its user and the moment (this.now) it expires; Map order is recency */
  private readonly tokens = new Map<string, { username: string; deadline: number }>();
  private teamRecords: readonly TeamRecord[] | undefined;
  // bumped by every change heard: a read that began under an older one is not kept
  private tokensGeneration = 0;
  private teamsGeneration = 0;
  private listener: Listener | undefined;
  private starting: Promise<void> | undefined;
  private retry: NodeJS.Timeout | undefined;
  private retryMs: number;
  private stopped = false;
  /** heardUpTo's markers not heard yet */
  private readonly markers = new Map<string, () => void>();
  private readonly maxTokens: number;
  private readonly now: () => number;
  private readonly listenTo: NonNullable<AccessCacheOptions['listen']>;

  constructor(
    private readonly db: Database,
    private readonly logger: Logger,
    private readonly opts: AccessCacheOptions = {},
  ) {
    this.maxTokens = opts.maxTokens ?? 10_000;
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
      const listener = await this.listenTo(this.db, [TEAMS_CHANNEL, TOKENS_CHANNEL, SYNC_CHANNEL], {
        onNotification: (channel, payload) => this.heard(channel, payload),
        onError: (err) => this.lost(established.listener, err),
      });
      established.listener = listener;
      if (this.stopped) {
        await listener.close();
        return;
      }
      this.listener = listener;
      this.retryMs = this.opts.retryMs ?? 1_000;
    } catch (err) {
      this.logger.warn({ err, retry_ms: this.retryMs }, 'cannot LISTEN for team and token changes; authentication reads the database at every request');
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
    else if (channel === TOKENS_CHANNEL) {
      if (payload === '*') this.forgetTokens();
      else this.forgetToken(payload);
    }
  }

  /** The listening connection failed: what was heard so far may be incomplete from now on. */
  private lost(listener: Listener | undefined, err: Error): void {
    if (listener !== undefined && this.listener !== listener) return;
    this.listener = undefined;
    this.forgetTokens();
    this.teamsChanged();
    for (const heard of this.markers.values()) heard(); // nothing is kept now: reads are fresh
    this.logger.warn({ err }, 'lost the connection listening for team and token changes; authentication reads the database until it is back');
    void listener?.close().catch(() => undefined);
    this.scheduleRetry();
  }

  /** Teams or their auth changed (this node changed them, or another did). */
  teamsChanged(): void {
    this.teamsGeneration++;
    this.teamRecords = undefined;
  }

  /** A token was deleted (logout, expiry). */
  forgetToken(sha256: string): void {
    this.tokensGeneration++;
    this.tokens.delete(sha256);
  }

  private forgetTokens(): void {
    this.tokensGeneration++;
    this.tokens.clear();
  }

  /** The token's user and whether it expired; undefined for an unknown token (never kept). */
  async token(sha256: string): Promise<TokenOwner | undefined> {
    const kept = this.tokens.get(sha256);
    if (kept && this.listening) {
      this.tokens.delete(sha256); // most recently used last
      this.tokens.set(sha256, kept);
      return { username: kept.username, expired: this.now() >= kept.deadline };
    }
    const generation = this.tokensGeneration;
    const asked = this.now();
    const row = await findAccessToken(this.db, sha256);
    if (!row) return undefined;
    if (this.listening && generation === this.tokensGeneration && !row.expired) {
      // the database's remaining lifetime on this node's clock: no skew between nodes' clocks
      this.tokens.set(sha256, { username: row.username, deadline: asked + row.expiresInMs });
      while (this.tokens.size > this.maxTokens) this.tokens.delete(this.tokens.keys().next().value!);
    }
    return { username: row.username, expired: row.expired };
  }

  /** Every team with its auth, by name. */
  async teams(): Promise<readonly TeamRecord[]> {
    if (this.teamRecords && this.listening) return this.teamRecords;
    const generation = this.teamsGeneration;
    const rows = await listTeamRecords(this.db);
    if (this.listening && generation === this.teamsGeneration) this.teamRecords = rows;
    return rows;
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
      // not heard in time: what is kept may be older than the change, so it is forgotten
      const timer = setTimeout(() => {
        this.forgetTokens();
        this.teamsChanged();
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
