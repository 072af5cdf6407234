// `jetway web`: runs the web node (API, scheduler, checker, engine) until SIGINT/SIGTERM.
import { Command, Option } from 'commander';
import { pino } from 'pino';
import { usageError, type CliIO } from '../io.ts';
import { startWebNode } from '../../web/web-node.ts';
import { LiveLogLevel } from '../../api/log-level.ts';
import { stopEmbeddedPostgresOnlyWhenClosed } from '../../db/embedded.ts';
import { checkLocalUsers, checkMainTeamUsers, checkProxyAddresses, checkConcourseVersion, checkRuntime, checkUrl, defaultJetwayDir, FlagError, parseBooleanFlag, parseInterval, parsePoolSize, parsePort, readLocalUsersFile } from '../../web/options.ts';
import { DEFAULT_POOL_SIZE, MIN_POOL_SIZE } from '../../db/pool-size.ts';
import { localRuntimeFlags, LOCAL_FLAGS } from '../../web/local-flags.ts';
import {
  DEFAULT_BASE_RESOURCE_TYPES,
  JETWAY_RESOURCE_TYPES,
  DEFAULT_HELPER_IMAGE,
  FLAGS,
  KubernetesConfigError,
  kubernetesRuntimeConfig,
  type KubernetesRuntimeConfig,
  type KubernetesRuntimeOptions,
} from '../../runtime/kubernetes/config.ts';
import { CREDENTIALS_FLAGS, kubernetesCredentialsConfig, type KubernetesCredentialsConfig, type KubernetesCredentialsOptions } from '../../creds/config.ts';
import { DEFAULT_NAMESPACE_PREFIX } from '../../creds/lookup.ts';
import { collect } from '../client/common.ts';
import { CONCOURSE_COMPATIBLE_VERSION } from '../../version.ts';

interface WebFlags {
  port: string;
  bindIp: string;
  externalUrl?: string;
  concourseVersion?: string;
  dataDir: string;
  postgresUrl?: string;
  postgresMaxConns?: string;
  addLocalUser: string[];
  addLocalUsersFile?: string;
  mainTeamLocalUser?: string[];
  runtime: string;
  localRuntime?: 'auto' | 'processes' | 'containers';
  localNetwork?: 'host' | 'isolated';
  localHttpProxy?: string;
  localHttpsProxy?: string;
  localNoProxy?: string;
  localFailedContainerRetention?: string;
  schedulerInterval?: string;
  checkerInterval?: string;
  nodeName?: string;
  buildLease?: string;
  trustProxy?: string[];
  logLevel: string;
  /** `--kubernetes-native-images[=true|false]` */
  kubernetesNativeImages?: string | boolean;
  /** `--kubernetes-credentials[=true|false]` */
  kubernetesCredentials?: string | boolean;
}

export const NATIVE_IMAGES_FLAG = '--kubernetes-native-images';

/**
 * A repeatable flag with no default value: commander would print "(default: [])" after a
 * description that says the default itself (issue 24: help showed defaults twice).
 */
const collectFromNone = (value: string, previous: string[] | undefined): string[] => collect(value, previous ?? []);

type Flags = WebFlags & KubernetesRuntimeOptions & Omit<KubernetesCredentialsOptions, 'kubernetesCredentials'>;

/** The Kubernetes flags given (commander's names), to refuse them without --runtime kubernetes. */
const KUBERNETES_FLAG_KEYS: [keyof KubernetesRuntimeOptions, string][] = [
  ['kubernetesNamespace', FLAGS.namespace],
  ['kubernetesServiceAccount', FLAGS.serviceAccount],
  ['kubernetesImagePullSecret', FLAGS.imagePullSecret],
  ['baseResourceType', FLAGS.baseResourceType],
  ['kubernetesHelperImage', FLAGS.helperImage],
  ['kubernetesPodStartupTimeout', FLAGS.podStartupTimeout],
  ['kubernetesImagePullGrace', FLAGS.imagePullGrace],
  ['kubernetesFailedPodRetention', FLAGS.failedPodRetention],
  ['kubernetesAllowPrivileged', FLAGS.allowPrivileged],
  ['kubernetesDefaultCpuRequest', FLAGS.defaultCpuRequest],
  ['kubernetesDefaultMemoryRequest', FLAGS.defaultMemoryRequest],
  ['kubernetesDefaultCpuLimit', FLAGS.defaultCpuLimit],
  ['kubernetesDefaultMemoryLimit', FLAGS.defaultMemoryLimit],
  ['kubernetesMaxCpuLimit', FLAGS.maxCpuLimit],
  ['kubernetesMaxMemoryLimit', FLAGS.maxMemoryLimit],
];

