// The get step on its own (Concourse's atc/exec/get_step_test.go): the in-memory store and the
// scripted runtime stand in for Postgres and the worker.
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { GetResult } from '../../../src/engine/results.ts';
import type { Plan } from '../../../src/model/plan.ts';
import type { Version } from '../../../src/model/version.ts';
import type { ResourceHandler, ScriptResult } from '../../support/scripted-runtime.ts';
import { DIGEST, OTHER_DIGEST, errorOf, eventData, eventTypes, harness, logged, originOf, type HarnessOptions } from './harness.ts';

// Nothing listens on port 9: a registry request that should not happen fails at once.
const REGISTRY = '127.0.0.1:9';

const PIPELINE = `
resource_types:
- name: oci-thing
  type: registry-image
  source: {repository: ${REGISTRY}/team/oci-thing, tag: v2}
  produces: registry-image
resources:
- name: repo
  type: mock
  source: {uri: https://git.test/repo.git}
- name: app-image
  type: registry-image
  source: {repository: ${REGISTRY}/team/app, tag: v1, username: ci, password: hunter22}
- name: bundle
  type: oci-thing
  source: {repository: ${REGISTRY}/team/bundle}
`;

const REPO_SOURCE = { uri: 'https://git.test/repo.git' };
const APP_SOURCE = { repository: `${REGISTRY}/team/app`, tag: 'v1', username: 'ci', password: 'hunter22' };
const APP_VERSION: Version = { tag: 'v1', digest: DIGEST };

/** `in` as a git resource would answer: the version asked for, metadata, a file. */
function fetched(overrides: Partial<ScriptResult> = {}): ResourceHandler {
  return (_spec, script, request) => {
    assert.equal(script, 'in');
    const { version } = request as { version: Version };
    return { exitStatus: 0, response: { version, metadata: [{ name: 'commit', value: version.ref ?? '' }] }, files: { README: 'hello\n' }, stderr: 'cloning\n', ...overrides };
  };
}

function setup(t: TestContext, options: HarnessOptions = {}) {
  return harness(t, { pipeline: PIPELINE, ...options });
}

test('get: the version from the plan is fetched by `in` with the source, version and params', async (t) => {
  const h = setup(t, { resource: fetched() });
  const plan = h.stepPlan({ get: 'repo', params: { depth: 1 } }, { repo: { ref: 'abc' } });

  assert.deepEqual(await h.run(plan), { ok: true });

  assert.deepEqual(eventTypes(h.events), ['initialize-get', 'start-get', 'selected-worker', 'finish-get']);
  const [finish] = eventData(h.events, 'finish-get');
  assert.deepEqual({ exit_status: finish?.exit_status, version: finish?.version, metadata: finish?.metadata }, { exit_status: 0, version: { ref: 'abc' }, metadata: [{ name: 'commit', value: 'abc' }] });
  assert.equal(eventData(h.events, 'selected-worker')[0]?.selected_worker, 'scripted');
  assert.equal(logged(h.events, 'stderr'), 'cloning\n');

  const [run] = h.runtime.scriptRuns('in');
  assert.ok(run);
  assert.deepEqual(run.request, { source: REPO_SOURCE, version: { ref: 'abc' }, params: { depth: 1 } });
  assert.deepEqual(run.process.args, [join(run.workDir, 'get')]);
  assert.equal(run.env.BUILD_ID, '42');
  assert.equal(run.env.BUILD_NAME, '3');
  assert.equal(run.env.BUILD_JOB_NAME, 'build');
  assert.equal(run.env.BUILD_PIPELINE_NAME, 'p');
  assert.equal(run.env.ATC_EXTERNAL_URL, 'http://jetway.test');

  const [spec] = h.runtime.containers;
  assert.ok(spec);
  assert.deepEqual(spec.image, { kind: 'base-type', type: 'mock' });
  assert.deepEqual(spec.outputs, [{ name: 'repo', path: 'get' }]);
  assert.deepEqual(spec.inputs, []);
  assert.deepEqual(spec.metadata, { type: 'get', step: 'repo', planId: plan.id, buildId: 42, build: '3', team: 'main', teamId: 1, pipeline: 'p', job: 'build' });
  assert.deepEqual(h.runtime.destroyed, [spec.handle]);

  // the cache chain: the config of the source on `mock`, the cache of the version with the params
  assert.deepEqual(h.store.resourceConfigs.map((c) => ({ parent: c.parent, source: c.source })), [{ parent: { baseType: 'mock' }, source: REPO_SOURCE }]);
  assert.deepEqual(
    h.store.resourceCaches.map((c) => ({ config: c.resourceConfigId, version: c.version, params: c.params })),
    [{ config: h.store.resourceConfigs[0]!.id, version: { ref: 'abc' }, params: { depth: 1 } }],
  );

  // what the steps after it see
  const artifact = h.state.artifact('repo');
  assert.deepEqual(artifact, { kind: 'volume', path: join(run.workDir, 'get'), handle: spec.handle });
  assert.equal(readFileSync(join(artifact.path, 'README'), 'utf8'), 'hello\n');
  assert.deepEqual(h.state.result<GetResult>(plan.id), {
    version: { ref: 'abc' },
    metadata: [{ name: 'commit', value: 'abc' }],
    resourceCacheId: h.store.resourceCaches[0]!.id,
    artifact,
  });
  assert.deepEqual(h.state.localVar('repo'), { commit: 'abc' });
});

