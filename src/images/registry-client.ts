// An OCI distribution (registry v2 API) client on Node's fetch.
//
// - Manifest requests send the OCI and Docker manifest and index media types (MANIFEST_ACCEPT).
// - `resolveDigest` is ONE manifest request: a HEAD, and a GET only when the registry's answer
//   carries no `Docker-Content-Digest` (the digest is then the SHA-256 of the body).
// - Auth: anonymous first; on a 401 the `WWW-Authenticate` challenge decides: Basic (the
//   credentials are then sent up front to that registry from then on) or Bearer (a token from the
//   challenge's realm for service + scope, with the credentials as Basic on the token request if
//   given; tokens are cached per registry + user + scope until they expire, and the realm is
//   remembered, so a warm resolve is one request and a cold one on a known registry two).
// - Scheme: https, except `insecure: true` and loopback registries (localhost, 127.0.0.0/8, [::1])
//   which are spoken to over plain http: a registry on the machine itself is a test or a
//   port-forward, which in practice never has a certificate (the Docker daemon makes the same
//   exception). Custom CA certificates (`ca_certs`) are not supported yet.
// - Redirects (blob downloads often redirect to storage) are followed by hand: the Authorization
//   header is only ever sent to the registry's own origin.
// - Errors (RegistryError) name the registry, the repository, the request, the HTTP status and the
//   registry's own error message; a password or token never appears in one.
import { createHash } from 'node:crypto';
import { open, stat } from 'node:fs/promises';
import { Readable, Transform, type TransformCallback } from 'node:stream';
import { isLoopbackRegistry, isSha256Digest, parseRepository } from './reference.ts';
import { MANIFEST_ACCEPT, sha256Digest } from './oci.ts';

export interface RegistryCredentials {
  username: string;
  password: string;
}

/** A repository inside a registry. */
export interface RepositoryRef {
  /** Registry host, with port if any: `registry-1.docker.io`, `127.0.0.1:5000`. */
  registry: string;
  /** Path inside the registry: `library/alpine`. */
  path: string;
  /** Speak plain http to this registry. */
  insecure?: boolean;
}

/** A manifest in a repository, by tag or digest. */
export interface ImageRef extends RepositoryRef {
  /** A tag or a digest. */
  reference: string;
}

/** `ghcr.io/org/app` (+ insecure) → a RepositoryRef. Throws ImageReferenceError when malformed. */
export function repositoryRef(repository: string, options: { insecure?: boolean } = {}): RepositoryRef {
  const { registry, path } = parseRepository(repository);
  return { registry, path, ...(options.insecure ? { insecure: true } : {}) };
}

export interface ResolvedDigest {
  digest: string;
  /** The manifest's media type as the registry reports it (an index or an image manifest). */
  mediaType: string;
  size?: number;
}

export interface FetchedManifest {
  digest: string;
  mediaType: string;
  body: Buffer;
}

export interface PushedBlob {
  digest: string;
  size: number;
  /** False when the registry already had it. */
  uploaded: boolean;
}

export type BlobSource = Uint8Array | { path: string };

export interface PushBlobOptions {
  /** The digest when already known (saves hashing a file twice). */
  digest?: string;
  /** Upload in PATCH chunks of this many bytes when the blob is larger; default: one PUT up to 64 MiB, chunks of 16 MiB above. */
  chunkSize?: number;
  signal?: AbortSignal;
}

export interface RequestOptions {
  signal?: AbortSignal;
}

/** What the web node needs to resolve a digest (docs/image-features.md, decision 2c/12): one method, easy to adapt. */
export interface DigestResolver {
  resolveDigest(ref: ImageRef, credentials?: RegistryCredentials, options?: RequestOptions): Promise<ResolvedDigest>;
}

