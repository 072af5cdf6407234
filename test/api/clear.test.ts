// The clearing routes, against a test node (checker, scheduler, engine, local runtime) on the
// API's database: a job's task caches, a resource's caches, and version histories (a resource's,
// and a resource type's shared with another pipeline), with their counts and their effects on
// the next build or check.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startApi, type TestApi } from './helpers.ts';
import { startTestNode, type TestNode } from '../support/node.ts';
import { taskCacheKey } from '../../src/runtime/task-caches.ts';
import type { BuildRecord } from '../../src/db/builds.ts';
import { savePipeline, unpausePipeline } from '../../src/db/pipelines.ts';
import { loadPipeline } from '../../src/config/index.ts';

const PIPELINE = `resources:
- name: repo
  type: mock
  source: {no_initial_version: true}
resource_types:
- name: custom
  type: mock
  source: {mirror_self: true}
jobs:
- name: cached
  plan:
  - get: repo
  - task: build
    config:
      platform: linux
      caches: [{path: deps}, {path: more}]
      run:
        path: sh
        args: [-c, 'n=$(cat deps/n 2>/dev/null || echo 0); echo "runs before: $n"; echo $((n+1)) > deps/n']
`;

const OTHER_PIPELINE = `resource_types:
- name: custom
  type: mock
  source: {mirror_self: true}
jobs:
- name: noop
  plan:
  - task: nothing
    config: {platform: linux, run: {path: 'true'}}
`;

let node: TestNode;
let api: TestApi;
let pipelineId: number;
const base = '/api/v1/teams/main/pipelines/demo';

before(async () => {
  node = await startTestNode();
  api = await startApi(
    {
      checker: node.checker,
      engine: { abortBuild: (id) => node.engine.abort(id), track: (id) => node.engine.track(id) },
      runtime: node.runtime,
    },
    node.tdb,
  );
  pipelineId = await node.setPipeline('demo', PIPELINE);
  await node.checkResource(pipelineId, 'repo', { version: 'v1' });
});
after(async () => {
  await api.close();
  await node.stop();
});

const inject = (method: 'GET' | 'DELETE', url: string, payload?: Record<string, unknown>) =>
  api.app.inject({ method, url, headers: api.auth(), ...(payload !== undefined ? { payload } : {}) });

async function build(): Promise<BuildRecord> {
  const b = await node.trigger(pipelineId, 'cached');
  assert.equal(b.status, 'succeeded', await node.logs(b.id));
  return b;
}

async function runsBefore(): Promise<string> {
  const b = await build();
  return /runs before: (\d+)/.exec(await node.logs(b.id))?.[1] ?? '?';
}

async function repoCaches(): Promise<{ id: number; version: Record<string, string> }[]> {
  const r = await api.t.db.query<{ id: number; version: Record<string, string> }>(
    `SELECT c.id, c.version FROM resource_caches c JOIN resources r ON r.resource_config_id = c.resource_config_id
      WHERE r.pipeline_id = $1 AND r.name = 'repo' ORDER BY c.id`,
    [pipelineId],
  );
  return r.rows;
}

async function versions(path: string): Promise<Record<string, string>[]> {
  const res = await inject('GET', `${path}/versions`);
  assert.equal(res.statusCode, 200, res.body);
  return (res.json() as { version: Record<string, string> }[]).map((v) => v.version);
}

test('clear task cache: the step\'s caches go (all, or one path\'s), counted, and the next build starts without them', async () => {
  assert.equal(await runsBefore(), '0');
  assert.equal(await runsBefore(), '1');

  const one = await inject('DELETE', `${base}/jobs/cached/tasks/build/cache?cache_path=more`);
  assert.equal(one.statusCode, 200, one.body);
  assert.deepEqual(one.json(), { caches_removed: 1 });
  assert.deepEqual((await inject('DELETE', `${base}/jobs/cached/tasks/build/cache?cache_path=more`)).json(), { caches_removed: 0 });
  assert.equal(await runsBefore(), '2', 'the other path\'s cache is kept');

  const all = await inject('DELETE', `${base}/jobs/cached/tasks/build/cache`);
  assert.deepEqual(all.json(), { caches_removed: 2 });
  assert.deepEqual((await inject('DELETE', `${base}/jobs/cached/tasks/build/cache?cache_path=`)).json(), { caches_removed: 0 });
  assert.equal(await runsBefore(), '0', 'the next build starts without the caches');

  // the runtime's own method, with the key the task step uses
  assert.equal(await node.runtime.clearTaskCache?.(taskCacheKey(pipelineId, 'cached', 'build')), 2);
  assert.equal(await runsBefore(), '0');
});

