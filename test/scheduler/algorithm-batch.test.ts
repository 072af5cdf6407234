// The batched store of a scheduling pass (src/db/algorithm-batch.ts): the reads of jobs running
// together are one statement per kind, and each job gets exactly the answer the plain store
// reads for it alone (answers must not be crossed between the keys of a batch).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BatchedVersionsStore } from '../../src/db/algorithm-batch.ts';
import { PostgresVersionsStore } from '../../src/db/algorithm-store.ts';
import type { Database, Queryable } from '../../src/db/database.ts';
import { versionDigest } from '../../src/model/version.ts';
import type { VersionsStore } from '../../src/scheduler/algorithm/types.ts';
import { caseVersion } from '../support/algorithm/cases.ts';
import { loadCaseDb } from '../support/algorithm/pg-fixtures.ts';
import { useTestDatabase } from '../support/db.ts';
import { caseDb, collect } from './helpers.ts';

const versions = (names: string[], disabled: string[] = []) =>
  names.map((version, i) => ({ version, check_order: i + 1, disabled: disabled.includes(version) }));

// r1: latest a3; r2: b3 disabled, so latest b2; r3: no scope (no versions). j1 used a1 and b1;
// j2 used a2 (build 21) and has three succeeded builds, one of them a rerun; j3 never ran.
const fixture = caseDb({
  jobs: { j1: 1, j2: 2, j3: 3 },
  resources: { r1: { id: 1, has_scope: true }, r2: { id: 2, has_scope: true }, r3: { id: 3, has_scope: false } },
  versions: { r1: versions(['a1', 'a2', 'a3']), r2: versions(['b1', 'b2', 'b3'], ['b3']), r3: [] },
  builds: [
    { id: 10, job: 'j1', status: 'succeeded', rerun_of: null },
    { id: 20, job: 'j2', status: 'succeeded', rerun_of: null },
    { id: 21, job: 'j2', status: 'failed', rerun_of: null },
    { id: 22, job: 'j2', status: 'succeeded', rerun_of: null },
    { id: 23, job: 'j2', status: 'succeeded', rerun_of: 20 },
  ],
  build_inputs: [
    { build_id: 10, resource: 'r1', version: 'a1', name: 'in' },
    { build_id: 10, resource: 'r2', version: 'b1', name: 'other' },
    { build_id: 21, resource: 'r1', version: 'a2', name: 'in' },
  ],
  successful_build_outputs: [
    { build_id: 20, job: 'j2', rerun_of: null, outputs: [{ resource: 'r1', version: 'a1' }] },
    { build_id: 22, job: 'j2', rerun_of: null, outputs: [{ resource: 'r2', version: 'b2' }, { resource: 'r1', version: 'a3' }] },
  ],
});

const pg = useTestDatabase((db) => loadCaseDb(db, fixture));

/** The database with its statements counted. */
function counting(db: Database): { db: Queryable; count: () => number } {
  let n = 0;
  return { db: { query: (text: string, values?: readonly unknown[]) => (n++, db.query(text, values)) } as Queryable, count: () => n };
}

const d = (v: string): string => versionDigest(caseVersion(v));

/** Asks both stores every key: the batched one all at once (one statement), the plain one a key at a time. */
async function compare<K, V>(keys: K[], ask: (store: VersionsStore, key: K) => Promise<V>): Promise<V[]> {
  const plain = new PostgresVersionsStore(pg.db);
  const expected = [];
  for (const key of keys) expected.push(await ask(plain, key));
  const c = counting(pg.db);
  const batched = new BatchedVersionsStore(c.db);
  const got = await Promise.all(keys.map((key) => ask(batched, key)));
  assert.deepEqual(got, expected);
  assert.equal(c.count(), 1, 'one statement for all the keys');
  return got;
}

test('latest versions of several resources: one statement, each its own (a disabled version skipped, no scope none)', async () => {
  const got = await compare([1, 2, 3, 1], (s, r) => s.latestVersion(r));
  assert.deepEqual(
    got.map((v) => v?.digest),
    [d('a3'), d('b2'), undefined, d('a3')],
  );
});

test('the versions jobs used: one statement, per job and resource', async () => {
  const got = await compare(
    [
      [1, 1],
      [1, 2],
      [2, 1],
      [3, 1],
      [2, 2],
    ] as const,
    (s, [j, r]) => s.usedMaxCheckOrder(j, r),
  );
  assert.deepEqual(got, [1, 1, 2, undefined, undefined]);
});

test('first occurrences: one statement, per job, input name, version and resource', async () => {
  const got = await compare(
    [
      [1, 'in', 'a1', 1],
      [1, 'other', 'a1', 1],
      [2, 'in', 'a2', 1],
      [3, 'in', 'a1', 1],
      [1, 'other', 'b1', 2],
    ] as const,
    (s, [j, name, v, r]) => s.isFirstOccurrence(j, name, d(v), r),
  );
  assert.deepEqual(got, [false, true, false, true, false]);
});

test("builds' outputs: one statement, each build its own (none for a build without)", async () => {
  const got = await compare([22, 20, 21], (s, b) => s.buildOutputs(b));
  assert.deepEqual(got, [
    [
      { resourceId: 1, digest: d('a3') },
      { resourceId: 2, digest: d('b2') },
    ],
    [{ resourceId: 1, digest: d('a1') }],
    [],
  ]);
});

test("jobs' succeeded builds, first page: one statement, newest first, reruns beside their build", async () => {
  const got = await compare([2, 1, 3], (s, j) => collect(s.successfulBuilds(j)));
  assert.deepEqual(
    got.map((builds) => builds.map((b) => b.id)),
    [[22, 23, 20], [10], []],
  );
});

test('a later page is read from where the batched first page ended', async () => {
  const store = new BatchedVersionsStore(pg.db, { pageSize: 1 });
  const [j2, j1] = await Promise.all([collect(store.successfulBuilds(2)), collect(store.successfulBuilds(1))]);
  assert.deepEqual(
    j2.map((b) => b.id),
    [22, 23, 20],
  );
  assert.deepEqual(
    j1.map((b) => b.id),
    [10],
  );
});

test('versions by digest, their existence and whether they are disabled: one statement each', async () => {
  const keys = [
    [1, 'a2'],
    [2, 'b3'],
    [1, 'b1'],
    [3, 'a1'],
  ] as const;
  assert.deepEqual(
    await compare([...keys], (s, [r, v]) => s.versionExists(r, d(v))),
    [true, true, false, false],
  );
  assert.deepEqual(
    await compare([...keys], (s, [r, v]) => s.versionIsDisabled(r, d(v))),
    [false, true, false, false],
  );
  assert.deepEqual(
    await compare([...keys], (s, [r, v]) => s.versionByDigest(r, d(v))),
    [caseVersion('a2'), caseVersion('b3'), undefined, undefined],
  );
});
