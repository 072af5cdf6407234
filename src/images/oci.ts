// OCI / Docker image formats: media types, manifests, indexes, configs, and platform selection.
import { createHash } from 'node:crypto';

export const MEDIA_TYPES = {
  ociIndex: 'application/vnd.oci.image.index.v1+json',
  dockerManifestList: 'application/vnd.docker.distribution.manifest.list.v2+json',
  ociManifest: 'application/vnd.oci.image.manifest.v1+json',
  dockerManifest: 'application/vnd.docker.distribution.manifest.v2+json',
  ociConfig: 'application/vnd.oci.image.config.v1+json',
  dockerConfig: 'application/vnd.docker.container.image.v1+json',
  ociLayer: 'application/vnd.oci.image.layer.v1.tar',
  ociLayerGzip: 'application/vnd.oci.image.layer.v1.tar+gzip',
  dockerLayerGzip: 'application/vnd.docker.image.rootfs.diff.tar.gzip',
} as const;

/**
 * The `Accept` of every manifest request. Without the index types a registry answers 404 for a
 * multi-arch tag or converts the manifest (another digest); the order states our preference.
 */
export const MANIFEST_ACCEPT = [
  MEDIA_TYPES.ociIndex,
  MEDIA_TYPES.dockerManifestList,
  MEDIA_TYPES.ociManifest,
  MEDIA_TYPES.dockerManifest,
].join(', ');

export interface Platform {
  architecture: string;
  os: string;
  variant?: string;
  'os.version'?: string;
}

export interface Descriptor {
  mediaType: string;
  digest: string;
  size: number;
  annotations?: Record<string, string>;
  platform?: Platform;
}

export interface ImageManifest {
  schemaVersion: 2;
  mediaType?: string;
  config: Descriptor;
  layers: Descriptor[];
  annotations?: Record<string, string>;
}

export interface ImageIndex {
  schemaVersion: 2;
  mediaType?: string;
  manifests: Descriptor[];
  annotations?: Record<string, string>;
}

export interface ImageConfig {
  architecture?: string;
  os?: string;
  variant?: string;
  config?: { Env?: string[] | null; User?: string; Cmd?: string[] | null; Entrypoint?: string[] | null; WorkingDir?: string };
  rootfs?: { type: 'layers'; diff_ids: string[] };
  history?: unknown[];
  created?: string;
}

export function sha256Digest(data: Uint8Array | string): string {
  return `sha256:${createHash('sha256').update(data).digest('hex')}`;
}

export function isIndexMediaType(mediaType: string | undefined): boolean {
  return mediaType === MEDIA_TYPES.ociIndex || mediaType === MEDIA_TYPES.dockerManifestList;
}

export function isManifestMediaType(mediaType: string | undefined): boolean {
  return mediaType === MEDIA_TYPES.ociManifest || mediaType === MEDIA_TYPES.dockerManifest;
}

/** A parsed manifest body: an image manifest or an index, told apart by media type or shape. */
export type ParsedManifest = { kind: 'index'; index: ImageIndex } | { kind: 'manifest'; manifest: ImageManifest };

export function parseManifest(body: Uint8Array, contentType?: string): ParsedManifest {
  let json: unknown;
  try {
    json = JSON.parse(Buffer.from(body).toString('utf8'));
  } catch {
    throw new Error('the manifest is not JSON');
  }
  if (typeof json !== 'object' || json === null) throw new Error('the manifest is not a JSON object');
  const m = json as Record<string, unknown>;
  const mediaType = typeof m.mediaType === 'string' ? m.mediaType : contentType?.split(';')[0]?.trim();
  if (isIndexMediaType(mediaType) || (mediaType === undefined && Array.isArray(m.manifests))) {
    if (!Array.isArray(m.manifests)) throw new Error('the image index has no manifests');
    return { kind: 'index', index: json as ImageIndex };
  }
  if (m.schemaVersion === 1) throw new Error('schema 1 manifests are not supported; push the image again with a current client');
  if (typeof m.config !== 'object' || m.config === null || !Array.isArray(m.layers)) {
    throw new Error(`unsupported manifest (media type ${mediaType ?? 'unknown'})`);
  }
  return { kind: 'manifest', manifest: json as ImageManifest };
}

/** The platform of this machine in OCI terms (`process.arch` x64 → amd64, arm64 → arm64/v8). */
export function hostPlatform(): Platform {
  const arch: Record<string, string> = { x64: 'amd64', arm64: 'arm64', arm: 'arm', ia32: '386', ppc64: 'ppc64le', s390x: 's390x', riscv64: 'riscv64' };
  const architecture = arch[process.arch] ?? process.arch;
  return { os: 'linux', architecture, ...(architecture === 'arm64' ? { variant: 'v8' } : {}) };
}

/** The index entry for `platform` (variant matched loosely: arm64 without variant is v8). */
export function selectPlatform(index: ImageIndex, platform: Platform = hostPlatform()): Descriptor | undefined {
  const candidates = index.manifests.filter(
    (d) => d.platform && d.platform.os === platform.os && d.platform.architecture === platform.architecture && isManifestMediaType(d.mediaType ?? MEDIA_TYPES.ociManifest),
  );
  const normalVariant = (p: Platform): string | undefined => p.variant ?? (p.architecture === 'arm64' ? 'v8' : undefined);
  return candidates.find((d) => d.platform && normalVariant(d.platform) === normalVariant(platform)) ?? candidates[0];
}

export function platformString(p: Platform): string {
  return `${p.os}/${p.architecture}${p.variant ? `/${p.variant}` : ''}`;
}
