// The engine's in-memory checks (src/model/in-memory-check.ts, docs/in-process-checks.md): the
// check plan run with no build record, no journal and no container. A check the web node runs
// itself saves its versions and answers its status with its events; one that would need a
// container stops before it writes anything and says why.
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { Engine } from '../../src/engine/engine.ts';
import { silentLogger } from '../../src/log.ts';
import type { InMemoryCheck } from '../../src/model/in-memory-check.ts';
import { InProcessChecks } from '../../src/resources/in-process.ts';
import { harness, type Harness } from './steps/harness.ts';
import { IN_PROCESS_PIPELINE } from './steps/in-process-pipeline.ts';

const PIPELINE = IN_PROCESS_PIPELINE;

function setup(t: TestContext): { h: Harness; engine: Engine; check(resource: string): InMemoryCheck } {
  const h = harness(t, { pipeline: PIPELINE, resource: () => ({ exitStatus: 0, response: [{ version: 'from-a-container' }] }) });
  const engine = new Engine({
    store: h.store,
    runtime: h.runtime,
    externalUrl: 'http://jetway.test',
    artifactsDir: '/nonexistent',
    logger: silentLogger,
    inProcessChecks: new InProcessChecks({ gitMirrorDir: '/nonexistent/git-mirrors' }),
  });
  const check = (resource: string): InMemoryCheck => ({
    id: 900,
    createTime: new Date(),
    teamId: 1,
    teamName: 'main',
    pipelineId: h.pipelineId!,
    pipelineName: 'p',
    resourceId: h.store.resources.find((r) => r.name === resource)!.id,
    plan: h.checkPlan(resource),
  });
  return { h, engine, check };
}

const versionsOf = (h: Harness, resource: string): string[] => {
  const scope = h.store.resources.find((r) => r.name === resource)?.scopeId;
  return scope == null ? [] : h.store.versionsOf(scope).map((v) => JSON.stringify(v.version));
};

test('a built-in check runs in memory: its versions saved, no container, no build record, its events answered', async (t) => {
  const { h, engine, check } = setup(t);
  const outcome = await engine.runInMemoryCheck(check('repo'), h.config, new AbortController().signal);
  assert.ok(outcome.ran);
  assert.equal(outcome.status, 'succeeded');
  assert.deepEqual(outcome.events.map((e) => e.event), ['initialize-check', 'finish']);
  assert.deepEqual(versionsOf(h, 'repo'), ['{"version":"v1"}']);
  assert.deepEqual(h.runtime.containers, []);
  assert.deepEqual(h.store.builds, [], 'no build record');
  const scope = h.store.scopes.find((s) => s.id === h.store.resources.find((r) => r.name === 'repo')?.scopeId);
  assert.equal(scope?.lastCheckSucceeded, true);
});

test('a failing in-memory check answers failed with its log, for the checker to keep as a check build', async (t) => {
  const { h, engine, check } = setup(t);
  const outcome = await engine.runInMemoryCheck(check('failing'), h.config, new AbortController().signal);
  assert.ok(outcome.ran);
  assert.equal(outcome.status, 'failed');
  const stderr = outcome.events.flatMap((e) => (e.event === 'log' ? [e.data.payload] : [])).join('');
  assert.equal(stderr, 'looking\nintentionally failing to check: no luck\n');
  assert.deepEqual(h.runtime.containers, []);
});

for (const [resource, why] of [
  ['custom', /its type has an image of its own/],
  ['local-git', /not checked in the web node/],
] as const) {
  test(`an in-memory check of ${resource} needs a container: it stops before writing anything and says why`, async (t) => {
    const { h, engine, check } = setup(t);
    const outcome = await engine.runInMemoryCheck(check(resource), h.config, new AbortController().signal);
    assert.equal(outcome.ran, false);
    assert.match(outcome.ran ? '' : outcome.reason, why);
    assert.deepEqual(h.runtime.containers, [], 'no container');
    assert.deepEqual(h.store.scopes, [], 'no scope made or marked');
    assert.deepEqual(versionsOf(h, resource), []);
  });
}

test('an in-memory check interpolates with the var sources the checker hands it (nothing of the pipeline is read)', async (t) => {
  const { h, engine, check } = setup(t);
  const pipeline = { ...h.config, var_sources: [{ name: 'vault', type: 'dummy', config: { vars: { v: 'from-the-checker' } } }] };
  const outcome = await engine.runInMemoryCheck(check('secret'), pipeline, new AbortController().signal);
  assert.ok(outcome.ran);
  assert.equal(outcome.status, 'succeeded');
  assert.deepEqual(versionsOf(h, 'secret'), ['{"version":"from-the-checker"}']);
});
