// The web node: one process running the API, the scheduler, the checker and the engine on one
// database and one runtime, as Concourse's `web` does. The composition root of Jetway.
import { PostgresSigningKeys } from '../db/signing-keys.ts';
import { IdTokenIssuer } from '../creds/idtoken/keys.ts';
import { randomUUID } from 'node:crypto';
import { mkdir, statfs } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join, resolve } from 'node:path';
import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import { createApiServer, LocalAuth, LoginLimiter } from '../api/index.ts';
import type { LogLevelControl } from '../api/log-level.ts';
import { PostgresLoginFailures } from '../db/login-failures.ts';
import { Checker } from '../checker/index.ts';
import { openDatabase, type Database } from '../db/index.ts';
import { Engine } from '../engine/engine.ts';
import { PostgresEngineStore } from '../db/engine-store.ts';
import { Collector } from '../gc/collector.ts';
import { PostgresGcStore } from '../db/gc.ts';
import { PostgresCheckerStore } from '../db/checks.ts';
import { LocalRuntime } from '../runtime/local/local-runtime.ts';
import { chooseLocalRuntime, parseLocalRuntimeKind, type LocalRuntimeKind } from '../runtime/local/choice.ts';
import { TEAM_ID_BASE, TEAM_ID_RANGE_SIZE, teamBuildUser } from '../runtime/local/team-ids.ts';
import { ContainerRuntime } from '../runtime/local/containers/container-runtime.ts';
import { proxyEnv, type LocalProxies } from '../runtime/local/proxy.ts';
import { DEFAULT_RUNC, probeContainers } from '../runtime/local/containers/runc.ts';
import type { ContainersMode } from '../runtime/local/rootless.ts';
import { checkBuildUserCanRunResources, isolateDataDir } from '../runtime/local/build-user.ts';
import type { KubernetesRuntimeConfig } from '../runtime/kubernetes/config.ts';
import { BASE_RESOURCE_TYPES } from '../config/index.ts';
import { kubernetesCredentialsInfo, type KubernetesCredentialsConfig } from '../creds/config.ts';
import type { CredentialManager } from '../creds/credential-manager.ts';
import type { Runtime } from '../runtime/runtime.ts';
import { InProcessChecks, IN_PROCESS_TYPES } from '../resources/in-process.ts';
import { Scheduler } from '../scheduler/index.ts';
import { JETWAY_VERSION } from '../version.ts';
import { Metrics } from '../metrics/metrics.ts';
import { PostgresBuildLeases, PostgresPassGate } from '../db/cluster.ts';
import { PeriodicPass } from '../component/periodic.ts';
import { isDiskFull } from '../engine/event-sink.ts';
import { killOrphanProcesses } from '../runtime/local/orphans.ts';

