import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PlanExecutor, runBuild, type LeafSteps, type StepContext } from '../../src/engine/exec.ts';
import { RunState } from '../../src/engine/run-state.ts';
import { BuildAborted } from '../../src/engine/outcome.ts';
import type { BuildEvent } from '../../src/model/build-events.ts';
import type { Plan, TaskPlan } from '../../src/model/plan.ts';

// Leaf tasks behave by name: ok-*, fail-*, error-*, hang-* (until cancelled), abort-* (aborts the
// build), flaky-N-* (fails until attempt N). What ran is recorded in order.
class ScriptedLeaves implements LeafSteps {
  ran: string[] = [];
  running = 0;
  maxRunning = 0;
  attempts = new Map<string, number>();
  constructor(private readonly abortBuild?: AbortController) {}

  async task(_id: string, plan: TaskPlan, ctx: StepContext): Promise<boolean> {
    const name = plan.name;
    this.ran.push(name);
    this.running++;
    this.maxRunning = Math.max(this.maxRunning, this.running);
    try {
      await new Promise((r) => setTimeout(r, 5));
      if (name.startsWith('var-')) {
        this.ran.push(`${name}=${String(ctx.state.localVar('v'))}`);
        return true;
      }
      if (name.startsWith('ok')) return true;
      if (name.startsWith('fail')) return false;
      if (name.startsWith('error')) throw new Error(`${name} broke`);
      if (name.startsWith('flaky')) {
        const n = (this.attempts.get(name) ?? 0) + 1;
        this.attempts.set(name, n);
        return n >= Number(name.split('-')[1]);
      }
      if (name.startsWith('abort')) this.abortBuild?.abort(new BuildAborted());
      // hang (and abort): wait until cancelled
      await new Promise<never>((_, reject) => {
        if (ctx.signal.aborted) reject(ctx.signal.reason);
        ctx.signal.addEventListener('abort', () => reject(ctx.signal.reason), { once: true });
      });
      return true;
    } finally {
      this.running--;
    }
  }
  async get(): Promise<boolean> { throw new Error('unused'); }
  async put(): Promise<boolean> { throw new Error('unused'); }
  async check(): Promise<boolean> { throw new Error('unused'); }
  async setPipeline(): Promise<boolean> { throw new Error('unused'); }
  async loadVar(): Promise<boolean> { throw new Error('unused'); }
  async artifactInput(): Promise<boolean> { throw new Error('unused'); }
  async artifactOutput(): Promise<boolean> { throw new Error('unused'); }
}

let ids = 0;
const t = (name: string): Plan => ({ id: `p${ids++}`, task: { name } });
const doP = (...steps: Plan[]): Plan => ({ id: `p${ids++}`, do: steps });
const hook = (kind: 'on_success' | 'on_failure' | 'on_error' | 'on_abort' | 'ensure', step: Plan, h: Plan): Plan =>
  ({ id: `p${ids++}`, [kind]: { step, [kind]: h } }) as unknown as Plan;

async function exec(plan: Plan, abort = new AbortController()) {
  const leaves = new ScriptedLeaves(abort);
  const events: BuildEvent[] = [];
  const ctx: StepContext = { signal: abort.signal, state: new RunState(), emit: async (e) => { events.push(e); } };
  let outcome: { ok: boolean } | { error: unknown };
  try {
    outcome = { ok: await new PlanExecutor(leaves).run(plan, ctx) };
  } catch (error) {
    outcome = { error };
  }
  return { outcome, ran: leaves.ran, leaves, events };
}

test('do stops at the first failure', async () => {
  const r = await exec(doP(t('ok1'), t('fail1'), t('ok2')));
  assert.deepEqual(r.outcome, { ok: false });
  assert.deepEqual(r.ran, ['ok1', 'fail1']);
});

test('on_success runs the hook only after success; its result is the result', async () => {
  assert.deepEqual((await exec(hook('on_success', t('ok1'), t('fail-hook')))).outcome, { ok: false });
  const r = await exec(hook('on_success', t('fail1'), t('ok-hook')));
  assert.deepEqual(r.ran, ['fail1']);
});

test('on_failure runs on failure only, and the result stays failed', async () => {
  const r = await exec(hook('on_failure', t('fail1'), t('ok-hook')));
  assert.deepEqual(r.outcome, { ok: false });
  assert.deepEqual(r.ran, ['fail1', 'ok-hook']);
  const errored = await exec(hook('on_failure', t('error1'), t('ok-hook')));
  assert.deepEqual(errored.ran, ['error1'], 'an error is not a failure');
  assert.ok('error' in errored.outcome);
});

test('on_error runs on error and combines the errors', async () => {
  const r = await exec(hook('on_error', t('error1'), t('error-hook')));
  assert.deepEqual(r.ran, ['error1', 'error-hook']);
  assert.ok('error' in r.outcome);
  assert.match(String((r.outcome.error as Error).message), /error1 broke.*error-hook broke/);
  assert.deepEqual((await exec(hook('on_error', t('fail1'), t('ok-hook')))).ran, ['fail1']);
});

test('on_abort runs in a fresh context when the build is aborted, and the abort propagates', async () => {
  const r = await exec(hook('on_abort', t('abort1'), t('ok-hook')));
  assert.deepEqual(r.ran, ['abort1', 'ok-hook']);
  assert.ok('error' in r.outcome && r.outcome.error instanceof BuildAborted);
});

