// The `registry-image` resource type (OCI / Docker registries), in-process: the web node runs its
// check natively (docs/image-features.md, decision 12), the local runtime runs all three scripts.
//
// source: repository (required), tag, username/password, insecure, variant, semver_constraint,
//   pre_releases, registry_mirror {host, username, password} (Docker Hub repositories only: the
//   mirror is tried first, the origin when it fails), ca_certs (not supported yet: a warning).
// check, with a tag: `[{tag, digest}]`, the digest the tag points to now (one manifest request);
//   a tag that does not exist gives `[]`.
// check, without a tag: the repository's semver tags (`1.2.3`, `v1.2.3`, with `-<variant>` when
//   `variant` is set; prereleases only with `pre_releases`; filtered by `semver_constraint`), oldest
//   first, from the given version on (a first check: the newest only). No semver tags: `latest`.
// in: fetches exactly the digest of the version (a multi-arch index: the entry for this machine's
//   platform). Writes `repository`, `tag`, `digest`, and by param `format`: `rootfs` (default;
//   `rootfs/` + `metadata.json` {env, user}) or `oci` (`image.tar`, an OCI image layout holding the
//   platform's image). Param `skip_download` writes only the three small files.
// out: pushes param `image` (a path in the inputs dir: an OCI layout tarball, or `docker save`
//   output) to the tag and param `additional_tags` (a list, or a file of white-space separated
//   tags), and answers `{tag, digest}`.
import { mkdtemp, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative, resolve } from 'node:path';
import semver from 'semver';
import { extract } from 'tar';
import { RootfsBuilder, TarFileWriter } from '../../images/layers.ts';
import {
  MEDIA_TYPES,
  hostPlatform,
  parseManifest,
  platformString,
  selectPlatform,
  sha256Digest,
  type Descriptor,
  type ImageConfig,
  type ImageManifest,
  type Platform,
} from '../../images/oci.ts';
import { DOCKER_HUB_REGISTRY, isSha256Digest, parseRepository, repositoryProblem, tagProblem } from '../../images/reference.ts';
import {
  RegistryError,
  defaultRegistryClient,
  type ImageRegistry,
  type RegistryCredentials,
  type RepositoryRef,
} from '../../images/registry-client.ts';
import { Fields, isObject, toVersion } from '../fields.ts';
import { ResourceError, type CheckRequest, type InRequest, type JsonObject, type OutRequest, type ResourceContext, type ResourceResult, type ResourceTypeImpl } from '../protocol.ts';
import type { Version } from '../../model/version.ts';

/** A registry-image source, read and checked. */
export interface RegistryImageSource {
  repository: string;
  /** Undefined when the source names none (check then follows semver tags). */
  tag: string | undefined;
  credentials: RegistryCredentials | undefined;
  insecure: boolean;
  variant: string | undefined;
  semverConstraint: string | undefined;
  preReleases: boolean;
  mirror: { host: string; credentials: RegistryCredentials | undefined } | undefined;
  caCerts: boolean;
}

