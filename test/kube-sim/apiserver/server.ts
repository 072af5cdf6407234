// The simulated kube-apiserver over plain HTTP (node:http) with bearer-token auth: the core/v1
// REST API client-node's CoreV1Api, Watch, Log and Exec use, discovery (/api, /api/v1, /version),
// health endpoints, and a control API under /kube-sim/ (latency, faults, audit) for the
// `kube-sim` command. Request pipeline, in the real server's order: authentication -> latency ->
// flow control (injected 429/500) -> authorization -> handler -> audit (one line per request).
import { once } from 'node:events';
import { createServer, STATUS_CODES, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { parse as parseYaml } from 'yaml';
import type { AddressInfo, Socket } from 'node:net';
import { PassThrough, Writable, type Readable } from 'node:stream';
import { randomUUID } from 'node:crypto';
import { WebSocketServer, type WebSocket } from 'ws';
import { KubeletError, ZERO_LATENCY, type Kubelet, type LatencyProfile } from '../contract.ts';
import { AuditLog, microTime, type AuditEvent, type AuditFilter } from './audit.ts';
import { InProcessClusterStore } from './cluster-store.ts';
import { CoreRegistry, isStatus, resourceDef, withTypeMeta, type DeleteOptions } from './core.ts';
import { RequestFaults, type FaultSettings } from './faults.ts';
import { checkLatency, latencyProfile } from './latency.ts';
import { apiGroup, apiResourceList, apiVersionOf, lookupResource, RESOURCES, servedGroups, type ResourceDef } from './resources.ts';
import { authorize as rbacAuthorize, forbiddenMessage, reviewStatus, rulesReviewStatus, serviceAccountOf, SYSTEM_MASTERS, withImplicitGroups, type Attributes, type UserInfo } from './rbac.ts';
import { openApiV2, openApiV3, openApiV3Root } from './openapi.ts';
import { toTable, wantsTable } from './tables.ts';
import { replicasOf, scaleOf } from './scale.ts';
import { jsonPatch, mergePatch, strategicMergePatch } from './patch.ts';
import { ServiceAccountTokens } from './tokens.ts';
import { managerOf, serverSideApply, updatedManagedFields } from './apply.ts';
import { Controllers } from './controllers.ts';
import { unknownFields } from './openapi.ts';
import { ApiError, errors, failureStatus, successStatus, type KubeStatus } from './status.ts';
import { ObjectStore, type KubeObject, type StoreEvent } from './store.ts';

/** What a token may do; no rules means everything (cluster-admin). */
export interface PolicyRule {
  /** get, list, watch, create, update, patch, delete, deletecollection, or `*` */
  verbs: string[];
  /** `pods`, `pods/exec`, `pods/log`, `secrets`, ... or `*` */
  resources: string[];
  /** namespaces the rule applies in (none: all, and cluster-scoped resources) */
  namespaces?: string[];
}

export interface TokenUser {
  username: string;
  groups?: string[];
  /** kube-sim's own simple rules (no RBAC objects needed); none and no `rbac`: an admin (system:masters) */
  rules?: PolicyRule[];
  /** authorized by the cluster's RBAC objects only, like a real user */
  rbac?: boolean;
}

/** Who a request is from, after authentication and impersonation. */
interface Caller {
  user: UserInfo;
  rules?: PolicyRule[];
}

export interface ApiServerOptions {
  host?: string;
  port?: number;
  /** JSON-lines audit file (none: memory only) */
  auditPath?: string;
  /** bearer token -> user; a random admin token is made when empty */
  tokens?: Record<string, TokenUser>;
  latency?: LatencyProfile;
  /** how many store events watches can replay before 410 (etcd compaction window) */
  historyLimit?: number;
  /** exec subprotocols offered by the server, in preference order (default v5, v4, v3, v2, v1) */
  execProtocols?: string[];
  /** BOOKMARK interval for watches that allow them (default 60 s, like the watch cache's ~1 min) */
  bookmarkIntervalMs?: number;
  nodeName?: string;
  /** serve HTTPS with this certificate and key (the cluster's CA in `ca`, for service account secrets) */
  tls?: { cert: string; key: string; ca: string };
}

export interface FaultControl {
  /** Sets request faults (shares of 429/500 answers; see FaultSettings). */
  set(settings: Partial<FaultSettings>): void;
  get(): FaultSettings;
  /** Clears request faults. */
  reset(): void;
  /** How many requests got an injected 429 / 500 so far. */
  injected(): { throttled: number; errored: number };
  /** Closes every open watch connection mid-stream; returns how many. */
  dropWatches(): number;
  /** Evicts a running pod through the kubelet (its processes are killed with the reason). */
  evictPod(namespace: string, name: string, reason?: string): Promise<void>;
  /** The kubelet's next pull of a matching image fails with `message`. */
  failNextPull(imagePattern: string | RegExp, message: string): void;
  /** Compacts the store's history: watches from an older resourceVersion get 410 Expired. */
  compact(): void;
}

export const DEFAULT_EXEC_PROTOCOLS = ['v5.channel.k8s.io', 'v4.channel.k8s.io', 'v3.channel.k8s.io', 'v2.channel.k8s.io', 'channel.k8s.io'];
const MAX_BODY = 3 * 1024 * 1024;

export interface RequestInfo {
  isResource: boolean;
  verb: string;
  /** '' for core */
  group: string;
  version: string;
  resource?: string;
  subresource?: string;
  namespace?: string;
  name?: string;
  watch: boolean;
}

type Query = URLSearchParams;

function parseRequestInfo(method: string, path: string, query: Query): RequestInfo | undefined {
  const seg = path.split('/').filter(Boolean).map(decodeURIComponent);
  let group: string;
  let version: string;
  let rest: string[];
  if (seg[0] === 'api' && seg[1] === 'v1' && seg.length >= 3) {
    group = '';
    version = 'v1';
    rest = seg.slice(2);
  } else if (seg[0] === 'apis' && seg.length >= 4) {
    group = seg[1] ?? '';
    version = seg[2] ?? '';
    rest = seg.slice(3);
  } else return undefined;
  let watch = query.get('watch') === 'true' || query.get('watch') === '1';
  if (rest[0] === 'watch') {
    watch = true;
    rest = rest.slice(1);
  }
  let namespace: string | undefined;
  let resource: string | undefined;
  let name: string | undefined;
  let subresource: string | undefined;
  if (rest[0] === 'namespaces' && rest.length >= 3) {
    if (rest.length === 3 && (rest[2] === 'status' || rest[2] === 'finalize')) {
      [resource, name, subresource] = rest;
    } else {
      [, namespace, resource, name, subresource] = rest;
      if (rest.length > 5) return undefined;
    }
  } else {
    [resource, name, subresource] = rest;
    if (rest.length > 3) return undefined;
    if (resource === 'namespaces' && name) namespace = name;
  }
  const m = method.toUpperCase();
  let verb: string;
  if (m === 'GET' || m === 'HEAD') verb = name ? (watch ? 'watch' : 'get') : watch ? 'watch' : 'list';
  else if (m === 'POST') verb = 'create';
  else if (m === 'PUT') verb = 'update';
  else if (m === 'PATCH') verb = 'patch';
  else if (m === 'DELETE') verb = name ? 'delete' : 'deletecollection';
  else verb = m.toLowerCase();
  return { isResource: true, verb, group, version, resource, subresource, namespace, name, watch };
}

function sleep(ms: number): Promise<void> {
  return ms > 0 ? new Promise((r) => setTimeout(r, ms)) : Promise.resolve();
}

function intParam(query: Query, key: string): number | undefined {
  const v = query.get(key);
  if (v === null || v === '') return undefined;
  const n = Number(v);
  if (!Number.isInteger(n)) throw errors.badRequest(`invalid value for ${key}: ${JSON.stringify(v)}: must be an integer`);
  return n;
}

function boolParam(query: Query, key: string): boolean {
  const v = query.get(key);
  return v === 'true' || v === '1';
}

interface OpenWatch {
  close(): void;
}

export class ApiServer {
  readonly store: ObjectStore;
  readonly registry: CoreRegistry;
  readonly audit: AuditLog;
  readonly clusterStore: InProcessClusterStore;
  readonly faults: FaultControl;
  private readonly requestFaults = new RequestFaults();
  private readonly tokens = new Map<string, TokenUser>();
  private readonly watches = new Set<OpenWatch>();
  private readonly sockets = new Set<Socket>();
  private readonly wss: WebSocketServer;
  private readonly server: Server;
  private currentLatency: LatencyProfile;
  private kubelet: Kubelet | undefined;
  private readonly execProtocols: string[];
  private readonly bookmarkIntervalMs: number;
  readonly nodeName: string;
  readonly serviceAccountTokens: ServiceAccountTokens;
  readonly controllers: Controllers;
  /** the admin token (the first token given, or a generated one) */
  readonly adminToken: string;
  url = '';

  constructor(private readonly options: ApiServerOptions = {}) {
    this.store = new ObjectStore(options.historyLimit ?? 2000);
    this.registry = new CoreRegistry(this.store);
    this.serviceAccountTokens = new ServiceAccountTokens(this.store);
    this.registry.tokenMinter = (namespace, name) => ({ token: this.serviceAccountTokens.issue(namespace, name).token, caCert: options.tls?.ca ?? '' });
    this.registry.bootstrap();
    this.controllers = new Controllers(this.registry);
    this.audit = new AuditLog(options.auditPath);
    this.currentLatency = { ...(options.latency ?? ZERO_LATENCY) };
    this.execProtocols = options.execProtocols ?? DEFAULT_EXEC_PROTOCOLS;
    this.bookmarkIntervalMs = options.bookmarkIntervalMs ?? 60_000;
    this.nodeName = options.nodeName ?? 'kube-sim-node';
    const given = Object.entries(options.tokens ?? {});
    for (const [token, user] of given) this.tokens.set(token, user);
    const admin = given.find(([, u]) => !u.rules);
    if (admin) this.adminToken = admin[0];
    else {
      this.adminToken = `kube-sim-${randomUUID()}`;
      this.tokens.set(this.adminToken, { username: 'kube-sim-admin', groups: ['system:masters'] });
    }
    this.clusterStore = new InProcessClusterStore(this.registry, this.audit, () => this.currentLatency, () => this.nodeName, (namespace, name, { expirationSeconds }) => {
      const ca = options.tls?.ca;
      if (!ca || !this.url) return undefined;
      const { hostname, port } = new URL(this.url);
      const token = name !== undefined && this.store.get('serviceaccounts', namespace, name) ? this.serviceAccountTokens.issue(namespace, name, { expirationSeconds }).token : undefined;
      return { ...(token !== undefined ? { token } : {}), caCert: ca, host: hostname, port: Number(port) };
    });
    this.faults = {
      set: (s) => this.requestFaults.set(s),
      get: () => this.requestFaults.get(),
      reset: () => this.requestFaults.reset(),
      injected: () => ({ ...this.requestFaults.injected }),
      dropWatches: () => {
        const open = [...this.watches];
        for (const w of open) w.close();
        return open.length;
      },
      evictPod: async (namespace, name, reason = 'Evicted') => {
        if (!this.registry.find('pods', namespace, name)) throw errors.notFound('pods', name);
        await this.requireKubelet().evict(namespace, name, reason);
      },
      failNextPull: (imagePattern, message) => {
        this.requireKubelet().failNextPull(imagePattern, message);
      },
      compact: () => this.store.compact(),
    };
    this.wss = new WebSocketServer({
      noServer: true,
      handleProtocols: (protocols) => {
        for (const p of protocols) if (this.execProtocols.includes(p)) return p;
        return false;
      },
    });
    const handler = (req: IncomingMessage, res: ServerResponse): void => void this.handle(req, res);
    this.server = options.tls ? createHttpsServer({ cert: options.tls.cert, key: options.tls.key }, handler) : createServer(handler);
    this.server.on('upgrade', (req: IncomingMessage, socket: Socket, head: Buffer) => void this.handleUpgrade(req, socket, head));
    this.server.on('connection', (s: Socket) => {
      this.sockets.add(s);
      s.once('close', () => this.sockets.delete(s));
    });
  }

  async start(): Promise<string> {
    this.server.listen(this.options.port ?? 0, this.options.host ?? '127.0.0.1');
    await once(this.server, 'listening');
    const addr = this.server.address() as AddressInfo;
    this.url = `${this.options.tls ? 'https' : 'http'}://${addr.address}:${addr.port}`;
    this.controllers.start();
    return this.url;
  }

  async stop(): Promise<void> {
    this.controllers.stop();
    for (const w of [...this.watches]) w.close();
    for (const c of this.wss.clients) c.terminate();
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    for (const s of this.sockets) s.destroy();
    await closed;
  }

  attachKubelet(kubelet: Kubelet): void {
    this.kubelet = kubelet;
  }

  private requireKubelet(): Kubelet {
    if (!this.kubelet) throw errors.internal('no kubelet is attached to this cluster');
    return this.kubelet;
  }

  latency(): LatencyProfile {
    return { ...this.currentLatency };
  }

  setLatency(profile: Partial<LatencyProfile>): void {
    const problem = checkLatency(profile);
    if (problem) throw new Error(problem);
    this.currentLatency = { ...this.currentLatency, ...profile };
  }

  addToken(token: string, user: TokenUser): void {
    this.tokens.set(token, user);
  }

  openWatches(): number {
    return this.watches.size;
  }

  // --- pipeline ---

  /** Bearer token -> caller (static tokens, then service account tokens), then impersonation. */
  private authenticate(req: IncomingMessage): Caller | undefined {
    const header = req.headers.authorization;
    if (!header?.startsWith('Bearer ')) return undefined;
    const token = header.slice('Bearer '.length).trim();
    let caller: Caller | undefined;
    const known = this.tokens.get(token);
    if (known) {
      const admin = !known.rules && !known.rbac;
      caller = {
        user: { username: known.username, groups: withImplicitGroups(known.username, [...(known.groups ?? []), ...(admin ? [SYSTEM_MASTERS] : [])]) },
        ...(known.rules ? { rules: known.rules } : {}),
      };
    } else {
      const sa = this.serviceAccountTokens.resolve(token);
      if (sa) caller = { user: { username: `system:serviceaccount:${sa.namespace}:${sa.name}`, uid: sa.uid, groups: withImplicitGroups(`system:serviceaccount:${sa.namespace}:${sa.name}`, []) } };
    }
    if (!caller) return undefined;
    return this.impersonate(req, caller);
  }

  /** Impersonate-User / Impersonate-Group: allowed when the caller may `impersonate` them (admins may). */
  private impersonate(req: IncomingMessage, caller: Caller): Caller {
    const asUser = req.headers['impersonate-user'];
    const rawGroups = req.headers['impersonate-group'];
    const asGroups = (Array.isArray(rawGroups) ? rawGroups : rawGroups ? [rawGroups] : []).flatMap((g) => g.split(',').map((x) => x.trim())).filter(Boolean);
    if (typeof asUser !== 'string' || asUser === '') {
      if (asGroups.length > 0) throw errors.internal('requested [{Group}] without impersonating a user');
      return caller;
    }
    const sa = serviceAccountOf(asUser);
    const checks: Attributes[] = [
      sa ? { resourceRequest: true, verb: 'impersonate', group: '', resource: 'serviceaccounts', namespace: sa[0], name: sa[1] } : { resourceRequest: true, verb: 'impersonate', group: '', resource: 'users', name: asUser },
      ...asGroups.map((g): Attributes => ({ resourceRequest: true, verb: 'impersonate', group: '', resource: 'groups', name: g })),
    ];
    for (const a of checks) {
      if (caller.rules || !rbacAuthorize(this.store, caller.user, a).allowed) {
        throw errors.forbidden(`${a.resource ?? ''} "${a.name ?? ''}" is forbidden: User "${caller.user.username}" cannot impersonate resource "${a.resource ?? ''}" in API group "" ${a.namespace ? `in the namespace "${a.namespace}"` : 'at the cluster scope'}`, a.resource ?? '', a.name);
      }
    }
    return { user: { username: asUser, groups: withImplicitGroups(asUser, asGroups) } };
  }

  private authorize(caller: Caller, info: RequestInfo, authzVerb: string): void {
    if (!info.resource) return;
    if (caller.rules) {
      this.authorizeByRules(caller, info, authzVerb);
      return;
    }
    const def = RESOURCES[info.resource];
    const namespaced = def?.namespaced ?? true;
    const ns = namespaced || info.resource === 'namespaces' ? info.namespace : undefined;
    const attrs: Attributes = {
      resourceRequest: true,
      verb: authzVerb,
      group: info.group,
      resource: info.resource,
      ...(info.subresource ? { subresource: info.subresource } : {}),
      ...(ns ? { namespace: ns } : {}),
      ...(info.name ? { name: info.name } : {}),
    };
    if (rbacAuthorize(this.store, caller.user, attrs).allowed) return;
    throw errors.forbidden(forbiddenMessage(caller.user, { ...attrs, ...(info.resource === 'namespaces' ? { namespace: undefined } : {}) }), info.resource, info.name);
  }

  private authorizeNonResource(caller: Caller, path: string, verb: string): void {
    if (caller.rules) return; // kube-sim's simple rules cover resources only, as before
    if (rbacAuthorize(this.store, caller.user, { resourceRequest: false, verb, path }).allowed) return;
    throw errors.forbidden(forbiddenMessage(caller.user, { resourceRequest: false, verb, path }), '');
  }

  private authorizeByRules(caller: Caller, info: RequestInfo, authzVerb: string): void {
    const user = caller.user;
    const rules = caller.rules ?? [];
    if (!info.resource) return;
    const full = info.subresource ? `${info.resource}/${info.subresource}` : info.resource;
    const namespaced = RESOURCES[info.resource]?.namespaced ?? true;
    const ns = namespaced && info.resource !== 'namespaces' ? info.namespace : undefined;
    const allowed = rules.some(
      (r) =>
        (r.verbs.includes('*') || r.verbs.includes(authzVerb)) &&
        (r.resources.includes('*') || r.resources.includes(full) || (info.subresource !== undefined && r.resources.includes(`${info.resource}/*`))) &&
        (!r.namespaces || (ns !== undefined && r.namespaces.includes(ns))),
    );
    if (allowed) return;
    const subject = `${info.resource}${info.name && info.verb !== 'create' ? ` "${info.name}"` : info.name && info.subresource ? ` "${info.name}"` : ''}`;
    const scope = ns !== undefined ? `in the namespace "${ns}"` : 'at the cluster scope';
    throw errors.forbidden(`${subject} is forbidden: User "${user.username}" cannot ${authzVerb} resource "${full}" in API group "${info.group}" ${scope}`, info.resource, info.name);
  }

  private flowControl(info: RequestInfo | undefined, verb: string): void {
    const decision = this.requestFaults.decide(verb, info?.resource, info?.subresource);
    if (decision === 'throttle') throw errors.tooManyRequests(this.requestFaults.get().retryAfterSeconds);
    if (decision === 'error') throw errors.internal('kube-sim injected fault: etcdserver: request timed out');
  }

  private recordAudit(
    req: IncomingMessage,
    received: Date,
    info: RequestInfo | undefined,
    user: Caller | undefined,
    code: number,
    status: KubeStatus | undefined,
    requestObject: unknown,
    auditID: string,
  ): AuditEvent {
    const ref = info?.resource
      ? {
          resource: info.resource,
          ...(info.subresource ? { subresource: info.subresource } : {}),
          ...(info.namespace && info.resource !== 'namespaces' ? { namespace: info.namespace } : {}),
          ...(info.name ? { name: info.name } : {}),
          ...(info.group ? { apiGroup: info.group } : {}),
          apiVersion: info.version,
        }
      : undefined;
    return this.audit.record({
      auditID,
      requestURI: req.url ?? '/',
      verb: info?.verb ?? (req.method ?? 'GET').toLowerCase(),
      user: user ? { username: user.user.username, groups: user.user.groups } : { username: 'system:anonymous', groups: ['system:unauthenticated'] },
      sourceIPs: [req.socket.remoteAddress ?? '127.0.0.1'],
      ...(req.headers['user-agent'] ? { userAgent: req.headers['user-agent'] } : {}),
      ...(ref ? { objectRef: ref } : {}),
      responseStatus: {
        metadata: {},
        code,
        ...(status && status.status === 'Failure' ? { status: 'Failure', ...(status.reason ? { reason: status.reason } : {}), ...(status.message ? { message: status.message } : {}) } : {}),
      },
      ...(requestObject !== undefined ? { requestObject } : {}),
      requestReceivedTimestamp: microTime(received),
      stageTimestamp: microTime(new Date()),
      annotations: { 'authorization.k8s.io/decision': code === 403 ? 'forbid' : 'allow' },
    });
  }

  private async readBody(req: IncomingMessage, yaml = false): Promise<{ raw: string; json: unknown }> {
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of req) {
      const b = chunk as Buffer;
      size += b.length;
      if (size > MAX_BODY) throw new ApiError(failureStatus(413, 'RequestEntityTooLarge', `Request entity too large: limit is ${MAX_BODY}`));
      chunks.push(b);
    }
    const raw = Buffer.concat(chunks).toString('utf8');
    if (raw.trim() === '') return { raw, json: undefined };
    try {
      return { raw, json: yaml ? (parseYaml(raw) as unknown) : (JSON.parse(raw) as unknown) };
    } catch (err) {
      throw errors.badRequest(`the request body could not be decoded: ${(err as Error).message}`);
    }
  }

  private send(res: ServerResponse, code: number, body: unknown, headers: Record<string, string> = {}): void {
    if (res.headersSent) {
      res.end();
      return;
    }
    const text = JSON.stringify(body);
    res.writeHead(code, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text), ...headers });
    res.end(text);
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const received = new Date();
    const auditID = randomUUID();
    res.setHeader('Audit-Id', auditID);
    const url = new URL(req.url ?? '/', 'http://kube-sim');
    const method = (req.method ?? 'GET').toUpperCase();
    if (url.pathname.startsWith('/kube-sim/')) {
      await this.handleControl(req, res, url);
      return;
    }
    const info = parseRequestInfo(method, url.pathname, url.searchParams);
    let user: Caller | undefined;
    let requestObject: unknown;
    let code = 200;
    let status: KubeStatus | undefined;
    const audit = (): void => void this.recordAudit(req, received, info, user, code, status, requestObject, auditID);
    try {
      user = this.authenticate(req);
      if (!user) throw errors.unauthorized();
      await sleep(this.currentLatency.apiRequestMs);
      this.flowControl(info, info?.verb ?? method.toLowerCase());
      if (!info) {
        this.authorizeNonResource(user, url.pathname, method === 'HEAD' ? 'head' : method.toLowerCase());
        const body = this.nonResource(url.pathname, req.headers.accept);
        code = 200;
        if (typeof body === 'string') {
          const json = body.startsWith('{');
          res.writeHead(200, { 'Content-Type': json ? 'application/json' : 'text/plain; charset=utf-8', 'Content-Length': Buffer.byteLength(body) }).end(body);
        } else this.send(res, 200, body);
        audit();
        return;
      }
      const def = lookupResource(info.group, info.version, info.resource);
      if (!info.resource || !def) {
        throw new ApiError(failureStatus(404, 'NotFound', 'the server could not find the requested resource', {}));
      }
      if (def.namespaced && info.name && info.namespace === undefined) {
        throw new ApiError(failureStatus(404, 'NotFound', 'the server could not find the requested resource', {}));
      }
      if (info.subresource && !def.subresources.includes(info.subresource)) {
        throw new ApiError(failureStatus(404, 'NotFound', 'the server could not find the requested resource', {}));
      }
      const authzVerb = info.subresource === 'exec' ? 'create' : info.verb;
      this.authorize(user, info, authzVerb);
      if (info.subresource === 'exec') throw errors.badRequest('Upgrade request required');
      const contentType = req.headers['content-type'] ?? 'application/json';
      if (method === 'POST' || method === 'PUT' || method === 'PATCH' || method === 'DELETE') {
        const body = await this.readBody(req, contentType.startsWith('application/apply-patch+yaml'));
        requestObject = body.json;
      }
      if (info.verb === 'watch') {
        code = 200;
        await this.serveWatch(req, res, info, url.searchParams, () => audit());
        return;
      }
      if (info.subresource === 'log') {
        code = await this.serveLog(res, info, url.searchParams);
        audit();
        return;
      }
      const out = this.dispatch(info, def, user, method, contentType, url.searchParams, requestObject, req);
      code = out.code;
      if (isStatusBody(out.body)) status = out.body;
      let body = out.body;
      if (code < 300 && (info.verb === 'get' || info.verb === 'list') && !info.subresource && wantsTable(req.headers.accept)) {
        const listed = isRecord(body) && Array.isArray(body.items) ? (body.items as KubeObject[]) : [body as KubeObject];
        const meta = isRecord(body) && isRecord(body.metadata) ? body.metadata : {};
        body = toTable(def.kind, apiVersionOf(def), listed, info.verb === 'list' ? String(meta.resourceVersion ?? '') : undefined, url.searchParams.get('includeObject'), info.verb === 'list' && meta.continue ? { continue: meta.continue } : {});
      }
      this.send(res, out.code, body, out.headers);
      audit();
    } catch (err) {
      const apiErr = toApiError(err);
      code = apiErr.code;
      status = apiErr.status;
      this.send(res, apiErr.code, apiErr.status, apiErr.headers);
      audit();
    }
  }

  private nonResource(path: string, accept: string | undefined): unknown {
    const notFound = (): ApiError => new ApiError(failureStatus(404, 'NotFound', 'the server could not find the requested resource', {}));
    const p = path.length > 1 ? path.replace(/\/$/, '') : path;
    switch (p) {
      case '/api':
        return { kind: 'APIVersions', versions: ['v1'], serverAddressByClientCIDRs: [{ clientCIDR: '0.0.0.0/0', serverAddress: this.url.replace(/^https?:\/\//, '') }] };
      case '/api/v1':
        return apiResourceList();
      case '/apis':
        return { kind: 'APIGroupList', apiVersion: 'v1', groups: servedGroups().filter((g) => g !== '').map(apiGroup) };
      case '/version':
        return { major: '1', minor: '31', gitVersion: 'v1.31.0-kube-sim', gitCommit: '', gitTreeState: 'clean', buildDate: '2024-08-13T00:00:00Z', goVersion: 'go1.22.5', compiler: 'gc', platform: 'linux/amd64' };
      case '/healthz':
      case '/livez':
      case '/readyz':
        return 'ok';
      case '/openapi/v2':
        // client-go asks for the protobuf form only; kube-sim has the JSON form (406 makes the refusal explicit)
        if (accept && !/application\/json|\*\/\*/.test(accept)) throw new ApiError(failureStatus(406, 'NotAcceptable', `only the following media types are accepted: application/json`));
        return openApiV2();
      case '/openapi/v3':
        return openApiV3Root();
    }
    const group = /^\/apis\/([^/]+)(?:\/(v1))?$/.exec(p);
    if (group?.[1] && servedGroups().includes(group[1])) return group[2] ? apiResourceList(group[1]) : apiGroup(group[1]);
    if (p.startsWith('/openapi/v3/')) {
      const doc = openApiV3(p.slice('/openapi/v3/'.length));
      if (doc !== undefined) return doc;
    }
    throw notFound();
  }

  private dispatch(
    info: RequestInfo,
    def: ResourceDef,
    caller: Caller,
    method: string,
    contentType: string,
    query: Query,
    body: unknown,
    req: IncomingMessage,
  ): { code: number; body: unknown; headers?: Record<string, string> } {
    const resource = def.resource;
    const ns = def.namespaced ? info.namespace : undefined;
    const dryRunParam = query.getAll('dryRun');
    if (dryRunParam.some((d) => d !== 'All')) throw errors.badRequest(`Invalid dryRun value: ${dryRunParam.join(', ')}: supported values: "All"`);
    const dryRun = dryRunParam.includes('All');
    const manager = managerOf(query.get('fieldManager'), req.headers['user-agent'], info.verb);
    // fieldValidation (Strict: unknown fields are a 400; Warn, the default: a Warning header)
    const fieldValidation = query.get('fieldValidation') ?? 'Warn';
    if (!['Strict', 'Warn', 'Ignore'].includes(fieldValidation)) throw errors.badRequest(`fieldValidation must be one of "Ignore", "Warn", or "Strict"`);
    const headers: Record<string, string> = {};
    if ((info.verb === 'create' || info.verb === 'update' || (info.verb === 'patch' && contentType.startsWith('application/apply-patch'))) && !info.subresource && isRecord(body) && fieldValidation !== 'Ignore') {
      const unknown = unknownFields(def, body);
      if (unknown.length > 0) {
        if (fieldValidation === 'Strict') throw errors.badRequest(`strict decoding error: ${unknown.map((f) => `unknown field "${f}"`).join(', ')}`);
        headers.Warning = unknown.map((f) => `299 - "unknown field \\"${f}\\""`).join(', ');
      }
    }
    if (def.group === 'authorization.k8s.io') {
      if (info.verb !== 'create') throw errors.methodNotAllowed();
      return { code: 201, body: this.review(def, caller, ns, body) };
    }
    if (info.subresource === 'token' && info.verb === 'create') return { code: 201, body: this.tokenRequest(ns ?? '', info.name ?? '', body, dryRun) };
    const managedFields = (current: KubeObject | undefined, next: KubeObject): unknown[] => updatedManagedFields(current, next, manager, apiVersionOf(def), info.subresource);
    if (info.subresource === 'scale') {
      const current = this.registry.get(resource, ns, info.name ?? '');
      if (info.verb === 'get') return { code: 200, body: scaleOf(current) };
      let wanted: unknown;
      if (info.verb === 'update') wanted = body;
      else if (info.verb === 'patch') {
        const type = contentType.split(';')[0]?.trim() ?? '';
        const scale = scaleOf(current);
        wanted = type === 'application/json-patch+json' ? jsonPatch(scale, body) : type === 'application/strategic-merge-patch+json' ? strategicMergePatch(scale, body) : mergePatch(scale, body);
      } else throw errors.methodNotAllowed();
      const replicas = replicasOf(wanted, current, resource);
      return { code: 200, body: scaleOf(this.registry.patch(resource, ns, info.name ?? '', 'application/merge-patch+json', { spec: { replicas } }, undefined, { dryRun, managedFields })) };
    }
    switch (info.verb) {
      case 'get':
        if (info.subresource && info.subresource !== 'status') throw errors.methodNotAllowed();
        return { code: 200, body: this.registry.get(resource, ns, info.name ?? '') };
      case 'list': {
        const limit = intParam(query, 'limit');
        const out = this.registry.list(resource, ns, {
          labelSelector: query.get('labelSelector'),
          fieldSelector: query.get('fieldSelector'),
          ...(limit !== undefined ? { limit } : {}),
          continue: query.get('continue'),
        });
        return {
          code: 200,
          body: {
            kind: `${def.kind}List`,
            apiVersion: apiVersionOf(def),
            metadata: { resourceVersion: out.resourceVersion, ...(out.continue ? { continue: out.continue } : {}), ...(out.remainingItemCount !== undefined ? { remainingItemCount: out.remainingItemCount } : {}) },
            items: out.items,
          },
        };
      }
      case 'create': {
        if (info.subresource === 'binding' || (resource === 'bindings' && info.name === undefined)) {
          const target = isRecord(body) && isRecord(body.target) ? body.target : {};
          if (typeof target.name !== 'string' || target.name === '') throw errors.invalid('Binding', info.name ?? '', [{ reason: 'FieldValueRequired', message: 'Required value', field: 'target.name' }]);
          this.registry.bind(info.namespace ?? '', info.name ?? '', target.name);
          return { code: 201, body: { ...successStatus(), code: 201 } };
        }
        if (info.subresource === 'eviction') {
          const opts = isRecord(body) && isRecord(body.deleteOptions) ? body.deleteOptions : {};
          this.registry.delete('pods', ns, info.name ?? '', deleteOptions(opts, query));
          return { code: 201, body: { ...successStatus(), code: 201 } };
        }
        if (info.subresource) throw errors.methodNotAllowed();
        if (info.name && resource !== 'namespaces') throw errors.methodNotAllowed();
        return { code: 201, body: this.registry.create(resource, ns, body, { dryRun, managedFields }), headers };
      }
      case 'update':
        return { code: 200, body: this.registry.update(resource, ns, info.name ?? '', body, info.subresource, { dryRun, managedFields }), headers };
      case 'patch': {
        const type = contentType.split(';')[0]?.trim() ?? '';
        if (type === 'application/apply-patch+yaml' || type === 'application/apply-patch+cbor') {
          if (!query.get('fieldManager')) throw errors.badRequest('PATCH, application/apply-patch+yaml: fieldManager is required for apply requests');
          const force = boolParam(query, 'force');
          const out = serverSideApply(this.registry, def, ns, info.name ?? '', body, manager, force, dryRun);
          return { code: out.created ? 201 : 200, body: out.object, headers };
        }
        return { code: 200, body: this.registry.patch(resource, ns, info.name ?? '', type, body, info.subresource, { dryRun, managedFields }) };
      }
      case 'delete': {
        const result = this.registry.delete(resource, ns, info.name ?? '', { ...deleteOptions(isRecord(body) ? body : {}, query), dryRun });
        return { code: 200, body: result };
      }
      case 'deletecollection': {
        const items = this.registry.list(resource, ns, { labelSelector: query.get('labelSelector'), fieldSelector: query.get('fieldSelector') }).items;
        const opts = { ...deleteOptions(isRecord(body) ? body : {}, query), dryRun };
        const deleted: unknown[] = [];
        for (const item of items) {
          try {
            const r = this.registry.delete(resource, item.metadata?.namespace, item.metadata?.name ?? '', opts);
            deleted.push(isStatus(r) ? item : r);
          } catch (err) {
            if (!(err instanceof ApiError && err.code === 404)) throw err;
          }
        }
        return { code: 200, body: { kind: `${def.kind}List`, apiVersion: apiVersionOf(def), metadata: { resourceVersion: String(this.store.currentRevision()) }, items: deleted } };
      }
      default:
        throw errors.methodNotAllowed();
    }
  }

  /** SelfSubjectAccessReview, SubjectAccessReview, LocalSubjectAccessReview, SelfSubjectRulesReview: answered, never stored. */
  private review(def: ResourceDef, caller: Caller, namespace: string | undefined, body: unknown): KubeObject {
    const obj = isRecord(body) ? body : {};
    const spec = isRecord(obj.spec) ? obj.spec : {};
    const out = (status: Record<string, unknown>): KubeObject => ({ kind: def.kind, apiVersion: apiVersionOf(def), metadata: {}, spec, status });
    if (def.kind === 'SelfSubjectRulesReview') return out(rulesReviewStatus(this.store, caller.user, typeof spec.namespace === 'string' ? spec.namespace : undefined));
    let user = caller.user;
    if (def.kind === 'SubjectAccessReview' || def.kind === 'LocalSubjectAccessReview') {
      const username = typeof spec.user === 'string' ? spec.user : '';
      const groups = Array.isArray(spec.groups) ? spec.groups.filter((g): g is string => typeof g === 'string') : [];
      if (!username && groups.length === 0) throw errors.invalid(def.kind, '', [{ reason: 'FieldValueRequired', message: 'Required value: at least one of user or group must be specified', field: 'spec.user' }]);
      user = { username, groups };
    }
    if (!isRecord(spec.resourceAttributes) && !isRecord(spec.nonResourceAttributes)) {
      throw errors.invalid(def.kind, '', [{ reason: 'FieldValueRequired', message: 'Required value: exactly one of nonResourceAttributes or resourceAttributes must be specified', field: 'spec.resourceAttributes' }]);
    }
    if (def.kind === 'LocalSubjectAccessReview' && isRecord(spec.resourceAttributes)) spec.resourceAttributes = { ...spec.resourceAttributes, namespace };
    if (caller.rules && def.kind === 'SelfSubjectAccessReview') {
      // kube-sim's simple rules: ask the same check a request would get
      const ra = isRecord(spec.resourceAttributes) ? spec.resourceAttributes : {};
      const str = (v: unknown): string | undefined => (typeof v === 'string' && v !== '' ? v : undefined);
      try {
        this.authorizeByRules(caller, { isResource: true, verb: str(ra.verb) ?? '', group: str(ra.group) ?? '', version: 'v1', resource: str(ra.resource), subresource: str(ra.subresource), namespace: str(ra.namespace), name: str(ra.name), watch: false }, str(ra.verb) ?? '');
        return out({ allowed: true });
      } catch {
        return out({ allowed: false });
      }
    }
    return out(reviewStatus(this.store, user, spec));
  }

  /** serviceaccounts/token (TokenRequest): a bound token for the account, one hour unless asked otherwise. */
  private tokenRequest(namespace: string, name: string, body: unknown, dryRun: boolean): KubeObject {
    if (!this.registry.find('serviceaccounts', namespace, name)) throw errors.notFound('serviceaccounts', name);
    const spec = isRecord(body) && isRecord(body.spec) ? body.spec : {};
    const expirationSeconds = typeof spec.expirationSeconds === 'number' ? spec.expirationSeconds : 3600;
    if (expirationSeconds < 600) throw errors.invalid('TokenRequest', name, [{ reason: 'FieldValueInvalid', message: `Invalid value: ${expirationSeconds}: may not specify a duration less than 10 minutes`, field: 'spec.expirationSeconds' }]);
    const audiences = Array.isArray(spec.audiences) && spec.audiences.length > 0 ? spec.audiences.map(String) : ['https://kubernetes.default.svc.cluster.local'];
    const issued = dryRun ? { token: '', expiresAt: new Date(Date.now() + expirationSeconds * 1000) } : this.serviceAccountTokens.issue(namespace, name, { expirationSeconds, audiences });
    return {
      kind: 'TokenRequest',
      apiVersion: 'authentication.k8s.io/v1',
      metadata: { name, namespace },
      spec: { audiences, expirationSeconds, boundObjectRef: null },
      status: { token: issued.token, expirationTimestamp: (issued.expiresAt ?? new Date()).toISOString().replace(/\.\d{3}Z$/, 'Z') },
    };
  }

  // --- watch ---

  private async serveWatch(req: IncomingMessage, res: ServerResponse, info: RequestInfo, query: Query, done: () => void): Promise<void> {
    const resource = info.resource ?? '';
    const def = resourceDef(resource);
    const ns = def.namespaced ? info.namespace : undefined;
    const matchSelectors = this.registry.matcher(resource, { labelSelector: query.get('labelSelector'), fieldSelector: query.get('fieldSelector') });
    const match = (obj: KubeObject | undefined): boolean =>
      obj !== undefined && (ns === undefined || obj.metadata?.namespace === ns) && (info.name === undefined || obj.metadata?.name === info.name) && matchSelectors(obj);
    const rvParam = query.get('resourceVersion') ?? '';
    let from: number | undefined;
    if (rvParam !== '' && rvParam !== '0') {
      from = Number(rvParam);
      if (!Number.isInteger(from) || from < 0) throw errors.badRequest(`invalid resource version: ${JSON.stringify(rvParam)}`);
    }
    const timeoutSeconds = intParam(query, 'timeoutSeconds');
    const bookmarks = boolParam(query, 'allowWatchBookmarks');

    const buffered: StoreEvent[] = [];
    let live = false;
    let lastSent = 0;
    // kubectl get -w asks for Tables: each event's object is a Table of its one row, as the real server sends
    const table = wantsTable(req.headers.accept);
    const write = (type: string, obj: KubeObject | KubeStatus): void => {
      if (res.writableEnded || res.destroyed) return;
      const object = table && (type === 'ADDED' || type === 'MODIFIED' || type === 'DELETED') ? toTable(def.kind, apiVersionOf(def), [obj as KubeObject], (obj as KubeObject).metadata?.resourceVersion, query.get('includeObject')) : obj;
      res.write(JSON.stringify({ type, object }) + '\n');
    };
    const deliver = (e: StoreEvent): void => {
      if (e.resource !== resource || e.resourceVersion <= lastSent) return;
      lastSent = e.resourceVersion;
      const now = match(e.object);
      const before = e.type === 'MODIFIED' ? match(e.previous) : false;
      const obj = withTypeMeta(def, e.object);
      if (e.type === 'ADDED' && now) write('ADDED', obj);
      else if (e.type === 'DELETED' && (now || match(e.previous))) write('DELETED', obj);
      else if (e.type === 'MODIFIED') {
        if (now && before) write('MODIFIED', obj);
        else if (now) write('ADDED', obj);
        else if (before) write('DELETED', obj);
      }
    };
    const unsubscribe = this.store.subscribe((e) => {
      if (live) deliver(e);
      else buffered.push(e);
    });

    res.writeHead(200, { 'Content-Type': 'application/json', 'Transfer-Encoding': 'chunked', 'Cache-Control': 'no-cache, private' });
    res.flushHeaders();

    let finished = false;
    const timers: NodeJS.Timeout[] = [];
    const entry: OpenWatch = {
      close: () => {
        // dropped: the connection goes away mid-stream, without the chunked terminator
        finish();
        res.destroy();
        req.socket.destroy();
      },
    };
    const finish = (): void => {
      if (finished) return;
      finished = true;
      unsubscribe();
      for (const t of timers) clearTimeout(t);
      this.watches.delete(entry);
      done();
    };
    this.watches.add(entry);
    res.on('close', finish);

    if (from === undefined) {
      lastSent = this.store.currentRevision();
      for (const obj of this.store.list(resource, ns)) if (match(obj)) write('ADDED', withTypeMeta(def, obj));
    } else {
      const events = this.store.eventsSince(resource, from);
      if (events === 'expired') {
        write('ERROR', errors.expired(from, this.store.oldestRevision()));
        res.end();
        finish();
        return;
      }
      lastSent = from;
      for (const e of events) deliver(e);
    }
    live = true;
    for (const e of buffered.splice(0)) deliver(e);

    if (timeoutSeconds !== undefined && timeoutSeconds > 0) {
      timers.push(
        setTimeout(() => {
          res.end();
          finish();
        }, timeoutSeconds * 1000),
      );
    }
    if (bookmarks) {
      const tick = (): void => {
        write('BOOKMARK', { kind: def.kind, apiVersion: apiVersionOf(def), metadata: { resourceVersion: String(Math.max(lastSent, this.store.currentRevision())) } } as KubeObject);
        timers.push(setTimeout(tick, this.bookmarkIntervalMs));
      };
      timers.push(setTimeout(tick, this.bookmarkIntervalMs));
    }
  }

  // --- logs ---

  private containerFor(pod: KubeObject, requested: string | null, verbForMessage: string): string {
    const spec = isRecord(pod.spec) ? pod.spec : {};
    const names = (key: string): string[] => (Array.isArray(spec[key]) ? (spec[key] as unknown[]).filter(isRecord).map((c) => String(c.name)) : []);
    const containers = names('containers');
    const all = [...names('initContainers'), ...containers];
    const podName = pod.metadata?.name ?? '';
    if (requested) {
      if (!all.includes(requested)) throw errors.badRequest(`container ${requested} is not valid for pod ${podName}`);
      return requested;
    }
    if (containers.length === 1 && containers[0]) return containers[0];
    throw errors.badRequest(`a container name must be specified for pod ${podName}, choose one of: [${containers.join(' ')}]${verbForMessage === 'log' && names('initContainers').length > 0 ? ` or one of the init containers: [${names('initContainers').join(' ')}]` : ''}`);
  }

  private containerStatus(pod: KubeObject, container: string): Record<string, unknown> | undefined {
    const status = isRecord(pod.status) ? pod.status : {};
    for (const key of ['initContainerStatuses', 'containerStatuses', 'ephemeralContainerStatuses']) {
      const list = Array.isArray(status[key]) ? (status[key] as unknown[]).filter(isRecord) : [];
      const found = list.find((s) => s.name === container);
      if (found) return found;
    }
    return undefined;
  }

  private async serveLog(res: ServerResponse, info: RequestInfo, query: Query): Promise<number> {
    const ns = info.namespace ?? '';
    const pod = this.registry.get('pods', ns, info.name ?? '');
    const container = this.containerFor(pod, query.get('container'), 'log');
    const podName = info.name ?? '';
    const previous = boolParam(query, 'previous');
    const cs = this.containerStatus(pod, container);
    const state = cs && isRecord(cs.state) ? cs.state : {};
    if (previous) {
      const last = cs && isRecord(cs.lastState) ? cs.lastState : {};
      if (!isRecord(last.terminated)) throw errors.badRequest(`previous terminated container "${container}" in pod "${podName}" not found`);
    } else if (!cs || isRecord(state.waiting) || (!isRecord(state.running) && !isRecord(state.terminated))) {
      const waiting = isRecord(state.waiting) ? state.waiting : {};
      const reason = typeof waiting.reason === 'string' ? waiting.reason : 'ContainerCreating';
      const detail = reason === 'ErrImagePull' || reason === 'ImagePullBackOff' ? 'trying and failing to pull image' : reason;
      throw errors.badRequest(`container "${container}" in pod "${podName}" is waiting to start: ${detail}`);
    }
    const kubelet = this.requireKubelet();
    const tailLines = intParam(query, 'tailLines');
    const limitBytes = intParam(query, 'limitBytes');
    let stream: Readable;
    try {
      stream = kubelet.logs(ns, podName, container, {
        follow: boolParam(query, 'follow'),
        previous,
        timestamps: boolParam(query, 'timestamps'),
        ...(tailLines !== undefined ? { tailLines } : {}),
      });
    } catch (err) {
      throw toApiError(err);
    }
    // Hold the headers until the stream shows a first sign of life, so an immediate kubelet
    // error still becomes a Status.
    const first = await new Promise<'data' | 'end' | Error | 'timeout'>((resolve) => {
      const t = setTimeout(() => resolve('timeout'), 200);
      stream.once('readable', () => {
        clearTimeout(t);
        resolve('data');
      });
      stream.once('end', () => {
        clearTimeout(t);
        resolve('end');
      });
      stream.once('error', (e: Error) => {
        clearTimeout(t);
        resolve(e);
      });
    });
    if (first instanceof Error) throw toApiError(first);
    res.writeHead(200, { 'Content-Type': 'text/plain', 'Transfer-Encoding': 'chunked' });
    let sent = 0;
    await new Promise<void>((resolve) => {
      const finish = (): void => {
        if (!res.writableEnded) res.end();
        resolve();
      };
      res.on('close', () => {
        stream.destroy();
        resolve();
      });
      stream.on('error', () => {
        res.destroy();
        resolve();
      });
      stream.on('end', finish);
      stream.on('data', (chunk: Buffer | string) => {
        let b = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk);
        if (limitBytes !== undefined && limitBytes > 0) {
          if (sent + b.length >= limitBytes) {
            b = b.subarray(0, limitBytes - sent);
            sent += b.length;
            res.write(b);
            stream.destroy();
            finish();
            return;
          }
        }
        sent += b.length;
        res.write(b);
      });
      if (first === 'end') finish();
    });
    return 200;
  }

  // --- exec over WebSocket ---

  private rejectUpgrade(socket: Socket, err: ApiError): void {
    const body = JSON.stringify(err.status);
    const extra = Object.entries(err.headers)
      .map(([k, v]) => `${k}: ${v}\r\n`)
      .join('');
    socket.end(
      `HTTP/1.1 ${err.code} ${STATUS_CODES[err.code] ?? 'Error'}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n${extra}Connection: close\r\n\r\n${body}`,
    );
  }

  private async handleUpgrade(req: IncomingMessage, socket: Socket, head: Buffer): Promise<void> {
    const received = new Date();
    const auditID = randomUUID();
    const url = new URL(req.url ?? '/', 'http://kube-sim');
    const info = parseRequestInfo(req.method ?? 'GET', url.pathname, url.searchParams);
    let user: Caller | undefined;
    let code = 101;
    let status: KubeStatus | undefined;
    const audit = (): void => void this.recordAudit(req, received, info, user, code, status, undefined, auditID);
    let pod: KubeObject;
    let container: string;
    const query = url.searchParams;
    try {
      user = this.authenticate(req);
      if (!user) throw errors.unauthorized();
      await sleep(this.currentLatency.apiRequestMs);
      this.flowControl(info, info?.verb ?? 'get');
      if (!info || info.resource !== 'pods' || !info.name || info.namespace === undefined) {
        throw new ApiError(failureStatus(404, 'NotFound', 'the server could not find the requested resource', {}));
      }
      if (info.subresource !== 'exec') {
        throw errors.badRequest(`${info.subresource ?? 'this resource'} over WebSocket is not supported by kube-sim`);
      }
      this.authorize(user, info, 'create');
      pod = this.registry.get('pods', info.namespace, info.name);
      container = this.containerFor(pod, query.get('container'), 'exec');
      const spec = isRecord(pod.spec) ? pod.spec : {};
      const phase = isRecord(pod.status) ? pod.status.phase : undefined;
      if (phase === 'Succeeded' || phase === 'Failed') {
        throw errors.badRequest(`cannot exec into a container in a completed pod; current phase is ${String(phase)}`);
      }
      if (!spec.nodeName) throw errors.badRequest(`pod ${info.name} does not have a host assigned`);
      const cs = this.containerStatus(pod, container);
      const state = cs && isRecord(cs.state) ? cs.state : {};
      if (!isRecord(state.running)) throw errors.badRequest(`unable to upgrade connection: container not found ("${container}")`);
      if (query.getAll('command').length === 0) throw errors.badRequest('you must specify at least 1 command');
      if (!boolParam(query, 'stdout') && !boolParam(query, 'stderr') && !boolParam(query, 'stdin')) {
        throw errors.badRequest('you must specify at least 1 of stdin, stdout, stderr');
      }
      this.requireKubelet();
    } catch (err) {
      const apiErr = toApiError(err);
      code = apiErr.code;
      status = apiErr.status;
      this.rejectUpgrade(socket, apiErr);
      audit();
      return;
    }
    this.wss.handleUpgrade(req, socket, head, (ws) => {
      void this.runExec(ws, info.namespace ?? '', info.name ?? '', container, query).finally(audit);
    });
  }

  private async runExec(ws: WebSocket, namespace: string, pod: string, container: string, query: Query): Promise<void> {
    const protocol = ws.protocol;
    const v4plus = protocol === 'v4.channel.k8s.io' || protocol === 'v5.channel.k8s.io';
    const abort = new AbortController();
    const useStdin = boolParam(query, 'stdin');
    const stdin = useStdin ? new PassThrough() : undefined;
    const channelWriter = (channel: number, enabled: boolean): Writable =>
      new Writable({
        write: (chunk: Buffer, _enc, cb) => {
          if (enabled && ws.readyState === ws.OPEN) ws.send(Buffer.concat([Buffer.from([channel]), chunk]), cb);
          else cb();
        },
      });
    const stdout = channelWriter(1, boolParam(query, 'stdout'));
    const stderr = channelWriter(2, boolParam(query, 'stderr'));
    ws.on('message', (data: Buffer, isBinary: boolean) => {
      const buf = isBinary ? data : Buffer.from(data);
      if (buf.length === 0) return;
      const channel = buf[0];
      if (channel === 0) stdin?.write(buf.subarray(1));
      else if (channel === 255 && protocol === 'v5.channel.k8s.io' && buf[1] === 0) stdin?.end();
      // channel 4 (resize) is accepted and ignored: the kubelet contract has no terminal size
    });
    ws.on('close', () => {
      if (stdin && !stdin.writableEnded) stdin.end();
      abort.abort();
    });
    ws.send(Buffer.from([1]));
    ws.send(Buffer.from([2]));
    let statusMessage: KubeStatus | { metadata: Record<string, never>; status: 'Success' } | undefined;
    let errorText = '';
    const command = query.getAll('command');
    try {
      const { exitCode } = await this.requireKubelet().exec(namespace, pod, container, command, {
        ...(stdin ? { stdin } : {}),
        stdout,
        stderr,
        tty: boolParam(query, 'tty'),
        signal: abort.signal,
      });
      if (exitCode === 0) statusMessage = { metadata: {}, status: 'Success' };
      else {
        errorText = `command terminated with non-zero exit code: error executing command [${command.join(' ')}], exit code ${exitCode}`;
        statusMessage = {
          ...failureStatus(500, 'NonZeroExitCode', errorText, { causes: [{ reason: 'ExitCode', message: String(exitCode) }] }),
        };
      }
    } catch (err) {
      const apiErr = toApiError(err);
      errorText = apiErr.status.message ?? 'error';
      statusMessage = apiErr.status;
    }
    await new Promise<void>((r) => stdout.end(() => r()));
    await new Promise<void>((r) => stderr.end(() => r()));
    if (ws.readyState === ws.OPEN) {
      if (v4plus) {
        const s = statusMessage as Record<string, unknown>;
        // the v4 status channel carries a metav1.Status without the TypeMeta a response has
        const { kind: _k, apiVersion: _a, code: _c, ...rest } = s;
        ws.send(Buffer.concat([Buffer.from([3]), Buffer.from(JSON.stringify(rest))]));
      } else if (errorText) ws.send(Buffer.concat([Buffer.from([3]), Buffer.from(errorText)]));
      ws.close(1000);
    }
  }

  // --- the control API (/kube-sim/...) ---

  private async handleControl(req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
    const method = (req.method ?? 'GET').toUpperCase();
    try {
      const user = this.authenticate(req);
      if (!user) throw errors.unauthorized();
      if (!user.user.groups.includes(SYSTEM_MASTERS)) throw errors.forbidden(`User "${user.user.username}" cannot use the kube-sim control API`, 'kube-sim');
      const body = method === 'GET' ? undefined : (await this.readBody(req)).json;
      const b = isRecord(body) ? body : {};
      const path = url.pathname.replace(/^\/kube-sim/, '');
      const key = `${method} ${path}`;
      switch (key) {
        case 'GET /state':
          return this.send(res, 200, { latency: this.latency(), faults: this.faults.get(), injected: this.faults.injected(), resourceVersion: String(this.store.currentRevision()), openWatches: this.openWatches() });
        case 'GET /latency':
          return this.send(res, 200, this.latency());
        case 'PUT /latency': {
          if (typeof b.profile === 'string') {
            const p = latencyProfile(b.profile);
            if (!p) throw errors.badRequest(`unknown latency profile ${b.profile} (known: zero, realistic)`);
            this.setLatency(p);
          } else this.setLatency(b as Partial<LatencyProfile>);
          return this.send(res, 200, this.latency());
        }
        case 'GET /faults':
          return this.send(res, 200, this.faults.get());
        case 'PUT /faults':
          this.faults.set(b as Partial<FaultSettings>);
          return this.send(res, 200, this.faults.get());
        case 'DELETE /faults':
          this.faults.reset();
          return this.send(res, 200, this.faults.get());
        case 'POST /drop-watches':
          return this.send(res, 200, { dropped: this.faults.dropWatches() });
        case 'POST /compact':
          this.faults.compact();
          return this.send(res, 200, { compactedTo: String(this.store.oldestRevision()) });
        case 'POST /evict': {
          if (typeof b.namespace !== 'string' || typeof b.name !== 'string') throw errors.badRequest('namespace and name are required');
          await this.faults.evictPod(b.namespace, b.name, typeof b.reason === 'string' ? b.reason : undefined);
          return this.send(res, 200, successStatus());
        }
        case 'POST /fail-next-pull': {
          if (typeof b.image !== 'string' || typeof b.message !== 'string') throw errors.badRequest('image and message are required');
          const regex = /^\/(.*)\/$/.exec(b.image);
          this.faults.failNextPull(regex?.[1] !== undefined ? new RegExp(regex[1]) : b.image, b.message);
          return this.send(res, 200, successStatus());
        }
        case 'GET /pull-stats':
          return this.send(res, 200, this.requireKubelet().pullStats());
        case 'GET /audit': {
          const filter: AuditFilter = {};
          for (const k of ['verb', 'resource', 'namespace', 'name', 'username'] as const) {
            const v = url.searchParams.get(k);
            if (v !== null) filter[k] = v;
          }
          const sub = url.searchParams.get('subresource');
          if (sub !== null) filter.subresource = sub === '' ? null : sub;
          return this.send(res, 200, { items: this.audit.events(filter) });
        }
        default:
          throw new ApiError(failureStatus(404, 'NotFound', `no kube-sim control endpoint ${key}`));
      }
    } catch (err) {
      const apiErr = err instanceof ApiError ? err : errors.badRequest((err as Error).message);
      this.send(res, apiErr.code, apiErr.status, apiErr.headers);
    }
  }
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

function isStatusBody(v: unknown): v is KubeStatus {
  return isRecord(v) && v.kind === 'Status';
}

function deleteOptions(body: Record<string, unknown>, query: Query): DeleteOptions {
  const out: DeleteOptions = {};
  const grace = intParam(query, 'gracePeriodSeconds') ?? (typeof body.gracePeriodSeconds === 'number' ? body.gracePeriodSeconds : undefined);
  if (grace !== undefined) {
    if (grace < 0) throw errors.invalid('DeleteOptions', '', [{ reason: 'FieldValueInvalid', message: `Invalid value: ${grace}: must be >= 0`, field: 'gracePeriodSeconds' }]);
    out.gracePeriodSeconds = grace;
  }
  if (isRecord(body.preconditions)) {
    const p = body.preconditions;
    out.preconditions = { ...(typeof p.uid === 'string' ? { uid: p.uid } : {}), ...(typeof p.resourceVersion === 'string' ? { resourceVersion: p.resourceVersion } : {}) };
  }
  return out;
}

function toApiError(err: unknown): ApiError {
  if (err instanceof ApiError) return err;
  if (err instanceof KubeletError) {
    const reason = err.code === 404 ? 'NotFound' : err.code === 400 ? 'BadRequest' : err.code === 409 ? 'Conflict' : 'InternalError';
    return new ApiError(failureStatus(err.code, reason, err.message));
  }
  return errors.internal(err instanceof Error ? err.message : String(err));
}
