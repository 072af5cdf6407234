// Being told when a build has new events: saveBuildEvent (src/db/builds.ts) NOTIFYs channel
// build_events with the build's id; this LISTENs on a pooled connection of its own, held until
// closed.
import type { Database } from './database.ts';

export interface BuildEventListener {
  /** UNLISTENs and gives the connection back to the pool. */
  close(): Promise<void>;
}

export interface BuildEventHandlers {
  /** A build's events changed. */
  onBuild(buildId: number): void;
  /** The connection failed: no more notifications will come (the caller falls back to polling). */
  onError(err: Error): void;
}

export async function listenForBuildEvents(db: Database, handlers: BuildEventHandlers): Promise<BuildEventListener> {
  const client = await db.pool.connect();
  client.on('notification', (msg) => handlers.onBuild(Number(msg.payload)));
  client.on('error', (err) => handlers.onError(err));
  try {
    await client.query('LISTEN build_events');
  } catch (err) {
    client.release(true); // a connection that cannot LISTEN is not given to anyone else
    throw err;
  }
  let closed = false;
  return {
    async close() {
      if (closed) return;
      closed = true;
      await client.query('UNLISTEN build_events').catch(() => undefined);
      client.release();
    },
  };
}
