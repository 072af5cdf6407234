import { GroupResolver } from './group.ts';
import { IndividualResolver, PinnedResolver, type Resolver } from './resolvers.ts';
import type { AlgorithmInput, AlgorithmVersion, ComputeResult, InputResult, VersionsStore } from './types.ts';
import type { Version } from '../../model/version.ts';

/**
 * Groups the inputs that have passed constraints into connected components of "shares a passed
 * job". Go appends an input to one arbitrary group when it touches several; merging them is the
 * deterministic choice. Groups come in order of their first input; inputs keep config order.
 */
export function groupByPassedJobs(inputs: readonly AlgorithmInput[]): AlgorithmInput[][] {
  interface Group {
    members: number[];
    jobs: Set<number>;
  }
  let groups: Group[] = [];
  inputs.forEach((input, index) => {
    if (input.passed.size === 0) return;
    const touched = groups.filter((g) => [...input.passed].some((job) => g.jobs.has(job)));
    const target: Group = touched[0] ?? { members: [], jobs: new Set() };
    if (touched.length === 0) groups.push(target);
    for (const other of touched.slice(1)) {
      target.members.push(...other.members);
      for (const job of other.jobs) target.jobs.add(job);
    }
    groups = groups.filter((g) => !touched.includes(g) || g === target);
    target.members.push(index);
    for (const job of input.passed) target.jobs.add(job);
  });
  return groups.map((g) => g.members.sort((a, b) => a - b).map((index) => inputs[index]!));
}

/** Resolvers in the order compute runs them: unconstrained inputs (config order), then groups. */
export function constructResolvers(
  store: VersionsStore,
  jobId: number,
  inputs: readonly AlgorithmInput[],
): Resolver[] {
  const resolvers: Resolver[] = [];
  for (const input of inputs) {
    if (input.passed.size > 0) continue;
    const { pinnedVersion } = input;
    resolvers.push(
      pinnedVersion ? new PinnedResolver(store, { ...input, pinnedVersion }) : new IndividualResolver(store, jobId, input),
    );
  }
  for (const group of groupByPassedJobs(inputs)) resolvers.push(new GroupResolver(store, jobId, group));
  return resolvers;
}

/**
 * Memoizes the pure lookups a resolution repeats many times (a build's outputs, disabled and
 * exists checks). Lives for one `computeInputs` call only.
 */
function memoized(store: VersionsStore): VersionsStore {
  const outputs = new Map<number, Promise<AlgorithmVersion[]>>();
  const disabled = new Map<string, Promise<boolean>>();
  const exists = new Map<string, Promise<boolean>>();
  const remember = <K, V>(cache: Map<K, Promise<V>>, key: K, load: () => Promise<V>): Promise<V> => {
    let hit = cache.get(key);
    if (!hit) {
      hit = load();
      cache.set(key, hit);
    }
    return hit;
  };
  return {
    latestVersion: (r) => store.latestVersion(r),
    usedMaxCheckOrder: (j, r) => store.usedMaxCheckOrder(j, r),
    enabledVersionsAfter: (r, c, l) => store.enabledVersionsAfter(r, c, l),
    latestEnabledVersionUpTo: (r, c) => store.latestEnabledVersionUpTo(r, c),
    findVersion: (r, pin) => store.findVersion(r, pin),
    versionExists: (r, d) => remember(exists, `${r}:${d}`, () => store.versionExists(r, d)),
    versionIsDisabled: (r, d) => remember(disabled, `${r}:${d}`, () => store.versionIsDisabled(r, d)),
    versionByDigest: (r, d) => store.versionByDigest(r, d),
    successfulBuilds: (j) => store.successfulBuilds(j),
    successfulBuildsConstrained: (j, c) => store.successfulBuildsConstrained(j, c),
    newerBuilds: (j, c) => store.newerBuilds(j, c),
    olderBuilds: (j, c, k) => store.olderBuilds(j, c, k),
    buildOutputs: (b) => remember(outputs, b, () => store.buildOutputs(b)),
    latestBuildUsingLatestVersion: (j, r) => store.latestBuildUsingLatestVersion(j, r),
    buildPipes: (b) => store.buildPipes(b),
    isFirstOccurrence: (j, n, d, r) => store.isFirstOccurrence(j, n, d, r),
  };
}

/**
 * `algorithm.Compute` (docs/concourse-semantics.md §4.3): resolves the inputs of job `jobId`. Every resolver runs, even after
 * one failed; a failed resolver reports its failure on each of its inputs.
 */
export async function computeInputs(
  store: VersionsStore,
  jobId: number,
  inputs: AlgorithmInput[],
): Promise<ComputeResult> {
  const cached = memoized(store);
  let ok = true;
  let hasNext = false;
  const mapping: Record<string, InputResult> = {};

  for (const resolver of constructResolvers(cached, jobId, inputs)) {
    const resolution = await resolver.resolve();
    if (!resolution.ok) {
      ok = false;
      for (const input of resolver.inputs) mapping[input.name] = { resolveError: resolution.failure };
      continue;
    }
    for (const input of resolver.inputs) {
      const candidate = resolution.candidates.get(input.name);
      if (!candidate) throw new Error(`resolver returned no candidate for input ${input.name}`);
      const version: Version | undefined =
        candidate.version ?? (await cached.versionByDigest(input.resourceId, candidate.digest));
      if (!version) throw new Error(`version ${candidate.digest} of resource ${input.resourceId} not found`);
      mapping[input.name] = {
        resourceId: input.resourceId,
        version,
        versionDigest: candidate.digest,
        firstOccurrence: await cached.isFirstOccurrence(jobId, input.name, candidate.digest, input.resourceId),
        passedBuildIds: [...candidate.sourceBuildIds],
        hasNext: candidate.hasNext,
      };
    }
    for (const candidate of resolution.candidates.values()) hasNext ||= candidate.hasNext;
  }

  return { ok, hasNext, mapping };
}
