// What /api/v1/health reports (issue 17, docs/web-nodes.md): 200 when the database answers a
// trivial query in time and the web node's disk has room; else 503 naming the part at fault, so
// a load balancer or a Deployment's readiness probe takes the node out instead of hanging on it.
import { ping } from '../db/health.ts';
import type { Queryable } from '../db/database.ts';
import type { Health } from './wire.ts';

export interface HealthProbes {
  db: Queryable;
  /** the database's display URL (no password), named in its problem */
  dbName: string;
  /** how long the database may take to answer (default 3 s: a frozen Postgres must not hang /health) */
  timeoutMs?: number;
  /** a problem of the web node's disk, if any (the web node: its data dir's free space, a full Postgres disk) */
  disk?: () => Promise<string | undefined>;
}

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

/** The health and its HTTP status: 200 ok, 503 with each problem named. */
export async function checkHealth(probes: HealthProbes): Promise<{ code: 200 | 503; body: Health }> {
  const [database, disk] = await Promise.all([
    databaseProblem(probes.db, probes.dbName, probes.timeoutMs ?? 3_000),
    probes.disk ? probes.disk().catch((err: unknown) => `the disk could not be checked: ${err instanceof Error ? err.message : String(err)}`) : Promise.resolve(undefined),
  ]);
  if (database === undefined && disk === undefined) return { code: 200, body: { status: 'ok' } };
  return { code: 503, body: { status: 'unavailable', ...(database ? { database } : {}), ...(disk ? { disk } : {}) } };
}