/** Everything the registry-image resource type needs from a registry. */
export interface ImageRegistry extends DigestResolver {
  getManifest(ref: ImageRef, credentials?: RegistryCredentials, options?: RequestOptions): Promise<FetchedManifest>;
  /** The blob as a stream that fails (at its end) when the content does not hash to `digest`. */
  getBlob(repo: RepositoryRef, digest: string, credentials?: RegistryCredentials, options?: RequestOptions): Promise<Readable>;
  blobExists(repo: RepositoryRef, digest: string, credentials?: RegistryCredentials, options?: RequestOptions): Promise<boolean>;
  listTags(repo: RepositoryRef, credentials?: RegistryCredentials, options?: RequestOptions): Promise<string[]>;
  pushBlob(repo: RepositoryRef, data: BlobSource, credentials?: RegistryCredentials, options?: PushBlobOptions): Promise<PushedBlob>;
  /** Pushes a manifest under a tag or its digest; returns its digest. */
  pushManifest(ref: ImageRef, body: Uint8Array, mediaType: string, credentials?: RegistryCredentials, options?: RequestOptions): Promise<string>;
}

/** A failed registry request. The message never carries a password or token. */
export class RegistryError extends Error {
  override name = 'RegistryError';
  readonly registry: string;
  readonly repository: string;
  readonly status: number | undefined;
  /** The registry's error code (`MANIFEST_UNKNOWN`, `UNAUTHORIZED`, ...), when it gave one. */
  readonly code: string | undefined;
  constructor(message: string, details: { registry: string; repository: string; status?: number; code?: string; cause?: unknown }) {
    super(message, details.cause !== undefined ? { cause: details.cause } : undefined);
    this.registry = details.registry;
    this.repository = details.repository;
    this.status = details.status;
    this.code = details.code;
  }
}

export type FetchLike = (input: string | URL, init?: RequestInit) => Promise<Response>;

export interface RegistryClientOptions {
  /** Defaults to the global fetch. */
  fetch?: FetchLike;
  /** Per request, headers and small bodies; blob streams are bounded only by the caller's signal. Default 30 s. */
  timeoutMs?: number;
  userAgent?: string;
}

interface Challenge {
  scheme: 'basic' | 'bearer';
  realm?: string;
  service?: string;
  scope?: string;
}

interface CachedToken {
  token: string;
  expiresAt: number;
}

interface SendInit {
  method: string;
  headers?: Record<string, string>;
  body?: Uint8Array;
  /** `pull` or `pull,push`: the scope a Bearer token is asked for. */
  actions: 'pull' | 'pull,push';
  /** Describes the request in errors: `HEAD manifest latest`. */
  what: string;
  signal?: AbortSignal;
  /** No overall timeout (a blob stream). */
  streaming?: boolean;
}

const DEFAULT_TIMEOUT_MS = 30_000;
const MONOLITHIC_LIMIT = 64 * 1024 * 1024;
const DEFAULT_CHUNK = 16 * 1024 * 1024;

export class RegistryClient implements ImageRegistry {
  private readonly fetchImpl: FetchLike;
  private readonly timeoutMs: number;
  private readonly userAgent: string;
  private readonly challenges = new Map<string, Challenge>();
  private readonly tokens = new Map<string, CachedToken>();

  constructor(options: RegistryClientOptions = {}) {
    this.fetchImpl = options.fetch ?? ((input, init) => fetch(input, init));
    this.timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    this.userAgent = options.userAgent ?? 'jetway';
  }

  async resolveDigest(ref: ImageRef, credentials?: RegistryCredentials, options: RequestOptions = {}): Promise<ResolvedDigest> {
    const path = `/manifests/${encodeURIComponent(ref.reference)}`;
    const headers = { Accept: MANIFEST_ACCEPT };
    const head = await this.send(ref, path, { method: 'HEAD', headers, actions: 'pull', what: `HEAD manifest ${ref.reference}`, ...sig(options) }, credentials);
    const digest = head.headers.get('docker-content-digest');
    if (head.ok && digest) {
      const size = Number(head.headers.get('content-length'));
      return { digest, mediaType: mediaTypeOf(head), ...(Number.isFinite(size) && size > 0 ? { size } : {}) };
    }
    // No digest header (or a registry that refuses HEAD): GET and hash the body.
    if (!head.ok && head.status !== 405 && head.status !== 400) {
      throw await this.failure(ref, head, `HEAD manifest ${ref.reference}`, credentials);
    }
    const manifest = await this.getManifest(ref, credentials, options);
    return { digest: manifest.digest, mediaType: manifest.mediaType, size: manifest.body.length };
  }

