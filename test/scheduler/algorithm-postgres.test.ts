// Every fixture case through the real schema and the Postgres store: one database for the file,
// emptied between cases. A second pass uses a page size of 1 to exercise keyset pagination, and
// the batched store of a scheduling pass (db/algorithm-batch.ts) answers every case alike.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { BatchedVersionsStore } from '../../src/db/algorithm-batch.ts';
import { PostgresVersionsStore } from '../../src/db/algorithm-store.ts';
import { allCases, caseInputs, caseJobId, compareCaseResult } from '../support/algorithm/cases.ts';
import { computeInputs } from '../../src/scheduler/algorithm/compute.ts';
import { clearCaseDb, loadCaseDb } from '../support/algorithm/pg-fixtures.ts';
import { useTestDatabase } from '../support/db.ts';
import { loadCases } from './cases.ts';

const pg = useTestDatabase();

const cases = allCases(loadCases());

const stores = [
  ['postgres', PostgresVersionsStore],
  ['batched', BatchedVersionsStore],
] as const;

for (const [kind, Store] of stores) for (const pageSize of [100, 1]) {
  describe(`${kind} store, page size ${pageSize}`, () => {
    for (const { testCase } of cases) {
      test(`${kind} ${testCase.id}: ${testCase.name}`, async () => {
        await loadCaseDb(pg.db, testCase.db);
        try {
          const store = new Store(pg.db, { pageSize });
          const result = await computeInputs(store, caseJobId(testCase), caseInputs(testCase));
          assert.deepEqual(compareCaseResult(testCase, result), []);
        } finally {
          await clearCaseDb(pg.db);
        }
      });
    }
  });
}
