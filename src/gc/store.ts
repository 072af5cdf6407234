// What garbage collection needs of storage: one call per collection, each deleting what the
// collector's policy (grace periods, retention) computed as old enough. The port is the
// collectors'; the Postgres implementation is src/db/gc.ts (checked where the collector is
// built) and the unit tests use an in-memory fake.
import type { JobBuild } from './build-log-retention.ts';

/** The part of a job config build log retention reads. */
export interface BuildLogRetentionConfig {
  build_log_retention?: unknown;
  build_logs_to_retain?: unknown;
}

export interface ExpiredArtifacts {
  /** artifacts of completed builds that ended before this go */
  buildEndedBefore: Date;
  /** uploads no build used (no build id) created before this go */
  uploadCreatedBefore: Date;
}

export interface GcStore {
  /** Deletes the expired artifacts' rows; returns their files' locations, for the collector to remove. */
  deleteExpiredArtifacts(expired: ExpiredArtifacts): Promise<{ id: number; location: string | null }[]>;
  /** Deletes the access tokens that expired before `now`; returns how many. */
  removeExpiredAccessTokens(now: Date): Promise<number>;
  /** The active jobs whose config asks for build log retention. */
  jobsWithBuildLogRetention(): Promise<{ id: number; config: BuildLogRetentionConfig }[]>;
  /** A job's builds whose logs are not reaped yet, newest first. */
  unreapedBuilds(jobId: number): Promise<JobBuild[]>;
  /** Deletes the builds' events and records their reap time, all or nothing. */
  reapBuildLogs(buildIds: readonly number[], reapTime: Date): Promise<void>;
  /**
   * Deletes the resource caches last referenced before the time that nothing keeps alive (no
   * config's parent, no job's latest image, not in use); returns how many.
   */
  cleanUnreferencedResourceCaches(lastReferencedBefore: Date): Promise<number>;
  /**
   * Deletes the resource configs last referenced before the time that nothing keeps alive (no
   * resource or type, no cache, no scope); returns how many.
   */
  cleanUnreferencedResourceConfigs(lastReferencedBefore: Date): Promise<number>;
  /** The ids of every resource cache there is (a runtime's kept volumes of others go: KeptResourceCacheCollector). */
  resourceCacheIds(): Promise<number[]>;
}

/**
 * A runtime's kept resource cache volumes (the local runtime's, src/runtime/local/resource-caches.ts):
 * those `keep` says no to go, at most `max` per call; returns how many went.
 */
export interface KeptResourceCaches {
  pruneResourceCaches(keep: (cacheId: number) => boolean, max: number): Promise<number>;
}
