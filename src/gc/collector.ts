// Garbage collection on the web node (Concourse's atc/gc, for what Jetway keeps): artifact
// tarballs of one-off builds once the build is done and a grace period passed (the client
// downloads outputs right after the build), uploads no build ever used, and expired tokens.
// Build volumes of the local runtime are freed by the engine when each build ends.
import { rm } from 'node:fs/promises';
import type { Database } from '../db/database.ts';

export interface CollectorOptions {
  /** how long a finished one-off build's artifacts stay downloadable (default 1 hour) */
  artifactGraceMs?: number;
  /** how long an upload may wait for a build to use it (default 1 hour) */
  unusedUploadMs?: number;
  /** time between collections (default 30 s, Concourse's GC cadence) */
  intervalMs?: number;
  logger: { info(obj: object, msg?: string): void; warn(obj: object, msg?: string): void };
}

export interface CollectionResult {
  artifacts: number;
  tokens: number;
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
    const result = { artifacts: doomed.rowCount ?? doomed.rows.length, tokens: tokens.rowCount ?? 0 };
    if (result.artifacts > 0 || result.tokens > 0) this.opts.logger.info(result, 'garbage collected');
    return result;
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
