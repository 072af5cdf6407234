// Pod volumes on the node: a host directory per volume under the pod's directory, bind-mounted
// into each container at its volumeMounts. emptyDir (shared by the pod's containers, mode 0777 as
// the kubelet makes it), secret (files from the Secret's keys, `items` and modes honoured), the
// projected service-account volume (a real token of the pod's service account), downwardAPI
// (fieldRef items), hostPath. configMap volumes are empty (the store has no ConfigMaps); other
// types (persistentVolumeClaim, …) fail with FailedMount.
import { chmodSync, existsSync, mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, normalize } from 'node:path';
import type { V1KeyToPath, V1Pod, V1Secret, V1Volume } from '@kubernetes/client-node';
import type { ClusterStore } from '../contract.ts';
import { fieldValue } from './spec.ts';

export class MountError extends Error {}

function safeJoin(root: string, rel: string): string {
  const path = normalize(join(root, rel));
  if (path !== root && !path.startsWith(`${root}/`)) throw new MountError(`path ${rel} leaves the volume`);
  return path;
}

function writeItem(root: string, rel: string, content: string | Buffer, mode: number): void {
  const path = safeJoin(root, rel);
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, content);
  chmodSync(path, mode);
}

function secretData(secret: V1Secret): Map<string, Buffer> {
  const out = new Map<string, Buffer>();
  for (const [k, v] of Object.entries(secret.data ?? {})) out.set(k, Buffer.from(v, 'base64'));
  for (const [k, v] of Object.entries(secret.stringData ?? {})) out.set(k, Buffer.from(v));
  return out;
}

function writeKeys(root: string, data: Map<string, Buffer>, items: V1KeyToPath[] | undefined, defaultMode: number, what: string): void {
  if (items && items.length > 0) {
    for (const item of items) {
      const content = data.get(item.key);
      if (content === undefined) throw new MountError(`${what}: couldn't find key ${item.key}`);
      writeItem(root, item.path, content, item.mode ?? defaultMode);
    }
    return;
  }
  for (const [k, v] of data) writeItem(root, k, v, defaultMode);
}

/** Creates the pod's volumes under `dir`; returns volume name → host path. */
export function prepareVolumes(store: ClusterStore, pod: V1Pod, dir: string): Map<string, string> {
  const namespace = pod.metadata?.namespace ?? 'default';
  const out = new Map<string, string>();
  for (const volume of pod.spec?.volumes ?? []) {
    out.set(volume.name, prepareVolume(store, pod, namespace, volume, join(dir, volume.name.replace(/[^\w.-]/g, '_'))));
  }
  return out;
}

function prepareVolume(store: ClusterStore, pod: V1Pod, namespace: string, volume: V1Volume, path: string): string {
  if (volume.hostPath) {
    const type = volume.hostPath.type ?? '';
    if (type === 'DirectoryOrCreate') mkdirSync(volume.hostPath.path, { recursive: true, mode: 0o755 });
    if (!existsSync(volume.hostPath.path) && type !== '') throw new MountError(`hostPath type check failed: ${volume.hostPath.path} is not a directory`);
    return volume.hostPath.path;
  }
  if (existsSync(path)) return path; // prepared before (a retry)
  const tmp = `${path}.tmp`;
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(tmp, { recursive: true });
  if (volume.emptyDir) {
    chmodSync(tmp, 0o777);
  } else if (volume.secret) {
    const name = volume.secret.secretName ?? '';
    const secret = store.getSecret(namespace, name);
    if (!secret) {
      if (!volume.secret.optional) throw new MountError(`MountVolume.SetUp failed for volume "${volume.name}" : secret "${name}" not found`);
    } else writeKeys(tmp, secretData(secret), volume.secret.items, volume.secret.defaultMode ?? 0o644, `secret ${name}`);
  } else if (volume.configMap) {
    // no ConfigMaps in the simulated store: an empty directory
  } else if (volume.downwardAPI) {
    for (const item of volume.downwardAPI.items ?? []) {
      if (item.fieldRef) writeItem(tmp, item.path, fieldValue(pod, item.fieldRef), item.mode ?? volume.downwardAPI.defaultMode ?? 0o644);
    }
  } else if (volume.projected) {
    const mode = volume.projected.defaultMode ?? 0o644;
    for (const source of volume.projected.sources ?? []) {
      if (source.serviceAccountToken) {
        // a token of the pod's service account the API server accepts (without TLS: a placeholder)
        const account = pod.spec?.serviceAccountName || 'default';
        const token = store.inClusterCredentials?.(namespace, account, { expirationSeconds: source.serviceAccountToken.expirationSeconds ?? 3607 })?.token;
        writeItem(tmp, source.serviceAccountToken.path, token ?? `kube-sim-token.${account}`, mode);
      }
      else if (source.configMap) {
        for (const item of source.configMap.items ?? []) writeItem(tmp, item.path, '', item.mode ?? mode);
      } else if (source.downwardAPI) {
        for (const item of source.downwardAPI.items ?? []) if (item.fieldRef) writeItem(tmp, item.path, fieldValue(pod, item.fieldRef), item.mode ?? mode);
      } else if (source.secret) {
        const secret = store.getSecret(namespace, source.secret.name ?? '');
        if (!secret) {
          if (!source.secret.optional) throw new MountError(`MountVolume.SetUp failed for volume "${volume.name}" : secret "${source.secret.name ?? ''}" not found`);
        } else writeKeys(tmp, secretData(secret), source.secret.items, mode, `secret ${source.secret.name ?? ''}`);
      }
    }
  } else {
    const type = Object.keys(volume).find((k) => k !== 'name') ?? 'unknown';
    throw new MountError(`MountVolume.SetUp failed for volume "${volume.name}" : volume type ${type} is not supported by kube-sim`);
  }
  // renamed only once complete (a retry starts over)
  renameSync(tmp, path);
  return path;
}
