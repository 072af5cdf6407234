import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { V1Container, V1Pod } from '@kubernetes/client-node';
import { kubernetesRuntimeConfig, type KubernetesRuntimeConfig } from '../../../src/runtime/kubernetes/config.ts';
import {
  BUSYBOX,
  PodSpecError,
  cpuMillicores,
  envSecretName,
  execCommands,
  podSpec,
  processCommand,
  resourceScriptProcess,
  signalCommand,
  stepEnvSecret,
  stepImage,
  stepUser,
} from '../../../src/runtime/kubernetes/pod-spec.ts';
import type { ContainerSpec } from '../../../src/runtime/runtime.ts';
import { JETWAY_VERSION } from '../../../src/version.ts';
import { assertValidObject } from './validate.ts';

const H = '3f2a9c1e-7b44-4d2a-9a0b-1c2d3e4f5a6b';
const WORK = '/tmp/build/3f2a9c1e';
const DIGEST = `sha256:${'b'.repeat(64)}`;
const cfg: KubernetesRuntimeConfig = kubernetesRuntimeConfig({ kubernetesNamespace: 'ci', baseResourceType: ['my-type=registry.home/my-type-resource:1'] });

const spec = (extra: Partial<ContainerSpec>): ContainerSpec => ({
  handle: H,
  metadata: { type: 'task', pipeline: 'main', job: 'unit', build: '3', buildId: 33, step: 'test', planId: 'p1', team: 'main' },
  image: { kind: 'reference', reference: `127.0.0.1:5000/team/app@${DIGEST}` },
  inputs: [],
  outputs: [],
  ...extra,
});

const volumeArtifact = { kind: 'volume' as const, path: '/data/artifacts/x.tar' };

function container(pod: V1Pod, name: string): V1Container {
  const c = [...(pod.spec?.initContainers ?? []), ...(pod.spec?.containers ?? [])].find((x) => x.name === name);
  assert.ok(c, `container ${name}`);
  return c;
}

function names(pod: V1Pod): { init: string[]; main: string[] } {
  return { init: (pod.spec?.initContainers ?? []).map((c) => c.name), main: (pod.spec?.containers ?? []).map((c) => c.name) };
}

test('each step type gives a valid pod with the designed containers, names and labels', () => {
  const cases: { name: string; spec: ContainerSpec; podName: string; main: string[]; image: string }[] = [
    {
      name: 'check',
      spec: spec({ metadata: { type: 'check', step: 'repo', pipeline: 'main', buildId: 1 }, image: { kind: 'base-type', type: 'git' } }),
      podName: 'chk-repo-3f2a9c1e',
      main: ['step'],
      image: `jetway/git-resource:${JETWAY_VERSION}`,
    },
    {
      name: 'get',
      spec: spec({ metadata: { type: 'get', step: 'repo', pipeline: 'main', job: 'unit', build: '3', buildId: 33 }, image: { kind: 'base-type', type: 'my-type' }, outputs: [{ name: 'repo', path: 'get' }] }),
      podName: 'main-unit-b3-get-3f2a9c1e',
      main: ['step', 'jetway-artifacts'],
      image: 'registry.home/my-type-resource:1',
    },
    {
      name: 'put',
      spec: spec({
        metadata: { type: 'put', step: 'deploy', pipeline: 'main', job: 'unit', build: '3', buildId: 33 },
        image: { kind: 'reference', reference: 'my-org/custom-resource:v2' },
        inputs: [{ name: 'repo', path: 'put/repo', artifact: volumeArtifact }],
        outputs: [{ name: 'put', path: 'put' }],
      }),
      podName: 'main-unit-b3-put-3f2a9c1e',
      main: ['step', 'jetway-artifacts'],
      image: 'my-org/custom-resource:v2',
    },
    {
      name: 'task',
      spec: spec({ inputs: [{ name: 'src', path: 'src', artifact: volumeArtifact }], outputs: [{ name: 'out', path: 'out' }], caches: [{ path: 'cache', key: 'k' }] }),
      podName: 'main-unit-b3-task-3f2a9c1e',
      main: ['step', 'jetway-artifacts'],
      image: `127.0.0.1:5000/team/app@${DIGEST}`,
    },
    {
      name: 'task with an image-ref artifact (decision 11)',
      spec: spec({ image: { kind: 'artifact', artifact: { kind: 'image-ref', reference: `my-org/img@${DIGEST}`, digest: DIGEST } } }),
      podName: 'main-unit-b3-task-3f2a9c1e',
      main: ['step'],
      image: `my-org/img@${DIGEST}`,
    },
  ];
  for (const c of cases) {
    const pod = assertValidObject(podSpec(c.spec, cfg));
    assert.equal(pod.metadata?.name, c.podName, c.name);
    assert.equal(pod.metadata?.namespace, 'ci');
    assert.equal(pod.metadata?.labels?.['jetway.dev/type'], c.spec.metadata.type, c.name);
    assert.equal(pod.metadata?.labels?.['jetway.dev/handle'], H);
    assert.equal(pod.metadata?.labels?.['app.kubernetes.io/managed-by'], 'jetway');
    assert.equal(pod.spec?.restartPolicy, 'Never');
    assert.equal(pod.spec?.enableServiceLinks, false);
    assert.deepEqual(names(pod), { init: ['jetway-tools'], main: c.main }, c.name);
    const step = container(pod, 'step');
    assert.equal(step.image, c.image, c.name);
    assert.equal(step.workingDir, WORK);
    assert.equal(step.command?.[0], BUSYBOX, 'the step container idles on the copied busybox');
    assert.match(step.command?.join(' ') ?? '', /sleep 2147483647/);
    assert.deepEqual(step.volumeMounts?.map((m) => [m.name, m.mountPath, m.readOnly ?? false]), [
      ['jetway-tools', '/jetway/bin', true],
      ['jetway-run', '/jetway/run', false],
      ['work', WORK, false],
    ]);
    const tools = container(pod, 'jetway-tools');
    assert.equal(tools.image, cfg.helperImage);
    assert.deepEqual(tools.command, ['/bin/busybox', 'cp', '/bin/busybox', '/jetway/bin/busybox']);
    if (c.main.includes('jetway-artifacts')) {
      const side = container(pod, 'jetway-artifacts');
      assert.equal(side.image, cfg.helperImage);
      assert.deepEqual(side.volumeMounts?.map((m) => [m.name, m.mountPath]), [['work', WORK]]);
    }
    assert.deepEqual(pod.spec?.volumes?.map((v) => [v.name, v.emptyDir !== undefined]), [
      ['jetway-tools', true],
      ['jetway-run', true],
      ['work', true],
    ]);
  }
});

