// Several web nodes on one Postgres (issue 17, docs/web-nodes.md): the web node registry and its
// heartbeat, the lease by which one node owns each running build, and the per-pass lease that
// runs periodic work once per interval across the cluster. Times are the database's (now()), so
// nodes with skewed clocks agree on who holds what.
import type { Database, Queryable } from './database.ts';

const ms = (n: number): number => Math.max(0, Math.round(n));

/** A node (re)starting: its row, with a new incarnation (the builds of the previous one are claimed by claimOrphanedBuilds). */
export async function registerWebNode(db: Queryable, name: string, incarnation: string): Promise<void> {
  await db.query(
    `INSERT INTO web_nodes (name, incarnation) VALUES ($1, $2)
     ON CONFLICT (name) DO UPDATE SET incarnation = EXCLUDED.incarnation, started_at = now(), heartbeat_at = now(), draining = false`,
    [name, incarnation],
  );
}

/** A node stopping cleanly: its row goes (its builds were finished or handed over before). */
export async function removeWebNode(db: Queryable, name: string, incarnation: string): Promise<void> {
  await db.query('DELETE FROM web_nodes WHERE name = $1 AND incarnation = $2', [name, incarnation]);
}

export async function markWebNodeDraining(db: Queryable, name: string): Promise<void> {
  await db.query('UPDATE web_nodes SET draining = true WHERE name = $1', [name]);
}

export interface WebNodeRow {
  name: string;
  incarnation: string;
  startedAt: Date;
  heartbeatAt: Date;
  draining: boolean;
  /** builds it owns that are not completed */
  builds: number;
}

export async function listWebNodes(db: Queryable): Promise<WebNodeRow[]> {
  const r = await db.query<{ name: string; incarnation: string; started_at: Date; heartbeat_at: Date; draining: boolean; builds: number }>(
    `SELECT n.name, n.incarnation, n.started_at, n.heartbeat_at, n.draining,
            (SELECT count(*) FROM builds b WHERE b.owner_node = n.name AND NOT b.completed)::int AS builds
       FROM web_nodes n ORDER BY n.name`,
  );
  return r.rows.map((row) => ({
    name: row.name,
    incarnation: row.incarnation,
    startedAt: row.started_at,
    heartbeatAt: row.heartbeat_at,
    draining: row.draining,
    builds: row.builds,
  }));
}

/**
 * The heartbeat: the node's row, and the lease of every build it owns, renewed in one
 * transaction. Returns the builds it still owns (one taken over while this node could not renew
 * is not among them: the caller stops running it), and which of them were aborted (through any
 * node's API: the owner stops them).
 */
export async function heartbeat(db: Database, name: string, incarnation: string, leaseMs: number): Promise<{ owned: number[]; aborted: number[] }> {
  return db.transaction(async (tx) => {
    const node = await tx.query('UPDATE web_nodes SET heartbeat_at = now() WHERE name = $1 AND incarnation = $2', [name, incarnation]);
    // a row removed (or taken by a newer incarnation: a duplicate --node-name) is put back: the
    // builds below are this process's, whatever the registry says
    if (node.rowCount === 0) {
      await tx.query(
        `INSERT INTO web_nodes (name, incarnation) VALUES ($1, $2)
         ON CONFLICT (name) DO UPDATE SET incarnation = EXCLUDED.incarnation, heartbeat_at = now()`,
        [name, incarnation],
      );
    }
    const r = await tx.query<{ id: number; aborted: boolean }>(
      `UPDATE builds SET lease_until = now() + ($2::bigint * interval '1 millisecond')
        WHERE owner_node = $1 AND NOT completed RETURNING id, aborted`,
      [name, ms(leaseMs)],
    );
    const rows = r.rows.sort((a, b) => a.id - b.id);
    return { owned: rows.map((row) => row.id), aborted: rows.filter((row) => row.aborted).map((row) => row.id) };
  });
}

/**
 * Takes a build for this node: when no node owns it, this node owns it already, or its owner's
 * lease expired. False when another node holds it (that node runs it; this one must not).
 */
export async function claimBuild(db: Queryable, buildId: number, name: string, leaseMs: number): Promise<boolean> {
  const r = await db.query(
    `UPDATE builds SET owner_node = $2, lease_until = now() + ($3::bigint * interval '1 millisecond')
      WHERE id = $1 AND NOT completed
        AND (owner_node IS NULL OR owner_node = $2 OR lease_until IS NULL OR lease_until < now())`,
    [buildId, name, ms(leaseMs)],
  );
  return r.rowCount > 0;
}

/** Gives a build up (a draining node hands it over): the next node to look may take it at once. */
export async function releaseBuildLease(db: Queryable, buildId: number, name: string): Promise<void> {
  await db.query('UPDATE builds SET owner_node = NULL, lease_until = NULL WHERE id = $1 AND owner_node = $2 AND NOT completed', [buildId, name]);
}

export interface OrphanedBuild {
  id: number;
  /** the node that owned it (null: none recorded) */
  previousOwner: string | null;
  /** when its lease ran out (null: it had none) */
  leaseExpired: Date | null;
}

/**
 * Claims the running builds nobody runs any more, for this node: those its own previous
 * incarnation owned (`ownPrevious`: this node starting), those whose owner's lease expired, and
 * those started without an owner more than `leaseMs` ago (a node died between starting and
 * tracking a build, or before the cluster leases existed). Each build is claimed by exactly one
 * node (row locks, SKIP LOCKED).
 */
