// The get params Jetway keeps for itself (docs/image-features.md, decision 5), as pure functions:
// what `fetch_artifact` means, and that it never reaches a resource script or a cache key.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fetchesArtifact, resourceParams } from '../../../src/engine/steps/params.ts';

test('fetchesArtifact: true and "true" download; false, "false" and no key are the default', () => {
  assert.equal(fetchesArtifact({ fetch_artifact: true }), true);
  assert.equal(fetchesArtifact({ fetch_artifact: 'true' }), true);
  assert.equal(fetchesArtifact({ fetch_artifact: false }), false);
  assert.equal(fetchesArtifact({ fetch_artifact: 'false' }), false);
  assert.equal(fetchesArtifact({ format: 'oci' }), false);
  assert.equal(fetchesArtifact({}), false);
  assert.equal(fetchesArtifact(undefined), false);
});

const BAD: [unknown, string][] = [
  ['yes', 'a string ("yes")'],
  ['TRUE', 'a string ("TRUE")'],
  ['', 'a string ("")'],
  [1, 'a number (1)'],
  [0, 'a number (0)'],
  [null, 'null'],
  [['true'], 'a list'],
  [{ value: true }, 'a map'],
];
for (const [value, got] of BAD) {
  test(`fetchesArtifact: ${JSON.stringify(value)} is an error naming the param and what it got`, () => {
    assert.throws(() => fetchesArtifact({ fetch_artifact: value }), { message: `params.fetch_artifact must be a boolean (true or false), got ${got}` });
  });
}

test('resourceParams: fetch_artifact is removed, everything else kept; no params is {}', () => {
  assert.deepEqual(resourceParams({ fetch_artifact: true, format: 'oci', depth: 1 }), { format: 'oci', depth: 1 });
  assert.deepEqual(resourceParams({ fetch_artifact: 'false' }), {});
  assert.deepEqual(resourceParams({ format: 'oci' }), { format: 'oci' });
  assert.deepEqual(resourceParams(undefined), {});
});
