// The check step on its own (Concourse's atc/exec/check_step_test.go): scope, lease, "is a check
// due", the version history and the check's state, on the in-memory store and the scripted runtime.
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import type { ContainerSpec } from '../../../src/runtime/runtime.ts';
import type { Version } from '../../../src/model/version.ts';
import type { ResourceHandler, ScriptResult } from '../../support/scripted-runtime.ts';
import { errorOf, eventData, eventTypes, harness, logged, originOf, type Harness, type HarnessOptions } from './harness.ts';

const PIPELINE = `
resource_types:
- name: my-type
  type: mock
  source: {mirror_self: true}
resources:
- name: repo
  type: mock
  source: {uri: https://git.test/repo.git}
  check_every: 1h
- name: custom
  type: my-type
  source: {initial_version: c1}
- name: app-image
  type: registry-image
  source: {repository: 127.0.0.1:9/team/app, tag: v1}
`;
const REPO_SOURCE = { uri: 'https://git.test/repo.git' };
const HOUR = 3_600_000;

/** A check script that answers from a list, recording nothing itself (the runtime records the runs). */
function finds(...versions: Version[]): ResourceHandler {
  return (_spec, script) => {
    assert.equal(script, 'check');
    return { exitStatus: 0, response: versions };
  };
}

function setup(t: TestContext, options: HarnessOptions = {}): Harness {
  return harness(t, { pipeline: PIPELINE, ...options });
}

function repoId(h: Harness): number {
  const id = h.store.resources.find((r) => r.name === 'repo')?.id;
  assert.ok(id !== undefined);
  return id;
}

test('check: the versions found are saved in order into the resource scope, which the resource points at; the check finishes succeeded', async (t) => {
  const h = setup(t, { resource: finds({ ref: 'a' }, { ref: 'b' }, { ref: 'c' }) });
  const plan = h.checkPlan('repo');

  assert.deepEqual(await h.run(plan), { ok: true });

  assert.deepEqual(eventTypes(h.events), ['initialize-check', 'finish']);
  assert.equal(eventData(h.events, 'initialize-check')[0]?.name, 'repo');
  assert.equal(eventData(h.events, 'finish')[0]?.succeeded, true);

  const [run] = h.runtime.scriptRuns('check');
  assert.deepEqual(run?.request, { source: REPO_SOURCE }, 'a first check has no version to start from');
  assert.equal(run?.env.BUILD_ID, '42');
  const [spec] = h.runtime.containers;
  assert.deepEqual(spec?.image, { kind: 'base-type', type: 'mock' });
  assert.equal(spec?.metadata.type, 'check');
  assert.deepEqual(h.runtime.destroyed, [spec?.handle]);

  assert.deepEqual(h.store.resourceConfigs.map((c) => ({ parent: c.parent, source: c.source })), [{ parent: { baseType: 'mock' }, source: REPO_SOURCE }]);
  const [scope] = h.store.scopes;
  assert.ok(scope);
  assert.deepEqual({ config: scope.resourceConfigId, resource: scope.resourceId }, { config: h.store.resourceConfigs[0]!.id, resource: repoId(h) });
  const resource = h.store.resources.find((r) => r.name === 'repo');
  assert.deepEqual({ config: resource?.resourceConfigId, scope: resource?.scopeId }, { config: scope.resourceConfigId, scope: scope.id });
  assert.deepEqual(
    h.store.versionsOf(scope.id).map((v) => v.version.ref),
    ['a', 'b', 'c'],
  );

  // the check's state: started, succeeded, next one due an interval (check_every: 1h) after its end
  assert.equal(scope.lastCheckSucceeded, true);
  assert.ok(scope.lastCheckStartTime && scope.lastCheckEndTime && scope.lastCheckStartTime <= scope.lastCheckEndTime);
  assert.equal(scope.nextCheckTime!.getTime() - scope.lastCheckEndTime.getTime(), HOUR);
  assert.deepEqual(scope.lastCheckBuild, { id: 42, plan: 'check' in plan ? plan.check : undefined });
  assert.equal(scope.checkLease, null, 'the lease is released');

  assert.deepEqual(h.state.result(plan.id), { version: { ref: 'c' } });
});

