// The step journal (issue 17, src/engine/journal.ts): a build's plan walked again after a web
// node took it over answers finished steps from their records (not run again, their artifacts,
// results and vars restored), re-attaches a started task, get, put or check, runs a started
// set_pipeline or load_var again (they run in the web node and are idempotent), refuses to run a
// started step of another kind twice, and a hand-over (ProcessDetached) records nothing and runs
// no hooks.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runBuild, type LeafSteps, type StepContext } from '../../src/engine/exec.ts';
import { JournaledSteps, stepDecision, stepKey, takeoverMode, type StepKind, type StepRecord, type TakeoverMode } from '../../src/engine/journal.ts';
import { RunState } from '../../src/engine/run-state.ts';
import type { BuildEvent } from '../../src/model/build-events.ts';
import type { GetPlan, LoadVarPlan, Plan, SetPipelinePlan, TaskPlan } from '../../src/model/plan.ts';
import { ProcessDetached } from '../../src/runtime/runtime.ts';
import { LineChunks } from '../../src/runtime/kubernetes/line-chunks.ts';
import { MemoryEngineStore } from '../support/memory-engine-store.ts';
import { StoreEventSink } from '../../src/engine/event-sink.ts';
import { silentLogger } from '../../src/log.ts';

// -- stepDecision: one test per row
const decisionRows: [string, StepRecord | undefined, TakeoverMode, ReturnType<typeof stepDecision>][] = [
  ['no record', undefined, 'reattach', 'run'],
  ['no record, not re-attachable', undefined, 'none', 'run'],
  ['no record, run again on takeover', undefined, 'rerun', 'run'],
  ['finished', { key: 'a', planId: 'a', state: 'finished', outcome: { ok: true }, effects: { artifacts: [], results: [], vars: [] } }, 'none', 'replay'],
  ['finished, run again on takeover: still replayed', { key: 'a', planId: 'a', state: 'finished', outcome: { ok: true }, effects: { artifacts: [], results: [], vars: [] } }, 'rerun', 'replay'],
  ['finished with an error', { key: 'a', planId: 'a', state: 'finished', outcome: { error: 'x' }, effects: { artifacts: [], results: [], vars: [] } }, 'reattach', 'replay'],
  ['started, re-attachable (a task, get, put or check on Kubernetes)', { key: 'a', planId: 'a', state: 'started' }, 'reattach', 'reattach'],
  ['started, idempotent in the web node (set_pipeline, load_var)', { key: 'a', planId: 'a', state: 'started' }, 'rerun', 'rerun'],
  ['started, neither', { key: 'a', planId: 'a', state: 'started' }, 'none', 'unknown'],
];
for (const [name, record, mode, want] of decisionRows) {
  test(`stepDecision: ${name} -> ${want}`, () => assert.equal(stepDecision(record, mode), want));
}

// -- takeoverMode: one test per row
const takeoverRows: [StepKind, TakeoverMode][] = [
  ['task', 'reattach'],
  ['get', 'reattach'],
  ['put', 'reattach'],
  ['check', 'reattach'],
  ['set_pipeline', 'rerun'],
  ['load_var', 'rerun'],
  ['artifact_input', 'none'],
  ['artifact_output', 'none'],
];
for (const [kind, want] of takeoverRows) {
  test(`takeoverMode(${kind}) = ${want}`, () => assert.equal(takeoverMode(kind), want));
}

const keyRows: [string, number, string][] = [
  ['p1', 0, 'p1'],
  ['p1', 1, 'p1#1'],
  ['3/0/2', 2, '3/0/2#2'],
];
for (const [id, n, want] of keyRows) {
  test(`stepKey(${id}, ${n}) = ${want}`, () => assert.equal(stepKey(id, n), want));
}

// -- LineChunks: one test per row (pieces in, (offset, chunk) out)
const chunkRows: [string, string[], [number, string][]][] = [
  ['whole lines in one piece', ['a\nbc\n'], [[0, 'a\n'], [2, 'bc\n']]],
  ['a line split across pieces', ['a', 'b\nc', '\n'], [[0, 'ab\n'], [3, 'c\n']]],
  ['a last line without newline comes at the end', ['x\ny'], [[0, 'x\n'], [2, 'y']]],
  ['a line longer than the maximum in pieces of it', ['abcdefgh\n'], [[0, 'abcd'], [4, 'efgh'], [8, '\n']]],
  ['the same long line arriving byte by byte', ['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h', '\n'], [[0, 'abcd'], [4, 'efgh'], [8, '\n']]],
];
for (const [name, pieces, want] of chunkRows) {
  test(`LineChunks: ${name}`, () => {
    const got: [number, string][] = [];
    const chunks = new LineChunks((c, at) => got.push([at, c.toString()]), 4);
    for (const p of pieces) chunks.push(Buffer.from(p));
    chunks.end();
    assert.deepEqual(got, want);
  });
}

