import { createHash } from 'node:crypto';
import pg from 'pg';
import { parseTimestamptz } from './timestamps.ts';
import type { Logger } from '../log.ts';
import { redactUrl } from './redact-url.ts';
import { endListening } from './notifications.ts';
import { DEFAULT_POOL_SIZE } from './pool-size.ts';

export type Row = Record<string, unknown>;
export interface QueryResult<R extends Row = Row> {
  rows: R[];
  rowCount: number;
}

/** Something SQL can be run on: the database itself or an open transaction. */
export interface Queryable {
  query<R extends Row = Row>(text: string, values?: readonly unknown[]): Promise<QueryResult<R>>;
  /**
   * Runs fn in a transaction (BEGIN … COMMIT, ROLLBACK when fn throws). On a transaction this
   * opens a savepoint instead, so store functions can be composed inside a caller's transaction.
   */
  transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T>;
}

export interface Database extends Queryable {
  /** The URL of the server, password redacted (for logs and messages). */
  readonly displayUrl: string;
  /** The connection URL, password included. Do not log it. */
  readonly url: string;
  /** The underlying pool, for LISTEN/NOTIFY and long-held sessions (advisory locks). */
  readonly pool: pg.Pool;
  close(): Promise<void>;
}

// int8 (bigint) → JS number when it fits: config versions and counts come back as numbers.
pg.types.setTypeParser(20, (v: string) => {
  const n = Number(v);
  return Number.isSafeInteger(n) ? n : v;
});

// timestamptz (1184): the usual shape parsed with less work than pg's parser (timestamps.ts)
const pgTimestamptz = pg.types.getTypeParser(1184, 'text') as (text: string) => unknown;
pg.types.setTypeParser(1184, (text: string) => parseTimestamptz(text, pgTimestamptz));

/**
 * Named (server-side prepared) statements for parameterised SQL: Postgres parses and plans a
 * statement once per connection instead of on every execution. On the API's read routes planning
 * cost three times the execution (jobs: 0.58 ms planning, 0.19 ms running; BENCHMARKS.md,
 * api_rps), and naming the statements raised the mix from 443 to 738 requests/s on 2 cores.
 * The name is a hash of the text, so every connection and node agrees on it. Bounded: the first
 * MAX_PREPARED_TEXTS distinct texts are named, later ones run unnamed as before (SQL built with a
 * varying shape cannot fill the server's memory). Statements without parameters stay on the
 * simple protocol (they may hold several statements, e.g. migrations).
 */
export class StatementNames {
  static readonly MAX_PREPARED_TEXTS = 2_000;
  private readonly names = new Map<string, string>();
  private full = false;

  /** onFull: told once, with the first text left unnamed, when the bound is reached */
  constructor(
    private readonly enabled: boolean,
    private readonly onFull?: (text: string) => void,
  ) {}

  /** pg's query config for text: named when enabled, parameterised and within the bound. */
  config(text: string, values: readonly unknown[] | undefined): pg.QueryConfig {
    const plain: pg.QueryConfig = { text, values: values as unknown[] | undefined };
    if (!this.enabled || !values || values.length === 0) return plain;
    let name = this.names.get(text);
    if (name === undefined) {
      if (this.names.size >= StatementNames.MAX_PREPARED_TEXTS) {
        if (!this.full) {
          this.full = true;
          this.onFull?.(text);
        }
        return plain;
      }
      name = `jw_${createHash('sha256').update(text).digest('base64url').slice(0, 24)}`;
      this.names.set(text, name);
    }
    return { ...plain, name };
  }
}

class TxImpl implements Queryable {
  private savepoints = 0;
  constructor(
    private readonly client: pg.PoolClient,
    private readonly statements: StatementNames,
  ) {}

  async query<R extends Row = Row>(text: string, values?: readonly unknown[]): Promise<QueryResult<R>> {
    const res = await this.client.query<R>(this.statements.config(text, values));
    return { rows: res.rows, rowCount: res.rowCount ?? 0 };
  }

  async transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T> {
    const name = `jw_sp_${++this.savepoints}`;
    await this.client.query(`SAVEPOINT ${name}`);
    try {
      const result = await fn(this);
      await this.client.query(`RELEASE SAVEPOINT ${name}`);
      return result;
    } catch (err) {
      await this.client.query(`ROLLBACK TO SAVEPOINT ${name}`);
      throw err;
    }
  }
}

