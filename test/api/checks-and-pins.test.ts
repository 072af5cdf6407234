// The routes that need a running checker and engine (a test node on the API's database):
// manual checks and webhooks, pins and enabled versions as the scheduler sees them, a job's
// next inputs, a build's preparation and resources.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startApi, type TestApi } from './helpers.ts';
import { startTestNode, type TestNode } from '../support/node.ts';
import { getBuild } from '../../src/db/builds.ts';

const PIPELINE = `resources:
- name: repo
  type: mock
  webhook_token: hook-s3cret
  source: {no_initial_version: true}
- name: fixed
  type: mock
  version: {version: f2}
  source: {no_initial_version: true}
resource_types:
- name: custom
  type: mock
  source: {mirror_self: true}
jobs:
- name: unit
  plan:
  - get: repo
  - get: fixed
  - task: show
    config:
      platform: linux
      inputs: [{name: repo}]
      run: {path: cat, args: [repo/version]}
`;

let node: TestNode;
let api: TestApi;
let pipelineId: number;
const base = '/api/v1/teams/main/pipelines/demo';

interface BuildJson {
  id: number;
  name: string;
  status: string;
  created_by?: string;
}
interface VersionJson {
  id: number;
  version: Record<string, string>;
  enabled: boolean;
}
interface InputJson {
  name: string;
  resource: string;
  version?: Record<string, string>;
  resolve_error?: string;
  first_occurrence?: boolean;
}

before(async () => {
  node = await startTestNode();
  api = await startApi(
    {
      checker: node.checker,
      engine: { abortBuild: (id) => node.engine.abort(id), track: (id) => node.engine.track(id) },
    },
    node.tdb,
  );
  pipelineId = await node.setPipeline('demo', PIPELINE);
});
after(async () => {
  await api.close();
  await node.stop();
});

const inject = (method: 'GET' | 'POST' | 'PUT', url: string, payload?: unknown) =>
  api.app.inject({ method, url, headers: api.auth(), ...(payload !== undefined ? { payload: payload as Record<string, unknown> } : {}) });

async function checkRepo(from: Record<string, string>): Promise<BuildJson> {
  const res = await inject('POST', `${base}/resources/repo/check`, { from });
  assert.equal(res.statusCode, 201, res.body);
  const build = res.json() as BuildJson;
  const done = await node.waitForBuild(build.id);
  assert.equal(done.status, 'succeeded', await node.logs(build.id));
  return build;
}

async function versions(resource: string): Promise<VersionJson[]> {
  const res = await inject('GET', `${base}/resources/${resource}/versions`);
  assert.equal(res.statusCode, 200, res.body);
  return res.json() as VersionJson[];
}

async function nextInputs(): Promise<Record<string, InputJson>> {
  await node.scheduler.tick();
  const res = await inject('GET', `${base}/jobs/unit/inputs`);
  assert.equal(res.statusCode, 200, res.body);
  return Object.fromEntries((res.json() as InputJson[]).map((i) => [i.name, i]));
}

test('check: a manual check build that succeeds, and the version it found', async () => {
  assert.deepEqual(await versions('repo'), []);
  const build = await checkRepo({ version: 'v1' });
  assert.equal(build.name, 'check');
  assert.equal(build.status, 'started');
  assert.equal(build.created_by, 'admin');
  assert.deepEqual(
    (await versions('repo')).map((v) => v.version),
    [{ version: 'v1' }],
  );
  // the resource shows its last check build
  const r = await inject('GET', `${base}/resources/repo`);
  assert.equal((r.json() as { build: { id: number; status: string } }).build.id, build.id);

  await checkRepo({ version: 'v2' });
  await checkRepo({ version: 'v3' });
  assert.deepEqual(
    (await versions('repo')).map((v) => v.version.version),
    ['v3', 'v2', 'v1'],
  );
  // the config-pinned resource's version, for the job to have all its inputs
  const fixed = await inject('POST', `${base}/resources/fixed/check`, { from: { version: 'f2' } });
  assert.equal(fixed.statusCode, 201, fixed.body);
  assert.equal((await node.waitForBuild((fixed.json() as BuildJson).id)).status, 'succeeded');
});

