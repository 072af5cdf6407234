// What the scheduling loop and the build starter need beyond the job and build stores: the
// per-job scheduling lock, and a pipeline's config by id.
import type { PipelineConfig } from '../config/index.ts';
import type { Database, Queryable } from './database.ts';

/** Advisory-lock class of the per-job scheduling lock (session level). */
const JOB_LOCK_CLASS = 0x6a7703;

/**
 * Runs `fn` holding the scheduling locks of those of `jobIds` no other scheduler holds (the set
 * it is given), so that one scheduler at a time schedules a job across web nodes. The locks are
 * session-level advisory locks on a connection of their own, taken and released in one
 * statement each for all the jobs (a pass locks its due jobs a chunk at a time: issue 23), and
 * held for the whole of `fn` (which runs its own transactions on the pool). A connection whose
 * unlock failed is closed rather than pooled, which releases whatever it held.
 */
export async function withJobSchedulingLocks<T>(
  db: Database,
  jobIds: readonly number[],
  fn: (locked: ReadonlySet<number>) => Promise<T>,
): Promise<T> {
  const client = await db.pool.connect();
  let locked: Set<number>;
  try {
    const got = await client.query<{ id: number }>('SELECT id FROM unnest($2::int[]) AS id WHERE pg_try_advisory_lock($1, id)', [
      JOB_LOCK_CLASS,
      jobIds,
    ]);
    locked = new Set(got.rows.map((r) => r.id));
  } catch (err) {
    client.release(err instanceof Error ? err : true);
    throw err;
  }
  try {
    return await fn(locked);
  } finally {
    const unlocked =
      locked.size === 0 ||
      (await client.query('SELECT pg_advisory_unlock($1, id) FROM unnest($2::int[]) AS id', [JOB_LOCK_CLASS, [...locked]]).then(
        () => true,
        () => false,
      ));
    client.release(!unlocked);
  }
}

/** The stored config of a pipeline, by id (undefined when there is no such pipeline). */
export async function pipelineConfigById(db: Queryable, pipelineId: number): Promise<PipelineConfig | undefined> {
  const r = await db.query<{ config: PipelineConfig }>('SELECT config FROM pipelines WHERE id = $1', [pipelineId]);
  return r.rows[0]?.config;
}
