// An in-memory GcStore for the collectors' unit tests: plain rows, and the store's contract
// (what each call deletes given the cut-off the collector computed) without Postgres. What keeps
// a resource cache or config alive is one flag here; the SQL of it is tested against Postgres.
import type { JobBuild } from '../../src/gc/build-log-retention.ts';
import type { BuildLogRetentionConfig, ExpiredArtifacts, GcStore } from '../../src/gc/store.ts';

export interface FakeBuild extends JobBuild {
  jobId: number | null;
  reapTime: Date | null;
  /** how many build events it has */
  events: number;
}

export interface FakeGcState {
  builds: FakeBuild[];
  artifacts: { id: number; buildId: number | null; location: string | null; createdAt: Date }[];
  tokens: { sha256: string; expiresAt: Date }[];
  /** active jobs */
  jobs: { id: number; config: BuildLogRetentionConfig }[];
  /** `referenced`: a config's parent, a job's latest image or in use */
  resourceCaches: { id: number; resourceConfigId: number | null; lastReferenced: Date; referenced: boolean }[];
  /** `referenced`: a resource's or type's config, or one with a version history */
  resourceConfigs: { id: number; lastReferenced: Date; referenced: boolean }[];
}

export class FakeGcStore implements GcStore {
  readonly state: FakeGcState;

  constructor(given: Partial<FakeGcState> = {}) {
    this.state = { builds: [], artifacts: [], tokens: [], jobs: [], resourceCaches: [], resourceConfigs: [], ...structuredClone(given) };
  }

  async deleteExpiredArtifacts(expired: ExpiredArtifacts): Promise<{ id: number; location: string | null }[]> {
    const goes = (a: FakeGcState['artifacts'][number]): boolean => {
      if (a.buildId === null) return a.createdAt < expired.uploadCreatedBefore;
      const build = this.state.builds.find((b) => b.id === a.buildId);
      return build !== undefined && build.completed && build.endTime !== null && build.endTime < expired.buildEndedBefore;
    };
    const doomed = this.state.artifacts.filter(goes);
    this.state.artifacts = this.state.artifacts.filter((a) => !goes(a));
    return doomed.map((a) => ({ id: a.id, location: a.location }));
  }

  async removeExpiredAccessTokens(now: Date): Promise<number> {
    const before = this.state.tokens.length;
    this.state.tokens = this.state.tokens.filter((t) => !(t.expiresAt < now));
    return before - this.state.tokens.length;
  }

  async jobsWithBuildLogRetention(): Promise<{ id: number; config: BuildLogRetentionConfig }[]> {
    return this.state.jobs.filter((j) => 'build_log_retention' in j.config || 'build_logs_to_retain' in j.config);
  }

  async unreapedBuilds(jobId: number): Promise<JobBuild[]> {
    return this.state.builds
      .filter((b) => b.jobId === jobId && b.reapTime === null)
      .sort((a, b) => b.id - a.id)
      .map(({ id, status, completed, endTime }) => ({ id, status, completed, endTime }));
  }

  async reapBuildLogs(buildIds: readonly number[], reapTime: Date): Promise<void> {
    for (const b of this.state.builds) {
      if (!buildIds.includes(b.id)) continue;
      b.events = 0;
      b.reapTime = reapTime;
    }
  }

  async cleanUnreferencedResourceCaches(lastReferencedBefore: Date): Promise<number> {
    const before = this.state.resourceCaches.length;
    this.state.resourceCaches = this.state.resourceCaches.filter((c) => c.referenced || !(c.lastReferenced < lastReferencedBefore));
    return before - this.state.resourceCaches.length;
  }

  async resourceCacheIds(): Promise<number[]> {
    return this.state.resourceCaches.map((c) => c.id);
  }

  async cleanUnreferencedResourceConfigs(lastReferencedBefore: Date): Promise<number> {
    const hasCaches = (id: number): boolean => this.state.resourceCaches.some((c) => c.resourceConfigId === id);
    const before = this.state.resourceConfigs.length;
    this.state.resourceConfigs = this.state.resourceConfigs.filter(
      (c) => c.referenced || hasCaches(c.id) || !(c.lastReferenced < lastReferencedBefore),
    );
    return before - this.state.resourceConfigs.length;
  }
}
