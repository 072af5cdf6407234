// The put step on its own (Concourse's atc/exec/put_step_test.go): what `out` receives, where the
// version it created goes, and the image it runs in, on the in-memory store and the scripted runtime.
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Plan, PutPlan, TypeImage } from '../../../src/model/plan.ts';
import { versionDigest, type Version } from '../../../src/model/version.ts';
import type { ResourceHandler } from '../../support/scripted-runtime.ts';
import { DIGEST, OTHER_DIGEST, eventData, eventTypes, harness, leaf, logged, type Harness, type HarnessOptions } from './harness.ts';

const REGISTRY = '127.0.0.1:9';
const PIPELINE = `
resource_types:
- name: my-type
  type: registry-image
  source: {repository: ${REGISTRY}/team/my-type}
- name: oci-thing
  type: registry-image
  source: {repository: ${REGISTRY}/team/oci-thing}
  produces: registry-image
- name: via-oci
  type: oci-thing
  source: {repository: ${REGISTRY}/team/via-oci}
resources:
- name: out
  type: mock
  source: {uri: https://git.test/out.git}
- name: audited
  type: mock
  source: {uri: https://git.test/audited.git}
  expose_build_created_by: true
- name: release
  type: my-type
  source: {bucket: releases}
- name: bundle
  type: via-oci
  source: {bucket: bundles}
`;
const OUT_SOURCE = { uri: 'https://git.test/out.git' };

/** `out` that creates the version named by the file its params point at (in its input), else `shipped`. */
const pushes: ResourceHandler = (_spec, script, request, workDir) => {
  if (script === 'in') return { exitStatus: 0, response: { version: (request as { version: Version }).version } };
  assert.equal(script, 'out');
  const file = (request as { params: { file?: string } }).params.file;
  const ref = file ? readFileSync(join(workDir, 'put', file), 'utf8').trim() : 'shipped';
  return { exitStatus: 0, response: { version: { ref }, metadata: [{ name: 'pushed', value: ref }] }, stderr: 'pushing\n' };
};

function setup(t: TestContext, options: HarnessOptions = {}): Harness {
  return harness(t, { pipeline: PIPELINE, resource: pushes, ...options });
}

function putPlan(h: Harness, step: Parameters<Harness['stepPlan']>[0]): Plan & { put: PutPlan } {
  const plan = leaf(h.stepPlan(step), 'put');
  assert.ok('put' in plan);
  return plan;
}

test('put: params and the detected inputs reach `out`; the version goes into the scope of the put config and the build outputs', async (t) => {
  const h = setup(t);
  const repo = h.volume('repo', { 'version.txt': '1.2.3\n' });
  h.volume('unused', { notes: 'not for the put' });
  const plan = putPlan(h, { put: 'out', params: { file: 'repo/version.txt', tag: 'v1' } });

  assert.deepEqual(await h.run(plan), { ok: true });

  assert.deepEqual(eventTypes(h.events), ['initialize-put', 'start-put', 'selected-worker', 'finish-put']);
  const [finish] = eventData(h.events, 'finish-put');
  assert.deepEqual({ exit_status: finish?.exit_status, version: finish?.version, metadata: finish?.metadata }, { exit_status: 0, version: { ref: '1.2.3' }, metadata: [{ name: 'pushed', value: '1.2.3' }] });
  assert.equal(logged(h.events, 'stderr'), 'pushing\n');

  const [run] = h.runtime.scriptRuns('out');
  assert.ok(run);
  assert.deepEqual(run.request, { source: OUT_SOURCE, params: { file: 'repo/version.txt', tag: 'v1' } });
  assert.deepEqual(run.process.args, [join(run.workDir, 'put')]);
  assert.equal(run.env.BUILD_ID, '42');
  assert.equal(run.env.BUILD_URL, 'http://jetway.test/teams/main/pipelines/p/jobs/build/builds/3');
  assert.equal(run.env.BUILD_CREATED_BY, undefined);
  const [spec] = h.runtime.containers;
  assert.deepEqual(spec?.inputs, [{ name: 'repo', path: 'put/repo', artifact: repo }]);
  assert.deepEqual(spec.outputs, [{ name: 'put', path: 'put' }]);
  assert.deepEqual(spec.image, { kind: 'base-type', type: 'mock' });
  assert.equal(spec.metadata.type, 'put');
  assert.deepEqual(h.runtime.destroyed, [spec.handle]);

  // the put's config may never have been checked: its scope is created and the resource points at it
  const outId = h.store.resources.find((r) => r.name === 'out')!.id;
  const [config] = h.store.resourceConfigs;
  assert.ok(config);
  assert.deepEqual({ parent: config.parent, source: config.source }, { parent: { baseType: 'mock' }, source: OUT_SOURCE });
  const scope = h.store.scopeOfResource(outId);
  assert.deepEqual({ config: scope?.resourceConfigId, resource: scope?.resourceId }, { config: config.id, resource: outId });
  assert.deepEqual(
    h.store.versionsOf(scope!.id).map((v) => ({ version: v.version, metadata: v.metadata })),
    [{ version: { ref: '1.2.3' }, metadata: [{ name: 'pushed', value: '1.2.3' }] }],
  );
  assert.deepEqual(h.store.buildOutputs, [{ buildId: 42, resourceId: outId, name: 'out', versionDigest: versionDigest({ ref: '1.2.3' }), version: { ref: '1.2.3' } }]);
  assert.deepEqual(h.state.result(plan.id), { version: { ref: '1.2.3' } });
});