test('get: `version_from` fetches the version of the step it follows', async (t) => {
  const h = setup(t, { resource: fetched() });
  h.state.storeResult('chk', { version: { ref: 'from-check' } });
  const plan: Plan = { id: 'g', get: { name: 'repo', type: 'mock', resource: 'repo', source: REPO_SOURCE, version_from: 'chk', image: { base_type: 'mock' } } };

  assert.deepEqual(await h.run(plan), { ok: true });
  assert.deepEqual(h.runtime.scriptRuns('in')[0]?.request, { source: REPO_SOURCE, version: { ref: 'from-check' }, params: {} });
});

test('get: a resource cache is one per config, version and params', async (t) => {
  const h = setup(t, { resource: fetched() });
  for (const [params, ref] of [[{ depth: 1 }, 'abc'], [{ depth: 1 }, 'abc'], [{ depth: 2 }, 'abc'], [{ depth: 1 }, 'def']] as const) {
    assert.deepEqual(await h.run(h.stepPlan({ get: 'repo', params }, { repo: { ref } })), { ok: true });
  }
  assert.deepEqual(
    h.store.resourceCaches.map((c) => [c.version.ref, c.params]),
    [
      ['abc', { depth: 1 }],
      ['abc', { depth: 2 }],
      ['def', { depth: 1 }],
    ],
  );
});

// docs/image-features.md, decision 5: fetch_artifact steers Jetway; neither the script nor the cache key sees it
const STRIPPED: { name: string; native: boolean; resource: string; params: Record<string, unknown>; script: Record<string, unknown> }[] = [
  { name: 'fetch_artifact: true, with other params', native: false, resource: 'repo', params: { fetch_artifact: true, depth: 1 }, script: { depth: 1 } },
  { name: 'fetch_artifact: false, with other params', native: false, resource: 'repo', params: { fetch_artifact: false, depth: 1 }, script: { depth: 1 } },
  { name: 'fetch_artifact: true of an image resource on the native path', native: true, resource: 'app-image', params: { fetch_artifact: true, format: 'oci' }, script: { format: 'oci' } },
];
for (const row of STRIPPED) {
  test(`get: fetch_artifact is stripped from what \`in\` receives and from the cache's params (${row.name})`, async (t) => {
    const h = setup(t, { resource: fetched(), nativeImages: row.native, runsImages: row.native });
    const version = row.resource === 'repo' ? { ref: 'abc' } : APP_VERSION;
    assert.deepEqual(await h.run(h.stepPlan({ get: row.resource, params: row.params }, { [row.resource]: version })), { ok: true });
    assert.equal(h.runtime.containers.length, 1);
    assert.deepEqual((h.runtime.scriptRuns('in')[0]?.request as { params: unknown }).params, row.script);
    assert.deepEqual(
      h.store.resourceCaches.map((c) => c.params),
      [row.script],
    );
  });
}

