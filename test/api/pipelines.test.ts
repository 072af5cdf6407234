import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startApi, PIPELINE, type TestApi } from './helpers.ts';

let api: TestApi;
const scheduled: number[] = [];
before(async () => {
  api = await startApi({ scheduler: { requestSchedule: (id) => void scheduled.push(id) } });
});
after(async () => {
  await api.close();
});

const CONFIG = '/api/v1/teams/main/pipelines/demo/config';
const yaml = { 'content-type': 'application/x-yaml' };

async function putConfig(text: string, version?: number | string, url = CONFIG) {
  return api.app.inject({
    method: 'PUT',
    url,
    headers: { ...api.auth(), ...yaml, ...(version !== undefined ? { 'x-concourse-config-version': String(version) } : {}) },
    payload: text,
  });
}

async function getVersion(url = CONFIG): Promise<number> {
  const res = await api.app.inject({ url, headers: api.auth() });
  assert.equal(res.statusCode, 200);
  return Number(res.headers['x-concourse-config-version']);
}

test('set and get a config: 201 created (paused), 200 updated, version header round trip', async () => {
  const created = await putConfig(PIPELINE);
  assert.equal(created.statusCode, 201, created.body);
  assert.deepEqual(created.json(), { warnings: [] });
  assert.ok(scheduled.length >= 2, 'the scheduler is woken for the jobs');

  const got = await api.app.inject({ url: CONFIG, headers: api.auth() });
  assert.equal(got.statusCode, 200);
  const v1 = Number(got.headers['x-concourse-config-version']);
  assert.ok(v1 > 0);
  const body = got.json() as { config: { resources: { name: string; source: unknown }[]; jobs: { name: string }[] } };
  assert.deepEqual(body.config.resources.map((r) => r.name), ['repo', 'image']);
  // vars stay uninterpolated on the server
  assert.deepEqual(body.config.resources[0]?.source, { uri: '((repo_uri))' });

  const updated = await putConfig(PIPELINE.replace('name: ship', 'name: deploy').replace('passed: [unit]', 'passed: [unit]\n    trigger: true'), v1);
  assert.equal(updated.statusCode, 200, updated.body);
  const v2 = Number(updated.headers['x-concourse-config-version']);
  assert.ok(v2 > v1);
  assert.equal(await getVersion(), v2);

  const list = await api.app.inject({ url: '/api/v1/teams/main/pipelines', headers: api.auth() });
  const pipelines = list.json() as { name: string; paused: boolean; team_name: string; public: boolean; last_updated: number }[];
  assert.equal(pipelines.length, 1);
  assert.equal(pipelines[0]?.name, 'demo');
  assert.equal(pipelines[0]?.paused, true);
  assert.equal(pipelines[0]?.team_name, 'main');
  assert.equal(typeof pipelines[0]?.last_updated, 'number');
  const all = await api.app.inject({ url: '/api/v1/pipelines', headers: api.auth() });
  assert.deepEqual((all.json() as { name: string }[]).map((p) => p.name), ['demo']);
});

test('a stale config version is 409, says so, and changes nothing', async () => {
  const before = await api.app.inject({ url: CONFIG, headers: api.auth() });
  const version = Number(before.headers['x-concourse-config-version']);
  const stale = await putConfig(PIPELINE.replace('name: image', 'name: image2').replace('get: image', 'get: image2'), version - 1);
  assert.equal(stale.statusCode, 409);
  const msg = (stale.json() as { error: string }).error;
  assert.equal(stale.json<{ code: string }>().code, 'JW_STALE_CONFIG_VERSION');
  assert.match(msg, /comparison with existing config failed/);
  assert.match(msg, /Concourse answers 500 here; Jetway answers 409/);
  assert.match(msg, new RegExp(`config version is ${version}, but the save expected version ${version - 1}`));
  const after = await api.app.inject({ url: CONFIG, headers: api.auth() });
  assert.equal(Number(after.headers['x-concourse-config-version']), version);
  assert.deepEqual(after.json(), before.json());

  // no header means "I expect a new pipeline" (Concourse's semantics): refused for an existing one
  const noHeader = await putConfig(PIPELINE);
  assert.equal(noHeader.statusCode, 409);
  const malformed = await putConfig(PIPELINE, 'abc');
  assert.equal(malformed.statusCode, 400);
  assert.match(malformed.body, /X-Concourse-Config-Version header is malformed/);
});

