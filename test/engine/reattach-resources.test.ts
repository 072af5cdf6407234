// Gets, puts and checks re-attached after a web-node restart or takeover (issue 17,
// docs/web-nodes.md "Re-attaching builds"): on a runtime whose processes outlive the web node,
// a resource script a previous node started is followed again by the node that takes the build
// over (the scripted runtime's `leave`), its result read, and the build goes on: a put's version
// saved once and fetched once by its implicit get, with no second push; a get's artifact handed
// on; a check's versions saved. A put or get whose container is gone errors (never run twice); a
// check whose container is gone simply runs again. A result above the bound errors the step.
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Engine } from '../../src/engine/engine.ts';
import { stableHandle } from '../../src/engine/steps/deps.ts';
import { MAX_RESULT_BYTES } from '../../src/engine/steps/resource-script.ts';
import { silentLogger } from '../../src/log.ts';
import type { BuildEvent } from '../../src/model/build-events.ts';
import type { Plan } from '../../src/model/plan.ts';
import type { ResourceHandler, TaskHandler } from '../support/scripted-runtime.ts';
import { errorOf, harness, JOB_ID, leaf, type Harness } from './steps/harness.ts';

const BUILD = 5;

const PIPELINE = `
resources:
- name: out
  type: mock
  source: {uri: https://git.test/out.git}
`;

function setup(t: TestContext, resource: ResourceHandler, plan: (h: Harness) => Plan, kind: 'job' | 'check' = 'job', task?: TaskHandler): { h: Harness; plan: Plan } {
  const h = harness(t, { pipeline: PIPELINE, reattaches: true, resource, ...(task ? { task } : {}) });
  const p = plan(h);
  const resourceId = h.store.resources.find((r) => r.name === 'out')?.id;
  h.store.addBuild(
    kind === 'job'
      ? { id: BUILD, pipelineId: h.pipelineId!, pipelineName: 'p', jobId: JOB_ID, jobName: 'build' }
      : { id: BUILD, pipelineId: h.pipelineId!, pipelineName: 'p', resourceId: resourceId ?? null },
    { plan: p },
  );
  return { h, plan: p };
}

/** The first node started the step `id` (its journal record) and stopped: this node takes the build over. */
async function takeOver(h: Harness, id: string): Promise<{ status: string; events: BuildEvent[] }> {
  await h.store.recordStepStarted(BUILD, id, id);
  const e = new Engine({ store: h.store, runtime: h.runtime, externalUrl: 'http://jetway.test', artifactsDir: h.dir, logger: silentLogger });
  assert.equal(await e.recoverOrphans(), 1);
  await e.wait(BUILD);
  const row = h.store.builds.find((b) => b.build.id === BUILD)!;
  return { status: row.status, events: row.events };
}

const errors = (events: readonly BuildEvent[]): string => events.flatMap((e) => (e.event === 'error' ? [e.data.message] : [])).join('\n');
const types = (events: readonly BuildEvent[]): string[] => events.filter((e) => e.event !== 'log').map((e) => e.event);
const stderrOf = (events: readonly BuildEvent[]): string =>
  events.flatMap((e) => (e.event === 'log' && e.data.origin.source === 'stderr' ? [e.data.payload] : [])).join('');

test("a put whose script was running is re-attached: its result read, its version saved once, its implicit get fetches it once, no second push", async (t) => {
  const { h, plan } = setup(
    t,
    (_spec, script, request) =>
      script === 'in' ? { exitStatus: 0, response: { version: (request as { version: unknown }).version } } : { exitStatus: 0, response: { version: { ref: 'pushed-again' } } },
    (h) => h.stepPlan({ put: 'out' }),
  );
  const putId = leaf(plan, 'put').id;
  h.runtime.leave(stableHandle(BUILD, putId), { exitStatus: 0, stderr: 'pushing\n', response: { version: { ref: 'pushed' }, metadata: [{ name: 'by', value: 'first node' }] } });
  const { status, events } = await takeOver(h, putId);
  assert.equal(status, 'succeeded', errors(events));
  assert.deepEqual(h.runtime.scriptRuns('out'), [], 'no second push');
  assert.deepEqual(h.runtime.followed, [stableHandle(BUILD, putId)]);
  assert.deepEqual(
    h.runtime.scriptRuns('in').map((r) => (r.request as { version: unknown }).version),
    [{ ref: 'pushed' }],
    'the implicit get fetched the pushed version, once',
  );
  assert.deepEqual(
    h.store.buildOutputs.map((o) => [o.buildId, o.name, o.version]),
    [[BUILD, 'out', { ref: 'pushed' }]],
    'the version recorded once',
  );
  // the first node emitted the put's first events; this one its end
  assert.deepEqual(types(events).filter((e) => e.endsWith('-put')), ['finish-put']);
  assert.equal(stderrOf(events), 'pushing\n');
});