const SCRIPT_FAILURES: { name: string; result: ScriptResult; outcome: { ok: false } | { error: RegExp }; exitStatus?: number }[] = [
  { name: 'a non-zero exit fails the step with that exit status', result: { exitStatus: 3, stderr: 'fatal: repository not found\n' }, outcome: { ok: false }, exitStatus: 3 },
  { name: 'a response without a version errors', result: { exitStatus: 0, response: { metadata: [] } }, outcome: { error: /resource script 'in' returned no version/ } },
  { name: 'printing nothing errors', result: { exitStatus: 0 }, outcome: { error: /resource script 'in' printed nothing/ } },
];
for (const row of SCRIPT_FAILURES) {
  test(`get: ${row.name}`, async (t) => {
    const h = setup(t, { resource: () => row.result });
    const plan = h.stepPlan({ get: 'repo' }, { repo: { ref: 'abc' } });
    const outcome = await h.run(plan);
    if ('ok' in row.outcome) {
      assert.deepEqual(outcome, { ok: false });
      assert.deepEqual(eventTypes(h.events), ['initialize-get', 'start-get', 'selected-worker', 'finish-get']);
      assert.deepEqual(eventData(h.events, 'finish-get')[0], { time: eventData(h.events, 'finish-get')[0]!.time, origin: { id: plan.id }, exit_status: row.exitStatus });
      assert.equal(logged(h.events, 'stderr'), row.result.stderr);
    } else {
      assert.match(errorOf(outcome), row.outcome.error);
    }
    assert.equal(h.state.artifact('repo'), undefined);
    assert.equal(h.state.hasLocalVar('repo'), false);
    assert.equal(h.runtime.destroyed.length, 1, 'the container is destroyed either way');
  });
}

const NO_VERSION: { name: string; get: Partial<Plan & { get: object }>['get']; message: string }[] = [
  { name: 'no version in the plan', get: {}, message: "no version for 'repo'" },
  { name: 'version_from a step that produced none', get: { version_from: 'chk' }, message: 'no version to fetch: the step it follows produced none' },
];
for (const row of NO_VERSION) {
  test(`get: ${row.name} is an error event, and no container`, async (t) => {
    const h = setup(t, { resource: fetched() });
    const plan: Plan = { id: 'g', get: { name: 'repo', type: 'mock', resource: 'repo', source: REPO_SOURCE, image: { base_type: 'mock' }, ...row.get } };
    assert.deepEqual(await h.run(plan), { ok: false });
    assert.deepEqual(eventTypes(h.events), ['initialize-get', 'error']);
    assert.equal(eventData(h.events, 'error')[0]?.message, row.message);
    assert.equal(h.runtime.containers.length, 0);
    assert.equal(h.store.resourceCaches.length, 0);
  });
}

// ---------------------------------------------------------------- the native path (decisions 3, 4, 7, 10)