/** How to reach the cluster: the runtime's and the credential manager's. */
const KUBECONFIG_FLAG_KEYS: [keyof KubernetesRuntimeOptions, string][] = [
  ['kubernetesKubeconfig', FLAGS.kubeconfig],
  ['kubernetesContext', FLAGS.context],
  ['kubernetesInCluster', FLAGS.inCluster],
];

const given = (value: unknown): boolean => value !== undefined && !(Array.isArray(value) && value.length === 0);

/** The Kubernetes runtime's configuration from the flags (a KubernetesConfigError names the flag). */
export function kubernetesFlags(flags: Flags): KubernetesRuntimeConfig | undefined {
  if (flags.runtime !== 'kubernetes') {
    for (const [key, flag] of KUBERNETES_FLAG_KEYS) {
      if (given(flags[key])) throw new FlagError(`${flag}: needs --runtime kubernetes`);
    }
    if (!credentialsOn(flags)) {
      for (const [key, flag] of KUBECONFIG_FLAG_KEYS) {
        if (given(flags[key])) throw new FlagError(`${flag}: needs --runtime kubernetes or ${CREDENTIALS_FLAGS.enable}`);
      }
    }
    if (flags.kubernetesNativeImages !== undefined) throw new FlagError(`${NATIVE_IMAGES_FLAG}: needs --runtime kubernetes (the local runtime always runs check + get)`);
    return undefined;
  }
  return kubernetesRuntimeConfig(flags);
}

/** `--kubernetes-credentials[=BOOL]`: off unless given (bare or true). */
export function credentialsOn(flags: Pick<WebFlags, 'kubernetesCredentials'>): boolean {
  return parseBooleanFlag(flags.kubernetesCredentials, CREDENTIALS_FLAGS.enable, false);
}

/** The Kubernetes credential manager's configuration from the flags, when it is on (errors name the flag). */
export function credentialsFlags(flags: Flags): KubernetesCredentialsConfig | undefined {
  return kubernetesCredentialsConfig({ ...flags, kubernetesCredentials: credentialsOn(flags) });
}

/** `--kubernetes-native-images`: true unless given false. */
export function nativeImagesFlag(flags: Pick<WebFlags, 'kubernetesNativeImages'>): boolean {
  return parseBooleanFlag(flags.kubernetesNativeImages, NATIVE_IMAGES_FLAG, true);
}


