// The VersionsStore of a scheduling pass that schedules many jobs at once (issue 23): the reads
// the algorithm makes for every due job (a resource's latest version, the versions a job used,
// first occurrences, the passed job's first page of succeeded builds and those builds' outputs)
// are gathered across the jobs running together and read in one statement per kind, as
// Concourse's scheduler reads its jobs' data in bulk. A job reading alone waits for no one: a
// batch is sent once the jobs in flight have all asked (DataLoader batches what is asked in one
// turn of the event loop). Each answer is exactly what PostgresVersionsStore would have read. The
// jobs' mappings are saved the same way (batchedMappingSaver).
import DataLoader from 'dataloader';
import type { AlgorithmVersion, ResolvedVersion } from '../model/inputs.ts';
import type { Version } from '../model/version.ts';
import type { Queryable } from './database.ts';
import { saveNextInputMappings, type NextInputMapping } from './jobs.ts';
import {
  algorithmOutputs,
  digestColumn,
  enabledFor,
  firstOccurrence,
  PostgresVersionsStore,
  resolved,
  scopeOf,
  usedByJob,
  type BuildRow,
  type PostgresVersionsStoreOptions,
  type VersionRow,
} from './algorithm-store.ts';

/** Keys per statement at most (a larger batch is split). */
const MAX_BATCH = 256;

/** A loader answering its keys in order from rows that carry their key's 1-based position `k`. */
function loader<K, R extends { k: number }, V>(
  read: (keys: readonly K[]) => Promise<R[]>,
  answer: (rows: R[]) => V,
): DataLoader<K, V> {
  return new DataLoader<K, V>(
    async (keys) => {
      const byKey = new Map<number, R[]>();
      for (const row of await read(keys)) {
        const at = byKey.get(row.k);
        if (at) at.push(row);
        else byKey.set(row.k, [row]);
      }
      return keys.map((_, i) => answer(byKey.get(i + 1) ?? []));
    },
    // the pass (algorithm/pass-store.ts) remembers what is worth remembering
    { cache: false, maxBatchSize: MAX_BATCH },
  );
}

export class BatchedVersionsStore extends PostgresVersionsStore {
  private readonly latest: DataLoader<number, ResolvedVersion | undefined>;
  private readonly used: DataLoader<{ jobId: number; resourceId: number }, number | undefined>;
  private readonly first: DataLoader<{ jobId: number; name: string; digest: string; resourceId: number }, boolean>;
  private readonly outputs: DataLoader<number, AlgorithmVersion[]>;
  private readonly builds: DataLoader<number, BuildRow[]>;
  private readonly exists: DataLoader<{ resourceId: number; digest: string }, Version | undefined>;
  private readonly disabled: DataLoader<{ resourceId: number; digest: string }, boolean>;

