// Image references (docs/image-features.md, decision 9). Pure: no I/O.
//
// A registry-image `repository` names an image without tag or digest: `alpine`, `library/alpine`,
// `ghcr.io/org/app`, `127.0.0.1:5000/team/app`, `localhost:5000/x`. The pod image built from it is
// `repository@digest` when a digest is known (the tag is dropped), else `repository:tag`, else
// `repository` (the kubelet reads that as `latest`). The repository is always kept as written
// (no `docker.io/library/` added, a host with a port untouched); only the registry client needs
// the parsed form (`parseRepository`): registry host, and the path inside it.

/** Where Docker Hub's registry API lives; `docker.io` and `index.docker.io` are aliases of it. */
export const DOCKER_HUB_REGISTRY = 'registry-1.docker.io';
const DOCKER_HUB_ALIASES = new Set(['docker.io', 'index.docker.io', DOCKER_HUB_REGISTRY]);

// The grammar of github.com/distribution/reference, which every registry and the kubelet follow.
const PATH_COMPONENT = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$/;
const HOST = /^(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?(?:\.[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)*|\[[0-9a-fA-F:.]+\])(?::[0-9]{1,5})?$/;
const TAG = /^[\w][\w.-]{0,127}$/;
const DIGEST = /^[a-z0-9]+(?:[.+_-][a-z0-9]+)*:[a-zA-Z0-9=_-]{32,}$/;
const SHA256_DIGEST = /^sha256:[a-f0-9]{64}$/;

/** A repository split for the registry API. */
export interface ParsedRepository {
  /** The repository as written. */
  repository: string;
  /** Registry host (with port when written): `registry-1.docker.io`, `127.0.0.1:5000`. */
  registry: string;
  /** Path inside the registry: `library/alpine`, `team/app`. */
  path: string;
}

/** A malformed image reference; the message says what is wrong and how to write it. */
export class ImageReferenceError extends Error {
  override name = 'ImageReferenceError';
}

export function isDigest(value: string): boolean {
  return DIGEST.test(value);
}

export function isSha256Digest(value: string): boolean {
  return SHA256_DIGEST.test(value);
}

export function isTag(value: string): boolean {
  return TAG.test(value);
}

/** Whether a registry host is a loopback address (`localhost`, `127.x.x.x`, `[::1]`), port aside. */
export function isLoopbackRegistry(registry: string): boolean {
  const host = registry.startsWith('[') ? registry.slice(1, registry.indexOf(']')) : registry.split(':')[0] ?? '';
  return host === 'localhost' || host === '::1' || /^127(?:\.\d{1,3}){3}$/.test(host);
}

/** The problem with a repository value (decision 9), or undefined when it is fine. */
export function repositoryProblem(repository: unknown): string | undefined {
  if (typeof repository !== 'string') {
    return `repository must be a string, got ${describe(repository)}`;
  }
  if (repository === '') return 'repository must not be empty';
  if (/\s/.test(repository)) return `repository '${repository}' contains white space`;
  const at = repository.indexOf('@');
  if (at >= 0) {
    const name = repository.slice(0, at);
    return `repository '${repository}' carries a digest; write repository: ${name} and pin the digest in the version ({digest: ${repository.slice(at + 1)}})`;
  }
  const lastSlash = repository.lastIndexOf('/');
  const colon = repository.indexOf(':', lastSlash + 1);
  if (colon >= 0) {
    const name = repository.slice(0, colon);
    const tag = repository.slice(colon + 1);
    return `repository '${repository}' carries a tag; write repository: ${name} and tag: "${tag}"`;
  }
  const parts = repository.split('/');
  const first = parts[0] ?? '';
  const hasHost = parts.length > 1 && isHostComponent(first);
  if (hasHost && !HOST.test(first)) return `repository '${repository}' has a malformed registry host '${first}'`;
  const path = hasHost ? parts.slice(1) : parts;
  for (const component of path) {
    if (component === '') return `repository '${repository}' has an empty path component (a doubled or trailing '/')`;
    if (!PATH_COMPONENT.test(component)) {
      const lower = component.toLowerCase();
      const hint = lower !== component && PATH_COMPONENT.test(lower) ? `; repository names are lowercase: ${repository.replace(component, lower)}` : '';
      return `repository '${repository}' has an invalid path component '${component}' (lowercase letters, digits and . _ - separators only)${hint}`;
    }
  }
  if (repository.length > 255) return `repository '${repository.slice(0, 40)}…' is longer than 255 characters`;
  return undefined;
}

/** The problem with a tag value, or undefined. YAML `tag: 3.10` is the number 3.1: refused. */
export function tagProblem(tag: unknown): string | undefined {
  if (typeof tag !== 'string') {
    return `tag must be a string, got ${describe(tag)}; quote it in YAML: tag: "${String(tag)}" (YAML reads 3.10 as the number 3.1)`;
  }
  if (!TAG.test(tag)) {
    return `tag '${tag}' is not a valid tag (up to 128 letters, digits, '_', '.' and '-', not starting with '.' or '-')`;
  }
  return undefined;
}

/** The problem with a digest value, or undefined. */
export function digestProblem(digest: unknown): string | undefined {
  if (typeof digest !== 'string') return `digest must be a string, got ${describe(digest)}`;
  if (!DIGEST.test(digest)) return `digest '${digest}' is not a digest (expected algorithm:hex, e.g. sha256:<64 hex digits>)`;
  return undefined;
}

/** Parses a repository (see the file comment). Throws ImageReferenceError when malformed. */
export function parseRepository(repository: string): ParsedRepository {
  const problem = repositoryProblem(repository);
  if (problem) throw new ImageReferenceError(problem);
  const parts = repository.split('/');
  const first = parts[0] ?? '';
  if (parts.length > 1 && isHostComponent(first)) {
    const registry = DOCKER_HUB_ALIASES.has(first) ? DOCKER_HUB_REGISTRY : first;
    const rest = parts.slice(1);
    const path = registry === DOCKER_HUB_REGISTRY && rest.length === 1 ? `library/${rest[0]}` : rest.join('/');
    return { repository, registry, path };
  }
  const path = parts.length === 1 ? `library/${repository}` : repository;
  return { repository, registry: DOCKER_HUB_REGISTRY, path };
}

/** What a pod image reference is built from: a registry-image source and (maybe) its version. */
export interface ImageReferenceInput {
  repository: string;
  tag?: unknown;
  digest?: unknown;
}

/**
 * The image reference a pod runs (decision 9): `repository@digest` when a digest is known (the
 * tag is dropped), else `repository:tag`, else `repository`. The repository is kept as written.
 * Throws ImageReferenceError (with a hint) for a repository carrying a tag or digest, a non-string
 * or malformed tag, or a malformed digest. An empty tag or digest counts as absent.
 */
export function podImageReference(input: ImageReferenceInput): string {
  const problem = repositoryProblem(input.repository);
  if (problem) throw new ImageReferenceError(problem);
  if (input.tag !== undefined && input.tag !== '') {
    const p = tagProblem(input.tag);
    if (p) throw new ImageReferenceError(p);
  }
  if (input.digest !== undefined && input.digest !== '') {
    const p = digestProblem(input.digest);
    if (p) throw new ImageReferenceError(p);
    return `${input.repository}@${input.digest as string}`;
  }
  if (typeof input.tag === 'string' && input.tag !== '') return `${input.repository}:${input.tag}`;
  return input.repository;
}

/** One problem with a registry-image source: the field (path inside the source) and the message. */
export interface ImageSourceProblem {
  path: string[];
  message: string;
}

/**
 * Checks a registry-image `source` (of a resource, resource type or image_resource) after
 * interpolation: `repository` required and well formed, `tag` a valid string, `username` and
 * `password` strings given together, `insecure` a boolean. Returns every problem found.
 */
export function checkImageSource(source: unknown): ImageSourceProblem[] {
  if (typeof source !== 'object' || source === null || Array.isArray(source)) {
    return [{ path: [], message: `a registry-image source must be a map, got ${describe(source)}` }];
  }
  const s = source as Record<string, unknown>;
  const out: ImageSourceProblem[] = [];
  if (s.repository === undefined) out.push({ path: ['repository'], message: 'repository is required' });
  else {
    const p = repositoryProblem(s.repository);
    if (p) out.push({ path: ['repository'], message: p });
  }
  if (s.tag !== undefined) {
    const p = tagProblem(s.tag);
    if (p) out.push({ path: ['tag'], message: p });
  }
  for (const key of ['username', 'password'] as const) {
    if (s[key] !== undefined && typeof s[key] !== 'string') {
      out.push({ path: [key], message: `${key} must be a string, got ${key === 'password' ? 'a ' + typeof s[key] : describe(s[key])}` });
    }
  }
  if ((s.username === undefined) !== (s.password === undefined)) {
    out.push({ path: [s.username === undefined ? 'username' : 'password'], message: 'username and password go together; give both or neither' });
  }
  if (s.insecure !== undefined && typeof s.insecure !== 'boolean') {
    out.push({ path: ['insecure'], message: `insecure must be a boolean, got ${describe(s.insecure)}` });
  }
  return out;
}

/** A first path component names a registry host when it has a '.' or ':' or is `localhost`. */
function isHostComponent(component: string): boolean {
  return component.includes('.') || component.includes(':') || component === 'localhost' || component.startsWith('[');
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'a map';
  return `a ${typeof value} (${JSON.stringify(value)})`;
}
