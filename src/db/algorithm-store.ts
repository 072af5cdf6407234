// The Postgres VersionsStore (the scheduler's port, checked where the scheduler takes it) of the input-resolution algorithm (docs/concourse-semantics.md §4.3). Each
// method reads only what the call needs: single indexed lookups for versions, and build lists
// paged lazily (keyset pagination, PAGE_SIZE rows at a time, as Go pages 100 rows), so the
// algorithm never loads a whole version or build history.
import type { AlgorithmVersion, BuildCursor, OutputConstraints, ResolvedVersion } from '../model/inputs.ts';
import type { Version } from '../model/version.ts';
import type { Queryable } from './database.ts';

export const DEFAULT_PAGE_SIZE = 100;

/** The versions of resource `r` (an SQL expression): those of its current scope (none when it has no scope). */
export const scopeOf = (r: string): string => `(SELECT resource_config_scope_id FROM resources WHERE id = ${r})`;
/** v (an alias of resource_config_versions) is not disabled for resource `r`. */
export const enabledFor = (r: string): string => `NOT EXISTS (
  SELECT 1 FROM resource_disabled_versions d
  WHERE d.resource_id = ${r} AND d.version_digest IN (v.version_sha256, v.version_md5))`;
/** Some build of job `j` has an input row (resource `r`, v). */
export const usedByJob = (r: string, j: string): string => `EXISTS (
  SELECT 1 FROM build_resource_config_version_inputs i JOIN builds b ON b.id = i.build_id
  WHERE i.resource_id = ${r} AND i.version_digest IN (v.version_sha256, v.version_md5) AND b.job_id = ${j})`;
/**
 * Whether input `name` of job `j` saw version `d` of resource `r` for the first time (§4.1
 * first_occurrence). The job's last non-pending build is looked at first, as Concourse does: a
 * version it used is not new, and that answer needs no scan of the version's other uses.
 */
export const firstOccurrence = (r: string, d: string, name: string, j: string): string => `NOT (
  EXISTS (SELECT 1 FROM build_resource_config_version_inputs
           WHERE build_id = (SELECT id FROM builds WHERE job_id = ${j} AND status <> 'pending' ORDER BY id DESC LIMIT 1)
             AND name = ${name} AND version_digest = ${d} AND resource_id = ${r})
  OR EXISTS (SELECT 1 FROM build_resource_config_version_inputs i
              WHERE i.resource_id = ${r} AND i.version_digest = ${d} AND i.name = ${name}
                AND EXISTS (SELECT 1 FROM builds b WHERE b.id = i.build_id AND b.job_id = ${j})))`;

const SCOPE = scopeOf('$1');
const ENABLED = enabledFor('$1');
const USED_BY_JOB = usedByJob('$1', '$2');

export interface VersionRow extends Record<string, unknown> {
  digest: string;
  version: Version;
}
export interface BuildRow extends Record<string, unknown> {
  id: number;
  rerun_of: number | null;
}

export function resolved(row: VersionRow | undefined): ResolvedVersion | undefined {
  return row && { digest: row.digest, version: row.version };
}

/** A legacy md5 digest is shorter than a sha256 one (Go picks the column the same way). */
export function digestColumn(digest: string): string {
  return digest.length < 64 ? 'version_md5' : 'version_sha256';
}

type BuildSource = 'builds' | 'outputs';

/** successful_build_outputs.outputs (resource id -> digests) as `outputs(b)`: by resource id, each resource's in stored order. */
export function algorithmOutputs(outputs: Record<string, string[]> | undefined): AlgorithmVersion[] {
  if (!outputs) return [];
  return Object.entries(outputs)
    .map(([resource, digests]) => ({ resourceId: Number(resource), digests }))
    .sort((a, b) => a.resourceId - b.resourceId)
    .flatMap(({ resourceId, digests }) => digests.map((digest) => ({ resourceId, digest })));
}

export interface PostgresVersionsStoreOptions {
  /** Rows fetched per page of a build list (default 100). */
  pageSize?: number;
}

export class PostgresVersionsStore {
  protected readonly pageSize: number;

  constructor(
    protected readonly db: Queryable,
    opts: PostgresVersionsStoreOptions = {},
  ) {
    this.pageSize = opts.pageSize ?? DEFAULT_PAGE_SIZE;
  }

  private async one<R extends Record<string, unknown>>(sql: string, params: unknown[]): Promise<R | undefined> {
    return (await this.db.query<R>(sql, params)).rows[0];
  }

  async latestVersion(resourceId: number): Promise<ResolvedVersion | undefined> {
    return resolved(
      await this.one<VersionRow>(
        `SELECT v.version_sha256 AS digest, v.version FROM resource_config_versions v
         WHERE v.resource_config_scope_id = ${SCOPE} AND ${ENABLED}
         ORDER BY v.check_order DESC, v.id DESC LIMIT 1`,
        [resourceId],
      ),
    );
  }

