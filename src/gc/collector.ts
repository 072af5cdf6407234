// Garbage collection on the web node (Concourse's atc/gc, for what Jetway keeps): artifact
// tarballs of finished one-off builds and unused uploads, expired tokens, the logs of builds
// their job's build_log_retention lets go, and resource caches and configs nothing keeps alive
// (collectors.ts, over the GcStore port). Build volumes of the local runtime are freed by the
// engine when each build ends.
import { COMPONENT } from '../component/names.ts';
import { type Logger } from '../log.ts';
import { PeriodicPass, type PassGate } from '../component/periodic.ts';
import {
  AccessTokenCollector,
  ArtifactCollector,
  BuildLogCollector,
  KeptResourceCacheCollector,
  ResourceCacheCollector,
  ResourceConfigCollector,
  type GcCollector,
} from './collectors.ts';
import type { GcStore, KeptResourceCaches } from './store.ts';

const HOUR_MS = 3_600_000;

export interface CollectorOptions {
  /** how long a finished one-off build's artifacts stay downloadable (default 1 hour) */
  artifactGraceMs?: number;
  /** how long an upload may wait for a build to use it (default 1 hour) */
  unusedUploadMs?: number;
  /** time between collections (default 30 s, Concourse's GC cadence) */
  intervalMs?: number;
  /** how long an unreferenced resource cache or config stays (default 1 hour) */
  resourceGraceMs?: number;
  logger: Logger;
  /** several web nodes: a collection runs once per interval across them (docs/web-nodes.md) */
  cluster?: PassGate;
  /** the runtime's kept resource cache volumes (the local runtime), pruned after the caches */
  keptResourceCaches?: KeptResourceCaches;
  /** how many kept volumes one collection removes at most (default 100) */
  maxKeptResourceCachesPerPass?: number;
}

export interface CollectionResult {
  artifacts: number;
  tokens: number;
  /** builds whose logs were reaped */
  buildLogs: number;
  resourceCaches: number;
  resourceConfigs: number;
  /** the runtime's kept volumes of caches that went */
  keptResourceCaches: number;
}

export class Collector {
  private readonly collectors: { [K in keyof CollectionResult]: GcCollector };
  private readonly loop: PeriodicPass<CollectionResult>;

  constructor(
    store: GcStore,
    private readonly opts: CollectorOptions,
  ) {
    const resourceGrace = opts.resourceGraceMs ?? HOUR_MS;
    this.collectors = {
      artifacts: new ArtifactCollector(store, opts.artifactGraceMs ?? HOUR_MS, opts.unusedUploadMs ?? HOUR_MS),
      tokens: new AccessTokenCollector(store),
      buildLogs: new BuildLogCollector(store),
      resourceCaches: new ResourceCacheCollector(store, resourceGrace),
      resourceConfigs: new ResourceConfigCollector(store, resourceGrace),
      keptResourceCaches: opts.keptResourceCaches ? new KeptResourceCacheCollector(store, opts.keptResourceCaches, opts.maxKeptResourceCachesPerPass ?? 100) : { run: () => Promise.resolve(0) },
    };
    this.loop = new PeriodicPass(
      () => this.collect(),
      opts.intervalMs ?? 30_000,
      (err) => opts.logger.warn({ err }, 'garbage collection failed'),
      // the first collection one interval after start (a ticker's cadence, as Concourse's GC)
      { immediate: false, ...(opts.cluster ? { cluster: { name: COMPONENT.gc, gate: opts.cluster } } : {}) },
    );
  }

  /** One collection of everything, as of `now` (tests pass a later time to skip grace periods). */
  async collect(now = new Date()): Promise<CollectionResult> {
    const c = this.collectors;
    // caches before configs: a config whose last cache went goes in the same pass
    const result: CollectionResult = {
      artifacts: await c.artifacts.run(now),
      tokens: await c.tokens.run(now),
      buildLogs: await c.buildLogs.run(now),
      resourceCaches: await c.resourceCaches.run(now),
      resourceConfigs: await c.resourceConfigs.run(now),
      keptResourceCaches: await c.keptResourceCaches.run(now),
    };
    if (Object.values(result).some((n) => n > 0)) this.opts.logger.info(result, 'garbage collected');
    return result;
  }

  /** Collects every interval, one collection at a time. */
  start(): void {
    this.loop.start();
  }

  /** Stops the interval and waits for the collection in progress. */
  async stop(): Promise<void> {
    await this.loop.stop();
  }
}
