// The API server as the runtime uses it: credentials from the configuration, the namespace, and
// every request through `call()`, which retries 429 and 5xx with exponential backoff (honouring
// Retry-After) and turns a 403 into a message naming the missing permission.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { Agent as HttpsAgent } from 'node:https';
import {
  ApiException,
  CoreV1Api,
  createConfiguration,
  KubeConfig,
  ServerConfiguration,
  type RequestContext,
  type SecurityAuthentication,
} from '@kubernetes/client-node';
import { TOKEN_FILE_PROVIDER, TokenFileAuthenticator } from './token-file.ts';
import type { KubernetesCredentials } from './config.ts';
import { forbiddenMessage } from './permissions.ts';

const IN_CLUSTER_NAMESPACE_FILE = '/var/run/secrets/kubernetes.io/serviceaccount/namespace';

/** A refused or failed API request, with its HTTP status (0: no response). */
export class KubernetesApiError extends Error {
  override name = 'KubernetesApiError';
  constructor(
    message: string,
    readonly status: number,
  ) {
    super(message);
  }
}

export interface RetryPolicy {
  /** attempts in all (the first one included) */
  attempts: number;
  /** first backoff; doubled each attempt */
  baseDelayMs: number;
  maxDelayMs: number;
}

export const DEFAULT_RETRY: RetryPolicy = { attempts: 8, baseDelayMs: 100, maxDelayMs: 5_000 };

/** What a request is, for retries and messages: `create pods`, `create pods/exec`… */
export interface RequestInfo {
  verb: string;
  resource: string;
}

export function loadKubeConfig(credentials: KubernetesCredentials): KubeConfig {
  const kc = new KubeConfig();
  switch (credentials.kind) {
    case 'in-cluster':
      kc.loadFromCluster(credentials.root);
      break;
    case 'kubeconfig':
      kc.loadFromFile(credentials.path);
      if (credentials.context !== undefined) kc.setCurrentContext(credentials.context);
      break;
    case 'default':
      kc.loadFromDefault();
      if (credentials.context !== undefined) kc.setCurrentContext(credentials.context);
      break;
  }
  if (!kc.getCurrentCluster()) throw new Error('no Kubernetes cluster: the kubeconfig has no current cluster (give --kubernetes-kubeconfig, --kubernetes-context or --kubernetes-in-cluster)');
  useTokenFileAuthenticator(kc);
  return kc;
}

/**
 * Token files (the in-cluster service account's) through Jetway's authenticator, which re-reads
 * a rotated token at once (token-file.ts) instead of within a minute.
 */
export function useTokenFileAuthenticator(kc: KubeConfig): void {
  let used = false;
  for (const user of kc.users) {
    const path = (user.authProvider?.config as Record<string, unknown> | undefined)?.tokenFile;
    if (typeof path !== 'string') continue;
    (user as { authProvider: unknown }).authProvider = { name: TOKEN_FILE_PROVIDER, config: { path } };
    used = true;
  }
  if (used) kc.addAuthenticator(new TokenFileAuthenticator());
}

/** The namespace steps run in: the flag, else the context's, else the pod's own (in-cluster), else `default`. */
export function resolveNamespace(kc: KubeConfig, configured: string | undefined, credentials: KubernetesCredentials): string {
  if (configured !== undefined) return configured;
  if (credentials.kind === 'in-cluster') {
    try {
      const ns = readFileSync(`${credentials.root ?? ''}${IN_CLUSTER_NAMESPACE_FILE}`, 'utf8').trim();
      if (ns) return ns;
    } catch {
      // not in a pod
    }
  }
  const ctx = kc.getContextObject(kc.getCurrentContext());
  return ctx?.namespace ?? 'default';
}

