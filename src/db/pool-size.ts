// The web node's Postgres pool size: its own module, without pg, for the CLI's flag checks.

/** Connections a web node opens to Postgres at most (--postgres-max-conns), by default. */
export const DEFAULT_POOL_SIZE = 10;
/**
 * Connections a scheduling pass leaves beside those holding its chunks' job locks
 * (src/db/scheduling.ts): one LISTENs (src/db/notifications.ts), one does the jobs' work.
 */
export const CONNECTIONS_BESIDE_LOCKS = 2;
/** The fewest a web node works with: those, and one holding a chunk's locks. */
export const MIN_POOL_SIZE = CONNECTIONS_BESIDE_LOCKS + 1;
