import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { startApi, PIPELINE, type TestApi } from './helpers.ts';
import { finishBuild, saveBuildEvent, startBuild } from '../../src/db/builds.ts';
import { buildEvent } from '../../src/model/build-events.ts';
import type { Plan } from '../../src/model/plan.ts';

let api: TestApi;
let port: number;
const aborted: number[] = [];
const woken: number[] = [];
const base = '/api/v1/teams/main/pipelines/demo';
before(async () => {
  api = await startApi({
    engine: { abortBuild: (id) => void aborted.push(id) },
    scheduler: { requestSchedule: (id) => void woken.push(id) },
  });
  const res = await api.app.inject({
    method: 'PUT',
    url: `${base}/config`,
    headers: { ...api.auth(), 'content-type': 'application/x-yaml', 'x-concourse-config-version': '0' },
    payload: PIPELINE.replace('- name: ship', '- name: ship\n  disable_manual_trigger: true'),
  });
  assert.equal(res.statusCode, 201, res.body);
  await api.app.listen({ port: 0, host: '127.0.0.1' });
  port = (api.app.server.address() as AddressInfo).port;
});
after(async () => {
  await api.close();
});

interface BuildJson {
  id: number;
  name: string;
  status: string;
  job_name: string;
  pipeline_name: string;
  team_name: string;
  api_url: string;
  created_by?: string;
  rerun_of?: { id: number; name: string };
}

const trigger = async (job: string) =>
  api.app.inject({ method: 'POST', url: `${base}/jobs/${job}/builds`, headers: api.auth() });

test('jobs: list and one, with inputs, outputs and builds', async () => {
  const res = await api.app.inject({ url: `${base}/jobs`, headers: api.auth() });
  assert.equal(res.statusCode, 200);
  const jobs = res.json() as { name: string; inputs: { name: string; resource: string; trigger: boolean; passed?: string[] }[] }[];
  assert.deepEqual(jobs.map((j) => j.name), ['unit', 'ship']);
  assert.deepEqual(jobs[0]?.inputs, [
    { name: 'repo', resource: 'repo', trigger: true },
    { name: 'image', resource: 'image', trigger: false },
  ]);
  assert.deepEqual(jobs[1]?.inputs, [{ name: 'repo', resource: 'repo', trigger: false, passed: ['unit'] }]);
  const one = await api.app.inject({ url: `${base}/jobs/unit`, headers: api.auth() });
  assert.equal((one.json() as { name: string; pipeline_name: string }).pipeline_name, 'demo');
  const missing = await api.app.inject({ url: `${base}/jobs/nope`, headers: api.auth() });
  assert.equal(missing.statusCode, 404);
  assert.deepEqual(missing.json(), { error: 'job nope in pipeline main/demo not found', code: 'JW_JOB_NOT_FOUND' });
});

test("a job's builds: a job without builds lists none; a job the pipeline lacks is 404, named", async () => {
  const none = await api.app.inject({ url: `${base}/jobs/ship/builds`, headers: api.auth() });
  assert.equal(none.statusCode, 200, none.body);
  assert.deepEqual(none.json(), []);
  const missing = await api.app.inject({ url: `${base}/jobs/nope/builds`, headers: api.auth() });
  assert.equal(missing.statusCode, 404);
  assert.deepEqual(missing.json(), { error: 'job nope in pipeline main/demo not found', code: 'JW_JOB_NOT_FOUND' });
});

