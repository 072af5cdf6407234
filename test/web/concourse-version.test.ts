// jetway web --concourse-version (src/web/options.ts checkConcourseVersion): the version fly
// compares, one row per case; and what /api/v1/info then reports (test/api/fly-login.test.ts has the default).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { checkConcourseVersion, FlagError } from '../../src/web/options.ts';

const ROWS: [string | undefined, string | undefined | RegExp][] = [
  [undefined, undefined],
  ['7.11.2', '7.11.2'],
  ['8.2.5', '8.2.5'],
  ['7.11', /--concourse-version: '7\.11' is not a version x\.y\.z/],
  ['v7.11.2', /is not a version x\.y\.z/],
  ['7.11.2-rc.1', /is not a version x\.y\.z/],
  ['', /is not a version x\.y\.z/],
];
for (const [value, want] of ROWS) {
  test(`--concourse-version ${JSON.stringify(value)}`, () => {
    if (want instanceof RegExp) {
      assert.throws(() => checkConcourseVersion(value), (err: unknown) => err instanceof FlagError && want.test(err.message));
    } else {
      assert.equal(checkConcourseVersion(value), want);
    }
  });
}
