// The check step's seam for in-process checks (issue 23, src/resources/in-process.ts): a base
// type with Jetway's own image checks in the web node (no container); a custom type — also one
// that shadows a built-in name — a type left out, or a declined source keeps its container.
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { InProcessChecks, InProcessDeclined } from '../../../src/resources/in-process.ts';
import type { ResourceHandler } from '../../support/scripted-runtime.ts';
import { eventData, eventTypes, harness, logged, type Harness } from './harness.ts';
import { IN_PROCESS_PIPELINE } from './in-process-pipeline.ts';

const PIPELINE = IN_PROCESS_PIPELINE;

/** Answers every script the runtime runs (the custom type's check, a declined git check). */
const scripted: ResourceHandler = (_spec, script) => (script === 'check' ? { exitStatus: 0, response: [{ version: 'from-a-container' }] } : { exitStatus: 0, response: { version: { version: 'x' }, metadata: [] } });

function setup(t: TestContext, checks = new InProcessChecks({ gitMirrorDir: '/nonexistent/git-mirrors' }), pipeline = PIPELINE): Harness {
  const h = harness(t, { pipeline, resource: scripted });
  h.deps.inProcessChecks = checks;
  return h;
}

function versionsOf(h: Harness, resource: string): string[] {
  const scope = h.store.resources.find((r) => r.name === resource)?.scopeId;
  assert.ok(scope !== undefined && scope !== null, `${resource} has a scope`);
  return h.store.versionsOf(scope).map((v) => JSON.stringify(v.version));
}

test('a mock resource checks in the web node: no container, the versions saved, the check succeeded', async (t) => {
  const h = setup(t);
  assert.deepEqual(await h.run(h.checkPlan('repo')), { ok: true });
  assert.deepEqual(h.runtime.containers, [], 'no container');
  assert.deepEqual(versionsOf(h, 'repo'), ['{"version":"v1"}']);
  assert.deepEqual(eventTypes(h.events), ['initialize-check', 'finish']);
  assert.equal(eventData(h.events, 'finish')[0]?.succeeded, true);
  assert.equal(h.store.scopes[0]?.lastCheckSucceeded, true);
});

test('the next check starts from the latest version, as the script would be asked', async (t) => {
  const h = setup(t);
  await h.run(h.checkPlan('repo'));
  assert.deepEqual(await h.run(h.checkPlan('repo', { id: 'chk2', skipInterval: true })), { ok: true });
  assert.deepEqual(versionsOf(h, 'repo'), ['{"version":"v1"}']);
  assert.deepEqual(h.runtime.containers, []);
});

test('a failing check: its message in the step’s log as a script’s stderr, the check failed, no container', async (t) => {
  const h = setup(t);
  assert.deepEqual(await h.run(h.checkPlan('failing')), { ok: false });
  assert.deepEqual(h.runtime.containers, []);
  assert.equal(logged(h.events, 'stderr'), 'looking\nintentionally failing to check: no luck\n');
  assert.equal(eventData(h.events, 'finish')[0]?.succeeded, false);
  assert.deepEqual(eventTypes(h.events).filter((e) => e === 'error'), [], 'no error event: a failed check, as a script exiting 1');
  assert.equal(h.store.scopes[0]?.lastCheckSucceeded, false);
});

test('a resource of a custom type keeps its container (its type’s own mock check runs in the web node)', async (t) => {
  const h = setup(t);
  assert.deepEqual(await h.run(h.checkPlan('custom')), { ok: true });
  const checks = h.runtime.scriptRuns('check');
  assert.equal(checks.length, 1, 'one check script: the custom resource’s');
  assert.deepEqual(checks[0]?.request, { source: { initial_version: 'c1' } });
  assert.deepEqual(versionsOf(h, 'custom'), ['{"version":"from-a-container"}']);
});

test('a custom type that shadows a built-in name keeps its container', async (t) => {
  const pipeline = `
resource_types:
- name: time
  type: mock
  source: {mirror_self: true}
resources:
- name: clock
  type: time
  source: {interval: 1h}
`;
  const h = setup(t, undefined, pipeline);
  assert.deepEqual(await h.run(h.checkPlan('clock')), { ok: true });
  const runs = h.runtime.scriptRuns('check');
  assert.equal(runs.length, 1, 'one check script: the resource’s, in its custom type’s image');
  assert.deepEqual(runs[0]?.request, { source: { interval: '1h' } });
  assert.deepEqual(versionsOf(h, 'clock'), ['{"version":"from-a-container"}']);
});

test('a built-in type the web node does not check in process keeps its container', async (t) => {
  const h = setup(t, new InProcessChecks({ types: ['mock'] }));
  assert.deepEqual(await h.run(h.checkPlan('clock')), { ok: true });
  assert.deepEqual(h.runtime.scriptRuns('check').length, 1);
  assert.deepEqual(versionsOf(h, 'clock'), ['{"version":"from-a-container"}']);
});

test('a git resource at a local path keeps its container (the web node’s disk is not the pipeline’s)', async (t) => {
  const h = setup(t);
  assert.deepEqual(await h.run(h.checkPlan('local-git')), { ok: true });
  assert.equal(h.runtime.scriptRuns('check').length, 1);
});

test('the time type checks in the web node', async (t) => {
  const h = setup(t);
  assert.deepEqual(await h.run(h.checkPlan('clock')), { ok: true });
  assert.deepEqual(h.runtime.containers, []);
  assert.equal(versionsOf(h, 'clock').length, 1);
});

test('without in-process checks (the default) every check has a container', async (t) => {
  const h = harness(t, { pipeline: PIPELINE, resource: scripted });
  await h.run(h.checkPlan('repo'));
  assert.equal(h.runtime.scriptRuns('check').length, 1);
});

test('versions found in the web node that cannot be saved end the check failed, not in progress', async (t) => {
  const h = setup(t);
  h.store.saveVersions = () => Promise.reject(new Error('the database went away'));
  assert.deepEqual(await h.run(h.checkPlan('repo')), { error: 'the database went away' });
  const scope = h.store.scopes[0];
  assert.equal(scope?.lastCheckSucceeded, false);
  assert.ok(scope?.lastCheckEndTime, 'the check ended');
  assert.ok(scope?.nextCheckTime, 'it waits its interval');
});

test('a check the web node declines as it runs falls back to a container, made only once its start is recorded', async (t) => {
  const declining = new InProcessChecks({ gitMirrorDir: '/nonexistent/git-mirrors' });
  declining.accepts = () => true;
  declining.check = () => Promise.reject(new InProcessDeclined('not this source after all'));
  let startAtScript: Date | null | undefined;
  const h = harness(t, {
    pipeline: PIPELINE,
    resource: (spec, script, request, workDir) => {
      startAtScript = h.store.scopes[0]?.lastCheckStartTime;
      return scripted(spec, script, request, workDir);
    },
  });
  h.deps.inProcessChecks = declining;
  // a slow write of the start: a container made before it finished would see none
  const markCheckStarted = h.store.markCheckStarted.bind(h.store);
  h.store.markCheckStarted = async (...args) => {
    await new Promise((resolve) => setTimeout(resolve, 30));
    return markCheckStarted(...args);
  };
  assert.deepEqual(await h.run(h.checkPlan('repo')), { ok: true });
  assert.equal(h.runtime.scriptRuns('check').length, 1, 'the check ran in a container');
  assert.ok(startAtScript instanceof Date, 'its start was recorded before the container');
});
