// The kubelet's in-cluster configuration decisions (test/kube-sim/kubelet/service-account.ts): when
// the service account's token is mounted, and the `kubernetes` Service's variables. One test per row.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { V1Pod, V1ServiceAccount } from '@kubernetes/client-node';
import { kubernetesServiceEnv, mountsServiceAccountToken, SERVICE_ACCOUNT_MOUNT } from './kubelet/service-account.ts';

const pod = (spec: Partial<NonNullable<V1Pod['spec']>> = {}): V1Pod => ({ metadata: { name: 'p', namespace: 'ns' }, spec: { containers: [{ name: 'main', image: 'x' }], ...spec } });
const account = (automount?: boolean): V1ServiceAccount => ({ metadata: { name: 'sa', namespace: 'ns' }, ...(automount !== undefined ? { automountServiceAccountToken: automount } : {}) });

const rows: { name: string; pod: V1Pod; account: V1ServiceAccount | undefined; mounts: boolean }[] = [
  { name: 'neither says: mounted', pod: pod(), account: account(), mounts: true },
  { name: 'no service account object: mounted (the default)', pod: pod(), account: undefined, mounts: true },
  { name: 'the account says false: not mounted', pod: pod(), account: account(false), mounts: false },
  { name: 'the account says true: mounted', pod: pod(), account: account(true), mounts: true },
  { name: 'the pod says false: not mounted', pod: pod({ automountServiceAccountToken: false }), account: account(true), mounts: false },
  { name: "the pod's true wins over the account's false", pod: pod({ automountServiceAccountToken: true }), account: account(false), mounts: true },
  {
    name: 'a container mounts its own volume at the path: not mounted',
    pod: pod({ containers: [{ name: 'main', image: 'x', volumeMounts: [{ name: 'own', mountPath: `${SERVICE_ACCOUNT_MOUNT}/` }] }] }),
    account: account(),
    mounts: false,
  },
  {
    name: 'an init container mounts its own volume at the path: not mounted',
    pod: pod({ initContainers: [{ name: 'init', image: 'x', volumeMounts: [{ name: 'own', mountPath: SERVICE_ACCOUNT_MOUNT }] }] }),
    account: account(),
    mounts: false,
  },
  {
    name: 'a mount elsewhere: mounted',
    pod: pod({ containers: [{ name: 'main', image: 'x', volumeMounts: [{ name: 'data', mountPath: '/var/run/secrets' }] }] }),
    account: account(),
    mounts: true,
  },
];

for (const row of rows) {
  test(`service account token: ${row.name}`, () => {
    assert.equal(mountsServiceAccountToken(row.pod, row.account), row.mounts);
  });
}

test("the kubernetes Service's variables: host, port, https port and the docker-link ones", () => {
  assert.deepEqual(Object.fromEntries(kubernetesServiceEnv('127.0.0.1', 6443)), {
    KUBERNETES_SERVICE_HOST: '127.0.0.1',
    KUBERNETES_SERVICE_PORT: '6443',
    KUBERNETES_SERVICE_PORT_HTTPS: '6443',
    KUBERNETES_PORT: 'tcp://127.0.0.1:6443',
    KUBERNETES_PORT_6443_TCP: 'tcp://127.0.0.1:6443',
    KUBERNETES_PORT_6443_TCP_PROTO: 'tcp',
    KUBERNETES_PORT_6443_TCP_PORT: '6443',
    KUBERNETES_PORT_6443_TCP_ADDR: '127.0.0.1',
  });
});
