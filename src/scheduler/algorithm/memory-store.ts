// An in-memory VersionsStore: the same semantics as the Postgres store, over plain arrays. Used
// for fast table tests of the algorithm.
import { compareBuildsNewestFirst, compareBuildsOldestFirst, isNewerBuild, isOlderBuild } from './cursor.ts';
import { versionDigest } from '../../model/version.ts';
import type { AlgorithmVersion, BuildCursor, OutputConstraints, ResolvedVersion, VersionsStore } from './types.ts';
import type { Version } from '../../model/version.ts';

export interface MemoryStoreData {
  /** Resources; `hasScope: false` means never checked: no versions at all. */
  resources: { id: number; hasScope: boolean }[];
  /** Versions in the resources' current scopes, in insertion order. */
  versions: { resourceId: number; version: Version; checkOrder: number; disabled?: boolean }[];
  builds: { id: number; jobId: number; status: string; rerunOf: number | null }[];
  /** build_resource_config_version_inputs. */
  buildInputs: { buildId: number; resourceId: number; digest: string; name: string }[];
  /** successful_build_outputs; `outputs` in stored order (outputs, then inputs, per resource). */
  successfulBuildOutputs: { buildId: number; jobId: number; rerunOf: number | null; outputs: AlgorithmVersion[] }[];
  buildPipes: { fromBuildId: number; toBuildId: number }[];
}

interface StoredVersion {
  seq: number;
  digest: string;
  version: Version;
  checkOrder: number;
  disabled: boolean;
}

/** Higher check_order first; ties: later insertion first (the Postgres store breaks ties by id). */
function newestFirst(a: StoredVersion, b: StoredVersion): number {
  return b.checkOrder - a.checkOrder || b.seq - a.seq;
}

function resolved(v: StoredVersion): ResolvedVersion {
  return { digest: v.digest, version: v.version };
}

function contains(outputs: Map<string, string[]>, constraints: OutputConstraints): boolean {
  return Object.entries(constraints).every(([resource, digests]) => {
    const have = outputs.get(resource) ?? [];
    return digests.every((d) => have.includes(d));
  });
}

async function* iterate<T>(items: T[]): AsyncGenerator<T> {
  yield* items;
}

export class MemoryVersionsStore implements VersionsStore {
  private readonly versions = new Map<number, StoredVersion[]>();
  private readonly builds = new Map<number, MemoryStoreData['builds'][number]>();
  private readonly outputs = new Map<
    number,
    { cursor: BuildCursor; jobId: number; list: AlgorithmVersion[]; byResource: Map<string, string[]> }
  >();

  constructor(private readonly data: MemoryStoreData) {
    const scoped = new Set(data.resources.filter((r) => r.hasScope).map((r) => r.id));
    data.versions.forEach((v, seq) => {
      if (!scoped.has(v.resourceId)) return;
      const list = this.versions.get(v.resourceId) ?? [];
      list.push({
        seq,
        digest: versionDigest(v.version),
        version: v.version,
        checkOrder: v.checkOrder,
        disabled: v.disabled ?? false,
      });
      this.versions.set(v.resourceId, list);
    });
    for (const b of data.builds) this.builds.set(b.id, b);
    for (const row of data.successfulBuildOutputs) {
      const list = [...row.outputs].sort((a, b) => a.resourceId - b.resourceId); // stable
      const byResource = new Map<string, string[]>();
      for (const o of list) {
        const key = String(o.resourceId);
        byResource.set(key, [...(byResource.get(key) ?? []), o.digest]);
      }
      this.outputs.set(row.buildId, {
        cursor: { id: row.buildId, rerunOf: row.rerunOf },
        jobId: row.jobId,
        list,
        byResource,
      });
    }
  }

  private versionsOf(resourceId: number): StoredVersion[] {
    return this.versions.get(resourceId) ?? [];
  }

  private enabled(resourceId: number): StoredVersion[] {
    return this.versionsOf(resourceId).filter((v) => !v.disabled);
  }

  private succeededBuilds(jobId: number): BuildCursor[] {
    return this.data.builds
      .filter((b) => b.jobId === jobId && b.status === 'succeeded')
      .map((b) => ({ id: b.id, rerunOf: b.rerunOf }));
  }

  private outputRows(jobId: number, constraints: OutputConstraints): BuildCursor[] {
    return [...this.outputs.values()]
      .filter((row) => row.jobId === jobId && contains(row.byResource, constraints))
      .map((row) => row.cursor);
  }

  async latestVersion(resourceId: number): Promise<ResolvedVersion | undefined> {
    const [latest] = this.enabled(resourceId).sort(newestFirst);
    return latest && resolved(latest);
  }

