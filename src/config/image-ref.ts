// Image references in registry-image sources (decision 9): the repository names the image only,
// the tag is a string. Both mistakes are easy to make in YAML and only show at pull time.
import type { ConfigPath } from './steps.ts';
import { error, type Finding } from './diagnostic.ts';
import { isVarRef, VAR_PATTERN } from './var-syntax.ts';

/** The problem with a repository value, or undefined. A registry host with a port is fine. */
export function repositoryProblem(repository: string): string | undefined {
  if (isVarRef(repository)) return undefined;
  // vars inside (a `((registry))` host) could be anything: check the rest with a neutral stand-in
  const text = repository.replace(VAR_PATTERN, 'var');
  const at = text.indexOf('@');
  if (at >= 0) {
    const name = repository.slice(0, repository.indexOf('@'));
    return `repository '${repository}' carries a digest; write repository: ${name} and pin the digest in the version ({digest: ${text.slice(at + 1)}})`;
  }
  const lastSlash = text.lastIndexOf('/');
  const colon = text.indexOf(':', lastSlash + 1);
  if (colon >= 0) {
    const tag = text.slice(colon + 1);
    const name = repository.slice(0, repository.length - tag.length - 1);
    return `repository '${repository}' carries a tag; write repository: ${name} and tag: "${tag}"`;
  }
  return undefined;
}

/** The problem with a tag value, or undefined. */
export function tagProblem(tag: unknown): string | undefined {
  if (typeof tag === 'string') return undefined;
  const kind = tag === null ? 'null' : Array.isArray(tag) ? 'a list' : `a ${typeof tag}`;
  return `tag must be a string, got ${kind} (${JSON.stringify(tag)}); quote it in YAML: tag: "${String(tag)}" (YAML reads 3.10 as the number 3.1)`;
}

/** Checks a registry-image `source` (of a resource, resource type or image_resource) at `at`. */
export function checkImageSource(source: unknown, at: ConfigPath): Finding[] {
  if (typeof source !== 'object' || source === null || Array.isArray(source)) return [];
  const s = source as Record<string, unknown>;
  const out: Finding[] = [];
  if (s.repository !== undefined) {
    if (typeof s.repository !== 'string') out.push(error([...at, 'repository'], 'repository must be a string'));
    else {
      const p = repositoryProblem(s.repository);
      if (p) out.push(error([...at, 'repository'], p));
    }
  }
  if (s.tag !== undefined) {
    const p = tagProblem(s.tag);
    if (p) out.push(error([...at, 'tag'], p));
  }
  return out;
}