// Concourse's get delegate saves what `in` said onto the resource's version
// (atc/engine/get_delegate.go, UpdateResourceVersion), so the resource page shows it.
const SAVED_METADATA: { name: string; seeded: { version: Version; metadata: { name: string; value: string }[] }[]; in?: Partial<ScriptResult>; oneOff?: boolean; want: { name: string; value: string }[] | 'no version' }[] = [
  { name: 'a version in the history gets the metadata `in` reported', seeded: [{ version: { ref: 'abc' }, metadata: [] }], want: [{ name: 'commit', value: 'abc' }] },
  { name: "`in`'s metadata replaces what was stored", seeded: [{ version: { ref: 'abc' }, metadata: [{ name: 'old', value: 'x' }] }], want: [{ name: 'commit', value: 'abc' }] },
  { name: '`in` saying nothing keeps what a check or put stored', seeded: [{ version: { ref: 'abc' }, metadata: [{ name: 'old', value: 'x' }] }], in: { response: { version: { ref: 'abc' } } }, want: [{ name: 'old', value: 'x' }] },
  { name: 'a version the history does not have is not added', seeded: [{ version: { ref: 'other' }, metadata: [] }], want: 'no version' },
];
for (const row of SAVED_METADATA) {
  test(`get: ${row.name}`, async (t) => {
    const h = setup(t, { resource: fetched(row.in) });
    h.store.addResource(h.pipelineId!, 'repo', { parent: { baseType: 'mock' }, source: REPO_SOURCE, versions: row.seeded });
    const plan = h.stepPlan({ get: 'repo' }, { repo: { ref: 'abc' } });

    assert.deepEqual(await h.run(plan), { ok: true });

    const stored = h.store.versions.filter((v) => v.version.ref === 'abc');
    if (row.want === 'no version') assert.deepEqual(stored, []);
    else assert.deepEqual(await h.store.versionMetadata(h.pipelineId!, 'repo', { ref: 'abc' }), row.want);
  });
}

const native = { nativeImages: true, runsImages: true } as const;
const KNOWN_METADATA = [
  { name: 'tag', value: 'v1' },
  { name: 'created', value: '2024-05-01T10:00:00Z' },
];

test('get (native): a registry-image get with a version creates no container; an image reference keeps the stored metadata', async (t) => {
  const h = setup(t, native);
  // what a check stored about this version (decision 7: a short-circuited get keeps it)
  h.store.addResource(h.pipelineId!, 'app-image', { parent: { baseType: 'registry-image' }, source: APP_SOURCE, versions: [{ version: APP_VERSION, metadata: KNOWN_METADATA }] });
  const plan = h.stepPlan({ get: 'app-image' }, { 'app-image': APP_VERSION });

  assert.deepEqual(await h.run(plan), { ok: true });

  assert.deepEqual(h.runtime.containers, []);
  assert.deepEqual(eventTypes(h.events), ['initialize-get', 'finish-get']);
  assert.equal(eventData(h.events, 'initialize-get')[0]?.resolved_without_pod, true);
  const [finish] = eventData(h.events, 'finish-get');
  assert.deepEqual(
    { exit_status: finish?.exit_status, version: finish?.version, metadata: finish?.metadata, resolved_without_pod: finish?.resolved_without_pod },
    { exit_status: 0, version: APP_VERSION, metadata: KNOWN_METADATA, resolved_without_pod: true },
  );

  const artifact = { kind: 'image-ref', reference: `${REGISTRY}/team/app@${DIGEST}`, digest: DIGEST };
  assert.deepEqual(h.state.artifact('app-image'), artifact);
  // decision 3: the resource cache is written as a download would write it
  const config = h.store.resourceConfigs.find((c) => 'baseType' in c.parent && c.parent.baseType === 'registry-image' && c.source.repository === APP_SOURCE.repository);
  assert.ok(config);
  const caches = h.store.resourceCaches.filter((c) => c.resourceConfigId === config.id);
  assert.deepEqual(caches.map((c) => ({ version: c.version, params: c.params })), [{ version: APP_VERSION, params: {} }]);
  assert.deepEqual(h.state.result<GetResult>(plan.id), {
    version: APP_VERSION,
    metadata: KNOWN_METADATA,
    resourceCacheId: caches[0]!.id,
    artifact,
    pullCredentials: { registry: REGISTRY, username: 'ci', password: 'hunter22' },
  });
  assert.deepEqual(h.state.localVar('app-image'), { tag: 'v1', created: '2024-05-01T10:00:00Z' });
});

