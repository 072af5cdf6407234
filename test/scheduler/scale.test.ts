// The Postgres store on a large history: 10,000 versions, 2,000 upstream builds. Each resolution
// must read only what it needs (indexed lookups, lazily paged build lists).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PostgresVersionsStore } from '../../src/db/algorithm-store.ts';
import { computeInputs } from '../../src/scheduler/algorithm/compute.ts';
import { loadCaseDb } from '../support/algorithm/pg-fixtures.ts';
import { isResolveError, type AlgorithmInput, type ComputeResult } from '../../src/scheduler/algorithm/types.ts';
import { useTestDatabase } from '../support/db.ts';
import type { Queryable } from '../../src/db/database.ts';
import { caseDb } from './helpers.ts';

const VERSIONS = 10_000;
const UPSTREAM_BUILDS = 2_000;
const DIGEST = (expr: string): string => `encode(sha256(convert_to('{"ver":"v' || ${expr} || '"}', 'UTF8')), 'hex')`;

const pg = useTestDatabase(async (db) => {
  // jobs a=1, b=2, current=3; resource r=1
  await loadCaseDb(db, caseDb({ jobs: { a: 1, b: 2, current: 3 }, resources: { r: { id: 1, has_scope: true } } }));
  await db.query(
    `INSERT INTO resource_config_versions (resource_config_scope_id, version, version_sha256, check_order)
     SELECT (SELECT resource_config_scope_id FROM resources WHERE id = 1), jsonb_build_object('ver', 'v' || i), ${DIGEST('i')}, i
     FROM generate_series(1, ${VERSIONS}) AS i`,
  );
  const pipeline = (await db.query<{ id: number }>('SELECT id FROM pipelines')).rows[0]?.id;
  // a's build i (1..2000) output v(8000+i); b's build 5001 output v9500; current's build 6001 used v9000
  await db.query(
    `INSERT INTO builds (id, name, job_id, pipeline_id, team_id, status)
     SELECT i, i::text, 1, $1::int, 1, 'succeeded' FROM generate_series(1, ${UPSTREAM_BUILDS}) AS i
     UNION ALL SELECT 5001, '5001', 2, $1::int, 1, 'succeeded'
     UNION ALL SELECT 6001, '6001', 3, $1::int, 1, 'succeeded'`,
    [pipeline],
  );
  await db.query(
    `INSERT INTO successful_build_outputs (build_id, job_id, outputs)
     SELECT i, 1, jsonb_build_object('1', jsonb_build_array(${DIGEST('(8000 + i)')})) FROM generate_series(1, ${UPSTREAM_BUILDS}) AS i
     UNION ALL SELECT 5001, 2, jsonb_build_object('1', jsonb_build_array(${DIGEST('9500')}))
     UNION ALL SELECT 6001, 3, jsonb_build_object('1', jsonb_build_array(${DIGEST('9000')}))`,
  );
  await db.query(
    `INSERT INTO build_resource_config_version_inputs (build_id, resource_id, version_digest, name)
     VALUES (6001, 1, ${DIGEST('9000')}, 'x')`,
  );
  await db.query('INSERT INTO build_pipes (from_build_id, to_build_id) VALUES (1000, 6001)');
  await db.query('ANALYZE');
});

/**
 * Resolves through a store whose database counts the rows it returns: "reads only what it needs"
 * is asserted as a bound on rows read, not as a time (timings live in `npm run bench`).
 */
async function resolve(input: Partial<AlgorithmInput>): Promise<{ result: ComputeResult; rows: number }> {
  const { db } = pg;
  let rows = 0;
  const counting: Queryable = {
    query: async (text, values) => {
      const r = await db.query(text, values);
      rows += r.rows.length;
      return r;
    },
    transaction: (fn) => db.transaction(fn),
  } as Queryable;
  const store = new PostgresVersionsStore(counting);
  const result = await computeInputs(store, 3, [
    { name: 'x', resourceId: 1, passed: new Set(), useEvery: false, trigger: true, ...input },
  ]);
  return { result, rows };
}

function chosen(result: ComputeResult): { ver: string | undefined; builds: number[] } {
  const x = result.mapping.x;
  if (!x || isResolveError(x)) throw new Error(`unresolved: ${JSON.stringify(x)}`);
  return { ver: x.version.ver, builds: x.passedBuildIds };
}

test('latest and every without passed over 10,000 versions', async () => {
  const latest = await resolve({});
  assert.equal(chosen(latest.result).ver, `v${VERSIONS}`);
  const every = await resolve({ useEvery: true });
  assert.equal(chosen(every.result).ver, 'v9001');
  assert.equal(every.result.hasNext, true);
  assert.ok(latest.rows + every.rows < 50, `read ${latest.rows + every.rows} rows of ${VERSIONS} versions`);
});

test('passed: latest takes the newest upstream build; every steps to the next unused build', async () => {
  const latest = await resolve({ passed: new Set([1]) });
  assert.deepEqual(chosen(latest.result), { ver: `v${VERSIONS}`, builds: [UPSTREAM_BUILDS] });
  const every = await resolve({ passed: new Set([1]), useEvery: true });
  assert.deepEqual(chosen(every.result), { ver: 'v9001', builds: [1001] });
  assert.equal(every.result.hasNext, true);
  assert.ok(latest.rows + every.rows < 1_500, `read ${latest.rows + every.rows} rows`);
});

test('passed through two jobs walks back 500 upstream builds lazily', async () => {
  const { result, rows } = await resolve({ passed: new Set([1, 2]) });
  assert.deepEqual(chosen(result), { ver: 'v9500', builds: [1500, 5001] });
  // paged: about the 500 builds walked (plus a page), never the whole 10,000-version history
  assert.ok(rows < 3_000, `read ${rows} rows`);
});
