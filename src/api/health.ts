// What /api/v1/health reports (issue 17, docs/web-nodes.md; its shape is Concourse's atc.Health,
// atc/api/healthserver/health.go, which fly 8's `health` prints): the database, the web nodes (a
// Jetway web node is its own worker), the components (periodic passes, stale when they have not
// run for three intervals), and Jetway's disk. `failing` (503) when the database does not answer
// in time or a disk is full, so a load balancer or a readiness probe takes the node out instead
// of hanging on it; `degraded` (200) when a build-running component is stale or a node stalled.
import { ping } from '../db/health.ts';
import type { Queryable } from '../db/database.ts';
import { listWebNodes } from '../db/cluster.ts';
import { listComponents, type ComponentRow } from '../db/components.ts';
import type { ComponentHealth, Health, WorkerHealth } from './wire.ts';
import { RUNTIME_COMPONENTS } from '../component/names.ts';

export interface HealthProbes {
  db: Queryable;
  /** the database's display URL (no password), named in its problem */
  dbName: string;
  /** how long the database may take to answer (default 3 s: a frozen Postgres must not hang /health) */
  timeoutMs?: number;
  /** a problem of the web node's disk, if any (the web node: its data dir's free space, a full Postgres disk) */
  disk?: () => Promise<string | undefined>;
  now?: () => Date;
}

/** A component that has not run for this many of its intervals is stale (unhealthy). */
export const STALE_INTERVALS = 3;
/** A web node whose heartbeat is older than this is not running (as GET /api/v1/workers says `stalled`). */
export const STALLED_AFTER_MS = 60_000;

/** The database's problem, if any: unreachable, failing, or not answering within the timeout. */
export async function databaseProblem(db: Queryable, dbName: string, timeoutMs: number): Promise<string | undefined> {
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<string>((resolve) => {
    timer = setTimeout(() => resolve(`the database ${dbName} did not answer within ${timeoutMs} ms`), timeoutMs);
  });
  try {
    return await Promise.race([
      ping(db).then(
        () => undefined,
        (err: unknown) => `the database ${dbName} is unavailable: ${err instanceof Error ? err.message : String(err)}`,
      ),
      timedOut,
    ]);
  } finally {
    clearTimeout(timer);
  }
}

export interface HealthFacts {
  now: Date;
  database?: string;
  disk?: string;
  /** the web nodes (undefined: not known, the database being down) */
  nodes?: { name: string; heartbeatAt: Date; draining: boolean }[];
  components?: ComponentRow[];
}

/** The health from what was found: a pure decision (test/api/health.test.ts, one row per test). */
export function healthOf(f: HealthFacts): { code: 200 | 503; body: Health } {
  const nodes = f.nodes ?? [];
  const running = nodes.filter((n) => !n.draining && f.now.getTime() - n.heartbeatAt.getTime() <= STALLED_AFTER_MS);
  const unhealthy = nodes.filter((n) => !running.includes(n)).map((n) => n.name);
  const workers: WorkerHealth = {
    status: f.nodes === undefined || (nodes.length > 0 && running.length === 0) ? 'unhealthy' : unhealthy.length > 0 ? 'degraded' : 'healthy',
    total: nodes.length,
    running: running.length,
    ...(unhealthy.length > 0 ? { unhealthy_workers: unhealthy } : {}),
  };
  let runtimeStale = false;
  const components: ComponentHealth[] = (f.components ?? []).map((c) => {
    const stale = !c.paused && c.lastRanAt !== null && c.intervalMs > 0 && f.now.getTime() - c.lastRanAt.getTime() > STALE_INTERVALS * c.intervalMs;
    // a stale pass that starts or runs builds degrades the whole (Concourse's ComponentsRuntime)
    if (stale && RUNTIME_COMPONENTS.includes(c.name)) runtimeStale = true;
    return { name: c.name, status: stale ? 'unhealthy' : 'healthy', paused: c.paused, last_ran: c.lastRanAt ? c.lastRanAt.toISOString() : '0001-01-01T00:00:00Z' };
  });
  const failing = f.database !== undefined || f.disk !== undefined;
  // unlike Concourse, workers that are all stalled only degrade: the node answering runs builds itself
  const status = failing ? 'failing' : runtimeStale || workers.status !== 'healthy' ? 'degraded' : 'ok';
  return {
    code: failing ? 503 : 200,
    body: {
      status,
      timestamp: f.now.toISOString(),
      database: f.database === undefined ? { status: 'healthy' } : { status: 'unhealthy', error: f.database },
      workers,
      components,
      ...(f.disk !== undefined ? { disk: { status: 'unhealthy', error: f.disk } } : {}),
    },
  };
}

/** The health and its HTTP status: probes the database, the disk, the web nodes and the components. */
export async function checkHealth(probes: HealthProbes): Promise<{ code: 200 | 503; body: Health }> {
  const now = probes.now?.() ?? new Date();
  const [database, disk] = await Promise.all([
    databaseProblem(probes.db, probes.dbName, probes.timeoutMs ?? 3_000),
    probes.disk ? probes.disk().catch((err: unknown) => `the disk could not be checked: ${err instanceof Error ? err.message : String(err)}`) : Promise.resolve(undefined),
  ]);
  // the rest only from a database that answers (a frozen one must not hang the probe twice)
  const [nodes, components] = database === undefined ? await Promise.all([listWebNodes(probes.db).catch(() => undefined), listComponents(probes.db).catch(() => undefined)]) : [undefined, undefined];
  return healthOf({ now, ...(database !== undefined ? { database } : {}), ...(disk !== undefined ? { disk } : {}), ...(nodes ? { nodes } : {}), ...(components ? { components } : {}) });
}
