// Input resolution's data (docs/concourse-semantics.md §4.3): what the algorithm reads from version history
// and build outputs, and what it answers for each job input. The scheduler computes it, the
// database stores it (next_build_inputs), the API shows it: so it lives in the model.
import type { Version } from './version.ts';

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
