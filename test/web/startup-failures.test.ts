// Start-up failures of the commands that own an embedded Postgres (web, migrate), as real
// processes: each exits non-zero with the cause in one readable line on stderr that names the
// flag to change; --data-dir means the same folder for every command; Jetway never deletes a
// folder it did not create; a data directory in use by a running node is refused, and the
// Postgres orphaned by a node killed with -9 is stopped by the next start.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer } from 'node:net';
import { freePort } from '../../src/db/embedded.ts';
import { createTestDatabase } from '../support/db.ts';

const BIN = join(import.meta.dirname, '..', '..', 'bin', 'jetway.js');
const root = mkdtempSync(join(tmpdir(), 'jw-startup-'));
const started: { kill(signal: NodeJS.Signals): void }[] = [];
after(() => {
  for (const p of started) p.kill('SIGKILL');
  rmSync(root, { recursive: true, force: true });
});

const env = (extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv => {
  const e: NodeJS.ProcessEnv = { ...process.env, HOME: root, JETWAY_LOG_LEVEL: 'error', ...extra };
  delete e.JETWAY_POSTGRES_URL;
  delete e.JETWAY_DATA_DIR;
  return { ...e, ...extra };
};

function jetway(args: string[], extraEnv: NodeJS.ProcessEnv = {}) {
  const child = spawn(process.execPath, [BIN, ...args], { env: env(extraEnv), stdio: ['ignore', 'pipe', 'pipe'] });
  started.push(child);
  let out = '';
  let err = '';
  child.stdout.on('data', (c: Buffer) => (out += c.toString()));
  child.stderr.on('data', (c: Buffer) => (err += c.toString()));
  const exited = new Promise<number>((resolve) => child.on('exit', (code, signal) => resolve(code ?? (signal ? 128 : 1))));
  return { child, exited, out: () => out, err: () => err };
}

async function result(args: string[], extraEnv: NodeJS.ProcessEnv = {}): Promise<{ code: number; out: string; err: string }> {
  const p = jetway(args, extraEnv);
  const code = await p.exited;
  return { code, out: p.out(), err: p.err() };
}

/** stderr is exactly one line, starting with `error: `. */
function oneLine(err: string): string {
  const lines = err.trimEnd().split('\n');
  assert.equal(lines.length, 1, `one line on stderr, got:\n${err}`);
  assert.match(lines[0] ?? '', /^error: /);
  return lines[0] ?? '';
}

const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

test('--data-dir is the same folder for migrate and web; a non-Jetway folder is never deleted', async () => {
  const data = join(root, 'data');
  // JETWAY_DATA_DIR, as web reads it: the cluster goes to <dir>/postgres
  let r = await result(['migrate'], { JETWAY_DATA_DIR: data });
  assert.equal(r.code, 0, r.err);
  assert.ok(existsSync(join(data, 'postgres', 'PG_VERSION')), 'migrate honours JETWAY_DATA_DIR and puts Postgres in <dir>/postgres');

  // the Postgres folder itself given as --data-dir: refused, nothing deleted
  r = await result(['migrate', '--data-dir', join(data, 'postgres')]);
  assert.equal(r.code, 1);
  assert.match(oneLine(r.err), /postgres is itself a Postgres folder: --data-dir names the folder Jetway keeps its data in .*give .*data/);
  assert.ok(existsSync(join(data, 'postgres', 'PG_VERSION')), 'the cluster is untouched');

  // a folder with files of someone else's: refused, kept
  const other = join(root, 'other');
  mkdirSync(join(other, 'postgres'), { recursive: true });
  writeFileSync(join(other, 'postgres', 'notes.txt'), 'mine');
  r = await result(['migrate', '--data-dir', other]);
  assert.equal(r.code, 1);
  assert.match(oneLine(r.err), /other\/postgres is not empty and holds no Postgres cluster \(notes\.txt\); give .*--data-dir/);
  assert.equal(readFileSync(join(other, 'postgres', 'notes.txt'), 'utf8'), 'mine');
});

test('a data directory in use by a running web node is refused; after kill -9 the next start stops the orphaned Postgres', async () => {
  const data = join(root, 'data'); // created by the test above
  const port = await freePort();
  const web = jetway(['web', '--port', String(port), '--bind-ip', '127.0.0.1', '--data-dir', data, '--add-local-user', 'ci:s3cret-pass']);
  let healthy = false;
  let exited = false;
  void web.exited.then(() => (exited = true));
  for (let i = 0; i < 600 && !healthy && !exited; i++) {
    healthy = await fetch(`http://127.0.0.1:${port}/api/v1/health`).then((res) => res.ok, () => false);
    if (!healthy) await new Promise((r) => setTimeout(r, 100));
  }
  assert.ok(healthy, `jetway web did not start: ${web.err()}`);
  const postmaster = Number.parseInt(readFileSync(join(data, 'postgres', 'postmaster.pid'), 'utf8'), 10);

  // migrate next to the running node uses its Postgres (the README's `jetway migrate --status`)
  let r = await result(['migrate', '--status', '--data-dir', data]);
  assert.equal(r.code, 0, r.err);
  assert.match(r.out, /database: postgres:\/\/jetway:\*\*\*@127\.0\.0\.1/);
  assert.ok(alive(postmaster), "migrate leaves the node's Postgres running");

  r = await result(['web', '--port', String(await freePort()), '--data-dir', data, '--add-local-user', 'a:b']);
  assert.equal(r.code, 1, 'a second web node on the same data directory exits non-zero');
  assert.match(oneLine(r.err), new RegExp(`^error: the data directory .*postgres is in use by a running Jetway \\(pid ${web.child.pid}\\): stop it first, or give another --data-dir`));

  web.child.kill('SIGKILL');
  await web.exited;
  assert.ok(alive(postmaster), 'kill -9 leaves the embedded Postgres running');

  r = await result(['migrate', '--status', '--data-dir', data]);
  assert.equal(r.code, 0, r.err);
  assert.match(r.out, /database: postgres:\/\/jetway:\*\*\*@127\.0\.0\.1/);
  assert.ok(!alive(postmaster), 'the orphaned Postgres was stopped');
});

test('a port in use: exit 1 and one line naming --port', async () => {
  const tdb = await createTestDatabase();
  const taken = createServer();
  await new Promise<void>((r) => taken.listen(0, '127.0.0.1', r));
  const port = (taken.address() as { port: number }).port;
  try {
    const r = await result(['web', '--port', String(port), '--bind-ip', '127.0.0.1', '--data-dir', join(root, 'port'), '--postgres-url', tdb.url, '--add-local-user', 'a:b']);
    assert.equal(r.code, 1);
    assert.equal(oneLine(r.err), `error: port ${port} is in use: pass another --port`);
  } finally {
    taken.close();
    await tdb.drop();
  }
});

test('--postgres-max-conns (or JETWAY_POSTGRES_MAX_CONNS) below 3: exit 2, one line naming the flag, nothing started', async () => {
  const data = join(root, 'pool');
  for (const [args, env] of [
    [['--postgres-max-conns', '2'], {}],
    [[], { JETWAY_POSTGRES_MAX_CONNS: '2' }],
  ] as const) {
    const r = await result(['web', '--port', String(await freePort()), '--data-dir', data, '--add-local-user', 'a:b', ...args], env);
    assert.equal(r.code, 2, r.err);
    assert.equal(oneLine(r.err), "error: --postgres-max-conns: '2' is not a number of connections from 3 (one listens, one holds the scheduler's locks, one works) to 1000");
    assert.ok(!existsSync(data), 'no data directory made');
  }
});
