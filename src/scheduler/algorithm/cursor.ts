import type { BuildCursor } from './types.ts';

/** The sort key of a build: a rerun sorts with its original. */
export function buildKey(build: BuildCursor): number {
  return build.rerunOf ?? build.id;
}

/** `newer(x, c)` of docs/concourse-semantics.md §4.3. When c is an original build, its reruns are neither newer nor older. */
export function isNewerBuild(x: BuildCursor, c: BuildCursor): boolean {
  if (c.rerunOf !== null) {
    return buildKey(x) > c.rerunOf || (x.rerunOf === c.rerunOf && x.id > c.id);
  }
  return buildKey(x) > c.id;
}

/** `older(x, c)` of §4.3. */
export function isOlderBuild(x: BuildCursor, c: BuildCursor): boolean {
  if (c.rerunOf !== null) {
    return buildKey(x) < c.rerunOf || x.id === c.rerunOf || (x.rerunOf === c.rerunOf && x.id < c.id);
  }
  return buildKey(x) < c.id;
}

/** Newest first: `(coalesce(rerun_of, id) DESC, id DESC)`. */
export function compareBuildsNewestFirst(a: BuildCursor, b: BuildCursor): number {
  return buildKey(b) - buildKey(a) || b.id - a.id;
}

/** Oldest first: `(coalesce(rerun_of, id) ASC, id ASC)`. */
export function compareBuildsOldestFirst(a: BuildCursor, b: BuildCursor): number {
  return -compareBuildsNewestFirst(a, b);
}
