// Issue 24: "a fresh clone in a `mktemp -d` directory, as root, runs the README's two commands
// green; start-up failures exit non-zero with one readable line". As root, Postgres runs as the
// postgres user, who cannot traverse a 0700 folder such as mktemp -d's or /root: the embedded
// server's binaries run from a copy it can reach (src/db/embedded.ts). This clones the checkout's
// HEAD into such a folder, with a HOME of the same kind, and runs there what the README's
// commands run: the quickstart to its end, and the test runner on a Postgres-backed file.
// node_modules is hard-linked from this checkout rather than installed (`npm ci` is CI's own
// first step and needs the network): the links sit inside the private folder, so every path
// the postgres user would need goes through it, as after an install there.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { freePort } from '../../src/db/embedded.ts';

const run = promisify(execFile);
const REPO = join(import.meta.dirname, '..', '..');
const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
const hasGit = await run('git', ['--version']).then(
  () => true,
  () => false,
);
const skip = !isRoot ? 'runs only as root: a folder the postgres user cannot traverse is what it tests' : !hasGit ? 'needs git to clone the checkout' : false;

let root = '';
let checkout = '';
let home = '';

/** The environment of a newcomer's shell: none of this test run's own Postgres, data dir or runtime choice (the quickstart takes its default, containers where runc runs). */
function newcomerEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, HOME: home, JETWAY_LOG_LEVEL: 'error' };
  for (const k of ['JETWAY_TEST_POSTGRES_URL', 'JETWAY_POSTGRES_URL', 'JETWAY_DATA_DIR', 'JETWAY_LOCAL_RUNTIME', 'NODE_TEST_CONTEXT']) delete env[k];
  return env;
}

/** Runs a command in the clone to its end: exit code, stdout, stderr. */
function inClone(cmd: string, args: string[]): Promise<{ code: number; out: string; err: string }> {
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { cwd: checkout, env: newcomerEnv(), stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    child.stderr.on('data', (c: Buffer) => (err += c.toString()));
    child.on('exit', (code, signal) => resolve({ code: code ?? (signal ? 128 : 1), out, err }));
  });
}

before(async () => {
  if (skip) return;
  root = await mkdtemp(join(tmpdir(), 'jw-fresh-clone-'));
  home = await mkdtemp(join(tmpdir(), 'jw-fresh-home-'));
  checkout = join(root, 'jetway');
  await run('git', ['clone', '--quiet', REPO, checkout]);
  await run('cp', ['-al', join(REPO, 'node_modules'), join(checkout, 'node_modules')]);
  // what `npm install` runs after installing (package.json's prepare): the bundled commands
  const bundled = await inClone(process.execPath, ['--import', 'tsx', 'scripts/bundle.ts']);
  assert.equal(bundled.code, 0, bundled.err);
});

after(async () => {
  if (root) await rm(root, { recursive: true, force: true });
  if (home) await rm(home, { recursive: true, force: true });
});

test('the clone and its HOME are folders only root may enter, as mktemp -d makes them', { skip }, async () => {
  assert.equal((await stat(root)).mode & 0o777, 0o700);
  assert.equal((await stat(home)).mode & 0o777, 0o700);
});

test("the README's first command: the quickstart runs hello/hello and hello/ship to success and exits 0", { skip }, async () => {
  const r = await inClone(process.execPath, ['bin/jetway.js', 'quickstart', '--exit', '--port', String(await freePort())]);
  assert.equal(r.code, 0, `quickstart failed:\n${r.out}\n${r.err}`);
  assert.match(r.out, /hello from jetway -- tests passed\nsucceeded/);
  assert.match(r.out, /jetway watch -t quickstart -j hello\/ship[\s\S]*\nsucceeded/);
  // its data went where the README says: ~/.jetway of the newcomer's HOME
  assert.ok((await stat(join(home, '.jetway', 'postgres'))).isDirectory());
});

test("the README's second command's runner: a Postgres-backed test file passes with the clone's own embedded Postgres", { skip }, async () => {
  const r = await inClone(process.execPath, ['--import', 'tsx', 'scripts/test.ts', 'test/db/prepared-statements.test.ts']);
  assert.equal(r.code, 0, `the clone's test run failed:\n${r.out.slice(-3000)}\n${r.err.slice(-2000)}`);
  assert.match(r.out, /ℹ fail 0/);
  assert.doesNotMatch(r.out + r.err, /EACCES/);
});

test('a start-up failure in the clone: exit 1 and one readable line naming the flag', { skip }, async () => {
  const taken = createServer();
  await new Promise<void>((r) => taken.listen(0, '127.0.0.1', r));
  const port = (taken.address() as { port: number }).port;
  try {
    const r = await inClone(process.execPath, ['bin/jetway.js', 'web', '--port', String(port), '--bind-ip', '127.0.0.1', '--add-local-user', 'a:b']);
    assert.equal(r.code, 1);
    assert.equal(r.err.trimEnd(), `error: port ${port} is in use: pass another --port`);
  } finally {
    taken.close();
  }
});
