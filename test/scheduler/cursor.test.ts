// Build cursor predicates (newer/older with reruns), build orderings and unusedBuilds, through
// the in-memory store and the Postgres store (with a tiny page size, to cross page boundaries).
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { PostgresVersionsStore } from '../../src/db/algorithm-store.ts';
import { caseStoreData, caseVersion } from '../support/algorithm/cases.ts';
import { compareBuildsNewestFirst, compareBuildsOldestFirst, isNewerBuild, isOlderBuild } from '../../src/scheduler/algorithm/cursor.ts';
import { versionDigest } from '../../src/model/version.ts';
import { unusedBuilds } from '../../src/scheduler/algorithm/group.ts';
import { MemoryVersionsStore } from '../../src/scheduler/algorithm/memory-store.ts';
import { loadCaseDb } from '../support/algorithm/pg-fixtures.ts';
import type { BuildCursor, VersionsStore } from '../../src/scheduler/algorithm/types.ts';
import { useTestDatabase } from '../support/db.ts';
import { caseDb, collect } from './helpers.ts';

const b = (id: number, rerunOf: number | null = null): BuildCursor => ({ id, rerunOf });

describe('cursor predicates', () => {
  test('against an original build: reruns of it are neither newer nor older', () => {
    const c = b(5);
    assert.equal(isNewerBuild(b(6), c), true);
    assert.equal(isOlderBuild(b(6), c), false);
    assert.equal(isOlderBuild(b(4), c), true);
    assert.equal(isNewerBuild(b(4), c), false);
    assert.equal(isNewerBuild(b(7, 5), c), false);
    assert.equal(isOlderBuild(b(7, 5), c), false);
    assert.equal(isOlderBuild(b(9, 3), c), true, 'a rerun of an older build is older');
    assert.equal(isNewerBuild(b(8, 6), c), true, 'a rerun of a newer build is newer');
    assert.equal(isNewerBuild(c, c) || isOlderBuild(c, c), false);
  });

  test('against a rerun: its original and earlier reruns are older, later reruns newer', () => {
    const c = b(7, 5);
    assert.equal(isOlderBuild(b(5), c), true, 'the original');
    assert.equal(isOlderBuild(b(6, 5), c), true, 'an earlier rerun');
    assert.equal(isNewerBuild(b(8, 5), c), true, 'a later rerun');
    assert.equal(isNewerBuild(b(6), c), true, 'a build after the original');
    assert.equal(isOlderBuild(b(6), c), false, 'a build after the original, with a lower id than the rerun, is not older');
    assert.equal(isOlderBuild(b(4), c), true);
    assert.equal(isOlderBuild(b(9, 3), c), true, 'a rerun of an older build, with a higher id');
    assert.equal(isNewerBuild(b(9, 3), c), false);
    assert.equal(isNewerBuild(c, c) || isOlderBuild(c, c), false);
  });

  test('against a rerun: a rerun of a newer original is newer, even with a lower id than the cursor', () => {
    // c reruns 5 as build 9; x reruns 6 (newer than 5) as build 7
    assert.equal(isOlderBuild(b(7, 6), b(9, 5)), false);
    assert.equal(isNewerBuild(b(7, 6), b(9, 5)), true);
  });

  test('newest-first order puts a rerun with its original, before it', () => {
    const sorted = [b(1), b(2), b(3), b(4, 2), b(5), b(6, 2)].sort(compareBuildsNewestFirst).map((x) => x.id);
    assert.deepEqual(sorted, [5, 3, 6, 4, 2, 1]);
  });

  test('oldest-first order is its reverse: an original, then its reruns, then later builds', () => {
    const sorted = [b(5), b(6, 2), b(3), b(1), b(4, 2), b(2)].sort(compareBuildsOldestFirst).map((x) => x.id);
    assert.deepEqual(sorted, [1, 2, 4, 6, 3, 5]);
  });
});

// job a: 1, 2, 3 (failed), 4 (rerun of 2), 5, 6 (rerun of 5), 7. Builds 1, 2, 4 output v-a,
// the others v-b.
const fixture = caseDb({
  jobs: { a: 1, current: 2 },
  resources: { r: { id: 1, has_scope: true } },
  versions: {
    r: [
      { version: 'v-a', check_order: 1, disabled: false },
      { version: 'v-b', check_order: 2, disabled: false },
    ],
  },
  builds: [
    { id: 1, job: 'a', status: 'succeeded', rerun_of: null },
    { id: 2, job: 'a', status: 'succeeded', rerun_of: null },
    { id: 3, job: 'a', status: 'failed', rerun_of: null },
    { id: 4, job: 'a', status: 'succeeded', rerun_of: 2 },
    { id: 5, job: 'a', status: 'succeeded', rerun_of: null },
    { id: 6, job: 'a', status: 'succeeded', rerun_of: 5 },
    { id: 7, job: 'a', status: 'succeeded', rerun_of: null },
  ],
  successful_build_outputs: [1, 2, 4, 5, 6, 7].map((id) => ({
    build_id: id,
    job: 'a',
    rerun_of: id === 4 ? 2 : id === 6 ? 5 : null,
    outputs: [{ resource: 'r', version: [1, 2, 4].includes(id) ? 'v-a' : 'v-b' }],
  })),
});

const listings = (name: string, store: () => VersionsStore): void => {
  describe(`build listings (${name})`, () => {
    const unused = async (cursor: BuildCursor, constraints?: Record<string, string[]>): Promise<string[]> =>
      (await collect(unusedBuilds(store(), 1, cursor, constraints))).map((x) => `${x.id}${x.hasNext ? '+' : ''}`);

    test('successfulBuilds: succeeded only, newest first', async () => {
      assert.deepEqual((await collect(store().successfulBuilds(1))).map((x) => x.id), [7, 6, 5, 4, 2, 1]);
    });

    test('unusedBuilds after a rerun cursor: newer ones (oldest first, hasNext), then it and older', async () => {
      assert.deepEqual(await unused(b(4, 2)), ['5+', '6+', '7+', '4', '2', '1']);
    });

    test('unusedBuilds after an original cursor never offers its reruns', async () => {
      assert.deepEqual(await unused(b(2)), ['5+', '6+', '7+', '2', '1']);
      assert.deepEqual(await unused(b(5)), ['7+', '5', '4', '2', '1']);
    });

    test('unusedBuilds with constraints filters only the older part', async () => {
      const constraints = { '1': [versionDigest(caseVersion('v-a'))] };
      assert.deepEqual(await unused(b(6, 5), constraints), ['7+', '4', '2', '1']);
      assert.deepEqual(
        (await collect(store().successfulBuildsConstrained(1, constraints))).map((x) => x.id),
        [4, 2, 1],
      );
    });
  });
};

listings('memory', () => new MemoryVersionsStore(caseStoreData(fixture)));

const pg = useTestDatabase((db) => loadCaseDb(db, fixture));
listings('postgres, page size 2', () => {
  return new PostgresVersionsStore(pg.db, { pageSize: 2 });
});
