import { test } from 'node:test';
import assert from 'node:assert/strict';
import { groupMedians, median, percentile, spread } from '../../bench/harness.ts';

test('median: middle sample, or the mean of the middle two', () => {
  assert.equal(median([3, 1, 2]), 2);
  assert.equal(median([4, 1, 3, 2]), 2.5);
  assert.ok(Number.isNaN(median([])));
});

test('spread: min, max and the larger distance from the median in percent', () => {
  assert.deepEqual(spread([90, 100, 130]), { min: 90, max: 130, pct: 30 });
  assert.deepEqual(spread([5, 5]), { min: 5, max: 5, pct: 0 });
});

test('groupMedians: one median per consecutive group; a short tail is dropped', () => {
  assert.deepEqual(groupMedians([1, 2, 3, 10, 20, 30, 7], 2), [2, 20]);
  assert.deepEqual(groupMedians([4], 3), [4]);
});

test('percentile: nearest rank', () => {
  const xs = Array.from({ length: 100 }, (_, i) => i + 1);
  assert.equal(percentile(xs, 50), 50);
  assert.equal(percentile(xs, 99), 99);
});