test('clear task cache: 404 names the unknown pipeline, job or step; 401 without a token; 400 and 503', async () => {
  const cases: [string, string, string][] = [
    ['/api/v1/teams/main/pipelines/nope/jobs/cached/tasks/build/cache', 'pipeline main/nope not found', 'JW_PIPELINE_NOT_FOUND'],
    [`${base}/jobs/nope/tasks/build/cache`, 'job nope in pipeline main/demo not found', 'JW_JOB_NOT_FOUND'],
    [`${base}/jobs/cached/tasks/nope/cache`, 'task step nope of job demo/cached not found', 'JW_TASK_STEP_NOT_FOUND'],
    [`${base}/jobs/cached/tasks/repo/cache`, 'task step repo of job demo/cached not found', 'JW_TASK_STEP_NOT_FOUND'],
  ];
  for (const [url, error, code] of cases) {
    const res = await inject('DELETE', url);
    assert.equal(res.statusCode, 404, url);
    assert.deepEqual(res.json(), { error, code });
  }
  const anonymous = await api.app.inject({ method: 'DELETE', url: `${base}/jobs/cached/tasks/build/cache` });
  assert.equal(anonymous.statusCode, 401);
  const twice = await inject('DELETE', `${base}/jobs/cached/tasks/build/cache?cache_path=a&cache_path=b`);
  assert.equal(twice.statusCode, 400);
  assert.deepEqual(twice.json(), { error: 'query parameter cache_path must be given once', code: 'JW_BAD_REQUEST' });

  const bare = await startApi({}, node.tdb);
  try {
    const res = await bare.app.inject({ method: 'DELETE', url: `${base}/jobs/cached/tasks/build/cache`, headers: bare.auth() });
    assert.equal(res.statusCode, 503);
    assert.match((res.json() as { error: string }).error, /^clearing task caches is not available/);
    assert.equal(res.json<{ code: string }>().code, 'JW_UNAVAILABLE');
  } finally {
    await bare.close();
  }
});

test('clear resource cache: the caches of the resource\'s config go (one version\'s when given), and the next get fetches again', async () => {
  await node.checkResource(pipelineId, 'repo', { version: 'v2' });
  await build();
  const before = await repoCaches();
  assert.deepEqual(
    before.map((c) => c.version),
    [{ version: 'v1' }, { version: 'v2' }],
  );

  const none = await inject('DELETE', `${base}/resources/repo/cache?version=${encodeURIComponent('{"version":"v9"}')}`);
  assert.equal(none.statusCode, 200, none.body);
  assert.deepEqual(none.json(), { caches_removed: 0 });
  const bad = await inject('DELETE', `${base}/resources/repo/cache?version=v1`);
  assert.equal(bad.statusCode, 400);
  assert.deepEqual(bad.json(), { error: 'query parameter version is not valid JSON: v1', code: 'JW_BAD_REQUEST' });
  const both = await inject('DELETE', `${base}/resources/repo/cache?version=${encodeURIComponent('{"version":"v1"}')}`, { version: { version: 'v1' } });
  assert.equal(both.statusCode, 400);
  assert.equal((await repoCaches()).length, 2, 'refused requests change nothing');

  // fly sends the version in the body
  const one = await inject('DELETE', `${base}/resources/repo/cache`, { version: { version: 'v1' } });
  assert.deepEqual(one.json(), { caches_removed: 1 });
  assert.deepEqual(
    (await repoCaches()).map((c) => c.version),
    [{ version: 'v2' }],
  );
  const all = await inject('DELETE', `${base}/resources/repo/cache`);
  assert.deepEqual(all.json(), { caches_removed: 1 });
  assert.deepEqual(await repoCaches(), []);

  const next = await build();
  const finished = (await node.events(next.id)).find((e) => e.event === 'finish-get');
  assert.deepEqual(finished?.data, { ...finished?.data, exit_status: 0, version: { version: 'v2' } }, 'the get ran its script again');
  const again = await repoCaches();
  assert.deepEqual(
    again.map((c) => c.version),
    [{ version: 'v2' }],
  );
  assert.ok(again[0]!.id > before[1]!.id, 'a new cache, not the old one');

  const unknown = await inject('DELETE', `${base}/resources/nope/cache`);
  assert.equal(unknown.statusCode, 404);
  assert.deepEqual(unknown.json(), { error: 'resource nope in pipeline main/demo not found', code: 'JW_RESOURCE_NOT_FOUND' });
  assert.equal((await api.app.inject({ method: 'DELETE', url: `${base}/resources/repo/cache` })).statusCode, 401);
});

