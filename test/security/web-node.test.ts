// The same attacks as builds.test.ts, on a real `jetway web` process, as a member of team b
// would make them with the CLI (issue 16, findings 1 and 3; docs/security.md "Builds"):
// set_pipeline into team main and into team a, and load_var of the web node's own environment.
// What the user reads is the CLI's output of `trigger-job -w`.
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
/** in the web node's environment only: a load_var that read it would show it */
const MARKER = 'JW_SECURITY_MARKER=web-node-environment-7f3a';
let tdb: TestDatabase;
let dir: string;
let web: ChildProcess;
let url: string;
const savedHome = process.env.HOME;

const PAYLOAD = 'jobs:\n- name: pwned\n  plan:\n  - task: t\n    config: {platform: linux, run: {path: id}}\n';
const WRITE = `  - task: make
    config:
      platform: linux
      outputs: [{name: o}]
      params: {PIPELINE: ${JSON.stringify(PAYLOAD)}}
      run: {path: sh, args: [-c, 'printf "%s" "$PIPELINE" > o/p.yml; ln -s /proc/self/environ o/env']}
`;
const EVIL = `jobs:
- name: to-main
  plan:
${WRITE}  - set_pipeline: owned
    team: main
    file: o/p.yml
- name: to-a
  plan:
${WRITE}  - set_pipeline: app
    team: a
    file: o/p.yml
- name: env-by-dots
  plan:
${WRITE}  - load_var: env
    file: o/../../../../../../../../../../proc/self/environ
    reveal: true
  - task: show
    config: {platform: linux, params: {E: ((.:env))}, run: {path: sh, args: [-c, 'echo "$E"']}}
- name: env-by-symlink
  plan:
${WRITE}  - load_var: env
    file: o/env
    reveal: true
  - task: show
    config: {platform: linux, params: {E: ((.:env))}, run: {path: sh, args: [-c, 'echo "$E"']}}
`;
const TEAM_A = 'jobs:\n- name: deploy\n  plan:\n  - task: ship\n    config: {platform: linux, run: {path: echo, args: [a]}}\n';

async function api(user: string, password: string, method: string, path: string, body?: unknown): Promise<Response> {
  const login = await fetch(`${url}/api/v1/token`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username: user, password }) });
  const { access_token: token } = (await login.json()) as { access_token: string };
  return fetch(`${url}/api/v1${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, ...(body !== undefined ? { 'content-type': typeof body === 'string' ? 'application/x-yaml' : 'application/json' } : {}) },
    ...(body !== undefined ? { body: typeof body === 'string' ? body : JSON.stringify(body) } : {}),
  });
}

before(async () => {
  tdb = await createTestDatabase();
  dir = await mkdtemp(join(tmpdir(), 'jw-security-web-'));
  process.env.HOME = dir; // the CLI saves its targets in ~/.jetwayrc
  const port = await freePort();
  url = `http://127.0.0.1:${port}`;
  const [markerName, markerValue] = MARKER.split('=') as [string, string];
  web = spawn(
    process.execPath,
    [
      BIN, 'web', '--port', String(port), '--bind-ip', '127.0.0.1', '--data-dir', join(dir, 'data'), '--postgres-url', tdb.url,
      '--add-local-user', 'admin:admin-pw', '--add-local-user', 'alice:alice-pw', '--add-local-user', 'bob:bob-pw',
      '--main-team-local-user', 'admin', '--scheduler-interval', '200ms', '--checker-interval', '1s',
    ],
    { stdio: 'ignore', env: { ...process.env, [markerName]: markerValue } },
  );
  await waitForHealth(url, { child: web });
  assert.equal((await api('admin', 'admin-pw', 'PUT', '/teams/a', { auth: { owner: { users: ['local:alice'] } } })).status, 201);
  assert.equal((await api('admin', 'admin-pw', 'PUT', '/teams/b', { auth: { member: { users: ['local:bob'] } } })).status, 201);
  assert.equal((await api('alice', 'alice-pw', 'PUT', '/teams/a/pipelines/app/config', TEAM_A)).status, 201);
  await writeFile(join(dir, 'evil.yml'), EVIL);
  assert.equal((await jetway('login', '-t', 'b', '-c', url, '-n', 'b', '-u', 'bob', '-p', 'bob-pw')).code, 0);
  const set = await jetway('-t', 'b', 'set-pipeline', '-p', 'evil', '-c', join(dir, 'evil.yml'), '-n');
  assert.equal(set.code, 0, set.err + set.out);
  assert.equal((await jetway('-t', 'b', 'unpause-pipeline', '-p', 'evil')).code, 0);
});
after(async () => {
  web?.kill('SIGTERM');
  if (web) await new Promise((r) => web.once('exit', r));
  process.env.HOME = savedHome;
  await tdb?.drop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

async function bobRuns(job: string): Promise<string> {
  const run = await jetway('-t', 'b', 'trigger-job', '-j', `evil/${job}`, '-w');
  assert.notEqual(run.code, 0, `the build must not succeed:\n${run.out}${run.err}`);
  return run.out + run.err;
}

const ONLY_MAIN = "only main team can set another team's pipeline (this build is of team 'b')";

test('a job of team b cannot create a pipeline in team main (a real web node, the CLI)', async () => {
  const out = await bobRuns('to-main');
  assert.ok(out.includes(`set_pipeline 'owned': ${ONLY_MAIN}`), out);
  const main = await api('admin', 'admin-pw', 'GET', '/teams/main/pipelines');
  assert.deepEqual(((await main.json()) as { name: string }[]).map((p) => p.name), []);
});

test("a job of team b cannot overwrite team a's pipeline (a real web node, the CLI)", async () => {
  const before = await (await api('alice', 'alice-pw', 'GET', '/teams/a/pipelines/app/config')).text();
  const out = await bobRuns('to-a');
  assert.ok(out.includes(`set_pipeline 'app': ${ONLY_MAIN}`), out);
  assert.equal(await (await api('alice', 'alice-pw', 'GET', '/teams/a/pipelines/app/config')).text(), before);
});

for (const [job, error] of [
  ['env-by-dots', "load_var 'env': file 'o/../../../../../../../../../../proc/self/environ' is outside artifact 'o'"],
  ['env-by-symlink', "load_var 'env': file 'o/env' is outside artifact 'o' (through a symlink)"],
] as const) {
  test(`load_var cannot read the web node's environment: ${job} (a real web node, the CLI)`, async () => {
    const out = await bobRuns(job);
    assert.ok(out.includes(error), out);
    assert.ok(!out.includes(MARKER) && !out.includes('admin-pw'), "nothing of the web node's environment or command line shows");
    assert.doesNotMatch(out, /\bPATH=\//, 'not even its PATH');
  });
}
