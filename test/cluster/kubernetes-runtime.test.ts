// The Kubernetes runtime end to end on the kube-sim test cluster (real registry, runc containers),
// through the engine: private images with per-build pull secrets, artifacts across pods, pull
// failures, labels and names, finished pods deleted, API throttling survived, eviction, run.user.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { CoreV1Api, type V1Pod } from '@kubernetes/client-node';
import { startTestNode, type TestNode } from '../support/node.ts';
import { startRegistry, type TestRegistry } from '../support/registry.ts';
import { startTargetKubeEnv, type TargetKubeEnv } from '../runtime/kubernetes/support.ts';
import { clusterTarget, kubeSimOnly } from './target.ts';
import { randomBytes } from 'node:crypto';
import type { Cluster } from '../kube-sim/cluster.ts';
import { buildBusyboxImage, pushImage } from '../kube-sim/images/build.ts';
import { RegistryClient } from '../../src/images/registry-client.ts';
import type { KubernetesRuntime } from '../../src/runtime/kubernetes/kubernetes-runtime.ts';
import { getBuild } from '../../src/db/builds.ts';
import { findJob } from '../../src/db/jobs.ts';
import { createManualBuild } from '../../src/db/builds.ts';

let env: TargetKubeEnv;
// KUBECONFIG and JETWAY_TEST_REGISTRY: a real cluster (./target.ts); else the kube-sim test cluster
const target = clusterTarget(process.env, randomBytes(3).toString('hex'));
const namespace = target.kind === 'real' ? target.namespace : 'default';
/** kube-sim's own handles (audit log, faults): only for tests that skip on a real cluster */
const sim = (): Cluster => {
  if (!env.sim) throw new Error('this test needs the kube-sim test cluster');
  return env.sim;
};
let node: TestNode;
let runtime: KubernetesRuntime;
let privateRegistry: TestRegistry;
const creds = { username: 'ci', password: 'pull-secret-7d1e' };

before(async () => {
  env = await startTargetKubeEnv(['mock', 'registry-image'], target);
  console.log(target.kind === 'real' ? `# on the cluster of ${target.kubeconfig}, namespace ${target.namespace}` : `# on the kube-sim test cluster: ${target.why}`);
  privateRegistry = await startRegistry({ htpasswd: creds });
  node = await startTestNode({ runtime: (root) => (runtime = env.runtime(root)) });
});
after(async () => {
  await runtime?.close();
  await node?.stop();
  await privateRegistry?.stop();
  await env?.stop();
});

const name = (prefix: string): string => `${prefix}-${randomUUID().slice(0, 6)}`;
const podsOf = (filter: (p: V1Pod) => boolean): V1Pod[] => runtime.watcher.list().filter((p) => !p.metadata?.deletionTimestamp && filter(p));

async function waitUntil(what: string, fn: () => boolean | Promise<boolean>, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await fn())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

test('a task whose image comes from a private registry runs from repository@digest with a per-build pull secret, gone after the build', { skip: kubeSimOnly(target, 'nodes that pull from a registry on this machine, and its audit log') }, async () => {
  const image = await buildBusyboxImage({ '/etc/app-release': 'app v1 only-in-this-image\n' });
  const digest = await pushImage(new RegistryClient(), { registry: privateRegistry.host, path: 'team/app' }, 'v1', image, creds);
  const pipeline = name('private');
  const id = await node.setPipeline(
    pipeline,
    `
jobs:
- name: show
  plan:
  - task: show
    config:
      platform: linux
      image_resource:
        type: registry-image
        source: {repository: ${privateRegistry.host}/team/app, tag: v1, username: ((user)), password: ((pass))}
      run: {path: cat, args: [/etc/app-release]}
`,
    { user: creds.username, pass: creds.password },
  );
  const build = await node.trigger(id, 'show');
  const logs = await node.logs(build.id);
  assert.equal(build.status, 'succeeded', logs);
  assert.match(logs, /only-in-this-image/);
  // the task pod: image repository@digest, the build's pull secret
  const created = sim().audit.events({ verb: 'create', resource: 'pods', labels: { 'jetway.dev/build-id': String(build.id), 'jetway.dev/type': 'task' } });
  assert.equal(created.length, 1);
  const spec = (created[0]!.requestObject as V1Pod).spec!;
  assert.equal(spec.containers.find((c) => c.name === 'step')?.image, `${privateRegistry.host}/team/app@${digest}`);
  const secretName = spec.imagePullSecrets?.map((s) => s.name).find((n) => n?.startsWith(`jetway-pull-${build.id}-`));
  assert.ok(secretName, JSON.stringify(spec.imagePullSecrets));
  assert.equal(sim().audit.count({ verb: 'create', resource: 'secrets', name: secretName }) + sim().audit.events({ verb: 'create', resource: 'secrets' }).filter((e) => (e.requestObject as { metadata?: { name?: string } }).metadata?.name === secretName).length > 0, true);
  assert.doesNotMatch(JSON.stringify(await node.events(build.id)), new RegExp(creds.password));
  // the secret is gone after the build
  const api = env.kubeConfig().makeApiClient(CoreV1Api);
  await assert.rejects(api.readNamespacedSecret({ name: secretName, namespace }), (err: { code?: number }) => err.code === 404);
  assert.ok(sim().audit.count({ verb: 'delete', resource: 'secrets', name: secretName }) >= 1);
});