  async getManifest(ref: ImageRef, credentials?: RegistryCredentials, options: RequestOptions = {}): Promise<FetchedManifest> {
    const what = `GET manifest ${ref.reference}`;
    const res = await this.send(ref, `/manifests/${encodeURIComponent(ref.reference)}`, { method: 'GET', headers: { Accept: MANIFEST_ACCEPT }, actions: 'pull', what, ...sig(options) }, credentials);
    if (!res.ok) throw await this.failure(ref, res, what, credentials);
    const body = Buffer.from(await res.arrayBuffer());
    const computed = sha256Digest(body);
    if (isSha256Digest(ref.reference) && computed !== ref.reference) {
      throw this.error(ref, `${what}: the manifest's content hashes to ${computed}, not the digest asked for`, res.status);
    }
    const header = res.headers.get('docker-content-digest');
    const digest = isSha256Digest(ref.reference) ? ref.reference : header && !header.startsWith('sha256:') ? header : computed;
    return { digest, mediaType: mediaTypeOf(res), body };
  }

  async getBlob(repo: RepositoryRef, digest: string, credentials?: RegistryCredentials, options: RequestOptions = {}): Promise<Readable> {
    const what = `GET blob ${digest}`;
    const res = await this.send(repo, `/blobs/${digest}`, { method: 'GET', actions: 'pull', what, streaming: true, ...sig(options) }, credentials);
    if (!res.ok) throw await this.failure(repo, res, what, credentials);
    if (!res.body) throw this.error(repo, `${what}: the registry sent no body`, res.status);
    const source = Readable.fromWeb(res.body as import('node:stream/web').ReadableStream<Uint8Array>);
    const verifier = new DigestVerifier(digest, (message) => this.error(repo, `${what}: ${message}`, res.status));
    source.on('error', (err) => verifier.destroy(err));
    return source.pipe(verifier);
  }

  async blobExists(repo: RepositoryRef, digest: string, credentials?: RegistryCredentials, options: RequestOptions = {}): Promise<boolean> {
    const what = `HEAD blob ${digest}`;
    const res = await this.send(repo, `/blobs/${digest}`, { method: 'HEAD', actions: 'pull', what, ...sig(options) }, credentials);
    if (res.ok) return true;
    if (res.status === 404) return false;
    throw await this.failure(repo, res, what, credentials);
  }

  async listTags(repo: RepositoryRef, credentials?: RegistryCredentials, options: RequestOptions = {}): Promise<string[]> {
    const tags: string[] = [];
    let next: string | undefined = `/tags/list?n=1000`;
    for (let page = 0; next !== undefined && page < 1000; page++) {
      const what = 'GET tags';
      const res = await this.send(repo, next, { method: 'GET', headers: { Accept: 'application/json' }, actions: 'pull', what, ...sig(options) }, credentials);
      if (!res.ok) throw await this.failure(repo, res, what, credentials);
      const json = (await res.json()) as { tags?: unknown };
      if (Array.isArray(json.tags)) tags.push(...json.tags.filter((t): t is string => typeof t === 'string'));
      next = nextLink(res.headers.get('link'));
    }
    return tags;
  }

