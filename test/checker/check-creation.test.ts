// The checker's decisions over its store port, against an in-memory fake (no Postgres): when a
// check build is created, with what, and what the scanner does with each candidate.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Checker, type CheckOptions } from '../../src/checker/index.ts';
import type { ResourceRecord } from '../../src/db/resources.ts';
import type { Logger } from '../../src/log.ts';
import type { Version } from '../../src/model/version.ts';
import { FakeCheckerStore, resource } from './fake-store.ts';
import { RecordingTracker } from '../support/sched-support.ts';

const ID = 1;

interface Row {
  name: string;
  resource?: Partial<ResourceRecord>;
  /** the scope's next check time is still ahead */
  intervalNotElapsed?: boolean;
  /** a check of the resource is running, created before or since the build waiting for it */
  running?: 'before' | 'since';
  /** the newest finished check failed this long ago (an error before the scope: no next check time there) */
  failedAgoMs?: number;
  /** a check created since the waiting build finished failed this long ago */
  failedSinceAgoMs?: number;
  /** `forBuild`: the check is for a waiting build (created between the two running cases) */
  opts?: Omit<CheckOptions, 'forBuildId'> & { forBuild?: boolean };
  want:
    | { created: false; reason: string }
    | { created: true; manuallyTriggered: boolean; from?: Version; skipInterval: boolean; pruned: boolean };
}

const rows: Row[] = [
  {
    name: 'periodic: a started check build, handed to the tracker; older periodic ones are pruned',
    want: { created: true, manuallyTriggered: false, skipInterval: false, pruned: true },
  },
  {
    name: "periodic: nothing before the scope's next check time",
    intervalNotElapsed: true,
    want: { created: false, reason: 'interval' },
  },
  {
    name: 'periodic: a failed check waits its interval (1m), as a healthy one, even when it never reached its scope',
    failedAgoMs: 30_000,
    want: { created: false, reason: 'interval' },
  },
  {
    name: 'periodic: a failed check is checked again once its interval has passed',
    failedAgoMs: 61_000,
    want: { created: true, manuallyTriggered: false, skipInterval: false, pruned: true },
  },
  {
    name: 'manual: a recent failure does not hold back a manual check',
    failedAgoMs: 1_000,
    opts: { manual: true },
    want: { created: true, manuallyTriggered: false, skipInterval: true, pruned: true },
  },
  {
    name: 'periodic: nothing while a check of the resource runs',
    running: 'before',
    want: { created: false, reason: 'running' },
  },
  {
    name: 'periodic: checks from the pinned version',
    resource: { pinnedVersion: { v: '2' } },
    want: { created: true, manuallyTriggered: false, from: { v: '2' }, skipInterval: false, pruned: true },
  },
  {
    name: "an archived pipeline's resource is not checked",
    resource: { pipelineArchived: true },
    want: { created: false, reason: 'archived' },
  },
  {
    name: 'an archived pipeline\'s resource is not checked manually either',
    resource: { pipelineArchived: true },
    opts: { manual: true },
    want: { created: false, reason: 'archived' },
  },
  {
    name: 'manual: the interval and a running check do not matter; the plan skips the interval',
    intervalNotElapsed: true,
    running: 'before',
    opts: { manual: true },
    want: { created: true, manuallyTriggered: false, skipInterval: true, pruned: true },
  },
  {
    name: 'manual: from nothing unless asked (not the pin)',
    resource: { pinnedVersion: { v: '2' } },
    opts: { manual: true },
    want: { created: true, manuallyTriggered: false, skipInterval: true, pruned: true },
  },
  {
    name: 'manual: from the version asked for',
    opts: { manual: true, from: { v: '1' } },
    want: { created: true, manuallyTriggered: false, from: { v: '1' }, skipInterval: true, pruned: true },
  },
  {
    name: 'for a waiting build: a check running since the build serves it',
    running: 'since',
    opts: { manual: true, forBuild: true },
    want: { created: false, reason: 'running' },
  },
  {
    name: 'for a waiting build: a check running from before the build does not',
    running: 'before',
    opts: { manual: true, forBuild: true },
    want: { created: true, manuallyTriggered: false, skipInterval: true, pruned: true },
  },
  {
    name: 'for a waiting build: a check that failed before the build was created does not hold back its check',
    failedAgoMs: 1_000,
    opts: { manual: true, forBuild: true },
    want: { created: true, manuallyTriggered: false, skipInterval: true, pruned: true },
  },
  {
    name: 'for a waiting build: once a check made since the build failed, the next waits the interval (no check per scheduling pass)',
    failedSinceAgoMs: 1_000,
    opts: { manual: true, forBuild: true },
    want: { created: false, reason: 'interval' },
  },
  {
    name: 'for a waiting build: after the interval, it is checked again',
    failedSinceAgoMs: 61_000,
    opts: { manual: true, forBuild: true },
    want: { created: true, manuallyTriggered: false, skipInterval: true, pruned: true },
  },
  {
    name: 'an API check: manually triggered, and not pruned',
    opts: { manual: true, api: true },
    want: { created: true, manuallyTriggered: true, skipInterval: true, pruned: false },
  },
];

