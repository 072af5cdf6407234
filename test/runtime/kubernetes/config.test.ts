import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  DEFAULT_BASE_RESOURCE_TYPES,
  DEFAULT_HELPER_IMAGE,
  KubernetesConfigError,
  imageProblem,
  kubernetesRuntimeConfig,
  mergeBaseResourceTypes,
  type KubernetesRuntimeOptions,
} from '../../../src/runtime/kubernetes/config.ts';
import { JETWAY_VERSION } from '../../../src/version.ts';

test('defaults: Jetway\'s images for its own types, official Concourse images for the others, helper image of this version, timeouts, default credentials', () => {
  const cfg = kubernetesRuntimeConfig({});
  assert.equal(cfg.namespace, undefined);
  assert.equal(cfg.serviceAccount, undefined);
  assert.deepEqual(cfg.imagePullSecrets, []);
  assert.equal(cfg.helperImage, `jetway/helper:${JETWAY_VERSION}`);
  assert.equal(cfg.helperImage, DEFAULT_HELPER_IMAGE);
  assert.equal(cfg.podStartupTimeoutMs, 5 * 60_000);
  assert.equal(cfg.imagePullGraceMs, 2 * 60_000);
  assert.equal(cfg.failedPodRetentionMs, 60 * 60_000);
  assert.deepEqual(cfg.credentials, { kind: 'default' });
  assert.equal(cfg.allowPrivileged, false, 'privileged steps are refused unless the operator allows them');
  assert.deepEqual(cfg.stepResources, {});
  for (const [type, image] of Object.entries({
    git: `jetway/git-resource:${JETWAY_VERSION}`,
    'registry-image': `jetway/registry-image-resource:${JETWAY_VERSION}`,
    time: `jetway/time-resource:${JETWAY_VERSION}`,
    mock: `jetway/mock-resource:${JETWAY_VERSION}`,
    s3: 'concourse/s3-resource',
    semver: 'concourse/semver-resource',
    pool: 'concourse/pool-resource',
    'docker-image': 'concourse/docker-image-resource',
    'github-release': 'concourse/github-release-resource',
  })) {
    assert.equal(cfg.baseResourceTypes[type], image, type);
  }
  for (const image of Object.values(DEFAULT_BASE_RESOURCE_TYPES)) assert.equal(imageProblem(image), undefined, image);
});

test('--base-resource-type merges over the defaults, later wins, never mutates the defaults', () => {
  const cases: { entries: string[]; expect: Record<string, string> }[] = [
    { entries: [], expect: { git: `jetway/git-resource:${JETWAY_VERSION}` } },
    { entries: ['git=my-registry/custom-git-resource'], expect: { git: 'my-registry/custom-git-resource', time: `jetway/time-resource:${JETWAY_VERSION}` } },
    { entries: ['custom-type=my-registry/custom-resource'], expect: { 'custom-type': 'my-registry/custom-resource', git: `jetway/git-resource:${JETWAY_VERSION}` } },
    { entries: ['git=first-image', 'git=second-image'], expect: { git: 'second-image' } },
    { entries: ['git=my-registry/git-resource:v2.0'], expect: { git: 'my-registry/git-resource:v2.0' } },
    { entries: [`git=my-registry/git@sha256:${'a'.repeat(64)}`], expect: { git: `my-registry/git@sha256:${'a'.repeat(64)}` } },
    { entries: ['git=127.0.0.1:5000/team/git:1'], expect: { git: '127.0.0.1:5000/team/git:1' } },
    { entries: [' s3 = r/s3 '], expect: { s3: 'r/s3' } },
  ];
  for (const c of cases) {
    const merged = mergeBaseResourceTypes(c.entries);
    for (const [k, v] of Object.entries(c.expect)) assert.equal(merged[k], v, `${c.entries.join(' ')}: ${k}`);
  }
  assert.equal(DEFAULT_BASE_RESOURCE_TYPES.git, `jetway/git-resource:${JETWAY_VERSION}`);
  assert.deepEqual(kubernetesRuntimeConfig({ baseResourceType: ['x=img/x'] }).baseResourceTypes.x, 'img/x');
});