test('an invalid config is 400 with every diagnostic, located by line', async () => {
  const bad = `resources:
- name: repo
  type: mock
jobs:
- name: j
  plan:
  - get: nope
  - get: repo
    trigerr: 1
`;
  const res = await putConfig(bad, 0, '/api/v1/teams/main/pipelines/bad/config');
  assert.equal(res.statusCode, 400);
  const body = res.json() as { errors: string[] };
  assert.deepEqual(body.errors, [
    "line 7, column 10: jobs.j.plan.do[0].get(nope).get: unknown resource 'nope'",
    'line 9, column 5: jobs.j.plan.do[1].get(repo): unknown fields ["trigerr"]',
  ]);
  const syntax = await putConfig('jobs:\n- name: j\n  plan: [\n', 0, '/api/v1/teams/main/pipelines/bad/config');
  assert.equal(syntax.statusCode, 400);
  assert.match((syntax.json() as { errors: string[] }).errors[0] ?? '', /^line \d+, column \d+: YAML/);
  const empty = await putConfig('', 0, '/api/v1/teams/main/pipelines/bad/config');
  assert.equal(empty.statusCode, 400);
  const missing = await api.app.inject({ url: '/api/v1/teams/main/pipelines/bad/config', headers: api.auth() });
  assert.equal(missing.statusCode, 404, 'nothing was saved');
});

test('warnings come back with 200/201, including the pipeline name', async () => {
  const text = PIPELINE.replace(/name: repo/, 'name: Repo').replace(/get: repo\n {4}trigger/, 'get: Repo\n    trigger').replace(
    /get: repo\n {4}passed/,
    'get: Repo\n    passed',
  );
  const res = await putConfig(text, 0, '/api/v1/teams/main/pipelines/Warn/config');
  assert.equal(res.statusCode, 201, res.body);
  const warnings = (res.json() as { warnings: { type: string; message: string }[] }).warnings;
  // the pipeline name, the resource, and the two get steps named after it
  assert.equal(warnings.length, 4);
  assert.ok(warnings.every((w) => w.type === 'invalid_identifier'));
  assert.match(warnings[0]?.message ?? '', /pipeline: 'Warn' is not a valid identifier/);
  assert.match(warnings[1]?.message ?? '', /line 2, column 9: resources\.Repo\.name: 'Repo' is not a valid identifier/);
  const del = await api.app.inject({ method: 'DELETE', url: '/api/v1/teams/main/pipelines/Warn', headers: api.auth() });
  assert.equal(del.statusCode, 204);
});

test('JSON configs are accepted; other content types are 415', async () => {
  const json = JSON.stringify({ resources: [{ name: 'r', type: 'mock' }], jobs: [{ name: 'j', plan: [{ get: 'r' }] }] });
  const res = await api.app.inject({
    method: 'PUT',
    url: '/api/v1/teams/main/pipelines/fromjson/config',
    headers: { ...api.auth(), 'content-type': 'application/json', 'x-concourse-config-version': '0' },
    payload: json,
  });
  assert.equal(res.statusCode, 201, res.body);
  const bad = await api.app.inject({
    method: 'PUT',
    url: '/api/v1/teams/main/pipelines/fromjson/config',
    headers: { ...api.auth(), 'content-type': 'image/png' },
    payload: 'xx',
  });
  assert.equal(bad.statusCode, 415);
  assert.match((bad.json() as { error: string }).error, /unsupported Content-Type 'image\/png'/);
  assert.equal(bad.json<{ code: string }>().code, 'JW_UNSUPPORTED_MEDIA_TYPE');
});

test('check_creds refuses vars that nothing resolves', async () => {
  const res = await putConfig(PIPELINE, 0, '/api/v1/teams/main/pipelines/creds/config?check_creds=true');
  assert.equal(res.statusCode, 400);
  assert.deepEqual((res.json() as { errors: string[] }).errors, [
    "credential 'repo_uri' cannot be resolved: no credential manager is configured and no var source provides it",
  ]);
});