test('check: bad bodies name the field; unknown resources and types are 404', async () => {
  const bad = await inject('POST', `${base}/resources/repo/check`, { from: 'v1', shallow: 'yes' });
  assert.equal(bad.statusCode, 400);
  const errors = (bad.json() as { errors: string[] }).errors;
  assert.ok(errors.some((e) => e.startsWith('body.from: ')), errors.join('\n'));
  assert.ok(errors.some((e) => e.startsWith('body.shallow: ')), errors.join('\n'));
  const extra = await inject('POST', `${base}/resources/repo/check`, { form: {} });
  assert.equal(extra.statusCode, 400);
  assert.match(extra.body, /form/);
  const missing = await inject('POST', `${base}/resources/nope/check`, {});
  assert.equal(missing.statusCode, 404);
  assert.deepEqual(missing.json(), { error: 'resource nope in pipeline main/demo not found', code: 'JW_RESOURCE_NOT_FOUND' });
  const noPipeline = await inject('POST', '/api/v1/teams/main/pipelines/nope/resources/repo/check', {});
  assert.equal(noPipeline.statusCode, 404);
  assert.deepEqual(noPipeline.json(), { error: 'pipeline main/nope not found', code: 'JW_PIPELINE_NOT_FOUND' });
  const noType = await inject('POST', `${base}/resource-types/nope/check`, {});
  assert.equal(noType.statusCode, 404);
  assert.deepEqual(noType.json(), { error: 'resource type nope in pipeline main/demo not found', code: 'JW_RESOURCE_TYPE_NOT_FOUND' });
  const anonymous = await api.app.inject({ method: 'POST', url: `${base}/resources/repo/check`, payload: {} });
  assert.equal(anonymous.statusCode, 401);
});

test('check: a resource type check build', async () => {
  const res = await inject('POST', `${base}/resource-types/custom/check`, {});
  assert.equal(res.statusCode, 201, res.body);
  const build = res.json() as BuildJson;
  const done = await node.waitForBuild(build.id);
  assert.equal(done.status, 'succeeded', await node.logs(build.id));
  assert.equal(done.resourceTypeId !== null, true);
});

test('check: without a checker the route answers 503', async () => {
  const bare = await startApi({}, node.tdb);
  try {
    const res = await bare.app.inject({ method: 'POST', url: `${base}/resources/repo/check`, headers: bare.auth(), payload: {} });
    assert.equal(res.statusCode, 503);
    assert.deepEqual(res.json(), { error: 'checking is not available: this API server runs without a checker', code: 'JW_UNAVAILABLE' });
  } finally {
    await bare.close();
  }
});

test('webhook: the right token checks without a bearer token; a wrong one is the 404 of an unknown resource', async () => {
  const before = (await api.t.db.query(`SELECT count(*)::int AS n FROM builds WHERE resource_id IS NOT NULL`)).rows[0] as { n: number };
  const good = await api.app.inject({ method: 'POST', url: `${base}/resources/repo/check/webhook?webhook_token=hook-s3cret` });
  assert.equal(good.statusCode, 201, good.body);
  const build = good.json() as BuildJson;
  assert.equal((await node.waitForBuild(build.id)).status, 'succeeded');

  const missing = await api.app.inject({ method: 'POST', url: `${base}/resources/repo/check/webhook` });
  assert.equal(missing.statusCode, 401);
  assert.deepEqual(missing.json(), { error: 'invalid webhook token: pass ?webhook_token=<token>', code: 'JW_INVALID_WEBHOOK_TOKEN' });
  // a wrong token, a resource without a token, and unknown names cannot be told apart
  for (const [url, resource, pipeline] of [
    [`${base}/resources/repo/check/webhook?webhook_token=wrong`, 'repo', 'main/demo'],
    [`${base}/resources/fixed/check/webhook?webhook_token=hook-s3cret`, 'fixed', 'main/demo'], // no webhook_token configured
    [`${base}/resources/nope/check/webhook?webhook_token=x`, 'nope', 'main/demo'],
    ['/api/v1/teams/main/pipelines/nope/resources/repo/check/webhook?webhook_token=x', 'repo', 'main/nope'],
    ['/api/v1/teams/nope/pipelines/demo/resources/repo/check/webhook?webhook_token=x', 'repo', 'nope/demo'],
  ] as const) {
    const bad = await api.app.inject({ method: 'POST', url });
    assert.equal(bad.statusCode, 404, url);
    assert.deepEqual(bad.json(), {
      error: `resource ${resource} in pipeline ${pipeline} not found, or the webhook token is not its own`,
      code: 'JW_RESOURCE_NOT_FOUND',
    });
  }
  const after = (await api.t.db.query(`SELECT count(*)::int AS n FROM builds WHERE resource_id IS NOT NULL`)).rows[0] as { n: number };
  assert.equal(after.n, before.n + 1, 'refused webhooks create no check');
  assert.ok(!api.logs.some((l) => l.includes('hook-s3cret')), 'the webhook token is not in the request logs');
  assert.ok(api.logs.some((l) => l.includes('webhook_token=%5BREDACTED%5D')), 'the request log shows the token was redacted');
});