// Jetway's own types live next to the helper image: one image names where `jetway images push` put them all
const nextToHelper: { helper: string; git: string; flags?: string[] }[] = [
  { helper: 'reg.example.com:5000/team/jetway/helper:0.2.0', git: 'reg.example.com:5000/team/jetway/git-resource:0.2.0' },
  { helper: '127.0.0.1:5000/jetway/helper', git: `127.0.0.1:5000/jetway/git-resource:${JETWAY_VERSION}` },
  { helper: `reg.example.com/jetway/helper@sha256:${'a'.repeat(64)}`, git: `reg.example.com/jetway/git-resource:${JETWAY_VERSION}` },
  { helper: 'reg.example.com/jetway/helper:1.0@sha256:' + 'b'.repeat(64), git: 'reg.example.com/jetway/git-resource:1.0' },
  { helper: 'reg.example.com/tools/busybox:1.37', git: `jetway/git-resource:${JETWAY_VERSION}` },
  { helper: 'reg.example.com/jetway/helper:0.2.0', flags: ['git=mine/git:1'], git: 'mine/git:1' },
];
for (const c of nextToHelper) {
  test(`--kubernetes-helper-image ${c.helper}${c.flags ? ` ${c.flags.join(' ')}` : ''}: git is ${c.git}`, () => {
    const cfg = kubernetesRuntimeConfig({ kubernetesHelperImage: c.helper, ...(c.flags ? { baseResourceType: c.flags } : {}) });
    assert.equal(cfg.baseResourceTypes.git, c.git);
    assert.equal(cfg.baseResourceTypes.s3, 'concourse/s3-resource');
    if (!c.flags) assert.equal(cfg.baseResourceTypes['registry-image'], c.git.replace('git-resource', 'registry-image-resource'));
  });
}

test('a malformed --base-resource-type stops start-up with an error naming the entry', () => {
  const cases: [string, RegExp][] = [
    ['git', /--base-resource-type: 'git' is not NAME=IMAGE/],
    ['=img', /--base-resource-type: '=img' has no type name/],
    ['git=', /--base-resource-type: 'git=' has no image/],
    ['git=  ', /'git= {2}' has no image/],
    ['git=Upper/Case', /'git=Upper\/Case'.*lowercase/],
    ['git=repo:3.1:x', /'git=repo:3.1:x'/],
    ['my type=img', /'my type=img'.*white space/],
    ['git=img@sha256:short', /'git=img@sha256:short'.*digest/],
  ];
  for (const [entry, message] of cases) {
    assert.throws(() => kubernetesRuntimeConfig({ baseResourceType: ['time=ok/time', entry] }), (err: unknown) => {
      assert.ok(err instanceof KubernetesConfigError, entry);
      assert.equal(err.flag, '--base-resource-type');
      assert.match(err.message, message);
      return true;
    });
  }
});

test('every other flag is checked and named in its error', () => {
  const bad: [KubernetesRuntimeOptions, RegExp][] = [
    [{ kubernetesNamespace: 'Jetway' }, /^--kubernetes-namespace: 'Jetway' is not a valid namespace/],
    [{ kubernetesNamespace: 'a'.repeat(64) }, /^--kubernetes-namespace:/],
    [{ kubernetesNamespace: '' }, /^--kubernetes-namespace: the namespace is empty/],
    [{ kubernetesServiceAccount: 'under_score' }, /^--kubernetes-service-account: 'under_score'/],
    [{ kubernetesImagePullSecret: ['ok', 'Not OK'] }, /^--kubernetes-image-pull-secret: 'Not OK'/],
    [{ kubernetesHelperImage: 'Busybox' }, /^--kubernetes-helper-image: .*lowercase/],
    [{ kubernetesPodStartupTimeout: '0' }, /^--kubernetes-pod-startup-timeout: '0' is not a positive duration/],
    [{ kubernetesPodStartupTimeout: 'soon' }, /^--kubernetes-pod-startup-timeout: 'soon'/],
    [{ kubernetesImagePullGrace: '-1m' }, /^--kubernetes-image-pull-grace: '-1m'/],
    [{ kubernetesFailedPodRetention: '1d' }, /^--kubernetes-failed-pod-retention: '1d'/],
    [{ kubernetesInCluster: true, kubernetesKubeconfig: '/k' }, /^--kubernetes-in-cluster: give either/],
    [{ kubernetesInCluster: true, kubernetesContext: 'c' }, /^--kubernetes-context:/],
    [{ kubernetesKubeconfig: '' }, /^--kubernetes-kubeconfig: the path is empty/],
  ];
  for (const [opts, message] of bad) {
    assert.throws(() => kubernetesRuntimeConfig(opts), { name: 'KubernetesConfigError', message }, JSON.stringify(opts));
  }
});

