import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { Metrics } from '../../src/metrics/metrics.ts';
import { freePort } from '../../src/db/embedded.ts';
import { packagePath } from '../../src/package.ts';
import { startWebNode } from '../../src/web/web-node.ts';
import { createTestDatabase } from '../support/db.ts';

/** The value of one sample line (`name{labels} value`), or undefined. */
function sample(text: string, series: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

test('the registry: builds by kind and status with durations, containers, scheduling passes, requests, process figures, a running gauge', async () => {
  let running = 2;
  const m = new Metrics({ runningBuilds: () => running });
  m.buildFinished('job', 'succeeded', 3);
  m.buildFinished('job', 'succeeded', 40);
  m.buildFinished('check', 'errored', undefined);
  m.containerCreated('kubernetes', 'get', 'image');
  m.schedulingPass(0.02);
  m.apiRequest('GET', '/api/v1/pipelines', 200);
  m.kubernetesRequest('create', 'pods', 'ok');
  m.kubernetesRequest('create', 'pods', '429');
  m.imageResolved('native');
  m.imageResolved('native');
  m.imageResolved('containers');
  const { contentType, body } = await m.scrape();
  assert.match(contentType, /^text\/plain/);
  assert.equal(sample(body, 'jetway_builds_finished_total{kind="job",status="succeeded"}'), 2);
  assert.equal(sample(body, 'jetway_builds_finished_total{kind="check",status="errored"}'), 1);
  assert.equal(sample(body, 'jetway_build_duration_seconds_count{kind="job",status="succeeded"}'), 2);
  assert.equal(sample(body, 'jetway_build_duration_seconds_bucket{le="5",kind="job",status="succeeded"}'), 1);
  assert.equal(sample(body, 'jetway_containers_created_total{runtime="kubernetes",type="get",purpose="image"}'), 1);
  assert.equal(sample(body, 'jetway_scheduling_duration_seconds_count'), 1);
  assert.equal(sample(body, 'jetway_api_requests_total{method="GET",route="/api/v1/pipelines",code="200"}'), 1);
  assert.equal(sample(body, 'jetway_builds_running'), 2);
  assert.equal(sample(body, 'jetway_kubernetes_requests_total{verb="create",resource="pods",outcome="ok"}'), 1);
  assert.equal(sample(body, 'jetway_kubernetes_requests_total{verb="create",resource="pods",outcome="429"}'), 1);
  assert.equal(sample(body, 'jetway_images_resolved_total{how="native"}'), 2);
  assert.equal(sample(body, 'jetway_images_resolved_total{how="containers"}'), 1);
  running = 0;
  assert.equal(sample((await m.scrape()).body, 'jetway_builds_running'), 0);
  assert.ok(sample(body, 'jetway_process_resident_memory_bytes')! > 0, 'process metrics');
  // two nodes in one process do not share counters
  assert.equal(sample((await new Metrics().scrape()).body, 'jetway_builds_finished_total{kind="job",status="succeeded"}'), undefined);
});

test('a web node serves /metrics without a login; a build shows up in it, with no pipeline or job names', async () => {
  const tdb = await createTestDatabase();
  const dir = await mkdtemp(join(tmpdir(), 'jw-metrics-'));
  const port = await freePort();
  const node = await startWebNode({
    dataDir: dir,
    postgresUrl: tdb.url,
    port,
    bindIp: '127.0.0.1',
    externalUrl: `http://127.0.0.1:${port}`,
    localUsers: ['ops:metrics-pass'],
    runtime: 'local',
    schedulerIntervalMs: 200,
    checkerIntervalMs: 200,
    logger: pino({ level: 'silent' }),
  });
  try {
    const api = (path: string, init: RequestInit = {}): Promise<Response> => fetch(`${node.url}/api/v1${path}`, init);
    const { access_token: token } = (await (
      await api('/token', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username: 'ops', password: 'metrics-pass' }) })
    ).json()) as { access_token: string };
    const auth = { authorization: `Bearer ${token}` };
    const yaml = readFileSync(packagePath('examples', 'hello.yml'), 'utf8');
    assert.ok((await api('/teams/main/pipelines/hello/config', { method: 'PUT', headers: { ...auth, 'content-type': 'application/x-yaml' }, body: yaml })).ok);
    assert.ok((await api('/teams/main/pipelines/hello/unpause', { method: 'PUT', headers: auth })).ok);
    // the checker finds source-code's version, the scheduler triggers unit, then ship
    let text = '';
    for (let i = 0; i < 300; i++) {
      text = await (await fetch(`${node.url}/metrics`)).text();
      if ((sample(text, 'jetway_builds_finished_total{kind="job",status="succeeded"}') ?? 0) >= 1) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    assert.ok((sample(text, 'jetway_builds_finished_total{kind="job",status="succeeded"}') ?? 0) >= 1, text);
    assert.ok((sample(text, 'jetway_builds_finished_total{kind="check",status="succeeded"}') ?? 0) >= 1);
    assert.ok((sample(text, 'jetway_containers_created_total{runtime="local",type="task",purpose="step"}') ?? 0) >= 1);
    assert.ok((sample(text, 'jetway_scheduling_duration_seconds_count') ?? 0) >= 1);
    // the local runtime does not apply task images, so none is resolved
    assert.equal(sample(text, 'jetway_images_resolved_total{how="native"}'), undefined);
    assert.equal(sample(text, 'jetway_api_requests_total{method="PUT",route="/api/v1/teams/:team/pipelines/:pipeline/config",code="201"}'), 1, 'by route pattern: one series for every pipeline');
    assert.doesNotMatch(text, /hello|source-code|"unit"/, 'no pipeline, job or resource names');
  } finally {
    await node.stop();
    await rm(dir, { recursive: true, force: true });
    await tdb.drop();
  }
});
