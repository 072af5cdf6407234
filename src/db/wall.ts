// Concourse's wall (atc/db/wall.go): one message for every user, with an optional expiry. Setting
// it replaces the previous one; an expired message reads as none.
import type { Queryable } from './database.ts';

export interface WallMessage {
  message: string;
  /** when it stops being shown; null: until cleared */
  expiresAt: Date | null;
}

/** The current message, or undefined when there is none or it expired. */
export async function getWall(db: Queryable): Promise<WallMessage | undefined> {
  const r = await db.query<{ message: string; expires_at: Date | null }>(
    'SELECT message, expires_at FROM wall WHERE expires_at IS NULL OR expires_at > now() LIMIT 1',
  );
  const row = r.rows[0];
  return row ? { message: row.message, expiresAt: row.expires_at } : undefined;
}

/** Replaces the message; ttlMs > 0 makes it expire that long from now. */
export async function setWall(db: Queryable, message: string, ttlMs: number | null): Promise<void> {
  // one statement: a concurrent reader sees the old message or the new one, never none
  await db.query(
    `WITH gone AS (DELETE FROM wall)
     INSERT INTO wall (message, expires_at) VALUES ($1, CASE WHEN $2::bigint IS NULL THEN NULL ELSE now() + $2::bigint * interval '1 millisecond' END)`,
    [message, ttlMs],
  );
}

export async function clearWall(db: Queryable): Promise<void> {
  await db.query('DELETE FROM wall');
}
