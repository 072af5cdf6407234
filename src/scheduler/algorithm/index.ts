export { computeInputs, constructResolvers, groupByPassedJobs } from './compute.ts';
export { compareBuildsNewestFirst, compareBuildsOldestFirst, buildKey, isNewerBuild, isOlderBuild } from './cursor.ts';
export { canonicalJson, versionDigest } from '../../model/version.ts';
export { GroupResolver, unusedBuilds } from './group.ts';
export { MemoryVersionsStore, type MemoryStoreData } from './memory-store.ts';
export { IndividualResolver, PinnedResolver, nextEveryVersion, type Candidate, type Resolution, type Resolver } from './resolvers.ts';
export * from './types.ts';
export { passSharedStore, PASS_MEMO_ENTRIES } from './pass-store.ts';
