// Garbage collection on the web node (Concourse's atc/gc, for what Jetway keeps): artifact
// tarballs of one-off builds once the build is done and a grace period passed (the client
// downloads outputs right after the build), uploads no build ever used, expired tokens, and the
// logs (events) of builds their job's build_log_retention lets go (the build rows stay, with a
// reap_time, as in Concourse), and resource caches and configs nothing keeps alive.
// Build volumes of the local runtime are freed by the engine when each build ends.
import { type Logger } from '../log.ts';
import { rm } from 'node:fs/promises';
import type { Database } from '../db/database.ts';
import { buildsToReap, retentionPolicy } from './build-log-retention.ts';

export interface CollectorOptions {
  /** how long a finished one-off build's artifacts stay downloadable (default 1 hour) */
  artifactGraceMs?: number;
  /** how long an upload may wait for a build to use it (default 1 hour) */
  unusedUploadMs?: number;
  /** time between collections (default 30 s, Concourse's GC cadence) */
  intervalMs?: number;
  /** how long an unreferenced resource cache or config stays (default 1 hour) */
  resourceGraceMs?: number;
  logger: Logger;
}

export interface CollectionResult {
  artifacts: number;
  tokens: number;
  /** builds whose logs were reaped */
  buildLogs: number;
  resourceCaches: number;
  resourceConfigs: number;
}

export class Collector {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly db: Database,
    private readonly opts: CollectorOptions,
  ) {}

  async collect(now = new Date()): Promise<CollectionResult> {
    const grace = this.opts.artifactGraceMs ?? 3_600_000;
    const unused = this.opts.unusedUploadMs ?? 3_600_000;
    const doomed = await this.db.query<{ id: number; location: string | null }>(
      `DELETE FROM artifacts a
        WHERE (a.build_id IS NOT NULL AND EXISTS (
                 SELECT 1 FROM builds b WHERE b.id = a.build_id AND b.completed AND b.end_time < $1::timestamptz - ($2::bigint * interval '1 millisecond')))
           OR (a.build_id IS NULL AND a.created_at < $1::timestamptz - ($3::bigint * interval '1 millisecond'))
        RETURNING a.id, a.location`,
      [now.toISOString(), grace, unused],
    );
    for (const row of doomed.rows) {
      if (row.location) await rm(row.location, { force: true }).catch(() => undefined);
    }
    const tokens = await this.db.query('DELETE FROM access_tokens WHERE expires_at < $1', [now.toISOString()]);
    const buildLogs = await this.reapBuildLogs(now);
    const { caches, configs } = await this.collectResourceCaches(now);
    const result = { artifacts: doomed.rowCount ?? doomed.rows.length, tokens: tokens.rowCount ?? 0, buildLogs, resourceCaches: caches, resourceConfigs: configs };
    if (Object.values(result).some((n) => n > 0)) this.opts.logger.info(result, 'garbage collected');
    return result;
  }

  /**
   * Concourse's resource cache and resource config collectors. A cache stays while it is the
   * parent of a config (a custom type's image), the image of a job's latest succeeded build
   * (build_image_resource_caches keeps only those), in use, or referenced within the grace
   * period; a config while a resource or resource type points at it, it has caches or a version
   * history (a scope), or it was referenced within the grace period. A config going frees its
   * parent cache for a later pass.
   */
  private async collectResourceCaches(now: Date): Promise<{ caches: number; configs: number }> {
    const grace = this.opts.resourceGraceMs ?? 3_600_000;
    const caches = await this.db.query(
      `DELETE FROM resource_caches c
        WHERE c.last_referenced < $1::timestamptz - ($2::bigint * interval '1 millisecond')
          AND NOT EXISTS (SELECT 1 FROM resource_configs rc WHERE rc.resource_cache_id = c.id)
          AND NOT EXISTS (SELECT 1 FROM build_image_resource_caches b WHERE b.resource_cache_id = c.id)
          AND NOT EXISTS (SELECT 1 FROM resource_cache_uses u WHERE u.resource_cache_id = c.id)`,
      [now.toISOString(), grace],
    );
    const configs = await this.db.query(
      `DELETE FROM resource_configs rc
        WHERE rc.last_referenced < $1::timestamptz - ($2::bigint * interval '1 millisecond')
          AND NOT EXISTS (SELECT 1 FROM resources r WHERE r.resource_config_id = rc.id)
          AND NOT EXISTS (SELECT 1 FROM resource_types t WHERE t.resource_config_id = rc.id)
          AND NOT EXISTS (SELECT 1 FROM resource_caches c WHERE c.resource_config_id = rc.id)
          AND NOT EXISTS (SELECT 1 FROM resource_config_scopes s WHERE s.resource_config_id = rc.id)`,
      [now.toISOString(), grace],
    );
    return { caches: caches.rowCount ?? 0, configs: configs.rowCount ?? 0 };
  }

  /** Applies every active job's build_log_retention; returns how many builds' logs went. */
  private async reapBuildLogs(now: Date): Promise<number> {
    const jobs = await this.db.query<{ id: number; config: { build_log_retention?: unknown; build_logs_to_retain?: unknown } }>(
      `SELECT id, config FROM jobs WHERE active AND (config ? 'build_log_retention' OR config ? 'build_logs_to_retain')`,
    );
    let reaped = 0;
    for (const job of jobs.rows) {
      const policy = retentionPolicy(job.config);
      if (!policy) continue;
      const builds = await this.db.query<{ id: number; status: string; completed: boolean; end_time: Date | null }>(
        'SELECT id, status, completed, end_time FROM builds WHERE job_id = $1 AND reap_time IS NULL ORDER BY id DESC',
        [job.id],
      );
      const doomedBuilds = buildsToReap(
        builds.rows.map((b) => ({ id: Number(b.id), status: b.status, completed: b.completed, endTime: b.end_time })),
        policy,
        now,
      );
      if (doomedBuilds.length === 0) continue;
      await this.db.transaction(async (tx) => {
        await tx.query('DELETE FROM build_events WHERE build_id = ANY($1::int[])', [doomedBuilds]);
        await tx.query('UPDATE builds SET reap_time = $2 WHERE id = ANY($1::int[])', [doomedBuilds, now.toISOString()]);
      });
      reaped += doomedBuilds.length;
    }
    return reaped;
  }

  start(): void {
    const tick = (): void => {
      this.running = this.collect().catch((err: unknown) => this.opts.logger.warn({ err: err instanceof Error ? err.message : String(err) }, 'garbage collection failed'));
    };
    this.timer = setInterval(tick, this.opts.intervalMs ?? 30_000);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    await this.running;
  }
}