// decision 5: the value of fetch_artifact counts, not its presence
const FETCH_ARTIFACT: { name: string; params?: Record<string, unknown>; container: boolean }[] = [
  { name: 'fetch_artifact: true forces the download in a container', params: { fetch_artifact: true }, container: true },
  { name: 'fetch_artifact: false is the default: by reference', params: { fetch_artifact: false }, container: false },
  { name: 'no fetch_artifact: by reference', container: false },
];
for (const row of FETCH_ARTIFACT) {
  test(`get (native): ${row.name}`, async (t) => {
    const h = setup(t, { ...native, resource: fetched({ files: { repository: `${REGISTRY}/team/app\n`, digest: `${DIGEST}\n` } }) });
    const plan = h.stepPlan({ get: 'app-image', ...(row.params ? { params: row.params } : {}) }, { 'app-image': APP_VERSION });

    assert.deepEqual(await h.run(plan), { ok: true });

    assert.deepEqual(h.runtime.containers.map((c) => c.metadata.type), row.container ? ['get'] : []);
    assert.equal(h.state.artifact('app-image')?.kind, row.container ? 'volume' : 'image-ref');
    assert.equal(eventData(h.events, 'finish-get')[0]?.resolved_without_pod, row.container ? undefined : true);
    assert.deepEqual(h.store.resourceCaches.map((c) => c.params), [{}], 'fetch_artifact is no part of the cache key');
  });
}

test('get (native): a resource of a type that `produces: registry-image` is recorded by reference too', async (t) => {
  const h = setup(t, native);
  // the type's own history is fresh (decision 2b): its image needs no check and no registry
  const typeSource = { repository: `${REGISTRY}/team/oci-thing`, tag: 'v2' };
  const typeVersion = { tag: 'v2', digest: OTHER_DIGEST };
  const typeScope = await h.store.findOrCreateScope({ baseType: 'registry-image' }, typeSource, null);
  await h.store.saveVersions(typeScope.id, [typeVersion]);
  await h.store.markCheckFinished(typeScope.id, true, 60_000);

  const version = { digest: DIGEST };
  const plan = h.stepPlan({ get: 'bundle' }, { bundle: version });
  assert.deepEqual(await h.run(plan), { ok: true });

  assert.deepEqual(h.runtime.containers, [], 'no check, get or image container');
  assert.deepEqual(h.state.artifact('bundle'), { kind: 'image-ref', reference: `${REGISTRY}/team/bundle@${DIGEST}`, digest: DIGEST });
  // every get event of the chain is marked; the type's check reused its fresh history
  assert.deepEqual(
    h.events.filter((e) => e.event !== 'log').map((e) => [e.event, originOf(e), 'resolved_without_pod' in e.data]),
    [
      ['initialize-get', plan.id, true],
      ['image-check', plan.id, true],
      ['image-get', plan.id, true],
      ['initialize-check', `${plan.id}/image-check`, false],
      ['finish', `${plan.id}/image-check`, false],
      ['initialize-get', `${plan.id}/image-get`, true],
      ['finish-get', `${plan.id}/image-get`, true],
      ['finish-get', plan.id, true],
    ],
  );
  // the cache chain: bundle's config hangs off the type image's cache, which hangs off registry-image
  const typeCache = h.store.resourceCaches.find((c) => c.resourceConfigId === typeScope.resourceConfigId);
  assert.deepEqual(typeCache?.version, typeVersion);
  const bundleConfig = h.store.resourceConfigs.find((c) => c.source.repository === `${REGISTRY}/team/bundle`);
  assert.deepEqual(bundleConfig?.parent, { resourceCacheId: typeCache.id });
  assert.deepEqual(
    h.store.resourceCaches.filter((c) => c.resourceConfigId === bundleConfig?.id).map((c) => c.version),
    [version],
  );
  assert.deepEqual(h.store.imageResourceCaches, [{ buildId: 42, jobId: 7, resourceCacheId: typeCache.id }]);
  assert.equal(h.store.resourceTypes.find((r) => r.name === 'oci-thing')?.scopeId, typeScope.id, 'the type points at its scope');
});

