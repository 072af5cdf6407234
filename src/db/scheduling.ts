// What the scheduling loop and the build starter need beyond the job and build stores: the
// per-job scheduling lock, and a pipeline's config by id.
import type { PipelineConfig } from '../config/index.ts';
import type { Database, Queryable } from './database.ts';

/** Advisory-lock class of the per-job scheduling lock (session level). */
const JOB_LOCK_CLASS = 0x6a7703;

/**
 * Runs `fn` holding the job's scheduling lock, so that one scheduler at a time schedules a job
 * across web nodes; `{ locked: false }` at once when another holds it. The lock is a
 * session-level advisory lock on a connection of its own, held for the whole of `fn` (which
 * runs its own transactions on the pool).
 */
export async function tryWithJobSchedulingLock<T>(
  db: Database,
  jobId: number,
  fn: () => Promise<T>,
): Promise<{ locked: true; value: T } | { locked: false }> {
  const client = await db.pool.connect();
  try {
    const got = await client.query<{ ok: boolean }>('SELECT pg_try_advisory_lock($1, $2) AS ok', [JOB_LOCK_CLASS, jobId]);
    if (!got.rows[0]?.ok) return { locked: false };
    try {
      return { locked: true, value: await fn() };
    } finally {
      await client.query('SELECT pg_advisory_unlock($1, $2)', [JOB_LOCK_CLASS, jobId]);
    }
  } finally {
    client.release();
  }
}

/** The stored config of a pipeline, by id (undefined when there is no such pipeline). */
export async function pipelineConfigById(db: Queryable, pipelineId: number): Promise<PipelineConfig | undefined> {
  const r = await db.query<{ config: PipelineConfig }>('SELECT config FROM pipelines WHERE id = $1', [pipelineId]);
  return r.rows[0]?.config;
}
