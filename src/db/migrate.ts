// Versioned SQL migrations: src/db/migrations/NNNN_name.sql, applied in name order, each in
// its own transaction, all under one Postgres advisory lock so that web nodes starting at the
// same time apply each migration exactly once.
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { packagePath } from '../package.ts';
import type pg from 'pg';
import type { Database } from './database.ts';

/** A client-side query timeout long enough to mean none (pg treats 0 as "the pool's default"). */
const UNBOUNDED_MS = 7 * 24 * 3_600_000;

export interface Migration {
  /** File name without `.sql`, e.g. `0001_initial`. */
  name: string;
  /** sha256 hex of the file's text. */
  checksum: string;
  sql: string;
}

export interface MigrationState {
  name: string;
  checksum: string;
  applied: boolean;
  appliedAt: Date | null;
  /** Applied with another checksum (the file was edited after it was applied). */
  checksumMismatch: boolean;
  /** Applied in the database but unknown to this build of Jetway. */
  unknown: boolean;
}

export interface MigrateResult {
  applied: string[];
  status: MigrationState[];
}

export const MIGRATIONS_DIR = packagePath('src', 'db', 'migrations');
/** Key of the advisory lock held while migrating (any constant shared by all Jetway nodes). */
export const MIGRATION_LOCK_KEY = 7_305_925_001;

export class MigrationError extends Error {}

const NAME_RE = /^(\d{4})_[a-z0-9_]+\.sql$/;

export function loadMigrations(dir: string = MIGRATIONS_DIR): Migration[] {
  const files = readdirSync(dir).filter((f) => f.endsWith('.sql')).sort();
  const seen = new Set<string>();
  return files.map((file) => {
    const m = NAME_RE.exec(file);
    if (!m) throw new MigrationError(`migration file ${file} is not named NNNN_name.sql`);
    const prefix = m[1] ?? '';
    if (seen.has(prefix)) throw new MigrationError(`two migrations are numbered ${prefix}`);
    seen.add(prefix);
    const sql = readFileSync(`${dir}/${file}`, 'utf8');
    return { name: file.slice(0, -4), checksum: createHash('sha256').update(sql).digest('hex'), sql };
  });
}

const CREATE_TABLE = `CREATE TABLE IF NOT EXISTS schema_migrations (
  name       text PRIMARY KEY,
  checksum   text NOT NULL,
  applied_at timestamptz NOT NULL DEFAULT now()
)`;

interface AppliedRow extends Record<string, unknown> {
  name: string;
  checksum: string;
  applied_at: Date;
}

function compare(migrations: Migration[], applied: AppliedRow[]): MigrationState[] {
  const byName = new Map(applied.map((r) => [r.name, r]));
  const known = new Set(migrations.map((m) => m.name));
  const states: MigrationState[] = migrations.map((m) => {
    const row = byName.get(m.name);
    return {
      name: m.name,
      checksum: m.checksum,
      applied: row !== undefined,
      appliedAt: row?.applied_at ?? null,
      checksumMismatch: row !== undefined && row.checksum !== m.checksum,
      unknown: false,
    };
  });
  for (const row of applied) {
    if (!known.has(row.name)) {
      states.push({
        name: row.name,
        checksum: row.checksum,
        applied: true,
        appliedAt: row.applied_at,
        checksumMismatch: false,
        unknown: true,
      });
    }
  }
  return states.sort((a, b) => a.name.localeCompare(b.name));
}

function checkConsistent(states: MigrationState[]): void {
  const changed = states.filter((s) => s.checksumMismatch).map((s) => s.name);
  if (changed.length > 0) {
    throw new MigrationError(
      `applied migration${changed.length > 1 ? 's' : ''} ${changed.join(', ')} changed since ${changed.length > 1 ? 'they were' : 'it was'} applied ` +
        '(checksum mismatch); never edit an applied migration, add a new one',
    );
  }
  const unknown = states.filter((s) => s.unknown).map((s) => s.name);
  if (unknown.length > 0) {
    throw new MigrationError(
      `the database has migration${unknown.length > 1 ? 's' : ''} ${unknown.join(', ')} that this version of Jetway does not know; it was migrated by a newer Jetway`,
    );
  }
}

/** The state of every migration, without changing anything. */
export async function migrationStatus(db: Database, migrations: Migration[] = loadMigrations()): Promise<MigrationState[]> {
  const exists = await db.query<{ t: string | null }>(`SELECT to_regclass('schema_migrations')::text AS t`);
  const applied = exists.rows[0]?.t
    ? (await db.query<AppliedRow>('SELECT name, checksum, applied_at FROM schema_migrations ORDER BY name')).rows
    : [];
  return compare(migrations, applied);
}

/**
 * Applies every pending migration. Safe to call from several processes at once: the work is
 * done under an advisory lock, and each migration commits together with its schema_migrations
 * row. Refuses (MigrationError) when an applied migration's file has changed.
 */
export async function migrate(db: Database, migrations: Migration[] = loadMigrations()): Promise<MigrateResult> {
  const client = await db.pool.connect();
  let broken = false;
  try {
    // migrations (and waiting for another node's) may outlast the pool's query timeouts (database.ts)
    await client.query('SET statement_timeout = 0');
    await client.query({ text: 'SELECT pg_advisory_lock($1)', values: [MIGRATION_LOCK_KEY], query_timeout: UNBOUNDED_MS } as pg.QueryConfig);
    try {
      await client.query(CREATE_TABLE);
      const applied = (await client.query<AppliedRow>('SELECT name, checksum, applied_at FROM schema_migrations ORDER BY name'))
        .rows;
      checkConsistent(compare(migrations, applied));
      const done = new Set(applied.map((r) => r.name));
      const newlyApplied: string[] = [];
      for (const m of migrations) {
        if (done.has(m.name)) continue;
        try {
          await client.query('BEGIN');
          await client.query({ text: m.sql, query_timeout: UNBOUNDED_MS } as pg.QueryConfig);
          await client.query('INSERT INTO schema_migrations (name, checksum) VALUES ($1, $2)', [m.name, m.checksum]);
          await client.query('COMMIT');
        } catch (err) {
          await client.query('ROLLBACK').catch(() => {
            broken = true;
          });
          throw new MigrationError(`migration ${m.name} failed: ${err instanceof Error ? err.message : String(err)}`);
        }
        newlyApplied.push(m.name);
      }
      const after = (await client.query<AppliedRow>('SELECT name, checksum, applied_at FROM schema_migrations ORDER BY name')).rows;
      return { applied: newlyApplied, status: compare(migrations, after) };
    } finally {
      if (!broken) await client.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK_KEY]).catch(() => undefined);
    }
  } finally {
    // a broken connection is discarded, which also releases the session's advisory lock
    client.release(broken);
  }
}
