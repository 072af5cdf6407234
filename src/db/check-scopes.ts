// What a check step reads and writes on its scope (docs/concourse-semantics.md §5): the per-scope lock that
// keeps one scope from being checked twice at once, the "should it run" inputs, and the check
// times that drive the checker.
import { randomUUID } from 'node:crypto';
import type { Database, Queryable } from './database.ts';
import type { ScopeCheckState } from '../model/resource-config.ts';
import { versionDigest, type Version } from '../model/version.ts';
import { saveVersionsInTransaction } from './versions.ts';

export type { ScopeCheckState } from '../model/resource-config.ts';

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

/** How long a check lease lives unrenewed: a dead holder frees the scope within it (issue 17). */
export const CHECK_LEASE_TTL_MS = 30_000;

/** A held check lease (src/engine/store.ts's ScopeCheckLease, the same shape). */
export interface CheckLease {
  state: ScopeCheckState;
  latest: Version | undefined;
  finish(succeeded: boolean, intervalMs: number | undefined, versions?: readonly Version[]): Promise<Version | undefined>;
  release(): Promise<void>;
}

interface LeaseRow extends Record<string, unknown> {
  last_check_start_time: Date | null;
  last_check_end_time: Date | null;
  last_check_succeeded: boolean;
  next_check_time: Date | null;
  latest: Version | null;
}

const LATEST = `(SELECT v.version FROM resource_config_versions v WHERE v.resource_config_scope_id = s.id ORDER BY v.check_order DESC, v.id DESC LIMIT 1)`;

/**
 * Takes the scope's check lease (one check of a scope at a time), waiting while another check
 * holds it, and answers the scope's check state and newest version with it (one statement). The
 * stored lease lives `ttlMs` (30 s) and is renewed while the check runs, for at most `leaseMs` (a
 * check's timeout and a margin): a web node that dies mid-check frees the scope within `ttlMs`,
 * not after the check's whole timeout (a crashed node's lease once stayed 61 minutes). No
 * database connection is held while the check runs. `finish` records the check's end and lets
 * the lease go in one statement.
 */
export async function lockScopeForCheck(db: Database, scopeId: number, signal: AbortSignal, leaseMs = 3_600_000, ttlMs = CHECK_LEASE_TTL_MS): Promise<CheckLease> {
  const owner = randomUUID();
  const ttl = Math.max(1, Math.min(leaseMs, ttlMs));
  let row: LeaseRow | undefined;
  for (;;) {
    signal.throwIfAborted();
    const r = await db.query<LeaseRow>(
      `UPDATE resource_config_scopes s SET check_lease_owner = $2, check_lease_until = now() + ($3::bigint * interval '1 millisecond')
        WHERE s.id = $1 AND (s.check_lease_until IS NULL OR s.check_lease_until < now())
        RETURNING s.last_check_start_time, s.last_check_end_time, s.last_check_succeeded, s.next_check_time, ${LATEST} AS latest`,
      [scopeId, owner, ttl],
    );
    row = r.rows[0];
    if (row) break;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  const heldUntil = Date.now() + leaseMs;
  const renew = setInterval(() => {
    if (Date.now() > heldUntil) return clearInterval(renew);
    db.query(
      `UPDATE resource_config_scopes SET check_lease_until = now() + ($3::bigint * interval '1 millisecond') WHERE id = $1 AND check_lease_owner = $2`,
      [scopeId, owner, ttl],
    ).catch(() => undefined);
  }, Math.max(20, ttl / 3));
  renew.unref();
  let released = false;
  return {
    state: {
      lastCheckStartTime: row.last_check_start_time,
      lastCheckEndTime: row.last_check_end_time,
      lastCheckSucceeded: row.last_check_succeeded,
      nextCheckTime: row.next_check_time,
    },
    latest: row.latest ?? undefined,
    async finish(succeeded, intervalMs, versions = []) {
      clearInterval(renew);
      // the end is recorded whoever holds the lease now (as markCheckFinished); it is let go only if still ours
      const end = async (ok: boolean, onlyIfKnown?: string[]): Promise<{ done: boolean; latest: Version | undefined }> => {
        const r = await db.query<{ latest: Version | null }>(
          `UPDATE resource_config_scopes s SET last_check_end_time = now(), last_check_succeeded = $3,
                  next_check_time = CASE WHEN $4::bigint IS NULL THEN NULL ELSE now() + ($4::bigint * interval '1 millisecond') END,
                  check_lease_owner = CASE WHEN s.check_lease_owner = $2 THEN NULL ELSE s.check_lease_owner END,
                  check_lease_until = CASE WHEN s.check_lease_owner = $2 THEN NULL ELSE s.check_lease_until END
            WHERE s.id = $1
              AND ($5::text[] IS NULL OR (SELECT count(*) FROM resource_config_versions v
                                           WHERE v.resource_config_scope_id = $1 AND v.version_sha256 = ANY($5::text[])) = cardinality($5::text[]))
            RETURNING ${LATEST} AS latest`,
          [scopeId, owner, ok, intervalMs ?? null, onlyIfKnown ?? null],
        );
        const row = r.rows[0];
        return { done: row !== undefined, latest: row?.latest ?? undefined };
      };
      if (succeeded && versions.length > 0) {
        // the steady state: every version found is known already, nothing to save: the end alone,
        // in one statement (it changes nothing when one is new, and the versions are saved first)
        const known = await end(true, [...new Set(versions.map((v) => versionDigest(v)))]);
        if (known.done) return (released = true), known.latest;
        try {
          // one is unknown (the statement above changed nothing): saveVersions' own steady-state read would ask again
          await saveVersionsInTransaction(db, scopeId, versions.map((version) => ({ version })));
        } catch (err) {
          // what the check found could not be saved: it ended failed, and waits its interval
          await end(false).catch(() => undefined);
          released = true;
          throw err;
        }
      }
      const ended = await end(succeeded);
      released = true;
      return ended.latest;
    },
    async release() {
      if (released) return;
      released = true;
      clearInterval(renew);
      await db.query('UPDATE resource_config_scopes SET check_lease_owner = NULL, check_lease_until = NULL WHERE id = $1 AND check_lease_owner = $2', [scopeId, owner]);
    },
  };
}
