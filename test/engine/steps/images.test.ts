// The engine's image seam (src/engine/image/) through the steps that use it: what a step's image
// is on each path, how it is counted, its privilege, its env, and what a broken image sub-plan
// says (docs/image-features.md, decisions 1-4 and 9). The step tests cover the common cases;
// these hold the details mutation testing found untested (docs/mutation-testing.md).
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import type { ContainerSpec } from '../../../src/runtime/runtime.ts';
import type { ResourceHandler, ScriptResult } from '../../support/scripted-runtime.ts';
import { DIGEST, OTHER_DIGEST, errorOf, eventData, harness, type Harness, type HarnessOptions } from './harness.ts';

const REGISTRY = '127.0.0.1:9';
const PIPELINE = `
resource_types:
- name: my-type
  type: mock
  source: {mirror_self: true}
- name: root-type
  type: mock
  privileged: true
  source: {mirror_self: true}
- name: oci-thing
  type: registry-image
  source: {repository: ${REGISTRY}/team/oci-thing, tag: v2}
  produces: registry-image
- name: root-oci
  type: registry-image
  privileged: true
  source: {repository: ${REGISTRY}/team/root-oci}
resources:
- name: custom
  type: my-type
  source: {initial_version: c1}
- name: root
  type: root-type
  source: {initial_version: r1}
- name: bundle
  type: oci-thing
  source: {repository: ${REGISTRY}/team/bundle, tag: v1}
- name: via-root-oci
  type: root-oci
  source: {initial_version: o1}
`;

/** A custom type's image through containers: its check finds t1, its get writes a rootfs with metadata.json. */
function imageThroughContainers(overrides: { check?: ScriptResult; get?: ScriptResult } = {}): ResourceHandler {
  return (spec: ContainerSpec, script, request): ScriptResult => {
    if (spec.metadata.purpose === 'image' && script === 'check') return overrides.check ?? { exitStatus: 0, response: [{ version: 't1' }] };
    if (spec.metadata.purpose === 'image' && script === 'in') {
      return (
        overrides.get ?? {
          exitStatus: 0,
          response: { version: { version: 't1' } },
          files: { 'metadata.json': JSON.stringify({ env: ['IMAGE_VAR=from image', 'EQ=a=b', '=nameless', 42, 'NOEQ'], user: 'root' }), 'rootfs/opt/resource/in': '#!/bin/sh\n' },
        }
      );
    }
    return { exitStatus: 0, response: { version: (request as { version: unknown }).version, metadata: [] } };
  };
}

function setup(t: TestContext, options: HarnessOptions = {}): Harness & { resolved: string[] } {
  const h = harness(t, { pipeline: PIPELINE, ...options });
  const resolved: string[] = [];
  h.deps.metrics = { imageResolved: (how) => void resolved.push(how) };
  return Object.assign(h, { resolved });
}

/** A fresh history for a registry-image type's image, so neither a check nor the registry is needed (decision 2b). */
async function freshType(h: Harness, source: Record<string, unknown>, digest: string): Promise<void> {
  const config = await h.store.findOrCreateResourceConfig({ baseType: 'registry-image' }, source);
  const scope = await h.store.findOrCreateScope(config.id, null);
  await h.store.saveVersions(scope.id, [{ ...(typeof source.tag === 'string' ? { tag: source.tag } : {}), digest }]);
  await h.store.markCheckFinished(scope.id, true, 60_000);
}

test('images through containers: the fetched image env reaches the step (names before the first =, malformed entries skipped); counted as containers', async (t) => {
  const h = setup(t, { resource: imageThroughContainers() });
  assert.deepEqual(await h.run(h.stepPlan({ get: 'custom' }, { custom: { version: 'c1' } })), { ok: true });

  const step = h.runtime.containers.find((c) => c.metadata.purpose !== 'image');
  assert.equal(step?.env?.IMAGE_VAR, 'from image');
  assert.equal(step?.env?.EQ, 'a=b');
  assert.equal(step?.env?.[''], undefined);
  assert.equal(step?.env?.NOEQ, undefined);
  assert.equal(Object.keys(step?.env ?? {}).filter((k) => !k.startsWith('BUILD_') && k !== 'ATC_EXTERNAL_URL').sort().join(','), 'EQ,IMAGE_VAR');
  assert.equal(step?.privileged, false);
  assert.deepEqual(h.resolved, ['containers']);
  // decision 4: on this path the image events are not marked
  assert.deepEqual(eventData(h.events, 'image-check').map((e) => e.resolved_without_pod), [undefined]);
  assert.deepEqual(eventData(h.events, 'image-get').map((e) => e.resolved_without_pod), [undefined]);
});

test('images through containers: an image without metadata.json gives the step no image env', async (t) => {
  const h = setup(t, { resource: imageThroughContainers({ get: { exitStatus: 0, response: { version: { version: 't1' } }, files: { 'rootfs/opt/resource/in': '#!/bin/sh\n' } } }) });
  assert.deepEqual(await h.run(h.stepPlan({ get: 'custom' }, { custom: { version: 'c1' } })), { ok: true });
  const step = h.runtime.containers.find((c) => c.metadata.purpose !== 'image');
  assert.deepEqual(Object.keys(step?.env ?? {}).filter((k) => !k.startsWith('BUILD_') && k !== 'ATC_EXTERNAL_URL'), []);
});

test('images through containers: a metadata.json whose env is no list gives no image env', async (t) => {
  const h = setup(t, {
    resource: imageThroughContainers({ get: { exitStatus: 0, response: { version: { version: 't1' } }, files: { 'metadata.json': JSON.stringify({ env: 'A=b' }) } } }),
  });
  assert.deepEqual(await h.run(h.stepPlan({ get: 'custom' }, { custom: { version: 'c1' } })), { ok: true });
  const step = h.runtime.containers.find((c) => c.metadata.purpose !== 'image');
  assert.equal(step?.env?.A, undefined);
});

