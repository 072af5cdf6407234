// Concourse's experimental prototypes, as Concourse 7.x has them: `POST …/prototypes/:p/check`
// (atc/api/resourceserver/check_prototype.go: 201 with the check build, 404 for an unknown
// prototype) checks the prototype's image as a resource type's is checked; a `run` step does what
// Concourse's does today (atc/exec/run_step.go): says it is not implemented, "pretends", succeeds.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { PASSWORD, startApi, type TestApi } from './helpers.ts';
import { LocalAuth } from '../../src/api/index.ts';
import { startTestNode, type TestNode } from '../support/node.ts';

let node: TestNode;
let api: TestApi;
let pipelineId: number;
let otherToken: string;

const PIPELINE = `prototypes:
- name: npm
  type: mock
  source: {initial_version: proto-v1}
  defaults: {registry: https://registry.example}
jobs:
- name: lint
  plan:
  - run: install
    type: npm
    params: {package: left-pad}
`;

before(async () => {
  node = await startTestNode();
  // admin is the only member of team main; `other` holds no role anywhere
  api = await startApi({ auth: new LocalAuth({ users: [`admin:${PASSWORD}`, 'other:pw:with:colons'], mainTeamUsers: ['admin'] }), checker: node.checker, engine: { abortBuild: (id) => node.engine.abort(id), track: (id) => node.engine.track(id) } }, node.tdb);
  pipelineId = await node.setPipeline('protos', PIPELINE);
  const login = await api.app.inject({ method: 'POST', url: '/api/v1/token', payload: { username: 'other', password: 'pw:with:colons' } });
  otherToken = (login.json() as { access_token: string }).access_token;
});
after(async () => {
  await api.close();
  await node.stop();
});

const versionCount = async (): Promise<number> => Number((await node.tdb.db.query<{ n: string }>("SELECT count(*) AS n FROM resource_config_versions WHERE version->>'version' = 'proto-v1'")).rows[0]?.n ?? 0);

test("checking a prototype creates a check build of its image's type and source: 201, it succeeds, its version is recorded", async () => {
  assert.equal(await versionCount(), 0);
  const res = await api.app.inject({ method: 'POST', url: '/api/v1/teams/main/pipelines/protos/prototypes/npm/check', headers: api.auth(), payload: {} });
  assert.equal(res.statusCode, 201, res.body);
  const build = res.json() as { id: number; name: string; status: string; team_name: string; pipeline_name: string };
  assert.deepEqual({ team: build.team_name, pipeline: build.pipeline_name }, { team: 'main', pipeline: 'protos' });
  const done = await node.waitForBuild(build.id);
  assert.equal(done.status, 'succeeded', await node.logs(build.id));
  const plan = await api.app.inject({ url: `/api/v1/builds/${build.id}/plan`, headers: api.auth() });
  assert.deepEqual(((plan.json() as { plan: { check: Record<string, unknown> } }).plan.check), { name: 'npm', type: 'mock', timeout: '1h', interval: '1m', skip_interval: true });
  assert.equal(await versionCount(), 1);
});

test('an unknown prototype is 404 and creates nothing', async () => {
  const before = (await node.tdb.db.query<{ n: string }>('SELECT count(*) AS n FROM builds')).rows[0]?.n;
  const res = await api.app.inject({ method: 'POST', url: '/api/v1/teams/main/pipelines/protos/prototypes/nope/check', headers: api.auth(), payload: {} });
  assert.equal(res.statusCode, 404);
  assert.match(res.body, /prototype nope in pipeline main\/protos/);
  assert.equal((await node.tdb.db.query<{ n: string }>('SELECT count(*) AS n FROM builds')).rows[0]?.n, before);
});

test("another team's user cannot check the prototype", async () => {
  const res = await api.app.inject({ method: 'POST', url: '/api/v1/teams/main/pipelines/protos/prototypes/npm/check', headers: api.auth(otherToken), payload: {} });
  assert.ok(res.statusCode === 403 || res.statusCode === 404, `${res.statusCode}`);
});

test("a run step says what Concourse's says, with its prototype, and succeeds", async () => {
  const build = await node.trigger(pipelineId, 'lint');
  const logs = await node.logs(build.id);
  assert.equal(build.status, 'succeeded', logs);
  assert.match(logs, /the run step is not yet implemented/);
  assert.match(logs, /pretending to run install on prototype npm\.\.\./);
  const plan = await api.app.inject({ url: `/api/v1/builds/${build.id}/plan`, headers: api.auth() });
  const run = (plan.json() as { plan: { do: { run: Record<string, unknown> }[] } }).plan.do[0]?.run;
  assert.deepEqual({ message: run?.message, type: run?.type }, { message: 'install', type: 'npm' });
  assert.equal(run && 'object' in run, false, 'the public plan shows no object (it may carry secrets)');
});
