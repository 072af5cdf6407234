// The collections of garbage collection (Concourse's atc/gc collectors), each policy over one
// GcStore call: what is old enough to go, and what goes with it (an artifact's file). Each
// returns how many things went.
import { rm } from 'node:fs/promises';
import { buildsToReap, retentionPolicy } from './build-log-retention.ts';
import type { GcStore, KeptResourceCaches } from './store.ts';

export interface GcCollector {
  run(now: Date): Promise<number>;
}

const ago = (now: Date, ms: number): Date => new Date(now.getTime() - ms);

/**
 * Artifact tarballs of one-off builds once the build is done and a grace period passed (the
 * client downloads outputs right after the build), and uploads no build used within their own
 * grace period; with their files.
 */
export class ArtifactCollector implements GcCollector {
  constructor(
    private readonly store: GcStore,
    private readonly graceMs: number,
    private readonly unusedUploadMs: number,
  ) {}

  async run(now: Date): Promise<number> {
    const doomed = await this.store.deleteExpiredArtifacts({
      buildEndedBefore: ago(now, this.graceMs),
      uploadCreatedBefore: ago(now, this.unusedUploadMs),
    });
    for (const artifact of doomed) {
      if (artifact.location) await rm(artifact.location, { force: true }).catch(() => undefined);
    }
    return doomed.length;
  }
}

/** Access tokens past their expiry. */
export class AccessTokenCollector implements GcCollector {
  constructor(private readonly store: GcStore) {}

  run(now: Date): Promise<number> {
    return this.store.removeExpiredAccessTokens(now);
  }
}

/**
 * Applies every active job's build_log_retention (build-log-retention.ts): the logs (events) of
 * the builds it lets go are reaped; the build rows stay, with a reap_time, as in Concourse.
 * Counts builds.
 */
export class BuildLogCollector implements GcCollector {
  constructor(private readonly store: GcStore) {}

  async run(now: Date): Promise<number> {
    let reaped = 0;
    for (const job of await this.store.jobsWithBuildLogRetention()) {
      const policy = retentionPolicy(job.config);
      if (!policy) continue;
      const doomed = buildsToReap(await this.store.unreapedBuilds(job.id), policy, now);
      if (doomed.length === 0) continue;
      await this.store.reapBuildLogs(doomed, now);
      reaped += doomed.length;
    }
    return reaped;
  }
}

/**
 * Resource caches nothing keeps alive: not the parent of a config (a custom type's image), not
 * the image of a job's latest succeeded build, not in use, and not referenced within the grace
 * period.
 */
export class ResourceCacheCollector implements GcCollector {
  constructor(
    private readonly store: GcStore,
    private readonly graceMs: number,
  ) {}

  run(now: Date): Promise<number> {
    return this.store.cleanUnreferencedResourceCaches(ago(now, this.graceMs));
  }
}

/**
 * Resource configs nothing keeps alive: no resource or resource type points at them, they have
 * no caches and no version history (a scope), and they were not referenced within the grace
 * period. A config going frees its parent cache for a later pass.
 */
export class ResourceConfigCollector implements GcCollector {
  constructor(
    private readonly store: GcStore,
    private readonly graceMs: number,
  ) {}

  run(now: Date): Promise<number> {
    return this.store.cleanUnreferencedResourceConfigs(ago(now, this.graceMs));
  }
}

/**
 * The runtime's kept volumes of resource caches the database no longer has (the caches went
 * above), at most `max` per collection so one pass stays short. A cache made after the ids were
 * read (a get keeping its volume meanwhile) has a larger id than any read, and stays.
 */
export class KeptResourceCacheCollector implements GcCollector {
  constructor(
    private readonly store: GcStore,
    private readonly kept: KeptResourceCaches,
    private readonly max: number,
  ) {}

  async run(): Promise<number> {
    const ids = new Set(await this.store.resourceCacheIds());
    let newest = 0;
    for (const id of ids) newest = Math.max(newest, id);
    return this.kept.pruneResourceCaches((id) => ids.has(id) || id > newest, this.max);
  }
}