// -- JournaledSteps over scripted leaves
class Leaves implements LeafSteps {
  ran: string[] = [];
  contexts: StepContext[] = [];
  constructor(private readonly artifactDir: string) {}
  async get(id: string, plan: GetPlan, ctx: StepContext): Promise<boolean> {
    this.ran.push(`get ${plan.name}`);
    ctx.state.storeResult(id, { version: { ref: 'v1' } });
    ctx.state.registerArtifact(plan.name, { kind: 'volume', path: this.artifactDir });
    ctx.state.setLocalVar(plan.name, { ref: 'v1' });
    return true;
  }
  async task(_id: string, plan: TaskPlan, ctx: StepContext): Promise<boolean> {
    this.ran.push(`task ${plan.name}${ctx.reattach ? ' (re-attached)' : ''}`);
    this.contexts.push(ctx);
    if (plan.name === 'hang') {
      await new Promise<never>((_, reject) => ctx.signal.addEventListener('abort', () => reject(ctx.signal.reason), { once: true }));
    }
    if (plan.name === 'uses-repo') return ctx.state.artifact('repo') !== undefined && ctx.state.localVar('repo') !== undefined;
    return !plan.name.startsWith('fail');
  }
  async put(id: string, _plan: unknown, ctx: StepContext): Promise<boolean> {
    this.ran.push(`put${ctx.reattach ? ' (re-attached)' : ''}`);
    ctx.state.storeResult(id, { version: { ref: 'pushed' } });
    return true;
  }
  async check(): Promise<boolean> {
    throw new Error('unused');
  }
  async setPipeline(_id: string, plan: SetPipelinePlan, ctx: StepContext): Promise<boolean> {
    this.ran.push(`set_pipeline ${plan.name}${ctx.reattach ? ' (re-attached)' : ''}`);
    return true;
  }
  async loadVar(_id: string, plan: LoadVarPlan, ctx: StepContext): Promise<boolean> {
    this.ran.push(`load_var ${plan.name}${ctx.reattach ? ' (re-attached)' : ''}`);
    ctx.state.setLocalVar(plan.name, 'loaded');
    return true;
  }
  async artifactInput(): Promise<boolean> {
    throw new Error('unused');
  }
  async artifactOutput(): Promise<boolean> {
    throw new Error('unused');
  }
}

const plan: Plan = {
  id: 'root',
  do: [
    { id: 'g', get: { name: 'repo', type: 'git', source: {} } as unknown as GetPlan },
    { id: 't1', task: { name: 'uses-repo' } as TaskPlan },
    { id: 't2', task: { name: 'second' } as TaskPlan },
  ],
};

async function walk(store: MemoryEngineStore, leaves: Leaves, buildId: number, signal = new AbortController().signal, thePlan = plan): Promise<{ status: string; events: BuildEvent[] }> {
  const events: BuildEvent[] = [];
  const journaled = new JournaledSteps(leaves, { store, buildId, records: await store.buildSteps(buildId), takeover: takeoverMode });
  const status = await runBuild({ plan: thePlan, leaves: journaled, sink: { emit: async (e) => void events.push(e) }, signal, state: new RunState() });
  return { status, events };
}

