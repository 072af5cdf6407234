// The engine while the database goes away, fills its disk, or another web node owns the build
// (issue 17, docs/web-nodes.md): on the in-memory store, wrapped to fail as Postgres does, and a
// fake of the build leases. Each test asserts the build's stored status and events.
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { Engine, finalStatus } from '../../src/engine/engine.ts';
import type { BuildLeases, OrphanedBuild } from '../../src/engine/leases.ts';
import type { EngineStore } from '../../src/engine/store.ts';
import { silentLogger } from '../../src/log.ts';
import { buildEvent, type BuildEvent, type BuildStatus } from '../../src/model/build-events.ts';
import { StoreEventSink } from '../../src/engine/event-sink.ts';
import type { TaskHandler } from '../support/scripted-runtime.ts';
import { harness, type Harness } from './steps/harness.ts';

const BUILD = 5;

/** A store failing as Postgres does: `failures` says what the next writes do. */
class FailingStore {
  /** per write: 'ok', 'refused' (nothing written, connection error), 'ambiguous' (written, then the answer lost), 'diskfull' */
  eventFailures: ('refused' | 'ambiguous' | 'diskfull')[] = [];
  finishFailures: ('refused' | 'diskfull')[] = [];
  private readonly keys = new Set<string>();
  attempts = 0;

  constructor(readonly inner: EngineStore) {}

  store(): EngineStore {
    return new Proxy(this.inner, {
      get: (target, prop, receiver) => {
        if (prop === 'saveBuildEvent') return (id: number, event: BuildEvent, key?: string) => this.saveBuildEvent(id, event, key);
        if (prop === 'saveBuildEvents') return (id: number, events: readonly { event: BuildEvent; writerKey: string }[]) => this.saveBuildEvents(id, events);
        if (prop === 'finishBuild') return (id: number, status: BuildStatus) => this.finishBuild(id, status);
        const value: unknown = Reflect.get(target, prop, receiver);
        return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
      },
    });
  }

  private async saveBuildEvent(id: number, event: BuildEvent, key?: string): Promise<void> {
    this.attempts++;
    const failure = this.eventFailures.shift();
    if (failure === 'refused') throw Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' });
    if (failure === 'diskfull') throw Object.assign(new Error('could not extend file "base/16384/2619": No space left on device'), { code: '53100' });
    // the writer key, as Postgres keeps it (src/db/builds.ts saveBuildEvent)
    if (key === undefined || !this.keys.has(`${id}/${key}`)) await this.inner.saveBuildEvent(id, event);
    if (key !== undefined) this.keys.add(`${id}/${key}`);
    if (failure === 'ambiguous') throw new Error('Connection terminated unexpectedly');
  }

  /** A batch, one write as Postgres makes it: all of it or nothing, the same failures. */
  private async saveBuildEvents(id: number, events: readonly { event: BuildEvent; writerKey: string }[]): Promise<void> {
    this.attempts++;
    this.batches.push(events.length);
    const failure = this.eventFailures.shift();
    if (failure === 'refused') throw Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' });
    if (failure === 'diskfull') throw Object.assign(new Error('could not extend file "base/16384/2619": No space left on device'), { code: '53100' });
    for (const { event, writerKey } of events) {
      if (!this.keys.has(`${id}/${writerKey}`)) await this.inner.saveBuildEvent(id, event);
      this.keys.add(`${id}/${writerKey}`);
    }
    if (failure === 'ambiguous') throw new Error('Connection terminated unexpectedly');
  }

  /** how many events each batch write held */
  readonly batches: number[] = [];

  private async finishBuild(id: number, status: BuildStatus): Promise<void> {
    const failure = this.finishFailures.shift();
    if (failure === 'refused') throw Object.assign(new Error('Connection terminated due to connection timeout'), {});
    if (failure === 'diskfull') throw Object.assign(new Error('could not extend file "base/16384/1259": No space left on device'), { code: '53100' });
    await this.inner.finishBuild(id, status);
  }
}

function echoLines(n: number): TaskHandler {
  return () => ({ exitStatus: 0, stdout: Array.from({ length: n }, (_, i) => `line ${i}\n`).join('') });
}

function setup(t: TestContext, task: TaskHandler): { h: Harness; failing: FailingStore } {
  const h = harness(t, { oneOff: true, task });
  const plan = h.stepPlan({ task: 'unit', config: { platform: 'linux', run: { path: 'sh' } } });
  h.store.addBuild({ id: BUILD }, { plan });
  return { h, failing: new FailingStore(h.store) };
}

