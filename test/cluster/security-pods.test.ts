// Issue 16, finding 8, on the kube-sim cluster (runc containers): a member's step pods ran as the
// image's root with the default capabilities, and `privileged: true` was honoured for anyone.
// Each attack, now refused or defanged.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { V1Pod } from '@kubernetes/client-node';
import { startTestNode, type TestNode } from '../support/node.ts';
import { startKubeEnv, type KubeEnv } from '../runtime/kubernetes/support.ts';
import type { KubernetesRuntime } from '../../src/runtime/kubernetes/kubernetes-runtime.ts';
import type { ProcessIO } from '../../src/runtime/runtime.ts';

let env: KubeEnv;
let node: TestNode;
let runtime: KubernetesRuntime;

before(async () => {
  env = await startKubeEnv(['mock']);
  // an operator who caps memory: steps get 256Mi unless they ask, and at most 1Gi
  node = await startTestNode({ runtime: (root) => (runtime = env.runtime(root, { kubernetesDefaultMemoryLimit: '256Mi', kubernetesMaxMemoryLimit: '1Gi' })) });
});
after(async () => {
  await runtime?.close();
  await node?.stop();
  await env?.stop();
});

const name = (prefix: string): string => `${prefix}-${randomUUID().slice(0, 6)}`;

test("a member's privileged task fails with the operator's flag named, and no pod is created", async () => {
  const id = await node.setPipeline(
    name('priv'),
    `
jobs:
- name: escape
  plan:
  - task: root-the-node
    privileged: true
    config:
      platform: linux
      image_resource: {type: mock, source: {mirror_self: true}}
      run: {path: id}
`,
  );
  const build = await node.trigger(id, 'escape');
  const logs = await node.logs(build.id);
  assert.equal(build.status, 'errored', logs);
  assert.match(logs, /task 'root-the-node' asks for a privileged container; this cluster does not allow them \(jetway web --kubernetes-allow-privileged\)/);
  const created = env.cluster.audit.events({ verb: 'create', resource: 'pods', labels: { 'jetway.dev/build-id': String(build.id), 'jetway.dev/type': 'task' } });
  assert.equal(created.length, 0);
});

test("a task that is root in its image has no capabilities and cannot gain privileges (seccomp RuntimeDefault, no token)", async () => {
  const id = await node.setPipeline(
    name('caps'),
    `
jobs:
- name: probe
  plan:
  - task: probe
    config:
      platform: linux
      image_resource: {type: mock, source: {mirror_self: true}}
      run: {path: sh, args: [-c, "id -u; grep -E '^(CapEff|CapPrm|CapBnd|NoNewPrivs):' /proc/self/status; ls /var/run/secrets/kubernetes.io 2>&1 || true"]}
`,
  );
  const build = await node.trigger(id, 'probe');
  const logs = await node.logs(build.id);
  assert.equal(build.status, 'succeeded', logs);
  assert.match(logs, /^0$/m, 'the image user (root) is kept');
  assert.match(logs, /^CapEff:\s+0000000000000000$/m);
  assert.match(logs, /^CapPrm:\s+0000000000000000$/m);
  assert.match(logs, /^CapBnd:\s+0000000000000000$/m);
  assert.match(logs, /^NoNewPrivs:\s+1$/m);
  const created = env.cluster.audit.events({ verb: 'create', resource: 'pods', labels: { 'jetway.dev/build-id': String(build.id), 'jetway.dev/type': 'task' } });
  const pod = created[0]?.requestObject as V1Pod;
  assert.equal(pod.spec?.automountServiceAccountToken, false);
  assert.deepEqual(pod.spec?.securityContext?.seccompProfile, { type: 'RuntimeDefault' });
});

