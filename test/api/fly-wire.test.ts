// The requests a stock fly makes (its go-concourse client, go-concourse/concourse/*.go), replayed
// as fly sends them, with each answer checked the way fly reads it: the status it expects, the
// headers it compares, and a body Go's encoding/json decodes into Concourse's types (test/api/
// go-types.ts, from atc/*.go). One test per fly command (fly/commands/<command>.go).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { startApi, type TestApi } from './helpers.ts';
import { startTestNode, type TestNode } from '../support/node.ts';
import { BUILD, BUILD_INPUT, EVENT_MESSAGE, JOB, PIPELINE, SAVE_CONFIG_RESPONSE, USER_INFO, goDecodeProblems, type GoType } from './go-types.ts';

let node: TestNode;
let api: TestApi;
let port: number;

const CONFIG = `resources:
- name: repo
  type: mock
  source: {initial_version: v1}
jobs:
- name: unit
  plan:
  - get: repo
  - task: test
    config:
      platform: linux
      run: {path: echo, args: [hello from fly]}
`;

before(async () => {
  node = await startTestNode();
  api = await startApi({ checker: node.checker, engine: { abortBuild: (id) => node.engine.abort(id), track: (id) => node.engine.track(id) } }, node.tdb);
  await api.app.listen({ port: 0, host: '127.0.0.1' });
  port = (api.app.server.address() as AddressInfo).port;
});
after(async () => {
  await api.close();
  await node.stop();
});

/** What fly sends: its bearer token, and a body's Content-Type. */
function fly(method: string, url: string, opts: { body?: string; contentType?: string; headers?: Record<string, string> } = {}) {
  return api.app.inject({
    method: method as 'GET',
    url,
    headers: { ...api.auth(), ...(opts.contentType ? { 'content-type': opts.contentType } : {}), ...opts.headers },
    ...(opts.body !== undefined ? { payload: opts.body } : {}),
  });
}

function decodes(body: string, type: GoType): unknown {
  const value: unknown = JSON.parse(body);
  assert.deepEqual(goDecodeProblems(value, type), [], body.slice(0, 500));
  return value;
}

/** GET /api/v1/builds/:id/events as go-sse reads it, until `event: end`. */
function buildEvents(id: number): Promise<{ status: number; contentType: string; messages: { name: string; data: string }[] }> {
  return new Promise((resolve, reject) => {
    const req = http.get({ host: '127.0.0.1', port, path: `/api/v1/builds/${id}/events`, headers: { ...api.auth(), accept: 'text/event-stream' } }, (res) => {
      let text = '';
      const timer = setTimeout(() => finish(), 20_000);
      const finish = (): void => {
        clearTimeout(timer);
        req.destroy();
        const messages = text
          .split('\n\n')
          .filter((m) => m !== '')
          .map((m) => ({ name: /^event: (.*)$/m.exec(m)?.[1] ?? '', data: /^data: (.*)$/m.exec(m)?.[1] ?? '' }));
        resolve({ status: res.statusCode ?? 0, contentType: String(res.headers['content-type']), messages });
      };
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        text += chunk;
        if (text.includes('event: end')) finish();
      });
      res.on('end', finish);
    });
    req.on('error', (err) => {
      if ((err as NodeJS.ErrnoException).code !== 'ECONNRESET') reject(err);
    });
  });
}

test('fly login: /api/v1/user decodes into atc.UserInfo (fly/commands/login.go, userinfo.go)', async () => {
  const res = await fly('GET', '/api/v1/user');
  assert.equal(res.statusCode, 200);
  decodes(res.body, { struct: USER_INFO });
});

test('fly set-pipeline: GetConfig 404 for a new pipeline, SaveConfig 201 then 200 with Content-Type exactly application/json (go-concourse/concourse/configs.go)', async () => {
  const missing = await fly('GET', '/api/v1/teams/main/pipelines/wire/config');
  assert.equal(missing.statusCode, 404, 'PipelineConfig: not found, so fly sends an empty config version');
  // a new pipeline: the version header empty, as fly sends what GetConfig gave it; --check-creds adds ?check_creds
  const created = await fly('PUT', '/api/v1/teams/main/pipelines/wire/config?check_creds', { body: CONFIG, contentType: 'application/x-yaml', headers: { 'x-concourse-config-version': '' } });
  assert.equal(created.statusCode, 201, created.body);
  // CreateOrUpdatePipelineConfig refuses any other Content-Type, charset included
  assert.equal(created.headers['content-type'], 'application/json');
  decodes(created.body, { struct: SAVE_CONFIG_RESPONSE });

  const existing = await fly('GET', '/api/v1/teams/main/pipelines/wire/config');
  assert.equal(existing.statusCode, 200);
  const version = existing.headers['x-concourse-config-version'];
  assert.match(String(version), /^\d+$/);
  const config = (JSON.parse(existing.body) as { config: { jobs?: { name: string }[] } }).config;
  assert.deepEqual(config.jobs?.map((j) => j.name), ['unit']);

  const updated = await fly('PUT', '/api/v1/teams/main/pipelines/wire/config', { body: CONFIG.replace('hello from fly', 'hello again'), contentType: 'application/x-yaml', headers: { 'x-concourse-config-version': String(version) } });
  assert.equal(updated.statusCode, 200, updated.body);
  assert.equal(updated.headers['content-type'], 'application/json');
  // an invalid config: 400, application/json, the errors as atc.SaveConfigResponse
  const invalid = await fly('PUT', '/api/v1/teams/main/pipelines/wire/config', { body: 'jobs:\n- name: j\n  plan:\n  - get: nope\n', contentType: 'application/x-yaml', headers: { 'x-concourse-config-version': String(Number(version) + 1) } });
  assert.equal(invalid.statusCode, 400);
  assert.equal(invalid.headers['content-type'], 'application/json');
  const errors = decodes(invalid.body, { struct: SAVE_CONFIG_RESPONSE }) as { errors?: string[] };
  assert.ok((errors.errors ?? []).some((e) => e.includes('nope')), invalid.body);
  // fly unpauses a new pipeline when asked (set-pipeline then unpause-pipeline)
  const unpause = await fly('PUT', '/api/v1/teams/main/pipelines/wire/unpause');
  assert.equal(unpause.statusCode, 200);
});

