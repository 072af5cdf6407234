// One Postgres server for many algorithm cases: a migrated template database is created once,
// and each case gets a fresh database copied from it (CREATE DATABASE … TEMPLATE), dropped after
// use. The server is an external one (postgresUrl) or an embedded one this process starts and
// removes again.
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { PoolDatabase, type Database } from '../../../src/db/database.ts';
import { startEmbeddedPostgres } from '../../../src/db/embedded.ts';
import { migrate } from '../../../src/db/migrate.ts';

export interface CaseDatabase {
  db: Database;
  /** Closes the connections and drops the database. */
  drop(): Promise<void>;
}

export interface CasePostgres {
  /** A fresh, migrated, empty database. */
  freshDatabase(): Promise<CaseDatabase>;
  /** Drops every database it created and stops the embedded server, if any. */
  close(): Promise<void>;
}

function withDatabase(url: string, name: string): string {
  const u = new URL(url);
  u.pathname = `/${name}`;
  return u.toString();
}

export async function startCasePostgres(opts: { postgresUrl?: string } = {}): Promise<CasePostgres> {
  const logger = pino({ level: 'silent' });
  let stopServer: (() => Promise<void>) | undefined;
  let url = opts.postgresUrl;
  if (!url) {
    const dir = await mkdtemp(join(tmpdir(), 'jetway-cases-'));
    try {
      const server = await startEmbeddedPostgres({ dataDir: join(dir, 'pg'), logger, persistent: false });
      url = server.url;
      stopServer = async () => {
        try {
          await server.stop();
        } finally {
          await rm(dir, { recursive: true, force: true });
        }
      };
    } catch (err) {
      await rm(dir, { recursive: true, force: true });
      throw err;
    }
  }
  const serverUrl = url;
  const admin = new PoolDatabase({ url: serverUrl, logger, max: 2 });
  const prefix = `jetway_alg_${randomBytes(4).toString('hex')}`;
  const template = `${prefix}_template`;
  const live = new Set<string>();
  let counter = 0;
  // CREATE DATABASE … TEMPLATE needs the template unused: serialise the copies
  let creating: Promise<unknown> = Promise.resolve();

  try {
    await admin.query(`CREATE DATABASE ${template}`);
    const tmpl = new PoolDatabase({ url: withDatabase(serverUrl, template), logger, max: 1 });
    try {
      await migrate(tmpl);
    } finally {
      await tmpl.close();
    }
  } catch (err) {
    await admin.query(`DROP DATABASE IF EXISTS ${template}`).catch(() => undefined);
    await admin.close();
    if (stopServer) await stopServer();
    throw err;
  }

  const dropDatabase = async (name: string): Promise<void> => {
    live.delete(name);
    await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
  };

  return {
    async freshDatabase(): Promise<CaseDatabase> {
      const name = `${prefix}_${++counter}`;
      const created = creating.then(() => admin.query(`CREATE DATABASE ${name} TEMPLATE ${template}`));
      creating = created.catch(() => undefined);
      await created;
      live.add(name);
      const db = new PoolDatabase({ url: withDatabase(serverUrl, name), logger, max: 4 });
      return {
        db,
        drop: async () => {
          await db.close();
          await dropDatabase(name);
        },
      };
    },
    async close(): Promise<void> {
      try {
        for (const name of [...live]) await dropDatabase(name).catch(() => undefined);
        await admin.query(`DROP DATABASE IF EXISTS ${template} WITH (FORCE)`).catch(() => undefined);
        await admin.close();
      } finally {
        if (stopServer) await stopServer();
      }
    },
  };
}
