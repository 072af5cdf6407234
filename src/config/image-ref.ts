// Image references in registry-image sources (docs/image-features.md, decision 9): the repository names the image only,
// the tag is a string. Both mistakes are easy to make in YAML and only show at pull time.
import type { ConfigPath } from './steps.ts';
import { error, type Finding } from './diagnostic.ts';
import { isVarRef, VAR_PATTERN } from './var-syntax.ts';
import { repositoryProblem as imageRepositoryProblem, tagProblem as imageTagProblem } from '../images/reference.ts';

/**
 * The problem with a repository value, or undefined (the rules of src/images/reference.ts). Vars
 * inside it (a `((registry))` host) could be anything: they are checked as a neutral stand-in and
 * shown as written.
 */
export function repositoryProblem(repository: string): string | undefined {
  if (isVarRef(repository)) return undefined;
  const vars: string[] = [];
  const text = repository.replace(VAR_PATTERN, (v) => `jetwayvar${vars.push(v) - 1}x`);
  const problem = imageRepositoryProblem(text);
  return problem?.replace(/jetwayvar(\d+)x/g, (_, i: string) => vars[Number(i)] ?? '');
}

/** The problem with a tag value, or undefined. */
export function tagProblem(tag: unknown): string | undefined {
  if (typeof tag === 'string' && tag.includes('((')) return undefined;
  return imageTagProblem(tag);
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
