import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DOCKER_HUB_AUTH_KEY, PullSecretError, dockerConfigJson, pullSecret, pullSecretName, registryAuthKey } from '../../../src/runtime/kubernetes/pull-secret.ts';
import { parseRepository } from '../../../src/images/reference.ts';
import { podSpec } from '../../../src/runtime/kubernetes/pod-spec.ts';
import { kubernetesRuntimeConfig } from '../../../src/runtime/kubernetes/config.ts';
import { assertValidObject, isDns1123Label } from './validate.ts';

const PASSWORD = 's3cr3t:with:colons&ünïcode';

test('registry keys: host and port as written (lowercase); Docker Hub under its well-known key', () => {
  const cases: [string, string][] = [
    ['127.0.0.1:5000', '127.0.0.1:5000'],
    ['localhost:5000', 'localhost:5000'],
    ['ghcr.io', 'ghcr.io'],
    ['Registry.Example.COM:443', 'registry.example.com:443'],
    ['[::1]:5000', '[::1]:5000'],
    ['docker.io', DOCKER_HUB_AUTH_KEY],
    ['index.docker.io', DOCKER_HUB_AUTH_KEY],
    ['registry-1.docker.io', DOCKER_HUB_AUTH_KEY],
    [parseRepository('alpine').registry, DOCKER_HUB_AUTH_KEY],
    [parseRepository('127.0.0.1:5000/team/app').registry, '127.0.0.1:5000'],
  ];
  for (const [registry, key] of cases) assert.equal(registryAuthKey(registry), key, registry);
  for (const bad of ['', 'https://ghcr.io', 'ghcr.io/org', 'host:port', 'a b']) {
    assert.throws(() => registryAuthKey(bad), PullSecretError, bad);
  }
});

test('the dockerconfigjson holds username, password and base64 auth under the registry key', () => {
  const json = JSON.parse(dockerConfigJson({ registry: '127.0.0.1:5000', username: 'ci-bot', password: PASSWORD })) as {
    auths: Record<string, { username: string; password: string; auth: string }>;
  };
  const entry = json.auths['127.0.0.1:5000'];
  assert.ok(entry);
  assert.equal(entry.username, 'ci-bot');
  assert.equal(entry.password, PASSWORD);
  assert.equal(Buffer.from(entry.auth, 'base64').toString('utf8'), `ci-bot:${PASSWORD}`);
  assert.deepEqual(Object.keys(json.auths), ['127.0.0.1:5000']);
});

test('the Secret: typed, named per build and registry user, labelled with the build, valid', () => {
  const creds = { registry: '127.0.0.1:5000', username: 'ci-bot', password: PASSWORD };
  const secret = assertValidObject(pullSecret({ buildId: 42, build: '7', team: 'main', pipeline: 'My Pipeline', job: 'build' }, creds, 'ci'));
  assert.equal(secret.type, 'kubernetes.io/dockerconfigjson');
  assert.match(secret.metadata?.name ?? '', /^jetway-pull-42-[0-9a-f]{8}$/);
  assert.ok(isDns1123Label(secret.metadata?.name ?? ''));
  assert.equal(secret.metadata?.namespace, 'ci');
  assert.deepEqual(secret.metadata?.labels, {
    'app.kubernetes.io/managed-by': 'jetway',
    'jetway.dev/build-id': '42',
    'jetway.dev/purpose': 'image-pull',
    'jetway.dev/build': '7',
    'jetway.dev/team': 'main',
    'jetway.dev/pipeline': 'My-Pipeline',
    'jetway.dev/job': 'build',
  });
  const decoded = JSON.parse(Buffer.from(secret.data?.['.dockerconfigjson'] ?? '', 'base64').toString('utf8')) as { auths: Record<string, { password: string }> };
  assert.equal(decoded.auths['127.0.0.1:5000']?.password, PASSWORD);

  // same build, registry and user: one secret; otherwise another
  assert.equal(pullSecretName(42, creds), secret.metadata?.name);
  assert.equal(pullSecretName(42, { ...creds, registry: '127.0.0.1:5001' }) === secret.metadata?.name, false);
  assert.equal(pullSecretName(42, { ...creds, username: 'other' }) === secret.metadata?.name, false);
  assert.equal(pullSecretName(43, creds) === secret.metadata?.name, false);
  // the name does not depend on the password
  assert.equal(pullSecret({ buildId: 42 }, { ...creds, password: 'different' }).metadata?.name, secret.metadata?.name);

  // the pod of that build references it
  const pod = podSpec(
    { handle: 'h', metadata: { type: 'task', buildId: 42 }, image: { kind: 'reference', reference: '127.0.0.1:5000/team/app:1' }, inputs: [], outputs: [] },
    kubernetesRuntimeConfig({}),
    { pullSecretName: secret.metadata?.name ?? '' },
  );
  assert.deepEqual(pod.spec?.imagePullSecrets, [{ name: secret.metadata?.name }]);
});

test('errors never contain the password', () => {
  const bad: [Parameters<typeof pullSecret>[1], RegExp][] = [
    [{ registry: 'not a host', username: 'u', password: PASSWORD }, /not a registry host/],
    [{ registry: 'ghcr.io', username: '', password: PASSWORD }, /no username/],
    [{ registry: 'ghcr.io', username: 'a:b', password: PASSWORD }, /contains ':'/],
    [{ registry: 'ghcr.io', username: 'u', password: '' }, /no password/],
  ];
  for (const [creds, message] of bad) {
    assert.throws(
      () => pullSecret({ buildId: 1 }, creds),
      (err: unknown) => err instanceof PullSecretError && message.test(err.message) && !err.message.includes(PASSWORD) && !(err.stack ?? '').includes(PASSWORD),
    );
  }
  assert.throws(() => pullSecretName(-1, { registry: 'ghcr.io', username: 'u' }), PullSecretError);
});