test('unknown pipelines are 404 naming them', async () => {
  for (const [method, url] of [
    ['GET', '/api/v1/teams/main/pipelines/nope/config'],
    ['GET', '/api/v1/teams/main/pipelines/nope'],
    ['PUT', '/api/v1/teams/main/pipelines/nope/pause'],
    ['DELETE', '/api/v1/teams/main/pipelines/nope'],
    ['GET', '/api/v1/teams/main/pipelines/nope/resources'],
    ['GET', '/api/v1/teams/main/pipelines/nope/jobs'],
  ] as const) {
    const res = await api.app.inject({ method, url, headers: api.auth() });
    assert.equal(res.statusCode, 404, url);
    assert.deepEqual(res.json(), { error: 'pipeline main/nope not found', code: 'JW_PIPELINE_NOT_FOUND' }, url);
  }
  const route = await api.app.inject({ url: '/api/v1/nonsense', headers: api.auth() });
  assert.equal(route.statusCode, 404);
  assert.deepEqual(route.json(), { error: 'no route GET /api/v1/nonsense', code: 'JW_ROUTE_NOT_FOUND' });
});

test('pause, unpause, expose, hide, rename, delete', async () => {
  const base = '/api/v1/teams/main/pipelines/demo';
  const get = async (name = 'demo') =>
    (await api.app.inject({ url: `/api/v1/teams/main/pipelines/${name}`, headers: api.auth() })).json() as { paused: boolean; public: boolean };
  scheduled.length = 0;
  assert.equal((await api.app.inject({ method: 'PUT', url: `${base}/unpause`, headers: api.auth() })).statusCode, 200);
  assert.equal((await get()).paused, false);
  assert.ok(scheduled.length >= 2);
  assert.equal((await api.app.inject({ method: 'PUT', url: `${base}/pause`, headers: api.auth() })).statusCode, 200);
  assert.equal((await get()).paused, true);
  assert.equal((await api.app.inject({ method: 'PUT', url: `${base}/expose`, headers: api.auth() })).statusCode, 200);
  assert.equal((await get()).public, true);
  assert.equal((await api.app.inject({ method: 'PUT', url: `${base}/hide`, headers: api.auth() })).statusCode, 200);
  assert.equal((await get()).public, false);

  const noName = await api.app.inject({ method: 'PUT', url: `${base}/rename`, headers: api.auth(), payload: { nmae: 'x' } });
  assert.equal(noName.statusCode, 400);
  assert.deepEqual(noName.json(), { errors: ['body.name: Invalid input: expected string, received undefined'], code: 'JW_INVALID_REQUEST' });
  const taken = await api.app.inject({ method: 'PUT', url: `${base}/rename`, headers: api.auth(), payload: { name: 'fromjson' } });
  assert.equal(taken.statusCode, 409);
  assert.match(taken.body, /already exists/);
  const renamed = await api.app.inject({ method: 'PUT', url: `${base}/rename`, headers: api.auth(), payload: { name: 'demo2' } });
  assert.equal(renamed.statusCode, 200);
  assert.deepEqual(renamed.json(), { warnings: [] });
  assert.equal((await api.app.inject({ url: `${base}/config`, headers: api.auth() })).statusCode, 404);
  const back = await api.app.inject({
    method: 'PUT',
    url: '/api/v1/teams/main/pipelines/demo2/rename',
    headers: api.auth(),
    payload: { name: 'demo' },
  });
  assert.equal(back.statusCode, 200);
});

test('instanced pipelines are addressed with ?vars= or vars.k=', async () => {
  const url = `/api/v1/teams/main/pipelines/inst/config?vars=${encodeURIComponent('{"branch":"main"}')}`;
  const res = await putConfig(PIPELINE, 0, url);
  assert.equal(res.statusCode, 201, res.body);
  const byKey = await api.app.inject({ url: `/api/v1/teams/main/pipelines/inst/config?vars.branch=%22main%22`, headers: api.auth() });
  assert.equal(byKey.statusCode, 200);
  const plain = await api.app.inject({ url: `/api/v1/teams/main/pipelines/inst/config`, headers: api.auth() });
  assert.equal(plain.statusCode, 404);
  assert.match(plain.body, /pipeline main\/inst not found/);
  const badVars = await api.app.inject({ url: `/api/v1/teams/main/pipelines/inst/config?vars=notjson`, headers: api.auth() });
  assert.equal(badVars.statusCode, 400);
  assert.match(badVars.body, /vars is not valid JSON/);
});