// Which artifacts a put receives (`inputs:`), with `repo` and `unused` in the build.
const INPUTS: { name: string; step: Record<string, unknown>; inputs: string[] }[] = [
  { name: 'detect (the default): an artifact named by a path in the params', step: { params: { file: 'repo/version.txt' } }, inputs: ['repo'] },
  { name: 'detect: names in nested lists and maps count', step: { params: { files: [{ path: 'unused' }] } }, inputs: ['unused'] },
  { name: 'detect: no path-like param, no input', step: { params: { tag: 'v1' } }, inputs: [] },
  { name: 'inputs: all', step: { inputs: 'all' }, inputs: ['repo', 'unused'] },
  { name: 'inputs: a list', step: { inputs: ['unused'] }, inputs: ['unused'] },
];
for (const row of INPUTS) {
  test(`put: inputs: ${row.name}`, async (t) => {
    const h = setup(t);
    h.volume('repo', { 'version.txt': '1.2.3\n' });
    h.volume('unused', { notes: '' });
    assert.deepEqual(await h.run(putPlan(h, { put: 'out', ...row.step })), { ok: true });
    assert.deepEqual(
      h.runtime.containers[0]?.inputs.map((i) => [i.name, i.path]),
      row.inputs.map((name) => [name, `put/${name}`]),
    );
  });
}

test('put: a failing `out` fails the step with its exit status and records no version', async (t) => {
  const h = setup(t, { resource: () => ({ exitStatus: 2, stderr: 'rejected\n' }) });
  const plan = putPlan(h, { put: 'out' });

  assert.deepEqual(await h.run(plan), { ok: false });

  assert.deepEqual(eventTypes(h.events), ['initialize-put', 'start-put', 'selected-worker', 'finish-put']);
  const [finish] = eventData(h.events, 'finish-put');
  assert.deepEqual({ exit_status: finish?.exit_status, version: finish?.version }, { exit_status: 2, version: undefined });
  assert.equal(logged(h.events, 'stderr'), 'rejected\n');
  assert.deepEqual(h.store.scopes, []);
  assert.deepEqual(h.store.buildOutputs, []);
  assert.equal(h.state.result(plan.id), undefined);
  assert.equal(h.runtime.destroyed.length, 1);
});

test('put: the implicit get fetches the version the put created', async (t) => {
  const h = setup(t);
  const plan = h.stepPlan({ put: 'out' });

  assert.deepEqual(await h.run(plan), { ok: true });

  assert.deepEqual(eventTypes(h.events), ['initialize-put', 'start-put', 'selected-worker', 'finish-put', 'initialize-get', 'start-get', 'selected-worker', 'finish-get']);
  assert.deepEqual(h.runtime.scriptRuns('in')[0]?.request, { source: OUT_SOURCE, version: { ref: 'shipped' }, params: {} });
  assert.equal(h.state.artifact('out')?.kind, 'volume');
});

const CREATED_BY: { name: string; resource: string; env: string | undefined }[] = [
  { name: 'a resource with expose_build_created_by gets BUILD_CREATED_BY', resource: 'audited', env: 'alice' },
  { name: 'others do not', resource: 'out', env: undefined },
];
for (const row of CREATED_BY) {
  test(`put: ${row.name}`, async (t) => {
    const h = setup(t, { build: { createdBy: 'alice' } });
    assert.deepEqual(await h.run(putPlan(h, { put: row.resource })), { ok: true });
    assert.equal(h.runtime.scriptRuns('out')[0]?.env.BUILD_CREATED_BY, row.env);
  });
}

