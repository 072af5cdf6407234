// A fresh, migrated database per test file, on a real Postgres: the server of
// JETWAY_TEST_POSTGRES_URL (started by scripts/test.ts), or else an embedded Postgres started
// here (so that one test file can run alone: `npx tsx --test test/db/x.test.ts`).
import { createHash, randomBytes } from 'node:crypto';
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before } from 'node:test';
import pg from 'pg';
import { PoolDatabase, type Database } from '../../src/db/database.ts';
import { startEmbeddedPostgres, type EmbeddedServer } from '../../src/db/embedded.ts';
import { defaultLogger } from '../../src/log.ts';
import { loadMigrations, migrate } from '../../src/db/migrate.ts';

export interface TestDatabase {
  db: Database;
  /** URL of this test's database (password included). */
  url: string;
  /** Closes db and drops the database. */
  drop(): Promise<void>;
}

const logger = defaultLogger().child({ component: 'test-db' });
const TEMPLATE_LOCK_KEY = 7_305_925_002;

let ownServer: Promise<{ server: EmbeddedServer; dir: string }> | undefined;
let ownServerUsers = 0;

async function serverUrl(): Promise<string> {
  const fromEnv = process.env.JETWAY_TEST_POSTGRES_URL;
  if (fromEnv) return fromEnv;
  ownServerUsers++;
  ownServer ??= (async () => {
    const dir = mkdtempSync(join(tmpdir(), 'jetway-test-pg-'));
    chmodSync(dir, 0o755); // the postgres user (when run as root) must traverse it
    const server = await startEmbeddedPostgres({ dataDir: join(dir, 'data'), persistent: false, logger });
    return { server, dir };
  })();
  return (await ownServer).server.url;
}

async function releaseServer(): Promise<void> {
  if (process.env.JETWAY_TEST_POSTGRES_URL || !ownServer) return;
  if (--ownServerUsers > 0) return;
  const own = await ownServer;
  ownServer = undefined;
  await own.server.stop();
  rmSync(own.dir, { recursive: true, force: true });
}

function withDatabase(url: string, name: string): string {
  const u = new URL(url);
  u.pathname = `/${name}`;
  return u.toString();
}

/** The database of a test file (see useTestDatabase), readable inside its tests and hooks. */
export interface TestDatabaseHandle {
  readonly db: Database;
  /** URL of the database (password included). */
  readonly url: string;
}

/**
 * A fresh, migrated database for the calling test file: registers the `before` hook that
 * creates it (then runs `setup` on it: the file's fixtures) and the `after` hook that drops it.
 * Fixtures go in `setup`, not in a `before` of their own: Node 20 starts a file's top-level
 * `before` hooks without waiting for the previous one.
 */
export function useTestDatabase(setup?: (db: Database) => Promise<void>): TestDatabaseHandle {
  let current: TestDatabase | undefined;
  before(async () => {
    current = await createTestDatabase();
    await setup?.(current.db);
  });
  after(async () => {
    await current?.drop();
  });
  const get = (): TestDatabase => {
    if (!current) throw new Error('the test database exists only inside tests and hooks');
    return current;
  };
  return {
    get db() {
      return get().db;
    },
    get url() {
      return get().url;
    },
  };
}

/** Name of the migrated template for the current set of migrations. */
function templateName(): string {
  const hash = createHash('sha256');
  for (const m of loadMigrations()) hash.update(`${m.name}:${m.checksum}\n`);
  return `jw_template_${hash.digest('hex').slice(0, 16)}`;
}

export async function createTestDatabase(): Promise<TestDatabase> {
  const base = await serverUrl();
  const name = `jw_${randomBytes(6).toString('hex')}`;
  const template = templateName();
  const admin = new pg.Client({ connectionString: base });
  await admin.connect();
  try {
    await admin.query('SELECT pg_advisory_lock($1)', [TEMPLATE_LOCK_KEY]);
    try {
      const found = await admin.query('SELECT 1 FROM pg_database WHERE datname = $1', [template]);
      if (found.rowCount === 0) {
        // build under a temporary name, so a half-made template is never used
        const building = `${template}_building`;
        await admin.query(`DROP DATABASE IF EXISTS ${building}`);
        await admin.query(`CREATE DATABASE ${building}`);
        const tdb = new PoolDatabase({ url: withDatabase(base, building), logger, max: 2 });
        try {
          await migrate(tdb);
        } finally {
          await tdb.close();
        }
        await admin.query(`ALTER DATABASE ${building} RENAME TO ${template}`);
      }
      await admin.query(`CREATE DATABASE ${name} TEMPLATE ${template}`);
    } finally {
      await admin.query('SELECT pg_advisory_unlock($1)', [TEMPLATE_LOCK_KEY]);
    }
  } finally {
    await admin.end();
  }
  return openTestDatabase(base, name);
}

/** A handle on a database created on the test server; `drop` removes it and releases the server. */
function openTestDatabase(base: string, name: string): TestDatabase {
  const url = withDatabase(base, name);
  const db = new PoolDatabase({ url, logger });
  let dropped = false;
  return {
    db,
    url,
    drop: async () => {
      if (dropped) return;
      dropped = true;
      await db.close();
      const c = new pg.Client({ connectionString: base });
      await c.connect();
      try {
        await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      } finally {
        await c.end();
      }
      await releaseServer();
    },
  };
}

/** A fresh, empty (not migrated) database, for migration tests. */
export async function createEmptyDatabase(): Promise<TestDatabase> {
  const base = await serverUrl();
  const name = `jw_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: base });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE ${name}`);
  } finally {
    await admin.end();
  }
  return openTestDatabase(base, name);
}