export function parseRegistryImageSource(raw: JsonObject | undefined): RegistryImageSource {
  const f = new Fields(raw, 'source');
  const repository = f.raw('repository');
  if (repository === undefined) throw new ResourceError('invalid source.repository: required');
  const repoProblem = repositoryProblem(repository);
  if (repoProblem) throw new ResourceError(`invalid source.repository: ${repoProblem}`);
  const rawTag = f.raw('tag');
  if (rawTag !== undefined && rawTag !== '') {
    const p = tagProblem(rawTag);
    if (p) throw new ResourceError(`invalid source.tag: ${p}`);
  }
  const username = f.string('username');
  const password = f.string('password');
  if ((username === undefined || username === '') !== (password === undefined || password === '')) {
    throw new ResourceError('invalid source: username and password go together; give both or neither');
  }
  const mirrorRaw = f.object('registry_mirror');
  let mirror: RegistryImageSource['mirror'];
  if (mirrorRaw) {
    const m = new Fields(mirrorRaw, 'source.registry_mirror');
    const host = m.string('host');
    if (!host) throw new ResourceError('invalid source.registry_mirror.host: required');
    const mu = m.string('username');
    const mp = m.string('password');
    mirror = { host: host.replace(/^https?:\/\//, '').replace(/\/+$/, ''), credentials: mu && mp ? { username: mu, password: mp } : undefined };
  }
  return {
    repository: repository as string,
    tag: typeof rawTag === 'string' && rawTag !== '' ? rawTag : undefined,
    credentials: username && password ? { username, password } : undefined,
    insecure: f.bool('insecure'),
    variant: f.string('variant') || undefined,
    semverConstraint: f.string('semver_constraint') || undefined,
    preReleases: f.bool('pre_releases'),
    mirror,
    caCerts: f.has('ca_certs'),
  };
}

export interface RegistryImageOptions {
  /** The registry client; defaults to the process's shared one. */
  client?: ImageRegistry;
  /** The platform `in` picks from a multi-arch index; defaults to this machine's. */
  platform?: Platform;
}

/** Where to talk to: the mirror (Docker Hub repositories with `registry_mirror`) first, then the origin. */
interface Endpoint {
  repo: RepositoryRef;
  credentials: RegistryCredentials | undefined;
}

function endpoints(src: RegistryImageSource): Endpoint[] {
  const parsed = parseRepository(src.repository);
  const origin: Endpoint = { repo: { registry: parsed.registry, path: parsed.path, ...(src.insecure ? { insecure: true } : {}) }, credentials: src.credentials };
  if (src.mirror && parsed.registry === DOCKER_HUB_REGISTRY) {
    return [{ repo: { registry: src.mirror.host, path: parsed.path, ...(src.insecure ? { insecure: true } : {}) }, credentials: src.mirror.credentials }, origin];
  }
  return [origin];
}

async function withEndpoints<T>(src: RegistryImageSource, ctx: ResourceContext, fn: (e: Endpoint) => Promise<T>): Promise<T> {
  const all = endpoints(src);
  for (let i = 0; i < all.length; i++) {
    const endpoint = all[i] as Endpoint;
    try {
      return await fn(endpoint);
    } catch (err) {
      if (i === all.length - 1 || ctx.signal.aborted) throw err;
      ctx.stderr.write(`registry mirror ${endpoint.repo.registry} failed (${err instanceof Error ? err.message : String(err)}); trying ${all[i + 1]?.repo.registry}\n`);
    }
  }
  throw new ResourceError('no registry to talk to');
}

function warnUnsupported(src: RegistryImageSource, ctx: ResourceContext): void {
  if (src.caCerts) ctx.stderr.write('warning: source.ca_certs is not supported yet; the system certificate authorities are used\n');
}

/** Turns registry failures into ResourceErrors (their messages are safe to show). */
async function userErrors<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    if (err instanceof RegistryError) throw new ResourceError(err.message);
    throw err;
  }
}

// --- semver tags ---

interface SemverTag {
  tag: string;
  version: string;
}

const SEMVER_TAG = /^v?(\d+)\.(\d+)\.(\d+)(?:-([0-9A-Za-z.-]+))?$/;

/** The semver tags of a tag list, oldest first, as check without a tag sees them. */
export function semverTags(tags: readonly string[], options: { variant?: string; preReleases?: boolean; constraint?: string }): SemverTag[] {
  const found = new Map<string, SemverTag>();
  let range: semver.Range | undefined;
  if (options.constraint) {
    try {
      range = new semver.Range(options.constraint.replace(/,/g, ' '), { includePrerelease: options.preReleases === true });
    } catch {
      throw new ResourceError(`invalid source.semver_constraint: '${options.constraint}' is not a semver constraint`);
    }
  }
  for (const tag of tags) {
    let text = tag;
    if (options.variant) {
      if (!text.endsWith(`-${options.variant}`)) continue;
      text = text.slice(0, -options.variant.length - 1);
    }
    const m = SEMVER_TAG.exec(text);
    if (!m) continue;
    const version = semver.valid(text.replace(/^v/, ''));
    if (!version) continue;
    if (m[4] !== undefined && !options.preReleases) continue;
    if (range && !range.test(version)) continue;
    const previous = found.get(version);
    // `1.2.3` and `v1.2.3` are one version: keep the tag without the `v`
    if (!previous || previous.tag.startsWith('v')) found.set(version, { tag, version });
  }
  return [...found.values()].sort((a, b) => semver.compare(a.version, b.version));
}

