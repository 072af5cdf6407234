// The CLI drives a real `jetway web` process through a full cycle, as a user would: login, set,
// unpause, check, trigger, watch, versions, rerun, abort; and the mistakes users make get clear
// errors that change nothing.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../../src/db/embedded.ts';
import { createTestDatabase, type TestDatabase } from '../support/db.ts';
import { jetway } from '../support/cli.ts';
import { waitForHealth } from '../support/web-process.ts';

const BIN = join(import.meta.dirname, '..', '..', 'bin', 'jetway.js');
let tdb: TestDatabase;
let dir: string;
let web: ChildProcess;
let url: string;
const savedHome = process.env.HOME;

const PIPELINE = `
resources:
- name: repo
  type: mock
  check_every: never
  source: {initial_version: v1, create_files: {msg.txt: "hello"}}
jobs:
- name: build
  plan:
  - get: repo
    trigger: true
  - task: show
    config:
      platform: linux
      inputs: [{name: repo}]
      run: {path: sh, args: [-c, "cat repo/msg.txt; echo; cat repo/version"]}
- name: slow
  plan:
  - task: wait
    config:
      platform: linux
      run: {path: sleep, args: ["60"]}
`;

before(async () => {
  tdb = await createTestDatabase();
  dir = await mkdtemp(join(tmpdir(), 'jw-cycle-'));
  process.env.HOME = dir; // the CLI saves its targets in ~/.jetwayrc
  const port = await freePort();
  url = `http://127.0.0.1:${port}`;
  web = spawn(
    process.execPath,
    [BIN, 'web', '--port', String(port), '--bind-ip', '127.0.0.1', '--data-dir', join(dir, 'data'), '--postgres-url', tdb.url, '--add-local-user', 'dev:correct-horse', '--scheduler-interval', '1s', '--checker-interval', '1s'],
    { stdio: 'ignore' },
  );
  await waitForHealth(url, { child: web });
  await writeFile(join(dir, 'pipeline.yml'), PIPELINE);
});
after(async () => {
  web.kill('SIGTERM');
  await new Promise((r) => web.once('exit', r));
  process.env.HOME = savedHome;
  await tdb.drop();
  await rm(dir, { recursive: true, force: true });
});

test('wrong credentials are refused clearly and save nothing', async () => {
  const r = await jetway('login', '-t', 'ci', '-c', url, '-u', 'dev', '-p', 'wrong');
  assert.equal(r.code, 1);
  assert.match(r.err, /401|not authorized|invalid/i);
  assert.doesNotMatch(r.err + r.out, /correct-horse/);
  const p = await jetway('pipelines', '-t', 'ci');
  assert.notEqual(p.code, 0, 'no target was saved');
});

