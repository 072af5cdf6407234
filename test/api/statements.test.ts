// SQL statements per API request (issue 23: "count the database round trips"): the read routes
// the UI and fly poll, on a pipeline with builds, each with the number of statements it sends
// today. The token and the teams are kept by the node (src/api/lookup-cache.ts) after the first
// request: they cost none. A change that adds a query to a route fails here and says which; one
// that removes some updates the row (BENCHMARKS.md has the times).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startApi, type TestApi } from './helpers.ts';
import { startTestNode, type TestNode } from '../support/node.ts';
import type { Database, Queryable } from '../../src/db/database.ts';

let node: TestNode;
let api: TestApi;
let statements = 0;
/** the text of every statement counted */
let texts: string[] = [];

/** The database with every statement counted (in transactions too). */
function counting<T extends Queryable>(db: T): T {
  return new Proxy(db, {
    get(target, prop, receiver) {
      if (prop === 'query') {
        return (text: string, values?: readonly unknown[]) => {
          statements++;
          texts.push(text);
          return target.query(text, values);
        };
      }
      if (prop === 'transaction') return <R>(fn: (tx: Queryable) => Promise<R>) => target.transaction((tx) => fn(counting(tx)));
      const v: unknown = Reflect.get(target, prop, receiver);
      return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
    },
  });
}

const PIPELINE = `
resources:
- name: repo
  type: mock
  source: {initial_version: v1}
- name: other
  type: mock
jobs:
- name: unit
  plan:
  - get: repo
    trigger: true
  - get: other
- name: ship
  plan:
  - get: repo
    passed: [unit]
`;

before(async () => {
  node = await startTestNode();
  api = await startApi({ db: counting(node.tdb.db as Database) }, node.tdb);
  const id = await node.setPipeline('p', PIPELINE);
  await node.checkResource(id, 'repo');
  await node.checkResource(id, 'other');
  for (let i = 0; i < 3; i++) await node.trigger(id, 'unit');
  await node.trigger(id, 'ship');
  // the set-up's changes heard first: one heard late would make a kept pipeline be read again
  await api.lookups.heardUpTo();
  // the first request reads the token and the teams, which the node keeps from then on
  statements = 0;
  assert.equal((await api.app.inject({ url: '/api/v1/info', headers: api.auth() })).statusCode, 200);
  assert.equal((await api.app.inject({ url: '/api/v1/teams', headers: api.auth() })).statusCode, 200);
  assert.equal(statements, 3, 'the token and the teams, then the teams route');
});
after(async () => {
  await api.close();
  await node.stop();
});

const P = '/api/v1/teams/main/pipelines/p';
// the token and the teams are kept (read by the first request, in before()); the pipeline a
// path names is read by the first request that names it ([P]) and kept
const rows: [string, number][] = [
  ['/api/v1/info', 0],
  ['/api/v1/pipelines', 1],
  ['/api/v1/teams/main/pipelines', 1],
  [P, 1],
  [`${P}/jobs`, 4],
  // its builds in one statement; its inputs and outputs as the jobs list above kept them
  [`${P}/jobs/unit`, 2],
  // the job found inside the page's statement
  [`${P}/jobs/unit/builds`, 1],
  ['/api/v1/builds', 1],
  [`${P}/resources`, 1],
  [`${P}/resources/repo`, 1],
  [`${P}/resources/repo/versions`, 2],
  // the first: the jobs, then their inputs and outputs (kept per config version: next test)
  ['/api/v1/jobs', 4],
  ['/api/v1/resources', 2],
];
for (const [url, expected] of rows) {
  test(`GET ${url}: ${expected} statements`, async () => {
    statements = 0;
    const res = await api.app.inject({ url, headers: api.auth() });
    assert.equal(res.statusCode, 200, res.body);
    assert.equal(statements, expected);
  });
}