test('privileged (where the operator allows it), limits and env reach the step container only', () => {
  const allowing = kubernetesRuntimeConfig({ kubernetesNamespace: 'ci', kubernetesAllowPrivileged: true });
  const pod = assertValidObject(podSpec(spec({ privileged: true, limits: { cpu: 512, memory: 1024 * 1024 * 1024 }, env: { FOO: 'bar', 'WITH.DOT': 'x y', EMPTY: '' } }), allowing));
  const step = container(pod, 'step');
  assert.deepEqual(step.securityContext, { privileged: true });
  assert.deepEqual(step.resources, { limits: { cpu: '500m', memory: '1073741824' } });
  assert.deepEqual(step.env, [
    { name: 'FOO', value: 'bar' },
    { name: 'WITH.DOT', value: 'x y' },
    { name: 'EMPTY', value: '' },
  ]);
  assert.deepEqual(container(pod, 'jetway-tools').securityContext, { allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] } });
  assert.equal(container(pod, 'jetway-tools').env, undefined);

  const plain = container(assertValidObject(podSpec(spec({ limits: { cpu: 0, memory: 0 } }), cfg)), 'step');
  assert.deepEqual(plain.securityContext, { allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] } });
  assert.equal(plain.resources, undefined);
  assert.deepEqual(plain.env, []);

  assert.throws(() => podSpec(spec({ env: { 'A=B': 'x' } }), cfg), PodSpecError);
  assert.throws(() => podSpec(spec({ env: { '': 'x' } }), cfg), PodSpecError);
});

// issue 16, finding 8: any member could run a privileged pod (the node's root)
test('a privileged step fails on a cluster that does not allow them, naming the flag', () => {
  assert.equal(cfg.allowPrivileged, false);
  assert.throws(
    () => podSpec(spec({ privileged: true }), cfg),
    (err: unknown) =>
      err instanceof PodSpecError &&
      err.message === "task 'test' asks for a privileged container; this cluster does not allow them (jetway web --kubernetes-allow-privileged)",
  );
  const get = spec({ metadata: { type: 'get', step: 'repo' }, image: { kind: 'base-type', type: 'my-type' }, privileged: true });
  assert.throws(() => podSpec(get, cfg), /^PodSpecError: get 'repo' asks for a privileged container/);
});

// issue 16, finding 8: tasks ran as the image's root with the default capabilities
test('every pod: no privilege escalation, no capabilities, RuntimeDefault seccomp, no service account token', () => {
  const pod = assertValidObject(podSpec(spec({ outputs: [{ name: 'out', path: 'out' }] }), cfg));
  assert.deepEqual(pod.spec?.securityContext, { seccompProfile: { type: 'RuntimeDefault' } });
  assert.equal(pod.spec?.automountServiceAccountToken, false);
  for (const name of ['jetway-tools', 'step', 'jetway-artifacts']) {
    const sc = container(pod, name).securityContext;
    assert.equal(sc?.allowPrivilegeEscalation, false, name);
    assert.deepEqual(sc?.capabilities?.drop, ['ALL'], name);
    assert.equal(sc?.privileged, undefined, name);
  }
  assert.deepEqual(container(pod, 'jetway-artifacts').securityContext?.capabilities?.add, ['CHOWN', 'DAC_OVERRIDE', 'FOWNER']);
  assert.equal(container(pod, 'step').securityContext?.capabilities?.add, undefined);
});