test('get: ((vars)) in params are interpolated before they key the cache, by reference as by download', async (t) => {
  const pipeline = `
var_sources:
- name: v
  type: dummy
  config: {vars: {fmt: oci}}
${PIPELINE}`;
  const caches: unknown[] = [];
  for (const path of [{ nativeImages: false, runsImages: false }, { nativeImages: true, runsImages: true }]) {
    const h = harness(t, { pipeline, ...path, resource: fetched({ files: { repository: `${REGISTRY}/team/app\n`, digest: `${DIGEST}\n` } }) });
    const plan = h.stepPlan({ get: 'app-image', params: { format: '((v:fmt))' } }, { 'app-image': APP_VERSION });
    assert.deepEqual(await h.run(plan), { ok: true });
    assert.equal(h.runtime.containers.length, path.nativeImages ? 0 : 1);
    caches.push(...h.store.resourceCaches.map((c) => c.params));
  }
  assert.deepEqual(caches, [{ format: 'oci' }, { format: 'oci' }]);
});

// ---------------------------------------------------------------- fetch_artifact from a ((var)) (decision 5)

/** PIPELINE with a var source whose values are strings, as a credential manager returns them. */
const withVars = (vars: Record<string, unknown>): string => `
var_sources:
- name: cm
  type: dummy
  config: {vars: ${JSON.stringify(vars)}}
${PIPELINE}`;

const FROM_VAR: { name: string; value: unknown; container: boolean }[] = [
  { name: 'the string "true" forces the download', value: 'true', container: true },
  { name: 'the string "false" is the default: by reference', value: 'false', container: false },
];
for (const row of FROM_VAR) {
  test(`get (native): fetch_artifact from a ((var)): ${row.name}, and the key reaches neither the script nor the cache key`, async (t) => {
    const h = harness(t, { pipeline: withVars({ fa: row.value }), ...native, resource: fetched({ files: { repository: `${REGISTRY}/team/app\n`, digest: `${DIGEST}\n` } }) });
    const plan = h.stepPlan({ get: 'app-image', params: { fetch_artifact: '((cm:fa))', format: 'oci' } }, { 'app-image': APP_VERSION });

    assert.deepEqual(await h.run(plan), { ok: true });

    assert.deepEqual(h.runtime.containers.map((c) => c.metadata.type), row.container ? ['get'] : []);
    assert.equal(h.state.artifact('app-image')?.kind, row.container ? 'volume' : 'image-ref');
    if (row.container) assert.deepEqual((h.runtime.scriptRuns('in')[0]?.request as { params: unknown }).params, { format: 'oci' });
    assert.deepEqual(h.store.resourceCaches.map((c) => c.params), [{ format: 'oci' }]);
  });
}

