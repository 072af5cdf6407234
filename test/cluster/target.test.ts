// clusterTarget (test/cluster/target.ts): which cluster the cluster suites run against. One test per row.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { clusterTarget, kubeSimOnly, type ClusterTarget, type TargetEnv } from './target.ts';

const rows: { name: string; env: TargetEnv; want: ClusterTarget | RegExp }[] = [
  { name: 'nothing set: kube-sim', env: {}, want: { kind: 'kube-sim', why: 'neither KUBECONFIG nor JETWAY_TEST_REGISTRY is set' } },
  { name: 'only KUBECONFIG (a developer\'s usual environment): kube-sim, saying why', env: { KUBECONFIG: '/k' }, want: { kind: 'kube-sim', why: 'KUBECONFIG is set but JETWAY_TEST_REGISTRY is not (a real cluster needs the registry its nodes pull from)' } },
  { name: 'only the registry: kube-sim, saying why', env: { JETWAY_TEST_REGISTRY: 'r:5000' }, want: { kind: 'kube-sim', why: 'JETWAY_TEST_REGISTRY is set but KUBECONFIG is not' } },
  { name: 'both: the real cluster in its own namespace, trailing slashes dropped', env: { KUBECONFIG: '/k', JETWAY_TEST_REGISTRY: 'r:5000/ci//' }, want: { kind: 'real', kubeconfig: '/k', registry: 'r:5000/ci', namespace: 'jetway-e2e-ab12' } },
  { name: 'both and a login', env: { KUBECONFIG: '/k', JETWAY_TEST_REGISTRY: 'r', JETWAY_TEST_REGISTRY_USERNAME: 'u', JETWAY_TEST_REGISTRY_PASSWORD: 'p' }, want: { kind: 'real', kubeconfig: '/k', registry: 'r', credentials: { username: 'u', password: 'p' }, namespace: 'jetway-e2e-ab12' } },
  { name: 'a username without a password: refused, naming the missing one', env: { KUBECONFIG: '/k', JETWAY_TEST_REGISTRY: 'r', JETWAY_TEST_REGISTRY_USERNAME: 'u' }, want: /JETWAY_TEST_REGISTRY_USERNAME is set but JETWAY_TEST_REGISTRY_PASSWORD is not/ },
  { name: 'a password without a username: refused', env: { JETWAY_TEST_REGISTRY_PASSWORD: 'p' }, want: /JETWAY_TEST_REGISTRY_PASSWORD is set but JETWAY_TEST_REGISTRY_USERNAME is not/ },
  { name: 'a registry given as a URL: refused, naming the form', env: { KUBECONFIG: '/k', JETWAY_TEST_REGISTRY: 'https://r' }, want: /JETWAY_TEST_REGISTRY: "https:\/\/r" is not HOST\[:PORT\]\[\/PREFIX\]/ },
];

for (const row of rows) {
  test(`cluster target: ${row.name}`, () => {
    if (row.want instanceof RegExp) assert.throws(() => clusterTarget(row.env, 'ab12'), row.want);
    else assert.deepEqual(clusterTarget(row.env, 'ab12'), row.want);
  });
}

test('kube-sim-only features skip on a real cluster, naming what they need, and run on kube-sim', () => {
  assert.equal(kubeSimOnly(clusterTarget({ KUBECONFIG: '/k', JETWAY_TEST_REGISTRY: 'r' }, 'ab12'), 'audit log'), "needs the test cluster's audit log, which a real cluster does not offer");
  assert.equal(kubeSimOnly(clusterTarget({}, 'ab12'), 'audit log'), false);
});