test('a full cycle: login, set, unpause, check, trigger -w, versions, rerun, abort', async () => {
  assert.equal((await jetway('login', '-t', 'ci', '-c', url, '-u', 'dev', '-p', 'correct-horse')).code, 0);
  const set = await jetway('-t', 'ci', 'set-pipeline', '-p', 'demo', '-c', join(dir, 'pipeline.yml'), '-n');
  assert.equal(set.code, 0, set.err);
  assert.equal((await jetway('-t', 'ci', 'unpause-pipeline', '-p', 'demo')).code, 0);

  const check = await jetway('-t', 'ci', 'check-resource', '-r', 'demo/repo', '-f', 'version:v7');
  assert.equal(check.code, 0, check.err + check.out);
  const versions = await jetway('-t', 'ci', 'resource-versions', '-r', 'demo/repo', '--output', 'json');
  assert.equal(versions.code, 0, versions.err);
  assert.ok((JSON.parse(versions.out) as { version: Record<string, string> }[]).some((v) => v.version.version === 'v7'));

  const run = await jetway('-t', 'ci', 'trigger-job', '-j', 'demo/build', '-w');
  assert.equal(run.code, 0, run.err + run.out);
  assert.match(run.out, /hello\nv7/);
  assert.match(run.out, /succeeded/);
  const name = /started demo\/build #(\S+)/.exec(run.out)?.[1];
  assert.ok(name);

  const rerun = await jetway('-t', 'ci', 'rerun-build', '-j', 'demo/build', '-b', name, '-w');
  assert.equal(rerun.code, 0, rerun.err + rerun.out);
  assert.match(rerun.out, /v7/, 'a rerun uses the original build’s inputs');

  const slow = await jetway('-t', 'ci', 'trigger-job', '-j', 'demo/slow');
  assert.equal(slow.code, 0, slow.err);
  const slowName = /started demo\/slow #(\S+)/.exec(slow.out)?.[1];
  assert.ok(slowName);
  let started = false;
  for (const deadline = Date.now() + 60_000; !started && Date.now() < deadline; ) {
    const builds = JSON.parse((await jetway('-t', 'ci', 'builds', '-j', 'demo/slow', '--output', 'json')).out) as { status: string }[];
    started = builds[0]?.status === 'started';
    if (!started) await new Promise((r) => setTimeout(r, 100));
  }
  assert.ok(started, 'the slow build started');
  assert.equal((await jetway('-t', 'ci', 'abort-build', '-j', 'demo/slow', '-b', slowName)).code, 0);
  const watched = await jetway('-t', 'ci', 'watch', '-j', 'demo/slow');
  assert.equal(watched.code, 3, 'watching an aborted build exits 3, as fly does');
});

test('a stale config version, an unknown pipeline and a malformed body each get a clear error and change nothing', async () => {
  const login = await fetch(`${url}/api/v1/token`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username: 'dev', password: 'correct-horse' }) });
  const { access_token: token } = (await login.json()) as { access_token: string };
  const auth = { authorization: `Bearer ${token}` };
  const cfg = await fetch(`${url}/api/v1/teams/main/pipelines/demo/config`, { headers: auth });
  const version = Number(cfg.headers.get('x-concourse-config-version'));
  const before = await cfg.text();

  const stale = await fetch(`${url}/api/v1/teams/main/pipelines/demo/config`, {
    method: 'PUT',
    headers: { ...auth, 'content-type': 'application/x-yaml', 'x-concourse-config-version': String(version - 1) },
    body: PIPELINE.replace('hello', 'changed'),
  });
  assert.equal(stale.status, 409);
  assert.match(await stale.text(), /version/);

  const malformed = await fetch(`${url}/api/v1/teams/main/pipelines/demo/config`, {
    method: 'PUT',
    headers: { ...auth, 'content-type': 'application/x-yaml', 'x-concourse-config-version': String(version) },
    body: 'jobs:\n- name: x\n  plan:\n  - get: nope\n',
  });
  assert.equal(malformed.status, 400);
  assert.match(await malformed.text(), /unknown resource 'nope'/);

  const after2 = await fetch(`${url}/api/v1/teams/main/pipelines/demo/config`, { headers: auth });
  assert.equal(await after2.text(), before, 'nothing changed');
  assert.equal(Number(after2.headers.get('x-concourse-config-version')), version);

  const unknown = await jetway('-t', 'ci', 'get-pipeline', '-p', 'no-such-pipeline');
  assert.equal(unknown.code, 1);
  assert.match(unknown.err, /no-such-pipeline/);
});

test("builds prints fly's columns; its JSON has the containers each build created, by purpose", async () => {
  const table = await jetway('-t', 'ci', 'builds', '-j', 'demo/build');
  assert.equal(table.code, 0, table.err);
  assert.match(table.out, /^id\s+name\s+status\s+start\s+end\s+duration\s+team\s+created by$/m);
  // a get and a task, no image containers on the local runtime
  const json = JSON.parse((await jetway('-t', 'ci', 'builds', '-j', 'demo/build', '--output', 'json')).out) as { containers_created: unknown }[];
  assert.deepEqual(json.at(-1)?.containers_created, { step: { get: 1, task: 1 } });
});