  constructor(db: Queryable, opts: PostgresVersionsStoreOptions = {}) {
    super(db, opts);
    const rows = async <R extends Record<string, unknown>>(sql: string, params: unknown[]): Promise<R[]> => (await db.query<R>(sql, params)).rows;

    this.latest = loader(
      (ids) =>
        rows<VersionRow & { k: number }>(
          `SELECT r.k, x.digest, x.version FROM unnest($1::int[]) WITH ORDINALITY AS r(id, k)
           CROSS JOIN LATERAL (
             SELECT v.version_sha256 AS digest, v.version FROM resource_config_versions v
              WHERE v.resource_config_scope_id = ${scopeOf('r.id')} AND ${enabledFor('r.id')}
              ORDER BY v.check_order DESC, v.id DESC LIMIT 1) x`,
          [ids],
        ),
      (found) => resolved(found[0]),
    );
    this.used = loader(
      (keys) =>
        rows<{ k: number; check_order: number }>(
          `SELECT q.k, x.check_order FROM unnest($1::int[], $2::int[]) WITH ORDINALITY AS q(resource_id, job_id, k)
           CROSS JOIN LATERAL (
             SELECT v.check_order FROM resource_config_versions v
              WHERE v.resource_config_scope_id = ${scopeOf('q.resource_id')} AND ${usedByJob('q.resource_id', 'q.job_id')}
              ORDER BY v.check_order DESC, v.id DESC LIMIT 1) x`,
          [keys.map((q) => q.resourceId), keys.map((q) => q.jobId)],
        ),
      (found) => found[0]?.check_order,
    );
    this.first = loader(
      (keys) =>
        rows<{ k: number; first: boolean }>(
          `SELECT q.k, ${firstOccurrence('q.resource_id', 'q.digest', 'q.name', 'q.job_id')} AS first
             FROM unnest($1::int[], $2::text[], $3::text[], $4::int[]) WITH ORDINALITY AS q(resource_id, digest, name, job_id, k)`,
          [keys.map((q) => q.resourceId), keys.map((q) => q.digest), keys.map((q) => q.name), keys.map((q) => q.jobId)],
        ),
      (found) => found[0]?.first ?? true,
    );
    this.outputs = loader(
      (ids) =>
        rows<{ k: number; outputs: Record<string, string[]> }>(
          `SELECT q.k, o.outputs FROM unnest($1::int[]) WITH ORDINALITY AS q(build_id, k)
             JOIN successful_build_outputs o ON o.build_id = q.build_id`,
          [ids],
        ),
      (found) => algorithmOutputs(found[0]?.outputs),
    );
    this.builds = loader(
      (ids) =>
        rows<BuildRow & { k: number }>(
          `SELECT q.k, b.id, b.rerun_of FROM unnest($1::int[]) WITH ORDINALITY AS q(job_id, k)
           CROSS JOIN LATERAL (
             SELECT id, rerun_of FROM builds WHERE job_id = q.job_id AND status = 'succeeded'
              ORDER BY coalesce(rerun_of, id) DESC, id DESC LIMIT ${this.pageSize}) b
           ORDER BY q.k, coalesce(b.rerun_of, b.id) DESC, b.id DESC`,
          [ids],
        ),
      (found) => found.map((r) => ({ id: r.id, rerun_of: r.rerun_of })),
    );
    // sha256 digests only (the md5 of legacy versions is looked up alone, in its own column)
    this.exists = loader(
      (keys) =>
        rows<{ k: number; version: Version }>(
          `SELECT q.k, x.version FROM unnest($1::int[], $2::text[]) WITH ORDINALITY AS q(resource_id, digest, k)
           CROSS JOIN LATERAL (
             SELECT v.version FROM resource_config_versions v
              WHERE v.resource_config_scope_id = ${scopeOf('q.resource_id')} AND v.version_sha256 = q.digest LIMIT 1) x`,
          [keys.map((q) => q.resourceId), keys.map((q) => q.digest)],
        ),
      (found) => found[0]?.version,
    );
    this.disabled = loader(
      (keys) =>
        rows<{ k: number }>(
          `SELECT q.k FROM unnest($1::int[], $2::text[]) WITH ORDINALITY AS q(resource_id, digest, k)
            WHERE EXISTS (SELECT 1 FROM resource_disabled_versions d WHERE d.resource_id = q.resource_id AND d.version_digest = q.digest)`,
          [keys.map((q) => q.resourceId), keys.map((q) => q.digest)],
        ),
      (found) => found.length > 0,
    );
  }

  override latestVersion(resourceId: number): Promise<ResolvedVersion | undefined> {
    return this.latest.load(resourceId);
  }

  override usedMaxCheckOrder(jobId: number, resourceId: number): Promise<number | undefined> {
    return this.used.load({ jobId, resourceId });
  }

  override isFirstOccurrence(jobId: number, name: string, digest: string, resourceId: number): Promise<boolean> {
    return this.first.load({ jobId, name, digest, resourceId });
  }

  override buildOutputs(buildId: number): Promise<AlgorithmVersion[]> {
    return this.outputs.load(buildId);
  }

  protected override firstSuccessfulBuilds(jobId: number): Promise<BuildRow[]> {
    return this.builds.load(jobId);
  }

  override async versionExists(resourceId: number, digest: string): Promise<boolean> {
    if (!isSha256(digest)) return super.versionExists(resourceId, digest);
    return (await this.exists.load({ resourceId, digest })) !== undefined;
  }

  override versionByDigest(resourceId: number, digest: string): Promise<Version | undefined> {
    if (!isSha256(digest)) return super.versionByDigest(resourceId, digest);
    return this.exists.load({ resourceId, digest });
  }

  override versionIsDisabled(resourceId: number, digest: string): Promise<boolean> {
    return this.disabled.load({ resourceId, digest });
  }
}

const isSha256 = (digest: string): boolean => digestColumn(digest) === 'version_sha256';

/**
 * saveNextInputMappings for the jobs of a pass scheduled together: the mappings asked for in one
 * turn of the event loop are saved in one statement (a failure fails each of them).
 */
export function batchedMappingSaver(db: Queryable): (mapping: NextInputMapping) => Promise<void> {
  const loader = new DataLoader<NextInputMapping, undefined>(
    async (mappings) => {
      await saveNextInputMappings(db, mappings);
      return mappings.map(() => undefined);
    },
    { cache: false, maxBatchSize: MAX_BATCH },
  );
  return (mapping) => loader.load(mapping);
}