test('put: in a one-off build (no pipeline) the version is the result only', async (t) => {
  const h = setup(t, { oneOff: true });
  const plan = putPlan(h, { put: 'out' });
  assert.deepEqual(await h.run(plan), { ok: true });
  assert.deepEqual(h.store.scopes, []);
  assert.deepEqual(h.store.buildOutputs, []);
  assert.deepEqual(h.state.result(plan.id), { version: { ref: 'shipped' } });
});

// ---------------------------------------------------------------- a custom type's image, natively

/** A type's image pinned to a digest (as fetchImagePlan plans it with a version): no check sub-plan. */
function pinned(planId: string, image: { name: string; type: string; source: Record<string, unknown>; digest: string }, typeImage: TypeImage): TypeImage {
  return {
    ...(typeImage.base_type ? { base_type: typeImage.base_type } : {}),
    get_plan: { id: `${planId}/image-get`, get: { name: image.name, type: image.type, source: image.source, version: { digest: image.digest }, image: typeImage } },
  };
}

const NATIVE_TYPES: { name: string; resource: string; image: (putId: string) => TypeImage; reference: string; imageSources: string[] }[] = [
  {
    name: 'a type of registry-image',
    resource: 'release',
    image: (id) => pinned(id, { name: 'my-type', type: 'registry-image', source: { repository: `${REGISTRY}/team/my-type` }, digest: DIGEST }, { base_type: 'registry-image' }),
    reference: `${REGISTRY}/team/my-type@${DIGEST}`,
    imageSources: [`${REGISTRY}/team/my-type`],
  },
  {
    name: 'a type whose type declares produces: registry-image',
    resource: 'bundle',
    image: (id) =>
      pinned(
        id,
        { name: 'via-oci', type: 'oci-thing', source: { repository: `${REGISTRY}/team/via-oci` }, digest: DIGEST },
        pinned(`${id}/image-get`, { name: 'oci-thing', type: 'registry-image', source: { repository: `${REGISTRY}/team/oci-thing` }, digest: OTHER_DIGEST }, { base_type: 'registry-image' }),
      ),
    reference: `${REGISTRY}/team/via-oci@${DIGEST}`,
    // the chain, innermost first: via-oci's image cache hangs off oci-thing's
    imageSources: [`${REGISTRY}/team/oci-thing`, `${REGISTRY}/team/via-oci`],
  },
];
for (const row of NATIVE_TYPES) {
  test(`put (native): the image of ${row.name}, pinned to a digest, is its repository@digest: no check, no get, the image cache recorded`, async (t) => {
    const h = setup(t, { nativeImages: true, runsImages: true });
    const planned = putPlan(h, { put: row.resource });
    const plan: Plan = { id: planned.id, put: { ...planned.put, image: row.image(planned.id) } };

    assert.deepEqual(await h.run(plan), { ok: true });

    assert.deepEqual(h.runtime.containers.map((c) => [c.metadata.type, c.image]), [['put', { kind: 'reference', reference: row.reference }]]);
    // docs/image-features.md, decision 4: the image's events are there, marked; no check was needed
    const imageEvents = h.events.filter((e) => e.event === 'image-get' || e.event === 'image-check' || e.event.endsWith('-get'));
    assert.ok(imageEvents.length > 0);
    assert.deepEqual(
      imageEvents.map((e) => [e.event, 'resolved_without_pod' in e.data && e.data.resolved_without_pod]),
      imageEvents.map((e) => [e.event, true]),
    );
    assert.equal(h.events.some((e) => e.event === 'image-check' || e.event === 'initialize-check'), false);
    assert.deepEqual(eventTypes(h.events).filter((e) => e.endsWith('-put')), ['initialize-put', 'start-put', 'finish-put']);
    assert.equal(eventData(h.events, 'finish-put')[0]?.origin.id, plan.id);

    // decision 3: every image cache of the chain is recorded on the build, and the put's config hangs off the last
    const recorded = h.store.imageResourceCaches.map((r) => h.store.resourceCaches.find((c) => c.id === r.resourceCacheId)!);
    assert.deepEqual(
      recorded.map((c) => h.store.resourceConfigs.find((rc) => rc.id === c.resourceConfigId)?.source.repository),
      row.imageSources,
    );
    assert.deepEqual(h.store.imageResourceCaches.map((r) => [r.buildId, r.jobId]), row.imageSources.map(() => [42, 7]));
    const putConfig = h.store.resourceConfigs.find((c) => c.source.bucket !== undefined);
    assert.deepEqual(putConfig?.parent, { resourceCacheId: recorded.at(-1)!.id });
    assert.deepEqual(recorded.at(-1)!.version, { digest: DIGEST });
  });
}