function engine(h: Harness, store: EngineStore, extra: { leases?: BuildLeases; eventLimits?: { maxPending?: number } } = {}): Engine {
  return new Engine({ store, runtime: h.runtime, externalUrl: 'http://jetway.test', artifactsDir: h.dir, logger: silentLogger, ...extra });
}

function row(h: Harness, id = BUILD): { status: BuildStatus; completed: boolean; events: BuildEvent[] } {
  const found = h.store.builds.find((b) => b.build.id === id);
  assert.ok(found, `build ${id} exists`);
  return { status: found.status, completed: found.completed, events: found.events };
}

const logText = (events: readonly BuildEvent[]): string =>
  events
    .filter((e) => e.event === 'log')
    .map((e) => String((e.data as { payload: string }).payload))
    .join('');
const errors = (events: readonly BuildEvent[]): string[] => events.filter((e) => e.event === 'error').map((e) => String((e.data as { message: string }).message));

test('events refused while the database is away are retried: every line saved once, in order, and the build succeeds', async (t) => {
  const { h, failing } = setup(t, echoLines(20));
  failing.eventFailures = ['refused', 'refused', 'refused', 'refused'];
  const e = engine(h, failing.store());
  e.track(BUILD);
  await e.wait(BUILD);
  const { status, events } = row(h);
  assert.equal(status, 'succeeded', errors(events).join('\n'));
  assert.equal(logText(events), Array.from({ length: 20 }, (_, i) => `line ${i}\n`).join(''));
  assert.ok(failing.attempts > events.length - 1, 'the refused writes were tried again');
});

test('a write whose commit went through but whose answer was lost is not saved twice', async (t) => {
  const { h, failing } = setup(t, echoLines(5));
  failing.eventFailures = ['ambiguous', 'refused', 'ambiguous'];
  const e = engine(h, failing.store());
  e.track(BUILD);
  await e.wait(BUILD);
  const { status, events } = row(h);
  assert.equal(status, 'succeeded');
  assert.equal(logText(events), 'line 0\nline 1\nline 2\nline 3\nline 4\n');
  const initializes = events.filter((ev) => ev.event === 'initialize-task').length;
  assert.equal(initializes, 1, 'no event twice');
});

test('events beyond the buffer are lost and counted; the build then ends errored saying so instead of succeeded', async () => {
  let open!: () => void;
  const away = new Promise<void>((resolve) => (open = resolve));
  const saved: string[] = [];
  const sink = new StoreEventSink(
    {
      async saveBuildEvent(_id, event) {
        await away; // the database is away until the test lets it back
        saved.push(String((event.data as { payload: string }).payload));
      },
    },
    BUILD,
    silentLogger,
    { maxPending: 5 },
  );
  // a step that does not wait for its log lines (the buffer is what holds them)
  for (let i = 0; i < 8; i++) void sink.emit(buildEvent('log', { time: 0, origin: { id: 'x', source: 'stdout' }, payload: `line ${i}\n` }));
  open();
  const report = await sink.flushed();
  assert.deepEqual(saved, ['line 0\n', 'line 1\n', 'line 2\n', 'line 3\n', 'line 4\n']);
  assert.equal(report.lost, 3);
  assert.match(report.firstLoss ?? '', /more than 5 events/);
  const final = finalStatus('succeeded', report);
  assert.equal(final.status, 'errored');
  assert.match(final.reason ?? '', /^3 build events could not be saved \(more than 5 events .*waited for the database\), so the build cannot say it succeeded$/);
});

test('a finish the full disk refuses ends the build errored with the reason once the database can write', async (t) => {
  const { h, failing } = setup(t, echoLines(2));
  failing.finishFailures = ['diskfull', 'diskfull'];
  const e = engine(h, failing.store());
  e.track(BUILD);
  await e.wait(BUILD);
  const { status, completed, events } = row(h);
  assert.equal(status, 'errored');
  assert.equal(completed, true);
  assert.ok(
    errors(events).some((m) => m.startsWith("the build succeeded but its end could not be recorded: the database's disk is full")),
    errors(events).join('\n'),
  );
});

test('a finish refused while the database is away is retried and records the real status', async (t) => {
  const { h, failing } = setup(t, echoLines(2));
  failing.finishFailures = ['refused', 'refused', 'refused'];
  const e = engine(h, failing.store());
  e.track(BUILD);
  await e.wait(BUILD);
  assert.equal(row(h).status, 'succeeded');
});