for (const row of rows) {
  test(row.name, async () => {
    const store = new FakeCheckerStore().add(resource(ID, row.resource));
    if (row.intervalNotElapsed) store.intervalNotElapsed.add(ID);
    if (row.running === 'before') store.running({ resourceId: ID });
    if (row.failedAgoMs !== undefined) store.builds.push({ id: store.buildId(), target: { resourceId: ID }, completed: true, failedAt: new Date(Date.now() - row.failedAgoMs) });
    const waiting = store.buildId();
    if (row.running === 'since') store.running({ resourceId: ID });
    if (row.failedSinceAgoMs !== undefined) store.builds.push({ id: store.buildId(), target: { resourceId: ID }, completed: true, failedAt: new Date(Date.now() - row.failedSinceAgoMs) });
    const tracker = new RecordingTracker();
    const checker = new Checker(store, { tracker, keepPeriodicBuilds: 3 });
    const { forBuild, ...opts } = row.opts ?? {};
    const r = await checker.tryCreateCheck(ID, { ...opts, ...(forBuild ? { forBuildId: waiting } : {}) });

    assert.deepEqual(store.locked, [{ resourceId: ID }], 'decided under the resource check lock');
    if (!row.want.created) {
      assert.deepEqual(r, { created: false, reason: row.want.reason });
      assert.deepEqual(tracker.tracked, []);
      return;
    }
    assert.ok(r.created);
    assert.deepEqual(tracker.tracked, [r.build.id]);
    const input = store.builds.find((b) => b.id === r.build.id)?.input;
    assert.ok(input && 'check' in input.plan);
    assert.equal(input.resourceId, ID);
    assert.equal(input.manuallyTriggered, row.want.manuallyTriggered);
    assert.deepEqual(input.plan.check.from_version, row.want.from);
    assert.equal(input.plan.check.skip_interval === true, row.want.skipInterval);
    assert.deepEqual(store.pruned, row.want.pruned ? [{ target: { resourceId: ID }, keep: 3 }] : []);
  });
}

const staleRows: { name: string; checkTimeout?: string; staleAfterMs: number }[] = [
  { name: 'a running check counts until the default timeout (1h) plus five minutes', staleAfterMs: 65 * 60_000 },
  { name: "a running check counts until the resource's check_timeout plus five minutes", checkTimeout: '10m', staleAfterMs: 15 * 60_000 },
];
for (const row of staleRows) {
  test(row.name, async () => {
    const config = { name: 'r1', type: 'mock', source: {}, ...(row.checkTimeout ? { check_timeout: row.checkTimeout } : {}) };
    const store = new FakeCheckerStore().add(resource(ID, { config }));
    await new Checker(store, { tracker: new RecordingTracker() }).tryCreateCheck(ID);
    assert.deepEqual(store.staleAges, [row.staleAfterMs]);
  });
}

test('scan: creates the checks the scanner selects, reports the rest with their decision, and logs a failure with its error', async () => {
  const store = new FakeCheckerStore()
    .add(resource(1), { triggerInput: true })
    .add(resource(2), { triggerInput: true, intervalElapsed: false })
    .add(resource(3, { config: { name: 'r3', type: 'mock', source: {}, check_every: 'never' } }), { triggerInput: true })
    .add(resource(4))
    .add(resource(5), { triggerInput: true });
  store.running({ resourceId: 5 });
  const lines: { obj: object; msg: string | undefined }[] = [];
  const logger: Logger = {
    debug: () => {},
    info: () => {},
    warn: () => {},
    error: (obj, msg) => {
      lines.push({ obj, msg });
    },
    child: () => logger,
  };
  store.add(resource(6), { triggerInput: true });
  store.failing.add(6);
  const tracker = new RecordingTracker();
  const results = await new Checker(store, { tracker, logger, concurrency: 2 }).scan();
  assert.deepEqual(
    results.map((r) => [r.resourceId, r.decision]),
    [
      [1, 'check'],
      [2, 'interval-not-elapsed'],
      [3, 'never'],
      [4, 'not-selected'],
      [5, 'running'],
    ],
  );
  assert.deepEqual(tracker.tracked, [results[0]!.buildId]);
  assert.equal(lines.length, 1);
  assert.equal(lines[0]!.msg, 'creating a check failed');
  assert.ok((lines[0]!.obj as { err: unknown }).err instanceof Error, 'the error itself is logged');
});

// Check storms (issue 17): on Kubernetes with the namespace missing every check failed at once
// and ~14 check builds a second were created. Over simulated time, with every check failing as
// soon as it is created (before its scope, so no next check time is set), a pass every 100 ms
// (the scanner's, or the scheduler asking for a waiting build's check) makes one check build an
// interval. test/engine/steps/check-storm.test.ts pins the step's side: the scope's next check.
const stormRows: { name: string; pass: (checker: Checker, waitingBuildId: number) => Promise<unknown> }[] = [
  { name: 'check storm: scans every 100 ms over 3 minutes, every check failing: one check build a minute (3), not one a scan', pass: (c) => c.scan() },
  {
    name: 'check storm: a waiting build asking for its check every 100 ms over 3 minutes, every check failing: one check build a minute (3)',
    pass: (c, waiting) => c.tryCreateCheck(ID, { forBuildId: waiting }),
  },
];

for (const row of stormRows) {
  test(row.name, async (t) => {
    t.mock.timers.enable({ apis: ['Date'], now: 1_000_000 });
    const store = new FakeCheckerStore().add(resource(ID), { triggerInput: true, checked: true, lastCheckSucceeded: false });
    const waiting = store.buildId();
    const checker = new Checker(store, { tracker: new RecordingTracker() });
    const createdAt: number[] = [];
    for (let elapsed = 0; elapsed < 180_000; elapsed += 100) {
      await row.pass(checker, waiting);
      for (const b of store.builds) {
        if (b.completed) continue;
        // the check's container cannot be created: it fails at once
        b.completed = true;
        b.failedAt = new Date(Date.now());
        createdAt.push(elapsed);
      }
      t.mock.timers.tick(100);
    }
    assert.deepEqual(createdAt, [0, 60_000, 120_000], 'check builds created at these simulated times (ms)');
  });
}