  private usedVersions(jobId: number, resourceId: number): StoredVersion[] {
    const digests = new Set(
      this.data.buildInputs
        .filter((i) => i.resourceId === resourceId && this.builds.get(i.buildId)?.jobId === jobId)
        .map((i) => i.digest),
    );
    return this.versionsOf(resourceId)
      .filter((v) => digests.has(v.digest))
      .sort(newestFirst);
  }

  async usedMaxCheckOrder(jobId: number, resourceId: number): Promise<number | undefined> {
    return this.usedVersions(jobId, resourceId)[0]?.checkOrder;
  }

  async enabledVersionsAfter(resourceId: number, checkOrder: number, limit: number): Promise<ResolvedVersion[]> {
    return this.enabled(resourceId)
      .filter((v) => v.checkOrder > checkOrder)
      .sort((a, b) => a.checkOrder - b.checkOrder || a.seq - b.seq)
      .slice(0, limit)
      .map(resolved);
  }

  async latestEnabledVersionUpTo(resourceId: number, checkOrder: number): Promise<ResolvedVersion | undefined> {
    const [v] = this.enabled(resourceId)
      .filter((x) => x.checkOrder <= checkOrder)
      .sort(newestFirst);
    return v && resolved(v);
  }

  async findVersion(resourceId: number, pin: Version): Promise<ResolvedVersion | undefined> {
    const [v] = this.versionsOf(resourceId)
      .filter((x) => Object.entries(pin).every(([k, value]) => x.version[k] === value))
      .sort(newestFirst);
    return v && resolved(v);
  }

  async versionExists(resourceId: number, digest: string): Promise<boolean> {
    return this.versionsOf(resourceId).some((v) => v.digest === digest);
  }

  async versionIsDisabled(resourceId: number, digest: string): Promise<boolean> {
    return this.versionsOf(resourceId).some((v) => v.digest === digest && v.disabled);
  }

  async versionByDigest(resourceId: number, digest: string): Promise<Version | undefined> {
    return this.versionsOf(resourceId).find((v) => v.digest === digest)?.version;
  }

  successfulBuilds(jobId: number): AsyncIterable<BuildCursor> {
    return iterate(this.succeededBuilds(jobId).sort(compareBuildsNewestFirst));
  }

  successfulBuildsConstrained(jobId: number, constraints: OutputConstraints): AsyncIterable<BuildCursor> {
    return iterate(this.outputRows(jobId, constraints).sort(compareBuildsNewestFirst));
  }

  newerBuilds(jobId: number, cursor: BuildCursor): AsyncIterable<BuildCursor> {
    return iterate(
      this.succeededBuilds(jobId)
        .filter((b) => isNewerBuild(b, cursor))
        .sort(compareBuildsOldestFirst),
    );
  }

  olderBuilds(jobId: number, cursor: BuildCursor, constraints?: OutputConstraints): AsyncIterable<BuildCursor> {
    const pool = constraints ? this.outputRows(jobId, constraints) : this.succeededBuilds(jobId);
    return iterate(pool.filter((b) => b.id === cursor.id || isOlderBuild(b, cursor)).sort(compareBuildsNewestFirst));
  }

  async buildOutputs(buildId: number): Promise<AlgorithmVersion[]> {
    return [...(this.outputs.get(buildId)?.list ?? [])];
  }

  async latestBuildUsingLatestVersion(jobId: number, resourceId: number): Promise<number | undefined> {
    const [latest] = this.usedVersions(jobId, resourceId);
    if (!latest) return undefined;
    const ids = this.data.buildInputs
      .filter(
        (i) => i.resourceId === resourceId && i.digest === latest.digest && this.builds.get(i.buildId)?.jobId === jobId,
      )
      .map((i) => i.buildId);
    return Math.max(...ids);
  }

  async buildPipes(buildId: number): Promise<Map<number, BuildCursor>> {
    const pipes = new Map<number, BuildCursor>();
    const rows = this.data.buildPipes.filter((p) => p.toBuildId === buildId).sort((a, b) => a.fromBuildId - b.fromBuildId);
    // several from-builds of one job: the highest id wins (as in the Postgres store)
    for (const pipe of rows) {
      const from = this.builds.get(pipe.fromBuildId);
      if (from) pipes.set(from.jobId, { id: from.id, rerunOf: from.rerunOf });
    }
    return pipes;
  }

  async isFirstOccurrence(jobId: number, inputName: string, digest: string, resourceId: number): Promise<boolean> {
    const same = (i: MemoryStoreData['buildInputs'][number]): boolean =>
      i.name === inputName && i.digest === digest && i.resourceId === resourceId;
    const last = this.data.builds
      .filter((b) => b.jobId === jobId && b.status !== 'pending')
      .reduce<number | undefined>((max, b) => (max === undefined || b.id > max ? b.id : max), undefined);
    if (last !== undefined && this.data.buildInputs.some((i) => i.buildId === last && same(i))) return false;
    return !this.data.buildInputs.some((i) => same(i) && this.builds.get(i.buildId)?.jobId === jobId);
  }
}