test('artifacts pass from a get to a task to a put across pods; pods are named and labelled, found by label, and deleted when done', async () => {
  const pipeline = name('flow');
  const id = await node.setPipeline(
    pipeline,
    `
resources:
- name: src
  type: mock
  source: {create_files: {greeting.txt: hello-from-get}}
- name: dst
  type: mock
  source: {}
jobs:
- name: relay
  plan:
  - get: src
  - task: transform
    config:
      platform: linux
      image_resource: {type: mock, source: {mirror_self: true}}
      inputs: [{name: src}]
      outputs: [{name: out}]
      run:
        path: sh
        args: [-ec, "sleep 2; cat src/greeting.txt; echo \\"$(cat src/greeting.txt)-via-task\\" > out/version"]
  - put: dst
    params: {file: out/version}
`,
  );
  await node.checkResource(id, 'src');
  const job = await findJob(node.tdb.db, id, 'relay');
  const created = await createManualBuild(node.tdb.db, job!.id);
  const done = node.waitForBuild(created.id);
  // while the task runs, `kubectl get pods -l jetway.dev/job=relay,...` finds its pod
  const api = env.kubeConfig().makeApiClient(CoreV1Api);
  let found: V1Pod | undefined;
  await waitUntil('the task pod', async () => {
    const list = await api.listNamespacedPod({ namespace, labelSelector: `jetway.dev/pipeline=${pipeline},jetway.dev/job=relay,jetway.dev/type=task` });
    found = list.items[0];
    return found !== undefined;
  });
  assert.match(found!.metadata!.name!, new RegExp(`^${pipeline}-relay-b1-task-[0-9a-f]{8}$`));
  assert.equal(found!.metadata!.labels!['jetway.dev/step'], 'transform');
  assert.equal(found!.metadata!.labels!['jetway.dev/build-id'], String(created.id));
  assert.equal(found!.metadata!.labels!['app.kubernetes.io/managed-by'], 'jetway');
  const build = await done;
  const logs = await node.logs(build.id);
  assert.equal(build.status, 'succeeded', logs);
  assert.match(logs, /hello-from-get/);
  const events = await node.events(build.id);
  const put = events.flatMap((e) => (e.event === 'finish-put' ? [e.data.version] : []));
  assert.deepEqual(put, [{ version: 'hello-from-get-via-task' }]);
  // get, task and put ran in pods of their own, and all are gone
  for (const type of env.sim ? ['get', 'task', 'put'] : []) {
    assert.ok(sim().audit.count({ verb: 'create', resource: 'pods', labels: { 'jetway.dev/build-id': String(build.id), 'jetway.dev/type': type } }) >= 1, type);
  }
  await waitUntil('the pods to go', () => podsOf((p) => p.metadata?.labels?.['jetway.dev/build-id'] === String(build.id)).length === 0);
  const left = await api.listNamespacedPod({ namespace, labelSelector: `jetway.dev/pipeline=${pipeline}` });
  assert.deepEqual(left.items.filter((p) => !p.metadata?.deletionTimestamp).map((p) => p.metadata?.name), []);
});

test("a task's params reach its process but not the pod spec; their Secret lives only until the pod runs", { skip: kubeSimOnly(target, 'audit log (the pod spec as created)') }, async () => {
  const token = 'tok-5f0e2c91-never-in-a-pod';
  const id = await node.setPipeline(
    name('params'),
    `
jobs:
- name: deploy
  plan:
  - task: use-token
    params: {API_TOKEN: ((token)), REGION: eu-west-1}
    config:
      platform: linux
      image_resource: {type: mock, source: {mirror_self: true}}
      params: {REGION: us-east-1, PLAIN: from-config}
      run: {path: sh, args: [-c, 'test "$API_TOKEN" = ${token} && echo "token ok region=$REGION plain=$PLAIN"']}
`,
    { token },
  );
  const build = await node.trigger(id, 'deploy');
  const logs = await node.logs(build.id);
  assert.equal(build.status, 'succeeded', logs);
  assert.match(logs, /token ok region=eu-west-1 plain=from-config/);
  const created = sim().audit.events({ verb: 'create', resource: 'pods', labels: { 'jetway.dev/build-id': String(build.id), 'jetway.dev/type': 'task' } });
  assert.equal(created.length, 1);
  const pod = created[0]!.requestObject as V1Pod;
  assert.doesNotMatch(JSON.stringify(pod), new RegExp(token), 'the pod spec holds no param value');
  const step = pod.spec!.containers.find((c) => c.name === 'step')!;
  const secretName = `${pod.metadata!.name}-env`;
  assert.deepEqual(
    step.env
      ?.filter((e) => e.valueFrom?.secretKeyRef)
      .map((e) => [e.name, e.valueFrom!.secretKeyRef!.name])
      .sort(),
    [
      ['API_TOKEN', secretName],
      ['PLAIN', secretName],
      ['REGION', secretName],
    ],
  );
  // created before the pod, deleted once it ran; not readable afterwards
  const secretCreates = sim().audit.events({ verb: 'create', resource: 'secrets' }).filter((e) => (e.requestObject as { metadata?: { name?: string } }).metadata?.name === secretName);
  assert.equal(secretCreates.length, 1);
  assert.ok(Date.parse(secretCreates[0]!.requestReceivedTimestamp) <= Date.parse(created[0]!.requestReceivedTimestamp));
  assert.ok(sim().audit.count({ verb: 'delete', resource: 'secrets', name: secretName }) >= 1);
  const api = env.kubeConfig().makeApiClient(CoreV1Api);
  await assert.rejects(api.readNamespacedSecret({ name: secretName, namespace }), (err: { code?: number }) => err.code === 404);
});

