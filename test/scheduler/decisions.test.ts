// The scheduler's pure decisions, as tables.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ComputeResult } from '../../src/scheduler/algorithm/types.ts';
import {
  buildReadiness,
  maxInFlightDecision,
  pendingBuildKind,
  triggerDecision,
  type ReadinessInput,
} from '../../src/scheduler/decisions.ts';
import { groupOutputs } from '../../src/db/builds.ts';

const resolved = (firstOccurrence: boolean) => ({
  resourceId: 1,
  version: { v: '1' },
  versionDigest: 'd',
  firstOccurrence,
  passedBuildIds: [],
  hasNext: false,
});

// triggerDecision: first occurrences set has_new_inputs; a triggering one wants a build
const triggerCases: { name: string; inputs: { name: string; trigger: boolean }[]; mapping: ComputeResult['mapping']; want: [boolean, boolean] }[] = [
  { name: 'nothing new', inputs: [{ name: 'a', trigger: true }], mapping: { a: resolved(false) }, want: [false, false] },
  { name: 'new, trigger', inputs: [{ name: 'a', trigger: true }], mapping: { a: resolved(true) }, want: [true, true] },
  { name: 'new, no trigger', inputs: [{ name: 'a', trigger: false }], mapping: { a: resolved(true) }, want: [true, false] },
  {
    name: 'new non-trigger then old trigger',
    inputs: [
      { name: 'a', trigger: false },
      { name: 'b', trigger: true },
    ],
    mapping: { a: resolved(true), b: resolved(false) },
    want: [true, false],
  },
  {
    name: 'old then new trigger',
    inputs: [
      { name: 'a', trigger: true },
      { name: 'b', trigger: true },
    ],
    mapping: { a: resolved(false), b: resolved(true) },
    want: [true, true],
  },
  {
    name: 'new non-trigger then new trigger',
    inputs: [
      { name: 'a', trigger: false },
      { name: 'b', trigger: true },
    ],
    mapping: { a: resolved(true), b: resolved(true) },
    want: [true, true],
  },
  { name: 'resolve error', inputs: [{ name: 'a', trigger: true }], mapping: { a: { resolveError: 'x' } }, want: [false, false] },
  { name: 'missing', inputs: [{ name: 'a', trigger: true }], mapping: {}, want: [false, false] },
];
for (const c of triggerCases) {
  test(`triggerDecision: ${c.name}`, () => {
    const d = triggerDecision(c.inputs, c.mapping);
    assert.deepEqual([d.hasNewInputs, d.createBuild], c.want, c.name);
  });
}

const maxInFlightCases: { f: Parameters<typeof maxInFlightDecision>[0]; want: [boolean, boolean] }[] = [
  { f: { maxInFlight: 0, running: 10, oldestPendingBuildId: 1, buildId: 2 }, want: [true, false] },
  { f: { maxInFlight: 1, running: 1, oldestPendingBuildId: 2, buildId: 2 }, want: [false, true] },
  { f: { maxInFlight: 2, running: 1, oldestPendingBuildId: 2, buildId: 2 }, want: [true, false] },
  { f: { maxInFlight: 2, running: 1, oldestPendingBuildId: 1, buildId: 2 }, want: [false, false] },
  { f: { maxInFlight: 1, running: 0, oldestPendingBuildId: undefined, buildId: 2 }, want: [false, false] },
];
for (const c of maxInFlightCases) {
  test(`maxInFlightDecision: ${JSON.stringify(c.f)}`, () => {
    const d = maxInFlightDecision(c.f);
    assert.deepEqual([d.scheduled, d.maxInFlightReached], c.want, JSON.stringify(c.f));
  });
}

test('pendingBuildKind', () => {
  assert.equal(pendingBuildKind({ rerunOf: 3, manuallyTriggered: true }), 'rerun');
  assert.equal(pendingBuildKind({ rerunOf: null, manuallyTriggered: true }), 'manual');
  assert.equal(pendingBuildKind({ rerunOf: null, manuallyTriggered: false }), 'scheduler');
});

test('buildReadiness: manual waits for checks since creation, scheduler for recent checks of non-trigger inputs', () => {
  const input = (over: Partial<ReadinessInput>): ReadinessInput => ({
    name: 'x',
    resourceId: 1,
    passed: false,
    pinned: false,
    trigger: false,
    hasScope: true,
    checkedSinceBuildCreated: true,
    checkedRecentlyForBuild: true,
    ...over,
  });
  // manual
  assert.equal(buildReadiness('manual', [input({})]).ready, true);
  assert.deepEqual(buildReadiness('manual', [input({ checkedSinceBuildCreated: false, trigger: true, resourceId: 7 })]), {
    ready: false,
    checkResourceIds: [7],
    waitingFor: ['x'],
  });
  assert.equal(buildReadiness('manual', [input({ hasScope: false })]).ready, false);
  assert.equal(buildReadiness('manual', [input({ checkedSinceBuildCreated: false, passed: true })]).ready, true);
  assert.equal(buildReadiness('manual', [input({ checkedSinceBuildCreated: false, pinned: true })]).ready, true);
  // scheduler: trigger inputs are exempt
  assert.equal(buildReadiness('scheduler', [input({ trigger: true, checkedRecentlyForBuild: false, hasScope: false })]).ready, true);
  assert.equal(buildReadiness('scheduler', [input({ checkedRecentlyForBuild: false })]).ready, false);
  assert.equal(buildReadiness('scheduler', [input({ checkedSinceBuildCreated: false })]).ready, true);
  // rerun: always
  assert.equal(buildReadiness('rerun', [input({ hasScope: false })]).ready, true);
  // distinct resources
  assert.deepEqual(
    buildReadiness('manual', [
      input({ name: 'a', resourceId: 2, checkedSinceBuildCreated: false }),
      input({ name: 'b', resourceId: 2, checkedSinceBuildCreated: false }),
    ]).checkResourceIds,
    [2],
  );
});

test('groupOutputs keeps outputs before inputs and de-duplicates per resource', () => {
  assert.deepEqual(
    groupOutputs([
      { resourceId: 1, digest: 'y' },
      { resourceId: 2, digest: 'o' },
      { resourceId: 1, digest: 'x' },
      { resourceId: 1, digest: 'y' },
    ]),
    { '1': ['y', 'x'], '2': ['o'] },
  );
});
