// Archiving pipelines (paused, hidden, refused unpause/trigger/check, unarchived by setting them
// again) and ordering a team's pipelines.
import { PostgresCheckerStore } from '../../src/db/checks.ts';
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Checker } from '../../src/checker/index.ts';
import { RecordingTracker } from '../support/sched-support.ts';
import { createTestDatabase, type TestDatabase } from '../support/db.ts';
import { startApi, PIPELINE, type TestApi } from './helpers.ts';

let t: TestDatabase;
let api: TestApi;
const scheduled: number[] = [];
const tracker = new RecordingTracker();
before(async () => {
  t = await createTestDatabase();
  // a real checker on the same database: the check route goes through its archived rule
  const checker = new Checker(new PostgresCheckerStore(t.db), { tracker });
  api = await startApi({ scheduler: { requestSchedule: (id) => void scheduled.push(id) }, checker }, t);
});
after(async () => {
  await api.close();
  await t.drop();
});

const TEAM = '/api/v1/teams/main/pipelines';

type PipelineJson = { name: string; paused: boolean; archived: boolean; public: boolean };

async function setPipeline(name: string, version = 0): Promise<number> {
  const res = await api.app.inject({
    method: 'PUT',
    url: `${TEAM}/${name}/config`,
    headers: { ...api.auth(), 'content-type': 'application/x-yaml', 'x-concourse-config-version': String(version) },
    payload: PIPELINE,
  });
  assert.ok(res.statusCode === 200 || res.statusCode === 201, res.body);
  return Number(res.headers['x-concourse-config-version']);
}

async function put(url: string, payload?: unknown) {
  return api.app.inject({ method: 'PUT', url, headers: api.auth(), ...(payload !== undefined ? { payload: payload as object } : {}) });
}

async function names(url = TEAM): Promise<string[]> {
  const res = await api.app.inject({ url, headers: api.auth() });
  assert.equal(res.statusCode, 200, res.body);
  return (res.json() as PipelineJson[]).map((p) => p.name);
}

async function pipeline(name: string): Promise<PipelineJson> {
  const res = await api.app.inject({ url: `${TEAM}/${name}`, headers: api.auth() });
  assert.equal(res.statusCode, 200, res.body);
  return res.json() as PipelineJson;
}

test('archive: the pipeline is paused and archived, and left out of listings unless include_archived', async () => {
  await setPipeline('keep');
  await setPipeline('old');
  assert.equal((await put(`${TEAM}/old/unpause`)).statusCode, 200);
  scheduled.length = 0;

  const res = await put(`${TEAM}/old/archive`);
  assert.equal(res.statusCode, 200, res.body);
  const old = await pipeline('old');
  assert.equal(old.archived, true);
  assert.equal(old.paused, true);
  assert.ok(scheduled.length >= 2, 'the scheduler is woken for its jobs (their pending builds are aborted)');

  assert.deepEqual(await names(), ['keep']);
  assert.deepEqual(await names('/api/v1/pipelines'), ['keep']);
  const all = (await api.app.inject({ url: `${TEAM}?include_archived=true`, headers: api.auth() })).json() as PipelineJson[];
  assert.deepEqual(
    all.map((p) => [p.name, p.archived]),
    [
      ['keep', false],
      ['old', true],
    ],
  );
  assert.deepEqual(await names('/api/v1/pipelines?include_archived=true'), ['keep', 'old']);
  // archiving again is harmless; an unknown pipeline is 404
  assert.equal((await put(`${TEAM}/old/archive`)).statusCode, 200);
  const missing = await put(`${TEAM}/nope/archive`);
  assert.equal(missing.statusCode, 404);
  assert.deepEqual(missing.json(), { error: 'pipeline main/nope not found', code: 'JW_PIPELINE_NOT_FOUND' });
});

test('an archived pipeline cannot be unpaused, its jobs not triggered, its resources not checked', async () => {
  const unpause = await put(`${TEAM}/old/unpause`);
  assert.equal(unpause.statusCode, 409);
  assert.deepEqual(unpause.json(), { error: "pipeline 'old' is archived; set it again to unarchive it", code: 'JW_CONFLICT' });
  assert.equal((await pipeline('old')).paused, true);

  const trigger = await api.app.inject({ method: 'POST', url: `${TEAM}/old/jobs/unit/builds`, headers: api.auth() });
  assert.equal(trigger.statusCode, 409);
  assert.match((trigger.json() as { error: string }).error, /job unit belongs to an archived pipeline/);
  assert.equal(trigger.json<{ code: string }>().code, 'JW_CONFLICT');

  const check = await api.app.inject({ method: 'POST', url: `${TEAM}/old/resources/repo/check`, headers: api.auth(), payload: {} });
  assert.equal(check.statusCode, 409, check.body);
  assert.match((check.json() as { error: string }).error, /resource repo belongs to an archived pipeline/);
  assert.equal(check.json<{ code: string }>().code, 'JW_CONFLICT');
  assert.deepEqual(tracker.tracked, [], 'no check build was created');
  // the same check of a pipeline that is not archived is created
  const fine = await api.app.inject({ method: 'POST', url: `${TEAM}/keep/resources/repo/check`, headers: api.auth(), payload: {} });
  assert.equal(fine.statusCode, 201, fine.body);
  assert.equal(tracker.tracked.length, 1);
});

