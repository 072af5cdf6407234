import { homedir } from 'node:os';
import { join } from 'node:path';
import { PoolDatabase, type Database } from './database.ts';
import { startEmbeddedPostgres } from './embedded.ts';
import { defaultLogger, type Logger } from '../log.ts';
import { redactUrl } from './redact-url.ts';
import { migrate } from './migrate.ts';

export interface OpenDatabaseOptions {
  /** An external Postgres server. Default: env JETWAY_POSTGRES_URL, else an embedded server. */
  postgresUrl?: string;
  /** Data directory of the embedded server. Default: ~/.jetway/postgres. */
  dataDir?: string;
  /** Apply pending migrations before returning (default true). */
  migrate?: boolean;
  logger?: Logger;
  /** Use the embedded server of a Jetway already running on dataDir instead of refusing (jetway migrate). */
  shareRunning?: boolean;
  /** Pool size (default DEFAULT_POOL_SIZE, 10). */
  maxConnections?: number;
}

/**
 * JETWAY_POSTGRES_PREPARED_STATEMENTS=off turns server-side prepared statements off (database.ts
 * StatementNames), for a pooler in front of an external Postgres that does not keep them.
 */
export function preparedStatementsFromEnv(value: string | undefined): boolean {
  if (value === undefined || value === '' || value === 'on' || value === 'true') return true;
  if (value === 'off' || value === 'false') return false;
  throw new Error(`JETWAY_POSTGRES_PREPARED_STATEMENTS must be on or off, not '${value}'`);
}

export function defaultDataDir(): string {
  return join(homedir(), '.jetway', 'postgres');
}

/**
 * Connects to Postgres: the external server of `postgresUrl` / JETWAY_POSTGRES_URL, or else a
 * Postgres this process starts and owns (embedded, persistent in `dataDir`, stopped by close()).
 * Runs pending migrations unless `migrate: false`.
 */
export async function openDatabase(opts: OpenDatabaseOptions = {}): Promise<Database> {
  const logger = opts.logger ?? defaultLogger();
  const external = opts.postgresUrl ?? (process.env.JETWAY_POSTGRES_URL || undefined);
  const preparedStatements = preparedStatementsFromEnv(process.env.JETWAY_POSTGRES_PREPARED_STATEMENTS);
  let db: Database;
  if (external) {
    db = new PoolDatabase({ url: external, logger, max: opts.maxConnections, preparedStatements });
    logger.info({ db: redactUrl(external) }, 'using external Postgres');
  } else {
    const server = await startEmbeddedPostgres({ dataDir: opts.dataDir ?? defaultDataDir(), logger, ...(opts.shareRunning ? { shareRunning: true } : {}) });
    db = new PoolDatabase({ url: server.url, logger, max: opts.maxConnections, preparedStatements, onClose: () => server.stop() });
  }
  try {
    await db.query('SELECT 1');
    if (opts.migrate ?? true) {
      const result = await migrate(db);
      if (result.applied.length > 0) logger.info({ applied: result.applied }, 'applied database migrations');
    }
  } catch (err) {
    await db.close().catch(() => undefined);
    throw err;
  }
  return db;
}