test('fly pipelines: ListPipelines decodes into []atc.Pipeline (fly/commands/pipelines.go)', async () => {
  const res = await fly('GET', '/api/v1/teams/main/pipelines');
  assert.equal(res.statusCode, 200);
  const list = decodes(res.body, { list: { struct: PIPELINE } }) as { name: string }[];
  assert.ok(list.some((p) => p.name === 'wire'));
});

test('fly check-resource: CheckResource with atc.CheckRequestBody is 201 with an atc.Build (go-concourse/concourse/resource.go)', async () => {
  const res = await fly('POST', '/api/v1/teams/main/pipelines/wire/resources/repo/check', { body: JSON.stringify({ from: null, shallow: false }), contentType: 'application/json' });
  assert.equal(res.statusCode, 201, res.body);
  const build = decodes(res.body, { struct: BUILD }) as { id: number };
  assert.equal((await node.waitForBuild(build.id)).status, 'succeeded');
});

test('fly trigger-job -w: CreateJobBuild 200 with an atc.Build (atc/api/jobserver/create_build.go), then its events as go-sse reads them, ending with `end` (fly/commands/trigger_job.go)', async () => {
  const res = await fly('POST', '/api/v1/teams/main/pipelines/wire/jobs/unit/builds');
  assert.equal(res.statusCode, 200, res.body);
  const build = decodes(res.body, { struct: BUILD }) as { id: number; name: string; job_name: string };
  assert.equal(build.job_name, 'unit');
  await node.settle(async () => (await node.waitForBuild(build.id)).status !== 'pending');
  const done = await node.waitForBuild(build.id);
  assert.equal(done.status, 'succeeded', await node.logs(build.id));
  const stream = await buildEvents(build.id);
  assert.equal(stream.status, 200);
  assert.match(stream.contentType, /^text\/event-stream/);
  const names = new Set(stream.messages.map((m) => m.name));
  assert.deepEqual([...names].sort(), ['end', 'event'], 'go-concourse knows only `event` and `end`');
  assert.equal(stream.messages.at(-1)?.name, 'end');
  const events = stream.messages.filter((m) => m.name === 'event').map((m) => decodes(m.data, { struct: EVENT_MESSAGE }) as { event: string; data: { payload?: string; status?: string } });
  assert.ok(events.some((e) => e.event === 'log' && e.data.payload?.includes('hello again')), 'the task output fly prints');
  assert.equal(events.filter((e) => e.event === 'status').at(-1)?.data.status, 'succeeded', 'fly -w exits on the last status');
});

test('fly watch -j: the job decodes into atc.Job, its finished build is the one to follow (fly/commands/watch.go)', async () => {
  const res = await fly('GET', '/api/v1/teams/main/pipelines/wire/jobs/unit');
  assert.equal(res.statusCode, 200);
  const job = decodes(res.body, { struct: JOB }) as { finished_build: { id: number } | null; next_build: unknown };
  assert.ok(job.finished_build);
  assert.equal(job.next_build, null, 'none: null, as Concourse encodes a nil *Build');
  const stream = await buildEvents(job.finished_build.id);
  assert.equal(stream.messages.at(-1)?.name, 'end');
});

test('fly builds: ListBuilds decodes into []atc.Build, with Link pages as go-concourse reads them (fly/commands/builds.go)', async () => {
  // a second build, so that a page of one has a next page
  assert.equal((await fly('POST', '/api/v1/teams/main/pipelines/wire/jobs/unit/builds')).statusCode, 200);
  const res = await fly('GET', '/api/v1/builds?limit=1');
  assert.equal(res.statusCode, 200);
  const builds = decodes(res.body, { list: { struct: BUILD } }) as unknown[];
  assert.equal(builds.length, 1);
  // go-concourse/concourse/pagination.go: rel="next" / rel="previous" with from/to/limit
  assert.match(String(res.headers.link), /<http[^>]*\/api\/v1\/builds\?to=\d+&limit=1>; rel="next"/);
});

test("ListJobInputs decodes into []atc.BuildInput: the resource's type and source, the get's params and tags (atc/api/jobserver/list_inputs.go)", async () => {
  const config = CONFIG.replace('  - get: repo\n', '  - get: repo\n    params: {depth: 1}\n    tags: [linux]\n');
  const version = (await fly('GET', '/api/v1/teams/main/pipelines/wire/config')).headers['x-concourse-config-version'];
  const set = await fly('PUT', '/api/v1/teams/main/pipelines/wire/config', { body: config, contentType: 'application/x-yaml', headers: { 'x-concourse-config-version': String(version) } });
  assert.equal(set.statusCode, 200, set.body);
  const res = await fly('GET', '/api/v1/teams/main/pipelines/wire/jobs/unit/inputs');
  assert.equal(res.statusCode, 200);
  const [input] = decodes(res.body, { list: { struct: BUILD_INPUT } }) as Record<string, unknown>[];
  assert.deepEqual({ name: input?.name, resource: input?.resource, type: input?.type, source: input?.source, params: input?.params, tags: input?.tags }, {
    name: 'repo',
    resource: 'repo',
    type: 'mock',
    source: { initial_version: 'v1' },
    params: { depth: 1 },
    tags: ['linux'],
  });
});
