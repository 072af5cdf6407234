// The web node's periodic passes as Concourse's components (GET /api/v1/components, fly
// get-components / pause-component): src/db/cluster.ts's periodic_passes rows.
import type { Queryable } from './database.ts';

export interface ComponentRow {
  name: string;
  intervalMs: number;
  lastRanAt: Date | null;
  paused: boolean;
}

export async function listComponents(db: Queryable): Promise<ComponentRow[]> {
  const r = await db.query<{ name: string; interval_ms: string | null; last_run_at: Date | null; paused: boolean }>(
    'SELECT name, interval_ms, last_run_at, paused FROM periodic_passes ORDER BY lower(name), name',
  );
  return r.rows.map((row) => ({ name: row.name, intervalMs: Number(row.interval_ms ?? 0), lastRanAt: row.last_run_at, paused: row.paused }));
}

/** Pauses or unpauses one component (false: there is none of that name) or, without a name, every one. */
export async function setComponentPaused(db: Queryable, name: string | undefined, paused: boolean): Promise<boolean> {
  const r =
    name === undefined
      ? await db.query('UPDATE periodic_passes SET paused = $1', [paused])
      : await db.query('UPDATE periodic_passes SET paused = $2 WHERE name = $1', [name, paused]);
  return name === undefined || (r.rowCount ?? 0) > 0;
}