test('an event write refused for a full disk (written later) still ends the build errored', async (t) => {
  const { h, failing } = setup(t, echoLines(2));
  failing.eventFailures = ['diskfull'];
  const e = engine(h, failing.store());
  e.track(BUILD);
  await e.wait(BUILD);
  const { status, events } = row(h);
  assert.equal(status, 'errored');
  assert.ok(errors(events).some((m) => /disk was full/.test(m)), errors(events).join('\n'));
  assert.equal(logText(events), 'line 0\nline 1\n', 'the lines were written once the disk had room');
});

/** Build leases of one node in a cluster the test controls. */
class FakeLeases implements BuildLeases {
  readonly owner = new Map<number, string>();
  readonly aborted = new Set<number>();
  orphans: OrphanedBuild[] = [];
  constructor(readonly node: string) {}
  async claim(buildId: number): Promise<boolean> {
    const current = this.owner.get(buildId);
    if (current !== undefined && current !== this.node) return false;
    this.owner.set(buildId, this.node);
    return true;
  }
  async heartbeat(): Promise<{ owned: number[]; aborted: number[] }> {
    const owned = [...this.owner].filter(([, n]) => n === this.node).map(([id]) => id);
    return { owned, aborted: owned.filter((id) => this.aborted.has(id)) };
  }
  async claimOrphans(): Promise<OrphanedBuild[]> {
    const taken = this.orphans;
    this.orphans = [];
    for (const o of taken) this.owner.set(o.id, this.node);
    return taken;
  }
  async release(buildId: number): Promise<void> {
    this.owner.delete(buildId);
  }
}

test('a build another live node owns is not run here: no process, no event, its status untouched', async (t) => {
  const { h } = setup(t, echoLines(1));
  const leases = new FakeLeases('node-b');
  leases.owner.set(BUILD, 'node-a');
  const e = engine(h, h.store, { leases });
  e.track(BUILD);
  await e.wait(BUILD);
  const { status, events } = row(h);
  assert.equal(status, 'started');
  assert.deepEqual(events, []);
  assert.equal(h.runtime.runs.length, 0);
});

test('a build taken over by another node while this one could not renew stops here and records nothing more', async (t) => {
  let started!: () => void;
  const running = new Promise<void>((resolve) => (started = resolve));
  const { h } = setup(t, async (_spec, _process, _dir, signal) => {
    started();
    await new Promise((resolve) => signal.addEventListener('abort', resolve, { once: true }));
    return { exitStatus: 137 };
  });
  const leases = new FakeLeases('node-a');
  const e = engine(h, h.store, { leases });
  e.track(BUILD);
  await running;
  leases.owner.set(BUILD, 'node-b'); // its lease expired and node-b claimed it
  await e.heartbeat(20_000);
  await e.wait(BUILD);
  const { status, completed, events } = row(h);
  assert.equal(status, 'started', 'the node that took it over records its end');
  assert.equal(completed, false);
  assert.equal(
    events.filter((ev) => ev.event === 'status' || ev.event === 'error').length,
    0,
    JSON.stringify(events.map((ev) => ev.event)),
  );
});

test('an abort made through another node reaches the owner with its heartbeat: the build ends aborted', async (t) => {
  let started!: () => void;
  const running = new Promise<void>((resolve) => (started = resolve));
  const { h } = setup(t, async (_spec, _process, _dir, signal) => {
    started();
    await new Promise((resolve) => signal.addEventListener('abort', resolve, { once: true }));
    return { exitStatus: 137 };
  });
  const leases = new FakeLeases('node-a');
  const e = engine(h, h.store, { leases });
  e.track(BUILD);
  await running;
  leases.aborted.add(BUILD);
  await e.heartbeat(20_000);
  await e.wait(BUILD);
  assert.equal(row(h).status, 'aborted');
});

test("a dead node's build taken over on the heartbeat ends errored naming that node", async (t) => {
  const { h } = setup(t, echoLines(1));
  const leases = new FakeLeases('node-b');
  leases.orphans = [{ id: BUILD, previousOwner: 'node-a', leaseExpired: new Date('2026-12-02T10:00:00Z') }];
  const e = engine(h, h.store, { leases });
  assert.deepEqual(await e.heartbeat(20_000), [BUILD]);
  const { status, events } = row(h);
  assert.equal(status, 'errored');
  assert.deepEqual(errors(events), ['the web node node-a that ran this build stopped (its lease expired at 2026-12-02T10:00:00.000Z); its processes are gone']);
});

