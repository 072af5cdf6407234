// The image decisions at run time on the kube-sim test cluster, with a real registry: the tests the
// unit tests in test/engine/steps have, where a build really runs (issue 18). Each assertion names
// the decision it holds in docs/image-features.md, and would fail if that decision broke:
//  - decision 5: `fetch_artifact` from a ((var)) ("true"/"false" as a credential manager returns
//    them) steers the download, never reaches a resource script (mock's `in` refuses unknown
//    params) nor a cache key; `false` is the default (its value counts, not its presence);
//  - decision 7: a get by reference (a put's implicit get, a later job's get) keeps the metadata
//    the put stored;
//  - decision 2a: an image_resource pinned to a digest runs that digest, and the registry is never
//    asked for the tag (read from a relay that records every request);
//  - decision 9: pinned to a tag (no digest), it runs repository:tag and the log says it is mutable;
//  - a put whose custom type's image is resolved natively, and decision 11 (a task's `image:`
//    naming a get that downloaded runs repository@digest).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startTestNode, type TestNode } from '../support/node.ts';
import type { KubeEnv } from '../runtime/kubernetes/support.ts';
import { buildBusyboxImage } from '../kube-sim/images/build.ts';
import { sourceHash } from '../../src/db/versions.ts';
import { canonicalJson, sha256Hex } from '../../src/model/version.ts';
import type { KubernetesRuntime } from '../../src/runtime/kubernetes/kubernetes-runtime.ts';
import {
  creds,
  describePods,
  planNames,
  podCreates,
  recordingRelay,
  startNativeImagesEnv,
  stepImage,
  type NativeImagesEnv,
  type PodCreate,
  type RecordingRelay,
} from './native-images-support.ts';

let shared: NativeImagesEnv;
let env: KubeEnv;
let node: TestNode;
let runtime: KubernetesRuntime | undefined;
let relay: RecordingRelay;

before(async () => {
  shared = await startNativeImagesEnv();
  env = shared.env;
  relay = await recordingRelay(shared.priv.host);
  node = await startTestNode({ runtime: (root) => (runtime = env.runtime(root)) });
});
after(async () => {
  await runtime?.close().catch(() => undefined);
  await node?.stop().catch(() => undefined);
  await relay?.close();
  await shared?.stop();
});

const pipelineYaml = (registry: string, relayHost: string, pinnedDigest: string): string => `
var_sources:
- name: cm
  type: dummy
  config:
    vars: {download: "true", keep: "false"}
resource_types:
- name: oci-artifact
  type: registry-image
  source: {repository: ${registry}/jetway/registry-image-resource, tag: stable, username: ${creds.username}, password: ${creds.password}}
  produces: registry-image
resources:
- name: src-image
  type: registry-image
  source: {repository: ${registry}/team/src, tag: v1, username: ${creds.username}, password: ${creds.password}}
- name: release
  type: oci-artifact
  source: {repository: ${registry}/team/release, tag: v1, username: ${creds.username}, password: ${creds.password}}
- name: notes
  type: mock
  source: {initial_version: n1}
jobs:
- name: publish
  plan:
  - get: notes
    params: {fetch_artifact: ((cm:keep))}
  - get: src-image
    params: {fetch_artifact: ((cm:download)), format: oci}
  - put: release
    params: {image: src-image/image.tar}
    get_params: {fetch_artifact: ((cm:keep))}
  - task: run-release
    image: release
    config:
      platform: linux
      run: {path: sh, args: [-c, "cat /etc/release-note"]}
  - task: by-tag
    config:
      platform: linux
      image_resource:
        type: registry-image
        source: {repository: ${relayHost}/team/pinned, username: ${creds.username}, password: ${creds.password}}
        version: {tag: v1}
      run: {path: sh, args: [-c, "cat /etc/pinned-release"]}
- name: consume
  plan:
  - get: release
    passed: [publish]
    params: {fetch_artifact: false}
  - get: release-content
    resource: release
    passed: [publish]
    params: {fetch_artifact: true}
  - task: from-download
    image: release-content
    config:
      platform: linux
      inputs: [{name: release-content}]
      run: {path: sh, args: [-c, "cat /etc/release-note && ls release-content"]}
  - task: pinned
    config:
      platform: linux
      image_resource:
        type: registry-image
        source: {repository: ${relayHost}/team/pinned, tag: v1, username: ${creds.username}, password: ${creds.password}}
        version: {digest: ${pinnedDigest}}
      run: {path: sh, args: [-c, "cat /etc/pinned-release"]}
`;

