// The build lists read only listed builds (migration 0027): with 20,000 check builds newer than
// a page of job builds, a page is read from builds_listed_idx, not by stepping over the checks.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { listBuilds } from '../../src/db/builds.ts';
import type { Queryable, QueryResult, Row } from '../../src/db/database.ts';
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

test('a page of 100 job builds under 20,000 newer check builds is read from the listed builds index', async () => {
  const { db } = t;
  const config = loadPipeline('resources:\n- {name: r, type: mock, source: {}}\njobs:\n- name: j\n  plan:\n  - get: r\n').config!;
  const { pipelineId } = await savePipeline(db, { team: 'main', name: 'p', config });
  await db.query(
    `INSERT INTO builds (name, job_id, pipeline_id, team_id, status, completed)
     SELECT g::text, j.id, j.pipeline_id, p.team_id, 'succeeded', true FROM jobs j JOIN pipelines p ON p.id = j.pipeline_id, generate_series(1, 300) g
      WHERE j.pipeline_id = $1`,
    [pipelineId],
  );
  await db.query(
    `INSERT INTO builds (name, resource_id, pipeline_id, team_id, status, completed)
     SELECT 'check', r.id, r.pipeline_id, p.team_id, 'succeeded', true FROM resources r JOIN pipelines p ON p.id = r.pipeline_id, generate_series(1, 20000) g
      WHERE r.pipeline_id = $1`,
    [pipelineId],
  );
  await db.query('ANALYZE builds');
  const statements: { text: string; values: readonly unknown[] }[] = [];
  const page = await listBuilds(recording(db, statements), { teamIds: [1], orPublic: true }, { limit: 100 });
  assert.equal(page.builds.length, 100);
  assert.ok(page.builds.every((b) => b.jobName === 'j'), 'no check build listed');
  assert.equal(page.builds[0]!.name, '300');
  const read = statements.find((s) => /ORDER BY b\.id DESC/.test(s.text))!;
  const plan = (await db.query<{ 'QUERY PLAN': string }>(`EXPLAIN (ANALYZE, BUFFERS) ${read.text}`, read.values)).rows.map((r) => r['QUERY PLAN']).join('\n');
  assert.match(plan, /builds_listed_idx/, plan);
  assert.doesNotMatch(plan, /Rows Removed by Filter: [0-9]{4,}/, plan);
});