test('pin, unpin, disable and enable change what the scheduler resolves', async () => {
  const vs = await versions('repo');
  const byName = Object.fromEntries(vs.map((v) => [v.version.version, v.id]));
  let inputs = await nextInputs();
  assert.deepEqual(inputs.repo?.version, { version: 'v3' }, JSON.stringify(inputs));
  assert.deepEqual(inputs.fixed?.version, { version: 'f2' });
  assert.equal(inputs.repo?.resource, 'repo');

  const pin = await inject('PUT', `${base}/resources/repo/versions/${byName.v1}/pin`);
  assert.equal(pin.statusCode, 200, pin.body);
  const pinned = (await inject('GET', `${base}/resources/repo`)).json() as { pinned_version?: unknown; pinned_in_config?: boolean };
  assert.deepEqual(pinned.pinned_version, { version: 'v1' });
  assert.equal(pinned.pinned_in_config, undefined);
  inputs = await nextInputs();
  assert.deepEqual(inputs.repo?.version, { version: 'v1' });

  const comment = await inject('PUT', `${base}/resources/repo/pin_comment`, { pin_comment: 'v2 and v3 are broken' });
  assert.equal(comment.statusCode, 200, comment.body);
  assert.equal(((await inject('GET', `${base}/resources/repo`)).json() as { pin_comment: string }).pin_comment, 'v2 and v3 are broken');
  const badComment = await inject('PUT', `${base}/resources/repo/pin_comment`, { comment: 'x' });
  assert.equal(badComment.statusCode, 400);
  assert.match(badComment.body, /body\.pin_comment/);

  const unpin = await inject('PUT', `${base}/resources/repo/unpin`);
  assert.equal(unpin.statusCode, 200, unpin.body);
  inputs = await nextInputs();
  assert.deepEqual(inputs.repo?.version, { version: 'v3' });
  const commentUnpinned = await inject('PUT', `${base}/resources/repo/pin_comment`, { pin_comment: 'x' });
  assert.equal(commentUnpinned.statusCode, 409);

  const disable = await inject('PUT', `${base}/resources/repo/versions/${byName.v3}/disable`);
  assert.equal(disable.statusCode, 200, disable.body);
  assert.deepEqual(
    (await versions('repo')).map((v) => [v.version.version, v.enabled]),
    [
      ['v3', false],
      ['v2', true],
      ['v1', true],
    ],
  );
  inputs = await nextInputs();
  assert.deepEqual(inputs.repo?.version, { version: 'v2' });
  const enable = await inject('PUT', `${base}/resources/repo/versions/${byName.v3}/enable`);
  assert.equal(enable.statusCode, 200);
  inputs = await nextInputs();
  assert.deepEqual(inputs.repo?.version, { version: 'v3' });

  const unknownVersion = await inject('PUT', `${base}/resources/repo/versions/999999/pin`);
  assert.equal(unknownVersion.statusCode, 404);
  assert.deepEqual(unknownVersion.json(), { error: 'version 999999 of resource repo in pipeline main/demo not found', code: 'JW_VERSION_NOT_FOUND' });
  const otherResourcesVersion = await inject('PUT', `${base}/resources/fixed/versions/${byName.v1}/pin`);
  assert.equal(otherResourcesVersion.statusCode, 404, 'a version of another resource is not found');
  const badId = await inject('PUT', `${base}/resources/repo/versions/abc/pin`);
  assert.equal(badId.statusCode, 400);
});