const PRIVILEGED: { name: string; options: HarnessOptions; resource: string; version: Record<string, string> }[] = [
  { name: 'through containers', options: {}, resource: 'root', version: { version: 'r1' } },
  { name: 'natively (a registry-image type)', options: { nativeImages: true, runsImages: true }, resource: 'via-root-oci', version: { version: 'o1' } },
];
for (const row of PRIVILEGED) {
  test(`images ${row.name}: a privileged type runs its resource's containers privileged`, async (t) => {
    const h = setup(t, { ...row.options, resource: imageThroughContainers() });
    if (row.options.nativeImages) await freshType(h, { repository: `${REGISTRY}/team/root-oci` }, DIGEST);
    assert.deepEqual(await h.run(h.stepPlan({ get: row.resource }, { [row.resource]: row.version })), { ok: true });
    const step = h.runtime.containers.find((c) => c.metadata.purpose !== 'image');
    assert.equal(step?.privileged, true);
    assert.deepEqual(h.resolved, [row.options.nativeImages ? 'native' : 'containers']);
  });
}

test('images natively: a registry-image type is its repository@digest, counted as native; its events are marked', async (t) => {
  const h = setup(t, { nativeImages: true, runsImages: true, resource: imageThroughContainers() });
  await freshType(h, { repository: `${REGISTRY}/team/root-oci` }, OTHER_DIGEST);
  assert.deepEqual(await h.run(h.stepPlan({ get: 'via-root-oci' }, { 'via-root-oci': { version: 'o1' } })), { ok: true });
  assert.deepEqual(h.runtime.containers.map((c) => [c.metadata.type, c.image]), [['get', { kind: 'reference', reference: `${REGISTRY}/team/root-oci@${OTHER_DIGEST}` }]]);
  assert.deepEqual(h.resolved, ['native']);
  assert.deepEqual(eventData(h.events, 'image-check').map((e) => e.resolved_without_pod), [true]);
  assert.deepEqual(eventData(h.events, 'image-get').map((e) => e.resolved_without_pod), [true]);
});

test('images: a base type needs no image sub-plan and is not counted', async (t) => {
  const h = setup(t, { resource: imageThroughContainers() });
  const plan = h.stepPlan({ get: 'custom' }, { custom: { version: 'c1' } });
  // the image of `custom` is my-type's, whose own image is the base type mock: one count for my-type only
  assert.deepEqual(await h.run(plan), { ok: true });
  assert.deepEqual(h.resolved, ['containers']);
  assert.deepEqual(h.runtime.containers.filter((c) => c.metadata.purpose === 'image').map((c) => c.image), [
    { kind: 'base-type', type: 'mock' },
    { kind: 'base-type', type: 'mock' },
  ]);
});

const BROKEN: { name: string; handler: ResourceHandler; message: RegExp }[] = [
  { name: "the image's check fails", handler: imageThroughContainers({ check: { exitStatus: 1 } }), message: /^image check failed$/ },
  { name: "the image's get fails", handler: imageThroughContainers({ get: { exitStatus: 1 } }), message: /^image fetching failed$/ },
];
for (const row of BROKEN) {
  test(`images through containers: the step errors when ${row.name}`, async (t) => {
    const h = setup(t, { resource: row.handler });
    assert.match(errorOf(await h.run(h.stepPlan({ get: 'custom' }, { custom: { version: 'c1' } }))), row.message);
    assert.equal(h.runtime.containers.filter((c) => c.metadata.purpose !== 'image').length, 0, 'no step container');
  });
}

test('images natively: a produces type whose check fails errors the step', async (t) => {
  // oci-thing's own image is fresh; the check of the task's image (oci-thing's check) runs in a container and fails
  const h = setup(t, { nativeImages: true, runsImages: true, resource: (_spec, script) => (script === 'check' ? { exitStatus: 1 } : { exitStatus: 0 }) });
  await freshType(h, { repository: `${REGISTRY}/team/oci-thing`, tag: 'v2' }, OTHER_DIGEST);
  const plan = h.stepPlan({ task: 't', config: { platform: 'linux', image_resource: { type: 'oci-thing', source: { repository: `${REGISTRY}/team/img` } }, run: { path: 'true' } } });
  assert.match(errorOf(await h.run(plan)), /^image check failed$/);
});

test('images natively: a check that finds no version errors naming the image', async (t) => {
  const h = setup(t, { nativeImages: true, runsImages: true, resource: (_spec, script) => (script === 'check' ? { exitStatus: 0, response: [] } : { exitStatus: 0 }) });
  await freshType(h, { repository: `${REGISTRY}/team/oci-thing`, tag: 'v2' }, OTHER_DIGEST);
  const plan = h.stepPlan({ task: 't', config: { platform: 'linux', image_resource: { type: 'oci-thing', source: { repository: `${REGISTRY}/team/img` } }, run: { path: 'true' } } });
  assert.equal(errorOf(await h.run(plan)), 'no version of the image image was found');
});

test('images natively: an empty tag in the version falls back to the source tag (decision 9)', async (t) => {
  const h = setup(t, { nativeImages: true, runsImages: true });
  await freshType(h, { repository: `${REGISTRY}/team/oci-thing`, tag: 'v2' }, OTHER_DIGEST);
  assert.deepEqual(await h.run(h.stepPlan({ get: 'bundle' }, { bundle: { tag: '' } })), { ok: true });
  assert.deepEqual(h.state.artifact('bundle'), { kind: 'image-ref', reference: `${REGISTRY}/team/bundle:v1`, digest: '' });
});
