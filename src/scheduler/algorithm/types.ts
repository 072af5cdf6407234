// Types shared by the input-resolution algorithm (design reference §4.3) and its stores.

/** A resource version as stored: a flat string map, e.g. `{"ver": "1.2.3"}`. */
import type { Version } from '../../model/version.ts';


/** A version of a resource together with its digest (sha256 of the canonical JSON). */
export interface ResolvedVersion {
  digest: string;
  version: Version;
}

/** One (resource, version digest) pair, as listed by a build's successful outputs. */
export interface AlgorithmVersion {
  resourceId: number;
  digest: string;
}

/**
 * A position in a job's build history: a build id and, for a rerun, the id of the original
 * build. Builds are ordered by `(coalesce(rerunOf, id), id)`.
 */
export interface BuildCursor {
  id: number;
  rerunOf: number | null;
}

/**
 * Containment constraints on a build's successful outputs: resource id (as a decimal
 * string, like the JSONB keys of `successful_build_outputs.outputs`) -> digests that must all be
 * present in the build's list for that resource.
 */
export type OutputConstraints = Record<string, string[]>;

/** One get-input of the job being scheduled. */
export interface AlgorithmInput {
  name: string;
  resourceId: number;
  /** Ids of the jobs in `passed:`. Empty when the input has no passed constraint. */
  passed: Set<number>;
  useEvery: boolean;
  /** The step's `version: {...}` or the resource pin. */
  pinnedVersion?: Version;
  trigger: boolean;
}

export interface ResolvedInput {
  resourceId: number;
  version: Version;
  versionDigest: string;
  firstOccurrence: boolean;
  /** Builds of passed jobs that vouched for the version (become next_build_pipes). */
  passedBuildIds: number[];
  hasNext: boolean;
}

export interface UnresolvedInput {
  resolveError: string;
}

export type InputResult = ResolvedInput | UnresolvedInput;

export function isResolveError(result: InputResult): result is UnresolvedInput {
  return 'resolveError' in result;
}

export interface ComputeResult {
  /** Every input resolved. */
  ok: boolean;
  /** Some `every` input has further versions / unused builds: schedule again. */
  hasNext: boolean;
  mapping: Record<string, InputResult>;
}

/**
 * Read access the algorithm needs, one method per data-access function of §4.3. "Versions of a
 * resource" always means the versions in the resource's *current* scope; a resource without a
 * scope has none.
 */
export interface VersionsStore {
  /** `latest(R)`: the enabled version with the highest check_order. */
  latestVersion(resourceId: number): Promise<ResolvedVersion | undefined>;
  /**
   * `usedMaxCheckOrder(J, R)`: the max check_order over versions of R for which some build of J
   * (any status) has an input row (any input name). Undefined when J never used R.
   */
  usedMaxCheckOrder(jobId: number, resourceId: number): Promise<number | undefined>;
  /** Enabled versions with check_order > `checkOrder`, ascending, at most `limit` of them. */
  enabledVersionsAfter(resourceId: number, checkOrder: number, limit: number): Promise<ResolvedVersion[]>;
  /** The enabled version with the highest check_order <= `checkOrder`. */
  latestEnabledVersionUpTo(resourceId: number, checkOrder: number): Promise<ResolvedVersion | undefined>;
  /** `find(R, pin)`: a version (disabled or not) whose JSON contains `pin`. */
  findVersion(resourceId: number, pin: Version): Promise<ResolvedVersion | undefined>;
  /** `exists(R, v)`. */
  versionExists(resourceId: number, digest: string): Promise<boolean>;
  /** `disabled(R, v)`. */
  versionIsDisabled(resourceId: number, digest: string): Promise<boolean>;
  /** The version JSON for a digest of R (used to report group candidates). */
  versionByDigest(resourceId: number, digest: string): Promise<Version | undefined>;
  /** `successfulBuilds(J)`: succeeded builds of J, newest first: `(k DESC, id DESC)`. */
  successfulBuilds(jobId: number): AsyncIterable<BuildCursor>;
  /**
   * `successfulBuildsConstrained(J, C)`: builds of J in successful_build_outputs whose outputs
   * contain C, newest first.
   */
  successfulBuildsConstrained(jobId: number, constraints: OutputConstraints): AsyncIterable<BuildCursor>;
  /** Succeeded builds x of J with `newer(x, cursor)`, oldest first: `(k ASC, id ASC)`. */
  newerBuilds(jobId: number, cursor: BuildCursor): AsyncIterable<BuildCursor>;
  /**
   * Builds x of J with `x.id == cursor.id || older(x, cursor)`, newest first: succeeded builds
   * when `constraints` is undefined, else successful_build_outputs rows containing them.
   */
  olderBuilds(jobId: number, cursor: BuildCursor, constraints?: OutputConstraints): AsyncIterable<BuildCursor>;
  /** `outputs(b)`: sorted by resource id, each resource's list in stored order. */
  buildOutputs(buildId: number): Promise<AlgorithmVersion[]>;
  /** `latestBuildUsingLatestVersion(J, R)`: a build id, or undefined. */
  latestBuildUsingLatestVersion(jobId: number, resourceId: number): Promise<number | undefined>;
  /** `buildPipes(b)`: job of the from-build -> cursor of the from-build. */
  buildPipes(buildId: number): Promise<Map<number, BuildCursor>>;
  /** §4.1 first_occurrence. */
  isFirstOccurrence(jobId: number, inputName: string, digest: string, resourceId: number): Promise<boolean>;
}

export const LATEST_VERSION_NOT_FOUND = 'latest version of resource not found';
export const VERSION_NOT_FOUND = 'version of resource not found';
export const NO_SATISFIABLE_BUILDS = 'no satisfiable builds from passed jobs found for set of inputs';

/** `pinned version k1:v1 k2:v2 not found`, keys sorted (Go iterates its map at random). */
export function pinnedVersionNotFound(pin: Version): string {
  const text = Object.keys(pin)
    .sort()
    .map((k) => ` ${k}:${pin[k] ?? ''}`)
    .join('');
  return `pinned version${text} not found`;
}
