// first_occurrence (docs/concourse-semantics.md §4.1) through both stores.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { BatchedVersionsStore } from '../../src/db/algorithm-batch.ts';
import { PostgresVersionsStore } from '../../src/db/algorithm-store.ts';
import { caseStoreData, caseVersion } from '../support/algorithm/cases.ts';
import { versionDigest } from '../../src/model/version.ts';
import { MemoryVersionsStore } from '../../src/scheduler/algorithm/memory-store.ts';
import { loadCaseDb } from '../support/algorithm/pg-fixtures.ts';
import type { VersionsStore } from '../../src/scheduler/algorithm/types.ts';
import { useTestDatabase } from '../support/db.ts';
import { caseDb } from './helpers.ts';

// j1 (id 1): build 10 used v1 as "in"; build 11 used v2 as "other" and output v3; build 12 is
// pending with input v4 as "in". j2 (id 2): build 20 used v5 as "in".
const fixture = caseDb({
  jobs: { j1: 1, j2: 2 },
  resources: { r: { id: 1, has_scope: true } },
  versions: { r: ['v1', 'v2', 'v3', 'v4', 'v5'].map((v, i) => ({ version: v, check_order: i + 1, disabled: false })) },
  builds: [
    { id: 10, job: 'j1', status: 'succeeded', rerun_of: null },
    { id: 11, job: 'j1', status: 'failed', rerun_of: null },
    { id: 12, job: 'j1', status: 'pending', rerun_of: null },
    { id: 20, job: 'j2', status: 'succeeded', rerun_of: null },
  ],
  build_inputs: [
    { build_id: 10, resource: 'r', version: 'v1', name: 'in' },
    { build_id: 11, resource: 'r', version: 'v2', name: 'other' },
    { build_id: 12, resource: 'r', version: 'v4', name: 'in' },
    { build_id: 20, resource: 'r', version: 'v5', name: 'in' },
  ],
  build_outputs: [{ build_id: 11, resource: 'r', version: 'v3' }],
});

const checks = (name: string, store: () => VersionsStore): void => {
  describe(`first occurrence (${name})`, () => {
    const first = (input: string, version: string): Promise<boolean> =>
      store().isFirstOccurrence(1, input, versionDigest(caseVersion(version)), 1);

    test('a version the job used under the same name before is not a first occurrence', async () => {
      assert.equal(await first('in', 'v1'), false);
      assert.equal(await first('other', 'v2'), false, 'used by the last non-pending build');
    });
    test('another input name, another job, or only an output still count as first', async () => {
      assert.equal(await first('other', 'v1'), true);
      assert.equal(await first('in', 'v5'), true);
      assert.equal(await first('in', 'v3'), true);
    });
    test('inputs of a pending build count through the history check', async () => {
      assert.equal(await first('in', 'v4'), false);
    });
  });
};

checks('memory', () => new MemoryVersionsStore(caseStoreData(fixture)));

const pg = useTestDatabase((db) => loadCaseDb(db, fixture));
checks('postgres', () => {
  return new PostgresVersionsStore(pg.db);
});
checks('postgres, batched', () => new BatchedVersionsStore(pg.db));