test("check: a container's check has its start recorded before its script runs", async (t) => {
  let startAtScript: Date | null | undefined;
  const h = setup(t, {
    resource: (_spec, script) => {
      assert.equal(script, 'check');
      startAtScript = h.store.scopes[0]?.lastCheckStartTime;
      return { exitStatus: 0, response: [{ ref: 'a' }] };
    },
  });
  // a slow write: a container made before it finished would see no start
  const markCheckStarted = h.store.markCheckStarted.bind(h.store);
  h.store.markCheckStarted = async (...args) => {
    await new Promise((resolve) => setTimeout(resolve, 30));
    return markCheckStarted(...args);
  };
  assert.deepEqual(await h.run(h.checkPlan('repo')), { ok: true });
  assert.ok(startAtScript instanceof Date, 'the start was recorded when the script ran');
  assert.deepEqual(h.store.scopes[0]?.lastCheckStartTime, startAtScript);
});

// saveVersions' order rule: when a check finds something new, every version it returned moves
// to the top in the order returned; when it finds nothing new, nothing moves.
const ORDER: { name: string; found: Version[]; order: string[] }[] = [
  { name: 'from the latest version, one new', found: [{ ref: 'c' }, { ref: 'd' }], order: ['a', 'b', 'c', 'd'] },
  { name: 'an older version with a new one: the older one moves up', found: [{ ref: 'a' }, { ref: 'd' }], order: ['b', 'c', 'a', 'd'] },
  { name: 'nothing new: nothing moves', found: [{ ref: 'a' }], order: ['a', 'b', 'c'] },
];
for (const row of ORDER) {
  test(`check: a check from the latest version saves in check order (${row.name})`, async (t) => {
    let found: Version[] = [{ ref: 'a' }, { ref: 'b' }, { ref: 'c' }];
    const h = setup(t, { resource: () => ({ exitStatus: 0, response: found }) });
    assert.deepEqual(await h.run(h.checkPlan('repo')), { ok: true });
    found = row.found;

    // manual (skip_interval) in a build asked for after the first check: it runs
    h.deps.build.createTime = new Date(Date.now() + 1000);
    assert.deepEqual(await h.run(h.checkPlan('repo', { id: 'again', skipInterval: true })), { ok: true });

    assert.deepEqual(h.runtime.scriptRuns('check')[1]?.request, { source: REPO_SOURCE, version: { ref: 'c' } });
    const scopeId = h.store.scopes[0]!.id;
    assert.deepEqual(
      h.store.versionsOf(scopeId).map((v) => v.version.ref),
      row.order,
    );
    assert.deepEqual(h.state.result('again'), { version: { ref: row.order.at(-1)! } });
  });
}

test('check: from_version is where the script starts', async (t) => {
  const h = setup(t, { resource: finds({ ref: 'x' }) });
  assert.deepEqual(await h.run(h.checkPlan('repo', { skipInterval: true, fromVersion: { ref: 'pinned' } })), { ok: true });
  assert.deepEqual(h.runtime.scriptRuns('check')[0]?.request, { source: REPO_SOURCE, version: { ref: 'pinned' } });
});

// Whether a second check runs: the interval for periodic checks, the build's creation for manual ones.
const DUE: { name: string; interval: string; skipInterval?: boolean; clockBackMs?: number; createdAfter?: boolean; runs: boolean }[] = [
  { name: 'a periodic check within the interval does not run', interval: '1h', runs: false },
  { name: 'a periodic check after the interval runs', interval: '1h', clockBackMs: 2 * HOUR, runs: true },
  { name: 'a manual check asked for after the last check runs', interval: '1h', skipInterval: true, createdAfter: true, runs: true },
  { name: 'a manual check asked for before the last successful check started does not run', interval: '1h', skipInterval: true, runs: false },
];
for (const row of DUE) {
  test(`check: ${row.name}`, async (t) => {
    let offset = -(row.clockBackMs ?? 0);
    const h = setup(t, { resource: finds({ ref: 'a' }), now: () => new Date(Date.now() + offset) });
    assert.deepEqual(await h.run(h.checkPlan('repo', { interval: row.interval })), { ok: true });
    offset = 0;
    const scope = h.store.scopes[0]!;
    const firstStart = scope.lastCheckStartTime;
    if (row.createdAfter) h.deps.build.createTime = new Date(Date.now() + 1000);
    h.events.length = 0;

    const plan = h.checkPlan('repo', { id: 'second', interval: row.interval, skipInterval: row.skipInterval === true });
    assert.deepEqual(await h.run(plan), { ok: true });

    assert.equal(h.runtime.containers.length, row.runs ? 2 : 1);
    assert.equal(scope.lastCheckStartTime !== firstStart, row.runs, 'a check that does not run leaves the check state alone');
    assert.deepEqual(eventTypes(h.events), ['initialize-check', 'finish']);
    assert.deepEqual(h.state.result('second'), { version: { ref: 'a' } }, 'either way, the result is the latest version');
  });
}

