// From a pod spec to what runc runs: the process's arguments (Kubernetes' command/args rules over
// the image's Entrypoint/Cmd), its environment (the image's Env overridden by the container's
// env/envFrom, with `$(VAR)` references expanded as the kubelet does), working directory and user.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { V1Container, V1EnvVar, V1ObjectFieldSelector, V1Pod } from '@kubernetes/client-node';
import type { ImageConfig } from '../../../src/images/oci.ts';
import type { ClusterStore } from '../contract.ts';

export class ContainerConfigError extends Error {
  constructor(
    readonly reason: 'CreateContainerConfigError' | 'CreateContainerError',
    message: string,
  ) {
    super(message);
  }
}

/** `$(VAR)` expansion as in k8s.io/kubernetes/third_party/forked/golang/expansion: `$$` escapes, unknown names stay as written. */
export function expand(input: string, vars: Map<string, string>): string {
  let out = '';
  for (let i = 0; i < input.length; i++) {
    const ch = input[i];
    if (ch !== '$' || i + 1 >= input.length) {
      out += ch;
      continue;
    }
    const next = input[i + 1];
    if (next === '$') {
      out += '$';
      i++;
    } else if (next === '(') {
      const close = input.indexOf(')', i + 2);
      if (close < 0) {
        out += input.slice(i);
        break;
      }
      const name = input.slice(i + 2, close);
      const value = vars.get(name);
      out += value !== undefined ? value : `$(${name})`;
      i = close;
    } else {
      out += ch;
    }
  }
  return out;
}

export function fieldValue(pod: V1Pod, selector: V1ObjectFieldSelector): string {
  const path = selector.fieldPath;
  const labels = /^metadata\.labels\['(.+)'\]$/.exec(path);
  if (labels?.[1]) return pod.metadata?.labels?.[labels[1]] ?? '';
  const annotations = /^metadata\.annotations\['(.+)'\]$/.exec(path);
  if (annotations?.[1]) return pod.metadata?.annotations?.[annotations[1]] ?? '';
  switch (path) {
    case 'metadata.name':
      return pod.metadata?.name ?? '';
    case 'metadata.namespace':
      return pod.metadata?.namespace ?? '';
    case 'metadata.uid':
      return pod.metadata?.uid ?? '';
    case 'spec.nodeName':
      return pod.spec?.nodeName ?? '';
    case 'spec.serviceAccountName':
      return pod.spec?.serviceAccountName ?? '';
    case 'status.hostIP':
    case 'status.podIP':
      return '127.0.0.1';
    case 'status.hostIPs':
    case 'status.podIPs':
      return '127.0.0.1';
    default:
      throw new ContainerConfigError('CreateContainerConfigError', `unsupported fieldPath ${path}`);
  }
}

function secretKey(store: ClusterStore, namespace: string, name: string, key: string, optional: boolean | undefined): string | undefined {
  const secret = store.getSecret(namespace, name);
  if (!secret) {
    if (optional) return undefined;
    throw new ContainerConfigError('CreateContainerConfigError', `secret "${name}" not found`);
  }
  const encoded = secret.data?.[key];
  if (encoded !== undefined) return Buffer.from(encoded, 'base64').toString('utf8');
  const plain = secret.stringData?.[key];
  if (plain !== undefined) return plain;
  if (optional) return undefined;
  throw new ContainerConfigError('CreateContainerConfigError', `couldn't find key ${key} in Secret ${namespace}/${name}`);
}

/** The container's own environment (env, envFrom), expanded, in order. */
export function containerEnv(store: ClusterStore, pod: V1Pod, container: V1Container): [string, string][] {
  const namespace = pod.metadata?.namespace ?? 'default';
  const vars = new Map<string, string>();
  for (const from of container.envFrom ?? []) {
    if (from.secretRef?.name) {
      const secret = store.getSecret(namespace, from.secretRef.name);
      if (!secret) {
        if (from.secretRef.optional) continue;
        throw new ContainerConfigError('CreateContainerConfigError', `secret "${from.secretRef.name}" not found`);
      }
      for (const [k, v] of Object.entries(secret.data ?? {})) vars.set(`${from.prefix ?? ''}${k}`, Buffer.from(v, 'base64').toString('utf8'));
      for (const [k, v] of Object.entries(secret.stringData ?? {})) vars.set(`${from.prefix ?? ''}${k}`, v);
    } else if (from.configMapRef?.name && !from.configMapRef.optional) {
      throw new ContainerConfigError('CreateContainerConfigError', `configmap "${from.configMapRef.name}" not found`);
    }
  }
  for (const e of container.env ?? []) {
    const value = envValue(store, pod, e, vars);
    if (value !== undefined) vars.set(e.name, value);
  }
  return [...vars.entries()];
}