// decision 5 across set-pipeline and run time: `set-pipeline -v fa=true` leaves the string "true" in
// the saved pipeline (no var is left to resolve), and the get reads it by the rule set-pipeline
// validated with (src/config/fetch-artifact.ts): what one accepts the other runs.
const SET_TIME: { fa: string; container: boolean; error?: RegExp }[] = [
  { fa: 'true', container: true },
  { fa: 'false', container: false },
  { fa: 'yes', container: false, error: /fetch_artifact: fetch_artifact must be a boolean \(true or false\), got a string \("yes"\)/ },
];
for (const row of SET_TIME) {
  const outcome = row.error ? 'is refused, naming the param and the type, and nothing is saved' : `is saved as the string and ${row.container ? 'downloads' : 'is recorded by reference'}`;
  test(`get (native): fetch_artifact: ((fa)) set by a set_pipeline step with vars {fa: "${row.fa}"} ${outcome}`, async (t) => {
    const setter = setup(t);
    setter.volume('ci', { 'pipeline.yml': `${PIPELINE}jobs:\n- name: j\n  plan:\n  - get: app-image\n    params: {fetch_artifact: ((fa)), format: oci}\n  - get: repo\n  - get: bundle\n` });
    const set = await setter.run(setter.stepPlan({ set_pipeline: 'child', file: 'ci/pipeline.yml', vars: { fa: row.fa } }));
    const saved = setter.store.pipelines.find((p) => p.name === 'child')?.config;
    if (row.error) {
      assert.match(errorOf(set), row.error);
      assert.equal(saved, undefined);
      return;
    }
    assert.deepEqual(set, { ok: true });
    const step = saved?.jobs?.[0]?.plan?.[0];
    assert.deepEqual(step, { get: 'app-image', params: { fetch_artifact: row.fa, format: 'oci' } });

    const h = harness(t, { pipeline: JSON.stringify(saved), ...native, resource: fetched({ files: { repository: `${REGISTRY}/team/app\n`, digest: `${DIGEST}\n` } }) });
    assert.deepEqual(await h.run(h.stepPlan(step!, { 'app-image': APP_VERSION })), { ok: true });
    assert.deepEqual(h.runtime.containers.map((c) => c.metadata.type), row.container ? ['get'] : []);
    assert.equal(h.state.artifact('app-image')?.kind, row.container ? 'volume' : 'image-ref');
    if (row.container) assert.deepEqual((h.runtime.scriptRuns('in')[0]?.request as { params: unknown }).params, { format: 'oci' });
    assert.deepEqual(h.store.resourceCaches.map((c) => c.params), [{ format: 'oci' }]);
  });
}

const BAD_VAR: { name: string; value: unknown; got: string }[] = [
  { name: 'another string', value: 'yes', got: 'a string ("yes")' },
  { name: 'a number', value: 1, got: 'a number (1)' },
  { name: 'a map', value: { on: true }, got: 'a map' },
];
for (const row of BAD_VAR) {
  for (const path of [native, { nativeImages: false, runsImages: false }]) {
    test(`get${path.nativeImages ? ' (native)' : ''}: fetch_artifact from a ((var)) that is ${row.name} errors the step, naming the param and the value's type`, async (t) => {
      const h = harness(t, { pipeline: withVars({ fa: row.value }), ...path, resource: fetched() });
      const plan = h.stepPlan({ get: 'app-image', params: { fetch_artifact: '((cm:fa))' } }, { 'app-image': APP_VERSION });

      assert.equal(errorOf(await h.run(plan)), `get 'app-image': params.fetch_artifact must be a boolean (true or false), got ${row.got}`);
      assert.deepEqual(h.runtime.containers, []);
      assert.deepEqual(h.store.resourceCaches, []);
      assert.equal(h.state.artifact('app-image'), undefined);
    });
  }
}

test('get: fetch_artifact from a ((var)) on a resource that is no image: "true" and "false" are accepted, the key stripped', async (t) => {
  for (const value of ['true', 'false']) {
    const h = harness(t, { pipeline: withVars({ fa: value }), resource: fetched() });
    assert.deepEqual(await h.run(h.stepPlan({ get: 'repo', params: { fetch_artifact: '((cm:fa))', depth: 1 } }, { repo: { ref: 'abc' } })), { ok: true });
    assert.deepEqual((h.runtime.scriptRuns('in')[0]?.request as { params: unknown }).params, { depth: 1 });
  }
});

// ---------------------------------------------------------------- references without a digest, or without a repository (decision 9)

