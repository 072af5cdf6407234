// `--postgres-max-conns` (src/web/options.ts parsePoolSize): the web node's Postgres pool, from 3
// (one connection listens, one holds the scheduler's locks, one works) to 1,000. One row, one test.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FlagError, parsePoolSize } from '../../src/web/options.ts';

const ERROR = (v: string): string => `--postgres-max-conns: '${v}' is not a number of connections from 3 (one listens, one holds the scheduler's locks, one works) to 1000`;
const rows: { given: string | undefined; expected?: number; error?: string }[] = [
  { given: undefined, expected: undefined },
  { given: '3', expected: 3 },
  { given: '10', expected: 10 },
  { given: '1000', expected: 1000 },
  { given: '2', error: ERROR('2') },
  { given: '0', error: ERROR('0') },
  { given: '1001', error: ERROR('1001') },
  { given: '-5', error: ERROR('-5') },
  { given: '4.5', error: ERROR('4.5') },
  { given: '1e2', error: ERROR('1e2') },
  { given: '', error: ERROR('') },
  { given: 'ten', error: ERROR('ten') },
];
for (const row of rows) {
  test(`parsePoolSize(${JSON.stringify(row.given)})`, () => {
    if (row.error === undefined) {
      assert.equal(parsePoolSize(row.given), row.expected);
      return;
    }
    assert.throws(
      () => parsePoolSize(row.given),
      (err: unknown) => err instanceof FlagError && err.message === row.error,
    );
  });
}