test('after the database was away, nothing is taken over until a lease has passed (live owners renew first)', async (t) => {
  const { h } = setup(t, echoLines(1));
  const leases = new FakeLeases('node-b');
  const e = engine(h, h.store, { leases });
  const beat = leases.heartbeat.bind(leases);
  leases.heartbeat = () => Promise.reject(Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }));
  await assert.rejects(e.heartbeat(60_000));
  leases.heartbeat = beat;
  leases.orphans = [{ id: BUILD, previousOwner: 'node-a', leaseExpired: new Date() }];
  assert.deepEqual(await e.heartbeat(60_000), []);
  assert.equal(row(h).status, 'started');
});

// finalStatus: one test per row
const STATUS_ROWS: [string, BuildStatus, { lost: number; diskFull: boolean; firstLoss?: string }, BuildStatus, RegExp | undefined][] = [
  ['nothing lost: succeeded stays', 'succeeded', { lost: 0, diskFull: false }, 'succeeded', undefined],
  ['nothing lost: failed stays', 'failed', { lost: 0, diskFull: false }, 'failed', undefined],
  ['events lost: succeeded becomes errored', 'succeeded', { lost: 3, diskFull: false, firstLoss: 'x' }, 'errored', /^3 build events could not be saved \(x\)/],
  ['one event lost: failed becomes errored', 'failed', { lost: 1, diskFull: false }, 'errored', /^1 build event could not be saved .* cannot say it failed$/],
  ['events lost: aborted stays aborted', 'aborted', { lost: 2, diskFull: false }, 'aborted', undefined],
  ['events lost: errored stays errored', 'errored', { lost: 2, diskFull: false }, 'errored', undefined],
  ['disk full: succeeded becomes errored', 'succeeded', { lost: 0, diskFull: true }, 'errored', /disk was full/],
];
for (const [name, status, report, want, reason] of STATUS_ROWS) {
  test(`finalStatus: ${name}`, () => {
    const got = finalStatus(status, report);
    assert.equal(got.status, want);
    if (reason) assert.match(got.reason ?? '', reason);
    else assert.equal(got.reason, undefined);
  });
}

/** The scripted runtime as one whose processes outlive the web node (Kubernetes), for the step journal. */
function reattaching(h: Harness): Harness['runtime'] {
  return new Proxy(h.runtime, {
    get: (target, prop, receiver) => {
      if (prop === 'reattaches') return true;
      if (prop === 'reattachContainer') return async () => undefined;
      const value: unknown = Reflect.get(target, prop, receiver);
      return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
    },
  });
}

function taskPlanId(plan: unknown): string {
  const found = JSON.stringify(plan).match(/"id":"([^"]+)","task"/);
  assert.ok(found, JSON.stringify(plan));
  return found[1]!;
}

test("on a runtime that re-attaches, a dead node's build taken over goes on here: its finished task is not run again and the build succeeds", async (t) => {
  const { h } = setup(t, echoLines(1));
  const id = taskPlanId(await h.store.buildPlan(BUILD));
  await h.store.recordStepStarted(BUILD, id, id);
  await h.store.recordStepFinished(BUILD, id, id, { ok: true }, { artifacts: [], results: [], vars: [] });
  const leases = new FakeLeases('node-b');
  leases.orphans = [{ id: BUILD, previousOwner: 'node-a', leaseExpired: new Date('2026-12-02T10:00:00Z') }];
  const e = new Engine({ store: h.store, runtime: reattaching(h), externalUrl: 'http://jetway.test', artifactsDir: h.dir, logger: silentLogger, leases });
  assert.deepEqual(await e.heartbeat(20_000), [BUILD]);
  await e.wait(BUILD);
  assert.equal(row(h).status, 'succeeded');
  assert.equal(h.runtime.runs.length, 0, 'the task ran under node-a, not again here');
});

test('on a runtime that re-attaches, a task whose container is gone errors the build: its result is unknown, it is not run twice', async (t) => {
  const { h } = setup(t, echoLines(1));
  const id = taskPlanId(await h.store.buildPlan(BUILD));
  await h.store.recordStepStarted(BUILD, id, id);
  const e = new Engine({ store: h.store, runtime: reattaching(h), externalUrl: 'http://jetway.test', artifactsDir: h.dir, logger: silentLogger });
  assert.equal(await e.recoverOrphans(), 1);
  await e.wait(BUILD);
  const { status, events } = row(h);
  assert.equal(status, 'errored');
  assert.equal(h.runtime.runs.length, 0);
  assert.match(errors(events).join('\n'), /task 'unit' was running when the web node that ran this build stopped, and its container is gone: its result is unknown/);
});