test('clear versions: a resource\'s history goes, builds keep their records, a check finds the versions again', async () => {
  const first = (await node.tdb.db.query<{ id: number }>(`SELECT b.id FROM builds b JOIN jobs j ON j.id = b.job_id WHERE j.pipeline_id = $1 ORDER BY b.id LIMIT 1`, [pipelineId])).rows[0]!;
  assert.deepEqual(await versions(`${base}/resources/repo`), [{ version: 'v2' }, { version: 'v1' }]);
  const shared = await inject('GET', `${base}/resources/repo/shared`);
  assert.deepEqual(shared.json(), {
    resources: [{ name: 'repo', pipeline_id: pipelineId, pipeline_name: 'demo', team_name: 'main' }],
    resource_types: [],
    other_teams: 0,
  });

  const res = await inject('DELETE', `${base}/resources/repo/versions`);
  assert.equal(res.statusCode, 200, res.body);
  assert.deepEqual(res.json(), { versions_removed: 2 });
  assert.deepEqual(await versions(`${base}/resources/repo`), []);
  const inputs = async () => ((await inject('GET', `/api/v1/builds/${first.id}/resources`)).json() as { inputs: { name: string; version: unknown }[] }).inputs;
  assert.deepEqual(await inputs(), [{ name: 'repo', resource: 'repo', version: null, first_occurrence: true, pipeline_id: pipelineId }], 'the build keeps its input');
  assert.deepEqual((await inject('DELETE', `${base}/resources/repo/versions`)).json(), { versions_removed: 0 });

  await node.checkResource(pipelineId, 'repo', { version: 'v1' });
  assert.deepEqual(await versions(`${base}/resources/repo`), [{ version: 'v1' }]);
  assert.deepEqual((await inputs())[0]?.version, { version: 'v1' }, 'the build shows its version again');

  const unknown = await inject('DELETE', `${base}/resources/nope/versions`);
  assert.equal(unknown.statusCode, 404);
  assert.deepEqual(unknown.json(), { error: 'resource nope in pipeline main/demo not found', code: 'JW_RESOURCE_NOT_FOUND' });
  assert.equal((await api.app.inject({ method: 'DELETE', url: `${base}/resources/repo/versions` })).statusCode, 401);
});

test('clear versions of a resource type: its scope is shared with the same type in another pipeline, which loses it too', async () => {
  const otherId = await node.setPipeline('other', OTHER_PIPELINE);
  // and in another team (the admin holds a role in every team, so sees it)
  await node.tdb.db.query(`INSERT INTO teams (name) VALUES ('secret')`);
  const secretId = (await savePipeline(node.tdb.db, { team: 'secret', name: 'hidden', config: loadPipeline(OTHER_PIPELINE).config! })).pipelineId;
  await unpausePipeline(node.tdb.db, { team: 'secret', name: 'hidden' });
  for (const [id, name] of [
    [pipelineId, 'demo'],
    [otherId, 'other'],
    [secretId, 'hidden'],
  ] as const) {
    const check = await node.checker.checkResourceType(id, 'custom', {});
    assert.equal((await node.waitForBuild(check.id)).status, 'succeeded', `${name}: ${await node.logs(check.id)}`);
  }
  const typeVersions = async (pipeline: string) =>
    (await node.tdb.db.query<{ n: number }>(
      `SELECT count(v.id)::int AS n FROM resource_types t JOIN pipelines p ON p.id = t.pipeline_id
         LEFT JOIN resource_config_versions v ON v.resource_config_scope_id = t.resource_config_scope_id
        WHERE p.name = $1 AND t.name = 'custom'`,
      [pipeline],
    )).rows[0]!.n;
  const n = await typeVersions('demo');
  assert.ok(n > 0);
  assert.equal(await typeVersions('other'), n, 'one history');

  const shared = await inject('GET', `${base}/resource-types/custom/shared`);
  assert.equal(shared.statusCode, 200, shared.body);
  assert.deepEqual(shared.json(), {
    resources: [],
    resource_types: [
      { name: 'custom', pipeline_id: pipelineId, pipeline_name: 'demo', team_name: 'main' },
      { name: 'custom', pipeline_id: otherId, pipeline_name: 'other', team_name: 'main' },
      { name: 'custom', pipeline_id: secretId, pipeline_name: 'hidden', team_name: 'secret' },
    ],
    other_teams: 0,
  });

  const res = await inject('DELETE', `${base}/resource-types/custom/versions`);
  assert.equal(res.statusCode, 200, res.body);
  assert.deepEqual(res.json(), { versions_removed: n });
  assert.equal(await typeVersions('demo'), 0);
  assert.equal(await typeVersions('other'), 0);

  for (const url of [`${base}/resource-types/nope/versions`, `${base}/resource-types/nope/shared`]) {
    const unknown = await inject(url.endsWith('shared') ? 'GET' : 'DELETE', url);
    assert.equal(unknown.statusCode, 404, url);
    assert.deepEqual(unknown.json(), { error: 'resource type nope in pipeline main/demo not found', code: 'JW_RESOURCE_TYPE_NOT_FOUND' });
  }
});