test('a config pin cannot be changed through the API (409, nothing changes)', async () => {
  const f = (await versions('fixed'))[0]!;
  for (const url of [`${base}/resources/fixed/versions/${f.id}/pin`, `${base}/resources/fixed/unpin`]) {
    const res = await inject('PUT', url);
    assert.equal(res.statusCode, 409, url);
    assert.match((res.json() as { error: string }).error, /^resource fixed in pipeline main\/demo is pinned in the pipeline config/);
    assert.equal(res.json<{ code: string }>().code, 'JW_PINNED_IN_CONFIG');
  }
  const r = (await inject('GET', `${base}/resources/fixed`)).json() as { pinned_version: unknown; pinned_in_config: boolean };
  assert.deepEqual(r.pinned_version, { version: 'f2' });
  assert.equal(r.pinned_in_config, true);
});

test('a build: preparation, resources, and the builds a version went into', async () => {
  const build = await node.trigger(pipelineId, 'unit');
  assert.equal(build.status, 'succeeded', await node.logs(build.id));
  assert.match(await node.logs(build.id), /v3/);

  const prep = await inject('GET', `/api/v1/builds/${build.id}/preparation`);
  assert.equal(prep.statusCode, 200, prep.body);
  assert.deepEqual(prep.json(), {
    build_id: build.id,
    paused_pipeline: 'not_blocking',
    paused_job: 'not_blocking',
    max_running_builds: 'not_blocking',
    inputs: { repo: 'not_blocking', fixed: 'not_blocking' },
    inputs_satisfied: 'not_blocking',
    missing_input_reasons: {},
    reasons: [],
  });

  const res = await inject('GET', `/api/v1/builds/${build.id}/resources`);
  assert.equal(res.statusCode, 200, res.body);
  assert.deepEqual(res.json(), {
    inputs: [
      { name: 'fixed', resource: 'fixed', version: { version: 'f2' }, first_occurrence: true, pipeline_id: pipelineId },
      { name: 'repo', resource: 'repo', version: { version: 'v3' }, first_occurrence: true, pipeline_id: pipelineId },
    ],
    outputs: [],
  });

  const v3 = (await versions('repo')).find((v) => v.version.version === 'v3')!;
  const inputTo = await inject('GET', `${base}/resources/repo/versions/${v3.id}/input_to`);
  assert.equal(inputTo.statusCode, 200, inputTo.body);
  assert.deepEqual((inputTo.json() as BuildJson[]).map((b) => b.id), [build.id]);
  const outputOf = await inject('GET', `${base}/resources/repo/versions/${v3.id}/output_of`);
  assert.deepEqual(outputOf.json(), []);

  // a pending build waiting on its paused job: the preparation says what blocks it
  assert.equal((await inject('PUT', `${base}/jobs/unit/pause`)).statusCode, 200);
  const pending = (await inject('POST', `${base}/jobs/unit/builds`)).json() as BuildJson;
  await node.scheduler.tick();
  const blocked = (await inject('GET', `/api/v1/builds/${pending.id}/preparation`)).json() as { paused_job: string; reasons: string[] };
  assert.equal(blocked.paused_job, 'blocking');
  assert.deepEqual(blocked.reasons, ['the job demo/unit is paused']);
  const pendingJson = (await inject('GET', `/api/v1/builds/${pending.id}`)).json() as BuildJson & { pending_reason?: string };
  assert.equal(pendingJson.pending_reason, 'the job demo/unit is paused');
  const jobJson = (await inject('GET', `${base}/jobs/unit`)).json() as { pending_reason?: string };
  assert.equal(jobJson.pending_reason, 'the job demo/unit is paused');
  assert.equal((await getBuild(node.tdb.db, pending.id))?.status, 'pending');
  const missing = await inject('GET', '/api/v1/builds/999999/preparation');
  assert.equal(missing.statusCode, 404);
  assert.equal((await inject('PUT', `${base}/jobs/unit/unpause`)).statusCode, 200);
  assert.equal((await node.waitForBuild(pending.id)).status, 'succeeded');
});