test('trigger, get, pause/unpause a job; disable_manual_trigger is 409', async () => {
  woken.length = 0;
  const res = await trigger('unit');
  assert.equal(res.statusCode, 200, res.body);
  const build = res.json() as BuildJson;
  assert.equal(build.name, '1');
  assert.equal(build.status, 'pending');
  assert.equal(build.job_name, 'unit');
  assert.equal(build.created_by, 'admin');
  assert.equal(build.api_url, `http://jetway.example:8080/api/v1/builds/${build.id}`);
  assert.ok(woken.length === 1);

  const got = await api.app.inject({ url: `/api/v1/builds/${build.id}`, headers: api.auth() });
  assert.deepEqual(got.json(), build);
  const byName = await api.app.inject({ url: `${base}/jobs/unit/builds/1`, headers: api.auth() });
  assert.equal((byName.json() as BuildJson).id, build.id);
  const noBuild = await api.app.inject({ url: '/api/v1/builds/999999', headers: api.auth() });
  assert.equal(noBuild.statusCode, 404);
  assert.deepEqual(noBuild.json(), { error: 'build 999999 not found', code: 'JW_BUILD_NOT_FOUND' });
  const badId = await api.app.inject({ url: '/api/v1/builds/abc', headers: api.auth() });
  assert.equal(badId.statusCode, 400);

  const refused = await trigger('ship');
  assert.equal(refused.statusCode, 409);
  assert.match(refused.body, /manual triggering disabled/);

  assert.equal((await api.app.inject({ method: 'PUT', url: `${base}/jobs/unit/pause`, headers: api.auth() })).statusCode, 200);
  let job = (await api.app.inject({ url: `${base}/jobs/unit`, headers: api.auth() })).json() as { paused?: boolean; next_build?: BuildJson };
  assert.equal(job.paused, true);
  assert.equal(job.next_build?.id, build.id);
  assert.equal((await api.app.inject({ method: 'PUT', url: `${base}/jobs/unit/unpause`, headers: api.auth() })).statusCode, 200);
  job = (await api.app.inject({ url: `${base}/jobs/unit`, headers: api.auth() })).json() as { paused?: boolean };
  assert.equal(job.paused, undefined);
});

test('job builds: newest first with Link pagination; team and pipeline build lists', async () => {
  for (let i = 0; i < 4; i++) assert.equal((await trigger('unit')).statusCode, 200);
  const first = await api.app.inject({ url: `${base}/jobs/unit/builds?limit=2`, headers: api.auth() });
  assert.deepEqual((first.json() as BuildJson[]).map((b) => b.name), ['5', '4']);
  const link = String(first.headers.link);
  const next = /<([^>]+)>; rel="next"/.exec(link)?.[1];
  assert.ok(next, link);
  assert.ok(!/rel="previous"/.test(link));
  const second = await api.app.inject({ url: next, headers: api.auth() });
  assert.deepEqual((second.json() as BuildJson[]).map((b) => b.name), ['3', '2']);
  const prev = /<([^>]+)>; rel="previous"/.exec(String(second.headers.link))?.[1];
  assert.ok(prev);
  const back = await api.app.inject({ url: prev, headers: api.auth() });
  assert.deepEqual((back.json() as BuildJson[]).map((b) => b.name), ['5', '4']);

  for (const url of ['/api/v1/builds', '/api/v1/teams/main/builds', `${base}/builds`]) {
    const res = await api.app.inject({ url: `${url}?limit=3`, headers: api.auth() });
    assert.equal(res.statusCode, 200, url);
    assert.deepEqual((res.json() as BuildJson[]).map((b) => b.name), ['5', '4', '3'], url);
  }
});

