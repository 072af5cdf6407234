import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli } from '../../src/cli/program.ts';
import type { CliIO } from '../../src/cli/io.ts';
import { loadMigrations } from '../../src/db/migrate.ts';
import { createEmptyDatabase, type TestDatabase } from '../support/db.ts';

const names = loadMigrations().map((m) => m.name);

function capture(): CliIO & { out: string; err: string } {
  const io = {
    out: '',
    err: '',
    stdout: (s: string) => {
      io.out += s;
    },
    stderr: (s: string) => {
      io.err += s;
    },
  };
  return io;
}

const cleanups: (() => Promise<void> | void)[] = [];
after(async () => {
  for (const c of cleanups) await c();
});

interface StatusJson {
  database: string;
  applied: string[];
  pending: string[];
  migrations: { name: string; applied: boolean; checksum_mismatch: boolean }[];
}

test('jetway migrate --status / migrate with --postgres-url', async () => {
  const t: TestDatabase = await createEmptyDatabase();
  cleanups.push(() => t.drop());
  const password = new URL(t.url).password;

  let io = capture();
  assert.equal(await runCli(['migrate', '--status', '--postgres-url', t.url, '--output', 'json'], io), 0, io.err);
  let status = JSON.parse(io.out) as StatusJson;
  assert.deepEqual(status.pending, names);
  assert.ok(status.migrations.every((m) => !m.applied));
  assert.equal((await t.db.query(`SELECT to_regclass('pipelines')::text AS t`)).rows[0]?.t, null, '--status changes nothing');
  if (password) {
    assert.ok(!io.out.includes(password) && !io.err.includes(password), 'the password is never printed');
    assert.match(status.database, /\*\*\*/);
  }

  io = capture();
  assert.equal(await runCli(['migrate', '--postgres-url', t.url], io), 0, io.err);
  assert.match(io.out, new RegExp(`applied: ${names.join(', ')}`));

  io = capture();
  assert.equal(await runCli(['migrate', '--status', '--postgres-url', t.url], io), 0, io.err);
  for (const n of names) assert.match(io.out, new RegExp(`${n}\\s+applied \\d{4}-`));
  if (password) assert.ok(!io.out.includes(password));

  io = capture();
  assert.equal(await runCli(['migrate', '--postgres-url', t.url, '--output', 'json'], io), 0, io.err);
  status = JSON.parse(io.out) as StatusJson;
  assert.deepEqual(status.applied, []);
  assert.deepEqual(status.pending, []);

  // a changed migration is reported and fails the command
  await t.db.query(`UPDATE schema_migrations SET checksum = 'edited' WHERE name = $1`, [names[0]]);
  io = capture();
  assert.equal(await runCli(['migrate', '--status', '--postgres-url', t.url], io), 1);
  assert.match(io.out, /CHANGED/);
  io = capture();
  assert.equal(await runCli(['migrate', '--postgres-url', t.url], io), 1);
  assert.match(io.err, /checksum mismatch/);
});

test('jetway migrate --status on the embedded default (~/.jetway/postgres), persistent across runs', () => {
  const home = mkdtempSync(join(tmpdir(), 'jetway-home-'));
  chmodSync(home, 0o755);
  cleanups.push(() => rmSync(home, { recursive: true, force: true }));
  const env: NodeJS.ProcessEnv = { ...process.env, HOME: home, JETWAY_LOG_LEVEL: 'warn' };
  delete env.JETWAY_POSTGRES_URL;
  const run = (args: string[]) =>
    spawnSync(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', ...args], { env, encoding: 'utf8', timeout: 120_000 });

  let r = run(['migrate', '--status', '--output', 'json']);
  assert.equal(r.status, 0, r.stderr);
  let status = JSON.parse(r.stdout) as StatusJson;
  assert.deepEqual(status.pending, names, 'a new embedded server has nothing applied');
  assert.match(status.database, /127\.0\.0\.1/);
  assert.ok(existsSync(join(home, '.jetway', 'postgres', 'PG_VERSION')), 'the data directory defaults to ~/.jetway/postgres');

  r = run(['migrate']);
  assert.equal(r.status, 0, r.stderr);

  r = run(['migrate', '--status', '--output', 'json']);
  assert.equal(r.status, 0, r.stderr);
  status = JSON.parse(r.stdout) as StatusJson;
  assert.deepEqual(status.pending, [], 'the migrations persisted across restarts');
  assert.ok(status.migrations.every((m) => m.applied));
});
