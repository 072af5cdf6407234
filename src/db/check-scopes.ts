// What a check step reads and writes on its scope (concourse-core §5): the per-scope lock that
// keeps one scope from being checked twice at once, the "should it run" inputs, and the check
// times that drive the checker.
import type { Database, Queryable } from './database.ts';
import type { Version } from './versions.ts';

export interface ScopeCheckState {
  lastCheckStartTime: Date | null;
  lastCheckEndTime: Date | null;
  lastCheckSucceeded: boolean;
  nextCheckTime: Date | null;
}

export async function scopeCheckState(db: Queryable, scopeId: number): Promise<ScopeCheckState> {
  const r = await db.query<{
    last_check_start_time: Date | null;
    last_check_end_time: Date | null;
    last_check_succeeded: boolean;
    next_check_time: Date | null;
  }>(
    'SELECT last_check_start_time, last_check_end_time, last_check_succeeded, next_check_time FROM resource_config_scopes WHERE id = $1',
    [scopeId],
  );
  const row = r.rows[0];
  if (!row) throw new Error(`resource config scope ${scopeId} not found`);
  return {
    lastCheckStartTime: row.last_check_start_time,
    lastCheckEndTime: row.last_check_end_time,
    lastCheckSucceeded: row.last_check_succeeded,
    nextCheckTime: row.next_check_time,
  };
}

/** The scope's newest version by check order, if any. */
export async function scopeLatestVersion(db: Queryable, scopeId: number): Promise<Version | undefined> {
  const r = await db.query<{ version: Version }>(
    `SELECT version FROM resource_config_versions WHERE resource_config_scope_id = $1
      ORDER BY check_order DESC, id DESC LIMIT 1`,
    [scopeId],
  );
  return r.rows[0]?.version;
}

export async function markCheckStarted(
  db: Queryable,
  scopeId: number,
  build?: { id: number; plan: unknown },
): Promise<void> {
  await db.query(
    `UPDATE resource_config_scopes SET last_check_start_time = now(),
            last_check_build_id = coalesce($2, last_check_build_id),
            last_check_build_plan = coalesce($3::jsonb, last_check_build_plan)
      WHERE id = $1`,
    [scopeId, build?.id ?? null, build ? JSON.stringify(build.plan) : null],
  );
}

/** Records how a check ended; the next periodic check is due one interval later (never: no next). */
export async function markCheckFinished(db: Queryable, scopeId: number, succeeded: boolean, intervalMs: number | undefined): Promise<void> {
  await db.query(
    `UPDATE resource_config_scopes SET last_check_end_time = now(), last_check_succeeded = $2,
            next_check_time = CASE WHEN $3::bigint IS NULL THEN NULL ELSE now() + ($3::bigint * interval '1 millisecond') END
      WHERE id = $1`,
    [scopeId, succeeded, intervalMs ?? null],
  );
}

// A fixed namespace for scope locks, so they never collide with other advisory locks.
const SCOPE_LOCK_NAMESPACE = 0x4a57;

/**
 * Holds a session-level advisory lock on the scope until `release` is called. Waits while
 * another check of the same scope runs, which is what makes the "should it run" re-evaluation
 * after acquiring it meaningful.
 */
export async function lockScopeForCheck(db: Database, scopeId: number, signal: AbortSignal): Promise<() => Promise<void>> {
  const client = await db.pool.connect();
  let released = false;
  const release = async (): Promise<void> => {
    if (released) return;
    released = true;
    try {
      await client.query('SELECT pg_advisory_unlock($1, $2)', [SCOPE_LOCK_NAMESPACE, scopeId]);
    } finally {
      client.release();
    }
  };
  try {
    for (;;) {
      signal.throwIfAborted();
      const r = await client.query<{ locked: boolean }>('SELECT pg_try_advisory_lock($1, $2) AS locked', [SCOPE_LOCK_NAMESPACE, scopeId]);
      if (r.rows[0]?.locked) return release;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  } catch (err) {
    released = true;
    client.release();
    throw err;
  }
}