test('rerun and abort', async () => {
  const original = (await api.app.inject({ url: `${base}/jobs/unit/builds/1`, headers: api.auth() })).json() as BuildJson;
  await api.t.db.query('UPDATE builds SET inputs_ready = true WHERE id = $1', [original.id]);
  const rerun = await api.app.inject({ method: 'POST', url: `${base}/jobs/unit/builds/1`, headers: api.auth() });
  assert.equal(rerun.statusCode, 200, rerun.body);
  const r = rerun.json() as BuildJson;
  assert.equal(r.name, '1.1');
  assert.deepEqual(r.rerun_of, { id: original.id, name: '1' });
  const none = await api.app.inject({ method: 'POST', url: `${base}/jobs/unit/builds/77`, headers: api.auth() });
  assert.equal(none.statusCode, 404);
  assert.deepEqual(none.json(), { error: 'build 77 of job demo/unit not found', code: 'JW_BUILD_NOT_FOUND' });

  aborted.length = 0;
  const abort = await api.app.inject({ method: 'PUT', url: `/api/v1/builds/${r.id}/abort`, headers: api.auth() });
  assert.equal(abort.statusCode, 204);
  assert.deepEqual(aborted, [r.id], 'the engine is told');
  const forced = await api.app.inject({ method: 'PUT', url: `/api/v1/builds/${r.id}/abort?force`, headers: api.auth() });
  assert.equal(forced.statusCode, 204);
  const after = (await api.app.inject({ url: `/api/v1/builds/${r.id}`, headers: api.auth() })).json() as BuildJson;
  assert.equal(after.status, 'aborted');
});

test('a build in every list reads as the build alone: times in Unix seconds, rerun, comment, what it spent', async () => {
  const original = (await trigger('unit')).json() as BuildJson;
  await api.t.db.query('UPDATE builds SET inputs_ready = true WHERE id = $1', [original.id]);
  const rerun = (await api.app.inject({ method: 'POST', url: `${base}/jobs/unit/builds/${original.name}`, headers: api.auth() })).json() as BuildJson;
  // sub-second times: a list and the build alone both floor them, as Concourse's unix seconds do
  await api.t.db.query(
    `UPDATE builds SET status = 'succeeded', completed = true, start_time = '2026-12-01T10:00:00.999Z', end_time = '2026-12-01T10:01:30.5Z',
            reap_time = '2026-12-02T00:00:00.25Z', comment = 'flaky', containers_created = '{"step": {"task": 1}}' WHERE id = $1`,
    [rerun.id],
  );
  const alone = (await api.app.inject({ url: `/api/v1/builds/${rerun.id}`, headers: api.auth() })).json() as Record<string, unknown>;
  assert.deepEqual(
    [alone.start_time, alone.end_time, alone.reap_time, alone.comment, alone.rerun_of, alone.rerun_number, alone.containers_created],
    [1796119200, 1796119290, 1796169600, 'flaky', { id: original.id, name: original.name }, 1, { step: { task: 1 } }],
  );
  for (const url of ['/api/v1/builds', '/api/v1/teams/main/builds', `${base}/builds`, `${base}/jobs/unit/builds`]) {
    const listed = ((await api.app.inject({ url, headers: api.auth() })).json() as Record<string, unknown>[]).find((b) => b.id === rerun.id);
    assert.deepEqual(listed, alone, url);
  }
});

/** Opens the event stream and collects its text until `until` says so (or the timeout). */
function readStream(
  id: number,
  headers: Record<string, string>,
  until: (text: string) => boolean,
  timeoutMs = 5000,
): Promise<{ status: number; headers: http.IncomingHttpHeaders; text: string }> {
  return new Promise((resolve, reject) => {
    const req = http.get({ host: '127.0.0.1', port, path: `/api/v1/builds/${id}/events`, headers: { ...api.auth(), ...headers } }, (res) => {
      let text = '';
      const done = (): void => {
        clearTimeout(timer);
        req.destroy();
        resolve({ status: res.statusCode ?? 0, headers: res.headers, text });
      };
      const timer = setTimeout(done, timeoutMs);
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        text += chunk;
        if (until(text)) done();
      });
      res.on('end', done);
    });
    req.on('error', (err) => {
      if ((err as NodeJS.ErrnoException).code !== 'ECONNRESET') reject(err);
    });
  });
}