  async pushBlob(repo: RepositoryRef, data: BlobSource, credentials?: RegistryCredentials, options: PushBlobOptions = {}): Promise<PushedBlob> {
    const isFile = !(data instanceof Uint8Array);
    const size = isFile ? (await stat(data.path)).size : data.length;
    const digest = options.digest ?? (isFile ? await hashFile(data.path) : sha256Digest(data));
    if (await this.blobExists(repo, digest, credentials, sig(options))) return { digest, size, uploaded: false };

    const start = await this.send(repo, '/blobs/uploads/', { method: 'POST', actions: 'pull,push', what: 'POST blob upload', ...sig(options) }, credentials);
    if (start.status !== 202) throw await this.failure(repo, start, 'POST blob upload', credentials);
    let location = this.uploadLocation(repo, start);

    const chunkSize = options.chunkSize ?? (size > MONOLITHIC_LIMIT ? DEFAULT_CHUNK : size);
    const what = `PUT blob ${digest}`;
    if (size <= chunkSize) {
      const body = isFile ? await readRange(data.path, 0, size) : data;
      const url = new URL(location);
      url.searchParams.set('digest', digest);
      const res = await this.send(repo, url.toString(), { method: 'PUT', headers: { 'Content-Type': 'application/octet-stream' }, body, actions: 'pull,push', what, ...sig(options) }, credentials);
      if (res.status !== 201) throw await this.failure(repo, res, what, credentials);
      return { digest, size, uploaded: true };
    }
    for (let offset = 0; offset < size; offset += chunkSize) {
      const length = Math.min(chunkSize, size - offset);
      const body = isFile ? await readRange(data.path, offset, length) : data.subarray(offset, offset + length);
      const patchWhat = `PATCH blob ${digest} bytes ${offset}-${offset + length - 1}`;
      const res = await this.send(
        repo,
        location,
        { method: 'PATCH', headers: { 'Content-Type': 'application/octet-stream', 'Content-Range': `${offset}-${offset + length - 1}` }, body, actions: 'pull,push', what: patchWhat, ...sig(options) },
        credentials,
      );
      if (res.status !== 202) throw await this.failure(repo, res, patchWhat, credentials);
      location = this.uploadLocation(repo, res);
    }
    const url = new URL(location);
    url.searchParams.set('digest', digest);
    const res = await this.send(repo, url.toString(), { method: 'PUT', actions: 'pull,push', what, ...sig(options) }, credentials);
    if (res.status !== 201) throw await this.failure(repo, res, what, credentials);
    return { digest, size, uploaded: true };
  }

  async pushManifest(ref: ImageRef, body: Uint8Array, mediaType: string, credentials?: RegistryCredentials, options: RequestOptions = {}): Promise<string> {
    const what = `PUT manifest ${ref.reference}`;
    const res = await this.send(ref, `/manifests/${encodeURIComponent(ref.reference)}`, { method: 'PUT', headers: { 'Content-Type': mediaType }, body, actions: 'pull,push', what, ...sig(options) }, credentials);
    if (res.status !== 201 && res.status !== 200) throw await this.failure(ref, res, what, credentials);
    await res.arrayBuffer().catch(() => undefined);
    return sha256Digest(body);
  }

  // --- plumbing ---

  private baseUrl(repo: RepositoryRef): string {
    const scheme = repo.insecure || isLoopbackRegistry(repo.registry) ? 'http' : 'https';
    return `${scheme}://${repo.registry}/v2/${repo.path}`;
  }

  private uploadLocation(repo: RepositoryRef, res: Response): string {
    const location = res.headers.get('location');
    if (!location) throw this.error(repo, 'blob upload: the registry gave no upload location', res.status);
    return new URL(location, this.baseUrl(repo)).toString();
  }

  /**
   * Sends a request to the registry with whatever auth it needs, answering one 401 challenge.
   * `target` is a path below /v2/<repo> or an absolute URL (upload locations).
   */
  private async send(repo: RepositoryRef, target: string, init: SendInit, credentials: RegistryCredentials | undefined): Promise<Response> {
    const url = /^https?:\/\//.test(target) ? target : this.baseUrl(repo) + target;
    const scope = `repository:${repo.path}:${init.actions}`;
    let auth = await this.authorization(repo, scope, credentials, init);
    let res = await this.fetchFollowing(repo, url, init, auth);
    if (res.status !== 401) return res;

    const challenge = parseChallenge(res.headers.get('www-authenticate'));
    if (!challenge) return res;
    this.challenges.set(repo.registry, { scheme: challenge.scheme, ...(challenge.realm ? { realm: challenge.realm } : {}), ...(challenge.service ? { service: challenge.service } : {}) });
    if (challenge.scheme === 'basic') {
      if (!credentials || auth?.startsWith('Basic ')) return res; // nothing else to try
      auth = basic(credentials);
    } else {
      this.tokens.delete(tokenKey(repo.registry, credentials, scope));
      auth = `Bearer ${await this.token(repo, challenge, challenge.scope ?? scope, scope, credentials, init)}`;
    }
    await res.arrayBuffer().catch(() => undefined);
    res = await this.fetchFollowing(repo, url, init, auth);
    return res;
  }