test('a numeric run.user runs the whole pod as that user: the process, and the sidecar that streams its private outputs out', async () => {
  const io: ProcessIO & { out: string; err: string } = { out: '', err: '', stdout: (c) => void (io.out += c.toString()), stderr: (c) => void (io.err += c.toString()) };
  const signal = new AbortController().signal;
  const container = await runtime.createContainer(
    {
      handle: randomUUID(),
      metadata: { type: 'task', step: 'as-user', buildId: 990_001, build: '1' },
      image: { kind: 'base-type', type: 'mock' },
      inputs: [],
      outputs: [{ name: 'out', path: 'out' }],
      user: '1000:1000',
    },
    signal,
  );
  try {
    const { exitStatus } = await container.run(
      { path: 'sh', args: ['-c', 'id -u; id -g; echo private > out/key; chmod 600 out/key; grep -E "^CapEff:" /proc/self/status'], user: '1000:1000' },
      io,
      signal,
    );
    assert.equal(exitStatus, 0, io.err);
    assert.match(io.out, /^1000\n1000\nCapEff:\s+0000000000000000\n$/);
    const out = await container.artifact('out');
    assert.ok(out.kind === 'volume');
    assert.equal(await readFile(join(out.path, 'key'), 'utf8'), 'private\n');
    assert.equal((await stat(join(out.path, 'key'))).mode & 0o777, 0o600);
  } finally {
    await container.destroy();
    await runtime.releaseBuild(990_001);
  }
});

test("a pipeline's numeric run.user reaches its pod; container_limits above the operator's maximum fail the step naming the flag", async () => {
  const id = await node.setPipeline(
    name('limits'),
    `
jobs:
- name: as-user
  plan:
  - task: whoami
    config:
      platform: linux
      image_resource: {type: mock, source: {mirror_self: true}}
      run: {path: sh, args: [-c, "id -u"], user: "1000"}
- name: greedy
  plan:
  - task: hog
    container_limits: {memory: 8GB}
    config:
      platform: linux
      image_resource: {type: mock, source: {mirror_self: true}}
      run: {path: id}
`,
  );
  const ok = await node.trigger(id, 'as-user');
  const okLogs = await node.logs(ok.id);
  assert.equal(ok.status, 'succeeded', okLogs);
  assert.match(okLogs, /^1000$/m);
  const pod = env.cluster.audit.events({ verb: 'create', resource: 'pods', labels: { 'jetway.dev/build-id': String(ok.id), 'jetway.dev/type': 'task' } })[0]?.requestObject as V1Pod;
  assert.deepEqual(pod.spec?.securityContext, { runAsUser: 1000, runAsNonRoot: true, seccompProfile: { type: 'RuntimeDefault' } });
  assert.deepEqual(pod.spec?.containers.find((c) => c.name === 'step')?.resources, { limits: { memory: '256Mi' } });

  const greedy = await node.trigger(id, 'greedy');
  const logs = await node.logs(greedy.id);
  assert.equal(greedy.status, 'errored', logs);
  assert.match(logs, /task 'hog' asks for a memory limit of 8589934592 bytes \(container_limits.memory\); this cluster allows at most 1Gi \(jetway web --kubernetes-max-memory-limit\)/);
});

test('runAsNonRoot holds: the kubelet refuses to start a pod whose non-root user turns out to be root', async () => {
  // The test cluster honours runAsNonRoot as the kubelet does; Jetway sets it only for a numeric
  // user other than 0, so this is the kubelet's safety net, checked with a hand-made pod.
  const { CoreV1Api } = await import('@kubernetes/client-node');
  const api = env.kubeConfig().makeApiClient(CoreV1Api);
  const podName = name('nonroot');
  await api.createNamespacedPod({
    namespace: 'default',
    body: {
      metadata: { name: podName },
      spec: {
        restartPolicy: 'Never',
        securityContext: { runAsUser: 0, runAsNonRoot: true },
        containers: [{ name: 'c', image: env.helperImage, command: ['/bin/busybox', 'true'] }],
      },
    },
  });
  try {
    const deadline = Date.now() + 15_000;
    let reason: string | undefined;
    while (Date.now() < deadline && !reason) {
      const pod = await api.readNamespacedPod({ name: podName, namespace: 'default' });
      reason = pod.status?.containerStatuses?.[0]?.state?.waiting?.reason;
      if (reason === 'ContainerCreating') reason = undefined;
      if (!reason) await new Promise((r) => setTimeout(r, 100));
    }
    assert.equal(reason, 'CreateContainerConfigError');
  } finally {
    await api.deleteNamespacedPod({ name: podName, namespace: 'default', gracePeriodSeconds: 0 });
  }
});