test('ensure always runs; ok needs both; errors combine; abort re-propagates', async () => {
  assert.deepEqual((await exec(hook('ensure', t('ok1'), t('fail-hook')))).outcome, { ok: false });
  assert.deepEqual((await exec(hook('ensure', t('fail1'), t('ok-hook')))).ran, ['fail1', 'ok-hook']);
  const aborted = await exec(hook('ensure', t('abort1'), t('ok-hook')));
  assert.deepEqual(aborted.ran, ['abort1', 'ok-hook']);
  assert.ok('error' in aborted.outcome && aborted.outcome.error instanceof BuildAborted);
});

test('try swallows failures and errors but not an abort', async () => {
  assert.deepEqual((await exec({ id: 'x', try: { step: t('fail1') } })).outcome, { ok: true });
  assert.deepEqual((await exec({ id: 'x', try: { step: t('error1') } })).outcome, { ok: true });
  const r = await exec({ id: 'x', try: { step: t('abort1') } });
  assert.ok('error' in r.outcome && r.outcome.error instanceof BuildAborted);
});

test('an exceeded timeout fails the step (not an error) and says so in an event', async () => {
  const r = await exec({ id: 'to', timeout: { step: t('hang1'), duration: '50ms' } });
  assert.deepEqual(r.outcome, { ok: false });
  assert.deepEqual(
    r.events.filter((e) => e.event === 'error').map((e) => e.data),
    [{ time: (r.events[0]!.data as { time: number }).time, origin: { id: 'to' }, message: 'timeout exceeded' }],
  );
});

test('try swallows a timeout too', async () => {
  const r = await exec({ id: 'x', try: { step: { id: 'to', timeout: { step: t('hang1'), duration: '20ms' } } } });
  assert.deepEqual(r.outcome, { ok: true });
});

test('attempts retry until success; the last attempt decides', async () => {
  const flaky = await exec({ id: 'r', retry: [t('flaky-2-a'), t('flaky-2-a'), t('flaky-2-a')] });
  assert.deepEqual(flaky.outcome, { ok: true });
  assert.deepEqual(flaky.ran, ['flaky-2-a', 'flaky-2-a']);
  const errors = await exec({ id: 'r', retry: [t('fail1'), t('error1')] });
  assert.ok('error' in errors.outcome);
  assert.deepEqual((await exec({ id: 'r', retry: [t('error1'), t('fail1')] })).outcome, { ok: false });
});

test('in_parallel honours limit, runs all, and aggregates', async () => {
  const r = await exec({ id: 'ip', in_parallel: { steps: [t('ok1'), t('fail1'), t('ok2'), t('ok3')], limit: 2 } });
  assert.deepEqual(r.outcome, { ok: false });
  assert.equal(r.ran.length, 4);
  assert.equal(r.leaves.maxRunning, 2);
  const errors = await exec({ id: 'ip', in_parallel: { steps: [t('error1'), t('error2')] } });
  assert.ok('error' in errors.outcome);
  assert.match(String((errors.outcome.error as Error).message), /error1 broke.*error2 broke/);
});

test('in_parallel fail_fast cancels the others without making it an error', async () => {
  const r = await exec({ id: 'ip', in_parallel: { steps: [t('hang1'), t('fail1'), t('ok1')], fail_fast: true, limit: 0 } });
  assert.deepEqual(r.outcome, { ok: false });
});

test('across runs the cartesian product with local vars and renumbered ids', async () => {
  const template = t('var-x');
  const r = await exec({
    id: 'ac',
    across: { vars: [{ name: 'v', values: ['a', 'b', 'c'], max_in_flight: 'all' }], substep_template: JSON.stringify(template) },
  });
  assert.deepEqual(r.outcome, { ok: true });
  assert.deepEqual(r.ran.filter((x) => x.includes('=')).sort(), ['var-x=a', 'var-x=b', 'var-x=c']);
  const substeps = r.events.find((e) => e.event === 'across-substeps');
  assert.ok(substeps && substeps.event === 'across-substeps');
  assert.deepEqual(substeps.data.substeps.map((s) => s.step.id), ['ac/0/0', 'ac/1/0', 'ac/2/0']);
  assert.deepEqual(substeps.data.substeps.map((s) => s.values), [['a'], ['b'], ['c']], "each combination's values, for the build page");
});

test('runBuild maps outcomes to statuses and records build errors as events', async () => {
  const statuses = async (plan: Plan, abort = new AbortController()) => {
    const events: BuildEvent[] = [];
    const status = await runBuild({ plan, leaves: new ScriptedLeaves(abort), sink: { emit: async (e) => { events.push(e); } }, signal: abort.signal });
    return { status, events: events.map((e) => (e.event === 'error' ? `error:${e.data.message}` : e.event)) };
  };
  assert.deepEqual(await statuses(t('ok1')), { status: 'succeeded', events: [] });
  assert.deepEqual(await statuses(t('fail1')), { status: 'failed', events: [] });
  assert.deepEqual(await statuses(t('error1')), { status: 'errored', events: ['error:error1 broke'] });
  assert.deepEqual(await statuses(t('abort1')), { status: 'aborted', events: [] });
});
