import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildDuration, formatAgo, formatDuration } from '../../src/ui/app/time.ts';

test('durations show their two largest units', () => {
  const cases: [number, string][] = [
    [0, '0s'],
    [-3, '0s'],
    [45, '45s'],
    [60, '1m'],
    [192, '3m 12s'],
    [3_600, '1h'],
    [3_720, '1h 2m'],
    [3_725, '1h 2m'],
    [183_600, '2d 3h'],
    [86_400, '1d'],
  ];
  for (const [seconds, text] of cases) assert.equal(formatDuration(seconds), text, `${seconds}s`);
});

test('ages', () => {
  const now = 1_000_000 * 1000;
  const cases: [number, string][] = [
    [0, 'just now'],
    [12, '12s ago'],
    [300, '5m ago'],
    [3 * 3_600, '3h ago'],
    [2 * 86_400, '2d ago'],
  ];
  for (const [ago, text] of cases) assert.equal(formatAgo(1_000_000 - ago, now), text);
});

test('a build runs from its start to its end, or until now', () => {
  assert.equal(buildDuration({}, 0), undefined);
  assert.equal(buildDuration({ start_time: 100, end_time: 165 }, 999_999_000), '1m 5s');
  assert.equal(buildDuration({ start_time: 100 }, 130_000), '30s');
});