test("a get whose script was running is re-attached: its artifact and version go to the steps after it, `in` is not run again", async (t) => {
  // the task after the get reads the file the get's script left
  const seen: string[] = [];
  const { h, plan } = setup(
    t,
    () => ({ exitStatus: 0, response: { version: { ref: 'fetched-again' } } }),
    (h) => h.stepPlan([{ get: 'out' }, { task: 'uses', config: { platform: 'linux', inputs: [{ name: 'out' }], run: { path: 'true' } } }], { out: { ref: 'v1' } }),
    'job',
    (_spec, _process, workDir) => {
      seen.push(readFileSync(join(workDir, 'out', 'README'), 'utf8'));
      return { exitStatus: 0 };
    },
  );
  const getId = leaf(plan, 'get').id;
  h.runtime.leave(stableHandle(BUILD, getId), { exitStatus: 0, files: { 'get/README': 'fetched by the first node' }, response: { version: { ref: 'v1' }, metadata: [{ name: 'm', value: 'x' }] } });
  const { status, events } = await takeOver(h, getId);
  assert.equal(status, 'succeeded', errors(events));
  assert.deepEqual(h.runtime.scriptRuns('in'), [], '`in` ran under the first node only');
  assert.deepEqual(seen, ['fetched by the first node'], "the task after the get got the get's artifact");
  const finish = events.find((e) => e.event === 'finish-get');
  assert.deepEqual(finish?.event === 'finish-get' ? finish.data.version : undefined, { ref: 'v1' });
  assert.deepEqual(types(events).filter((e) => e.endsWith('-get')), ['finish-get']);
});

test("a check whose script was running is re-attached: the versions it found are saved, the check is not run again", async (t) => {
  const { h, plan } = setup(t, () => ({ exitStatus: 0, response: [{ ref: 'again' }] }), (h) => h.checkPlan('out', { id: 'chk' }), 'check');
  h.runtime.leave(stableHandle(BUILD, 'chk'), { exitStatus: 0, response: [{ ref: 'a' }, { ref: 'b' }] });
  const { status, events } = await takeOver(h, leaf(plan, 'check').id);
  assert.equal(status, 'succeeded', errors(events));
  assert.deepEqual(h.runtime.scriptRuns('check'), []);
  const resourceId = h.store.resources.find((r) => r.name === 'out')!.id;
  const scope = h.store.scopes.find((s) => s.resourceId === resourceId)!;
  assert.deepEqual(
    h.store.versionsOf(scope.id).map((v) => v.version),
    [{ ref: 'a' }, { ref: 'b' }],
  );
});

test('a check whose container is gone runs again on the node that took it over (a check only finds versions)', async (t) => {
  const { h, plan } = setup(t, () => ({ exitStatus: 0, response: [{ ref: 'c' }] }), (h) => h.checkPlan('out', { id: 'chk' }), 'check');
  const { status, events } = await takeOver(h, leaf(plan, 'check').id);
  assert.equal(status, 'succeeded', errors(events));
  assert.equal(h.runtime.scriptRuns('check').length, 1);
  assert.notEqual(h.runtime.scriptRuns('check')[0]?.handle, stableHandle(BUILD, 'chk'), 'in a container of its own');
});

for (const kind of ['put', 'get'] as const) {
  test(`a ${kind} whose container is gone errors the build: its result is unknown, its script is not run a second time`, async (t) => {
    const { h, plan } = setup(
      t,
      (_spec, script) => ({ exitStatus: 0, response: { version: { ref: `${script}-again` } } }),
      (h) => h.stepPlan(kind === 'put' ? { put: 'out' } : { get: 'out' }, kind === 'get' ? { out: { ref: 'v1' } } : {}),
    );
    const { status, events } = await takeOver(h, leaf(plan, kind).id);
    assert.equal(status, 'errored');
    assert.deepEqual(h.runtime.runs.map((r) => r.script), []);
    assert.match(errors(events), new RegExp(`${kind} 'out' was running when the web node that ran this build stopped, and its container is gone: its result is unknown, so it is not run a second time`));
  });
}

test('a resource script whose result is above the bound errors the step naming the bound', async (t) => {
  const h = harness(t, { pipeline: PIPELINE, resource: () => ({ exitStatus: 0, response: { version: { ref: 'v' }, metadata: [{ name: 'big', value: 'x'.repeat(MAX_RESULT_BYTES) }] } }) });
  const outcome = await h.run(h.stepPlan({ get: 'out' }, { out: { ref: 'v' } }));
  assert.match(errorOf(outcome), /resource script 'in' printed a result of more than 4 MiB, the most Jetway reads/);
});
