// The Postgres GcStore (garbage collection's port, src/gc/store.ts, checked where the collector is
// built): one statement per collection; the cut-off times come from the collectors' policy.
import type { Queryable } from './database.ts';

/** A job's build, as build log retention reads it. */
export interface RetainedBuild {
  id: number;
  status: string;
  completed: boolean;
  endTime: Date | null;
}

export class PostgresGcStore {
  constructor(private readonly db: Queryable) {}

  async deleteExpiredArtifacts(expired: { buildEndedBefore: Date; uploadCreatedBefore: Date }): Promise<{ id: number; location: string | null }[]> {
    const r = await this.db.query<{ id: number; location: string | null }>(
      `DELETE FROM artifacts a
        WHERE (a.build_id IS NOT NULL AND EXISTS (
                 SELECT 1 FROM builds b WHERE b.id = a.build_id AND b.completed AND b.end_time < $1::timestamptz))
           OR (a.build_id IS NULL AND a.created_at < $2::timestamptz)
        RETURNING a.id, a.location`,
      [expired.buildEndedBefore.toISOString(), expired.uploadCreatedBefore.toISOString()],
    );
    return r.rows.map((row) => ({ id: Number(row.id), location: row.location }));
  }

  async removeExpiredAccessTokens(now: Date): Promise<number> {
    const r = await this.db.query('DELETE FROM access_tokens WHERE expires_at < $1', [now.toISOString()]);
    return r.rowCount;
  }

  async jobsWithBuildLogRetention(): Promise<{ id: number; config: { build_log_retention?: unknown; build_logs_to_retain?: unknown } }[]> {
    const r = await this.db.query<{ id: number; config: { build_log_retention?: unknown; build_logs_to_retain?: unknown } }>(
      `SELECT id, config FROM jobs WHERE active AND (config ? 'build_log_retention' OR config ? 'build_logs_to_retain')`,
    );
    return r.rows.map((row) => ({ id: Number(row.id), config: row.config }));
  }

  async unreapedBuilds(jobId: number): Promise<RetainedBuild[]> {
    const r = await this.db.query<{ id: number; status: string; completed: boolean; end_time: Date | null }>(
      'SELECT id, status, completed, end_time FROM builds WHERE job_id = $1 AND reap_time IS NULL ORDER BY id DESC',
      [jobId],
    );
    return r.rows.map((b) => ({ id: Number(b.id), status: b.status, completed: b.completed, endTime: b.end_time }));
  }

  async reapBuildLogs(buildIds: readonly number[], reapTime: Date): Promise<void> {
    await this.db.transaction(async (tx) => {
      await tx.query('DELETE FROM build_events WHERE build_id = ANY($1::int[])', [buildIds]);
      await tx.query('UPDATE builds SET reap_time = $2 WHERE id = ANY($1::int[])', [buildIds, reapTime.toISOString()]);
    });
  }

  async cleanUnreferencedResourceCaches(lastReferencedBefore: Date): Promise<number> {
    const r = await this.db.query(
      `DELETE FROM resource_caches c
        WHERE c.last_referenced < $1::timestamptz
          AND NOT EXISTS (SELECT 1 FROM resource_configs rc WHERE rc.resource_cache_id = c.id)
          AND NOT EXISTS (SELECT 1 FROM build_image_resource_caches b WHERE b.resource_cache_id = c.id)
          AND NOT EXISTS (SELECT 1 FROM resource_cache_uses u WHERE u.resource_cache_id = c.id)`,
      [lastReferencedBefore.toISOString()],
    );
    return r.rowCount;
  }

  async resourceCacheIds(): Promise<number[]> {
    const r = await this.db.query<{ id: number }>('SELECT id FROM resource_caches');
    return r.rows.map((row) => Number(row.id));
  }

  async cleanUnreferencedResourceConfigs(lastReferencedBefore: Date): Promise<number> {
    const r = await this.db.query(
      `DELETE FROM resource_configs rc
        WHERE rc.last_referenced < $1::timestamptz
          AND NOT EXISTS (SELECT 1 FROM resources r WHERE r.resource_config_id = rc.id)
          AND NOT EXISTS (SELECT 1 FROM resource_types t WHERE t.resource_config_id = rc.id)
          AND NOT EXISTS (SELECT 1 FROM resource_caches c WHERE c.resource_config_id = rc.id)
          AND NOT EXISTS (SELECT 1 FROM resource_config_scopes s WHERE s.resource_config_id = rc.id)`,
      [lastReferencedBefore.toISOString()],
    );
    return r.rowCount;
  }
}