  /** The Authorization header to send up front, from what the registry said before. */
  private async authorization(repo: RepositoryRef, scope: string, credentials: RegistryCredentials | undefined, init: SendInit): Promise<string | undefined> {
    const known = this.challenges.get(repo.registry);
    if (!known) return undefined;
    if (known.scheme === 'basic') return credentials ? basic(credentials) : undefined;
    const cached = this.tokens.get(tokenKey(repo.registry, credentials, scope));
    if (cached && cached.expiresAt > Date.now()) return `Bearer ${cached.token}`;
    if (!known.realm) return undefined;
    return `Bearer ${await this.token(repo, known, scope, scope, credentials, init)}`;
  }

  private async token(repo: RepositoryRef, challenge: Challenge, scope: string, cacheScope: string, credentials: RegistryCredentials | undefined, init: SendInit): Promise<string> {
    const what = `token request for ${scope}`;
    if (!challenge.realm) throw this.error(repo, `${init.what}: the registry asked for a Bearer token but named no realm`, 401);
    let url: URL;
    try {
      url = new URL(challenge.realm);
    } catch {
      throw this.error(repo, `${init.what}: the registry's token realm '${challenge.realm}' is not a URL`, 401);
    }
    if (challenge.service) url.searchParams.set('service', challenge.service);
    url.searchParams.set('scope', scope);
    const headers: Record<string, string> = { 'User-Agent': this.userAgent, Accept: 'application/json' };
    if (credentials) headers.Authorization = basic(credentials);
    let res: Response;
    try {
      res = await this.fetchImpl(url, { method: 'GET', headers, signal: this.signal(init) });
    } catch (err) {
      throw this.error(repo, `${what} at ${url.host}: ${describeFetchError(err)}`, undefined, undefined, err);
    }
    if (!res.ok) {
      const detail = await errorDetail(res, credentials);
      throw this.error(repo, `${what} at ${url.host}: ${res.status} ${res.statusText}${detail.message ? `: ${detail.message}` : ''}${credentials ? ' (check username and password)' : ''}`, res.status, detail.code);
    }
    const json = (await res.json().catch(() => ({}))) as { token?: unknown; access_token?: unknown; expires_in?: unknown };
    const token = typeof json.token === 'string' ? json.token : typeof json.access_token === 'string' ? json.access_token : undefined;
    if (!token) throw this.error(repo, `${what} at ${url.host}: the answer carries no token`, res.status);
    const expiresIn = typeof json.expires_in === 'number' && json.expires_in > 0 ? json.expires_in : 60;
    this.tokens.set(tokenKey(repo.registry, credentials, cacheScope), { token, expiresAt: Date.now() + Math.max(expiresIn - 10, 1) * 1000 });
    return token;
  }

  private signal(init: SendInit): AbortSignal | undefined {
    const signals = [init.signal, init.streaming ? undefined : AbortSignal.timeout(this.timeoutMs)].filter((s): s is AbortSignal => s !== undefined);
    if (signals.length === 0) return undefined;
    return signals.length === 1 ? signals[0] : AbortSignal.any(signals);
  }

