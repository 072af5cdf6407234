// The node's image store: pulls images from the registry their reference names (Jetway's
// RegistryClient: anonymous, Basic or Bearer auth; loopback registries over http), verifies
// digests (a `@sha256:` reference must be the manifest's digest; every blob is verified by the
// client), picks linux/amd64 from a multi-arch index, and keeps each image unpacked ONCE per node,
// by manifest digest (a rootfs directory that containers overlay). Pulls are serialized, as the
// kubelet's `serializeImagePulls` default does. Pull policy: IfNotPresent uses a tag already pulled
// without asking the registry; Always asks the registry (one manifest GET) every time and
// downloads only the layers of a digest it has not unpacked; Never never asks.
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Transform, type TransformCallback } from 'node:stream';
import { RootfsBuilder } from '../../../src/images/layers.ts';
import { parseManifest, selectPlatform, type ImageConfig } from '../../../src/images/oci.ts';
import { isDigest, parseRepository } from '../../../src/images/reference.ts';
import { RegistryClient, RegistryError, type ImageRegistry, type RegistryCredentials, type RepositoryRef } from '../../../src/images/registry-client.ts';
import type { LatencyProfile, PullStats } from '../contract.ts';

export type PullPolicy = 'Always' | 'IfNotPresent' | 'Never';

export interface ParsedImage {
  /** The repository as written (`127.0.0.1:5000/team/app`). */
  repository: string;
  repo: RepositoryRef;
  tag?: string;
  digest?: string;
  /** tag or digest asked for */
  reference: string;
}

export interface LocalImage {
  /** `repository@sha256:…` (the digest the reference resolved to: an index's when it is one). */
  imageId: string;
  /** The platform manifest's digest (the unpacked content). */
  manifestDigest: string;
  rootfs: string;
  config: NonNullable<ImageConfig['config']>;
  /** compressed layer bytes */
  size: number;
}

export class PullError extends Error {
  constructor(
    readonly reason: 'ErrImagePull' | 'ErrImageNeverPull' | 'InvalidImageName',
    message: string,
  ) {
    super(message);
  }
}