test('check: a failing script fails the check, marks it failed and saves nothing', async (t) => {
  const h = setup(t, { resource: () => ({ exitStatus: 1, stderr: 'auth failed\n' }) });
  const plan = h.checkPlan('repo');

  assert.deepEqual(await h.run(plan), { ok: false });

  assert.deepEqual(eventTypes(h.events), ['initialize-check', 'finish']);
  assert.equal(eventData(h.events, 'finish')[0]?.succeeded, false);
  assert.equal(logged(h.events, 'stderr'), 'auth failed\n');
  const [scope] = h.store.scopes;
  assert.equal(scope?.lastCheckSucceeded, false);
  assert.ok(scope.lastCheckEndTime);
  assert.equal(scope.nextCheckTime!.getTime() - scope.lastCheckEndTime.getTime(), HOUR, 'a failed check is retried after the interval');
  assert.deepEqual(h.store.versions, []);
  assert.equal(scope.checkLease, null);
  assert.equal(h.state.result(plan.id), undefined);
});

test('check: a script that prints no list is an error, and the check ends failed (not started forever)', async (t) => {
  const h = setup(t, { resource: () => ({ exitStatus: 0, response: { ref: 'a' } }) });
  assert.match(errorOf(await h.run(h.checkPlan('repo'))), /must print a JSON list of versions/);
  assert.deepEqual(h.store.versions, []);
  const scope = h.store.scopes[0];
  assert.equal(scope?.checkLease, null, 'the lease is released');
  assert.equal(scope.lastCheckSucceeded, false);
  assert.ok(scope.lastCheckEndTime && scope.lastCheckStartTime && scope.lastCheckEndTime >= scope.lastCheckStartTime, 'the check has an end');
});

test('check: a changed source starts a new history: the resource leaves its old scope, which goes with its versions', async (t) => {
  const h = setup(t, { resource: finds({ ref: 'new' }) });
  h.store.addResource(h.pipelineId!, 'repo', { parent: { baseType: 'mock' }, source: { uri: 'https://git.test/old.git' }, versions: [{ version: { ref: 'old' } }] });
  const oldScope = h.store.scopeOfResource(repoId(h));
  assert.ok(oldScope);

  assert.deepEqual(await h.run(h.checkPlan('repo')), { ok: true });

  assert.equal(h.store.scopes.some((s) => s.id === oldScope.id), false);
  assert.deepEqual(h.store.versions.map((v) => v.version.ref), ['new']);
  const scope = h.store.scopeOfResource(repoId(h));
  assert.deepEqual(h.store.resourceConfigs.find((c) => c.id === scope?.resourceConfigId)?.source, REPO_SOURCE);
});