function envValue(store: ClusterStore, pod: V1Pod, e: V1EnvVar, vars: Map<string, string>): string | undefined {
  if (e.valueFrom === undefined) return expand(e.value ?? '', vars);
  const namespace = pod.metadata?.namespace ?? 'default';
  const from = e.valueFrom;
  if (from.fieldRef) return fieldValue(pod, from.fieldRef);
  if (from.secretKeyRef) return secretKey(store, namespace, from.secretKeyRef.name ?? '', from.secretKeyRef.key, from.secretKeyRef.optional);
  if (from.configMapKeyRef) {
    if (from.configMapKeyRef.optional) return undefined;
    throw new ContainerConfigError('CreateContainerConfigError', `configmap "${from.configMapKeyRef.name ?? ''}" not found`);
  }
  if (from.resourceFieldRef) return '0';
  return '';
}

/** The process arguments: command/args per Kubernetes' rules over the image's Entrypoint/Cmd. */
export function processArgs(container: V1Container, image: NonNullable<ImageConfig['config']>, vars: Map<string, string>): string[] {
  const entrypoint = image.Entrypoint ?? [];
  const cmd = image.Cmd ?? [];
  const own = (list: string[] | undefined): string[] => (list ?? []).map((a) => expand(a, vars));
  let expanded: string[];
  if (container.command && container.command.length > 0) expanded = [...own(container.command), ...own(container.args)];
  else if (container.args && container.args.length > 0) expanded = [...entrypoint, ...own(container.args)];
  else expanded = [...entrypoint, ...cmd];
  if (expanded.length === 0) throw new ContainerConfigError('CreateContainerError', 'failed to generate container spec: no command specified');
  return expanded;
}

/** The process environment: the image's Env, then the container's (overriding by name), plus HOSTNAME. */
export function processEnv(imageEnv: string[] | null | undefined, own: [string, string][], hostname: string): string[] {
  const merged = new Map<string, string>();
  for (const line of imageEnv ?? []) {
    const eq = line.indexOf('=');
    if (eq > 0) merged.set(line.slice(0, eq), line.slice(eq + 1));
  }
  if (!merged.has('PATH')) merged.set('PATH', '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin');
  merged.set('HOSTNAME', hostname);
  for (const [k, v] of own) merged.set(k, v);
  return [...merged.entries()].map(([k, v]) => `${k}=${v}`);
}

function lookup(file: string, name: string, field: number): number | undefined {
  try {
    for (const line of readFileSync(file, 'utf8').split('\n')) {
      const parts = line.split(':');
      if (parts[0] === name && parts[field] !== undefined) {
        const n = Number(parts[field]);
        if (Number.isInteger(n)) return n;
      }
    }
  } catch {
    // no such file
  }
  return undefined;
}

/** uid/gid: securityContext (container over pod), else the image's User (`uid`, `uid:gid`, names looked up in the rootfs). */
export function processUser(pod: V1Pod, container: V1Container, image: NonNullable<ImageConfig['config']>, rootfs: string): { uid: number; gid: number } {
  const sc = container.securityContext;
  const psc = pod.spec?.securityContext;
  let uid: number | undefined = sc?.runAsUser ?? psc?.runAsUser;
  let gid: number | undefined = sc?.runAsGroup ?? psc?.runAsGroup;
  if (uid === undefined && image.User) {
    const [u = '', g] = image.User.split(':');
    uid = /^\d+$/.test(u) ? Number(u) : lookup(join(rootfs, 'etc/passwd'), u, 2);
    if (uid === undefined) throw new ContainerConfigError('CreateContainerError', `unable to find user ${u}: no matching entries in passwd file`);
    if (gid === undefined) {
      if (g !== undefined) gid = /^\d+$/.test(g) ? Number(g) : lookup(join(rootfs, 'etc/group'), g, 2);
      else gid = /^\d+$/.test(u) ? lookup(join(rootfs, 'etc/passwd'), u, 3) ?? 0 : lookup(join(rootfs, 'etc/passwd'), u, 3);
    }
  }
  // the kubelet's check (kuberuntime_container.go verifyRunAsNonRoot)
  if ((sc?.runAsNonRoot ?? psc?.runAsNonRoot) === true && (uid ?? 0) === 0) {
    throw new ContainerConfigError('CreateContainerConfigError', 'container has runAsNonRoot and image will run as root');
  }
  return { uid: uid ?? 0, gid: gid ?? 0 };
}

/** `128Mi`, `1G`, `1000` → bytes. */
export function parseQuantity(q: string | number | undefined): number | undefined {
  if (q === undefined) return undefined;
  if (typeof q === 'number') return q;
  const m = /^(\d+(?:\.\d+)?)([KMGTPE]i?|k|m)?$/.exec(q.trim());
  if (!m) return undefined;
  const n = Number(m[1]);
  const unit = m[2] ?? '';
  const bin: Record<string, number> = { Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30, Ti: 2 ** 40, Pi: 2 ** 50, Ei: 2 ** 60 };
  const dec: Record<string, number> = { k: 1e3, K: 1e3, M: 1e6, G: 1e9, T: 1e12, P: 1e15, E: 1e18, m: 1e-3 };
  return Math.floor(n * (bin[unit] ?? dec[unit] ?? 1));
}
