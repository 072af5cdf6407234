// The bearer tokens the API's token endpoint issues (table access_tokens, migration 0003_auth).
// Only a token's sha256 is stored: the caller digests the token, this store never sees it.
import type { Queryable } from './database.ts';

export interface NewAccessToken {
  /** sha256 (hex) of the token */
  sha256: string;
  username: string;
  /** the teams the user held a role in when the token was issued */
  teams: readonly string[];
  expiresAt: Date;
}

export interface StoredAccessToken {
  username: string;
  /** by the database's clock, so that every web node agrees */
  expired: boolean;
  /** how long it has left by the database's clock (negative once expired): a cache's deadline */
  expiresInMs: number;
  /** every team's name, sorted: read in the same statement (an admin's roles), saving a round trip a request */
  teamNames: string[];
}

export async function saveAccessToken(db: Queryable, token: NewAccessToken): Promise<void> {
  await db.query('INSERT INTO access_tokens (token_sha256, username, teams, expires_at) VALUES ($1, $2, $3, $4)', [
    token.sha256,
    token.username,
    token.teams,
    token.expiresAt,
  ]);
}

/** Drops the tokens that have expired; how many went. */
export async function deleteExpiredAccessTokens(db: Queryable): Promise<number> {
  const r = await db.query('DELETE FROM access_tokens WHERE expires_at < now()');
  return r.rowCount;
}

export async function findAccessToken(db: Queryable, sha256: string): Promise<StoredAccessToken | undefined> {
  const r = await db.query<{ username: string; expired: boolean; expires_in_ms: number; team_names: string[] }>(
    `SELECT username, expires_at < now() AS expired, (extract(epoch FROM expires_at - now()) * 1000)::float8 AS expires_in_ms,
            ARRAY(SELECT name FROM teams ORDER BY name) AS team_names
       FROM access_tokens WHERE token_sha256 = $1`,
    [sha256],
  );
  const row = r.rows[0];
  return row ? { username: row.username, expired: row.expired, expiresInMs: row.expires_in_ms, teamNames: row.team_names } : undefined;
}

/** Deletes a token (logout); the user it belonged to, or undefined for an unknown one. */
export async function deleteAccessToken(db: Queryable, sha256: string): Promise<string | undefined> {
  const r = await db.query<{ username: string }>('DELETE FROM access_tokens WHERE token_sha256 = $1 RETURNING username', [sha256]);
  return r.rows[0]?.username;
}
