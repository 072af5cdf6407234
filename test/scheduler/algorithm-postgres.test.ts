// Every fixture case through the real schema and the Postgres store: one database for the file,
// emptied between cases. A second pass uses a page size of 1 to exercise keyset pagination.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { PostgresVersionsStore } from '../../src/db/algorithm-store.ts';
import { allCases, caseInputs, caseJobId, compareCaseResult } from '../support/algorithm/cases.ts';
import { computeInputs } from '../../src/scheduler/algorithm/compute.ts';
import { clearCaseDb, loadCaseDb } from '../support/algorithm/pg-fixtures.ts';
import { useTestDatabase } from '../support/db.ts';
import { loadCases } from './cases.ts';

const pg = useTestDatabase();

const cases = allCases(loadCases());

for (const pageSize of [100, 1]) {
  describe(`postgres store, page size ${pageSize}`, () => {
    for (const { testCase } of cases) {
      test(`postgres ${testCase.id}: ${testCase.name}`, async () => {
        await loadCaseDb(pg.db, testCase.db);
        try {
          const store = new PostgresVersionsStore(pg.db, { pageSize });
          const result = await computeInputs(store, caseJobId(testCase), caseInputs(testCase));
          assert.deepEqual(compareCaseResult(testCase, result), []);
        } finally {
          await clearCaseDb(pg.db);
        }
      });
    }
  });
}