// --- the type ---

export function createRegistryImageResource(options: RegistryImageOptions = {}): ResourceTypeImpl {
  const client = (): ImageRegistry => options.client ?? defaultRegistryClient();
  const platform = options.platform ?? hostPlatform();

  async function resolveTag(src: RegistryImageSource, tag: string, ctx: ResourceContext): Promise<Version | undefined> {
    try {
      const resolved = await withEndpoints(src, ctx, (e) => client().resolveDigest({ ...e.repo, reference: tag }, e.credentials, { signal: ctx.signal }));
      return { tag, digest: resolved.digest };
    } catch (err) {
      if (err instanceof RegistryError && err.status === 404) {
        ctx.stderr.write(`tag ${tag} of ${src.repository} not found\n`);
        return undefined;
      }
      throw err;
    }
  }

  async function check(req: CheckRequest, ctx: ResourceContext): Promise<Version[]> {
    const src = parseRegistryImageSource(req.source);
    warnUnsupported(src, ctx);
    return userErrors(async () => {
      if (src.tag !== undefined) {
        const current = await resolveTag(src, src.tag, ctx);
        return current ? [current] : [];
      }
      const tags = await withEndpoints(src, ctx, (e) => client().listTags(e.repo, e.credentials, { signal: ctx.signal }));
      const versions = semverTags(tags, { ...(src.variant ? { variant: src.variant } : {}), preReleases: src.preReleases, ...(src.semverConstraint ? { constraint: src.semverConstraint } : {}) });
      if (versions.length === 0) {
        const latest = await resolveTag(src, 'latest', ctx);
        return latest ? [latest] : [];
      }
      const given = req.version?.tag;
      const from = given !== undefined ? versions.findIndex((v) => v.tag === given) : -1;
      const wanted = from >= 0 ? versions.slice(from) : versions.slice(-1);
      const out: Version[] = [];
      for (const v of wanted) {
        const resolved = await resolveTag(src, v.tag, ctx);
        if (resolved) out.push(resolved);
      }
      return out;
    });
  }

  async function get(req: InRequest, dir: string, ctx: ResourceContext): Promise<ResourceResult> {
    const src = parseRegistryImageSource(req.source);
    warnUnsupported(src, ctx);
    const version = toVersion(req.version);
    const digest = version.digest;
    if (!digest || !isSha256Digest(digest)) throw new ResourceError(`invalid version: expected {digest: "sha256:<64 hex digits>"}, got ${JSON.stringify(req.version)}`);
    const tag = version.tag ?? src.tag ?? 'latest';
    const params = new Fields(req.params, 'params');
    const format = params.string('format') ?? 'rootfs';
    if (format !== 'rootfs' && format !== 'oci') throw new ResourceError(`invalid params.format: '${format}' (rootfs or oci)`);

    await mkdir(dir, { recursive: true });
    await writeFile(join(dir, 'repository'), src.repository);
    await writeFile(join(dir, 'tag'), tag);
    await writeFile(join(dir, 'digest'), digest);
    const metadata = [
      { name: 'repository', value: src.repository },
      { name: 'tag', value: tag },
    ];
    if (params.bool('skip_download')) return { version, metadata };

    await userErrors(() =>
      withEndpoints(src, ctx, async (e) => {
        const c = client();
        const opts = { signal: ctx.signal };
        const top = await c.getManifest({ ...e.repo, reference: digest }, e.credentials, opts);
        let manifestBody = top.body;
        let manifestMediaType = top.mediaType;
        let manifestDigest = top.digest;
        let parsed = parseManifest(top.body, top.mediaType);
        if (parsed.kind === 'index') {
          const entry = selectPlatform(parsed.index, platform);
          if (!entry) {
            const available = parsed.index.manifests.flatMap((d) => (d.platform ? [platformString(d.platform)] : [])).join(', ');
            throw new ResourceError(`${src.repository}@${digest} has no image for ${platformString(platform)} (it has: ${available || 'no platforms'})`);
          }
          ctx.stderr.write(`${src.repository}@${digest} is a multi-arch index; fetching ${platformString(platform)} (${entry.digest})\n`);
          const m = await c.getManifest({ ...e.repo, reference: entry.digest }, e.credentials, opts);
          manifestBody = m.body;
          manifestMediaType = entry.mediaType || m.mediaType;
          manifestDigest = m.digest;
          parsed = parseManifest(m.body, m.mediaType);
          if (parsed.kind !== 'manifest') throw new ResourceError(`${src.repository}@${entry.digest}: an index inside an index is not supported`);
        }
        const manifest = parsed.manifest;
        const configBlob = await readAll(await c.getBlob(e.repo, manifest.config.digest, e.credentials, opts));

        if (format === 'rootfs') {
          const config = JSON.parse(configBlob.toString('utf8')) as ImageConfig;
          const builder = new RootfsBuilder(join(dir, 'rootfs'));
          for (const [i, layer] of manifest.layers.entries()) {
            ctx.stderr.write(`applying layer ${i + 1}/${manifest.layers.length} ${layer.digest} (${layer.size} bytes)\n`);
            await builder.applyLayer(await c.getBlob(e.repo, layer.digest, e.credentials, opts));
          }
          builder.finish();
          const imageMetadata = { env: config.config?.Env ?? [], user: config.config?.User ?? '' };
          await writeFile(join(dir, 'metadata.json'), JSON.stringify(imageMetadata));
        } else {
          const writer = await TarFileWriter.create(join(dir, 'image.tar'));
          try {
            const index = {
              schemaVersion: 2,
              mediaType: MEDIA_TYPES.ociIndex,
              manifests: [
                {
                  mediaType: manifestMediaType || manifest.mediaType || MEDIA_TYPES.ociManifest,
                  digest: manifestDigest,
                  size: manifestBody.length,
                  annotations: { 'org.opencontainers.image.ref.name': tag },
                },
              ],
            };
            await writer.file('oci-layout', ...sized(JSON.stringify({ imageLayoutVersion: '1.0.0' })));
            await writer.file('index.json', ...sized(JSON.stringify(index)));
            await writer.directory('blobs');
            await writer.directory('blobs/sha256');
            await writer.file(blobPath(manifestDigest), manifestBody.length, manifestBody);
            await writer.file(blobPath(manifest.config.digest), configBlob.length, configBlob);
            const written = new Set([manifestDigest, manifest.config.digest]);
            for (const layer of manifest.layers) {
              if (written.has(layer.digest)) continue;
              written.add(layer.digest);
              await writer.file(blobPath(layer.digest), layer.size, await c.getBlob(e.repo, layer.digest, e.credentials, opts));
            }
            await writer.close();
          } catch (err) {
            await writer.abort();
            throw err;
          }
        }
      }),
    );
    return { version, metadata };
  }

  async function put(req: OutRequest, dir: string, ctx: ResourceContext): Promise<ResourceResult> {
    const src = parseRegistryImageSource(req.source);
    warnUnsupported(src, ctx);
    const params = new Fields(req.params, 'params');
    const imageParam = params.string('image');
    if (!imageParam) throw new ResourceError('invalid params.image: required (the path of an OCI image tarball in the inputs)');
    const imagePath = resolve(dir, imageParam);
    if (relative(dir, imagePath).startsWith('..')) throw new ResourceError(`invalid params.image: '${imageParam}' is outside the inputs`);
    if (!existsSync(imagePath)) throw new ResourceError(`params.image: ${imageParam} does not exist`);

    const tags = [src.tag ?? 'latest', ...(await additionalTags(params, dir))];
    for (const t of tags) {
      const p = tagProblem(t);
      if (p) throw new ResourceError(`invalid tag '${t}': ${p}`);
    }
    const origin = endpoints(src).at(-1) as Endpoint; // never push to a mirror
    const work = await mkdtemp(join(tmpdir(), 'jetway-registry-image-out-'));
    try {
      await extract({ file: imagePath, cwd: work, strict: true });
      const pushed = await userErrors(() => pushLayout(client(), origin, work, tags, ctx));
      return {
        version: { tag: tags[0] as string, digest: pushed },
        metadata: [
          { name: 'repository', value: src.repository },
          { name: 'tags', value: tags.join(' ') },
        ],
      };
    } finally {
      await rm(work, { recursive: true, force: true });
    }
  }

  return { name: 'registry-image', check, in: get, out: put };
}