  async usedMaxCheckOrder(jobId: number, resourceId: number): Promise<number | undefined> {
    const row = await this.one<{ check_order: number }>(
      `SELECT v.check_order FROM resource_config_versions v
       WHERE v.resource_config_scope_id = ${SCOPE} AND ${USED_BY_JOB}
       ORDER BY v.check_order DESC, v.id DESC LIMIT 1`,
      [resourceId, jobId],
    );
    return row?.check_order;
  }

  async enabledVersionsAfter(resourceId: number, checkOrder: number, limit: number): Promise<ResolvedVersion[]> {
    const { rows } = await this.db.query<VersionRow>(
      `SELECT v.version_sha256 AS digest, v.version FROM resource_config_versions v
       WHERE v.resource_config_scope_id = ${SCOPE} AND v.check_order > $2 AND ${ENABLED}
       ORDER BY v.check_order ASC, v.id ASC LIMIT $3`,
      [resourceId, checkOrder, limit],
    );
    return rows.map((row) => ({ digest: row.digest, version: row.version }));
  }

  async latestEnabledVersionUpTo(resourceId: number, checkOrder: number): Promise<ResolvedVersion | undefined> {
    return resolved(
      await this.one<VersionRow>(
        `SELECT v.version_sha256 AS digest, v.version FROM resource_config_versions v
         WHERE v.resource_config_scope_id = ${SCOPE} AND v.check_order <= $2 AND ${ENABLED}
         ORDER BY v.check_order DESC, v.id DESC LIMIT 1`,
        [resourceId, checkOrder],
      ),
    );
  }

  async findVersion(resourceId: number, pin: Version): Promise<ResolvedVersion | undefined> {
    return resolved(
      await this.one<VersionRow>(
        `SELECT v.version_sha256 AS digest, v.version FROM resource_config_versions v
         WHERE v.resource_config_scope_id = ${SCOPE} AND v.version @> $2::jsonb
         ORDER BY v.check_order DESC, v.id DESC LIMIT 1`,
        [resourceId, JSON.stringify(pin)],
      ),
    );
  }

  async versionExists(resourceId: number, digest: string): Promise<boolean> {
    const row = await this.one<{ exists: boolean }>(
      `SELECT EXISTS (SELECT 1 FROM resource_config_versions v
         WHERE v.resource_config_scope_id = ${SCOPE} AND v.${digestColumn(digest)} = $2) AS exists`,
      [resourceId, digest],
    );
    return row?.exists ?? false;
  }

  async versionIsDisabled(resourceId: number, digest: string): Promise<boolean> {
    const row = await this.one<{ exists: boolean }>(
      `SELECT EXISTS (SELECT 1 FROM resource_disabled_versions
         WHERE resource_id = $1 AND version_digest = $2) AS exists`,
      [resourceId, digest],
    );
    return row?.exists ?? false;
  }

  async versionByDigest(resourceId: number, digest: string): Promise<Version | undefined> {
    const row = await this.one<{ version: Version }>(
      `SELECT v.version FROM resource_config_versions v
       WHERE v.resource_config_scope_id = ${SCOPE} AND v.${digestColumn(digest)} = $2 LIMIT 1`,
      [resourceId, digest],
    );
    return row?.version;
  }

  successfulBuilds(jobId: number): AsyncIterable<BuildCursor> {
    return this.pagedBuilds('builds', jobId, 'desc', [], [], () => this.firstSuccessfulBuilds(jobId));
  }

  /** The first page of successfulBuilds(J), when it is read otherwise (undefined: read it here). */
  protected firstSuccessfulBuilds(_jobId: number): Promise<BuildRow[]> | undefined {
    return undefined;
  }

  successfulBuildsConstrained(jobId: number, constraints: OutputConstraints): AsyncIterable<BuildCursor> {
    return this.pagedBuilds('outputs', jobId, 'desc', ['outputs @> $P::jsonb'], [JSON.stringify(constraints)]);
  }

  newerBuilds(jobId: number, cursor: BuildCursor): AsyncIterable<BuildCursor> {
    const [where, params] =
      cursor.rerunOf !== null
        ? ['(coalesce(rerun_of, ID) > $P OR (rerun_of = $P AND ID > $P))', [cursor.rerunOf, cursor.rerunOf, cursor.id]]
        : ['coalesce(rerun_of, ID) > $P', [cursor.id]];
    return this.pagedBuilds('builds', jobId, 'asc', [where], params);
  }

  olderBuilds(jobId: number, cursor: BuildCursor, constraints?: OutputConstraints): AsyncIterable<BuildCursor> {
    const [older, olderParams]: [string, unknown[]] =
      cursor.rerunOf !== null
        ? [
            'coalesce(rerun_of, ID) < $P OR ID = $P OR (rerun_of = $P AND ID < $P)',
            [cursor.rerunOf, cursor.rerunOf, cursor.rerunOf, cursor.id],
          ]
        : ['coalesce(rerun_of, ID) < $P', [cursor.id]];
    const where = [`(ID = $P OR ${older})`];
    const params: unknown[] = [cursor.id, ...olderParams];
    if (constraints) {
      where.push('outputs @> $P::jsonb');
      params.push(JSON.stringify(constraints));
    }
    return this.pagedBuilds(constraints ? 'outputs' : 'builds', jobId, 'desc', where, params);
  }