export interface PoolDatabaseOptions {
  url: string;
  logger: Logger;
  max?: number;
  /** Called after the pool is closed (e.g. to stop an embedded server). */
  onClose?: () => Promise<void>;
  /**
   * Every statement's timeout (issue 17): the server's statement_timeout, and a client-side one a
   * little longer, which also ends a query a frozen server never answers (default 60 s).
   */
  statementTimeoutMs?: number;
  /** how long getting a connection may take (default 10 s) */
  connectTimeoutMs?: number;
  /**
   * Server-side prepared statements (default true; see StatementNames). Off for a connection
   * pooler that does not keep them per client (PgBouncer in transaction mode before 1.21).
   */
  preparedStatements?: boolean;
}

/** Default timeouts: no request, pass or build waits on a frozen or vanished Postgres for ever. */
export const DEFAULT_STATEMENT_TIMEOUT_MS = 60_000;
export const DEFAULT_CONNECT_TIMEOUT_MS = 10_000;

export class PoolDatabase implements Database {
  readonly pool: pg.Pool;
  readonly url: string;
  readonly displayUrl: string;
  private closed = false;
  private readonly onClose: (() => Promise<void>) | undefined;
  private readonly statements: StatementNames;

  constructor(opts: PoolDatabaseOptions) {
    // every query's text is fixed in the code, its values parameters: thousands of texts mean one
    // varies with a value (a bug), and what runs after them is planned at every execution
    this.statements = new StatementNames(opts.preparedStatements ?? true, (text) =>
      opts.logger.warn(
        { db: redactUrl(opts.url), limit: StatementNames.MAX_PREPARED_TEXTS, sql: text.replace(/\s+/g, ' ').slice(0, 200) },
        'prepared statement names used up: statements not named yet are planned at every execution from now on (a statement text that varies with a value?)',
      ),
    );
    this.url = opts.url;
    this.displayUrl = redactUrl(opts.url);
    this.onClose = opts.onClose;
    const statementTimeout = opts.statementTimeoutMs ?? DEFAULT_STATEMENT_TIMEOUT_MS;
    this.pool = new pg.Pool({
      connectionString: opts.url,
      max: opts.max ?? DEFAULT_POOL_SIZE,
      statement_timeout: statementTimeout,
      query_timeout: statementTimeout + 5_000,
      connectionTimeoutMillis: opts.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS,
      // a dead server's sockets are noticed by the kernel, not only at the next query
      keepAlive: true,
    });
    const logger = opts.logger;
    // A connection checked out of the pool (a transaction, a held lock, LISTEN) has no error
    // listener of the pool's: Postgres killed or restarted would emit 'error' on it with nobody
    // listening and crash the web node (issue 17). Its query in flight fails on its own.
    this.pool.on('connect', (client) => {
      client.on('error', (err) => {
        if (!this.closed) logger.warn({ err: err.message, db: this.displayUrl }, 'Postgres connection failed');
      });
    });
    this.pool.on('error', (err) => {
      // pool.end() resolves before its clients' sockets are closed: a server stopped right after
      // (the embedded one) ends them, which is expected once this database is closed
      if (this.closed) logger.debug({ err: err.message, db: this.displayUrl }, 'Postgres connection ended while closing');
      else logger.warn({ err: err.message, db: this.displayUrl }, 'idle Postgres connection failed');
    });
  }

  async query<R extends Row = Row>(text: string, values?: readonly unknown[]): Promise<QueryResult<R>> {
    const res = await this.pool.query<R>(this.statements.config(text, values));
    return { rows: res.rows, rowCount: res.rowCount ?? 0 };
  }

  async transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T> {
    const client = await this.pool.connect();
    let broken = false;
    try {
      await client.query('BEGIN');
      try {
        const result = await fn(new TxImpl(client, this.statements));
        await client.query('COMMIT');
        return result;
      } catch (err) {
        try {
          await client.query('ROLLBACK');
        } catch {
          broken = true;
        }
        throw err;
      }
    } finally {
      client.release(broken);
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await endListening(this.pool);
    await this.pool.end();
    if (this.onClose) await this.onClose();
  }
}

/** Postgres error code of err, if it is a server error (e.g. '23505' unique_violation). */
export function pgErrorCode(err: unknown): string | undefined {
  if (err && typeof err === 'object' && 'code' in err && typeof err.code === 'string') return err.code;
  return undefined;
}