export function registerWeb(program: Command, io: CliIO): void {
  program
    .command('web')
    .description('Run the web node: the API, scheduler, checker and engine, on embedded Postgres and the local runtime by default')
    .addOption(new Option('--port <port>', 'port of the API and UI').default('8080').env('JETWAY_PORT'))
    .addOption(new Option('--bind-ip <ip>', 'address to listen on').default('0.0.0.0').env('JETWAY_BIND_IP'))
    .addOption(new Option('--external-url <url>', 'the URL users reach this server at (default http://localhost:<port>)').env('JETWAY_EXTERNAL_URL'))
    .addOption(
      new Option('--concourse-version <x.y.z>', `the Concourse version /api/v1/info reports to fly, which refuses a server of another major.minor (default ${CONCOURSE_COMPATIBLE_VERSION}; set your teams' fly version)`).env('JETWAY_CONCOURSE_VERSION'),
    )
    .addOption(new Option('--data-dir <dir>', 'where the embedded Postgres, build work and artifacts live').default(defaultJetwayDir()).env('JETWAY_DATA_DIR'))
    .addOption(new Option('--postgres-url <url>', 'an external Postgres instead of the embedded one').env('JETWAY_POSTGRES_URL'))
    .addOption(
      new Option('--postgres-max-conns <n>', `connections this web node opens to Postgres at most (default ${DEFAULT_POOL_SIZE}, at least ${MIN_POOL_SIZE}); the server must allow this times the nodes`).env(
        'JETWAY_POSTGRES_MAX_CONNS',
      ),
    )
    .option('--add-local-user <name:password>', 'a user who may log in (repeatable); the password may be a bcrypt hash (name:$2a$10$…), so that no password is on the command line', collect, [])
    .addOption(
      new Option('--add-local-users-file <path>', 'a file of users, one name:password or name:bcrypt-hash per line (# comments)').env('JETWAY_ADD_LOCAL_USERS_FILE'),
    )
    // no default value: commander would print "(default: [])" after the description's own
    .option('--main-team-local-user <name>', 'a local user who owns team main, an admin: manages teams and owns every team (repeatable; default: every local user)', collectFromNone)
    .addOption(new Option('--runtime <runtime>', 'where steps run: host processes (local) or one pod per step (kubernetes)').choices(['local', 'kubernetes']).default('local'))
    .addOption(
      new Option('--local-runtime <kind>', 'the local runtime runs steps in containers from their images (runc; auto: containers where runc can run, else host processes, said at start-up) or as host processes')
        .choices(['auto', 'containers', 'processes'])
        .default('auto')
        .env('JETWAY_LOCAL_RUNTIME'),
    )
    .addOption(new Option('--local-network <network>', "the local runtime's containers use the host's network, or each its own (isolated: loopback only)").choices(['host', 'isolated']).default('host'))
    .addOption(new Option(`${LOCAL_FLAGS.httpProxy} <url>`, "http_proxy (and HTTP_PROXY) of every step on the local runtime, unless the step sets its own, as a Concourse worker's --http-proxy").env('JETWAY_LOCAL_HTTP_PROXY'))
    .addOption(new Option(`${LOCAL_FLAGS.httpsProxy} <url>`, 'https_proxy (and HTTPS_PROXY) of every step on the local runtime, unless the step sets its own').env('JETWAY_LOCAL_HTTPS_PROXY'))
    .addOption(new Option(`${LOCAL_FLAGS.noProxy} <list>`, 'no_proxy (and NO_PROXY) of every step on the local runtime: hosts, domains, addresses reached directly, comma-separated').env('JETWAY_LOCAL_NO_PROXY'))
    .option(`${LOCAL_FLAGS.failedContainerRetention} <duration>`, "how long the local runtime keeps a failed step's container for jetway intercept; 0 removes it at once (default 1h)")
    .option(`${FLAGS.namespace} <namespace>`, "namespace of step pods (default: the kubeconfig context's, or the web node's own in a cluster)")
    .option(`${FLAGS.serviceAccount} <name>`, "service account of step pods (default: the namespace's default)")
    .option(`${FLAGS.imagePullSecret} <name>`, 'pull secret given to every step pod (repeatable)', collect, [])
    .option(
      `${FLAGS.baseResourceType} <name=image>`,
      `image of a base resource type (repeatable; merged over the defaults, later wins; defaults: ${JETWAY_RESOURCE_TYPES.join(', ')} -> jetway/<name>-resource next to the helper image, as jetway images push pushes them; ${Object.keys(DEFAULT_BASE_RESOURCE_TYPES).filter((t) => !(JETWAY_RESOURCE_TYPES as readonly string[]).includes(t)).join(', ')} -> concourse/<name>-resource)`,
      collectFromNone,
    )
    .addOption(
      new Option(
        `${FLAGS.helperImage} <image>`,
        `image of the tools init container and the artifact sidecar: a static busybox at /bin/busybox (default ${DEFAULT_HELPER_IMAGE}); REG/jetway/helper:TAG also moves Jetway's own resource types to REG/jetway/<type>-resource:TAG`,
      ).env('JETWAY_KUBERNETES_HELPER_IMAGE'),
    )
    .option(`${FLAGS.podStartupTimeout} <duration>`, 'a step pod not running after this fails its step (default 5m)')
    .option(`${FLAGS.imagePullGrace} <duration>`, 'a step pod failing to pull its image this long fails its step with the kubelet\'s message (default 2m)')
    .option(`${FLAGS.failedPodRetention} <duration>`, 'how long a failed step\'s pod is kept for debugging; 0 deletes it at once (default 1h)')
    .option(FLAGS.allowPrivileged, 'let steps with privileged: true run privileged pods (default: such steps fail; they can take over the node)')
    .option(`${FLAGS.defaultCpuRequest} <cpu>`, 'CPU request of every step container, e.g. 250m (default none)')
    .option(`${FLAGS.defaultMemoryRequest} <memory>`, 'memory request of every step container, e.g. 256Mi (default none)')
    .option(`${FLAGS.defaultCpuLimit} <cpu>`, "CPU limit of a step container whose step sets no container_limits.cpu, e.g. 2 (default: the maximum, else none)")
    .option(`${FLAGS.defaultMemoryLimit} <memory>`, "memory limit of a step container whose step sets no container_limits.memory, e.g. 2Gi (default: the maximum, else none)")
    .option(`${FLAGS.maxCpuLimit} <cpu>`, 'largest CPU limit a step may ask for with container_limits; steps asking more fail (default none)')
    .option(`${FLAGS.maxMemoryLimit} <memory>`, 'largest memory limit a step may ask for with container_limits; steps asking more fail (default none)')
    .option(
      `${NATIVE_IMAGES_FLAG} [bool]`,
      'resolve registry images without pods: registry-image checks run from the web node, images and gets of registry images become repository@digest (default true; =false sends them through check + get pods)',
    )
    .option(
      `${CREDENTIALS_FLAGS.enable} [bool]`,
      "resolve ((vars)) that name no var source from Kubernetes Secrets, as Concourse's Kubernetes credential manager: Secret <pipeline>.<var>, else <var>, in namespace <prefix><team> (works with either runtime; the kubeconfig flags below reach the cluster)",
    )
    .option(`${CREDENTIALS_FLAGS.namespacePrefix} <prefix>`, `prefix of the team namespaces the credential manager reads (default ${DEFAULT_NAMESPACE_PREFIX})`)
    .option(`${FLAGS.kubeconfig} <path>`, 'kubeconfig with the cluster credentials (default: $KUBECONFIG, ~/.kube/config, else in-cluster)')
    .option(`${FLAGS.context} <name>`, "context of the kubeconfig (default: its current context)")
    .option(FLAGS.inCluster, "use the web node's pod service account (not with --kubernetes-kubeconfig)")
    .option('--scheduler-interval <duration>', 'time between scheduling passes (default 10s)')
    .option('--checker-interval <duration>', 'time between resource check scans (default 10s)')
    .addOption(new Option('--node-name <name>', 'this web node\'s name among several on one Postgres: unique per node, kept across its restarts (default: host name and data dir; docs/web-nodes.md)').env('JETWAY_NODE_NAME'))
    .option(
      '--trust-proxy <addresses>',
      "addresses or CIDR ranges of the proxies in front of this web node, comma-separated, repeatable: a request's address (for login limits and logs) is then taken from their X-Forwarded-For (default: none, X-Forwarded-For is ignored)",
      collectFromNone,
    )
    .option('--build-lease <duration>', 'a build whose web node sends no heartbeat this long is taken over by another node (default 20s)')
    .addOption(new Option('--log-level <level>', 'log level').choices(['debug', 'info', 'warn', 'error']).default('info').env('JETWAY_LOG_LEVEL'))
    .action(async (flags: Flags) => {
      const envUsers = process.env.JETWAY_ADD_LOCAL_USER ? process.env.JETWAY_ADD_LOCAL_USER.split(',') : [];
      let options;
      try {
        // each flag checked once, in this order (the first bad one is the error)
        const port = parsePort(flags.port);
        const fileUsers = flags.addLocalUsersFile ? readLocalUsersFile(flags.addLocalUsersFile) : [];
        const localUsers = checkLocalUsers([...flags.addLocalUser, ...envUsers, ...fileUsers]);
        const mainTeamUsers = checkMainTeamUsers(flags.mainTeamLocalUser ?? [], localUsers);
        const runtime = checkRuntime(flags.runtime);
        const kubernetes = kubernetesFlags(flags);
        const kubernetesCredentials = credentialsFlags(flags);
        const externalUrl = checkUrl(flags.externalUrl, '--external-url');
        const concourseVersion = checkConcourseVersion(flags.concourseVersion);
        const schedulerIntervalMs = parseInterval(flags.schedulerInterval, '--scheduler-interval');
        const checkerIntervalMs = parseInterval(flags.checkerInterval, '--checker-interval');
        const buildLeaseMs = parseInterval(flags.buildLease, '--build-lease');
        const trustProxy = checkProxyAddresses(flags.trustProxy ?? []);
        const postgresMaxConnections = parsePoolSize(flags.postgresMaxConns);
        const local = localRuntimeFlags(flags);
        options = {
          port,
          bindIp: flags.bindIp,
          dataDir: flags.dataDir,
          localUsers,
          ...(mainTeamUsers ? { mainTeamUsers } : {}),
          runtime,
          ...(flags.localRuntime ? { localRuntime: flags.localRuntime } : {}),
          ...(flags.localNetwork ? { localNetwork: flags.localNetwork } : {}),
          ...local,
          ...(kubernetes ? { kubernetes, nativeImages: nativeImagesFlag(flags) } : {}),
          ...(kubernetesCredentials ? { kubernetesCredentials } : {}),
          ...(externalUrl ? { externalUrl } : {}),
          ...(concourseVersion ? { concourseVersion } : {}),
          ...(flags.postgresUrl ? { postgresUrl: flags.postgresUrl } : {}),
          ...(postgresMaxConnections ? { postgresMaxConnections } : {}),
          ...(schedulerIntervalMs ? { schedulerIntervalMs } : {}),
          ...(checkerIntervalMs ? { checkerIntervalMs } : {}),
          ...(buildLeaseMs ? { buildLeaseMs } : {}),
          ...(flags.nodeName ? { nodeName: flags.nodeName } : {}),
          ...(trustProxy.length > 0 ? { trustProxy } : {}),
        };
        if (options.localUsers.length === 0) throw new FlagError('--add-local-user: give at least one user (name:password); every route but health and info needs a login');
      } catch (err) {
        if (err instanceof FlagError || err instanceof KubernetesConfigError) throw usageError(`error: ${err.message}`);
        throw err;
      }
      // Structured logs: JSON lines on stdout, written synchronously so none is lost at exit. The
      // level can be changed while the node runs (PUT /api/v1/log-level, src/api/log-level.ts).
      const logLevel = new LiveLogLevel(flags.logLevel);
      const logger = pino(
        { name: 'jetway', ...logLevel.pinoOptions(), redact: ['password', '*.password', 'token', '*.token'] },
        pino.destination({ fd: 1, sync: true }),
      );
      // /proc/<pid>/cmdline is world-readable: once the flags are read, overwrite them (a password
      // given as --add-local-user name:password, a --postgres-url with one) with the bare command
      process.title = 'jetway web';
      // this command stops the web node (and its embedded Postgres) itself on SIGINT/SIGTERM
      stopEmbeddedPostgresOnlyWhenClosed();
      const node = await startWebNode({ ...options, logger, logLevel });
      io.stderr(`jetway web listening on ${node.url}\n`);
      await new Promise<void>((resolve) => {
        const stop = (): void => {
          process.off('SIGINT', stop);
          process.off('SIGTERM', stop);
          void node.stop().finally(resolve);
        };
        process.on('SIGINT', stop);
        process.on('SIGTERM', stop);
      });
    });
}