async function additionalTags(params: Fields, dir: string): Promise<string[]> {
  const raw = params.raw('additional_tags');
  if (raw === undefined) return [];
  if (Array.isArray(raw)) return params.stringList('additional_tags') ?? [];
  const path = params.string('additional_tags') as string;
  const file = resolve(dir, path);
  if (relative(dir, file).startsWith('..')) throw new ResourceError(`invalid params.additional_tags: '${path}' is outside the inputs`);
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch {
    throw new ResourceError(`params.additional_tags: cannot read ${path}`);
  }
  return text.split(/\s+/).filter((t) => t !== '');
}

/** Pushes an unpacked OCI layout (or `docker save` output) and tags it; returns the top manifest's digest. */
async function pushLayout(client: ImageRegistry, e: Endpoint, root: string, tags: string[], ctx: ResourceContext): Promise<string> {
  const opts = { signal: ctx.signal };
  const blobFile = (digest: string): string => join(root, blobPath(digest));
  const pushBlob = async (d: Descriptor): Promise<void> => {
    const file = blobFile(d.digest);
    if (!existsSync(file)) throw new ResourceError(`the image tarball lacks blob ${d.digest}`);
    const r = await client.pushBlob(e.repo, { path: file }, e.credentials, { digest: d.digest, signal: ctx.signal });
    ctx.stderr.write(`${r.uploaded ? 'pushed' : 'already there:'} ${d.digest} (${r.size} bytes)\n`);
  };
  const pushManifestByDescriptor = async (d: Descriptor, reference: string): Promise<{ body: Buffer; mediaType: string }> => {
    const body = await readFile(blobFile(d.digest));
    const parsed = parseManifest(body, d.mediaType);
    if (parsed.kind === 'index') {
      for (const child of parsed.index.manifests) await pushManifestByDescriptor(child, child.digest);
    } else {
      await pushBlob(parsed.manifest.config);
      for (const layer of parsed.manifest.layers) await pushBlob(layer);
    }
    const mediaType = d.mediaType || (parsed.kind === 'index' ? MEDIA_TYPES.ociIndex : (parsed.manifest.mediaType ?? MEDIA_TYPES.ociManifest));
    await client.pushManifest({ ...e.repo, reference }, body, mediaType, e.credentials, opts);
    return { body, mediaType };
  };

  let top: { body: Buffer; mediaType: string };
  if (existsSync(join(root, 'oci-layout')) && existsSync(join(root, 'index.json'))) {
    const index = parseManifest(await readFile(join(root, 'index.json')), MEDIA_TYPES.ociIndex);
    if (index.kind !== 'index' || index.index.manifests.length === 0) throw new ResourceError('the OCI layout in the image tarball has no manifests');
    const entries = index.index.manifests;
    if (entries.length > 1 && !entries.every((d) => d.platform)) {
      throw new ResourceError(`the OCI layout in the image tarball has ${entries.length} images; push one at a time`);
    }
    if (entries.length === 1) {
      top = await pushManifestByDescriptor(entries[0] as Descriptor, tags[0] as string);
    } else {
      // several platform images side by side: push them and an index of them
      for (const d of entries) await pushManifestByDescriptor(d, d.digest);
      const body = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: MEDIA_TYPES.ociIndex, manifests: entries.map(({ annotations: _a, ...d }) => d) }));
      top = { body, mediaType: MEDIA_TYPES.ociIndex };
      await client.pushManifest({ ...e.repo, reference: tags[0] as string }, body, top.mediaType, e.credentials, opts);
    }
  } else if (existsSync(join(root, 'manifest.json'))) {
    top = await pushDockerSave(client, e, root, tags[0] as string, ctx);
  } else {
    throw new ResourceError('the image tarball is neither an OCI image layout (oci-layout, index.json) nor `docker save` output (manifest.json)');
  }
  for (const t of tags.slice(1)) await client.pushManifest({ ...e.repo, reference: t }, top.body, top.mediaType, e.credentials, opts);
  return sha256Digest(top.body);
}

