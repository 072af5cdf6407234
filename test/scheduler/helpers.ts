// Small fixtures for the algorithm unit tests, written in the case-file `db` shape so that one
// description feeds both the in-memory store and the Postgres schema.
import type { CaseDb } from '../support/algorithm/cases.ts';

export function caseDb(partial: Partial<CaseDb>): CaseDb {
  return {
    jobs: {},
    resources: {},
    versions: {},
    builds: [],
    build_inputs: [],
    build_outputs: [],
    successful_build_outputs: [],
    build_pipes: [],
    ...partial,
  };
}

export async function collect<T>(items: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const item of items) out.push(item);
  return out;
}
