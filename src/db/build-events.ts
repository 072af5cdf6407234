// Being told when a build has new events: saveBuildEvent (src/db/builds.ts) NOTIFYs channel
// build_events with the build's id (src/db/notifications.ts listens).
import type { Database } from './database.ts';
import { listen, type Listener } from './notifications.ts';

export type BuildEventListener = Listener;

export interface BuildEventHandlers {
  /** A build's events changed. */
  onBuild(buildId: number): void;
  /** The connection failed: no more notifications will come (the caller falls back to polling). */
  onError(err: Error): void;
}

export function listenForBuildEvents(db: Database, handlers: BuildEventHandlers): Promise<BuildEventListener> {
  return listen(db, ['build_events'], { onNotification: (_channel, payload) => handlers.onBuild(Number(payload)), onError: handlers.onError });
}
