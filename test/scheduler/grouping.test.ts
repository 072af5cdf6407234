// groupByPassedJobs (merging), resolver construction order, pinned failure text, digests.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { computeInputs, groupByPassedJobs } from '../../src/scheduler/algorithm/compute.ts';
import { caseStoreData } from '../support/algorithm/cases.ts';
import { canonicalJson, versionDigest } from '../../src/model/version.ts';
import { MemoryVersionsStore } from '../../src/scheduler/algorithm/memory-store.ts';
import {
  NO_SATISFIABLE_BUILDS,
  pinnedVersionNotFound,
  type AlgorithmInput,
} from '../../src/scheduler/algorithm/types.ts';
import { caseDb } from './helpers.ts';

const input = (name: string, passed: number[], extra: Partial<AlgorithmInput> = {}): AlgorithmInput => ({
  name,
  resourceId: 1,
  passed: new Set(passed),
  useEvery: false,
  trigger: false,
  ...extra,
});
const names = (groups: AlgorithmInput[][]): string[][] => groups.map((g) => g.map((i) => i.name));

test('inputs sharing a passed job are grouped; inputs without passed are not grouped', () => {
  const groups = groupByPassedJobs([input('a', [1]), input('free', []), input('b', [2]), input('c', [1, 3])]);
  assert.deepEqual(names(groups), [['a', 'c'], ['b']]);
});

test('an input touching two groups merges them (connected components, config order)', () => {
  const groups = groupByPassedJobs([
    input('a', [1]),
    input('b', [2]),
    input('x', [9]),
    input('bridge', [2, 1]),
    input('d', [1]),
  ]);
  assert.deepEqual(names(groups), [['a', 'b', 'bridge', 'd'], ['x']]);
  // the merged set of passed jobs keeps growing transitively
  const chain = groupByPassedJobs([input('p', [1]), input('q', [2]), input('r', [3]), input('s', [3, 2]), input('t', [2, 1])]);
  assert.deepEqual(names(chain), [['p', 'q', 'r', 's', 't']]);
});

test('pinned failure text lists the pin with sorted keys', () => {
  assert.equal(pinnedVersionNotFound({ ver: 'rxv2' }), 'pinned version ver:rxv2 not found');
  assert.equal(pinnedVersionNotFound({ ref: 'abc', branch: 'main' }), 'pinned version branch:main ref:abc not found');
});

test('digest is sha256 of the canonical JSON', () => {
  assert.equal(canonicalJson({ b: '1', a: '2' }), '{"a":"2","b":"1"}');
  assert.equal(versionDigest({ b: '1', a: '2' }), versionDigest({ a: '2', b: '1' }));
  assert.match(versionDigest({ ver: 'x' }), /^[0-9a-f]{64}$/);
  assert.equal(versionDigest({ ref: 'abc', branch: 'main' }), createHash('sha256').update('{"branch":"main","ref":"abc"}').digest('hex'));
});

test('every resolver runs and reports: a failed group and a resolved individual input', async () => {
  const store = new MemoryVersionsStore(
    caseStoreData(
      caseDb({
        jobs: { up: 1, current: 2 },
        resources: { r: { id: 1, has_scope: true }, s: { id: 2, has_scope: true } },
        versions: { r: [{ version: 'r1', check_order: 1, disabled: false }], s: [{ version: 's1', check_order: 1, disabled: false }] },
      }),
    ),
  );
  const result = await computeInputs(store, 2, [
    input('grouped', [1]),
    input('pinned', [], { resourceId: 2, pinnedVersion: { ver: 'nope', a: 'b' } }),
    input('latest', [], { resourceId: 2 }),
  ]);
  assert.equal(result.ok, false);
  assert.deepEqual(result.mapping.grouped, { resolveError: NO_SATISFIABLE_BUILDS });
  assert.deepEqual(result.mapping.pinned, { resolveError: 'pinned version a:b ver:nope not found' });
  assert.deepEqual(result.mapping.latest, {
    resourceId: 2,
    version: { ver: 's1' },
    versionDigest: versionDigest({ ver: 's1' }),
    firstOccurrence: true,
    passedBuildIds: [],
    hasNext: false,
  });
});
