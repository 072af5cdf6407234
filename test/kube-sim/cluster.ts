// The kube-sim test cluster, composed in-process: a real OCI registry (test/support/registry.ts),
// the simulated API server (apiserver/) and a kubelet (kubelet/ by default, or an injected one).
// It writes what a client needs into the state directory:
//   stateDir/kubeconfig   cluster (https, certificate-authority-data: the cluster's CA), user with a
//                         bearer token (an admin, system:masters), context, namespace default
//   stateDir/pki/         ca.crt (and the API server's certificate and keys)
//   stateDir/registry     host:port of the registry
//   stateDir/audit.jsonl  the API server's audit log, one JSON line per request
// and returns handles for tests: the kubeconfig path, the registry, the audit reader, the fault
// controls, the latency setter, and stop().
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { randomBytes } from 'node:crypto';
import { ZERO_LATENCY, type Kubelet, type LatencyProfile } from './contract.ts';
import { ApiServer, type FaultControl, type PolicyRule, type TokenUser } from './apiserver/server.ts';
import type { AuditLog } from './apiserver/audit.ts';
import { latencyProfile } from './apiserver/latency.ts';
import { makeClusterPki } from './apiserver/tls.ts';
import { request as httpsRequest } from 'node:https';
import { startRegistry, type TestRegistry } from '../support/registry.ts';
import type { RegistryCredentials } from '../../src/images/registry-client.ts';

/** What cluster.ts passes to a kubelet factory. */
export interface KubeletFactoryOptions {
  /** the node the kubelet runs as */
  nodeName: string;
  /** a directory the kubelet owns (image cache, bundles, logs); under the cluster's state dir */
  stateDir: string;
  /** the cluster's registry, `host:port` */
  registry: string;
  /** the latency profile at start */
  latency: LatencyProfile;
}

export type KubeletFactory = (options: KubeletFactoryOptions) => Kubelet | Promise<Kubelet>;

export interface StartClusterOptions {
  /** where kubeconfig, registry and audit.jsonl go (created if missing) */
  stateDir: string;
  /** a profile name (`zero`, `realistic`) or a profile; default zero */
  latency?: LatencyProfile | string;
  /** htpasswd auth on the registry: `USER:PASS` or credentials */
  registryAuth?: string | RegistryCredentials;
  /**
   * Makes the kubelet. Default: `createKubelet` from kubelet/index.ts (runc, real pulls).
   * `null`: no kubelet (pods stay Pending, as on a cluster without nodes).
   */
  kubeletFactory?: KubeletFactory | null;
  /** false: no registry (faster, for tests that run no images); default true */
  registry?: boolean;
  /** extra bearer tokens (e.g. restricted users for 403 tests) */
  tokens?: Record<string, TokenUser>;
  /** API server port (default: a free one) */
  port?: number;
  nodeName?: string;
  /** watch history kept before 410 Expired (default 2000 events) */
  historyLimit?: number;
}

export interface Cluster {
  /** stateDir/kubeconfig */
  kubeconfigPath: string;
  /** the API server's URL (https) */
  server: string;
  /** PEM of the cluster's CA (the kubeconfig's certificate-authority-data) */
  caCert: string;
  /** the admin bearer token in the kubeconfig */
  token: string;
  stateDir: string;
  /** the registry (`host`), or undefined when started with registry: false */
  registry: TestRegistry | undefined;
  audit: AuditLog;
  faults: FaultControl;
  apiServer: ApiServer;
  kubelet: Kubelet | undefined;
  latency(): LatencyProfile;
  setLatency(profile: Partial<LatencyProfile> | string): void;
  /**
   * Adds a user with a token (and RBAC-ish rules: none = admin) and writes a kubeconfig for it;
   * returns the kubeconfig path.
   */
  addUser(username: string, rules?: PolicyRule[] | 'rbac'): string;
  /**
   * A kubeconfig (written to stateDir/kubeconfig-sa-NS-NAME) whose user is the service account
   * NS/NAME, with a token from the TokenRequest API (one hour, or `expirationSeconds`): every
   * request is authorized by the cluster's RBAC objects, as in a real cluster.
   */
  serviceAccountKubeconfig(namespace: string, name: string, expirationSeconds?: number): string;
  /** An HTTPS request to the API server that trusts the cluster's CA (admin token unless `token`). */
  request(path: string, init?: { method?: string; body?: unknown; token?: string; headers?: Record<string, string> }): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; text: string; json(): unknown }>;
  stop(): Promise<void>;
}