export interface WebNodeOptions {
  /** where the embedded Postgres, the local runtime's work and artifacts live */
  dataDir: string;
  /** an external Postgres instead of the embedded one */
  postgresUrl?: string;
  /** connections to Postgres at most (default DEFAULT_POOL_SIZE; at least MIN_POOL_SIZE: src/db/pool-size.ts) */
  postgresMaxConnections?: number;
  port: number;
  bindIp: string;
  /** the URL users reach the server at (default http://localhost:<port>) */
  externalUrl?: string;
  /** the Concourse version /api/v1/info reports to fly (default CONCOURSE_COMPATIBLE_VERSION) */
  concourseVersion?: string;
  /** `name:password` specs; at least one */
  localUsers: string[];
  /** the owners of team main, admins (default: every local user) */
  mainTeamUsers?: string[];
  runtime: 'local' | 'kubernetes';
  /**
   * How the local runtime runs steps (docs/local-containers.md): in containers under runc (falls
   * back to host processes, saying so in one line, where runc cannot run), or as host processes.
   * Default auto (containers where runc can run), or JETWAY_LOCAL_RUNTIME.
   */
  localRuntime?: LocalRuntimeKind;
  /** the local runtime's containers: the host's network (default) or a private one each */
  localNetwork?: 'host' | 'isolated';
  /** the operator's proxies, in every local step's env (--local-http-proxy, ...; never logged: they may hold a password) */
  localProxies?: LocalProxies;
  /** how long the local containers runtime keeps a failed step's container (default 1h) */
  localFailedContainerRetentionMs?: number;
  /** the Kubernetes runtime's configuration (with runtime 'kubernetes') */
  kubernetes?: KubernetesRuntimeConfig;
  /**
   * The native image paths of the Kubernetes runtime (docs/image-features.md, decisions 1-12: registry-image checks from
   * the web node, images and image gets as repository@digest without pods); `false` sends the
   * same pipelines through check + get pods, for comparison. Default true; the local runtime
   * always takes the full path.
   */
  nativeImages?: boolean;
  /**
   * The Kubernetes credential manager (`--kubernetes-credentials`): `((vars))` that name no var
   * source come from Secrets in `<prefix><team>`. Works with either runtime.
   */
  kubernetesCredentials?: KubernetesCredentialsConfig;
  /**
   * Checks of the built-in types (git, mock, registry-image, time) in the web node, without a
   * process or pod, where the type's image is Jetway's own (issue 23, docs/in-process-checks.md).
   * Default true; `false` (or JETWAY_IN_PROCESS_CHECKS=off) gives every check its container.
   */
  inProcessChecks?: boolean;
  /** time between reaper passes of the Kubernetes runtime (default 30s) */
  reaperIntervalMs?: number;
  schedulerIntervalMs?: number;
  checkerIntervalMs?: number;
  /**
   * This node's name among several on one database (docs/web-nodes.md); unique per node and
   * kept across its restarts (default: host name and data directory).
   */
  nodeName?: string;
  /** how long a build stays this node's without a heartbeat (default 20 s; heartbeats every quarter of it) */
  buildLeaseMs?: number;
  /** proxies whose X-Forwarded-For is believed (`--trust-proxy`; docs/security.md "API") */
  trustProxy?: string[];
  logger: Logger;
  /** The logger's live level, for GET/PUT /api/v1/log-level (src/api/log-level.ts). */
  logLevel?: LogLevelControl;
}

export interface WebNode {
  readonly url: string;
  readonly db: Database;
  readonly engine: Engine;
  readonly scheduler: Scheduler;
  readonly checker: Checker;
  readonly api: FastifyInstance;
  /** this node's name among the web nodes on its database */
  readonly nodeName: string;
  /** Stops taking work, aborts running builds, closes the API and the database. */
  stop(): Promise<void>;
}

/**
 * The built-in types checked in the web node (issue 23): on the local runtimes a base type's
 * container runs Jetway's own scripts, so all of them; on Kubernetes those whose image is still
 * Jetway's own (`--base-resource-type git=…` elsewhere keeps that image's pods).
 */
async function builtinChecks(opts: WebNodeOptions, logger: Logger): Promise<InProcessChecks | undefined> {
  if (opts.inProcessChecks === false || process.env.JETWAY_IN_PROCESS_CHECKS === 'off') return undefined;
  let types: string[] = [...IN_PROCESS_TYPES];
  if (opts.runtime === 'kubernetes' && opts.kubernetes) {
    // --kubernetes-native-images=false: every check and get in a pod, for comparison
    if (opts.nativeImages === false) return undefined;
    const { jetwayResourceTypeImages } = await import('../runtime/kubernetes/config.ts');
    const own = jetwayResourceTypeImages(opts.kubernetes.helperImage);
    const cfg = opts.kubernetes.baseResourceTypes;
    types = types.filter((t) => Object.hasOwn(cfg, t) && cfg[t] === own[t]);
  }
  logger.info({ types }, 'checks of these built-in types run in the web node, without containers');
  return InProcessChecks.inDataDir(opts.dataDir, { types });
}

