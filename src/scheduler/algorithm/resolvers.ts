import { LATEST_VERSION_NOT_FOUND, VERSION_NOT_FOUND, pinnedVersionNotFound, type AlgorithmInput, type ResolvedVersion, type VersionsStore } from './types.ts';
import type { Version } from '../../model/version.ts';

/** A version chosen for an input, with the passed builds that vouched for it. */
export interface Candidate {
  digest: string;
  /** Known for individual/pinned candidates; group candidates only carry the digest. */
  version?: Version;
  vouchedBy: ReadonlySet<number>;
  sourceBuildIds: readonly number[];
  hasNext: boolean;
}

export type Resolution =
  | { ok: true; candidates: Map<string, Candidate> }
  | { ok: false; failure: string };

export interface Resolver {
  readonly inputs: readonly AlgorithmInput[];
  resolve(): Promise<Resolution>;
}

function single(input: AlgorithmInput, version: ResolvedVersion, hasNext: boolean): Resolution {
  const candidate: Candidate = {
    digest: version.digest,
    version: version.version,
    vouchedBy: new Set(),
    sourceBuildIds: [],
    hasNext,
  };
  return { ok: true, candidates: new Map([[input.name, candidate]]) };
}

/** `nextEvery(J, R)` of docs/concourse-semantics.md §4.3: the next version an `every` input without passed should use. */
export async function nextEveryVersion(
  store: VersionsStore,
  jobId: number,
  resourceId: number,
): Promise<{ version: ResolvedVersion; hasNext: boolean } | undefined> {
  const used = await store.usedMaxCheckOrder(jobId, resourceId);
  if (used === undefined) {
    const latest = await store.latestVersion(resourceId);
    return latest ? { version: latest, hasNext: false } : undefined;
  }
  const after = await store.enabledVersionsAfter(resourceId, used, 2);
  const first = after[0];
  if (first) return { version: first, hasNext: after.length >= 2 };
  const previous = await store.latestEnabledVersionUpTo(resourceId, used);
  return previous ? { version: previous, hasNext: false } : undefined;
}

/** An input without passed constraints and without a pin: latest or every. */
export class IndividualResolver implements Resolver {
  readonly inputs: readonly AlgorithmInput[];

  constructor(
    private readonly store: VersionsStore,
    private readonly jobId: number,
    private readonly input: AlgorithmInput,
  ) {
    this.inputs = [input];
  }

  async resolve(): Promise<Resolution> {
    const { store, input } = this;
    if (input.useEvery) {
      const next = await nextEveryVersion(store, this.jobId, input.resourceId);
      if (!next) return { ok: false, failure: VERSION_NOT_FOUND };
      return single(input, next.version, next.hasNext);
    }
    const latest = await store.latestVersion(input.resourceId);
    if (!latest) return { ok: false, failure: LATEST_VERSION_NOT_FOUND };
    return single(input, latest, false);
  }
}

/** An input without passed constraints but with a pin (step `version:` or resource pin). */
export class PinnedResolver implements Resolver {
  readonly inputs: readonly AlgorithmInput[];

  constructor(
    private readonly store: VersionsStore,
    private readonly input: AlgorithmInput & { pinnedVersion: Version },
  ) {
    this.inputs = [input];
  }

  async resolve(): Promise<Resolution> {
    const { input } = this;
    const found = await this.store.findVersion(input.resourceId, input.pinnedVersion);
    if (!found) return { ok: false, failure: pinnedVersionNotFound(input.pinnedVersion) };
    return single(input, found, false);
  }
}