  /** fetch, following redirects by hand so credentials only go to the registry's origin. */
  private async fetchFollowing(repo: RepositoryRef, url: string, init: SendInit, auth: string | undefined): Promise<Response> {
    const origin = new URL(this.baseUrl(repo)).origin;
    let current = url;
    let method = init.method;
    for (let hop = 0; hop < 6; hop++) {
      const headers: Record<string, string> = { 'User-Agent': this.userAgent, ...(init.headers ?? {}) };
      if (auth && new URL(current).origin === origin) headers.Authorization = auth;
      let res: Response;
      try {
        res = await this.fetchImpl(current, {
          method,
          headers,
          ...(init.body !== undefined && method !== 'GET' && method !== 'HEAD' ? { body: init.body } : {}),
          redirect: 'manual',
          signal: this.signal(init),
        });
      } catch (err) {
        throw this.error(repo, `${init.what}: ${describeFetchError(err)}`, undefined, undefined, err);
      }
      const location = res.headers.get('location');
      if (![301, 302, 303, 307, 308].includes(res.status) || !location || (method !== 'GET' && method !== 'HEAD' && res.status !== 307 && res.status !== 308)) return res;
      await res.arrayBuffer().catch(() => undefined);
      current = new URL(location, current).toString();
      if (res.status === 303) method = 'GET';
    }
    throw this.error(repo, `${init.what}: too many redirects`);
  }

  private error(repo: RepositoryRef, message: string, status?: number, code?: string, cause?: unknown): RegistryError {
    return new RegistryError(`registry ${repo.registry}, repository ${repo.path}: ${message}`, {
      registry: repo.registry,
      repository: repo.path,
      ...(status !== undefined ? { status } : {}),
      ...(code !== undefined ? { code } : {}),
      ...(cause !== undefined ? { cause } : {}),
    });
  }

  private async failure(repo: RepositoryRef, res: Response, what: string, credentials: RegistryCredentials | undefined): Promise<RegistryError> {
    const detail = await errorDetail(res, credentials);
    let hint = '';
    if (res.status === 401) hint = credentials ? ' (the credentials were refused)' : ' (the registry wants credentials: set username and password)';
    else if (res.status === 403) hint = ' (the credentials lack access to this repository)';
    else if (res.status === 404 && what.includes('manifest') && !detail.message) hint = ': no such tag or digest, or no such repository';
    return this.error(repo, `${what}: ${res.status} ${res.statusText}${detail.message ? `: ${detail.message}` : ''}${hint}`, res.status, detail.code);
  }
}

/** The one registry client of a process (its token cache is shared by all callers). */
let shared: RegistryClient | undefined;
export function defaultRegistryClient(): RegistryClient {
  shared ??= new RegistryClient();
  return shared;
}

// --- helpers ---

function sig(options: { signal?: AbortSignal }): { signal?: AbortSignal } {
  return options.signal ? { signal: options.signal } : {};
}

function basic(credentials: RegistryCredentials): string {
  return `Basic ${Buffer.from(`${credentials.username}:${credentials.password}`).toString('base64')}`;
}

function tokenKey(registry: string, credentials: RegistryCredentials | undefined, scope: string): string {
  // the password is part of the identity (a changed password must not reuse a token) but kept only as a hash
  const who = credentials ? createHash('sha256').update(`${credentials.username}\0${credentials.password}`).digest('hex') : '';
  return `${registry}\0${who}\0${scope}`;
}

function mediaTypeOf(res: Response): string {
  return (res.headers.get('content-type') ?? '').split(';')[0]?.trim() ?? '';
}

/** Parses `Bearer realm="...",service="...",scope="..."` or `Basic realm="..."`. */
export function parseChallenge(header: string | null): Challenge | undefined {
  if (!header) return undefined;
  const match = /^\s*(\w+)\s*(.*)$/s.exec(header);
  if (!match) return undefined;
  const scheme = match[1]?.toLowerCase();
  if (scheme !== 'basic' && scheme !== 'bearer') return undefined;
  const params: Record<string, string> = {};
  const re = /(\w+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^\s,]*))/g;
  for (let m = re.exec(match[2] ?? ''); m; m = re.exec(match[2] ?? '')) {
    const key = m[1]?.toLowerCase();
    if (key) params[key] = m[2] !== undefined ? m[2].replace(/\\(.)/g, '$1') : (m[3] ?? '');
  }
  return {
    scheme,
    ...(params.realm ? { realm: params.realm } : {}),
    ...(params.service ? { service: params.service } : {}),
    ...(params.scope ? { scope: params.scope } : {}),
  };
}