  /**
   * Builds of a job, ordered by `(coalesce(rerun_of, id), id)`, fetched a page at a time with
   * keyset pagination. `source` is the builds table (succeeded builds) or successful_build_outputs.
   * In `where`, `ID` stands for the build id column and `$P` for the next parameter.
   */
  private async *pagedBuilds(
    source: BuildSource,
    jobId: number,
    direction: 'asc' | 'desc',
    where: string[],
    params: unknown[],
    firstPage?: () => Promise<BuildRow[]> | undefined,
  ): AsyncGenerator<BuildCursor> {
    const table = source === 'builds' ? 'builds' : 'successful_build_outputs';
    const idCol = source === 'builds' ? 'id' : 'build_id';
    const cmp = direction === 'desc' ? '<' : '>';
    const dir = direction === 'desc' ? 'DESC' : 'ASC';
    let last: BuildCursor | undefined;
    for (;;) {
      const values: unknown[] = [jobId];
      const conds = [`job_id = $1`];
      if (source === 'builds') conds.push(`status = 'succeeded'`);
      let p = 0;
      for (const w of where) {
        conds.push(w.replace(/\bID\b/g, idCol).replace(/\$P/g, () => `$${values.length + 1 + p++}`));
      }
      values.push(...params);
      if (last) {
        conds.push(`(coalesce(rerun_of, ${idCol}), ${idCol}) ${cmp} ($${values.length + 1}, $${values.length + 2})`);
        values.push(last.rerunOf ?? last.id, last.id);
      }
      const given = last ? undefined : firstPage?.();
      const rows = given
        ? await given
        : (
              await this.db.query<BuildRow>(
                `SELECT ${idCol} AS id, rerun_of FROM ${table} WHERE ${conds.join(' AND ')}
                 ORDER BY coalesce(rerun_of, ${idCol}) ${dir}, ${idCol} ${dir} LIMIT ${this.pageSize}`,
                values,
              )
            ).rows;
      for (const row of rows) yield { id: row.id, rerunOf: row.rerun_of };
      const tail = rows[rows.length - 1];
      if (rows.length < this.pageSize || !tail) return;
      last = { id: tail.id, rerunOf: tail.rerun_of };
    }
  }

  async buildOutputs(buildId: number): Promise<AlgorithmVersion[]> {
    const row = await this.one<{ outputs: Record<string, string[]> }>(
      'SELECT outputs FROM successful_build_outputs WHERE build_id = $1',
      [buildId],
    );
    return algorithmOutputs(row?.outputs);
  }

  async latestBuildUsingLatestVersion(jobId: number, resourceId: number): Promise<number | undefined> {
    const row = await this.one<{ build_id: number }>(
      `SELECT u.build_id FROM resource_config_versions v
       CROSS JOIN LATERAL (
         SELECT max(i.build_id) AS build_id
         FROM build_resource_config_version_inputs i JOIN builds b ON b.id = i.build_id
         WHERE i.resource_id = $1 AND i.version_digest IN (v.version_sha256, v.version_md5) AND b.job_id = $2
       ) u
       WHERE v.resource_config_scope_id = ${SCOPE} AND u.build_id IS NOT NULL
       ORDER BY v.check_order DESC, v.id DESC LIMIT 1`,
      [resourceId, jobId],
    );
    return row?.build_id;
  }

  async buildPipes(buildId: number): Promise<Map<number, BuildCursor>> {
    const { rows } = await this.db.query<{ id: number; rerun_of: number | null; job_id: number | null }>(
      `SELECT b.id, b.rerun_of, b.job_id FROM build_pipes p JOIN builds b ON b.id = p.from_build_id
       WHERE p.to_build_id = $1 ORDER BY b.id`,
      [buildId],
    );
    const pipes = new Map<number, BuildCursor>();
    // several from-builds of one job (Go: whichever its map keeps): the highest id wins
    for (const row of rows) {
      if (row.job_id !== null) pipes.set(row.job_id, { id: row.id, rerunOf: row.rerun_of });
    }
    return pipes;
  }

  /** One statement (it runs per input of every due job). */
  async isFirstOccurrence(jobId: number, inputName: string, digest: string, resourceId: number): Promise<boolean> {
    const row = await this.one<{ first: boolean }>(`SELECT ${firstOccurrence('$1', '$2', '$3', '$4')} AS first`, [
      resourceId,
      digest,
      inputName,
      jobId,
    ]);
    return row?.first ?? true;
  }
}
