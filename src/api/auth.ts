// Local-user authentication for the API.
//
// Users are configured when `jetway web` starts (`name:password`, like Concourse's
// --add-local-user). Passwords are kept only as scrypt hashes (node:crypto) with a random salt,
// in memory; they are never logged. As in Concourse, the password may instead be a bcrypt hash
// (`name:$2a$10$…`, e.g. from `htpasswd -nbBC 10 name pw`), so that no password needs to be on a
// command line, in a file or in the environment; it is checked with bcryptjs. `POST /api/v1/token` exchanges a user name and password for
// a random bearer token; the database keeps only the token's sha256 (src/db/access-tokens.ts),
// so tokens survive a restart of the web node and work across nodes; jetway logout revokes one
// before it expires (the token route's DELETE).
// A user's teams and roles are read at every request (so set-team takes effect at once): team
// main's owners are configured by flags (--main-team-local-user; every local user when none is
// given) and are admins, owners of every team; other teams name their users in their auth.
import { createHash, randomBytes, scrypt, scryptSync, timingSafeEqual } from 'node:crypto';
import bcrypt from 'bcryptjs';
import { deleteAccessToken, deleteExpiredAccessTokens, findAccessToken, saveAccessToken } from '../db/access-tokens.ts';
import type { Queryable } from '../db/database.ts';
import { listTeamRecords, teamNames, type TeamRecord } from '../db/teams.ts';
import type { LookupCache } from './lookup-cache.ts';
import { localUser, MAIN_TEAM, rolesFromAuth, type Role } from './roles.ts';

export interface LocalUser {
  name: string;
  password: string;
}

/** Someone the API has authenticated. */
export interface AuthUser {
  name: string;
  /** the teams the user holds a role in (main first) */
  teams: string[];
  /** the user's roles, by team */
  roles: Record<string, Role[]>;
  /** an owner of team main: owner of every team, and manages teams */
  isAdmin: boolean;
}

export interface AuthOptions {
  /** `name:password` strings or {name, password} objects. */
  users: readonly (string | LocalUser)[];
  /** Lifetime of an issued token (default 24 hours). */
  tokenTtlSeconds?: number;
  /** The owners of team main, the admins (default: every local user). */
  mainTeamUsers?: readonly string[];
}

export interface IssuedToken {
  token: string;
  expiresAt: Date;
  user: AuthUser;
}

/** Parses a `name:password` user spec (the password may itself contain colons). */
export function parseLocalUser(spec: string): LocalUser {
  const i = spec.indexOf(':');
  if (i <= 0 || i === spec.length - 1) {
    throw new Error(`local user must be given as name:password (got '${i <= 0 ? spec : `${spec.slice(0, i)}:…`}')`);
  }
  return { name: spec.slice(0, i), password: spec.slice(i + 1) };
}

const KEYLEN = 32;
const SCRYPT_OPTIONS = { N: 16384, r: 8, p: 1 };

function scryptAsync(password: string, salt: Buffer): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    scrypt(password, salt, KEYLEN, SCRYPT_OPTIONS, (err, key) => (err ? reject(err) : resolve(key)));
  });
}

export const tokenDigest = (token: string): string => createHash('sha256').update(token).digest('hex');

interface StoredUser {
  name: string;
  salt: Buffer;
  hash: Buffer;
  /** a bcrypt hash given instead of a password (then salt and hash are unused) */
  bcrypt?: string;
}

// Concourse's rule (skymarshal): a password of this shape is a bcrypt hash, not a password.
const BCRYPT_HASH = /^\$2[aby]\$\d{2}\$[./A-Za-z0-9]{53}$/;

/** Whether a local user's password is a bcrypt hash (`$2a$`, `$2b$`, `$2y$`). */
export const isBcryptHash = (password: string): boolean => BCRYPT_HASH.test(password);

const INVALID_TOKEN = { refused: 'invalid token; log in again (jetway login)' } as const;

export class LocalAuth {
  private readonly users = new Map<string, StoredUser>();
  private readonly dummy: StoredUser;
  readonly tokenTtlSeconds: number;
  /** the owners of team main (its auth comes from the flags, not from set-team) */
  readonly mainTeamUsers: ReadonlySet<string>;