test('a build walked again: finished steps are answered from the journal (not run), their artifact and var restored for the steps after', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'jw-journal-'));
  try {
    const store = new MemoryEngineStore();
    const first = new Leaves(dir);
    assert.equal((await walk(store, first, 1)).status, 'succeeded');
    assert.deepEqual(first.ran, ['get repo', 'task uses-repo', 'task second']);
    const records = await store.buildSteps(1);
    assert.deepEqual(
      records.map((r) => [r.key, r.state]),
      [['g', 'finished'], ['t1', 'finished'], ['t2', 'finished']],
    );
    // t2 as if it was running when the web node stopped
    await store.recordStepStarted(2, 'g', 'g');
    await store.recordStepFinished(2, 'g', 'g', { ok: true }, records[0]!.state === 'finished' ? records[0]!.effects : { artifacts: [], results: [], vars: [] });
    await store.recordStepStarted(2, 't1', 't1');
    await store.recordStepFinished(2, 't1', 't1', { ok: true }, { artifacts: [], results: [], vars: [] });
    await store.recordStepStarted(2, 't2', 't2');
    const second = new Leaves(dir);
    assert.equal((await walk(store, second, 2)).status, 'succeeded');
    assert.deepEqual(second.ran, ['task second (re-attached)']);
    assert.equal(second.contexts[0]?.stepKey, 't2');
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('a restored step still gives the steps after it its artifact and var (a task re-attached after a get)', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'jw-journal-'));
  try {
    const store = new MemoryEngineStore();
    await walk(store, new Leaves(dir), 3);
    const g = (await store.buildSteps(3)).find((r) => r.key === 'g')!;
    assert.equal(g.state, 'finished');
    const again = new MemoryEngineStore();
    if (g.state === 'finished') await again.recordStepFinished(3, 'g', 'g', g.outcome, g.effects);
    await again.recordStepStarted(3, 't1', 't1');
    const leaves = new Leaves(dir);
    assert.equal((await walk(again, leaves, 3)).status, 'succeeded', 'uses-repo saw the restored artifact and var');
    assert.deepEqual(leaves.ran, ['task uses-repo (re-attached)', 'task second']);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('a started step that can be neither re-attached nor run again (an artifact upload) errors the build saying why, and is not run again', async () => {
  const store = new MemoryEngineStore();
  await store.recordStepStarted(4, 'u', 'u');
  const leaves = new Leaves(tmpdir());
  const uploadPlan: Plan = { id: 'root', do: [{ id: 'u', artifact_input: { name: 'src', artifact_id: 1 } } as unknown as Plan] };
  const { status, events } = await walk(store, leaves, 4, undefined, uploadPlan);
  assert.equal(status, 'errored');
  assert.deepEqual(leaves.ran, []);
  const messages = events.flatMap((e) => (e.event === 'error' ? [e.data.message] : []));
  assert.match(messages.join('\n'), /step u was running when the web node that ran this build stopped, and its result is unknown: it is not run a second time/);
});

test('a started put is re-attached (not run as new), and what it leaves is recorded once it ends', async () => {
  const store = new MemoryEngineStore();
  await store.recordStepStarted(9, 'p', 'p');
  const leaves = new Leaves(tmpdir());
  const putPlan: Plan = { id: 'root', do: [{ id: 'p', put: { name: 'out', type: 'git', source: {} } } as unknown as Plan] };
  assert.equal((await walk(store, leaves, 9, undefined, putPlan)).status, 'succeeded');
  assert.deepEqual(leaves.ran, ['put (re-attached)']);
  const [record] = await store.buildSteps(9);
  assert.equal(record?.state, 'finished');
  assert.deepEqual(record?.state === 'finished' ? record.effects.results : undefined, [['p', { version: { ref: 'pushed' } }]]);
});

test('a started set_pipeline or load_var runs again on takeover, as a new step (no re-attach), and its var reaches the steps after it', async () => {
  const store = new MemoryEngineStore();
  await store.recordStepStarted(10, 's', 's');
  await store.recordStepStarted(10, 'l', 'l');
  const leaves = new Leaves(tmpdir());
  const webNodePlan: Plan = {
    id: 'root',
    do: [
      { id: 's', set_pipeline: { name: 'child' } as SetPipelinePlan },
      { id: 'l', load_var: { name: 'v' } as LoadVarPlan },
      { id: 't', task: { name: 'after' } as TaskPlan },
    ],
  };
  assert.equal((await walk(store, leaves, 10, undefined, webNodePlan)).status, 'succeeded');
  assert.deepEqual(leaves.ran, ['set_pipeline child', 'load_var v', 'task after']);
  assert.deepEqual(
    (await store.buildSteps(10)).map((r) => [r.key, r.state]),
    [['s', 'finished'], ['l', 'finished'], ['t', 'finished']],
  );
  const l = (await store.buildSteps(10)).find((r) => r.key === 'l');
  assert.deepEqual(l?.state === 'finished' ? l.effects.vars : undefined, [['v', 'loaded']]);
});

test("a finished step whose artifact is not on this web node errors the build naming the artifact", async () => {
  const store = new MemoryEngineStore();
  await store.recordStepFinished(5, 'g', 'g', { ok: true }, { artifacts: [['repo', { kind: 'volume', path: join(tmpdir(), 'jw-no-such-volume-xyz') }]], results: [], vars: [] });
  const leaves = new Leaves(tmpdir());
  const { status, events } = await walk(store, leaves, 5);
  assert.equal(status, 'errored');
  assert.deepEqual(leaves.ran, []);
  assert.match(events.flatMap((e) => (e.event === 'error' ? [e.data.message] : [])).join('\n'), /the artifact 'repo' of step g, .* is not on this node/);
});

test('a failed step is replayed as failed: its on_failure hook ran already is not run again either', async () => {
  const store = new MemoryEngineStore();
  const failing: Plan = { id: 'root', on_failure: { step: { id: 'f', task: { name: 'fail-unit' } as TaskPlan }, on_failure: { id: 'h', task: { name: 'notify' } as TaskPlan } } };
  const first = new Leaves(tmpdir());
  assert.equal((await walk(store, first, 6, undefined, failing)).status, 'failed');
  assert.deepEqual(first.ran, ['task fail-unit', 'task notify']);
  const second = new Leaves(tmpdir());
  assert.equal((await walk(store, second, 6, undefined, failing)).status, 'failed');
  assert.deepEqual(second.ran, []);
});

test('a hand-over (ProcessDetached) records no end for the running step and runs no ensure hook here', async () => {
  const store = new MemoryEngineStore();
  const leaves = new Leaves(tmpdir());
  const controller = new AbortController();
  const hanging: Plan = { id: 'root', ensure: { step: { id: 'h', task: { name: 'hang' } as TaskPlan }, ensure: { id: 'e', task: { name: 'cleanup' } as TaskPlan } } };
  const walking = walk(store, leaves, 7, controller.signal, hanging);
  await new Promise((r) => setTimeout(r, 20));
  controller.abort(new ProcessDetached());
  await walking;
  assert.deepEqual(leaves.ran, ['task hang']);
  assert.deepEqual(
    (await store.buildSteps(7)).map((r) => [r.key, r.state]),
    [['h', 'started']],
  );
  // the next node re-attaches the task and then runs the hook
  const next = new Leaves(tmpdir());
  next.ran = [];
  const nextPlan: Plan = { id: 'root', ensure: { step: { id: 'h', task: { name: 'ok' } as TaskPlan }, ensure: { id: 'e', task: { name: 'cleanup' } as TaskPlan } } };
  assert.equal((await walk(store, next, 7, undefined, nextPlan)).status, 'succeeded');
  assert.deepEqual(next.ran, ['task ok (re-attached)', 'task cleanup']);
});

test("a re-attached step's log lines, emitted again under their offset keys, are saved once (StoreEventSink, writer keys)", async () => {
  const store = new MemoryEngineStore();
  store.addBuild({ id: 8 });
  const sink = new StoreEventSink(store, 8, silentLogger);
  const line = (payload: string): BuildEvent => ({ event: 'log', version: '5.1', data: { time: 1, origin: { id: 't', source: 'stdout' }, payload } }) as BuildEvent;
  // the first web node saved two lines; the next one reads the stream again from the start
  void sink.emit(line('line 1\n'), 'log:t:stdout:0');
  void sink.emit(line('line 2\n'), 'log:t:stdout:7');
  void sink.emit(line('line 1\n'), 'log:t:stdout:0');
  void sink.emit(line('line 2\n'), 'log:t:stdout:7');
  void sink.emit(line('line 3\n'), 'log:t:stdout:14');
  await sink.flushed();
  const payloads = (store.builds.find((b) => b.build.id === 8)?.events ?? []).flatMap((e) => (e.event === 'log' ? [e.data.payload] : []));
  assert.deepEqual(payloads, ['line 1\n', 'line 2\n', 'line 3\n']);
});

test("a task starts while its start is being recorded (journaled in its context); a set_pipeline only after; each end after its start", async () => {
  const dir = await mkdtemp(join(tmpdir(), 'jw-journal-'));
  try {
    const store = new MemoryEngineStore();
    const recordStepStarted = store.recordStepStarted.bind(store);
    // a slow write of each start
    store.recordStepStarted = async (...args) => {
      await new Promise((resolve) => setTimeout(resolve, 30));
      return recordStepStarted(...args);
    };
    const recordedWhenCalled: Record<string, boolean> = {};
    const leaves = new Leaves(dir);
    const task = leaves.task.bind(leaves);
    leaves.task = async (id, p, ctx) => {
      recordedWhenCalled[id] = (await store.buildSteps(7)).some((r) => r.key === id);
      await ctx.journaled;
      assert.equal((await store.buildSteps(7)).some((r) => r.key === id), true, 'journaled resolves once the start is recorded');
      return task(id, p, ctx);
    };
    const setPipeline = leaves.setPipeline.bind(leaves);
    leaves.setPipeline = async (id, p, ctx) => {
      recordedWhenCalled[id] = (await store.buildSteps(7)).some((r) => r.key === id);
      assert.equal(ctx.journaled, undefined);
      return setPipeline(id, p, ctx);
    };
    const thePlan: Plan = {
      id: 'root',
      do: [
        { id: 't', task: { name: 'one' } as TaskPlan },
        { id: 's', set_pipeline: { name: 'child' } as SetPipelinePlan },
      ],
    };
    assert.equal((await walk(store, leaves, 7, undefined, thePlan)).status, 'succeeded');
    assert.deepEqual(recordedWhenCalled, { t: false, s: true });
    assert.deepEqual(
      (await store.buildSteps(7)).map((r) => [r.key, r.state]),
      [['t', 'finished'], ['s', 'finished']],
    );
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