const DIGESTLESS: { name: string; version: Version; source: string; reference: string }[] = [
  { name: 'a tag in the version: repository:tag', version: { tag: 'v3' }, source: '{repository: REG/team/bundle, tag: v1}', reference: `${REGISTRY}/team/bundle:v3` },
  { name: 'no tag in the version: the source tag', version: { ref: 'r1' }, source: '{repository: REG/team/bundle, tag: v1}', reference: `${REGISTRY}/team/bundle:v1` },
  { name: 'no tag at all: the repository (latest)', version: { ref: 'r1' }, source: '{repository: REG/team/bundle}', reference: `${REGISTRY}/team/bundle` },
];
for (const row of DIGESTLESS) {
  test(`get (native): a version of a produces type without a digest is recorded as ${row.name}, logged as mutable`, async (t) => {
    const pipeline = `
resource_types:
- name: oci-thing
  type: registry-image
  source: {repository: ${REGISTRY}/team/oci-thing}
  produces: registry-image
resources:
- name: bundle
  type: oci-thing
  source: ${row.source.replace('REG', REGISTRY)}
`;
    const h = harness(t, { pipeline, ...native });
    // oci-thing's image: a fresh history, so neither a check nor the registry is needed
    const typeScope = await h.store.findOrCreateScope({ baseType: 'registry-image' }, { repository: `${REGISTRY}/team/oci-thing` }, null);
    await h.store.saveVersions(typeScope.id, [{ digest: OTHER_DIGEST }]);
    await h.store.markCheckFinished(typeScope.id, true, 60_000);
    const plan = h.stepPlan({ get: 'bundle' }, { bundle: row.version });

    assert.deepEqual(await h.run(plan), { ok: true });

    assert.deepEqual(h.runtime.containers, []);
    assert.deepEqual(h.state.artifact('bundle'), { kind: 'image-ref', reference: row.reference, digest: '' });
    const lines = eventData(h.events, 'log').filter((l) => l.origin.id === plan.id).map((l) => l.payload);
    assert.deepEqual(lines, [`the version ${JSON.stringify(row.version)} of resource 'bundle' has no digest: using ${row.reference}, a mutable reference (the image behind it may change between pulls)\n`]);
  });
}

test('get (native): a version with a digest logs nothing about mutability', async (t) => {
  const h = setup(t, native);
  assert.deepEqual(await h.run(h.stepPlan({ get: 'app-image' }, { 'app-image': APP_VERSION })), { ok: true });
  assert.deepEqual(eventData(h.events, 'log'), []);
});

test('get (native): a resource of a produces type without a repository errors naming the resource, the type and the field', async (t) => {
  const pipeline = `
resource_types:
- name: oci-thing
  type: registry-image
  source: {repository: ${REGISTRY}/team/oci-thing}
  produces: registry-image
resources:
- name: nameless
  type: oci-thing
  source: {tag: v1}
- name: plain
  type: registry-image
  source: {tag: v1}
`;
  const h = harness(t, { pipeline, ...native });
  const typeScope = await h.store.findOrCreateScope({ baseType: 'registry-image' }, { repository: `${REGISTRY}/team/oci-thing` }, null);
  await h.store.saveVersions(typeScope.id, [{ digest: OTHER_DIGEST }]);
  await h.store.markCheckFinished(typeScope.id, true, 60_000);

  assert.equal(
    errorOf(await h.run(h.stepPlan({ get: 'nameless' }, { nameless: { digest: DIGEST } }))),
    "resource 'nameless' (type 'oci-thing', which declares produces: registry-image) has no repository in its source: source.repository names the image its reference is built from",
  );
  assert.equal(
    errorOf(await h.run(h.stepPlan({ get: 'plain' }, { plain: { digest: DIGEST } }))),
    "resource 'plain' (type 'registry-image') has no repository in its source: source.repository names the image its reference is built from",
  );
  assert.deepEqual(h.runtime.containers, []);
});
