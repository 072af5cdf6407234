import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { PoolDatabase } from '../../src/db/database.ts';
import { defaultLogger } from '../../src/log.ts';
import { loadMigrations, migrate, migrationStatus, MigrationError, type Migration } from '../../src/db/migrate.ts';
import { createEmptyDatabase, type TestDatabase } from '../support/db.ts';

const dbs: TestDatabase[] = [];
after(async () => {
  for (const d of dbs) await d.drop();
});
async function empty(): Promise<TestDatabase> {
  const d = await createEmptyDatabase();
  dbs.push(d);
  return d;
}

const all = loadMigrations();

test('the migration files are numbered NNNN_name.sql and the first creates the schema', () => {
  assert.ok(all.length >= 1);
  assert.equal(all[0]?.name, '0001_initial');
  for (const m of all) assert.match(m.checksum, /^[0-9a-f]{64}$/);
});

test('a fresh database gets every migration, the §6 tables and the main team', async () => {
  const { db } = await empty();
  const before = await migrationStatus(db);
  assert.ok(before.every((s) => !s.applied));
  const result = await migrate(db);
  assert.deepEqual(result.applied, all.map((m) => m.name));
  assert.ok(result.status.every((s) => s.applied && !s.checksumMismatch));

  const tables = (
    await db.query<{ table_name: string }>(
      `SELECT table_name FROM information_schema.tables WHERE table_schema = 'public'`,
    )
  ).rows.map((r) => r.table_name);
  for (const t of [
    'teams', 'pipelines', 'jobs', 'jobs_serial_groups', 'job_inputs', 'job_outputs', 'resources',
    'resource_types', 'resource_pins', 'resource_disabled_versions', 'base_resource_types',
    'resource_configs', 'resource_config_scopes', 'resource_config_versions', 'resource_caches',
    'resource_cache_uses', 'build_image_resource_caches', 'builds', 'build_events',
    'build_resource_config_version_inputs', 'build_resource_config_version_outputs',
    'successful_build_outputs', 'build_pipes', 'next_build_inputs', 'next_build_pipes',
    'containers', 'volumes', 'schema_migrations',
  ]) {
    assert.ok(tables.includes(t), `table ${t} exists`);
  }
  const teams = await db.query<{ name: string }>('SELECT name FROM teams');
  assert.deepEqual(teams.rows.map((r) => r.name), ['main']);
});

test('re-running migrate applies nothing and changes nothing', async () => {
  const { db } = await empty();
  await migrate(db);
  const first = await db.query('SELECT name, applied_at FROM schema_migrations ORDER BY name');
  const again = await migrate(db);
  assert.deepEqual(again.applied, []);
  const second = await db.query('SELECT name, applied_at FROM schema_migrations ORDER BY name');
  assert.deepEqual(second.rows, first.rows);
  assert.equal((await db.query('SELECT 1 FROM teams')).rowCount, 1, 'the main team is not inserted twice');
});

test('two nodes migrating one database at the same time both succeed and apply each migration once', async () => {
  const { url } = await empty();
  const logger = defaultLogger();
  const nodes = [0, 1, 2].map(() => new PoolDatabase({ url, logger, max: 2 }));
  try {
    const results = await Promise.all(nodes.map((n) => migrate(n)));
    const appliedBy = results.flatMap((r) => r.applied).sort();
    assert.deepEqual(appliedBy, all.map((m) => m.name).sort(), 'each migration applied by exactly one node');
    for (const r of results) assert.ok(r.status.every((s) => s.applied));
    const rows = await nodes[0]!.query<{ n: number }>('SELECT count(*)::int AS n FROM schema_migrations');
    assert.equal(rows.rows[0]?.n, all.length);
  } finally {
    for (const n of nodes) await n.close();
  }
});

test('status lists pending migrations, and migrate applies only those', async () => {
  const { db } = await empty();
  await migrate(db);
  const extra: Migration = {
    name: '9999_test_extra',
    checksum: 'x'.repeat(64),
    sql: 'CREATE TABLE test_extra (id int); INSERT INTO test_extra VALUES (1);',
  };
  const status = await migrationStatus(db, [...all, extra]);
  assert.deepEqual(status.filter((s) => !s.applied).map((s) => s.name), ['9999_test_extra']);
  const result = await migrate(db, [...all, extra]);
  assert.deepEqual(result.applied, ['9999_test_extra']);
  assert.equal((await db.query('SELECT * FROM test_extra')).rowCount, 1);
});

test('a migration that fails leaves nothing behind and is not recorded', async () => {
  const { db } = await empty();
  await migrate(db);
  const bad: Migration = { name: '9998_bad', checksum: 'b'.repeat(64), sql: 'CREATE TABLE half_done (id int); SELECT no_such_fn();' };
  await assert.rejects(migrate(db, [...all, bad]), (err: unknown) => err instanceof MigrationError && /9998_bad failed/.test(err.message));
  assert.equal((await db.query(`SELECT to_regclass('half_done') AS t`)).rows[0]?.t, null);
  const status = await migrationStatus(db, [...all, bad]);
  assert.equal(status.find((s) => s.name === '9998_bad')?.applied, false);
});

test('an applied migration whose file changed is a clear error, and nothing is applied', async () => {
  const { db } = await empty();
  await migrate(db);
  const first = all[0]!;
  const edited: Migration[] = [{ ...first, sql: `${first.sql}\n-- edited`, checksum: 'e'.repeat(64) }, ...all.slice(1)];
  const extra: Migration = { name: '9997_after', checksum: 'a'.repeat(64), sql: 'CREATE TABLE after_edit (id int)' };
  await assert.rejects(migrate(db, [...edited, extra]), (err: unknown) => {
    assert.ok(err instanceof MigrationError);
    assert.match(err.message, /0001_initial/);
    assert.match(err.message, /checksum/);
    return true;
  });
  assert.equal((await db.query(`SELECT to_regclass('after_edit') AS t`)).rows[0]?.t, null);
  const status = await migrationStatus(db, edited);
  assert.equal(status[0]?.checksumMismatch, true);
});

test('a database migrated by a newer Jetway is refused', async () => {
  const { db } = await empty();
  await migrate(db);
  await db.query(`INSERT INTO schema_migrations (name, checksum) VALUES ('9990_from_future', 'f')`);
  await assert.rejects(migrate(db), /9990_from_future.*newer Jetway/);
});
