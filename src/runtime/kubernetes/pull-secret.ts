// A build's pull secret (docs/image-features.md, decision 10): when a step's image came from a registry-image source with
// username/password, the same credentials are handed to the kubelet in a short-lived
// `kubernetes.io/dockerconfigjson` Secret of that build, deleted with the build's pods. Pure.
//
// No error message, name or label ever contains the password (nor anything derived from it).
import { createHash } from 'node:crypto';
import type { V1Secret } from '@kubernetes/client-node';
import { DOCKER_HUB_REGISTRY } from '../../images/reference.ts';
import { LABELS, MANAGED_BY, sanitizeLabelValue } from './naming.ts';

/** The key Docker Hub credentials go under; the kubelet's keyring matches it for docker.io images. */
export const DOCKER_HUB_AUTH_KEY = 'https://index.docker.io/v1/';
const DOCKER_HUB_HOSTS = new Set(['docker.io', 'index.docker.io', 'registry-1.docker.io', 'registry.hub.docker.com', DOCKER_HUB_REGISTRY]);
const HOST = /^(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?(?:\.[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)*|\[[0-9a-fA-F:.]+\])(?::[0-9]{1,5})?$/;

export class PullSecretError extends Error {
  override name = 'PullSecretError';
}

export interface PullCredentials {
  /** registry host, with its port when it has one: `ghcr.io`, `127.0.0.1:5000` (parseRepository's `registry`) */
  registry: string;
  username: string;
  password: string;
}

export interface PullSecretOwner {
  buildId: number;
  /** build name, for the label (defaults to the id) */
  build?: string;
  team?: string;
  pipeline?: string;
  job?: string;
}

/** The auths key of a registry: Docker Hub's well-known key, else the host (and port) as written, lowercase. */
export function registryAuthKey(registry: string): string {
  const host = registry.trim();
  if (!HOST.test(host)) throw new PullSecretError(`'${registry}' is not a registry host (host or host:port)`);
  const lower = host.toLowerCase();
  return DOCKER_HUB_HOSTS.has(lower) ? DOCKER_HUB_AUTH_KEY : lower;
}

/**
 * The name of a build's pull secret for a registry and user: `jetway-pull-<build id>-<8 hex>`,
 * the hex a hash of registry and username (never the password), so the pods of one build that
 * pull with the same credentials share one secret.
 */
export function pullSecretName(buildId: number, creds: Pick<PullCredentials, 'registry' | 'username'>): string {
  if (!Number.isSafeInteger(buildId) || buildId < 0) throw new PullSecretError(`build id ${String(buildId)} is not a build id`);
  const hex = createHash('sha256').update(`${registryAuthKey(creds.registry)}\0${creds.username}`).digest('hex').slice(0, 8);
  return `jetway-pull-${buildId}-${hex}`;
}

/** The `.dockerconfigjson` content for one registry. */
export function dockerConfigJson(creds: PullCredentials): string {
  if (typeof creds.username !== 'string' || creds.username === '') throw new PullSecretError(`no username for the registry ${creds.registry}`);
  if (creds.username.includes(':')) throw new PullSecretError(`the username for the registry ${creds.registry} contains ':', which registry basic auth cannot carry`);
  if (typeof creds.password !== 'string' || creds.password === '') throw new PullSecretError(`no password for the registry ${creds.registry} (user ${creds.username})`);
  const key = registryAuthKey(creds.registry);
  const auth = Buffer.from(`${creds.username}:${creds.password}`, 'utf8').toString('base64');
  return JSON.stringify({ auths: { [key]: { username: creds.username, password: creds.password, auth } } });
}

/** The Secret object of a build's pull secret (create it before the build's pods; delete it with them). */
export function pullSecret(owner: PullSecretOwner, creds: PullCredentials, namespace?: string): V1Secret {
  const name = pullSecretName(owner.buildId, creds);
  const labels: Record<string, string> = {
    [LABELS.managedBy]: MANAGED_BY,
    [LABELS.buildId]: String(owner.buildId),
    [LABELS.purpose]: 'image-pull',
  };
  const put = (key: string, value: string | undefined): void => {
    const clean = value !== undefined ? sanitizeLabelValue(value) : '';
    if (clean !== '') labels[key] = clean;
  };
  put(LABELS.build, owner.build ?? String(owner.buildId));
  put(LABELS.team, owner.team);
  put(LABELS.pipeline, owner.pipeline);
  put(LABELS.job, owner.job);
  return {
    apiVersion: 'v1',
    kind: 'Secret',
    type: 'kubernetes.io/dockerconfigjson',
    metadata: {
      name,
      ...(namespace !== undefined ? { namespace } : {}),
      labels,
      annotations: { 'jetway.dev/registry': registryAuthKey(creds.registry) },
    },
    data: { '.dockerconfigjson': Buffer.from(dockerConfigJson(creds), 'utf8').toString('base64') },
  };
}
