// The checker's in-memory checks (src/model/in-memory-check.ts): a periodic check of a type the
// web node checks itself runs without a check build; a failed one is kept as a build with its
// events; one that needs a container, or a type a pipeline shadows, is a check build as before.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Checker, type InMemoryCheckRunner } from '../../src/checker/index.ts';
import { buildEvent } from '../../src/model/build-events.ts';
import type { InMemoryCheck, InMemoryCheckOutcome } from '../../src/model/in-memory-check.ts';
import { FakeCheckerStore, resource } from './fake-store.ts';
import { RecordingTracker } from '../support/sched-support.ts';

class FakeRunner implements InMemoryCheckRunner {
  readonly ran: InMemoryCheck[] = [];
  /** each run waits for this (a check in progress) */
  gate: Promise<void> = Promise.resolve();
  constructor(private readonly outcome: (c: InMemoryCheck) => InMemoryCheckOutcome = () => ({ ran: true, status: 'succeeded', events: [] })) {}
  async runInMemoryCheck(check: InMemoryCheck): Promise<InMemoryCheckOutcome> {
    this.ran.push(check);
    await this.gate;
    return this.outcome(check);
  }
}

function setup(runner: FakeRunner, accepts: (type: string) => boolean = (type) => type === 'mock') {
  const store = new FakeCheckerStore().add(resource(1, { pinnedVersion: { v: 'pinned' } }), { triggerInput: true });
  const tracker = new RecordingTracker();
  const checker = new Checker(store, { tracker, keepPeriodicBuilds: 3, inMemory: { runner, accepts } });
  return { store, tracker, checker };
}

test('a due resource of a type the web node checks runs in memory: no check build, its check recorded succeeded', async () => {
  const runner = new FakeRunner();
  const { store, tracker, checker } = setup(runner);
  const results = await checker.scan();
  await checker.inMemoryIdle();
  assert.deepEqual(results, [{ resourceId: 1, decision: 'check', inMemory: true }]);
  assert.deepEqual(tracker.tracked, [], 'no build handed to the engine');
  assert.deepEqual(store.builds, [], 'no check build');
  assert.deepEqual(store.inMemoryChecks.map((c) => [c.resourceId, c.status]), [[1, 'succeeded']]);
  const [ran] = runner.ran;
  assert.equal(ran?.id, store.inMemoryChecks[0]?.id, 'the id recorded is the one it ran with');
  assert.ok(ran && 'check' in ran.plan);
  assert.deepEqual(ran.plan.check.from_version, { v: 'pinned' }, 'from the pinned version, as a periodic check build');
  assert.equal(ran.plan.check.resource, 'r1');
  assert.equal(ran.plan.check.skip_interval === true, false);
});

test('a failed in-memory check is kept as a check build with its events; the next scan within its interval starts none', async () => {
  const error = buildEvent('error', { time: 1, origin: { id: 'x' }, message: 'no luck' });
  const runner = new FakeRunner(() => ({ ran: true, status: 'errored', events: [error] }));
  const { store, checker } = setup(runner);
  await checker.scan();
  await checker.inMemoryIdle();
  const [c] = store.inMemoryChecks;
  assert.equal(c?.status, 'recorded');
  assert.deepEqual(c?.events, [error]);
  assert.equal(c?.intervalMs, 60_000, 'not due again for its interval (the default minute)');
  assert.deepEqual(store.pruned, [{ target: { resourceId: 1 }, keep: 3 }], 'older periodic check builds pruned');
  await checker.scan();
  await checker.inMemoryIdle();
  assert.equal(runner.ran.length, 1, 'the failed check waits its interval');
});

