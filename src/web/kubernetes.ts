// The web node's Kubernetes runtime: made from the checked configuration, its reaper told which
// builds are finished (or unknown) from the database, so pods of finished builds (also those a
// previous web node left behind, once recoverOrphans has ended their builds) are removed.
import { type Logger } from '../log.ts';
import { join } from 'node:path';
import type { Database } from '../db/index.ts';
import { finishedBuildIds } from '../db/builds.ts';
import type { KubernetesRuntimeConfig } from '../runtime/kubernetes/config.ts';
import { KubernetesRuntime } from '../runtime/kubernetes/kubernetes-runtime.ts';
import type { KubeRequestObserver } from '../runtime/kubernetes/client.ts';
import type { PassGate } from '../component/periodic.ts';

export interface WebKubernetesRuntimeOptions {
  config: KubernetesRuntimeConfig;
  dataDir: string;
  db: Database;
  logger: Logger;
  reaperIntervalMs?: number;
  requests?: KubeRequestObserver;
}

/** The runtime, its reaper not started yet (start it after recoverOrphans). */
export function createKubernetesRuntime(opts: WebKubernetesRuntimeOptions): { runtime: KubernetesRuntime; startReaper(cluster?: PassGate): void } {
  const runtime = new KubernetesRuntime({
    config: opts.config,
    root: join(opts.dataDir, 'kubernetes'),
    logger: opts.logger,
    ...(opts.requests ? { requests: opts.requests } : {}),
  });
  return {
    runtime,
    startReaper: (cluster?: PassGate) => runtime.startReaper((ids) => finishedBuildIds(opts.db, ids), opts.reaperIntervalMs ?? 30_000, cluster),
  };
}
