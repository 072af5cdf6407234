// The build lists read their page from an index in the page's order, as the web node runs them
// (prepared: after five executions Postgres may keep a generic plan, src/db/explain.ts), not by
// stepping over builds that are not listed: check builds (migration 0027) or other jobs' builds
// (migration 0028).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { listBuilds, listJobBuilds, listJobBuildsByName, pageFetchSize } from '../../src/db/builds.ts';
import type { Queryable, QueryResult, Row } from '../../src/db/database.ts';
import { explainPrepared } from '../../src/db/explain.ts';
import { savePipeline } from '../../src/db/pipelines.ts';
import { loadPipeline } from '../../src/config/index.ts';
import { useTestDatabase } from '../support/db.ts';

const t = useTestDatabase();

/** `q`, keeping the statements it runs. */
function recording(q: Queryable, out: { text: string; values: readonly unknown[] }[]): Queryable {
  return {
    query: <R extends Row = Row>(text: string, values: readonly unknown[] = []): Promise<QueryResult<R>> => {
      out.push({ text, values });
      return q.query<R>(text, values);
    },
    transaction: (fn) => q.transaction((tx) => fn(recording(tx, out))),
  };
}

/** The page's statement and its plan as prepared. */
async function pagePlan(statements: { text: string; values: readonly unknown[] }[]): Promise<string> {
  const read = statements.find((s) => /ORDER BY b\.id DESC/.test(s.text));
  assert.ok(read, 'a page statement');
  return explainPrepared(t.db, read.text, read.values);
}

let ids: { pipelineId: number; quiet: number; busy: number } | undefined;

/** Job `quiet`: 300 builds, then job `busy`: 20,000, then 20,000 check builds; all newer than quiet's. */
async function seeded(): Promise<{ pipelineId: number; quiet: number; busy: number }> {
  if (ids) return ids;
  const { db } = t;
  const config = loadPipeline(
    'resources:\n- {name: r, type: mock, source: {}}\njobs:\n- name: quiet\n  plan:\n  - get: r\n- name: busy\n  plan:\n  - get: r\n',
  ).config!;
  const { pipelineId } = await savePipeline(db, { team: 'main', name: 'p', config });
  const job = async (name: string): Promise<number> => (await db.query<{ id: number }>('SELECT id FROM jobs WHERE name = $1', [name])).rows[0]!.id;
  const [quiet, busy] = [await job('quiet'), await job('busy')];
  for (const [jobId, n] of [[quiet, 300], [busy, 20_000]] as const) {
    await db.query(
      `INSERT INTO builds (name, job_id, pipeline_id, team_id, status, completed)
       SELECT g::text, j.id, j.pipeline_id, p.team_id, 'succeeded', true FROM jobs j JOIN pipelines p ON p.id = j.pipeline_id, generate_series(1, $2::int) g
        WHERE j.id = $1`,
      [jobId, n],
    );
  }
  await db.query(
    `INSERT INTO builds (name, resource_id, pipeline_id, team_id, status, completed)
     SELECT 'check', r.id, r.pipeline_id, p.team_id, 'succeeded', true FROM resources r JOIN pipelines p ON p.id = r.pipeline_id, generate_series(1, 20000) g
      WHERE r.pipeline_id = $1`,
    [pipelineId],
  );
  await db.query('ANALYZE builds');
  ids = { pipelineId, quiet, busy };
  return ids;
}

test('a page of 100 builds under 20,000 newer check builds is read from the listed builds index', async () => {
  await seeded();
  const statements: { text: string; values: readonly unknown[] }[] = [];
  const page = await listBuilds(recording(t.db, statements), { teamIds: [1], orPublic: true }, { limit: 100 });
  assert.equal(page.builds.length, 100);
  assert.ok(page.builds.every((b) => b.jobName === 'busy'), 'no check build listed');
  assert.equal(page.builds[0]!.name, '20000');
  const plan = await pagePlan(statements);
  assert.doesNotMatch(plan, /Rows Removed by Filter: [0-9]{4,}/, plan);
  // a generic plan (its conditions name the parameters), not one made again at every execution
  assert.match(plan, /ANY \(\$1\)/, plan);
});

test("a page of a quiet job's builds, under 20,000 newer builds of another job, is read from the job's index", async () => {
  const { quiet } = await seeded();
  const statements: { text: string; values: readonly unknown[] }[] = [];
  const page = await listJobBuilds(recording(t.db, statements), quiet, { limit: 100 });
  assert.deepEqual(
    page.builds.map((b) => b.name),
    Array.from({ length: 100 }, (_, i) => String(300 - i)),
  );
  assert.deepEqual(page.next, { to: page.builds.at(-1)!.id - 1, limit: 100 });
  const plan = await pagePlan(statements);
  assert.match(plan, /builds_job_id_idx/, plan);
  assert.doesNotMatch(plan, /Rows Removed by Filter: [0-9]{4,}/, plan);
});

test("a quiet job's page named by the job's name: one statement, read from the job's index; a job no longer in the config has none", async () => {
  const { pipelineId } = await seeded();
  const statements: { text: string; values: readonly unknown[] }[] = [];
  const page = await listJobBuildsByName(recording(t.db, statements), pipelineId, 'quiet', { limit: 100 });
  assert.deepEqual(
    page?.builds.map((b) => b.name),
    Array.from({ length: 100 }, (_, i) => String(300 - i)),
  );
  assert.equal(statements.length, 1);
  const plan = await pagePlan(statements);
  assert.match(plan, /builds_job_id_idx/, plan);
  assert.doesNotMatch(plan, /Rows Removed by Filter: [0-9]{4,}/, plan);
  assert.equal(await listJobBuildsByName(t.db, pipelineId, 'nope'), undefined);
  await t.db.query("UPDATE jobs SET active = false WHERE name = 'quiet'");
  try {
    assert.equal(await listJobBuildsByName(t.db, pipelineId, 'quiet'), undefined, 'an inactive job lists nothing, as the route answers 404');
  } finally {
    await t.db.query("UPDATE jobs SET active = true WHERE name = 'quiet'");
  }
});

test("a page of a pipeline's builds, under 20,000 newer check builds of it, steps over none of them", async () => {
  const { pipelineId } = await seeded();
  const statements: { text: string; values: readonly unknown[] }[] = [];
  const page = await listBuilds(recording(t.db, statements), { pipelineId }, { limit: 100 });
  assert.equal(page.builds[0]!.name, '20000');
  assert.ok(page.builds.every((b) => b.jobName === 'busy'));
  const plan = await pagePlan(statements);
  assert.doesNotMatch(plan, /Rows Removed by Filter: [0-9]{4,}/, plan);
});

// what a page's statement asks for: its size and one more, rounded up to one of a few sizes
for (const [wanted, asked] of [
  [2, 2],
  [51, 51],
  [101, 101],
  [1001, 1001],
  [12, 21],
  [27, 51],
  [102, 201],
  [202, 501],
] as const) {
  test(`a page wanting ${wanted} rows asks for ${asked}`, () => {
    assert.equal(pageFetchSize(wanted), asked);
  });
}

test('every page size from 1 to 1,000 asks for one of at most 11 row counts (statement texts)', () => {
  const asked = new Set(Array.from({ length: 1000 }, (_, i) => pageFetchSize(i + 2)));
  assert.ok(asked.size <= 11, String(asked.size));
  for (let limit = 1; limit <= 1000; limit++) assert.ok(pageFetchSize(limit + 1) >= limit + 1 && pageFetchSize(limit + 1) <= 2.5 * (limit + 1));
});
