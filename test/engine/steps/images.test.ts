// The engine's image seam (src/engine/image/) through the steps that use it: what a step's image
// is on each path, how it is counted, its privilege, its env, and what a broken image sub-plan
// says (docs/image-features.md, decisions 1-4 and 9). The step tests cover the common cases;
// these hold the details mutation testing found untested (docs/mutation-testing.md).
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import type { GetPlan } from '../../../src/model/plan.ts';
import type { ContainerSpec } from '../../../src/runtime/runtime.ts';
import type { ResourceHandler, ScriptResult } from '../../support/scripted-runtime.ts';
import { BUILD_ID, DIGEST, JOB_ID, OTHER_DIGEST, errorOf, eventData, harness, logged, type Harness, type HarnessOptions } from './harness.ts';

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
- name: plain-oci
  type: registry-image
  source: {repository: ${REGISTRY}/team/plain-oci}
resources:
- name: plain
  type: mock
  source: {initial_version: p1}
- name: via-plain-oci
  type: plain-oci
  source: {initial_version: q1}
- name: warned
  type: registry-image
  source: {repository: ${REGISTRY}/team/warned, tag: v1, ca_certs: [a-certificate]}
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
  // a task step runs and succeeds: what these tests look at is the image it was given
  const h = harness(t, { pipeline: PIPELINE, task: () => ({ exitStatus: 0 }), ...options });
  const resolved: string[] = [];
  h.deps.metrics = { imageResolved: (how) => void resolved.push(how) };
  return Object.assign(h, { resolved });
}

