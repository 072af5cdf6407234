// The team store: teams and their auth (Concourse's `teams.auth`: per role, the users and groups
// that hold it), who holds which role, and set/rename/destroy. Team main's auth is the web node's
// configuration, not a row's: it is never written here.
import type { Queryable, Row } from './database.ts';
import { pgErrorCode } from './database.ts';
import { ConflictError, NotFoundError } from './errors.ts';

export interface TeamRecord {
  id: number;
  name: string;
  /** as stored: `{<role>: {users: [...], groups: [...]}}` */
  auth: Record<string, { users?: string[]; groups?: string[] }>;
}

export async function listTeamRecords(db: Queryable, names?: readonly string[]): Promise<TeamRecord[]> {
  const r = names
    ? await db.query<TeamRecord & Row>('SELECT id, name, auth FROM teams WHERE name = ANY($1::text[]) ORDER BY name', [names])
    : await db.query<TeamRecord & Row>('SELECT id, name, auth FROM teams ORDER BY name');
  return r.rows;
}

export async function findTeam(db: Queryable, name: string): Promise<TeamRecord | undefined> {
  const r = await db.query<TeamRecord & Row>('SELECT id, name, auth FROM teams WHERE name = $1', [name]);
  return r.rows[0];
}

/** Every team's name (an admin acts for all of them). */
export async function teamNames(db: Queryable): Promise<string[]> {
  const r = await db.query<{ name: string }>('SELECT name FROM teams ORDER BY name');
  return r.rows.map((row) => row.name);
}

/** Creates the team, or replaces its auth (set-team). */
export async function saveTeam(db: Queryable, name: string, auth: TeamRecord['auth']): Promise<{ created: boolean }> {
  const r = await db.query<{ created: boolean }>(
    `INSERT INTO teams (name, auth) VALUES ($1, $2::jsonb)
     ON CONFLICT (name) DO UPDATE SET auth = EXCLUDED.auth
     RETURNING (xmax = 0) AS created`,
    [name, JSON.stringify(auth)],
  );
  return { created: r.rows[0]?.created ?? false };
}

/** Renames a team (its pipelines and builds follow: they refer to its id). */
export async function renameTeam(db: Queryable, from: string, to: string): Promise<void> {
  try {
    const r = await db.query('UPDATE teams SET name = $2 WHERE name = $1', [from, to]);
    if (r.rowCount === 0) throw new NotFoundError(`team ${from} not found`);
  } catch (err) {
    if (pgErrorCode(err) === '23505') throw new ConflictError(`a team named ${to} already exists`);
    throw err;
  }
}

/** Destroys a team with its pipelines, builds and everything they own (cascades). */
export async function destroyTeam(db: Queryable, name: string): Promise<void> {
  const r = await db.query('DELETE FROM teams WHERE name = $1', [name]);
  if (r.rowCount === 0) throw new NotFoundError(`team ${name} not found`);
}