/** The HTTP status of a client-node error (ApiException, a watch error, a WebSocket refusal), else 0. */
export function errorStatus(err: unknown): number {
  if (err instanceof ApiException) return err.code;
  if (err instanceof KubernetesApiError) return err.status;
  if (typeof err === 'object' && err !== null) {
    const e = err as { statusCode?: unknown; code?: unknown; message?: unknown };
    if (typeof e.statusCode === 'number') return e.statusCode;
    if (typeof e.code === 'number') return e.code;
    const m = typeof e.message === 'string' ? /Unexpected server response: (\d{3})/.exec(e.message) : null;
    if (m) return Number(m[1]);
  }
  return 0;
}

/** The server's message of an ApiException (its Status body), else the error's. */
export function serverMessage(err: unknown): string {
  if (err instanceof ApiException) {
    const body: unknown = typeof err.body === 'string' ? safeJson(err.body) : err.body;
    if (typeof body === 'object' && body !== null && typeof (body as { message?: unknown }).message === 'string') return (body as { message: string }).message;
    return typeof err.body === 'string' && err.body !== '' ? err.body : `HTTP ${err.code}`;
  }
  if (err instanceof Error) return err.message;
  if (typeof err === 'object' && err !== null && typeof (err as { message?: unknown }).message === 'string') return (err as { message: string }).message;
  return String(err);
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}

/** Retry-After (seconds) of an ApiException or a Status body's details.retryAfterSeconds, in ms. */
function retryAfterMs(err: unknown): number | undefined {
  if (err instanceof ApiException) {
    const headers = (err.headers ?? {}) as Record<string, string | undefined>;
    const header = headers['retry-after'] ?? headers['Retry-After'];
    const seconds = header !== undefined ? Number(header) : NaN;
    if (Number.isFinite(seconds) && seconds >= 0) return seconds * 1000;
    const body: unknown = typeof err.body === 'string' ? safeJson(err.body) : err.body;
    const details = typeof body === 'object' && body !== null ? (body as { details?: { retryAfterSeconds?: unknown } }).details : undefined;
    if (details && typeof details.retryAfterSeconds === 'number') return details.retryAfterSeconds * 1000;
  }
  return undefined;
}

/** How long to wait before the next attempt: the backoff, or longer when Retry-After says so, never over the cap. */
export function retryWaitMs(err: unknown, backoffMs: number, retry: RetryPolicy): number {
  return Math.min(retry.maxDelayMs, Math.max(backoffMs, retryAfterMs(err) ?? 0));
}

export function isRetryable(status: number): boolean {
  return status === 429 || (status >= 500 && status <= 599);
}

export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(signal.reason);
      return;
    }
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(signal?.reason);
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/** Agents kept at most (one per distinct TLS identity: a rotated client certificate makes another). */
const MAX_AGENTS = 4;

/**
 * The kubeconfig's authentication, with its requests on kept-alive connections. client-node 1.x
 * gives every request a new https.Agent, so every pod creation, read and deletion paid a new TCP
 * connection and TLS handshake (kubernetes-client/javascript#2893; 2.0 caches the agent). The
 * agent it made is replaced by a keep-alive one with the same TLS options (CA, client
 * certificate, server name, verification), kept per distinct set of them.
 */
export class KeptConnections implements SecurityAuthentication {
  private readonly agents = new Map<string, HttpsAgent>();

  constructor(private readonly kc: KubeConfig) {}

  getName(): string {
    return 'kubeconfig, kept connections';
  }

  async applySecurityAuthentication(context: RequestContext): Promise<void> {
    await this.kc.applySecurityAuthentication(context);
    const made: unknown = context.getAgent();
    // a proxy's agent (not an https.Agent) or plain http is left as it is
    if (!(made instanceof HttpsAgent)) return;
    const o = made.options;
    const key = createHash('sha256')
      .update(JSON.stringify([o.ca, o.cert, o.key, o.pfx, o.passphrase, o.rejectUnauthorized, o.servername]))
      .digest('hex');
    let agent = this.agents.get(key);
    if (!agent) {
      agent = new HttpsAgent({ ...o, keepAlive: true });
      this.agents.set(key, agent);
      for (const [k, old] of this.agents) {
        if (this.agents.size <= MAX_AGENTS) break;
        old.destroy();
        this.agents.delete(k);
      }
    }
    made.destroy();
    context.setAgent(agent);
  }
}

