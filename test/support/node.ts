// An in-process Jetway for integration tests: the real database, engine, local runtime,
// checker and scheduler, driven tick by tick instead of by timers so tests are deterministic.
import type { InProcessChecks } from '../../src/resources/in-process.ts';
import { PostgresCheckerStore } from '../../src/db/checks.ts';
import { PostgresEngineStore } from '../../src/db/engine-store.ts';
import { silentLogger } from '../../src/log.ts';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadPipeline, formatDiagnostic } from '../../src/config/index.ts';
import { savePipeline, unpausePipeline } from '../../src/db/pipelines.ts';
import { buildEvents, createManualBuild, getBuild, type BuildRecord } from '../../src/db/builds.ts';
import { findJob } from '../../src/db/jobs.ts';
import { Engine, type EngineMetrics } from '../../src/engine/engine.ts';
import type { BuildEvent } from '../../src/model/build-events.ts';
import { LocalRuntime } from '../../src/runtime/local/local-runtime.ts';
import type { Runtime } from '../../src/runtime/runtime.ts';
import type { CredentialManager } from '../../src/creds/credential-manager.ts';
import { PostgresSigningKeys } from '../../src/db/signing-keys.ts';
import { IdTokenIssuer } from '../../src/creds/idtoken/keys.ts';
import { Checker } from '../../src/checker/index.ts';
import { Scheduler } from '../../src/scheduler/index.ts';
import { createTestDatabase, type TestDatabase } from './db.ts';

const quiet = silentLogger;

export interface TestNode {
  tdb: TestDatabase;
  runtime: Runtime;
  /** the node's temporary directory */
  root: string;
  engine: Engine;
  checker: Checker;
  scheduler: Scheduler;
  setPipeline(name: string, yaml: string, vars?: Record<string, unknown>): Promise<number>;
  checkResource(pipelineId: number, resource: string, from?: Record<string, string>): Promise<BuildRecord>;
  trigger(pipelineId: number, job: string): Promise<BuildRecord>;
  /** Runs scheduler passes and waits for builds until the predicate holds (or a pass limit). */
  settle(until?: () => Promise<boolean>): Promise<void>;
  waitForBuild(buildId: number): Promise<BuildRecord>;
  logs(buildId: number): Promise<string>;
  events(buildId: number): Promise<BuildEvent[]>;
  stop(): Promise<void>;
}

export interface TestNodeOptions {
  /**
   * The runtime steps run on (default: a local runtime in a temporary directory); given a root
   * directory of the node's own, it is made once the node's directory exists.
   */
  runtime?: Runtime | ((root: string) => Runtime);
  /** the engine's native image paths on a runtime that runs images (default true; `jetway web --kubernetes-native-images`) */
  nativeImages?: boolean;
  /** the cluster's credential manager (`jetway web --kubernetes-credentials`); none by default */
  credentials?: CredentialManager;
  /** the idtoken var source's keys in the node's database (none by default) */
  signingKeys?: boolean;
  /** what the engine reports to metrics (src/metrics/metrics.ts) */
  metrics?: EngineMetrics;
  /** the built-in types' checks in the web node (issue 23); none by default: every check has a container */
  inProcessChecks?: InProcessChecks;
  /** with inProcessChecks: the checker's periodic checks of those types run in memory, as the web node's do */
  inMemoryChecks?: boolean;
}

export async function startTestNode(opts: TestNodeOptions = {}): Promise<TestNode> {
  const tdb = await createTestDatabase();
  const root = await mkdtemp(join(tmpdir(), 'jw-node-'));
  const runtime = typeof opts.runtime === 'function' ? opts.runtime(root) : (opts.runtime ?? new LocalRuntime({ root, killGraceMs: 500 }));
  const engine = new Engine({
    store: new PostgresEngineStore(tdb.db),
    runtime,
    externalUrl: 'http://jetway.test',
    artifactsDir: join(root, 'artifacts'),
    logger: quiet,
    ...(opts.nativeImages !== undefined ? { nativeImages: opts.nativeImages } : {}),
    ...(opts.credentials ? { credentials: opts.credentials } : {}),
    ...(opts.signingKeys ? { idTokens: new IdTokenIssuer('http://jetway.test', new PostgresSigningKeys(tdb.db)) } : {}),
    ...(opts.metrics ? { metrics: opts.metrics } : {}),
    ...(opts.inProcessChecks ? { inProcessChecks: opts.inProcessChecks } : {}),
  });
  const ipc = opts.inProcessChecks;
  const checker = new Checker(new PostgresCheckerStore(tdb.db), {
    tracker: engine,
    logger: quiet,
    ...(ipc && opts.inMemoryChecks ? { inMemory: { runner: engine, accepts: (type: string, source: unknown) => ipc.accepts(type, source) } } : {}),
  });
  const scheduler = new Scheduler(tdb.db, { tracker: engine, checks: checker, logger: quiet });

  const settle = async (until?: () => Promise<boolean>): Promise<void> => {
    for (let pass = 0; pass < 50; pass++) {
      await scheduler.tick();
      await engine.idle();
      if (until ? await until() : false) return;
      if (!until && (await scheduler.tick()).every((r) => r.outcomes.length === 0 && !r.createdBuildId)) {
        await engine.idle();
        return;
      }
    }
    throw new Error('the pipeline did not settle in 50 scheduler passes');
  };

  const node: TestNode = {
    tdb,
    runtime,
    root,
    engine,
    checker,
    scheduler,
    async setPipeline(name, yaml, vars = {}) {
      const loaded = loadPipeline(yaml, { file: `${name}.yml`, vars });
      if (!loaded.config) throw new Error(loaded.errors.map(formatDiagnostic).join('\n'));
      const saved = await savePipeline(tdb.db, { team: 'main', name, config: loaded.config });
      await unpausePipeline(tdb.db, { team: 'main', name });
      return saved.pipelineId;
    },
    async checkResource(pipelineId, resource, from) {
      const build = await checker.checkResource(pipelineId, resource, from ? { from } : {});
      return node.waitForBuild(build.id);
    },
    async trigger(pipelineId, jobName) {
      const job = await findJob(tdb.db, pipelineId, jobName);
      if (!job) throw new Error(`no job ${jobName}`);
      const build = await createManualBuild(tdb.db, job.id);
      return node.waitForBuild(build.id);
    },
    async waitForBuild(buildId) {
      let build: BuildRecord | undefined;
      await settle(async () => {
        build = await getBuild(tdb.db, buildId);
        return build?.completed === true;
      });
      return build!;
    },
    settle,
    async events(buildId) {
      return (await buildEvents(tdb.db, buildId)).map((e) => e.event);
    },
    async logs(buildId) {
      return (await node.events(buildId))
        .map((e) => (e.event === 'log' ? e.data.payload : e.event === 'error' ? `ERROR: ${e.data.message}\n` : ''))
        .join('');
    },
    async stop() {
      await checker.stop();
      await scheduler.stop();
      await engine.stop();
      await tdb.drop();
      await rm(root, { recursive: true, force: true });
    },
  };
  return node;
}