test('setting an archived pipeline again unarchives it; it stays paused until unpaused', async () => {
  // its config is not served (as Concourse's atc/api/configserver/get.go), so it is set as a new
  // one, with version 0; a stale version is still refused
  const config = await api.app.inject({ url: `${TEAM}/old/config`, headers: api.auth() });
  assert.equal(config.statusCode, 404, config.body);
  assert.equal(config.json<{ code: string }>().code, 'JW_PIPELINE_NOT_FOUND');
  const stale = await api.app.inject({
    method: 'PUT',
    url: `${TEAM}/old/config`,
    headers: { ...api.auth(), 'content-type': 'application/x-yaml', 'x-concourse-config-version': '999' },
    payload: PIPELINE,
  });
  assert.equal(stale.statusCode, 409, stale.body);
  assert.equal((await pipeline('old')).archived, true, 'a refused save does not unarchive');
  await setPipeline('old', 0);
  const old = await pipeline('old');
  assert.equal(old.archived, false);
  assert.equal(old.paused, true);
  assert.deepEqual(await names(), ['keep', 'old']);
  assert.equal((await put(`${TEAM}/old/unpause`)).statusCode, 200);
  assert.equal((await pipeline('old')).paused, false);
});

test('ordering: the named pipelines first, in that order, the rest after them in their order; listings follow', async () => {
  await setPipeline('c');
  await setPipeline('d');
  assert.deepEqual(await names(), ['keep', 'old', 'c', 'd'], 'new pipelines come last');

  const res = await put(`${TEAM}/ordering`, ['d', 'keep']);
  assert.equal(res.statusCode, 200, res.body);
  assert.deepEqual(await names(), ['d', 'keep', 'old', 'c']);
  assert.deepEqual(await names('/api/v1/pipelines'), ['d', 'keep', 'old', 'c']);

  await setPipeline('e');
  assert.deepEqual(await names(), ['d', 'keep', 'old', 'c', 'e'], 'a pipeline created after ordering comes last');
  // archived pipelines can be ordered too, and keep their place
  assert.equal((await put(`${TEAM}/c/archive`)).statusCode, 200);
  assert.equal((await put(`${TEAM}/ordering`, ['c', 'e'])).statusCode, 200);
  assert.deepEqual(await names(), ['e', 'd', 'keep', 'old']);
  assert.deepEqual(await names(`${TEAM}?include_archived=true`), ['c', 'e', 'd', 'keep', 'old']);
});

test('ordering with unknown names is 400 naming them, and changes nothing', async () => {
  const before = await names(`${TEAM}?include_archived=true`);
  // 'old' is known and would move first if the order were applied name by name
  const res = await put(`${TEAM}/ordering`, ['old', 'nope', 'zilch']);
  assert.equal(res.statusCode, 400);
  assert.deepEqual(res.json(), { error: "pipelines not found in team main: 'nope', 'zilch' (the order was not changed)", code: 'JW_INVALID_PIPELINE_ORDER' });
  assert.deepEqual(await names(`${TEAM}?include_archived=true`), before);

  const notArray = await put(`${TEAM}/ordering`, { pipelines: ['old'] });
  assert.equal(notArray.statusCode, 400);
  assert.match(notArray.body, /body: Invalid input: expected array/);
  assert.deepEqual(await names(`${TEAM}?include_archived=true`), before);
});

// atc/api/pipelineserver/order_within_group.go, atc/db/team.go's OrderPipelinesWithinGroup
test('ordering within a group: its instances in the order given, the others after them; the group keeps its place', async () => {
  for (const branch of ['a', 'b', 'c']) {
    const res = await api.app.inject({
      method: 'PUT',
      url: `${TEAM}/grp/config?vars=${encodeURIComponent(JSON.stringify({ branch }))}`,
      headers: { ...api.auth(), 'content-type': 'application/x-yaml' },
      payload: PIPELINE,
    });
    assert.equal(res.statusCode, 201, res.body);
  }
  const instances = async (): Promise<string[]> => {
    const res = await api.app.inject({ url: TEAM, headers: api.auth() });
    const list = res.json() as { name: string; instance_vars?: { branch: string } }[];
    return list.filter((p) => p.name === 'grp').map((p) => p.instance_vars?.branch ?? '');
  };
  const place = async (): Promise<number> => (await names()).indexOf('grp');
  const before = await place();
  assert.deepEqual(await instances(), ['a', 'b', 'c']);
  const res = await put(`${TEAM}/grp/ordering`, [{ branch: 'c' }, { branch: 'a' }]);
  assert.equal(res.statusCode, 200, res.body);
  assert.deepEqual(await instances(), ['c', 'a', 'b']);
  assert.equal(await place(), before, "the group's place among the team's pipelines is unchanged");

  // an instance that does not exist: 400 naming it, and nothing changes (not even the ones before it)
  const unknown = await put(`${TEAM}/grp/ordering`, [{ branch: 'b' }, { branch: 'nope' }]);
  assert.equal(unknown.statusCode, 400);
  assert.deepEqual(unknown.json(), { error: 'pipeline main/grp{"branch":"nope"} not found (the order was not changed)', code: 'JW_INVALID_PIPELINE_ORDER' });
  assert.deepEqual(await instances(), ['c', 'a', 'b']);
  const notArray = await put(`${TEAM}/grp/ordering`, { branch: 'a' });
  assert.equal(notArray.statusCode, 400);
  assert.match(notArray.body, /body: Invalid input: expected array/);
});
