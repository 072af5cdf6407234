// The web node's Kubernetes runtime: made from the checked configuration, its reaper told which
// builds are finished (or unknown) from the database, so pods of finished builds (also those a
// previous web node left behind, once recoverOrphans has ended their builds) are removed.
import { type Logger } from '../log.ts';
import { join } from 'node:path';
import type { Database } from '../db/index.ts';
import type { KubernetesRuntimeConfig } from '../runtime/kubernetes/config.ts';
import { KubernetesRuntime } from '../runtime/kubernetes/kubernetes-runtime.ts';
import type { KubeRequestObserver } from '../runtime/kubernetes/client.ts';

/** Of these build ids, the ones that are completed or do not exist. */
export async function finishedBuilds(db: Database, ids: number[]): Promise<Set<number>> {
  const r = await db.query<{ id: number }>('SELECT id FROM builds WHERE id = ANY($1::int[]) AND NOT completed', [ids]);
  const running = new Set(r.rows.map((row) => Number(row.id)));
  return new Set(ids.filter((id) => !running.has(id)));
}

export interface WebKubernetesRuntimeOptions {
  config: KubernetesRuntimeConfig;
  dataDir: string;
  db: Database;
  logger: Logger;
  reaperIntervalMs?: number;
  requests?: KubeRequestObserver;
}

/** The runtime, its reaper not started yet (start it after recoverOrphans). */
export function createKubernetesRuntime(opts: WebKubernetesRuntimeOptions): { runtime: KubernetesRuntime; startReaper(): void } {
  const runtime = new KubernetesRuntime({
    config: opts.config,
    root: join(opts.dataDir, 'kubernetes'),
    logger: opts.logger,
    ...(opts.requests ? { requests: opts.requests } : {}),
  });
  return {
    runtime,
    startReaper: () => runtime.startReaper((ids) => finishedBuilds(opts.db, ids), opts.reaperIntervalMs ?? 30_000),
  };
}