test('stop() on a runtime that re-attaches hands the builds over: lease released, the build still started, its running step not recorded as ended', async (t) => {
  let started!: () => void;
  const running = new Promise<void>((resolve) => (started = resolve));
  const { h } = setup(t, async (_spec, _process, _dir, signal) => {
    started();
    await new Promise((resolve) => signal.addEventListener('abort', resolve, { once: true }));
    return { exitStatus: 137 };
  });
  const leases = new FakeLeases('node-a');
  const e = new Engine({ store: h.store, runtime: reattaching(h), externalUrl: 'http://jetway.test', artifactsDir: h.dir, logger: silentLogger, leases });
  e.track(BUILD);
  await running;
  await e.stop();
  const { status, completed, events } = row(h);
  assert.equal(status, 'started');
  assert.equal(completed, false);
  assert.deepEqual(errors(events), []);
  assert.equal(leases.owner.has(BUILD), false, 'the lease is released for the next node');
  assert.deepEqual(
    (await h.store.buildSteps(BUILD)).map((r) => r.state),
    ['started'],
  );
});

// A get, put or check that was running is re-attached (or, its container gone, errors or runs
// again): test/engine/reattach-resources.test.ts.
const RESOURCE_PIPELINE = `
resources:
- name: out
  type: mock
  source: {uri: https://git.test/out.git}
`;

test("on a runtime that re-attaches, a put the dead node finished is not run again: its implicit get fetches the version it recorded", async (t) => {
  const h = harness(t, {
    pipeline: RESOURCE_PIPELINE,
    resource: (_spec, script, request) =>
      script === 'in' ? { exitStatus: 0, response: { version: (request as { version: unknown }).version } } : { exitStatus: 0, response: { version: { ref: 'pushed-again' } } },
  });
  const plan = h.stepPlan({ put: 'out' });
  h.store.addBuild({ id: BUILD }, { plan });
  const found = JSON.stringify(plan).match(/"id":"([^"]+)","put"/);
  assert.ok(found, JSON.stringify(plan));
  const id = found[1]!;
  await h.store.recordStepStarted(BUILD, id, id);
  await h.store.recordStepFinished(BUILD, id, id, { ok: true }, { artifacts: [], results: [[id, { version: { ref: 'shipped' } }]], vars: [] });
  const e = new Engine({ store: h.store, runtime: reattaching(h), externalUrl: 'http://jetway.test', artifactsDir: h.dir, logger: silentLogger });
  assert.equal(await e.recoverOrphans(), 1);
  await e.wait(BUILD);
  assert.equal(row(h).status, 'succeeded', errors(row(h).events).join('\n'));
  assert.deepEqual(
    h.runtime.runs.map((r) => [r.script, JSON.stringify((r.request as { version?: unknown }).version)]),
    [['in', '{"ref":"shipped"}']],
  );
});

test('the build is read while its lease is claimed (neither waits for the other); refused, nothing runs', async (t) => {
  const { h } = setup(t, echoLines(1));
  let read!: () => void;
  const buildRead = new Promise<void>((resolve) => (read = resolve));
  const store = new Proxy(h.store, {
    get(target, prop, receiver) {
      if (prop === 'buildToRun') {
        return (id: number) => {
          read();
          return target.buildToRun(id);
        };
      }
      const v: unknown = Reflect.get(target, prop, receiver);
      return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
    },
  });
  class WaitingLeases extends FakeLeases {
    override async claim(buildId: number): Promise<boolean> {
      // the claim's answer waits for the build's read: a node reading only after the claim never gets here
      await Promise.race([buildRead, new Promise((_, reject) => setTimeout(() => reject(new Error('the build was not read while its lease was claimed')), 2_000))]);
      return super.claim(buildId);
    }
  }
  const leases = new WaitingLeases('node-a');
  const e = engine(h, store, { leases });
  e.track(BUILD);
  await e.wait(BUILD);
  assert.equal(row(h).status, 'succeeded', errors(row(h).events).join('\n'));

  // refused the lease: read for nothing, and nothing run or written
  const other = setup(t, echoLines(1));
  const refusing = new WaitingLeases('node-b');
  refusing.owner.set(BUILD, 'node-a');
  const e2 = engine(other.h, other.h.store, { leases: refusing });
  read(); // (this store is not watched)
  e2.track(BUILD);
  await e2.wait(BUILD);
  assert.equal(row(other.h).status, 'started');
  assert.deepEqual(row(other.h).events, []);
  assert.equal(other.h.runtime.runs.length, 0);
});