/** The finish-get events of a build by step name: [step, version, metadata, resolved without a pod]. */
async function finishedGets(buildId: number): Promise<[string, unknown, unknown, boolean][]> {
  const names = await planNames(node, buildId);
  return (await node.events(buildId)).flatMap((e): [string, unknown, unknown, boolean][] =>
    e.event === 'finish-get' && !e.data.origin.id.includes('/image-') ? [[names.get(e.data.origin.id) ?? e.data.origin.id, e.data.version, e.data.metadata, e.data.resolved_without_pod === true]] : [],
  );
}

/** The params hashes (the cache key's params) of every resource cache of the resource config of this (interpolated) source. */
async function cacheParamHashes(source: Record<string, unknown>): Promise<string[]> {
  const r = await node.tdb.db.query<{ params_hash: string }>(
    'SELECT c.params_hash FROM resource_caches c JOIN resource_configs cfg ON cfg.id = c.resource_config_id WHERE cfg.source_hash = $1 ORDER BY c.id',
    [sourceHash(source)],
  );
  return r.rows.map((row) => row.params_hash);
}

const hashOf = (params: Record<string, unknown>): string => sha256Hex(canonicalJson(params));

test('image decisions at run time: fetch_artifact from vars, metadata kept by gets by reference, a put on a natively resolved custom type, decision 11, pinned digests and tags', async () => {
  const { priv, digests, push } = shared;
  await push('team/src', 'v1', await buildBusyboxImage({ '/etc/release-note': 'release note v1\n' }));
  const pinned = await push('team/pinned', 'v1', await buildBusyboxImage({ '/etc/pinned-release': 'pinned release A\n' }));
  // the tag moves on: only the pin says which image to run
  const moved = await push('team/pinned', 'v1', await buildBusyboxImage({ '/etc/pinned-release': 'pinned release B\n' }));
  assert.notEqual(pinned, moved);

  const pipeline = 'decisions';
  const id = await node.setPipeline(pipeline, pipelineYaml(priv.host, relay.host, pinned), shared.vars());
  const pods = (): PodCreate[] => podCreates(env, { 'jetway.dev/pipeline': pipeline });
  const ofBuild = (buildId: number): PodCreate[] => pods().filter((p) => p.labels['jetway.dev/build-id'] === String(buildId));
  const imageSource = (path: string): Record<string, unknown> => ({ repository: `${priv.host}/${path}`, tag: 'v1', ...creds });
  const registryImageTypeRef = `${priv.host}/jetway/registry-image-resource@${digests.registryImageType}`;

  // ---- publish
  const publish = await node.trigger(id, 'publish');
  const publishLogs = await node.logs(publish.id);
  assert.equal(publish.status, 'succeeded', `${publishLogs}\n${describePods(pods())}`);
  const publishPods = ofBuild(publish.id);
  const podsOf = (list: PodCreate[], type: string): string[] => list.filter((p) => p.labels['jetway.dev/type'] === type).map((p) => p.labels['jetway.dev/step'] ?? '');
  // decision 5: "true" from the var source downloads src-image; "false" keeps the put's implicit get by reference
  assert.deepEqual(podsOf(publishPods, 'get').sort(), ['notes', 'src-image'], describePods(publishPods));
  assert.equal(publishPods.filter((p) => p.labels['jetway.dev/purpose'] === 'image').length, 0, describePods(publishPods));
  // the put runs in its custom type's image, resolved natively (no image check or get pod above)
  const [putPod] = publishPods.filter((p) => p.labels['jetway.dev/type'] === 'put');
  assert.equal(putPod && stepImage(putPod), registryImageTypeRef, describePods(publishPods));
  // mock's `in` refuses params it does not know: fetch_artifact never reached it
  assert.doesNotMatch(publishLogs, /fetch_artifact/);
  // decision 5: fetch_artifact is no part of any cache key
  assert.deepEqual(await cacheParamHashes(imageSource('team/src')), [hashOf({ format: 'oci' })]);
  assert.deepEqual(await cacheParamHashes({ initial_version: 'n1' }), [hashOf({})]);
  assert.deepEqual(await cacheParamHashes(imageSource('team/release')), [hashOf({})]);

  // decision 7: the put stored the pushed version with its metadata; its implicit get by reference keeps it
  const pushedGets = (await finishedGets(publish.id)).filter(([step]) => step === 'release');
  assert.equal(pushedGets.length, 1);
  const [, releaseVersion, , byReference] = pushedGets[0]!;
  const releaseDigest = (releaseVersion as Record<string, string>).digest ?? '';
  assert.match(releaseDigest, /^sha256:/);
  const releaseMetadata = [
    { name: 'repository', value: `${priv.host}/team/release` },
    { name: 'tags', value: 'v1' },
  ];
  assert.deepEqual(pushedGets[0], ['release', { tag: 'v1', digest: releaseDigest }, releaseMetadata, true]);
  assert.equal(byReference, true);
  const stored = await node.tdb.db.query<{ metadata: unknown }>(
    `SELECT v.metadata FROM resource_config_versions v JOIN resources r ON r.resource_config_scope_id = v.resource_config_scope_id WHERE r.pipeline_id = $1 AND r.name = 'release'`,
    [id],
  );
  assert.deepEqual(stored.rows.map((r) => r.metadata), [releaseMetadata]);
  // the task booted from the reference the implicit get recorded
  const publishTasks = Object.fromEntries(publishPods.filter((p) => p.labels['jetway.dev/type'] === 'task').map((p) => [p.labels['jetway.dev/step'], stepImage(p)]));
  assert.equal(publishTasks['run-release'], `${priv.host}/team/release@${releaseDigest}`);
  assert.match(publishLogs, /release note v1/);
  // decision 9: pinned to a tag, no digest: repository:tag, said to be mutable
  assert.equal(publishTasks['by-tag'], `${relay.host}/team/pinned:v1`);
  assert.ok(publishLogs.includes(`has no digest: using ${relay.host}/team/pinned:v1, a mutable reference`), publishLogs);
  assert.match(publishLogs, /pinned release B/);

  // ---- consume
  const requestsBefore = relay.requests.length;
  const consume = await node.trigger(id, 'consume');
  const consumeLogs = await node.logs(consume.id);
  assert.equal(consume.status, 'succeeded', `${consumeLogs}\n${describePods(pods())}`);
  const consumePods = ofBuild(consume.id);
  // decision 5: `fetch_artifact: false` is the default (by reference); `true` downloads, in one get pod
  assert.deepEqual(podsOf(consumePods, 'get'), ['release-content'], describePods(consumePods));
  // decision 7: a later job's get by reference keeps the stored metadata too
  assert.deepEqual(await finishedGets(consume.id), [
    ['release', { tag: 'v1', digest: releaseDigest }, releaseMetadata, true],
    // the download answers with what its `in` printed
    ['release-content', { tag: 'v1', digest: releaseDigest }, [releaseMetadata[0], { name: 'tag', value: 'v1' }], false],
  ]);
  const consumeTasks = Object.fromEntries(consumePods.filter((p) => p.labels['jetway.dev/type'] === 'task').map((p) => [p.labels['jetway.dev/step'], stepImage(p)]));
  // decision 11: a task's image: naming a get that downloaded runs repository@digest, and the download is its input
  assert.equal(consumeTasks['from-download'], `${priv.host}/team/release@${releaseDigest}`);
  assert.match(consumeLogs, /release note v1\n[\s\S]*rootfs/);
  // decision 2a: the pinned digest runs, though the tag moved; the registry was never asked for the tag
  assert.equal(consumeTasks.pinned, `${relay.host}/team/pinned@${pinned}`);
  assert.match(consumeLogs, /pinned release A/);
  const asked = relay.requests.slice(requestsBefore).map(decodeURIComponent);
  assert.ok(asked.some((r) => r.includes(`/v2/team/pinned/manifests/${pinned}`)), `the kubelet pulled through the relay: ${JSON.stringify(asked)}`);
  assert.deepEqual(asked.filter((r) => /\/manifests\/v1$/.test(r)), [], JSON.stringify(asked));
  // the cache keys of consume's gets: by reference and downloaded, neither with fetch_artifact
  assert.deepEqual(await cacheParamHashes(imageSource('team/release')), [hashOf({})]);
});
