// The versions a scheduling pass reads once for all its jobs (issue 23): the lookups that do not
// depend on the job — a resource's latest version, its enabled versions around a check order,
// whether a version exists or is disabled, a build's outputs — answered once per pass and shared
// by every job of it (ten jobs of a pipeline read the same five resources). A pass is a snapshot
// of these: a version a check saves meanwhile bumps its jobs' schedule_requested after the pass
// read them, so they are due again in the next pass. The job's own reads (what it used, its
// upstream builds, first occurrences) are not shared.
import type { Version } from '../../model/version.ts';
import { canonicalJson } from '../../model/version.ts';
import type { VersionsStore } from './types.ts';

/** Reads remembered per pass at most (a larger pass reads the rest directly). */
export const PASS_MEMO_ENTRIES = 50_000;

export function passSharedStore(store: VersionsStore, maxEntries = PASS_MEMO_ENTRIES): VersionsStore {
  const memo = new Map<string, Promise<unknown>>();
  const shared = <V>(key: string, load: () => Promise<V>): Promise<V> => {
    const hit = memo.get(key) as Promise<V> | undefined;
    if (hit) return hit;
    const loading = load();
    if (memo.size < maxEntries) {
      memo.set(key, loading);
      // a failed read (Postgres away) is not remembered: the next job asks again
      loading.catch(() => memo.delete(key));
    }
    return loading;
  };
  return {
    latestVersion: (r) => shared(`latest:${r}`, () => store.latestVersion(r)),
    enabledVersionsAfter: (r, c, l) => shared(`after:${r}:${c}:${l}`, () => store.enabledVersionsAfter(r, c, l)),
    latestEnabledVersionUpTo: (r, c) => shared(`upto:${r}:${c}`, () => store.latestEnabledVersionUpTo(r, c)),
    findVersion: (r, pin: Version) => shared(`find:${r}:${canonicalJson(pin)}`, () => store.findVersion(r, pin)),
    versionExists: (r, d) => shared(`exists:${r}:${d}`, () => store.versionExists(r, d)),
    versionIsDisabled: (r, d) => shared(`disabled:${r}:${d}`, () => store.versionIsDisabled(r, d)),
    versionByDigest: (r, d) => shared(`digest:${r}:${d}`, () => store.versionByDigest(r, d)),
    buildOutputs: (b) => shared(`outputs:${b}`, () => store.buildOutputs(b)),
    // the job's own
    usedMaxCheckOrder: (j, r) => store.usedMaxCheckOrder(j, r),
    successfulBuilds: (j) => store.successfulBuilds(j),
    successfulBuildsConstrained: (j, c) => store.successfulBuildsConstrained(j, c),
    newerBuilds: (j, c) => store.newerBuilds(j, c),
    olderBuilds: (j, c, k) => store.olderBuilds(j, c, k),
    latestBuildUsingLatestVersion: (j, r) => store.latestBuildUsingLatestVersion(j, r),
    buildPipes: (b) => store.buildPipes(b),
    isFirstOccurrence: (j, n, d, r) => store.isFirstOccurrence(j, n, d, r),
  };
}