test('check: a custom type image is checked and fetched in containers first; the config hangs off its cache; the type points at its scope', async (t) => {
  const handler: ResourceHandler = (spec: ContainerSpec, script): ScriptResult => {
    if (spec.metadata.purpose === 'image' && script === 'check') return { exitStatus: 0, response: [{ version: 't1' }] };
    if (spec.metadata.purpose === 'image' && script === 'in') return { exitStatus: 0, response: { version: { version: 't1' } }, files: { 'rootfs/opt/resource/check': '#!/bin/sh\n' } };
    return { exitStatus: 0, response: [{ version: 'c1' }] };
  };
  const h = setup(t, { resource: handler });
  const plan = h.checkPlan('custom');

  assert.deepEqual(await h.run(plan), { ok: true });

  assert.deepEqual(
    h.runtime.containers.map((c) => [c.metadata.type, c.metadata.purpose ?? 'step', c.metadata.planId]),
    [
      ['check', 'image', 'chk/image-check'],
      ['get', 'image', 'chk/image-get'],
      ['check', 'step', 'chk'],
    ],
  );
  // the local-style runtime runs the fetched image's scripts from its directory
  const imageGet = h.runtime.containers[1]!;
  assert.deepEqual(h.runtime.containers[2]?.image, { kind: 'artifact', artifact: { kind: 'volume', path: `${h.runtime.root}/${imageGet.handle}/get`, handle: imageGet.handle } });
  assert.deepEqual(
    h.events.filter((e) => e.event !== 'log').map((e) => [e.event, originOf(e)]),
    [
      ['initialize-check', 'chk'],
      ['image-check', 'chk'],
      ['image-get', 'chk'],
      ['initialize-check', 'chk/image-check'],
      ['finish', 'chk/image-check'],
      ['initialize-get', 'chk/image-get'],
      ['start-get', 'chk/image-get'],
      ['selected-worker', 'chk/image-get'],
      ['finish-get', 'chk/image-get'],
      ['finish', 'chk'],
    ],
  );
  const imageCache = h.store.resourceCaches.find((c) => c.version.version === 't1');
  assert.ok(imageCache);
  const customConfig = h.store.resourceConfigs.find((c) => c.source.initial_version === 'c1');
  assert.deepEqual(customConfig?.parent, { resourceCacheId: imageCache.id });
  assert.deepEqual(h.store.imageResourceCaches, [{ buildId: 42, jobId: 7, resourceCacheId: imageCache.id }]);
  const typeScope = h.store.scopes.find((s) => s.resourceId === null);
  assert.equal(h.store.resourceTypes.find((r) => r.name === 'my-type')?.scopeId, typeScope?.id);
  assert.deepEqual(h.store.versionsOf(typeScope!.id).map((v) => v.version), [{ version: 't1' }]);
});

const CHECK_PATHS: { name: string; native: boolean }[] = [
  { name: 'native: from the web node, no container (the registry is down: the check fails)', native: true },
  { name: 'without native images: in a container', native: false },
];
for (const row of CHECK_PATHS) {
  test(`check: a registry-image check, ${row.name}`, async (t) => {
    const h = setup(t, { nativeImages: row.native, runsImages: row.native, resource: finds({ tag: 'v1', digest: 'sha256:0' }) });
    const outcome = await h.run(h.checkPlan('app-image'));
    const [scope] = h.store.scopes;
    assert.ok(scope?.lastCheckEndTime, 'the check finished');
    if (row.native) {
      assert.deepEqual(outcome, { ok: false });
      assert.deepEqual(h.runtime.containers, []);
      assert.deepEqual(eventTypes(h.events), ['initialize-check', 'error', 'finish']);
      assert.match(eventData(h.events, 'error')[0]!.message, /127\.0\.0\.1:9/);
      assert.equal(eventData(h.events, 'finish')[0]?.succeeded, false);
      assert.equal(scope.lastCheckSucceeded, false);
    } else {
      assert.deepEqual(outcome, { ok: true });
      assert.deepEqual(h.runtime.containers.map((c) => c.image), [{ kind: 'base-type', type: 'registry-image' }]);
      assert.equal(scope.lastCheckSucceeded, true);
    }
  });
}

test('check: two checks of one scope at once: the second waits for the lease, then finds the check done', async (t) => {
  const h = setup(t, { resource: finds({ ref: 'a' }) });
  const [first, second] = await Promise.all([h.run(h.checkPlan('repo', { id: 'one' })), h.run(h.checkPlan('repo', { id: 'two' }))]);
  assert.deepEqual([first, second], [{ ok: true }, { ok: true }]);
  assert.equal(h.runtime.containers.length, 1);
  assert.deepEqual([h.state.result('one'), h.state.result('two')], [{ version: { ref: 'a' } }, { version: { ref: 'a' } }]);
});

test('check: a check waiting for the lease gives up when the build is aborted', async (t) => {
  const h = setup(t, { resource: finds({ ref: 'a' }) });
  // another check holds the scope the step will use
  const scope = await h.store.findOrCreateScope({ baseType: 'mock' }, REPO_SOURCE, repoId(h));
  const { release } = await h.store.lockScopeForCheck(scope.id, new AbortController().signal, HOUR);
  t.after(release);

  const abort = new AbortController();
  setTimeout(() => abort.abort(new Error('build aborted')), 20);
  assert.equal(errorOf(await h.run(h.checkPlan('repo'), abort.signal)), 'build aborted');
  assert.deepEqual(h.runtime.containers, []);
  assert.equal(h.store.scopes[0]?.lastCheckStartTime, null, 'no check started');
});