test('an in-memory check that needs a container is handed to a check build', async () => {
  const runner = new FakeRunner(() => ({ ran: false, reason: 'source.uri is a local path' }));
  const { store, tracker, checker } = setup(runner);
  await checker.scan();
  await checker.inMemoryIdle();
  assert.deepEqual(store.inMemoryChecks.map((c) => c.status), ['handed']);
  assert.equal(store.builds.length, 1);
  assert.deepEqual(tracker.tracked, [store.builds[0]!.id]);
  assert.deepEqual(store.builds[0]?.input?.plan && 'check' in store.builds[0].input.plan ? store.builds[0].input.plan.check.from_version : undefined, { v: 'pinned' });
});

test('a type the web node does not check, or a pipeline type of a built-in name, is a check build', async () => {
  for (const shadowed of [false, true]) {
    const runner = new FakeRunner();
    const { store, tracker, checker } = setup(runner, (type) => shadowed || type === 'git');
    if (shadowed) store.types.set(9, { id: 9, name: 'mock', type: 'registry-image', pipelineId: 1, teamId: 1, pipelineArchived: false, config: { name: 'mock', type: 'registry-image', source: {} }, scopeId: null } as never);
    await checker.scan();
    await checker.inMemoryIdle();
    assert.deepEqual(runner.ran, [], shadowed ? 'shadowed' : 'not accepted');
    assert.equal(tracker.tracked.length, 1);
    assert.deepEqual(store.inMemoryChecks, []);
  }
});

test('a resource whose in-memory check is still running is not queued again', async () => {
  const runner = new FakeRunner();
  let release!: () => void;
  runner.gate = new Promise((r) => (release = r));
  const { store, checker } = setup(runner);
  await checker.scan();
  assert.deepEqual(await checker.scan(), [{ resourceId: 1, decision: 'running' }]);
  release();
  await checker.inMemoryIdle();
  assert.equal(runner.ran.length, 1);
  assert.deepEqual(store.inMemoryChecks.map((c) => c.status), ['succeeded']);
});

test('stop aborts running in-memory checks and waits for them; an aborted one is recorded so', async () => {
  let signal: AbortSignal | undefined;
  const runner: InMemoryCheckRunner = {
    runInMemoryCheck: (_c, _p, s) => {
      signal = s;
      return new Promise((resolve) => s.addEventListener('abort', () => resolve({ ran: true, status: 'aborted', events: [] })));
    },
  };
  const store = new FakeCheckerStore().add(resource(1), { triggerInput: true });
  const checker = new Checker(store, { tracker: new RecordingTracker(), inMemory: { runner, accepts: () => true } });
  await checker.scan();
  await new Promise((r) => setImmediate(r));
  await checker.stop();
  assert.equal(signal?.aborted, true);
  assert.deepEqual(store.inMemoryChecks.map((c) => c.status), ['aborted']);
});

test('a queued check whose resource was set again before its turn does not start (the next scan reads it anew)', async () => {
  const runner = new FakeRunner();
  let release!: () => void;
  runner.gate = new Promise((r) => (release = r));
  const store = new FakeCheckerStore().add(resource(1), { triggerInput: true }).add(resource(2), { triggerInput: true });
  const checker = new Checker(store, { tracker: new RecordingTracker(), inMemory: { runner, accepts: () => true, concurrency: 1 } });
  await checker.scan();
  // r2 waits behind r1; meanwhile its pipeline is set again with another source
  store.resources.get(2)!.record = resource(2, { config: { name: 'r2', type: 'mock', source: { initial_version: 'changed' } } });
  release();
  await checker.inMemoryIdle();
  assert.deepEqual(runner.ran.map((c) => c.resourceId), [1]);
  assert.deepEqual(store.inMemoryChecks.map((c) => c.resourceId), [1]);
  await checker.scan();
  await checker.inMemoryIdle();
  const second = runner.ran.filter((c) => c.resourceId === 2);
  assert.equal(second.length, 1, 'the next scan checks it with its new config');
  const ran = second[0]!.plan;
  assert.ok('check' in ran);
  assert.deepEqual(ran.check.source, { initial_version: 'changed' });
});
