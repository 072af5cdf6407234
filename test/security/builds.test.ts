// What builds do inside the engine, attacked through a web node's API as an ordinary member of
// team b would (issue 16, findings 1, 3 and 6; docs/security.md "Builds"): the
// API, the engine, Postgres and the local runtime are the real ones, the clock is the test's.
// Team a (owner alice) has a pipeline; bob, a member of team b only, writes pipelines whose
// builds try to reach team main, team a and the web node's own files, and leak a secret.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LocalAuth } from '../../src/api/index.ts';
import { startApi, type TestApi } from '../api/helpers.ts';
import { startTestNode, type TestNode } from '../support/node.ts';

let node: TestNode;
let api: TestApi;
let dir: string;
const tokens: Record<string, string> = {};

function as(user: string, method: 'GET' | 'PUT' | 'POST', url: string, payload?: unknown, headers: Record<string, string> = {}) {
  return api.app.inject({ method, url, headers: { authorization: `Bearer ${tokens[user]}`, ...headers }, ...(payload !== undefined ? { payload: payload as string } : {}) });
}

const YAML = { 'content-type': 'application/x-yaml' };

const TEAM_A_PIPELINE = `jobs:
- name: deploy
  plan:
  - task: ship
    config:
      platform: linux
      run: {path: echo, args: [team a ships]}
`;

/** What bob's build writes into its artifact and tries to set elsewhere. */
const PAYLOAD = `jobs:
- name: pwned
  plan:
  - task: t
    config:
      platform: linux
      run: {path: id}
`;

/** A task that writes the payload pipeline to o/p.yml (and runs `extra` in the same shell). */
function writer(extra = ''): string {
  return `  - task: make
    config:
      platform: linux
      outputs: [{name: o}]
      params: {PIPELINE: ${JSON.stringify(PAYLOAD)}}
      run: {path: sh, args: [-c, ${JSON.stringify(`printf '%s' "$PIPELINE" > o/p.yml; ${extra}`)}]}
`;
}

const SECRET = 'tok-3b9e1f-team-b-var-source';

const BOB_PIPELINE = `var_sources:
- name: vault
  type: dummy
  config: {vars: {token: ${SECRET}}}
jobs:
- name: to-main
  plan:
${writer()}  - set_pipeline: owned
    team: main
    file: o/p.yml
- name: to-a
  plan:
${writer()}  - set_pipeline: app
    team: a
    file: o/p.yml
- name: own-team
  plan:
${writer()}  - set_pipeline: mine
    team: ""
    file: o/p.yml
- name: env-by-dots
  plan:
${writer()}  - load_var: env
    file: o/../../../../../../../../../../proc/self/environ
    reveal: true
- name: env-by-symlink
  plan:
${writer('ln -s /proc/self/environ o/env')}  - load_var: env
    file: o/env
    reveal: true
- name: loud
  plan:
  - task: print
    config:
      platform: linux
      params: {TOKEN: ((vault:token))}
      run: {path: sh, args: [-c, 'yes "token=$TOKEN" | head -c 2097152']}
`;