/** The API client of the runtime: one namespace, retried requests. */
/** Told about every Kubernetes API request attempt (src/metrics counts them): `ok`, the HTTP status, or `connection` (no answer). */
export interface KubeRequestObserver {
  kubernetesRequest(verb: string, resource: string, outcome: string): void;
}

export class KubeClient {
  readonly core: CoreV1Api;

  constructor(
    readonly kc: KubeConfig,
    readonly namespace: string,
    private readonly retry: RetryPolicy = DEFAULT_RETRY,
    private readonly observer?: KubeRequestObserver,
  ) {
    // kc.makeApiClient(CoreV1Api), with connections kept for the next request
    const cluster = kc.getCurrentCluster();
    if (!cluster) throw new Error('the Kubernetes configuration names no current cluster');
    this.core = new CoreV1Api(
      createConfiguration({ baseServer: new ServerConfiguration(cluster.server, {}), authMethods: { default: new KeptConnections(kc) } }),
    );
  }

  /**
   * Runs a request, retrying 429 and 5xx (and connection failures) with exponential backoff and
   * Retry-After; a 403 becomes the message naming the permission; other errors carry the
   * server's message and status.
   */
  async call<T>(info: RequestInfo, fn: () => Promise<T>, signal?: AbortSignal): Promise<T> {
    return withRetries(this.retry, fn, {
      ...(signal ? { signal } : {}),
      observe: (outcome) => this.observer?.kubernetesRequest(info.verb, info.resource, outcome),
      describe: (err) => this.describe(info, err),
    });
  }

  describe(info: RequestInfo, err: unknown): Error {
    if (err instanceof KubernetesApiError) return err;
    const status = errorStatus(err);
    if (status === 403) return new KubernetesApiError(forbiddenMessage(info.verb, info.resource, this.namespace, serverMessage(err)), 403);
    return new KubernetesApiError(`${info.verb} ${info.resource} in namespace '${this.namespace}' failed${status ? ` (HTTP ${status})` : ''}: ${serverMessage(err)}`, status);
  }
}

export interface RetryOptions {
  /** stops retrying; a backoff in progress rejects with its reason (as it is, not described) */
  signal?: AbortSignal;
  /** told each attempt's outcome: `ok`, the HTTP status, or `connection` (no answer) */
  observe?(outcome: string): void;
  /** what the request's final error becomes (default: itself) */
  describe?(err: unknown): Error;
}

/**
 * Runs an API request, retrying 429 and 5xx (and dropped connections) with exponential backoff,
 * at least what Retry-After says, up to the policy's attempts: the runtime's requests
 * (KubeClient.call) and the credential manager's Secret reads share it.
 */
export async function withRetries<T>(retry: RetryPolicy, fn: () => Promise<T>, opts: RetryOptions = {}): Promise<T> {
  const { signal } = opts;
  let delay = retry.baseDelayMs;
  for (let attempt = 1; ; attempt++) {
    try {
      const result = await fn();
      opts.observe?.('ok');
      return result;
    } catch (err) {
      const status = errorStatus(err);
      opts.observe?.(status ? String(status) : 'connection');
      const transient = isRetryable(status) || (status === 0 && isConnectionError(err));
      if (!transient || attempt >= retry.attempts || signal?.aborted) throw opts.describe ? opts.describe(err) : err;
      const wait = retryWaitMs(err, delay, retry);
      delay = Math.min(retry.maxDelayMs, delay * 2);
      await sleep(wait + Math.floor(Math.random() * 20), signal);
    }
  }
}

export function isConnectionError(err: unknown): boolean {
  const code = typeof err === 'object' && err !== null ? (err as { code?: unknown }).code : undefined;
  return typeof code === 'string' && ['ECONNRESET', 'ECONNREFUSED', 'EPIPE', 'ETIMEDOUT', 'UND_ERR_SOCKET'].includes(code);
}