  constructor(opts: AuthOptions) {
    this.tokenTtlSeconds = opts.tokenTtlSeconds ?? 24 * 3600;
    for (const spec of opts.users) {
      const u = typeof spec === 'string' ? parseLocalUser(spec) : spec;
      if (!u.name) throw new Error('a local user has an empty name');
      const salt = randomBytes(16);
      if (isBcryptHash(u.password)) this.users.set(u.name, { name: u.name, salt, hash: Buffer.alloc(KEYLEN), bcrypt: u.password });
      else this.users.set(u.name, { name: u.name, salt, hash: scryptSync(u.password, salt, KEYLEN, SCRYPT_OPTIONS) });
    }
    // compared against for unknown users, so that the answer takes as long as for known ones
    const unknown = (opts.mainTeamUsers ?? []).filter((u) => !this.users.has(u));
    if (unknown.length > 0) throw new Error(`main team user ${unknown.join(', ')} is not a local user (add it with --add-local-user name:password)`);
    this.mainTeamUsers = new Set(opts.mainTeamUsers ?? this.users.keys());
    const salt = randomBytes(16);
    this.dummy = { name: '', salt, hash: scryptSync(randomBytes(16).toString('hex'), salt, KEYLEN, SCRYPT_OPTIONS) };
  }

  get userNames(): string[] {
    return [...this.users.keys()];
  }

  /** Whether the password is the user's (false for an unknown user, after as long). */
  async verifyPassword(name: string, password: string): Promise<boolean> {
    const known = this.users.get(name);
    if (known?.bcrypt !== undefined) return bcrypt.compare(password, known.bcrypt);
    const user = known ?? this.dummy;
    const hash = await scryptAsync(password, user.salt);
    return timingSafeEqual(hash, user.hash) && known !== undefined;
  }

  /**
   * A local user with the teams and roles they hold now. `known`: what was read already, every
   * team's name (enough for an admin) or every team with its auth (a LookupCache's).
   */
  async user(db: Queryable, name: string, known?: { names: readonly string[] } | { teams: readonly TeamRecord[] }): Promise<AuthUser> {
    const isAdmin = this.mainTeamUsers.has(name);
    const roles: Record<string, Role[]> = {};
    if (isAdmin) {
      const names = known === undefined ? await teamNames(db) : 'names' in known ? known.names : known.teams.map((t) => t.name);
      for (const team of names) roles[team] = ['owner'];
    } else {
      const teams = known !== undefined && 'teams' in known ? known.teams : await listTeamRecords(db);
      for (const [team, held] of rolesFromAuth(teams, localUser(name), MAIN_TEAM)) roles[team] = held;
    }
    const teams = Object.keys(roles).sort((a, b) => Number(b === MAIN_TEAM) - Number(a === MAIN_TEAM) || a.localeCompare(b));
    return { name, teams, roles, isAdmin };
  }

  /** Issues a new bearer token for the user (stored hashed) and drops expired tokens. */
  async issueToken(db: Queryable, name: string): Promise<IssuedToken> {
    const user = await this.user(db, name);
    const token = randomBytes(32).toString('base64url');
    const expiresAt = new Date(Date.now() + this.tokenTtlSeconds * 1000);
    await deleteExpiredAccessTokens(db);
    await saveAccessToken(db, { sha256: tokenDigest(token), username: user.name, teams: user.teams, expiresAt });
    return { token, expiresAt, user };
  }

  /**
   * The user a bearer token belongs to, or the reason it is refused. A token of a user who is
   * no longer configured is refused.
   */
  async authenticate(db: Queryable, token: string, cache?: LookupCache): Promise<AuthUser | { refused: string }> {
    const digest = tokenDigest(token);
    // with a cache: its token and teams (no statement when both are kept); without: one statement
    // reads the token with every team's name (an admin's roles)
    if (cache) {
      const owner = await cache.token(digest);
      if (!owner) return INVALID_TOKEN;
      return this.refusal(owner) ?? this.user(db, owner.username, { teams: await cache.teams() });
    }
    const row = await findAccessToken(db, digest);
    if (!row) return INVALID_TOKEN;
    return this.refusal(row) ?? this.user(db, row.username, { names: row.teamNames });
  }

  private refusal(row: { username: string; expired: boolean }): { refused: string } | undefined {
    if (row.expired) return { refused: 'token expired; log in again (jetway login)' };
    if (!this.users.has(row.username)) return { refused: `user ${row.username} no longer exists; log in again` };
    return undefined;
  }

  /** Revokes a token (logout); the user it belonged to, or undefined for an unknown token. */
  async revokeToken(db: Queryable, token: string, cache?: LookupCache): Promise<string | undefined> {
    const digest = tokenDigest(token);
    const username = await deleteAccessToken(db, digest);
    cache?.forgetToken(digest);
    return username;
  }
}
