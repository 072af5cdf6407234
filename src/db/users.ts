// The users who logged in (Concourse's users table, atc/db/user_factory.go): one row per user and
// connector with the latest login, for GET /api/v1/users (fly active-users).
import type { Queryable } from './database.ts';

export interface UserLogin {
  username: string;
  connector: string;
  lastLogin: Date;
}

/** Records a successful login. */
export async function recordLogin(db: Queryable, username: string, connector = 'local'): Promise<void> {
  await db.query(
    `INSERT INTO users (username, connector) VALUES ($1, $2)
     ON CONFLICT (connector, username) DO UPDATE SET last_login = now()`,
    [username, connector],
  );
}

/** The users who logged in, at or after `since` when given, most recent login first. */
export async function listUserLogins(db: Queryable, since?: Date): Promise<UserLogin[]> {
  const r = await db.query<{ username: string; connector: string; last_login: Date }>(
    `SELECT username, connector, last_login FROM users
      WHERE $1::timestamptz IS NULL OR last_login >= $1::timestamptz
      ORDER BY last_login DESC, username`,
    [since ?? null],
  );
  return r.rows.map((row) => ({ username: row.username, connector: row.connector, lastLogin: row.last_login }));
}