function nextLink(link: string | null): string | undefined {
  if (!link) return undefined;
  const m = /<([^>]+)>\s*;\s*rel="?next"?/.exec(link);
  if (!m?.[1]) return undefined;
  // the link is /v2/<name>/tags/list?...: keep what follows /tags/
  const at = m[1].indexOf('/tags/list');
  return at >= 0 ? m[1].slice(at) : undefined;
}

async function errorDetail(res: Response, credentials: RegistryCredentials | undefined): Promise<{ message?: string; code?: string }> {
  let text = '';
  try {
    text = await res.text();
  } catch {
    return {};
  }
  let message = text.trim().slice(0, 500);
  let code: string | undefined;
  try {
    const json = JSON.parse(text) as { errors?: { code?: unknown; message?: unknown; detail?: unknown }[]; error?: unknown; message?: unknown };
    if (Array.isArray(json.errors) && json.errors.length > 0) {
      code = typeof json.errors[0]?.code === 'string' ? json.errors[0].code : undefined;
      message = json.errors.map((e) => [e.code, e.message].filter((p) => typeof p === 'string' && p !== '').join(' ')).join('; ');
    } else if (typeof json.message === 'string') message = json.message;
    else if (typeof json.error === 'string') message = json.error;
  } catch {
    // not JSON: keep the text (an HTML error page is cut short)
    if (message.startsWith('<')) message = '';
  }
  return { ...(message ? { message: redact(message, credentials) } : {}), ...(code ? { code } : {}) };
}

/** Removes the password (and its Basic encoding) from text a registry sent back. */
function redact(text: string, credentials: RegistryCredentials | undefined): string {
  if (!credentials || credentials.password === '') return text;
  const secrets = [credentials.password, Buffer.from(`${credentials.username}:${credentials.password}`).toString('base64')];
  return secrets.reduce((t, s) => t.split(s).join('***'), text);
}

function describeFetchError(err: unknown): string {
  if (err instanceof Error) {
    if (err.name === 'TimeoutError') return 'timed out';
    if (err.name === 'AbortError') return 'aborted';
    const cause = (err as { cause?: unknown }).cause;
    const code = cause && typeof cause === 'object' && 'code' in cause ? String((cause as { code: unknown }).code) : undefined;
    const causeMessage = cause instanceof Error ? cause.message : undefined;
    return `request failed: ${code ?? causeMessage ?? err.message}`;
  }
  return 'request failed';
}

async function hashFile(path: string): Promise<string> {
  const hash = createHash('sha256');
  const handle = await open(path, 'r');
  try {
    for await (const chunk of handle.createReadStream()) hash.update(chunk as Buffer);
  } finally {
    await handle.close().catch(() => undefined);
  }
  return `sha256:${hash.digest('hex')}`;
}

async function readRange(path: string, offset: number, length: number): Promise<Buffer> {
  const handle = await open(path, 'r');
  try {
    const buf = Buffer.alloc(length);
    let read = 0;
    while (read < length) {
      const { bytesRead } = await handle.read(buf, read, length - read, offset + read);
      if (bytesRead === 0) throw new Error(`${path} ended early`);
      read += bytesRead;
    }
    return buf;
  } finally {
    await handle.close();
  }
}

/** Passes bytes through and fails at the end when they do not hash to the expected digest. */
export class DigestVerifier extends Transform {
  private readonly hash;
  private readonly algorithm: string;
  constructor(
    private readonly expected: string,
    private readonly makeError: (message: string) => Error = (m) => new Error(m),
  ) {
    super();
    this.algorithm = expected.split(':')[0] ?? '';
    this.hash = createHash(this.algorithm === 'sha512' ? 'sha512' : 'sha256');
  }
  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.hash.update(chunk);
    callback(null, chunk);
  }
  override _flush(callback: TransformCallback): void {
    const actual = `${this.algorithm}:${this.hash.digest('hex')}`;
    if (this.algorithm !== 'sha256' && this.algorithm !== 'sha512') return callback();
    callback(actual === this.expected ? null : this.makeError(`the content hashes to ${actual}, not ${this.expected}`));
  }
}