/** `docker save` output: manifest.json [{Config, Layers}] with uncompressed (or gzipped) layer tars. */
async function pushDockerSave(client: ImageRegistry, e: Endpoint, root: string, tag: string, ctx: ResourceContext): Promise<{ body: Buffer; mediaType: string }> {
  const list = JSON.parse(await readFile(join(root, 'manifest.json'), 'utf8')) as unknown;
  const first = Array.isArray(list) ? (list[0] as unknown) : undefined;
  if (!isObject(first) || typeof first.Config !== 'string' || !Array.isArray(first.Layers)) {
    throw new ResourceError('manifest.json of the `docker save` tarball has no image');
  }
  if (list instanceof Array && list.length > 1) throw new ResourceError('the `docker save` tarball holds several images; save one');
  const inRoot = (p: string): string => {
    const full = resolve(root, p);
    if (relative(root, full).startsWith('..')) throw new ResourceError(`manifest.json names a file outside the tarball: ${p}`);
    return full;
  };
  const push = async (file: string, mediaType: string): Promise<Descriptor> => {
    const r = await client.pushBlob(e.repo, { path: file }, e.credentials, { signal: ctx.signal });
    ctx.stderr.write(`${r.uploaded ? 'pushed' : 'already there:'} ${r.digest} (${r.size} bytes)\n`);
    return { mediaType, digest: r.digest, size: r.size };
  };
  const config = await push(inRoot(first.Config), MEDIA_TYPES.ociConfig);
  const layers: Descriptor[] = [];
  for (const layer of first.Layers) {
    if (typeof layer !== 'string') throw new ResourceError('manifest.json lists a layer that is not a path');
    const file = inRoot(layer);
    const head = await readFile(file).then((b) => b.subarray(0, 2));
    layers.push(await push(file, head[0] === 0x1f && head[1] === 0x8b ? MEDIA_TYPES.ociLayerGzip : MEDIA_TYPES.ociLayer));
  }
  const manifest: ImageManifest = { schemaVersion: 2, mediaType: MEDIA_TYPES.ociManifest, config, layers };
  const body = Buffer.from(JSON.stringify(manifest));
  await client.pushManifest({ ...e.repo, reference: tag }, body, MEDIA_TYPES.ociManifest, e.credentials, { signal: ctx.signal });
  return { body, mediaType: MEDIA_TYPES.ociManifest };
}

function blobPath(digest: string): string {
  const [algorithm, hex] = digest.split(':');
  if (!algorithm || !hex || !/^[a-f0-9]+$/.test(hex)) throw new ResourceError(`not a digest: ${digest}`);
  return `blobs/${algorithm}/${hex}`;
}

function sized(text: string): [number, Buffer] {
  const b = Buffer.from(text);
  return [b.length, b];
}

async function readAll(stream: AsyncIterable<unknown>): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

export const registryImageResource: ResourceTypeImpl = createRegistryImageResource();
export default registryImageResource;
