// Every fixture case through the in-memory store.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { computeInputs } from '../../src/scheduler/algorithm/compute.ts';
import {
  allCases,
  caseInputs,
  caseJobId,
  caseStoreData,
  compareCaseResult,
} from '../support/algorithm/cases.ts';
import { MemoryVersionsStore } from '../../src/scheduler/algorithm/memory-store.ts';
import { loadCases } from './cases.ts';

for (const { testCase } of allCases(loadCases())) {
  test(`memory ${testCase.id}: ${testCase.name}`, async () => {
    const iterations = testCase.iterations ?? 1;
    for (let n = 0; n < iterations; n++) {
      const store = new MemoryVersionsStore(caseStoreData(testCase.db));
      const result = await computeInputs(store, caseJobId(testCase), caseInputs(testCase));
      assert.deepEqual(compareCaseResult(testCase, result), []);
    }
  });
}