/** A fresh history for a registry-image type's image, so neither a check nor the registry is needed (decision 2b). */
async function freshType(h: Harness, source: Record<string, unknown>, digest: string): Promise<void> {
  const scope = await h.store.findOrCreateScope({ baseType: 'registry-image' }, source, null);
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

// ---------------------------------------------------------------- the survivors of the image seam's mutation run (docs/mutation-testing.md)

const native = { nativeImages: true, runsImages: true } as const;
const NOTE_MUTABLE = 'a mutable reference (the image behind it may change between pulls)';

test('images through containers: the fetched image is the step\'s image as an artifact; its cache is the parent of the step\'s resource config and is recorded for the build and its job', async (t) => {
  const h = setup(t, { resource: imageThroughContainers() });
  assert.deepEqual(await h.run(h.stepPlan({ get: 'custom' }, { custom: { version: 'c1' } })), { ok: true });

  const imageCache = h.store.resourceCaches.find((c) => c.version.version === 't1');
  assert.ok(imageCache, "the image's resource cache");
  assert.deepEqual(h.store.imageResourceCaches, [{ buildId: BUILD_ID, jobId: JOB_ID, resourceCacheId: imageCache.id }]);
  assert.deepEqual(h.store.resourceConfigs.find((c) => c.source.initial_version === 'c1')?.parent, { resourceCacheId: imageCache.id });
  const step = h.runtime.containers.find((c) => c.metadata.purpose !== 'image');
  assert.equal(step?.image.kind, 'artifact');
  assert.equal(step?.image.kind === 'artifact' ? step.image.artifact.kind : undefined, 'volume');
});

const BY_REFERENCE: { name: string; credentials: boolean }[] = [
  { name: 'with the pull credentials of its source', credentials: true },
  { name: 'with no credentials in its source', credentials: false },
];
for (const row of BY_REFERENCE) {
  test(`images through containers on a runtime that boots images: a fetched image runs as repository@digest ${row.name}; pinned to a version, it has no check`, async (t) => {
    const h = setup(t, {
      runsImages: true,
      resource: (_spec, script, request) =>
        script === 'in' ? { exitStatus: 0, response: { version: (request as { version: unknown }).version }, files: { repository: `${REGISTRY}/team/img\n`, digest: `${DIGEST}\n` } } : { exitStatus: 1 },
    });
    const source = { repository: `${REGISTRY}/team/img`, ...(row.credentials ? { username: 'ci', password: 'hunter22' } : {}) };
    const plan = h.stepPlan({ task: 't', config: { platform: 'linux', image_resource: { type: 'registry-image', source, version: { digest: DIGEST } }, run: { path: 'true' } } });

    assert.deepEqual(await h.run(plan), { ok: true });

    assert.deepEqual(h.runtime.containers.map((c) => [c.metadata.type, c.metadata.purpose === 'image']), [['get', true], ['task', false]]);
    assert.deepEqual(h.runtime.containers.at(-1)?.image, {
      kind: 'reference',
      reference: `${REGISTRY}/team/img@${DIGEST}`,
      ...(row.credentials ? { pullCredentials: { registry: REGISTRY, username: 'ci', password: 'hunter22' } } : {}),
    });
    assert.deepEqual(eventData(h.events, 'image-check'), [], 'a pinned version needs no check');
    assert.deepEqual(eventData(h.events, 'image-get').map((e) => e.resolved_without_pod), [undefined]);
    assert.deepEqual(h.resolved, ['containers']);
  });
}

const BASE_PRIVILEGE: { name: string; privileged?: true }[] = [{ name: 'unprivileged as planned (a base type carries no privilege)' }, { name: 'privileged when its plan says so', privileged: true }];
for (const row of BASE_PRIVILEGE) {
  test(`images: a base type's image runs its step ${row.name}`, async (t) => {
    const h = setup(t, { resource: imageThroughContainers() });
    const plan = h.stepPlan({ get: 'plain' }, { plain: { version: 'p1' } });
    if (row.privileged) (plan as { get: GetPlan }).get.image.privileged = true;
    assert.deepEqual(await h.run(plan), { ok: true });
    assert.deepEqual(h.runtime.containers.map((c) => [c.metadata.type, c.image, c.privileged]), [['get', { kind: 'base-type', type: 'mock' }, row.privileged === true]]);
    assert.deepEqual(h.resolved, [], 'a base type is not counted');
  });
}

test('images natively: a custom type that is neither registry-image nor produces goes through containers (check and get in containers, events unmarked, counted as containers)', async (t) => {
  const h = setup(t, {
    ...native,
    resource: imageThroughContainers({ get: { exitStatus: 0, response: { version: { version: 't1' } }, files: { repository: `${REGISTRY}/team/my-type\n`, digest: `${DIGEST}\n` } } }),
  });
  assert.deepEqual(await h.run(h.stepPlan({ get: 'custom' }, { custom: { version: 'c1' } })), { ok: true });

  assert.deepEqual(h.runtime.containers.map((c) => [c.metadata.type, c.metadata.purpose === 'image']), [['check', true], ['get', true], ['get', false]]);
  assert.deepEqual(h.runtime.containers.at(-1)?.image, { kind: 'reference', reference: `${REGISTRY}/team/my-type@${DIGEST}` });
  assert.equal(h.state.artifact('custom')?.kind, 'volume');
  assert.deepEqual(h.resolved, ['containers']);
  assert.deepEqual(eventData(h.events, 'image-check').map((e) => e.resolved_without_pod), [undefined]);
  assert.deepEqual(eventData(h.events, 'image-get').map((e) => e.resolved_without_pod), [undefined]);
});

test('images natively: a get of a base type that is not registry-image downloads in a container', async (t) => {
  const h = setup(t, { ...native, resource: imageThroughContainers() });
  assert.deepEqual(await h.run(h.stepPlan({ get: 'plain' }, { plain: { version: 'p1' } })), { ok: true });
  assert.deepEqual(h.runtime.containers.map((c) => [c.metadata.type, c.image]), [['get', { kind: 'base-type', type: 'mock' }]]);
  assert.equal(h.state.artifact('plain')?.kind, 'volume');
  assert.equal(eventData(h.events, 'finish-get')[0]?.resolved_without_pod, undefined);
});

test('images natively: an unprivileged registry-image type runs its resource\'s containers unprivileged', async (t) => {
  const h = setup(t, { ...native, resource: imageThroughContainers() });
  await freshType(h, { repository: `${REGISTRY}/team/plain-oci` }, DIGEST);
  assert.deepEqual(await h.run(h.stepPlan({ get: 'via-plain-oci' }, { 'via-plain-oci': { version: 'q1' } })), { ok: true });
  assert.deepEqual(h.runtime.containers.map((c) => [c.metadata.type, c.image, c.privileged]), [['get', { kind: 'reference', reference: `${REGISTRY}/team/plain-oci@${DIGEST}` }, false]]);
  assert.deepEqual(h.resolved, ['native']);
});

// decision 2a: a pinned digest needs no lookup; decision 10: the source's credentials reach the pod
test('images natively: an image_resource pinned to a digest runs it with no check, its source\'s pull credentials, no container but the task; its image-get keeps no metadata', async (t) => {
  const h = setup(t, native);
  const source = { repository: `${REGISTRY}/team/img`, username: 'ci', password: 'hunter22' };
  const plan = h.stepPlan({ task: 't', config: { platform: 'linux', image_resource: { type: 'registry-image', source, version: { digest: DIGEST } }, run: { path: 'true' } } });

  assert.deepEqual(await h.run(plan), { ok: true });

  assert.deepEqual(h.runtime.containers.map((c) => [c.metadata.type, c.image]), [
    ['task', { kind: 'reference', reference: `${REGISTRY}/team/img@${DIGEST}`, pullCredentials: { registry: REGISTRY, username: 'ci', password: 'hunter22' } }],
  ]);
  assert.deepEqual(eventData(h.events, 'image-check'), []);
  assert.deepEqual(eventData(h.events, 'finish-get').map((e) => [e.origin.id, e.metadata, e.resolved_without_pod]), [[`${plan.id}/image-get`, [], true]]);
  const imageCache = h.store.resourceCaches.find((c) => c.version.digest === DIGEST);
  assert.ok(imageCache);
  assert.deepEqual(h.store.imageResourceCaches, [{ buildId: BUILD_ID, jobId: JOB_ID, resourceCacheId: imageCache.id }]);
  assert.deepEqual(h.resolved, ['native']);
});

// decision 9 (issue 18, gap 3): a produces type whose check finds versions without a digest
test('images natively: the image of a produces type whose check finds a version without a digest runs repository:tag (its check in an image container) and the log says it is mutable', async (t) => {
  const h = setup(t, { ...native, resource: (_spec, script) => (script === 'check' ? { exitStatus: 0, response: [{ tag: 'v7' }] } : { exitStatus: 1 }) });
  await freshType(h, { repository: `${REGISTRY}/team/oci-thing`, tag: 'v2' }, OTHER_DIGEST);
  const plan = h.stepPlan({ task: 't', config: { platform: 'linux', image_resource: { type: 'oci-thing', source: { repository: `${REGISTRY}/team/img` } }, run: { path: 'true' } } });

  assert.deepEqual(await h.run(plan), { ok: true });

  const reference = `${REGISTRY}/team/img:v7`;
  assert.deepEqual(h.runtime.containers.map((c) => [c.metadata.type, c.metadata.purpose === 'image', c.image]), [
    ['check', true, { kind: 'reference', reference: `${REGISTRY}/team/oci-thing@${OTHER_DIGEST}` }],
    ['task', false, { kind: 'reference', reference }],
  ]);
  const line = `the version {"tag":"v7"} of image 'image' has no digest: using ${reference}, ${NOTE_MUTABLE}\n`;
  assert.deepEqual(eventData(h.events, 'log').filter((l) => l.origin.id === `${plan.id}/image-get`).map((l) => l.payload), [line]);
  assert.equal(logged(h.events, 'stderr'), line);
});

// issue 18, gap 2: the run-time error names the image, the type and the field
test('images natively: the image of a produces type without a repository errors naming the image, the type and source.repository', async (t) => {
  const h = setup(t, native);
  await freshType(h, { repository: `${REGISTRY}/team/oci-thing`, tag: 'v2' }, OTHER_DIGEST);
  const plan = h.stepPlan({ task: 't', config: { platform: 'linux', image_resource: { type: 'oci-thing', source: { tag: 'v1' }, version: { digest: DIGEST } }, run: { path: 'true' } } });
  assert.equal(
    errorOf(await h.run(plan)),
    "image 'image' (type 'oci-thing', which declares produces: registry-image) has no repository in its source: source.repository names the image its reference is built from",
  );
  assert.deepEqual(h.runtime.containers, []);
});

// decision 12: the check runs in the web node with the source as written (registry-image's own
// warnings reach the check's stderr); nothing listens at REGISTRY, so it fails there
test('images natively: a registry-image check runs in the web node with its source, its warnings on the check\'s stderr, and no container', async (t) => {
  const h = setup(t, native);
  assert.deepEqual(await h.run(h.checkPlan('warned')), { ok: false });
  assert.deepEqual(h.runtime.containers, []);
  assert.match(eventData(h.events, 'error')[0]?.message ?? '', /127\.0\.0\.1:9/);
  assert.equal(logged(h.events, 'stderr'), 'warning: source.ca_certs is not supported yet; the system certificate authorities are used\n');
});
