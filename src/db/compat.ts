// Small reads and writes behind Concourse's routes that only the compatibility routes use
// (docs/concourse-compatibility.md): build comments, builds by start time (fly builds --since /
// --until), a team's running builds (its containers), and the jobs and resources of many
// pipelines at once (GET /api/v1/jobs, GET /api/v1/resources).
import { BUILD_SELECT, toBuildRecord, type BuildRecord } from './builds.ts';
import type { Queryable } from './database.ts';

/** Sets a build's comment (Concourse's SetBuildComment); false when the build does not exist. */
export async function setBuildComment(db: Queryable, buildId: number, comment: string): Promise<boolean> {
  const r = await db.query('UPDATE builds SET comment = $2 WHERE id = $1', [buildId, comment]);
  return r.rowCount > 0;
}

export interface BuildTimeRange {
  /** unix seconds: builds that started at or after it */
  since?: number;
  /** unix seconds: builds that started at or before it */
  until?: number;
}

/**
 * Job and one-off builds that started within the range, newest first (Concourse's
 * getBuildsWithDates: `?timestamps=true` turns from/to into start times, without pages).
 * teamIds undefined: every team's (an admin's view).
 */
export async function buildsStartedBetween(
  db: Queryable,
  visible: { teamIds?: readonly number[]; orPublic?: boolean },
  range: BuildTimeRange,
  limit: number,
): Promise<BuildRecord[]> {
  const params: unknown[] = [];
  const cond = ['b.resource_id IS NULL AND b.resource_type_id IS NULL'];
  if (visible.teamIds !== undefined) {
    params.push(visible.teamIds);
    const mine = `b.team_id = ANY($${params.length}::int[])`;
    cond.push(visible.orPublic ? `(${mine} OR p.public)` : mine);
  }
  if (range.since !== undefined) {
    params.push(range.since);
    cond.push(`b.start_time >= to_timestamp($${params.length})`);
  }
  if (range.until !== undefined) {
    params.push(range.until);
    cond.push(`b.start_time <= to_timestamp($${params.length})`);
  }
  params.push(limit);
  const r = await db.query<Parameters<typeof toBuildRecord>[0]>(
    `${BUILD_SELECT} WHERE ${cond.join(' AND ')} ORDER BY coalesce(b.rerun_of, b.id) DESC, b.id DESC LIMIT $${params.length}`,
    params,
  );
  return r.rows.map(toBuildRecord);
}

/** Ids of a team's builds that have not completed (their containers are the team's), newest first, at most `limit`. */
export async function runningBuildIds(db: Queryable, teamName: string, limit: number): Promise<number[]> {
  const r = await db.query<{ id: number }>(
    `SELECT b.id FROM builds b JOIN teams t ON t.id = b.team_id
      WHERE t.name = $1 AND NOT b.completed AND b.status IN ('pending', 'started')
      ORDER BY b.id DESC LIMIT $2`,
    [teamName, limit],
  );
  return r.rows.map((row) => row.id);
}

export interface ResourceVersionRow {
  id: number;
  version: Record<string, string>;
  metadata: { name: string; value: string }[];
  enabled: boolean;
  /** sha256, and md5 for old rows: what build inputs and outputs name it by */
  digests: string[];
}

/** One version of a resource (by `resource_config_versions.id`) in its current history. */
export async function resourceVersionById(
  db: Queryable,
  resource: { id: number; scopeId: number | null },
  versionId: number,
): Promise<ResourceVersionRow | undefined> {
  if (resource.scopeId === null) return undefined;
  const r = await db.query<{ id: number; version: Record<string, string>; metadata: { name: string; value: string }[]; sha256: string; md5: string | null; enabled: boolean }>(
    `SELECT v.id, v.version, v.metadata, v.version_sha256 AS sha256, v.version_md5 AS md5,
            NOT EXISTS (SELECT 1 FROM resource_disabled_versions d WHERE d.resource_id = $3 AND d.version_digest = v.version_sha256) AS enabled
       FROM resource_config_versions v WHERE v.id = $1 AND v.resource_config_scope_id = $2`,
    [versionId, resource.scopeId, resource.id],
  );
  const row = r.rows[0];
  if (!row) return undefined;
  return { id: row.id, version: row.version, metadata: row.metadata, enabled: row.enabled, digests: [row.sha256, ...(row.md5 ? [row.md5] : [])] };
}
