// The web node's Postgres pool size: its own module, without pg, for the CLI's flag checks.

/** Connections a web node opens to Postgres at most (--postgres-max-conns), by default. */
export const DEFAULT_POOL_SIZE = 10;
/**
 * The fewest a web node works with: one LISTENs (src/db/notifications.ts), one holds a scheduling
 * chunk's job locks (src/db/scheduling.ts), one does the work.
 */
export const MIN_POOL_SIZE = 3;
