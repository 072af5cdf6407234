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

/**
 * Pauses or unpauses the named components or, without names, every one. Names of no component
 * are skipped (kubernetes-reaper on the local runtime); false only when none of them is one.
 */
export async function setComponentPaused(db: Queryable, names: string | readonly string[] | undefined, paused: boolean): Promise<boolean> {
  if (names === undefined) {
    await db.query('UPDATE periodic_passes SET paused = $1', [paused]);
    return true;
  }
  const r = await db.query('UPDATE periodic_passes SET paused = $2 WHERE name = ANY($1::text[])', [typeof names === 'string' ? [names] : [...names], paused]);
  return (r.rowCount ?? 0) > 0;
}