test('good values: namespace, service account, deduplicated pull secrets, durations, credentials', () => {
  const cfg = kubernetesRuntimeConfig({
    kubernetesNamespace: 'ci',
    kubernetesServiceAccount: 'jetway-step',
    kubernetesImagePullSecret: ['registry-creds', 'gcr-key', 'registry-creds'],
    kubernetesHelperImage: '127.0.0.1:5000/jetway/helper:dev',
    kubernetesPodStartupTimeout: '90s',
    kubernetesImagePullGrace: '0',
    kubernetesFailedPodRetention: '2h30m',
    kubernetesKubeconfig: '/etc/kube/config',
    kubernetesContext: 'kind-jetway',
  });
  assert.equal(cfg.namespace, 'ci');
  assert.equal(cfg.serviceAccount, 'jetway-step');
  assert.deepEqual(cfg.imagePullSecrets, ['registry-creds', 'gcr-key']);
  assert.equal(cfg.helperImage, '127.0.0.1:5000/jetway/helper:dev');
  assert.equal(cfg.podStartupTimeoutMs, 90_000);
  assert.equal(cfg.imagePullGraceMs, 0);
  assert.equal(cfg.failedPodRetentionMs, 2.5 * 3_600_000);
  assert.deepEqual(cfg.credentials, { kind: 'kubeconfig', path: '/etc/kube/config', context: 'kind-jetway' });
  assert.deepEqual(kubernetesRuntimeConfig({ kubernetesInCluster: true }).credentials, { kind: 'in-cluster' });
  assert.deepEqual(kubernetesRuntimeConfig({ kubernetesContext: 'prod' }).credentials, { kind: 'default', context: 'prod' });
});

test('step resources: Kubernetes quantities, checked against each other, errors naming the flag', () => {
  const cfg = kubernetesRuntimeConfig({
    kubernetesAllowPrivileged: true,
    kubernetesDefaultCpuRequest: '0.25',
    kubernetesDefaultMemoryRequest: '256Mi',
    kubernetesDefaultCpuLimit: '1500m',
    kubernetesDefaultMemoryLimit: '1G',
    kubernetesMaxCpuLimit: '2',
    kubernetesMaxMemoryLimit: '4Gi',
  });
  assert.equal(cfg.allowPrivileged, true);
  assert.deepEqual(cfg.stepResources, {
    cpuRequest: { text: '250m', value: 250 },
    memoryRequest: { text: '256Mi', value: 256 * 2 ** 20 },
    cpuLimit: { text: '1500m', value: 1500 },
    memoryLimit: { text: '1G', value: 1e9 },
    maxCpuLimit: { text: '2000m', value: 2000 },
    maxMemoryLimit: { text: '4Gi', value: 4 * 2 ** 30 },
  });
  const refused: [KubernetesRuntimeOptions, string][] = [
    [{ kubernetesDefaultCpuRequest: 'lots' }, "--kubernetes-default-cpu-request: 'lots' is not a CPU quantity (e.g. 500m, 1, 1.5; at least 1m)"],
    [{ kubernetesMaxCpuLimit: '0' }, "--kubernetes-max-cpu-limit: '0' is not a CPU quantity (e.g. 500m, 1, 1.5; at least 1m)"],
    [{ kubernetesDefaultMemoryLimit: '1.5Gi' }, "--kubernetes-default-memory-limit: '1.5Gi' is not a memory quantity (e.g. 512Mi, 2Gi, 1G, or bytes)"],
    [{ kubernetesDefaultMemoryLimit: '8Gi', kubernetesMaxMemoryLimit: '4Gi' }, '--kubernetes-default-memory-limit: 8Gi is above --kubernetes-max-memory-limit (4Gi)'],
    [{ kubernetesDefaultCpuRequest: '2', kubernetesDefaultCpuLimit: '1' }, '--kubernetes-default-cpu-request: 2000m is above --kubernetes-default-cpu-limit (1000m)'],
    [{ kubernetesDefaultMemoryRequest: '1Gi', kubernetesMaxMemoryLimit: '512Mi' }, '--kubernetes-default-memory-request: 1Gi is above --kubernetes-max-memory-limit (512Mi)'],
  ];
  for (const [opts, message] of refused) {
    assert.throws(() => kubernetesRuntimeConfig(opts), (err: unknown) => err instanceof KubernetesConfigError && err.message === message, message);
  }
});