test('run.user: a numeric user is the whole pod\'s runAsUser (non-root when not 0); a name goes to chpst, which keeps SETUID/SETGID', () => {
  assert.equal(stepUser(undefined), undefined);
  assert.equal(stepUser(''), undefined);
  assert.deepEqual(stepUser('1000'), { kind: 'id', uid: 1000 });
  assert.deepEqual(stepUser('1000:50'), { kind: 'id', uid: 1000, gid: 50 });
  assert.deepEqual(stepUser('root'), { kind: 'id', uid: 0, gid: 0 });
  assert.deepEqual(stepUser('postgres'), { kind: 'name', name: 'postgres' });
  assert.deepEqual(stepUser('app:staff'), { kind: 'name', name: 'app:staff' });
  assert.throws(() => stepUser('9999999999'), /at most 2147483647/);

  const numeric = assertValidObject(podSpec(spec({ user: '1000' }), cfg));
  assert.deepEqual(numeric.spec?.securityContext, { runAsUser: 1000, runAsNonRoot: true, seccompProfile: { type: 'RuntimeDefault' } });
  assert.deepEqual(container(numeric, 'step').securityContext, { allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] } });
  const root = assertValidObject(podSpec(spec({ user: 'root' }), cfg));
  assert.deepEqual(root.spec?.securityContext, { runAsUser: 0, runAsGroup: 0, seccompProfile: { type: 'RuntimeDefault' } });
  const named = assertValidObject(podSpec(spec({ user: 'postgres' }), cfg));
  assert.deepEqual(named.spec?.securityContext, { seccompProfile: { type: 'RuntimeDefault' } });
  assert.deepEqual(container(named, 'step').securityContext, { allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'], add: ['SETGID', 'SETUID'] } });

  // the process: no chpst for the pod's own numeric user; chpst for a name; a numeric user the pod was not made with is refused
  assert.equal(processCommand({ path: 'id', user: '1000' }, WORK, 'e1', '1000').command.includes('chpst'), false);
  assert.deepEqual(processCommand({ path: 'id', user: 'postgres' }, WORK, 'e1', 'postgres').command.slice(-5), [BUSYBOX, 'chpst', '-u', 'postgres', 'id']);
  assert.throws(() => processCommand({ path: 'id', user: '1000' }, WORK, 'e1', undefined), /must be the user the step's pod was created with/);
});

// run.user at its edges (docs/mutation-testing.md: the whole run's survivors): only a whole number
// (and gid) is an id, the largest 32-bit signed id included; anything else around digits is a name
const USER_ROWS: { user: string; want: ReturnType<typeof stepUser> | RegExp }[] = [
  { user: '2147483647', want: { kind: 'id', uid: 2147483647 } },
  { user: '1000:2147483647', want: { kind: 'id', uid: 1000, gid: 2147483647 } },
  { user: '2147483648', want: /run\.user '2147483648': uid and gid must be at most 2147483647/ },
  { user: '1000:2147483648', want: /run\.user '1000:2147483648': uid and gid must be at most 2147483647/ },
  { user: 'x1000', want: { kind: 'name', name: 'x1000' } },
  { user: '1000x', want: { kind: 'name', name: '1000x' } },
];
for (const row of USER_ROWS) {
  test(`run.user '${row.user}' is ${row.want instanceof RegExp ? 'refused' : JSON.stringify(row.want)}`, () => {
    if (row.want instanceof RegExp) assert.throws(() => stepUser(row.user), row.want);
    else assert.deepEqual(stepUser(row.user), row.want);
  });
}

// the exec id names the process's pid file under the run folder: lowercase letters, digits and '-', starting with neither '-'
const EXEC_ID_ROWS: { id: string; ok: boolean }[] = [
  { id: 'exec-12', ok: true },
  { id: '-e1', ok: false },
  { id: 'e1/../x', ok: false },
  { id: 'E1', ok: false },
];
for (const row of EXEC_ID_ROWS) {
  test(`exec id '${row.id}' is ${row.ok ? 'accepted, naming its pid file' : 'refused'}`, () => {
    const run = () => processCommand({ path: 'id' }, WORK, row.id).command.join(' ');
    if (row.ok) assert.match(run(), new RegExp(`/${row.id}\\.pid`));
    else assert.throws(run, new RegExp(`exec id '${row.id.replace(/[.]/g, '\\.')}' must be lowercase letters, digits and '-'`));
  });
}

test("resources: the step's limits within the operator's maximum, else the default limit, else the maximum; requests never above the limit", () => {
  const ops = kubernetesRuntimeConfig({
    kubernetesDefaultCpuRequest: '500m',
    kubernetesDefaultMemoryRequest: '1Gi',
    kubernetesDefaultMemoryLimit: '2Gi',
    kubernetesMaxCpuLimit: '2',
    kubernetesMaxMemoryLimit: '4Gi',
  });
  const res = (extra: Partial<ContainerSpec>, c: KubernetesRuntimeConfig = ops) => container(assertValidObject(podSpec(spec(extra), c)), 'step').resources;
  // nothing asked: the default memory limit, the maximum CPU (no default CPU limit), the requests
  assert.deepEqual(res({}), { requests: { cpu: '500m', memory: '1Gi' }, limits: { cpu: '2000m', memory: '2Gi' } });
  // asked within the maximum: the step's own; a limit under the default request lowers the request
  assert.deepEqual(res({ limits: { cpu: 256, memory: 512 * 1024 * 1024 } }), { requests: { cpu: '250m', memory: '536870912' }, limits: { cpu: '250m', memory: '536870912' } });
  // 0 is "no limit" in Concourse: the operator's default
  assert.deepEqual(res({ limits: { cpu: 0, memory: 0 } }), res({}));
  // above the maximum: refused, naming the flag
  assert.throws(
    () => podSpec(spec({ limits: { memory: 8 * 1024 ** 3 } }), ops),
    (err: unknown) =>
      err instanceof PodSpecError &&
      err.message === "task 'test' asks for a memory limit of 8589934592 bytes (container_limits.memory); this cluster allows at most 4Gi (jetway web --kubernetes-max-memory-limit)",
  );
  assert.throws(() => podSpec(spec({ limits: { cpu: 4096 } }), ops), /asks for a CPU limit of 4000m \(container_limits.cpu: 4096 shares\); this cluster allows at most 2000m \(jetway web --kubernetes-max-cpu-limit\)/);
  // no operator settings: as before, only the step's own limits
  assert.equal(res({}, cfg), undefined);
});

test('secretEnv: values in a Secret of the pod, read by secretKeyRef; they win over plain env of the same name', () => {
  const s = spec({ env: { BUILD_ID: '33', TOKEN: 'plain-loses' }, secretEnv: { TOKEN: 's3cr3t', 'dotted.name-x': 'two words', EMPTY: '' } });
  const pod = assertValidObject(podSpec(s, cfg));
  const podName = pod.metadata!.name!;
  assert.doesNotMatch(JSON.stringify(pod), /s3cr3t|two words|plain-loses/);
  assert.deepEqual(container(pod, 'step').env, [
    { name: 'BUILD_ID', value: '33' },
    { name: 'TOKEN', valueFrom: { secretKeyRef: { name: `${podName}-env`, key: 'env-0' } } },
    { name: 'dotted.name-x', valueFrom: { secretKeyRef: { name: `${podName}-env`, key: 'env-1' } } },
    { name: 'EMPTY', valueFrom: { secretKeyRef: { name: `${podName}-env`, key: 'env-2' } } },
  ]);
  const secret = assertValidObject(stepEnvSecret(s, pod)!);
  assert.equal(secret.metadata?.name, envSecretName(podName));
  assert.equal(secret.metadata?.namespace, 'ci');
  assert.equal(secret.metadata?.labels?.['jetway.dev/build-id'], '33');
  assert.equal(secret.metadata?.labels?.['jetway.dev/purpose'], 'step-env');
  const values = Object.fromEntries(Object.entries(secret.data ?? {}).map(([k, v]) => [k, Buffer.from(v, 'base64').toString('utf8')]));
  assert.deepEqual(values, { 'env-0': 's3cr3t', 'env-1': 'two words', 'env-2': '' });
  // no secret env, no Secret
  assert.equal(stepEnvSecret(spec({ env: { A: 'b' } }), pod), undefined);
  assert.throws(() => podSpec(spec({ secretEnv: { 'A=B': 'x' } }), cfg), PodSpecError);
});

test('cpu shares to millicores: 1024 shares is one CPU, rounded up, 0 is no limit', () => {
  const cases: [number | undefined, number | undefined][] = [
    [undefined, undefined],
    [0, undefined],
    [-5, undefined],
    [1, 1],
    [512, 500],
    [1024, 1000],
    [100, 98],
    [2048, 2000],
  ];
  for (const [shares, millicores] of cases) assert.equal(cpuMillicores(shares), millicores, String(shares));
  assert.deepEqual(container(podSpec(spec({ limits: { memory: 1000.4 } }), cfg), 'step').resources, { limits: { memory: '1001' } });
});

test('pull secrets: the operator list, then the build secret, deduplicated; service account; helper image override', () => {
  const custom = kubernetesRuntimeConfig({
    kubernetesImagePullSecret: ['registry-creds', 'gcr-key'],
    kubernetesServiceAccount: 'jetway-step',
    kubernetesHelperImage: 'busybox:1.37',
  });
  const pod = assertValidObject(podSpec(spec({ inputs: [{ name: 'a', path: 'a', artifact: volumeArtifact }] }), custom, { pullSecretName: 'jetway-pull-33-0a1b2c3d' }));
  assert.deepEqual(pod.spec?.imagePullSecrets, [{ name: 'registry-creds' }, { name: 'gcr-key' }, { name: 'jetway-pull-33-0a1b2c3d' }]);
  assert.equal(pod.spec?.serviceAccountName, 'jetway-step');
  assert.equal(pod.metadata?.namespace, undefined);
  assert.equal(container(pod, 'jetway-tools').image, 'busybox:1.37');
  assert.equal(container(pod, 'jetway-artifacts').image, 'busybox:1.37');

  const dup = podSpec(spec({}), custom, { pullSecretName: 'gcr-key' });
  assert.deepEqual(dup.spec?.imagePullSecrets, [{ name: 'registry-creds' }, { name: 'gcr-key' }]);

  const none = assertValidObject(podSpec(spec({}), kubernetesRuntimeConfig({})));
  assert.equal(none.spec?.imagePullSecrets, undefined);
  assert.equal(none.spec?.serviceAccountName, undefined);
});

test('image pods carry jetway.dev/purpose=image', () => {
  const pod = assertValidObject(podSpec(spec({ metadata: { type: 'check', step: 'my-type', purpose: 'image' }, image: { kind: 'base-type', type: 'registry-image' } }), cfg));
  assert.equal(pod.metadata?.labels?.['jetway.dev/purpose'], 'image');
  assert.equal(container(pod, 'step').image, `jetway/registry-image-resource:${JETWAY_VERSION}`);
});

test('images a pod cannot run are refused with a clear message', () => {
  const cases: [ContainerSpec['image'], RegExp][] = [
    [{ kind: 'artifact', artifact: { kind: 'volume', path: '/x' } }, /artifact directory cannot run on Kubernetes: a pod boots only from a registry image/],
    [{ kind: 'none' }, /needs an image/],
    [{ kind: 'base-type', type: 'unknown-type' }, /'unknown-type' has no image on Kubernetes; map it with --base-resource-type unknown-type=IMAGE/],
    [{ kind: 'base-type', type: 'constructor' }, /'constructor' has no image/],
    [{ kind: 'reference', reference: 'Bad/Ref' }, /cannot run a pod: the image 'Bad\/Ref'/],
    [{ kind: 'reference', reference: '' }, /the image is empty/],
  ];
  for (const [image, message] of cases) {
    assert.throws(() => podSpec(spec({ image }), cfg), (err: unknown) => err instanceof PodSpecError && message.test(err.message), JSON.stringify(image));
  }
  assert.equal(stepImage({ kind: 'reference', reference: `a/b:1@${DIGEST}` }, cfg), `a/b:1@${DIGEST}`);
});

test('execCommands: stream-in, stream-out, prepare and caches, in the sidecar, inside the work dir', () => {
  const plan = execCommands(
    spec({
      inputs: [{ name: 'src', path: 'src', artifact: volumeArtifact }, { name: 'deep', path: 'a/b/../c', artifact: volumeArtifact }],
      outputs: [{ name: 'out', path: 'out' }],
      caches: [{ path: 'node_modules', key: '1/unit/test' }],
    }),
  );
  assert.equal(plan.workDir, WORK);
  assert.deepEqual(plan.inputs.map((i) => [i.name, i.dir, i.command.container]), [
    ['src', `${WORK}/src`, 'jetway-artifacts'],
    ['deep', `${WORK}/a/c`, 'jetway-artifacts'],
  ]);
  assert.deepEqual(plan.inputs[0]?.command.command.slice(-2), ['jetway-stream-in', `${WORK}/src`]);
  assert.match(plan.inputs[0]?.command.command[3] ?? '', /tar -x -f - -C "\$1"/);
  assert.deepEqual(plan.outputs[0]?.command, { container: 'jetway-artifacts', command: ['/bin/busybox', 'tar', '-c', '-f', '-', '-C', `${WORK}/out`, '.'] });
  assert.deepEqual(plan.caches[0]?.save.command, ['/bin/busybox', 'tar', '-c', '-f', '-', '-C', `${WORK}/node_modules`, '.']);
  assert.equal(plan.caches[0]?.restore.command.at(-1), `${WORK}/node_modules`);
  assert.deepEqual(plan.prepare?.command.slice(-2), [`${WORK}/out`, `${WORK}/node_modules`]);
  assert.equal(execCommands(spec({})).prepare, undefined);

  for (const path of ['../x', '/etc', 'a/../../x']) {
    assert.throws(() => execCommands(spec({ outputs: [{ name: 'o', path }] })), /leaves the step's working directory/, path);
  }
});

test('processCommand: resource scripts and task processes through busybox sh, values never spliced into the script', () => {
  const script = processCommand({ ...resourceScriptProcess('in'), args: [`${WORK}/get`] }, WORK, 'e1');
  assert.equal(script.container, 'step');
  assert.deepEqual(script.command.slice(0, 3), [BUSYBOX, 'sh', '-c']);
  assert.deepEqual(script.command.slice(4), ['jetway-exec', '/jetway/run/e1.pid', WORK, '--', '/opt/resource/in', `${WORK}/get`]);

  const task = processCommand({ path: 'sh', args: ['-c', 'echo "$HOME" $(id)'], dir: 'repo', env: { A: '1', B: 'x y' }, user: 'nobody' }, WORK, 'e2');
  assert.deepEqual(task.command.slice(4), ['jetway-exec', '/jetway/run/e2.pid', `${WORK}/repo`, 'A=1', 'B=x y', '--', BUSYBOX, 'chpst', '-u', 'nobody', 'sh', '-c', 'echo "$HOME" $(id)']);
  // the script is the same whatever the values
  assert.equal(task.command[3], script.command[3]);

  assert.throws(() => processCommand({ path: 'x', dir: '../..' }, WORK, 'e3'), /leaves/);
  assert.throws(() => processCommand({ path: 'x' }, WORK, 'Bad Id'), /exec id/);
  assert.throws(() => processCommand({ path: 'x', env: { '-n': '1' } }, WORK, 'e4'), /must not start with '-'/);
  assert.throws(() => processCommand({ path: '' }, WORK, 'e5'), /no path/);
  assert.deepEqual(signalCommand('e1', 'TERM').command.slice(-2), ['TERM', '/jetway/run/e1.pid']);
});

// --- Golden pods: the whole pod of each kind of step, written out. A change to any field of a
// step's pod shows here, as a diff of the pod.

const HELPER = 'registry.ci/jetway/helper:1.0.0';
const goldenCfg: KubernetesRuntimeConfig = kubernetesRuntimeConfig({
  kubernetesNamespace: 'ci',
  kubernetesHelperImage: HELPER,
  baseResourceType: ['git=registry.ci/git-resource:1', 'my-type=registry.ci/my-type-resource:1'],
});
// an operator who allows privileged steps and sets requests, default limits and maximums: the tasks' cases
const resourcesCfg: KubernetesRuntimeConfig = kubernetesRuntimeConfig({
  kubernetesNamespace: 'ci',
  kubernetesHelperImage: HELPER,
  kubernetesAllowPrivileged: true,
  kubernetesDefaultCpuRequest: '250m',
  kubernetesDefaultMemoryRequest: '256Mi',
  kubernetesDefaultCpuLimit: '1',
  kubernetesDefaultMemoryLimit: '2Gi',
  kubernetesMaxCpuLimit: '4',
  kubernetesMaxMemoryLimit: '8Gi',
});
// the operator's service account and pull secret: the put's case
const operatorCfg: KubernetesRuntimeConfig = kubernetesRuntimeConfig({
  kubernetesNamespace: 'ci',
  kubernetesHelperImage: HELPER,
  kubernetesServiceAccount: 'jetway-step',
  kubernetesImagePullSecret: ['registry-creds'],
});

// The commands every pod has, spelt out (not imported: the test pins them).
const COPY_BUSYBOX = ['/bin/busybox', 'cp', '/bin/busybox', '/jetway/bin/busybox'];
const STEP_IDLE = ['/jetway/bin/busybox', 'sh', '-c', "trap 'exit 0' TERM; /jetway/bin/busybox sleep 2147483647 & wait"];
const SIDECAR_IDLE = ['/bin/busybox', 'sh', '-c', "trap 'exit 0' TERM; /bin/busybox sleep 2147483647 & wait"];
// The restrictive default every pod gets (issue 16, finding 8), spelt out.
const POD_SECURITY = { seccompProfile: { type: 'RuntimeDefault' } };
const RESTRICTED = { allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] } };
const SIDECAR_SECURITY = { allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'], add: ['CHOWN', 'DAC_OVERRIDE', 'FOWNER'] } };

const goldenCases: { name: string; spec: ContainerSpec; cfg: KubernetesRuntimeConfig; pullSecretName?: string; want: V1Pod }[] = [
  {
    name: 'check: a base type, no artifacts (no sidecar)',
    spec: {
      handle: H,
      metadata: { type: 'check', step: 'repo', pipeline: 'main', team: 'main', planId: 'c1' },
      image: { kind: 'base-type', type: 'git' },
      inputs: [],
      outputs: [],
    },
    cfg: goldenCfg,
    want: {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: {
        name: 'chk-repo-3f2a9c1e',
        namespace: 'ci',
        labels: {
          'app.kubernetes.io/managed-by': 'jetway',
          'jetway.dev/type': 'check',
          'jetway.dev/handle': H,
          'jetway.dev/pipeline': 'main',
          'jetway.dev/step': 'repo',
          'jetway.dev/team': 'main',
        },
        annotations: {
          'jetway.dev/handle': H,
          'jetway.dev/type': 'check',
          'jetway.dev/pipeline': 'main',
          'jetway.dev/step': 'repo',
          'jetway.dev/team': 'main',
          'jetway.dev/plan-id': 'c1',
        },
      },
      spec: {
        restartPolicy: 'Never',
        terminationGracePeriodSeconds: 10,
        enableServiceLinks: false,
        automountServiceAccountToken: false,
        securityContext: POD_SECURITY,
        initContainers: [
          {
            name: 'jetway-tools',
            image: HELPER,
            command: COPY_BUSYBOX,
            volumeMounts: [{ name: 'jetway-tools', mountPath: '/jetway/bin' }],
            resources: { requests: { cpu: '10m', memory: '16Mi' }, limits: { memory: '256Mi' } },
            securityContext: RESTRICTED,
          },
        ],
        containers: [
          {
            name: 'step',
            image: 'registry.ci/git-resource:1',
            command: STEP_IDLE,
            workingDir: WORK,
            env: [],
            volumeMounts: [
              { name: 'jetway-tools', mountPath: '/jetway/bin', readOnly: true },
              { name: 'jetway-run', mountPath: '/jetway/run' },
              { name: 'work', mountPath: WORK },
            ],
            securityContext: RESTRICTED,
          },
        ],
        volumes: [
          { name: 'jetway-tools', emptyDir: {} },
          { name: 'jetway-run', emptyDir: {} },
          { name: 'work', emptyDir: {} },
        ],
      },
    },
  },
  {
    name: 'get: a mapped base type, its output through the sidecar',
    spec: {
      handle: H,
      metadata: { type: 'get', step: 'repo', pipeline: 'main', job: 'unit', build: '3', buildId: 33, team: 'main', planId: 'g1' },
      image: { kind: 'base-type', type: 'my-type' },
      inputs: [],
      outputs: [{ name: 'repo', path: 'get' }],
      env: { BUILD_ID: '33', BUILD_NAME: '3' },
    },
    cfg: goldenCfg,
    want: {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: {
        name: 'main-unit-b3-get-3f2a9c1e',
        namespace: 'ci',
        labels: {
          'app.kubernetes.io/managed-by': 'jetway',
          'jetway.dev/type': 'get',
          'jetway.dev/handle': H,
          'jetway.dev/pipeline': 'main',
          'jetway.dev/job': 'unit',
          'jetway.dev/build': '3',
          'jetway.dev/build-id': '33',
          'jetway.dev/step': 'repo',
          'jetway.dev/team': 'main',
        },
        annotations: {
          'jetway.dev/handle': H,
          'jetway.dev/type': 'get',
          'jetway.dev/pipeline': 'main',
          'jetway.dev/job': 'unit',
          'jetway.dev/build': '3',
          'jetway.dev/build-id': '33',
          'jetway.dev/step': 'repo',
          'jetway.dev/team': 'main',
          'jetway.dev/plan-id': 'g1',
        },
      },
      spec: {
        restartPolicy: 'Never',
        terminationGracePeriodSeconds: 10,
        enableServiceLinks: false,
        automountServiceAccountToken: false,
        securityContext: POD_SECURITY,
        initContainers: [
          {
            name: 'jetway-tools',
            image: HELPER,
            command: COPY_BUSYBOX,
            volumeMounts: [{ name: 'jetway-tools', mountPath: '/jetway/bin' }],
            resources: { requests: { cpu: '10m', memory: '16Mi' }, limits: { memory: '256Mi' } },
            securityContext: RESTRICTED,
          },
        ],
        containers: [
          {
            name: 'step',
            image: 'registry.ci/my-type-resource:1',
            command: STEP_IDLE,
            workingDir: WORK,
            env: [
              { name: 'BUILD_ID', value: '33' },
              { name: 'BUILD_NAME', value: '3' },
            ],
            volumeMounts: [
              { name: 'jetway-tools', mountPath: '/jetway/bin', readOnly: true },
              { name: 'jetway-run', mountPath: '/jetway/run' },
              { name: 'work', mountPath: WORK },
            ],
            securityContext: RESTRICTED,
          },
          {
            name: 'jetway-artifacts',
            image: HELPER,
            command: SIDECAR_IDLE,
            workingDir: WORK,
            volumeMounts: [{ name: 'work', mountPath: WORK }],
            resources: { requests: { cpu: '10m', memory: '16Mi' }, limits: { memory: '256Mi' } },
            securityContext: SIDECAR_SECURITY,
          },
        ],
        volumes: [
          { name: 'jetway-tools', emptyDir: {} },
          { name: 'jetway-run', emptyDir: {} },
          { name: 'work', emptyDir: {} },
        ],
      },
    },
  },
  {
    name: "put: a custom type's image with the build's pull secret after the operator's, the operator's service account",
    spec: {
      handle: H,
      metadata: { type: 'put', step: 'deploy', pipeline: 'main', job: 'unit', build: '3', buildId: 33, team: 'main', planId: 'p3' },
      image: { kind: 'reference', reference: `registry.ci/deploy-resource@${DIGEST}`, pullCredentials: { registry: 'registry.ci', username: 'ci', password: 'hunter2' } },
      inputs: [{ name: 'repo', path: 'put/repo', artifact: volumeArtifact }],
      outputs: [{ name: 'put', path: 'put' }],
    },
    cfg: operatorCfg,
    pullSecretName: 'jetway-pull-33-0a1b2c3d',
    want: {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: {
        name: 'main-unit-b3-put-3f2a9c1e',
        namespace: 'ci',
        labels: {
          'app.kubernetes.io/managed-by': 'jetway',
          'jetway.dev/type': 'put',
          'jetway.dev/handle': H,
          'jetway.dev/pipeline': 'main',
          'jetway.dev/job': 'unit',
          'jetway.dev/build': '3',
          'jetway.dev/build-id': '33',
          'jetway.dev/step': 'deploy',
          'jetway.dev/team': 'main',
        },
        annotations: {
          'jetway.dev/handle': H,
          'jetway.dev/type': 'put',
          'jetway.dev/pipeline': 'main',
          'jetway.dev/job': 'unit',
          'jetway.dev/build': '3',
          'jetway.dev/build-id': '33',
          'jetway.dev/step': 'deploy',
          'jetway.dev/team': 'main',
          'jetway.dev/plan-id': 'p3',
        },
      },
      spec: {
        restartPolicy: 'Never',
        terminationGracePeriodSeconds: 10,
        enableServiceLinks: false,
        automountServiceAccountToken: false,
        securityContext: POD_SECURITY,
        serviceAccountName: 'jetway-step',
        imagePullSecrets: [{ name: 'registry-creds' }, { name: 'jetway-pull-33-0a1b2c3d' }],
        initContainers: [
          {
            name: 'jetway-tools',
            image: HELPER,
            command: COPY_BUSYBOX,
            volumeMounts: [{ name: 'jetway-tools', mountPath: '/jetway/bin' }],
            resources: { requests: { cpu: '10m', memory: '16Mi' }, limits: { memory: '256Mi' } },
            securityContext: RESTRICTED,
          },
        ],
        containers: [
          {
            name: 'step',
            image: `registry.ci/deploy-resource@${DIGEST}`,
            command: STEP_IDLE,
            workingDir: WORK,
            env: [],
            volumeMounts: [
              { name: 'jetway-tools', mountPath: '/jetway/bin', readOnly: true },
              { name: 'jetway-run', mountPath: '/jetway/run' },
              { name: 'work', mountPath: WORK },
            ],
            securityContext: RESTRICTED,
          },
          {
            name: 'jetway-artifacts',
            image: HELPER,
            command: SIDECAR_IDLE,
            workingDir: WORK,
            volumeMounts: [{ name: 'work', mountPath: WORK }],
            resources: { requests: { cpu: '10m', memory: '16Mi' }, limits: { memory: '256Mi' } },
            securityContext: SIDECAR_SECURITY,
          },
        ],
        volumes: [
          { name: 'jetway-tools', emptyDir: {} },
          { name: 'jetway-run', emptyDir: {} },
          { name: 'work', emptyDir: {} },
        ],
      },
    },
  },
  {
    name: "task: inputs, outputs and caches (sidecar), params as env and secret env, its limits within the maximum with the operator's requests, privileged where the operator allows it",
    spec: {
      handle: H,
      metadata: { type: 'task', step: 'test', pipeline: 'main', job: 'unit', build: '3', buildId: 33, team: 'main', planId: 't1' },
      image: { kind: 'reference', reference: `127.0.0.1:5000/team/app@${DIGEST}` },
      inputs: [{ name: 'src', path: 'src', artifact: volumeArtifact }],
      outputs: [{ name: 'out', path: 'out' }],
      caches: [{ path: 'node_modules', key: '33/unit/test' }],
      env: { CI: 'true', TOKEN: 'never-seen' },
      secretEnv: { TOKEN: 's3cr3t' },
      limits: { cpu: 512, memory: 1024 * 1024 * 1024 },
      privileged: true,
    },
    cfg: resourcesCfg,
    want: {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: {
        name: 'main-unit-b3-task-3f2a9c1e',
        namespace: 'ci',
        labels: {
          'app.kubernetes.io/managed-by': 'jetway',
          'jetway.dev/type': 'task',
          'jetway.dev/handle': H,
          'jetway.dev/pipeline': 'main',
          'jetway.dev/job': 'unit',
          'jetway.dev/build': '3',
          'jetway.dev/build-id': '33',
          'jetway.dev/step': 'test',
          'jetway.dev/team': 'main',
        },
        annotations: {
          'jetway.dev/handle': H,
          'jetway.dev/type': 'task',
          'jetway.dev/pipeline': 'main',
          'jetway.dev/job': 'unit',
          'jetway.dev/build': '3',
          'jetway.dev/build-id': '33',
          'jetway.dev/step': 'test',
          'jetway.dev/team': 'main',
          'jetway.dev/plan-id': 't1',
        },
      },
      spec: {
        restartPolicy: 'Never',
        terminationGracePeriodSeconds: 10,
        enableServiceLinks: false,
        automountServiceAccountToken: false,
        securityContext: POD_SECURITY,
        initContainers: [
          {
            name: 'jetway-tools',
            image: HELPER,
            command: COPY_BUSYBOX,
            volumeMounts: [{ name: 'jetway-tools', mountPath: '/jetway/bin' }],
            resources: { requests: { cpu: '10m', memory: '16Mi' }, limits: { memory: '256Mi' } },
            securityContext: RESTRICTED,
          },
        ],
        containers: [
          {
            name: 'step',
            image: `127.0.0.1:5000/team/app@${DIGEST}`,
            command: STEP_IDLE,
            workingDir: WORK,
            env: [
              { name: 'CI', value: 'true' },
              { name: 'TOKEN', valueFrom: { secretKeyRef: { name: 'main-unit-b3-task-3f2a9c1e-env', key: 'env-0' } } },
            ],
            volumeMounts: [
              { name: 'jetway-tools', mountPath: '/jetway/bin', readOnly: true },
              { name: 'jetway-run', mountPath: '/jetway/run' },
              { name: 'work', mountPath: WORK },
            ],
            resources: { requests: { cpu: '250m', memory: '256Mi' }, limits: { cpu: '500m', memory: '1073741824' } },
            securityContext: { privileged: true },
          },
          {
            name: 'jetway-artifacts',
            image: HELPER,
            command: SIDECAR_IDLE,
            workingDir: WORK,
            volumeMounts: [{ name: 'work', mountPath: WORK }],
            resources: { requests: { cpu: '10m', memory: '16Mi' }, limits: { memory: '256Mi' } },
            securityContext: SIDECAR_SECURITY,
          },
        ],
        volumes: [
          { name: 'jetway-tools', emptyDir: {} },
          { name: 'jetway-run', emptyDir: {} },
          { name: 'work', emptyDir: {} },
        ],
      },
    },
  },
  {
    name: "task on an image-ref artifact (decision 11), in a one-off build, as a numeric run.user: the reference runs as that user, no sidecar, the operator's defaults",
    spec: {
      handle: H,
      metadata: { type: 'task', step: 'build-image', build: '34', buildId: 34, team: 'main', planId: 't2' },
      image: { kind: 'artifact', artifact: { kind: 'image-ref', reference: `my-org/img@${DIGEST}`, digest: DIGEST } },
      inputs: [],
      outputs: [],
      user: '1000:1000',
    },
    cfg: resourcesCfg,
    want: {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: {
        name: 'build-34-task-3f2a9c1e',
        namespace: 'ci',
        labels: {
          'app.kubernetes.io/managed-by': 'jetway',
          'jetway.dev/type': 'task',
          'jetway.dev/handle': H,
          'jetway.dev/build': '34',
          'jetway.dev/build-id': '34',
          'jetway.dev/step': 'build-image',
          'jetway.dev/team': 'main',
        },
        annotations: {
          'jetway.dev/handle': H,
          'jetway.dev/type': 'task',
          'jetway.dev/build': '34',
          'jetway.dev/build-id': '34',
          'jetway.dev/step': 'build-image',
          'jetway.dev/team': 'main',
          'jetway.dev/plan-id': 't2',
        },
      },
      spec: {
        restartPolicy: 'Never',
        terminationGracePeriodSeconds: 10,
        enableServiceLinks: false,
        automountServiceAccountToken: false,
        securityContext: { runAsUser: 1000, runAsGroup: 1000, runAsNonRoot: true, seccompProfile: { type: 'RuntimeDefault' } },
        initContainers: [
          {
            name: 'jetway-tools',
            image: HELPER,
            command: COPY_BUSYBOX,
            volumeMounts: [{ name: 'jetway-tools', mountPath: '/jetway/bin' }],
            resources: { requests: { cpu: '10m', memory: '16Mi' }, limits: { memory: '256Mi' } },
            securityContext: RESTRICTED,
          },
        ],
        containers: [
          {
            name: 'step',
            image: `my-org/img@${DIGEST}`,
            command: STEP_IDLE,
            workingDir: WORK,
            env: [],
            volumeMounts: [
              { name: 'jetway-tools', mountPath: '/jetway/bin', readOnly: true },
              { name: 'jetway-run', mountPath: '/jetway/run' },
              { name: 'work', mountPath: WORK },
            ],
            resources: { requests: { cpu: '250m', memory: '256Mi' }, limits: { cpu: '1000m', memory: '2Gi' } },
            securityContext: RESTRICTED,
          },
        ],
        volumes: [
          { name: 'jetway-tools', emptyDir: {} },
          { name: 'jetway-run', emptyDir: {} },
          { name: 'work', emptyDir: {} },
        ],
      },
    },
  },
];

for (const c of goldenCases) {
  test(`golden pod: ${c.name}`, () => {
    const pod = podSpec(c.spec, c.cfg, c.pullSecretName !== undefined ? { pullSecretName: c.pullSecretName } : {});
    assert.deepStrictEqual(pod, c.want);
    assertValidObject(pod);
  });
}