before(async () => {
  node = await startTestNode();
  dir = mkdtempSync(join(tmpdir(), 'jw-security-'));
  api = await startApi(
    {
      auth: new LocalAuth({ users: ['admin:admin-pw', 'alice:alice-pw', 'bob:bob-pw'], mainTeamUsers: ['admin'] }),
      artifactsDir: join(dir, 'artifacts'),
      engine: { abortBuild: (id) => node.engine.abort(id), track: (id) => node.engine.track(id) },
    },
    node.tdb,
  );
  for (const user of ['admin', 'alice', 'bob']) {
    const res = await api.app.inject({ method: 'POST', url: '/api/v1/token', payload: { username: user, password: `${user}-pw` } });
    assert.equal(res.statusCode, 200, res.body);
    tokens[user] = res.json<{ access_token: string }>().access_token;
  }
  assert.equal((await as('admin', 'PUT', '/api/v1/teams/a', { auth: { owner: { users: ['local:alice'] } } })).statusCode, 201);
  assert.equal((await as('admin', 'PUT', '/api/v1/teams/b', { auth: { member: { users: ['local:bob'] } } })).statusCode, 201);
  assert.equal((await as('alice', 'PUT', '/api/v1/teams/a/pipelines/app/config', TEAM_A_PIPELINE, YAML)).statusCode, 201);
  const set = await as('bob', 'PUT', '/api/v1/teams/b/pipelines/evil/config', BOB_PIPELINE, YAML);
  assert.equal(set.statusCode, 201, set.body);
  assert.equal((await as('bob', 'PUT', '/api/v1/teams/b/pipelines/evil/unpause')).statusCode, 200);
});
after(async () => {
  await api?.close();
  await node?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** Bob triggers a job of his pipeline; the build, finished, and its log (errors as `ERROR: ` lines). */
async function bobRuns(job: string): Promise<{ status: string; logs: string }> {
  const res = await as('bob', 'POST', `/api/v1/teams/b/pipelines/evil/jobs/${job}/builds`);
  assert.equal(res.statusCode, 200, res.body);
  const build = await node.waitForBuild(res.json<{ id: number }>().id);
  return { status: build.status, logs: await node.logs(build.id) };
}

async function pipelineNames(user: string, team: string): Promise<string[]> {
  const res = await as(user, 'GET', `/api/v1/teams/${team}/pipelines`);
  assert.equal(res.statusCode, 200, res.body);
  return res.json<{ name: string }[]>().map((p) => p.name);
}

async function teamAConfig(): Promise<string> {
  const res = await as('alice', 'GET', '/api/v1/teams/a/pipelines/app/config');
  assert.equal(res.statusCode, 200, res.body);
  return res.body;
}

const ONLY_MAIN = "only main team can set another team's pipeline (this build is of team 'b')";

test("finding 1: a job of team b cannot create a pipeline in team main", async () => {
  const { status, logs } = await bobRuns('to-main');
  assert.equal(status, 'errored', logs);
  assert.match(logs, new RegExp(`ERROR: set_pipeline 'owned': ${ONLY_MAIN.replace(/[()]/g, '\\$&')}`));
  assert.deepEqual(await pipelineNames('admin', 'main'), [], 'team main has no pipeline');
});

test("finding 1: a job of team b cannot overwrite team a's pipeline", async () => {
  const before = await teamAConfig();
  const { status, logs } = await bobRuns('to-a');
  assert.equal(status, 'errored', logs);
  assert.ok(logs.includes(`ERROR: set_pipeline 'app': ${ONLY_MAIN}`), logs);
  assert.equal(await teamAConfig(), before, "team a's pipeline is unchanged");
  assert.doesNotMatch(await teamAConfig(), /pwned/);
});

test("finding 1: a one-off build of team b cannot overwrite team a's pipeline", async () => {
  const before = await teamAConfig();
  const plan = {
    id: 'root',
    do: [
      {
        id: 'make',
        task: {
          name: 'make',
          config: {
            platform: 'linux',
            outputs: [{ name: 'o' }],
            params: { PIPELINE: PAYLOAD },
            run: { path: 'sh', args: ['-c', `printf '%s' "$PIPELINE" > o/p.yml`] },
          },
        },
      },
      { id: 'set', set_pipeline: { name: 'app', team: 'a', file: 'o/p.yml' } },
    ],
  };
  const res = await as('bob', 'POST', '/api/v1/teams/b/builds', plan);
  assert.equal(res.statusCode, 201, res.body);
  const id = res.json<{ id: number }>().id;
  await node.engine.wait(id);
  const build = await as('bob', 'GET', `/api/v1/builds/${id}`);
  const logs = await node.logs(id);
  assert.equal(build.json<{ status: string }>().status, 'errored', logs);
  assert.ok(logs.includes(`ERROR: set_pipeline 'app': ${ONLY_MAIN}`), logs);
  assert.equal(await teamAConfig(), before, "team a's pipeline is unchanged");
});

test('finding 1: a job of team b still sets its own team\'s pipelines (team: "" is its own team)', async () => {
  const { status, logs } = await bobRuns('own-team');
  assert.equal(status, 'succeeded', logs);
  assert.ok((await pipelineNames('bob', 'b')).includes('mine'));
  assert.ok(!(await pipelineNames('admin', 'main')).includes('mine'));
});

// the engine runs in this process: its environment is what the web node's would be
const ENV_MARKERS = Object.entries(process.env)
  .filter(([k, v]) => v !== undefined && v.length >= 8 && /^(PATH|HOME|JETWAY_TEST_POSTGRES_URL)$/.test(k))
  .map(([k, v]) => `${k}=${v}`);

test("finding 3: load_var cannot read the web node's environment through '..'", async () => {
  const { status, logs } = await bobRuns('env-by-dots');
  assert.equal(status, 'errored', logs);
  assert.ok(logs.includes("ERROR: load_var 'env': file 'o/../../../../../../../../../../proc/self/environ' is outside artifact 'o'"), logs);
  for (const marker of ENV_MARKERS) assert.ok(!logs.includes(marker), 'nothing of the environment is shown');
});

test("finding 3: load_var cannot read the web node's environment through a symlink the task made", async () => {
  const { status, logs } = await bobRuns('env-by-symlink');
  assert.equal(status, 'errored', logs);
  assert.ok(logs.includes("ERROR: load_var 'env': file 'o/env' is outside artifact 'o' (through a symlink)"), logs);
  for (const marker of ENV_MARKERS) assert.ok(!logs.includes(marker), 'nothing of the environment is shown');
});

test('finding 6: a secret printed all through 2 MB of output is redacted at every chunk boundary', async () => {
  const { status, logs } = await bobRuns('loud');
  assert.equal(status, 'succeeded', logs.slice(0, 500));
  assert.ok(!logs.includes(SECRET), 'the secret never shows');
  const lines = logs.split('\n').filter((l) => l !== '');
  assert.ok(lines.length >= Math.floor(2097152 / `token=${SECRET}\n`.length), `the whole output is there (${lines.length} lines)`);
  // every whole line is the redacted one (`head -c` cuts the last line anywhere: at most a
  // start of the secret that the process never finished printing, as redacting the whole would show)
  assert.deepEqual([...new Set(lines.slice(0, -1))], ['token=((redacted))']);
  const last = lines.at(-1) ?? '';
  assert.ok(last === 'token=((redacted))' || `token=${SECRET}`.startsWith(last), last);
});
