// The input-resolution algorithm's store port (docs/concourse-semantics.md §4.3) and its messages; the data
// it reads and answers are the model's (src/model/inputs.ts).
import type { AlgorithmVersion, BuildCursor, OutputConstraints, ResolvedVersion } from '../../model/inputs.ts';
import type { Version } from '../../model/version.ts';

export type {
  AlgorithmInput,
  AlgorithmVersion,
  BuildCursor,
  ComputeResult,
  InputResult,
  OutputConstraints,
  ResolvedInput,
  ResolvedVersion,
  UnresolvedInput,
} from '../../model/inputs.ts';
export { isResolveError } from '../../model/inputs.ts';


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