test('build plan, and events as SSE: format, live events, end, Last-Event-ID resume', async () => {
  const build = (await trigger('unit')).json() as BuildJson;
  const noPlan = await api.app.inject({ url: `/api/v1/builds/${build.id}/plan`, headers: api.auth() });
  assert.equal(noPlan.statusCode, 404);
  // an across step shows Concourse's public shape (atc/public_plan.go): its vars' names and
  // fail_fast, never the values or the substep template with its source
  const across = { vars: [{ name: 'os', values: ['linux', 'darwin'], max_in_flight: 'all' }], substep_template: '{"id":"t","get":{"source":{"password":"p"}}}', fail_fast: true };
  const plan = { id: 'root', do: [{ id: 'a1', across }] } as unknown as Plan;
  assert.equal(await startBuild(api.t.db, build.id, plan), true);
  const planRes = await api.app.inject({ url: `/api/v1/builds/${build.id}/plan`, headers: api.auth() });
  assert.deepEqual(planRes.json(), { schema: 'exec.v2', plan: { id: 'root', do: [{ id: 'a1', across: { vars: [{ name: 'os' }], fail_fast: true } }] } });
  await saveBuildEvent(api.t.db, build.id, buildEvent('log', { time: 1, origin: { id: 'a', source: 'stdout' }, payload: 'hello\n' }));

  // the build is running: the stream shows the two events, then waits for more
  const live = readStream(build.id, {}, (t) => t.includes('event: end'));
  await new Promise((r) => setTimeout(r, 300));
  await saveBuildEvent(api.t.db, build.id, buildEvent('finish-task', { time: 2, origin: { id: 'a' }, exit_status: 0 }));
  await finishBuild(api.t.db, build.id, 'succeeded');
  const res = await live;
  assert.equal(res.status, 200);
  assert.equal(res.headers['content-type'], 'text/event-stream; charset=utf-8');
  assert.equal(res.headers['x-atc-stream-version'], '2.0');
  const messages = res.text.split('\n\n').filter((m) => m !== '');
  assert.equal(messages.length, 5, res.text);
  assert.equal(messages[0], `id: 0\nevent: event\ndata: {"data":${JSON.stringify(JSON.parse(messages[0]!.split('data: ')[1]!).data)},"event":"status","version":"1.0","event_id":"0"}`);
  assert.equal(
    messages[1],
    'id: 1\nevent: event\ndata: {"data":{"time":1,"origin":{"id":"a","source":"stdout"},"payload":"hello\\n"},"event":"log","version":"5.1","event_id":"1"}',
  );
  assert.match(messages[2] ?? '', /^id: 2\nevent: event\ndata: \{"data":\{"time":2,"origin":\{"id":"a"\},"exit_status":0\},"event":"finish-task"/);
  assert.match(messages[3] ?? '', /^id: 3\nevent: event\ndata: \{"data":\{[^}]*"status":"succeeded"[^}]*\},"event":"status","version":"1.0","event_id":"3"\}$/);
  assert.equal(messages[4], 'event: end\ndata: ');

  // resume after event 1: events 2 and 3, then end
  const resumed = await readStream(build.id, { 'last-event-id': '1' }, (t) => t.includes('event: end'));
  const ids = [...resumed.text.matchAll(/^id: (\d+)$/gm)].map((m) => Number(m[1]));
  assert.deepEqual(ids, [2, 3]);
  assert.ok(resumed.text.endsWith('event: end\ndata: \n\n'));

  // after end the server holds the connection open until the client closes it
  let ended = false;
  const held = await readStream(build.id, { 'last-event-id': '3' }, () => false, 400).then((r) => {
    ended = true;
    return r;
  });
  assert.ok(ended);
  assert.equal(held.text, 'event: end\ndata: \n\n');

  const unauth = await api.app.inject({ url: `/api/v1/builds/${build.id}/events` });
  assert.equal(unauth.statusCode, 401);
  const badHeader = await api.app.inject({ url: `/api/v1/builds/${build.id}/events`, headers: { ...api.auth(), 'last-event-id': 'x' } });
  assert.equal(badHeader.statusCode, 400);
});