export function parseCredentials(text: string): RegistryCredentials | undefined {
  const i = text.indexOf(':');
  if (i <= 0 || i === text.length - 1) return undefined;
  return { username: text.slice(0, i), password: text.slice(i + 1) };
}

function resolveLatency(latency: LatencyProfile | string | undefined): LatencyProfile {
  if (latency === undefined) return { ...ZERO_LATENCY };
  if (typeof latency === 'string') {
    const p = latencyProfile(latency);
    if (!p) throw new Error(`unknown latency profile "${latency}" (known: zero, realistic)`);
    return p;
  }
  return { ...ZERO_LATENCY, ...latency };
}

export function kubeconfigYaml(server: string, token: string, username: string, namespace = 'default', caCert?: string): string {
  return [
    'apiVersion: v1',
    'kind: Config',
    'clusters:',
    '- name: kube-sim',
    '  cluster:',
    `    server: ${server}`,
    // client-node refuses a plain-http server unless TLS verification is explicitly off
    caCert ? `    certificate-authority-data: ${Buffer.from(caCert).toString('base64')}` : '    insecure-skip-tls-verify: true',
    'users:',
    `- name: ${JSON.stringify(username)}`,
    '  user:',
    `    token: ${JSON.stringify(token)}`,
    'contexts:',
    '- name: kube-sim',
    '  context:',
    '    cluster: kube-sim',
    `    user: ${JSON.stringify(username)}`,
    `    namespace: ${namespace}`,
    'current-context: kube-sim',
    'preferences: {}',
    '',
  ].join('\n');
}

async function defaultKubeletFactory(options: KubeletFactoryOptions): Promise<Kubelet> {
  const mod = await import('./kubelet/index.ts');
  return mod.createKubelet({ nodeName: options.nodeName, stateDir: options.stateDir, latency: options.latency });
}

