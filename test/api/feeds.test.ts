// Badges and cc.xml through the API (src/api/routes/feeds.ts): what they show for real builds,
// and who may read them (Concourse's rules: the pipeline's team, or anybody for a public one).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startApi, PIPELINE, type TestApi } from './helpers.ts';
import { createManualBuild, finishBuild, startBuild } from '../../src/db/builds.ts';
import { findJob } from '../../src/db/jobs.ts';
import { findPipelineView } from '../../src/db/views.ts';
import type { Plan } from '../../src/model/plan.ts';

let api: TestApi;
const base = '/api/v1/teams/main/pipelines/demo';
before(async () => {
  api = await startApi();
  const res = await api.app.inject({
    method: 'PUT',
    url: `${base}/config`,
    headers: { ...api.auth(), 'content-type': 'application/x-yaml' },
    payload: PIPELINE.replace('((repo_uri))', 'x'),
  });
  assert.equal(res.statusCode, 201, res.body);
});
after(async () => {
  await api.close();
});

async function runBuild(job: string, status: 'succeeded' | 'failed' | 'errored' | 'aborted'): Promise<string> {
  const p = await findPipelineView(api.t.db, { team: 'main', name: 'demo', instanceVars: null });
  const j = await findJob(api.t.db, p!.id, job);
  const b = await createManualBuild(api.t.db, j!.id);
  await startBuild(api.t.db, b.id, { id: 'root', do: [] } as unknown as Plan);
  await finishBuild(api.t.db, b.id, status);
  return b.name;
}

const statusWord = (svg: string): string | undefined => /y="14">(passing|failing|errored|aborted|unknown)<\/text>\s*<\/g>/.exec(svg)?.[1];

test('a job without builds is unknown; then its latest finished build decides, with no caching', async () => {
  const before = await api.app.inject({ url: `${base}/jobs/ship/badge`, headers: api.auth() });
  assert.equal(before.statusCode, 200);
  assert.equal(statusWord(before.body), 'unknown');
  await runBuild('ship', 'failed');
  const failing = await api.app.inject({ url: `${base}/jobs/ship/badge`, headers: api.auth() });
  assert.equal(failing.headers['content-type'], 'image/svg+xml');
  assert.equal(failing.headers['cache-control'], 'no-cache, no-store, must-revalidate');
  assert.equal(statusWord(failing.body), 'failing');
  await runBuild('ship', 'succeeded');
  assert.equal(statusWord((await api.app.inject({ url: `${base}/jobs/ship/badge`, headers: api.auth() })).body), 'passing');
});

test("the pipeline's badge shows its worst job; ?title= renames it", async () => {
  await runBuild('unit', 'errored');
  const res = await api.app.inject({ url: `${base}/badge?title=demo`, headers: api.auth() });
  assert.equal(statusWord(res.body), 'errored');
  assert.match(res.body, /y="14">demo<\/text>/);
  const long = await api.app.inject({ url: `${base}/badge?title=${'x'.repeat(65)}`, headers: api.auth() });
  assert.equal(long.statusCode, 400);
  assert.match(long.body, /title/);
});

test('badges of a private pipeline need a login; once exposed, anybody reads them; an unknown job is 404', async () => {
  assert.equal((await api.app.inject({ url: `${base}/jobs/ship/badge` })).statusCode, 401);
  assert.equal((await api.app.inject({ url: `${base}/badge` })).statusCode, 401);
  assert.equal((await api.app.inject({ method: 'PUT', url: `${base}/expose`, headers: api.auth() })).statusCode, 200);
  try {
    const open = await api.app.inject({ url: `${base}/jobs/ship/badge` });
    assert.equal(open.statusCode, 200);
    assert.equal(statusWord(open.body), 'passing');
    assert.equal((await api.app.inject({ url: `${base}/jobs/nope/badge` })).statusCode, 404);
  } finally {
    await api.app.inject({ method: 'PUT', url: `${base}/hide`, headers: api.auth() });
  }
});

test("the old badge URL of team main moves permanently to the team's, keeping the query", async () => {
  const res = await api.app.inject({ url: '/api/v1/pipelines/demo/jobs/ship/badge?title=x' });
  assert.equal(res.statusCode, 301);
  assert.equal(res.headers.location, '/api/v1/teams/main/pipelines/demo/jobs/ship/badge?title=x');
});

test('cc.xml lists each job with a finished build for members; others see public pipelines only', async () => {
  const res = await api.app.inject({ url: '/api/v1/teams/main/cc.xml', headers: api.auth() });
  assert.equal(res.statusCode, 200);
  assert.match(String(res.headers['content-type']), /^application\/xml/);
  const projects = [...res.body.matchAll(/<Project ([^>]*)>/g)].map((m) => Object.fromEntries([...m[1]!.matchAll(/(\w+)="([^"]*)"/g)].map((a) => [a[1], a[2]])));
  assert.deepEqual(projects.map((p) => [p.name, p.lastBuildStatus, p.activity]), [
    ['demo/unit', 'Exception', 'Sleeping'],
    ['demo/ship', 'Success', 'Sleeping'],
  ]);
  assert.equal(projects[1]!.webUrl, 'http://jetway.example:8080/#/teams/main/pipelines/demo/jobs/ship');
  assert.match(projects[1]!.lastBuildTime!, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
  assert.equal(projects[1]!.lastBuildLabel, '2');
  // not logged in: the pipeline is private, so nothing
  assert.equal((await api.app.inject({ url: '/api/v1/teams/main/cc.xml' })).body, '<Projects></Projects>');
  assert.equal((await api.app.inject({ url: '/api/v1/teams/nope/cc.xml', headers: api.auth() })).statusCode, 404);
});