test('a wrong image fails fast with the pull error in the build events', async () => {
  const id = await node.setPipeline(
    name('wrong-image'),
    `
jobs:
- name: broken
  plan:
  - task: nope
    config:
      platform: linux
      rootfs_uri: docker:///${env.registry}/jetway/does-not-exist#v1
      run: {path: echo, args: [never]}
`,
  );
  const started = Date.now();
  const build = await node.trigger(id, 'broken');
  const elapsed = Date.now() - started;
  const logs = await node.logs(build.id);
  assert.equal(build.status, 'errored', logs);
  assert.match(logs, new RegExp(`image pull failed for ${env.registry}/jetway/does-not-exist:v1: `));
  assert.ok(elapsed < 20_000, `took ${elapsed} ms (pull grace 2s, start-up timeout 60s)`);
});

test('run.user fails clearly: the helper busybox has no chpst', async () => {
  const id = await node.setPipeline(
    name('user'),
    `
jobs:
- name: as-user
  plan:
  - task: whoami
    config:
      platform: linux
      image_resource: {type: mock, source: {mirror_self: true}}
      run: {path: id, user: nobody}
`,
  );
  const build = await node.trigger(id, 'as-user');
  const logs = await node.logs(build.id);
  assert.equal(build.status, 'errored', logs);
  assert.match(logs, /run\.user needs busybox's chpst/);
});

test('an evicted pod errors its step with the reason', { skip: kubeSimOnly(target, 'fault injection') }, async () => {
  const pipeline = name('evict');
  const id = await node.setPipeline(
    pipeline,
    `
jobs:
- name: long
  plan:
  - task: sleepy
    config:
      platform: linux
      image_resource: {type: mock, source: {mirror_self: true}}
      run: {path: sleep, args: ["60"]}
`,
  );
  const job = await findJob(node.tdb.db, id, 'long');
  const created = await createManualBuild(node.tdb.db, job!.id);
  const done = node.waitForBuild(created.id);
  let pod: V1Pod | undefined;
  await waitUntil('the task pod to run', () => {
    pod = podsOf((p) => p.metadata?.labels?.['jetway.dev/pipeline'] === pipeline && p.metadata?.labels?.['jetway.dev/type'] === 'task' && p.status?.phase === 'Running')[0];
    return pod !== undefined;
  });
  await new Promise((r) => setTimeout(r, 500));
  await sim().faults.evictPod(namespace, pod!.metadata!.name!, 'The node was low on resource: memory.');
  const build = await done;
  const logs = await node.logs(build.id);
  assert.equal(build.status, 'errored', logs);
  assert.match(logs, /was evicted: The node was low on resource: memory\./);
});

test('a pipeline survives 30% of API requests answered 429', { skip: kubeSimOnly(target, 'fault injection') }, async () => {
  sim().faults.set({ throttleShare: 0.3, retryAfterSeconds: 1, seed: 7 });
  try {
    const before429 = sim().audit.count({ code: 429 });
    const id = await node.setPipeline(
      name('throttled'),
      `
jobs:
- name: j
  plan:
  - task: make
    config:
      platform: linux
      image_resource: {type: mock, source: {mirror_self: true}}
      outputs: [{name: o}]
      run: {path: sh, args: [-c, "echo throttled-ok > o/f"]}
  - task: read
    config:
      platform: linux
      image_resource: {type: mock, source: {mirror_self: true}}
      inputs: [{name: o}]
      run: {path: cat, args: [o/f]}
`,
    );
    const build = await node.trigger(id, 'j');
    const logs = await node.logs(build.id);
    assert.equal(build.status, 'succeeded', logs);
    assert.match(logs, /throttled-ok/);
    assert.ok(sim().audit.count({ code: 429 }) > before429, 'some requests were throttled');
    assert.equal((await getBuild(node.tdb.db, build.id))?.status, 'succeeded');
  } finally {
    sim().faults.set({ throttleShare: 0 });
  }
});
