// Whether the database answers (the API's /health).
import type { Queryable } from './database.ts';

/** Resolves once Postgres has answered a trivial query; rejects when it cannot. */
export async function ping(db: Queryable): Promise<void> {
  await db.query('SELECT 1');
}
