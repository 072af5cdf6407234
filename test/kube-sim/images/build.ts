// OCI images for the test cluster, built in TypeScript without a Docker engine: a busybox base
// layer (the host's static /bin/busybox, a symbolic link per applet, /etc/passwd, /tmp, ...) and
// layers of extra files, with an image config (Env, Entrypoint, Cmd, WorkingDir, User), pushed
// with Jetway's registry client.
import { execFileSync } from 'node:child_process';
import { closeSync, openSync, readFileSync, readSync } from 'node:fs';
import { dirname } from 'node:path';
import { gzip } from 'node:zlib';
import { promisify } from 'node:util';
import { createTar, type TarEntry } from '../../../src/images/layers.ts';
import { MEDIA_TYPES, sha256Digest, type Descriptor } from '../../../src/images/oci.ts';
import type { ImageRegistry, RegistryCredentials, RepositoryRef } from '../../../src/images/registry-client.ts';

const gzipAsync = promisify(gzip);

export const BUSYBOX_PATH = '/bin/busybox';
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
}

export interface BuiltImage {
  manifest: Buffer;
  manifestDigest: string;
  config: Buffer;
  configDescriptor: Descriptor;
  layers: BuiltLayer[];
}

/** A gzip layer of tar entries (deterministic: same entries, same digest). */
export async function buildLayer(entries: readonly TarEntry[], level = 6): Promise<BuiltLayer> {
  const tar = createTar(entries);
  const data = await gzipAsync(tar, { level });
  return { data, diffId: sha256Digest(tar), descriptor: { mediaType: MEDIA_TYPES.ociLayerGzip, digest: sha256Digest(data), size: data.length } };
}

/** The entries for `files` (absolute paths in the image) with their parent directories first. */
export function fileEntries(files: Record<string, string | Uint8Array>, mode = 0o644): TarEntry[] {
  const dirs = new Set<string>();
  const entries: TarEntry[] = [];
  for (const [path, content] of Object.entries(files)) {
    const rel = path.replace(/^\/+/, '');
    if (!rel) throw new Error(`not a file path: ${path}`);
    const parents: string[] = [];
    for (let d = dirname(rel); d !== '.' && d !== '/'; d = dirname(d)) parents.unshift(d);
    for (const d of parents) {
      if (dirs.has(d)) continue;
      dirs.add(d);
      entries.push({ type: 'directory', path: d, mode: d === 'tmp' ? 0o1777 : 0o755 });
    }
    entries.push({ type: 'file', path: rel, content, mode });
  }
  return entries;
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

let busyboxLayerPromise: Promise<BuiltLayer> | undefined;

/** The busybox base layer (built once per process). */
export function busyboxLayer(): Promise<BuiltLayer> {
  busyboxLayerPromise ??= (async () => {
    let binary: Buffer;
    try {
      binary = readFileSync(BUSYBOX_PATH);
    } catch {
      throw new Error(`${BUSYBOX_PATH} not found: install busybox-static (scripts/install-test-deps.sh)`);
    }
    if (isDynamicElf(BUSYBOX_PATH)) throw new Error(`${BUSYBOX_PATH} is dynamically linked: install busybox-static (scripts/install-test-deps.sh)`);
    const applets = execFileSync(BUSYBOX_PATH, ['--list'], { encoding: 'utf8' })
      .split('\n')
      .map((s) => s.trim())
      .filter((s) => /^[\w.[-]+$/.test(s) && s !== 'busybox')
      .sort();
    const entries: TarEntry[] = [
      ...['bin', 'dev', 'etc', 'home', 'proc', 'root', 'sys', 'usr', 'usr/bin', 'usr/local', 'usr/local/bin', 'usr/sbin', 'var', 'var/tmp'].map(
        (path): TarEntry => ({ type: 'directory', path, mode: path === 'root' ? 0o700 : 0o755 }),
      ),
      { type: 'directory', path: 'tmp', mode: 0o1777 },
      { type: 'file', path: 'bin/busybox', content: binary, mode: 0o755 },
      ...applets.map((a): TarEntry => ({ type: 'symlink', path: `bin/${a}`, target: 'busybox' })),
      { type: 'symlink', path: 'usr/bin/env', target: '/bin/busybox' },
      { type: 'file', path: 'etc/passwd', content: 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n' },
      { type: 'file', path: 'etc/group', content: 'root:x:0:\nnogroup:x:65534:\n' },
      { type: 'file', path: 'etc/hostname', content: 'busybox\n' },
    ];
    return buildLayer(entries);
  })();
  return busyboxLayerPromise;
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
      },
      rootfs: { type: 'layers', diff_ids: layers.map((l) => l.diffId) },
    }),
  );
  const configDescriptor: Descriptor = { mediaType: MEDIA_TYPES.ociConfig, digest: sha256Digest(config), size: config.length };
  const manifest = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: MEDIA_TYPES.ociManifest, config: configDescriptor, layers: layers.map((l) => l.descriptor) }));
  return { manifest, manifestDigest: sha256Digest(manifest), config, configDescriptor, layers };
}

/** The busybox base plus a layer of `files` (absolute paths → content), if any. */
export async function buildBusyboxImage(files: Record<string, string | Uint8Array> = {}, spec: ImageConfigSpec = {}): Promise<BuiltImage> {
  const layers = [await busyboxLayer()];
  if (Object.keys(files).length > 0) layers.push(await buildLayer(fileEntries(files)));
  return assembleImage(layers, spec);
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