export function parseImage(image: string): ParsedImage {
  if (!image) throw new PullError('InvalidImageName', 'the container has no image');
  let name = image;
  let digest: string | undefined;
  let tag: string | undefined;
  const at = name.indexOf('@');
  if (at >= 0) {
    digest = name.slice(at + 1);
    name = name.slice(0, at);
    if (!isDigest(digest)) throw new PullError('InvalidImageName', `Failed to apply default image tag "${image}": couldn't parse image name "${image}": invalid reference format`);
  }
  const slash = name.lastIndexOf('/');
  const colon = name.indexOf(':', slash + 1);
  if (colon >= 0) {
    tag = name.slice(colon + 1);
    name = name.slice(0, colon);
  }
  let parsed;
  try {
    parsed = parseRepository(name);
  } catch (err) {
    throw new PullError('InvalidImageName', `Failed to apply default image tag "${image}": couldn't parse image name "${image}": ${err instanceof Error ? err.message : String(err)}`);
  }
  if (!digest && !tag) tag = 'latest';
  return { repository: name, repo: { registry: parsed.registry, path: parsed.path }, ...(tag ? { tag } : {}), ...(digest ? { digest } : {}), reference: digest ?? tag ?? 'latest' };
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  if (ms <= 0) return Promise.resolve();
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(new Error('aborted'));
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/** Counts bytes and holds them back to `bytesPerSecond` (0 = unlimited). */
class Meter extends Transform {
  private readonly started = Date.now();
  bytes = 0;
  constructor(
    private readonly bytesPerSecond: number,
    private readonly onBytes: (n: number) => void,
  ) {
    super();
  }
  override _transform(chunk: Buffer, _enc: BufferEncoding, done: TransformCallback): void {
    this.bytes += chunk.length;
    this.onBytes(chunk.length);
    const due = this.bytesPerSecond > 0 ? this.started + (this.bytes / this.bytesPerSecond) * 1000 - Date.now() : 0;
    if (due > 1) setTimeout(() => done(null, chunk), due);
    else done(null, chunk);
  }
}

interface Fault {
  pattern: string | RegExp;
  message: string;
}

export interface EnsureResult {
  image: LocalImage;
  /** The registry was asked (Pulling/Pulled events) rather than the image being present. */
  pulled: boolean;
  /** bytes downloaded by this pull */
  bytes: number;
  durationMs: number;
}

export class ImageStore {
  private readonly tags = new Map<string, string>(); // repository:tag or repository@digest -> imageId
  private readonly images = new Map<string, LocalImage>(); // imageId -> image
  private readonly unpacked = new Map<string, Promise<{ rootfs: string; config: NonNullable<ImageConfig['config']>; size: number }>>(); // manifest digest
  private readonly faults: Fault[] = [];
  private readonly stats: PullStats = { pulls: {}, bytes: 0 };
  private queue: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly dir: string,
    private readonly latency: () => LatencyProfile,
    private readonly client: ImageRegistry = new RegistryClient({ userAgent: 'kube-sim-kubelet' }),
    private readonly serialize = true,
  ) {
    mkdirSync(dir, { recursive: true });
  }

  pullStats(): PullStats {
    return { pulls: { ...this.stats.pulls }, bytes: this.stats.bytes };
  }

  failNextPull(pattern: string | RegExp, message: string): void {
    this.faults.push({ pattern, message });
  }

  /** The image if present on the node (no registry request). */
  present(image: string): LocalImage | undefined {
    const parsed = parseImage(image);
    const id = this.tags.get(key(parsed));
    return id ? this.images.get(id) : undefined;
  }

  /** Makes `image` present per `policy`; `credentials` are tried in order (none = anonymous). */
  async ensure(image: string, policy: PullPolicy, credentials: RegistryCredentials[], signal?: AbortSignal): Promise<EnsureResult> {
    const started = Date.now();
    const parsed = parseImage(image);
    const fault = this.faults.findIndex((f) => (typeof f.pattern === 'string' ? image.includes(f.pattern) : f.pattern.test(image)));
    if (fault >= 0) {
      const [f] = this.faults.splice(fault, 1);
      throw new PullError('ErrImagePull', f?.message ?? 'injected pull failure');
    }
    const local = this.present(image);
    if (policy === 'Never') {
      if (local) return { image: local, pulled: false, bytes: 0, durationMs: 0 };
      throw new PullError('ErrImageNeverPull', `Container image "${image}" is not present with pull policy of Never`);
    }
    if (local && policy === 'IfNotPresent') return { image: local, pulled: false, bytes: 0, durationMs: 0 };
    const pull = async (): Promise<EnsureResult> => {
      signal?.throwIfAborted();
      const again = this.present(image);
      if (again && policy === 'IfNotPresent') return { image: again, pulled: false, bytes: 0, durationMs: Date.now() - started };
      const { image: pulled, bytes } = await this.pull(parsed, credentials, signal);
      return { image: pulled, pulled: true, bytes, durationMs: Date.now() - started };
    };
    if (!this.serialize) return pull();
    const result = this.queue.then(pull, pull);
    this.queue = result.catch(() => undefined);
    return result;
  }

  private async pull(parsed: ParsedImage, candidates: RegistryCredentials[], signal?: AbortSignal): Promise<{ image: LocalImage; bytes: number }> {
    await sleep(this.latency().pullOverheadMs, signal);
    let bytes = 0;
    const count = (n: number): void => {
      bytes += n;
      this.stats.bytes += n;
    };
    const ref = { ...parsed.repo, reference: parsed.reference };
    // the first credentials the registry accepts (anonymous when the pod has none for it)
    const tries: (RegistryCredentials | undefined)[] = candidates.length > 0 ? candidates : [undefined];
    let credentials: RegistryCredentials | undefined;
    let top;
    let lastError: unknown;
    for (const c of tries) {
      try {
        top = await this.client.getManifest(ref, c, signal ? { signal } : {});
        credentials = c;
        break;
      } catch (err) {
        lastError = err;
        if (!(err instanceof RegistryError && (err.status === 401 || err.status === 403))) break;
      }
    }
    if (!top) throw new PullError('ErrImagePull', pullMessage(parsed, lastError));
    count(top.body.length);
    if (parsed.digest && top.digest !== parsed.digest) {
      throw new PullError('ErrImagePull', `failed to pull "${parsed.repository}@${parsed.digest}": the registry's manifest has digest ${top.digest}`);
    }
    const repoDigest = top.digest;
    const imageId = `${parsed.repository}@${repoDigest}`;
    try {
      let manifestDigest = top.digest;
      let body = top.body;
      let parsedManifest = parseManifest(body, top.mediaType);
      if (parsedManifest.kind === 'index') {
        const chosen = selectPlatform(parsedManifest.index, { os: 'linux', architecture: 'amd64' });
        if (!chosen) throw new Error('no matching manifest for linux/amd64 in the manifest list entries');
        const platform = await this.client.getManifest({ ...parsed.repo, reference: chosen.digest }, credentials, signal ? { signal } : {});
        count(platform.body.length);
        manifestDigest = platform.digest;
        body = platform.body;
        parsedManifest = parseManifest(body, platform.mediaType);
        if (parsedManifest.kind !== 'manifest') throw new Error(`the index entry ${chosen.digest} is not an image manifest`);
      }
      const manifest = parsedManifest.manifest;
      let unpacking = this.unpacked.get(manifestDigest);
      if (!unpacking) {
        unpacking = this.unpack(parsed, manifestDigest, manifest.config.digest, manifest.layers.map((l) => l.digest), credentials, count, signal);
        this.unpacked.set(manifestDigest, unpacking);
        unpacking.catch(() => this.unpacked.delete(manifestDigest));
      }
      const content = await unpacking;
      const image: LocalImage = { imageId, manifestDigest, ...content };
      this.images.set(imageId, image);
      this.tags.set(key(parsed), imageId);
      this.tags.set(`${parsed.repository}@${repoDigest}`, imageId);
      this.stats.pulls[imageId] = (this.stats.pulls[imageId] ?? 0) + 1;
      return { image, bytes };
    } catch (err) {
      if (err instanceof PullError) throw err;
      throw new PullError('ErrImagePull', pullMessage(parsed, err));
    }
  }

  private async unpack(
    parsed: ParsedImage,
    manifestDigest: string,
    configDigest: string,
    layers: string[],
    credentials: RegistryCredentials | undefined,
    count: (n: number) => void,
    signal?: AbortSignal,
  ): Promise<{ rootfs: string; config: NonNullable<ImageConfig['config']>; size: number }> {
    const final = join(this.dir, manifestDigest.replace(':', '-'));
    const configStream = await this.client.getBlob(parsed.repo, configDigest, credentials, signal ? { signal } : {});
    const chunks: Buffer[] = [];
    for await (const chunk of configStream) chunks.push(chunk as Buffer);
    const configBody = Buffer.concat(chunks);
    count(configBody.length);
    const config = (JSON.parse(configBody.toString('utf8')) as ImageConfig).config ?? {};
    if (existsSync(join(final, 'rootfs'))) return { rootfs: join(final, 'rootfs'), config, size: 0 };
    const tmp = join(this.dir, `tmp-${randomBytes(6).toString('hex')}`);
    let size = 0;
    try {
      const builder = new RootfsBuilder(join(tmp, 'rootfs'));
      for (const digest of layers) {
        const blob = await this.client.getBlob(parsed.repo, digest, credentials, signal ? { signal } : {});
        const meter = new Meter(this.latency().pullBytesPerSecond, count);
        blob.on('error', (err) => meter.destroy(err));
        await builder.applyLayer(blob.pipe(meter));
        size += meter.bytes;
      }
      builder.finish();
      writeFileSync(join(tmp, 'config.json'), configBody);
      rmSync(final, { recursive: true, force: true });
      renameSync(tmp, final);
    } catch (err) {
      rmSync(tmp, { recursive: true, force: true });
      throw err;
    }
    return { rootfs: join(final, 'rootfs'), config, size };
  }

  /** Reads a cached image's config again (for tests). */
  configOf(manifestDigest: string): ImageConfig | undefined {
    const file = join(this.dir, manifestDigest.replace(':', '-'), 'config.json');
    return existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as ImageConfig) : undefined;
  }
}

function key(parsed: ParsedImage): string {
  return parsed.digest ? `${parsed.repository}@${parsed.digest}` : `${parsed.repository}:${parsed.tag ?? 'latest'}`;
}

function pullMessage(parsed: ParsedImage, err: unknown): string {
  const image = parsed.digest ? `${parsed.repository}@${parsed.digest}` : `${parsed.repository}:${parsed.tag ?? 'latest'}`;
  const detail = err instanceof Error ? err.message : String(err);
  return `failed to pull and unpack image "${image}": ${detail}`;
}
