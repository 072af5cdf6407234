// Registry credentials from a pod's imagePullSecrets and its service account's, as the kubelet's
// keyring reads them: `kubernetes.io/dockerconfigjson` (`.dockerconfigjson`: {auths: {host: …}})
// and the older `kubernetes.io/dockercfg` (`.dockercfg`: {host: …}); each entry has username and
// password, or `auth` (base64 of `user:password`). Keys are matched by registry host: a scheme, a
// path (`/v1/`) and Docker Hub's aliases are ignored. Every matching entry is a candidate, tried in
// order (pod secrets first, then the service account's), as the real kubelet does.
import type { V1Pod, V1Secret } from '@kubernetes/client-node';
import type { RegistryCredentials } from '../../../src/images/registry-client.ts';
import type { ClusterStore } from '../contract.ts';

const DOCKER_HUB = new Set(['docker.io', 'index.docker.io', 'registry-1.docker.io', 'registry.hub.docker.com']);

function normalizeHost(key: string): string {
  let host = key.trim().replace(/^[a-z]+:\/\//i, '');
  host = host.split('/')[0] ?? '';
  host = host.toLowerCase();
  return DOCKER_HUB.has(host) ? 'docker.io' : host;
}

function secretValue(secret: V1Secret, key: string): string | undefined {
  const encoded = secret.data?.[key];
  if (encoded !== undefined) return Buffer.from(encoded, 'base64').toString('utf8');
  return secret.stringData?.[key];
}

interface AuthEntry {
  username?: unknown;
  password?: unknown;
  auth?: unknown;
}

function entryCredentials(entry: unknown): RegistryCredentials | undefined {
  if (typeof entry !== 'object' || entry === null) return undefined;
  const e = entry as AuthEntry;
  if (typeof e.username === 'string' && typeof e.password === 'string' && e.username !== '') return { username: e.username, password: e.password };
  if (typeof e.auth === 'string' && e.auth !== '') {
    const decoded = Buffer.from(e.auth, 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    if (colon > 0) return { username: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
  }
  return undefined;
}

/** The registry entries of one pull secret, by normalized host. */
export function secretAuths(secret: V1Secret): Map<string, RegistryCredentials> {
  const out = new Map<string, RegistryCredentials>();
  let auths: unknown;
  try {
    const json = secretValue(secret, '.dockerconfigjson');
    if (json !== undefined) auths = (JSON.parse(json) as { auths?: unknown }).auths;
    else {
      const cfg = secretValue(secret, '.dockercfg');
      if (cfg !== undefined) auths = JSON.parse(cfg);
    }
  } catch {
    return out;
  }
  if (typeof auths !== 'object' || auths === null) return out;
  for (const [key, entry] of Object.entries(auths)) {
    const creds = entryCredentials(entry);
    if (creds) out.set(normalizeHost(key), creds);
  }
  return out;
}

/** The pull secrets a pod uses: its own, then its service account's (names, deduplicated). */
export function pullSecretNames(store: ClusterStore, pod: V1Pod): string[] {
  const namespace = pod.metadata?.namespace ?? 'default';
  const names = (pod.spec?.imagePullSecrets ?? []).map((s) => s.name ?? '').filter((n) => n !== '');
  const sa = store.getServiceAccount(namespace, pod.spec?.serviceAccountName ?? 'default');
  for (const ref of sa?.imagePullSecrets ?? []) if (ref.name && !names.includes(ref.name)) names.push(ref.name);
  return names;
}

/** The candidate credentials for `registry` (host:port); empty = anonymous. */
export function credentialsFor(store: ClusterStore, pod: V1Pod, registry: string): RegistryCredentials[] {
  const namespace = pod.metadata?.namespace ?? 'default';
  const host = normalizeHost(registry);
  const out: RegistryCredentials[] = [];
  for (const name of pullSecretNames(store, pod)) {
    const secret = store.getSecret(namespace, name);
    if (!secret) continue;
    const creds = secretAuths(secret).get(host);
    if (creds && !out.some((c) => c.username === creds.username && c.password === creds.password)) out.push(creds);
  }
  return out;
}
