// The versions a scheduling pass shares between its jobs (src/scheduler/algorithm/pass-store.ts):
// each row: the reads two jobs make, and how many reach the store behind.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { passSharedStore, type VersionsStore } from '../../src/scheduler/algorithm/index.ts';

/** A store answering every read, counting what reaches it; `fail` makes the first read of a kind reject. */
function countingStore(fail = false): { store: VersionsStore; calls: string[] } {
  const calls: string[] = [];
  let failed = false;
  const answer = <V>(name: string, value: V): Promise<V> => {
    calls.push(name);
    if (fail && !failed) {
      failed = true;
      return Promise.reject(new Error('Postgres went away'));
    }
    return Promise.resolve(value);
  };
  const v = { digest: 'd', version: { ref: 'a' }, checkOrder: 1 };
  const none = (async function* () {})();
  const store = {
    latestVersion: () => answer('latestVersion', v),
    usedMaxCheckOrder: () => answer('usedMaxCheckOrder', 1),
    enabledVersionsAfter: () => answer('enabledVersionsAfter', [v]),
    latestEnabledVersionUpTo: () => answer('latestEnabledVersionUpTo', v),
    findVersion: () => answer('findVersion', v),
    versionExists: () => answer('versionExists', true),
    versionIsDisabled: () => answer('versionIsDisabled', false),
    versionByDigest: () => answer('versionByDigest', v.version),
    successfulBuilds: () => none,
    successfulBuildsConstrained: () => none,
    newerBuilds: () => none,
    olderBuilds: () => none,
    buildOutputs: () => answer('buildOutputs', []),
    latestBuildUsingLatestVersion: () => answer('latestBuildUsingLatestVersion', 3),
    buildPipes: () => answer('buildPipes', new Map()),
    isFirstOccurrence: () => answer('isFirstOccurrence', true),
  } as unknown as VersionsStore;
  return { store, calls };
}

type Read = (s: VersionsStore) => Promise<unknown>;
const rows: { name: string; first: Read; second: Read; reads: number; maxEntries?: number; fail?: boolean }[] = [
  { name: "two jobs read a resource's latest version: one read", first: (s) => s.latestVersion(1), second: (s) => s.latestVersion(1), reads: 1 },
  { name: 'two resources: two reads', first: (s) => s.latestVersion(1), second: (s) => s.latestVersion(2), reads: 2 },
  { name: "a build's outputs, read by two downstream jobs: one read", first: (s) => s.buildOutputs(7), second: (s) => s.buildOutputs(7), reads: 1 },
  { name: 'the versions after a check order: one read', first: (s) => s.enabledVersionsAfter(1, 4, 2), second: (s) => s.enabledVersionsAfter(1, 4, 2), reads: 1 },
  { name: 'a pin written in another key order is the same find', first: (s) => s.findVersion(1, { a: '1', b: '2' }), second: (s) => s.findVersion(1, { b: '2', a: '1' }), reads: 1 },
  { name: 'disabled and exists are remembered per version', first: (s) => s.versionIsDisabled(1, 'd'), second: (s) => s.versionIsDisabled(1, 'd'), reads: 1 },
  { name: "what a job used is the job's own: read for each job", first: (s) => s.usedMaxCheckOrder(10, 1), second: (s) => s.usedMaxCheckOrder(11, 1), reads: 2 },
  { name: 'a first occurrence is the job’s own, even with the same arguments', first: (s) => s.isFirstOccurrence(10, 'x', 'd', 1), second: (s) => s.isFirstOccurrence(10, 'x', 'd', 1), reads: 2 },
  { name: 'a failed read is not remembered: the next job reads again', first: (s) => s.latestVersion(1).catch(() => undefined), second: (s) => s.latestVersion(1), reads: 2, fail: true },
  { name: 'past the bound, reads go straight through', first: (s) => s.latestVersion(1), second: (s) => s.latestVersion(1), reads: 2, maxEntries: 0 },
];

for (const row of rows) {
  test(row.name, async () => {
    const { store, calls } = countingStore(row.fail);
    const shared = passSharedStore(store, row.maxEntries);
    await row.first(shared);
    await row.second(shared);
    assert.equal(calls.length, row.reads, calls.join(', '));
  });
}