export async function claimOrphanedBuilds(db: Queryable, name: string, leaseMs: number, ownPrevious: boolean): Promise<OrphanedBuild[]> {
  const r = await db.query<{ id: number; previous_owner: string | null; lease_expired: Date | null }>(
    `WITH orphans AS (
       SELECT id, owner_node AS previous_owner, lease_until AS lease_expired FROM builds
        WHERE status = 'started' AND NOT completed
          AND (
            ($3 AND owner_node = $1)
            OR (owner_node IS NOT NULL AND owner_node <> $1 AND lease_until < now())
            OR (owner_node IS NULL AND coalesce(start_time, create_time) < now() - ($2::bigint * interval '1 millisecond'))
          )
        ORDER BY id FOR UPDATE SKIP LOCKED
     )
     UPDATE builds b SET owner_node = $1, lease_until = now() + ($2::bigint * interval '1 millisecond')
       FROM orphans o WHERE b.id = o.id
     RETURNING b.id, o.previous_owner, o.lease_expired`,
    [name, ms(leaseMs), ownPrevious],
  );
  return r.rows.map((row) => ({ id: row.id, previousOwner: row.previous_owner, leaseExpired: row.lease_expired })).sort((a, b) => a.id - b.id);
}

/**
 * Periodic work once per interval across the cluster (src/component/periodic.ts's PassGate):
 * a pass begins on a node only when no other node holds the pass's lease and, for a pass on the
 * interval, none began one within the interval; a nudged pass (new work to do) begins as soon
 * as no other node holds it. The lease is renewed while the pass runs and expires with a dead
 * holder.
 */
export class PostgresPassGate {
  constructor(
    private readonly db: Queryable,
    private readonly holder: string,
    private readonly opts: { leaseMs?: number; pollMs?: number } = {},
  ) {}

  /** Makes the pass known (GET /api/v1/components lists it from its start) with its interval; whether it is paused. */
  async register(name: string, intervalMs: number): Promise<boolean> {
    const r = await this.db.query<{ paused: boolean }>(
      `INSERT INTO periodic_passes (name, interval_ms) VALUES ($1, $2) ON CONFLICT (name) DO UPDATE SET interval_ms = EXCLUDED.interval_ms
       RETURNING paused`,
      [name, Math.round(intervalMs)],
    );
    return r.rows[0]?.paused === true;
  }

  async begin(name: string, intervalMs: number, nudged: boolean, signal?: AbortSignal): Promise<(() => Promise<void>) | undefined> {
    const leaseMs = this.opts.leaseMs ?? 60_000;
    // a paused component (an admin's pause-component) runs on no node until unpaused
    if (await this.register(name, intervalMs)) return undefined;
    const deadline = Date.now() + leaseMs;
    for (;;) {
      const r = await this.db.query<{ taken: boolean }>(
        `UPDATE periodic_passes SET holder = $2, held_until = now() + ($3::bigint * interval '1 millisecond'), last_run_at = now()
          WHERE name = $1 AND (holder IS NULL OR holder = $2 OR held_until < now())
            AND ($4 OR last_run_at IS NULL OR last_run_at <= now() - ($5::bigint * interval '1 millisecond'))
          RETURNING true AS taken`,
        // 90% of the interval: one node's own timer firing a little early still finds it due
        [name, this.holder, ms(leaseMs), nudged, ms(intervalMs * 0.9)],
      );
      if (r.rowCount > 0) break;
      // on the interval: another node ran it (or runs it) in this interval; nothing to do here
      if (!nudged || Date.now() > deadline || signal?.aborted) return undefined;
      // nudged: wait for the holder's pass to end, then run one (the new work may have come after it began)
      await new Promise((resolve) => setTimeout(resolve, this.opts.pollMs ?? 100));
    }
    const renew = setInterval(() => {
      this.db
        .query(`UPDATE periodic_passes SET held_until = now() + ($3::bigint * interval '1 millisecond') WHERE name = $1 AND holder = $2`, [name, this.holder, ms(leaseMs)])
        .catch(() => undefined);
    }, Math.max(50, leaseMs / 3));
    renew.unref();
    return async () => {
      clearInterval(renew);
      await this.db.query('UPDATE periodic_passes SET holder = NULL, held_until = NULL WHERE name = $1 AND holder = $2', [name, this.holder]);
    };
  }
}

/** The engine's BuildLeases (src/engine/leases.ts) on Postgres, for one web node process. */
export class PostgresBuildLeases {
  constructor(
    private readonly db: Database,
    readonly node: string,
    private readonly incarnation: string,
    private readonly leaseMs: number,
  ) {}

  register(): Promise<void> {
    return registerWebNode(this.db, this.node, this.incarnation);
  }
  unregister(): Promise<void> {
    return removeWebNode(this.db, this.node, this.incarnation);
  }
  claim(buildId: number): Promise<boolean> {
    return claimBuild(this.db, buildId, this.node, this.leaseMs);
  }
  heartbeat(): Promise<{ owned: number[]; aborted: number[] }> {
    return heartbeat(this.db, this.node, this.incarnation, this.leaseMs);
  }
  claimOrphans(ownPrevious: boolean): Promise<OrphanedBuild[]> {
    return claimOrphanedBuilds(this.db, this.node, this.leaseMs, ownPrevious);
  }
  release(buildId: number): Promise<void> {
    return releaseBuildLease(this.db, buildId, this.node);
  }
}
