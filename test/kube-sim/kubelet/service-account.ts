// In-cluster configuration, as a real kubelet gives every pod (docs/kubernetes-runtime.md, "Running
// Jetway in a cluster"): the `kubernetes` Service's address in the environment
// (KUBERNETES_SERVICE_HOST/PORT and the docker-link variables the kubelet adds for each Service)
// and, unless automounting is off, the service account's token, the cluster's CA and the namespace
// at /var/run/secrets/kubernetes.io/serviceaccount (client-go's rest.InClusterConfig and
// client-node's loadFromCluster read exactly these). A real API server adds that mount to the pod
// spec as a projected `kube-api-access-*` volume (ServiceAccount admission); here the kubelet mounts
// it without changing the spec (test/kube-sim/kubelet/README.md).
import { chmodSync, mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { V1Pod, V1ServiceAccount } from '@kubernetes/client-node';
import type { InClusterCredentials } from '../contract.ts';

export const SERVICE_ACCOUNT_MOUNT = '/var/run/secrets/kubernetes.io/serviceaccount';
/** The projected token's lifetime the API server's admission gives (3607 s: one hour and a margin). */
export const TOKEN_EXPIRATION_SECONDS = 3607;

/**
 * Whether the kubelet mounts the service account's token into the pod: the pod's
 * automountServiceAccountToken, else the service account's, else yes; never when a container
 * already mounts something at the path (the admission plugin leaves such a pod alone).
 */
export function mountsServiceAccountToken(pod: V1Pod, account: V1ServiceAccount | undefined): boolean {
  const containers = [...(pod.spec?.initContainers ?? []), ...(pod.spec?.containers ?? [])];
  if (containers.some((c) => (c.volumeMounts ?? []).some((m) => m.mountPath.replace(/\/+$/, '') === SERVICE_ACCOUNT_MOUNT))) return false;
  return pod.spec?.automountServiceAccountToken ?? account?.automountServiceAccountToken ?? true;
}

/** The environment the kubelet gives for the `kubernetes` Service (pkg/kubelet/envvars). */
export function kubernetesServiceEnv(host: string, port: number): [string, string][] {
  const url = `tcp://${host}:${port}`;
  return [
    ['KUBERNETES_SERVICE_HOST', host],
    ['KUBERNETES_SERVICE_PORT', String(port)],
    ['KUBERNETES_SERVICE_PORT_HTTPS', String(port)],
    ['KUBERNETES_PORT', url],
    [`KUBERNETES_PORT_${port}_TCP`, url],
    [`KUBERNETES_PORT_${port}_TCP_PROTO`, 'tcp'],
    [`KUBERNETES_PORT_${port}_TCP_PORT`, String(port)],
    [`KUBERNETES_PORT_${port}_TCP_ADDR`, host],
  ];
}

/** Writes token, ca.crt and namespace (mode 0644, as the projected volume's default) into `dir`, atomically. */
export function writeServiceAccountFiles(dir: string, credentials: InClusterCredentials & { token: string }, namespace: string): void {
  const tmp = `${dir}.tmp`;
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(tmp, { recursive: true, mode: 0o755 });
  for (const [name, content] of [
    ['token', credentials.token],
    ['ca.crt', credentials.caCert],
    ['namespace', namespace],
  ] as const) {
    writeFileSync(join(tmp, name), content);
    chmodSync(join(tmp, name), 0o644);
  }
  rmSync(dir, { recursive: true, force: true });
  renameSync(tmp, dir);
}