test('GET /api/v1/jobs and a pipeline\'s jobs again: 2 statements each, the config\'s part kept; a pipeline set again is read again', async () => {
  const count = async (url = '/api/v1/jobs'): Promise<{ n: number; body: unknown }> => {
    statements = 0;
    const res = await api.app.inject({ url, headers: api.auth() });
    assert.equal(res.statusCode, 200, res.body);
    return { n: statements, body: res.json() };
  };
  const first = await count();
  const again = await count();
  assert.equal(again.n, 2);
  assert.deepEqual(again.body, first.body);
  const pipelineJobs = await count(`${P}/jobs`);
  assert.equal(pipelineJobs.n, 2, 'its jobs, their builds (the pipeline is kept)');
  const unitOf = (body: unknown) => (body as { name: string; inputs: { name: string; trigger: boolean }[] }[]).find((j) => j.name === 'unit');
  // a new config: the job `unit`'s input `other` triggers now, and the list says so at once
  await node.setPipeline('p', PIPELINE.replace('  - get: other\n', '  - get: other\n    trigger: true\n'));
  // set behind this API's back (not through it): its kept pipeline goes once the change is heard
  await api.lookups.heardUpTo();
  // a job's page before its pipeline's list was asked for the new config: read, not the old one
  const jobPage = await count(`${P}/jobs/unit`);
  assert.equal(jobPage.n, 5, 'the pipeline set again, then the job page reads the new config\'s inputs and outputs itself');
  assert.deepEqual(
    (jobPage.body as { inputs: { name: string; trigger: boolean }[] }).inputs.map((i) => [i.name, i.trigger]),
    [
      ['repo', true],
      ['other', true],
    ],
  );
  const after = await count();
  assert.equal(after.n, 4);
  const unit = (after.body as { name: string; pipeline_name: string; inputs?: { name: string }[] }[]).find((j) => j.pipeline_name === 'p' && j.name === 'unit');
  assert.deepEqual(unit?.inputs, [
    { name: 'repo', resource: 'repo', trigger: true },
    { name: 'other', resource: 'other', trigger: true },
  ]);
  const after2 = await count(`${P}/jobs`);
  assert.equal(after2.n, 4, 'the new config read (the pipeline was read again, and kept, by the job page)');
  assert.deepEqual(
    unitOf(after2.body)?.inputs.map((i) => [i.name, i.trigger]),
    [
      ['repo', true],
      ['other', true],
    ],
  );
  assert.notDeepEqual(unitOf(pipelineJobs.body), unitOf(after2.body));
  await node.setPipeline('p', PIPELINE);
});

// no route's count grows with what it lists (no query per job, build or resource): a pipeline
// with five times the jobs and resources, and more builds, costs the same statements
test('a pipeline with ten jobs and ten resources costs the same statements per route as one with two', async () => {
  const resources = Array.from({ length: 10 }, (_, i) => `- name: r${i}\n  type: mock\n  source: {initial_version: v1}`).join('\n');
  const jobs = Array.from({ length: 10 }, (_, i) => `- name: j${i}\n  plan:\n  - get: r${i}`).join('\n');
  const id = await node.setPipeline('big', `resources:\n${resources}\njobs:\n${jobs}\n`);
  for (let i = 0; i < 10; i++) await node.checkResource(id, `r${i}`);
  for (let i = 0; i < 10; i++) await node.trigger(id, `j${i}`);
  // heard before counting: a set-up notification heard after the first request read the pipeline
  // makes the next read it again (before migration 0029 each successful build sent one: the CI of
  // 5b1b147 counted [5, 2, …])
  await api.lookups.heardUpTo();
  const Q = '/api/v1/teams/main/pipelines/big';
  const count = async (url: string): Promise<number> => {
    statements = 0;
    const res = await api.app.inject({ url, headers: api.auth() });
    assert.equal(res.statusCode, 200, res.body);
    return statements;
  };
  assert.deepEqual(
    [await count(`${Q}/jobs`), await count(`${Q}/resources`), await count('/api/v1/builds'), await count('/api/v1/jobs'), await count('/api/v1/resources')],
    // the first request naming the new pipeline reads it (its jobs list); the others keep it
    [5, 1, 1, 4, 2],
  );
});

// The web node prepares a statement per distinct text, and names only its first 2,000 texts
// (src/db/database.ts): a route whose text carried an id would take one per resource, build or
// job, and at a thousand pipelines leave every later statement unprepared.
test("two resources' version pages, two jobs' build pages, two builds, two page sizes: the same statement texts", async () => {
  const textsOf = async (url: string): Promise<string[]> => {
    // the second request: the pipeline the path names is kept by then
    await api.app.inject({ url, headers: api.auth() });
    texts = [];
    const res = await api.app.inject({ url, headers: api.auth() });
    assert.equal(res.statusCode, 200, res.body);
    return [...texts];
  };
  for (const [a, b] of [
    [`${P}/resources/repo/versions`, `${P}/resources/other/versions`],
    [`${P}/resources/repo/versions?limit=1`, `${P}/resources/other/versions?limit=1`],
    [`${P}/jobs/unit/builds`, `${P}/jobs/ship/builds`],
    [`${P}/jobs/unit`, `${P}/jobs/ship`],
    ['/api/v1/builds/1', '/api/v1/builds/2'],
    // a page's size is a parameter, or one of a few sizes written in (src/db/builds.ts pageFetchSize)
    ['/api/v1/builds?limit=11', '/api/v1/builds?limit=15'],
    [`${P}/jobs/unit/builds?limit=11`, `${P}/jobs/unit/builds?limit=15`],
    [`${P}/resources/repo/versions?limit=1`, `${P}/resources/repo/versions?limit=2`],
  ]) {
    const [ta, tb] = [await textsOf(a!), await textsOf(b!)];
    assert.ok(ta.length > 0, a);
    assert.deepEqual(ta, tb, `${a} and ${b}`);
  }
});