export async function startWebNode(opts: WebNodeOptions): Promise<WebNode> {
  const logger = opts.logger;
  if (opts.localUsers.length === 0) {
    throw new Error('no users: give at least one --add-local-user name:password (every route but health and info needs a login)');
  }
  const auth = new LocalAuth({ users: opts.localUsers, ...(opts.mainTeamUsers ? { mainTeamUsers: opts.mainTeamUsers } : {}) });
  let credentials: CredentialManager | undefined;
  if (opts.kubernetesCredentials) {
    // loaded on demand, as the runtime: a web node without it never loads the Kubernetes client
    const { createKubernetesCredentialManager } = await import('../creds/kubernetes-api.ts');
    credentials = createKubernetesCredentialManager(opts.kubernetesCredentials);
    logger.info(
      { namespacePrefix: opts.kubernetesCredentials.namespacePrefix },
      `Kubernetes credential manager: ((vars)) from Secrets in namespaces ${opts.kubernetesCredentials.namespacePrefix}<team>`,
    );
  }
  await mkdir(opts.dataDir, { recursive: true });
  const db = await openDatabase({
    dataDir: join(opts.dataDir, 'postgres'),
    logger: logger.child({ component: 'db' }),
    ...(opts.postgresUrl ? { postgresUrl: opts.postgresUrl } : {}),
    ...(opts.postgresMaxConnections ? { maxConnections: opts.postgresMaxConnections } : {}),
  });
  const externalUrl = (opts.externalUrl ?? `http://localhost:${opts.port}`).replace(/\/+$/, '');
  // the engine (created below) is read at scrape time, once it exists
  const metrics: Metrics = new Metrics({ runningBuilds: (): number => engine.runningBuilds });
  let runtime: Runtime;
  let startReaper: ((cluster: PostgresPassGate) => void) | undefined;
  let closeRuntime: (() => Promise<void>) | undefined;
  if (opts.runtime === 'kubernetes') {
    if (!opts.kubernetes) throw new Error('the Kubernetes runtime needs its configuration');
    try {
      // loaded on demand: the Kubernetes client costs ~75 MB of memory a local web node does not need
      const { createKubernetesRuntime } = await import('./kubernetes.ts');
      const k8s = createKubernetesRuntime({
        config: opts.kubernetes,
        dataDir: opts.dataDir,
        requests: metrics,
        db,
        logger: logger.child({ component: 'kubernetes' }),
        ...(opts.reaperIntervalMs !== undefined ? { reaperIntervalMs: opts.reaperIntervalMs } : {}),
      });
      runtime = k8s.runtime;
      startReaper = k8s.startReaper;
      closeRuntime = () => k8s.runtime.close();
      logger.info(
        { namespace: k8s.runtime.namespace, nativeImages: opts.nativeImages !== false },
        opts.nativeImages === false
          ? 'Kubernetes runtime: steps run as pods; images resolved through check + get pods (--kubernetes-native-images=false)'
          : 'Kubernetes runtime: steps run as pods; registry images resolved natively',
      );
    } catch (err) {
      await db.close().catch(() => undefined);
      throw err;
    }
  } else {
    // containers where runc can run (the default, auto), else host processes, said in one line
    let mode: ContainersMode | undefined;
    const choice = await chooseLocalRuntime(opts.localRuntime ?? parseLocalRuntimeKind(process.env.JETWAY_LOCAL_RUNTIME, 'JETWAY_LOCAL_RUNTIME'), async () => {
      mode = await probeContainers(DEFAULT_RUNC);
      return mode.mode === 'unusable' ? mode.reason : undefined;
    });
    const rootless = mode?.mode === 'rootless' ? mode : undefined;
    // a root web node runs each team's steps as host ids of the team's own (issue 16, finding 4)
    const teamUsers = process.getuid?.() === 0;
    try {
      if (teamUsers && choice.kind === 'processes') await checkBuildUserCanRunResources(teamBuildUser(undefined));
      // traverse-only for the teams' ids (a container's root in its user namespace too), private otherwise
      await isolateDataDir(opts.dataDir, teamUsers ? teamBuildUser(undefined) : undefined, 'worker', ['artifacts'], logger);
    } catch (err) {
      await db.close().catch(() => undefined);
      throw err;
    }
    if (choice.kind === 'containers') {
      const containers = new ContainerRuntime({
        root: join(opts.dataDir, 'worker'),
        isolatedNetwork: opts.localNetwork === 'isolated',
        ...(opts.localProxies ? { proxyEnv: proxyEnv(opts.localProxies) } : {}),
        ...(opts.localFailedContainerRetentionMs !== undefined ? { failedRetentionMs: opts.localFailedContainerRetentionMs } : {}),
        ...(rootless ? { rootless: { subuid: rootless.subuid, subgid: rootless.subgid, teams: rootless.teams } } : {}),
      });
      runtime = containers;
      closeRuntime = () => containers.close();
      if (rootless) {
        logger.info(
          { network: opts.localNetwork ?? 'host', proxies: Object.keys(opts.localProxies ?? {}), subuids: `${rootless.subuid.start}+${rootless.subuid.count}`, teams: rootless.teams },
          `local runtime: steps run in rootless containers (runc; the web node is not root), each from its image, each team's as ids of its own (teams 1-${rootless.teams}); privileged steps and container_limits fail`,
        );
      } else {
        logger.info({ network: opts.localNetwork ?? 'host', proxies: Object.keys(opts.localProxies ?? {}) }, "local runtime: steps run in containers (runc), each from its image, each team's in a user namespace of its own");
      }
    } else {
      if (choice.warning) logger.warn(choice.warning);
      if (teamUsers) logger.info({ uidBase: TEAM_ID_BASE, perTeam: TEAM_ID_RANGE_SIZE }, `local runtime: steps run as host processes, each team's as a user of its own (uid ${TEAM_ID_BASE} + ${TEAM_ID_RANGE_SIZE} × team id)`);
      else logger.warn("local runtime: builds run as this web node's own user (it is not root), so they are not isolated from it: they can read its data directory, its environment and its Postgres credentials");
      runtime = new LocalRuntime({ root: join(opts.dataDir, 'worker'), ...(teamUsers ? { teamUsers: true } : {}), ...(opts.localProxies ? { proxyEnv: proxyEnv(opts.localProxies) } : {}) });
    }
  }

  const inProcessChecks = await builtinChecks(opts, logger);
  const nodeName = opts.nodeName ?? `${hostname()}:${resolve(opts.dataDir)}`;
  const leaseMs = opts.buildLeaseMs ?? 20_000;
  const incarnation = randomUUID();
  const leases = new PostgresBuildLeases(db, nodeName, incarnation, leaseMs);
  // periodic work (scheduling, checks, GC, the reaper) once per interval across the web nodes
  const gate = new PostgresPassGate(db, `${nodeName}/${incarnation}`);
  // the idtoken var source's keys, shared by every web node through Postgres
  const signingKeys = new PostgresSigningKeys(db);
  const engine: Engine = new Engine({
    idTokens: new IdTokenIssuer(externalUrl, signingKeys),
    store: new PostgresEngineStore(db),
    leases,
    runtime,
    metrics,
    externalUrl,
    artifactsDir: join(opts.dataDir, 'artifacts'),
    logger: logger.child({ component: 'engine' }),
    ...(opts.nativeImages !== undefined ? { nativeImages: opts.nativeImages } : {}),
    ...(credentials ? { credentials } : {}),
    ...(inProcessChecks ? { inProcessChecks } : {}),
    // a finished build may unblock its downstream jobs: wake the scheduler (created below)
    onBuildFinished: () => scheduler.scheduleNow(),
  });
  // Builds this node's previous incarnation ran are recovered now; another live node's are left
  // to it, and taken over only once their lease expires (docs/web-nodes.md).
  await leases.register();
  // step processes a crashed predecessor on this data dir left running die before their builds end errored
  if (opts.runtime === 'local') await killOrphanProcesses(join(opts.dataDir, 'worker'), logger);
  const recovered = await engine.recoverOrphans();
  if (recovered > 0) logger.warn({ builds: recovered }, 'builds left running by a previous web node were ended errored');
  // the heartbeat is the node's regular write: a full database disk shows there first (/health)
  let databaseDiskFull: string | undefined;
  const heartbeat = new PeriodicPass(
    async () => {
      let taken: number[];
      try {
        taken = await engine.heartbeat(leaseMs);
        databaseDiskFull = undefined;
      } catch (err) {
        if (isDiskFull(err)) databaseDiskFull = `the database's disk is full: ${err instanceof Error ? err.message : String(err)}`;
        throw err;
      }
      if (taken.length > 0) logger.warn({ builds: taken }, 'took over the builds of a web node whose lease expired');
    },
    Math.max(100, Math.floor(leaseMs / 4)),
    (err: unknown) => logger.warn({ err }, 'web node heartbeat failed'),
  );
  heartbeat.start();
  // after recoverOrphans: the pods of the builds it ended are the reaper's
  startReaper?.(gate);

  const checker = new Checker(new PostgresCheckerStore(db), {
    tracker: engine,
    // periodic checks of the types the web node checks itself: in memory, without a build row
    ...(inProcessChecks ? { inMemory: { runner: engine, accepts: (type: string, source: unknown) => inProcessChecks.accepts(type, source) } } : {}),
    cluster: gate,
    metrics,
    logger: logger.child({ component: 'checker' }),
    ...(opts.checkerIntervalMs ? { intervalMs: opts.checkerIntervalMs } : {}),
  });
  const scheduler = new Scheduler(db, {
    tracker: engine,
    checks: checker,
    cluster: gate,
    logger: logger.child({ component: 'scheduler' }),
    metrics,
    ...(opts.schedulerIntervalMs ? { intervalMs: opts.schedulerIntervalMs } : {}),
  });

  const api = createApiServer({
    signingKeys,
    db,
    auth,
    logger,
    ...(opts.logLevel ? { logLevel: opts.logLevel } : {}),
    ...(opts.kubernetesCredentials ? { credentialManagersInfo: { kubernetes: kubernetesCredentialsInfo(opts.kubernetesCredentials) } } : {}),
    version: JETWAY_VERSION,
    ...(opts.concourseVersion ? { concourseVersion: opts.concourseVersion } : {}),
    externalUrl,
    artifactsDir: join(opts.dataDir, 'artifacts'),
    scheduler: { requestSchedule: () => scheduler.scheduleNow() },
    checker,
    engine: { abortBuild: (id) => engine.abort(id), track: (id) => engine.track(id) },
    ...(credentials ? { credentials } : {}),
    metrics,
    runtime,
    // /health names a full disk (issue 17)
    diskProblem: async () => databaseDiskFull ?? (await dataDirDiskProblem(opts.dataDir)),
    // failed logins in Postgres: every web node enforces the same limits (issue 16)
    loginLimiter: new LoginLimiter({ store: new PostgresLoginFailures(db) }),
    ...(opts.trustProxy && opts.trustProxy.length > 0 ? { trustProxy: opts.trustProxy } : {}),
    // set-pipeline knows the types the operator added (--base-resource-type), as the Kubernetes runtime runs them
    baseResourceTypes: [...BASE_RESOURCE_TYPES, ...Object.keys(opts.runtime === 'kubernetes' ? (opts.kubernetes?.baseResourceTypes ?? {}) : {})],
  });
  try {
    await api.listen({ port: opts.port, host: opts.bindIp });
  } catch (err) {
    await db.close().catch(() => undefined);
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'EADDRINUSE') throw new Error(`port ${opts.port} is in use: pass another --port`);
    throw err;
  }
  // the local runtimes' kept resource cache volumes go once their caches have (bounded per pass)
  const keptResourceCaches = runtime instanceof LocalRuntime || runtime instanceof ContainerRuntime ? runtime : undefined;
  const collector = new Collector(new PostgresGcStore(db), { logger: logger.child({ component: 'gc' }), cluster: gate, ...(keptResourceCaches ? { keptResourceCaches } : {}) });
  checker.start();
  scheduler.start();
  collector.start();
  logger.info({ url: externalUrl, runtime: runtime.name, version: JETWAY_VERSION }, 'web node started');

  let stopping: Promise<void> | undefined;
  return {
    url: externalUrl,
    db,
    engine,
    scheduler,
    checker,
    api,
    nodeName,
    stop() {
      stopping ??= (async () => {
        logger.info({}, 'web node stopping');
        await collector.stop();
        await checker.stop();
        await scheduler.stop();
        await heartbeat.stop();
        await engine.stop();
        await leases.unregister().catch((err: unknown) => logger.warn({ err }, 'removing this web node from the registry failed'));
        await closeRuntime?.();
        await api.close();
        await db.close();
        logger.info({}, 'web node stopped');
      })();
      return stopping;
    },
  };
}

/** Below this much free space the data dir's disk counts as full for /health (builds, artifacts and the embedded Postgres live there). */
const MIN_FREE_BYTES = 32 * 1024 * 1024;

/** The data dir's disk problem, if any. */
async function dataDirDiskProblem(dataDir: string): Promise<string | undefined> {
  const fs = await statfs(dataDir);
  const free = fs.bavail * fs.bsize;
  if (free >= MIN_FREE_BYTES) return undefined;
  return `the disk of the data directory ${dataDir} is full: ${(free / 1048576).toFixed(1)} MiB free`;
}