export async function startCluster(options: StartClusterOptions): Promise<Cluster> {
  const stateDir = resolve(options.stateDir);
  mkdirSync(stateDir, { recursive: true });
  const latency = resolveLatency(options.latency);
  const credentials = typeof options.registryAuth === 'string' ? parseCredentials(options.registryAuth) : options.registryAuth;
  if (typeof options.registryAuth === 'string' && !credentials) throw new Error('registryAuth must be USER:PASS');
  const nodeName = options.nodeName ?? 'kube-sim-node';
  const adminToken = `kube-sim-${randomBytes(16).toString('hex')}`;
  const kubeletDir = join(stateDir, 'kubelet');

  const cleanups: (() => Promise<void>)[] = [];
  const cleanup = async (): Promise<void> => {
    for (const fn of cleanups.splice(0).reverse()) {
      try {
        await fn();
      } catch (err) {
        console.error('kube-sim: cleanup failed:', err);
      }
    }
  };
  try {
    let registry: TestRegistry | undefined;
    if (options.registry !== false) {
      registry = await startRegistry(credentials ? { htpasswd: credentials } : {});
      cleanups.push(() => registry?.stop() ?? Promise.resolve());
      writeFileSync(join(stateDir, 'registry'), registry.host);
    }
    const pki = makeClusterPki(join(stateDir, 'pki'));
    const auditPath = join(stateDir, 'audit.jsonl');
    writeFileSync(auditPath, '');
    const apiServer = new ApiServer({
      auditPath,
      tokens: { [adminToken]: { username: 'kube-sim-admin', groups: ['system:masters'] }, ...(options.tokens ?? {}) },
      latency,
      nodeName,
      tls: { cert: pki.serverCert, key: pki.serverKey, ca: pki.caCert },
      ...(options.port !== undefined ? { port: options.port } : {}),
      ...(options.historyLimit !== undefined ? { historyLimit: options.historyLimit } : {}),
    });
    const server = await apiServer.start();
    cleanups.push(() => apiServer.stop());
    const kubeconfigPath = join(stateDir, 'kubeconfig');
    writeFileSync(kubeconfigPath, kubeconfigYaml(server, adminToken, 'kube-sim-admin', 'default', pki.caCert), { mode: 0o600 });

    let kubelet: Kubelet | undefined;
    const factory = options.kubeletFactory === undefined ? defaultKubeletFactory : options.kubeletFactory;
    if (factory) {
      mkdirSync(kubeletDir, { recursive: true });
      cleanups.push(async () => rmSync(kubeletDir, { recursive: true, force: true }));
      kubelet = await factory({ nodeName, stateDir: kubeletDir, registry: registry?.host ?? '', latency });
      apiServer.attachKubelet(kubelet);
      kubelet.start(apiServer.clusterStore);
      const k = kubelet;
      cleanups.push(() => k.stop());
    }

    let stopped = false;
    return {
      kubeconfigPath,
      server,
      caCert: pki.caCert,
      token: adminToken,
      stateDir,
      registry,
      audit: apiServer.audit,
      faults: apiServer.faults,
      apiServer,
      kubelet,
      latency: () => apiServer.latency(),
      setLatency: (profile) => apiServer.setLatency(typeof profile === 'string' ? resolveLatency(profile) : profile),
      addUser: (username, rules) => {
        const token = `kube-sim-${randomBytes(16).toString('hex')}`;
        apiServer.addToken(token, { username, ...(rules === 'rbac' ? { rbac: true } : rules ? { rules } : {}) });
        const path = join(stateDir, `kubeconfig-${username.replace(/[^A-Za-z0-9_.-]/g, '_')}`);
        writeFileSync(path, kubeconfigYaml(server, token, username, 'default', pki.caCert), { mode: 0o600 });
        return path;
      },
      serviceAccountKubeconfig: (namespace, name, expirationSeconds) => {
        const { token } = apiServer.serviceAccountTokens.issue(namespace, name, { expirationSeconds: expirationSeconds ?? 3600 });
        const path = join(stateDir, `kubeconfig-sa-${namespace}-${name}`);
        writeFileSync(path, kubeconfigYaml(server, token, `system:serviceaccount:${namespace}:${name}`, namespace, pki.caCert), { mode: 0o600 });
        return path;
      },
      request: (path, init = {}) =>
        new Promise((resolvePromise, reject) => {
          const body = init.body === undefined ? undefined : typeof init.body === 'string' ? init.body : JSON.stringify(init.body);
          const req = httpsRequest(
            new URL(path, server),
            {
              method: init.method ?? 'GET',
              ca: pki.caCert,
              headers: { ...(init.token !== '' ? { Authorization: `Bearer ${init.token ?? adminToken}` } : {}), ...(body !== undefined ? { 'Content-Type': 'application/json' } : {}), ...(init.headers ?? {}) },
            },
            (res) => {
              const chunks: Buffer[] = [];
              res.on('data', (c: Buffer) => chunks.push(c));
              res.on('end', () => {
                const text = Buffer.concat(chunks).toString('utf8');
                resolvePromise({ status: res.statusCode ?? 0, headers: res.headers, text, json: () => JSON.parse(text) as unknown });
              });
              res.on('error', reject);
            },
          );
          req.on('error', reject);
          req.end(body);
        }),
      stop: async () => {
        if (stopped) return;
        stopped = true;
        await cleanup();
      },
    };
  } catch (err) {
    await cleanup();
    throw err;
  }
}
