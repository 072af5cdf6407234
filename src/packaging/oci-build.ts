// OCI images assembled in TypeScript, without a Docker daemon: gzip layers of tar entries, an image
// config, a manifest, and a push with Jetway's registry client. Deterministic by construction:
// entries are sorted, tar headers carry mtime 0 and owner 0:0 (src/images/layers.ts createTar), the
// config's `created` is the epoch, so the same inputs give the same digests (docs/kubernetes-runtime.md,
// "Images").
import { closeSync, openSync, readSync } from 'node:fs';
import { dirname } from 'node:path';
import { promisify } from 'node:util';
import { gzip } from 'node:zlib';
import { createTar, type TarEntry } from '../images/layers.ts';
import { MEDIA_TYPES, sha256Digest, type Descriptor } from '../images/oci.ts';
import type { ImageRegistry, RegistryCredentials, RepositoryRef } from '../images/registry-client.ts';

const gzipAsync = promisify(gzip);

export const DEFAULT_PATH = 'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

export interface BuiltLayer {
  /** The blob as pushed (gzip). */
  data: Buffer;
  descriptor: Descriptor;
  /** sha256 of the uncompressed tar (the config's rootfs.diff_ids). */
  diffId: string;
}

export interface ImageConfigSpec {
  env?: string[];
  entrypoint?: string[];
  cmd?: string[];
  workingDir?: string;
  user?: string;
  labels?: Record<string, string>;
}

export interface BuiltImage {
  manifest: Buffer;
  manifestDigest: string;
  config: Buffer;
  configDescriptor: Descriptor;
  layers: BuiltLayer[];
}

/**
 * Entries in a canonical order: sorted by path (a directory sorts before what it holds). A hard
 * link must name a path that sorts before it (the file that carries the content); duplicated
 * paths are an error.
 */
export function sortEntries(entries: readonly TarEntry[]): TarEntry[] {
  const byPath = new Map<string, TarEntry>();
  for (const e of entries) {
    const path = e.path.replace(/\/+$/, '');
    if (byPath.has(path)) throw new Error(`layer: '${path}' appears twice`);
    byPath.set(path, { ...e, path });
  }
  const sorted = [...byPath.values()].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  for (const e of sorted) {
    if (e.type === 'hardlink' && !(byPath.has(e.target) && e.target < e.path)) {
      throw new Error(`layer: hard link '${e.path}' must name a path of the layer that sorts before it, not '${e.target}'`);
    }
  }
  return sorted;
}

/** A gzip layer of tar entries, sorted (same entries, same digest). */
export async function buildLayer(entries: readonly TarEntry[], level = 6): Promise<BuiltLayer> {
  const tar = createTar(sortEntries(entries));
  const data = await gzipAsync(tar, { level });
  return { data, diffId: sha256Digest(tar), descriptor: { mediaType: MEDIA_TYPES.ociLayerGzip, digest: sha256Digest(data), size: data.length } };
}

/** The entries for `files` (absolute paths in the image) with their parent directories. */
export function fileEntries(files: Record<string, string | Uint8Array>, mode = 0o644): TarEntry[] {
  const dirs = new Set<string>();
  const entries: TarEntry[] = [];
  for (const [path, content] of Object.entries(files)) {
    const rel = path.replace(/^\/+/, '');
    if (!rel || rel.split('/').includes('..')) throw new Error(`not a file path: ${path}`);
    for (let d = dirname(rel); d !== '.' && d !== '/'; d = dirname(d)) {
      if (dirs.has(d)) continue;
      dirs.add(d);
      entries.push({ type: 'directory', path: d, mode: d === 'tmp' ? 0o1777 : 0o755 });
    }
    entries.push({ type: 'file', path: rel, content, mode });
  }
  return entries;
}

/** Entries with the given paths (absolute) made executable. */
export function withExecutable(entries: TarEntry[], executable: ReadonlySet<string>): TarEntry[] {
  return entries.map((e) => (e.type === 'file' && executable.has(`/${e.path}`) ? { ...e, mode: 0o755 } : e));
}

/** Whether an ELF file asks for a dynamic loader (has a PT_INTERP program header). */
export function isDynamicElf(path: string): boolean {
  const fd = openSync(path, 'r');
  try {
    const header = Buffer.alloc(64);
    readSync(fd, header, 0, 64, 0);
    if (header.readUInt32BE(0) !== 0x7f454c46 || header[4] !== 2) throw new Error(`${path} is not a 64-bit ELF file`);
    const phoff = Number(header.readBigUInt64LE(0x20));
    const phentsize = header.readUInt16LE(0x36);
    const phnum = header.readUInt16LE(0x38);
    const table = Buffer.alloc(phentsize * phnum);
    readSync(fd, table, 0, table.length, phoff);
    for (let i = 0; i < phnum; i++) if (table.readUInt32LE(i * phentsize) === 3) return true;
    return false;
  } finally {
    closeSync(fd);
  }
}

/** Whether a file starts with the ELF magic. */
export function isElf(path: string): boolean {
  const fd = openSync(path, 'r');
  try {
    const magic = Buffer.alloc(4);
    return readSync(fd, magic, 0, 4, 0) === 4 && magic.readUInt32BE(0) === 0x7f454c46;
  } finally {
    closeSync(fd);
  }
}

/** An image of `layers` (bottom first) and a config for linux/amd64. */
export function assembleImage(layers: BuiltLayer[], spec: ImageConfigSpec = {}): BuiltImage {
  const config = Buffer.from(
    JSON.stringify({
      architecture: 'amd64',
      os: 'linux',
      created: '1970-01-01T00:00:00Z',
      config: {
        Env: spec.env ?? [DEFAULT_PATH],
        ...(spec.entrypoint ? { Entrypoint: spec.entrypoint } : {}),
        Cmd: spec.cmd ?? ['sh'],
        ...(spec.workingDir ? { WorkingDir: spec.workingDir } : {}),
        ...(spec.user !== undefined ? { User: spec.user } : {}),
        ...(spec.labels ? { Labels: spec.labels } : {}),
      },
      rootfs: { type: 'layers', diff_ids: layers.map((l) => l.diffId) },
    }),
  );
  const configDescriptor: Descriptor = { mediaType: MEDIA_TYPES.ociConfig, digest: sha256Digest(config), size: config.length };
  const manifest = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: MEDIA_TYPES.ociManifest, config: configDescriptor, layers: layers.map((l) => l.descriptor) }));
  return { manifest, manifestDigest: sha256Digest(manifest), config, configDescriptor, layers };
}

/** Pushes blobs (skipping those the registry has) and the manifest under `reference`; returns the manifest digest. */
export async function pushImage(client: ImageRegistry, repo: RepositoryRef, reference: string, image: BuiltImage, credentials?: RegistryCredentials): Promise<string> {
  await client.pushBlob(repo, image.config, credentials, { digest: image.configDescriptor.digest });
  for (const layer of image.layers) await client.pushBlob(repo, layer.data, credentials, { digest: layer.descriptor.digest });
  return client.pushManifest({ ...repo, reference }, image.manifest, MEDIA_TYPES.ociManifest, credentials);
}

/** Total size of an image's blobs as stored in a registry (config + compressed layers + manifest). */
export function imageSize(image: BuiltImage): number {
  return image.manifest.length + image.config.length + image.layers.reduce((n, l) => n + l.data.length, 0);
}
