// What every route module gets: the server's dependencies and request helpers (the signed-in
// user, team scoping, pipeline references, pagination parameters and Link headers).
import type { LookupCache } from './lookup-cache.ts';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import type { Database } from '../db/database.ts';
import type { SigningKeyStore } from '../creds/idtoken/keys.ts';
import type { PipelineRef } from '../db/pipelines.ts';
import type { Logger } from '../log.ts';
import type { PipelineLoader } from '../config/off-thread.ts';
import type { BuildRecord } from '../db/builds.ts';
import type { Version } from '../model/version.ts';
import type { CredentialManager } from '../creds/credential-manager.ts';
import type { Runtime } from '../runtime/runtime.ts';
import type { AuthUser, LocalAuth } from './auth.ts';
import type { LoginLimiter } from './login-limit.ts';
import type { LogLevelControl } from './log-level.ts';
import { MAIN_TEAM, requiredRole, satisfies, strongest, type Role } from './roles.ts';
import { ApiError, badRequest, forbidden, notFound, unauthorized, zodMessages } from './errors.ts';
import type { PageRequest, PageResult } from '../db/keyset.ts';
import { findPipelineView, type PipelineView } from '../db/views.ts';
import { getPipelineById } from '../db/pipelines.ts';
import { getJob } from '../db/jobs.ts';
import { describePipeline } from './queries.ts';
import { unsafeNameProblem } from './names.ts';
import { jsonValueProblem } from './plan-check.ts';

export interface SchedulerHook {
  /** Wakes the scheduler for a job whose schedule_requested was bumped. */
  requestSchedule(jobId: number): void | Promise<void>;
}

/** A manual check's options (`POST …/check` body, plus who asked). */
export interface ManualCheckOptions {
  from?: Version | null;
  shallow?: boolean;
  createdBy?: string | null;
}

/**
 * The checker as the API uses it. The methods match `Checker`'s, so the web node can pass its
 * `Checker` itself; the routes answer 503 when a method they need is missing.
 */
export interface CheckerHook {
  /** Wakes the checker for a resource (after its config changed or a manual check). */
  requestCheck?(resourceId: number): void | Promise<void>;
  /** `POST …/resources/:r/check`: creates a manual check build (already handed to the engine). */
  checkResource?(pipelineId: number, name: string, opts: ManualCheckOptions): Promise<BuildRecord>;
  /** `POST …/resource-types/:t/check`. */
  checkResourceType?(pipelineId: number, name: string, opts: ManualCheckOptions): Promise<BuildRecord>;
  /** `POST …/prototypes/:p/check` (CheckPrototype). */
  checkPrototype?(pipelineId: number, name: string, opts: ManualCheckOptions): Promise<BuildRecord>;
  /** `POST …/resources/:r/check/webhook`: throws the checker's UnauthorizedError on a bad token (errors.ts answers 401). */
  checkWebhook?(pipelineId: number, name: string, token: string): Promise<BuildRecord>;
}

export interface EngineHook {
  /** Cancels a running build (after `PUT /builds/:id/abort` marked it aborted). */
  abortBuild(buildId: number): void | Promise<void>;
  /** Runs a started build (one-off builds from `POST /teams/:team/builds`). */
  track?(buildId: number): void | Promise<void>;
}

export interface ApiServerOptions {
  db: Database;
  /** the idtoken var source's signing keys (/.well-known/jwks.json publishes them) */
  signingKeys?: SigningKeyStore;
  auth: LocalAuth;
  /**
   * What authentication reads at every request, kept while LISTENing for its changes
   * (src/api/lookup-cache.ts). createApiServer makes one when none is given and stops it on close.
   */
  lookups?: LookupCache;
  logger: Logger;
  /** Jetway's version, reported by /api/v1/info as `jetway_version`. */
  version: string;
  /**
   * The Concourse version /api/v1/info reports as `version` (default CONCOURSE_COMPATIBLE_VERSION):
   * fly refuses a server whose major.minor differs from its own (fly/rc/target.go validate).
   */
  concourseVersion?: string;
  workerVersion?: string;
  /** The URL users reach the server at (builds' api_url, /info). */
  externalUrl: string;
  clusterName?: string;
  scheduler?: SchedulerHook;
  checker?: CheckerHook;
  engine?: EngineHook;
  /** The web node's disk problem for /health, if any (issue 17: a full disk is named there). */
  diskProblem?: () => Promise<string | undefined>;
  /** How often a build's event stream looks for new events (default 250 ms). */
  eventPollIntervalMs?: number;
  /** How long an event stream's client may read nothing while its buffer is full before it is dropped (default 60 s). */
  eventStallTimeoutMs?: number;
  /** Largest accepted request body in bytes (default 10 MiB). */
  bodyLimit?: number;
  /**
   * Largest pipeline config `PUT …/config` takes, in bytes (default 1 MiB): it is parsed and
   * validated in a worker thread, and this bounds how long and how much memory that takes.
   */
  pipelineConfigLimit?: number;
  /** Where pipeline configs are parsed and validated (default: the process's worker, src/config/off-thread.ts). */
  pipelineLoader?: PipelineLoader;
  /** The base resource types a pipeline may use: Concourse's and the operator's `--base-resource-type` (default Concourse's). */
  baseResourceTypes?: readonly string[];
  /**
   * Where uploaded artifacts of one-off builds (`jetway execute`) are stored; the engine's
   * `artifactsDir` should be the same directory. Without it the artifact routes answer 503.
   */
  artifactsDir?: string;
  /** Largest accepted artifact upload in bytes (default 1 GiB). */
  artifactBodyLimit?: number;
  /** The cluster's credential manager, when there is one: `check_creds` looks vars up there too. */
  credentials?: CredentialManager;
  /** Limits on failed logins (src/api/login-limit.ts; default: its DEFAULT_LOGIN_LIMITS). */
  loginLimiter?: LoginLimiter;
  /**
   * The addresses or CIDR ranges of the proxies in front of the web node, whose X-Forwarded-For
   * is believed for a request's address (login limits, logs): `jetway web --trust-proxy`. Without
   * it, a request's address is its peer's and X-Forwarded-For is ignored.
   */
  trustProxy?: readonly string[];
  /** Prometheus metrics (src/metrics): requests are counted, GET /metrics serves them without a login. */
  metrics?: ApiMetrics;
  /**
   * The runtime steps run on: `jetway intercept` lists a build's containers and runs commands in
   * them through it (answered 501 when it keeps no containers, or when there is none), and
   * `jetway clear-task-cache` clears task caches through it (503 without one).
   */
  runtime?: Pick<Runtime, 'name' | 'interceptableContainers' | 'containerBuildIds' | 'intercept' | 'clearTaskCache' | 'failedContainerRetentionMs'>;
  /** The web node's live log level (GET/PUT /api/v1/log-level; src/api/log-level.ts): 503 without one. */
  logLevel?: LogLevelControl;
  /**
   * The configured credential managers by name, as `GET /api/v1/info/creds` shows them (admins
   * only, as Concourse's infoserver/creds.go): their settings, never a credential; none: `{}`.
   */
  credentialManagersInfo?: Readonly<Record<string, Readonly<Record<string, string | boolean>>>>;
}

export interface ApiMetrics {
  apiRequest(method: string, route: string, code: number): void;
  scrape(): Promise<{ contentType: string; body: string }>;
}

declare module 'fastify' {
  interface FastifyRequest {
    user: AuthUser | null;
    /** the server's lookup cache (createApiServer sets it on every request) */
    lookups: LookupCache | null;
  }
  interface FastifyContextConfig {
    /** Served without a token (health, info, token). */
    public?: boolean;
    /**
     * A read of a pipeline (or of a build in one) that anyone may make when the pipeline is public
     * (expose-pipeline), as Concourse's (atc/wrappa/api_auth_wrappa.go): the route's handler
     * decides, through pipelineOf or assertBuildReadable; a token, when sent, is still checked.
     */
    publicPipeline?: boolean;
    /** Answers without a token too, differently (the pipelines list: the public ones). */
    optionalAuth?: boolean;
  }
}

export function currentUser(req: FastifyRequest): AuthUser {
  if (!req.user) throw unauthorized('not authorized: log in first (no bearer token)');
  return req.user;
}

/** Refuses (403) a user who is not an admin (an owner of team main) what only admins may do. */
export function requireAdmin(user: AuthUser, what: string): void {
  if (!user.isAdmin) throw forbidden(`user ${user.name} cannot ${what}: only an admin (an owner of team ${MAIN_TEAM}) can`);
}

/**
 * Refuses (403) a user who holds no role in the team, or none strong enough for the request:
 * `needed`, else what the route needs (src/api/roles.ts).
 */
export function assertTeam(req: FastifyRequest, team: string, needed?: Role): AuthUser {
  const user = currentUser(req);
  const held = strongest(user.roles[team] ?? []);
  if (!held) throw forbidden(`user ${user.name} is not a member of team ${team}`);
  const role = needed ?? requiredRole(req.method, req.routeOptions?.url ?? '');
  if (!satisfies(held, role)) throw forbidden(`user ${user.name} holds the ${held} role in team ${team}; ${req.method} ${req.routeOptions?.url ?? req.url.split('?')[0]} needs the ${role} role`);
  return user;
}

/** Parses with a zod schema; failures are a 400 naming each bad field. */
export function parseWith<T>(schema: z.ZodType<T>, value: unknown, what: string): T {
  const r = schema.safeParse(value);
  if (!r.success) throw new ApiError('JW_INVALID_REQUEST', `invalid ${what}`, zodMessages(r.error, what));
  return r.data;
}

const jsonObject = z.record(z.string(), z.unknown());

/**
 * Instance vars of an instanced pipeline from the query: `?vars=<json object>` or
 * `?vars.k=<json value>` (Concourse's two forms).
 */
export function instanceVarsFrom(query: unknown): Record<string, unknown> | null {
  if (typeof query !== 'object' || query === null) return null;
  const q = query as Record<string, unknown>;
  let vars: Record<string, unknown> | null = null;
  const parseJson = (text: unknown, name: string): unknown => {
    if (typeof text !== 'string') throw badRequest(`query parameter ${name} must be given once`);
    try {
      return JSON.parse(text) as unknown;
    } catch {
      throw badRequest(`query parameter ${name} is not valid JSON: ${text}`);
    }
  };
  if (q.vars !== undefined) vars = parseWith(jsonObject, parseJson(q.vars, 'vars'), 'query parameter vars');
  for (const [k, v] of Object.entries(q)) {
    if (!k.startsWith('vars.')) continue;
    vars ??= {};
    vars[k.slice(5)] = parseJson(v, k);
  }
  if (!vars || Object.keys(vars).length === 0) return null;
  // instance vars name a pipeline in URLs and are stored as jsonb: names and values must be safe
  for (const k of Object.keys(vars)) {
    const problem = unsafeNameProblem(k);
    if (problem) throw badRequest(`query parameter vars: the instance var name ${JSON.stringify(k)} ${problem}`);
  }
  const problem = jsonValueProblem(vars, 'query parameter vars', 16);
  if (problem) throw badRequest(problem);
  return vars;
}

export interface PipelineParams {
  team: string;
  pipeline: string;
}

export function pipelineRefOf(req: FastifyRequest<{ Params: PipelineParams }>): PipelineRef {
  return { team: req.params.team, name: req.params.pipeline, instanceVars: instanceVarsFrom(req.query) };
}

/** Whether the requester is logged in and holds a role in the team. */
export function holdsRole(req: FastifyRequest, team: string): boolean {
  return req.user !== null && strongest(req.user.roles[team] ?? []) !== undefined;
}

const isRead = (req: FastifyRequest): boolean => req.method === 'GET' || req.method === 'HEAD';

/**
 * The pipeline of a team/pipeline route, after checking the user's team (404 when unknown). On
 * a route marked publicPipeline a public pipeline is read by anyone; any other answers 401
 * without a login (whether it exists or not) and 403 to a user of other teams.
 */
export async function pipelineOf(db: Database, req: FastifyRequest<{ Params: PipelineParams }>): Promise<PipelineView> {
  const ref = pipelineRefOf(req);
  // the server's lookup cache keeps pipelines while it hears their changes (src/api/lookup-cache.ts)
  const find = (): Promise<PipelineView | undefined> => (req.lookups ? req.lookups.pipeline(ref) : findPipelineView(db, ref));
  if (req.routeOptions.config?.publicPipeline && isRead(req) && !holdsRole(req, req.params.team)) {
    const p = await find();
    if (p?.public) return p;
  }
  assertTeam(req, req.params.team);
  const p = await find();
  if (!p) throw notFound('JW_PIPELINE_NOT_FOUND', describePipeline(ref));
  return p;
}

/**
 * Refuses a read of a build by someone without a role in its team unless, as on Concourse
 * (atc/api/auth/check_build_read_access_handler.go), its pipeline is public and, for its plan,
 * events and preparation (`publicJob`), its job is public too (`public: true` in the job's
 * config). One-off builds and check builds are never public.
 */
export async function assertBuildReadable(
  db: Database,
  req: FastifyRequest,
  build: Pick<BuildRecord, 'teamName' | 'pipelineId' | 'jobId'>,
  publicJob: boolean,
): Promise<void> {
  if (req.routeOptions.config?.publicPipeline && isRead(req) && !holdsRole(req, build.teamName) && build.pipelineId !== null) {
    const p = await getPipelineById(db, build.pipelineId);
    if (p?.public) {
      if (!publicJob) return;
      if (build.jobId !== null && (await getJob(db, build.jobId))?.public) return;
    }
  }
  assertTeam(req, build.teamName); // 401 without a login, 403 to a user of other teams
}

/** The largest id or count a query takes (ids are Postgres integers). */
export const MAX_QUERY_INT = 2_147_483_647;

const intString = (name: string) =>
  z
    .string()
    .superRefine((s, ctx) => {
      if (!/^\d+$/.test(s)) ctx.addIssue({ code: 'custom', message: `${name} must be a non-negative integer` });
      else if (Number(s) > MAX_QUERY_INT) ctx.addIssue({ code: 'custom', message: `${name} must be at most ${MAX_QUERY_INT}` });
    })
    .transform((s) => Number(s));

const pageQuery = z.object({
  limit: intString('limit').optional(),
  from: intString('from').optional(),
  to: intString('to').optional(),
});

export function pageOf(query: unknown, defaultLimit = 100, maxLimit = 1000): PageRequest {
  const q = parseWith(pageQuery, pickPageKeys(query), 'query');
  const limit = q.limit ?? defaultLimit;
  if (limit < 1) throw new ApiError('JW_INVALID_REQUEST', 'invalid query', ['query.limit: must be at least 1']);
  return { limit: Math.min(limit, maxLimit), ...(q.from !== undefined ? { from: q.from } : {}), ...(q.to !== undefined ? { to: q.to } : {}) };
}

function pickPageKeys(query: unknown): Record<string, unknown> {
  const q = (typeof query === 'object' && query !== null ? query : {}) as Record<string, unknown>;
  const out: Record<string, unknown> = {};
  for (const k of ['limit', 'from', 'to']) if (q[k] !== undefined) out[k] = q[k];
  return out;
}

/**
 * Sets the `Link` header for a page: `rel="next"` (older items, `to=`) and `rel="previous"`
 * (newer items, `from=`), keeping the request's other query parameters. With externalUrl the
 * links are absolute, as Concourse sends them (atc/api/buildserver/list.go addNextLink).
 */
export function setLinkHeader<R>(req: FastifyRequest, reply: FastifyReply, page: PageRequest, result: PageResult<R>, externalUrl?: string): void {
  const [path, qs] = req.url.split('?', 2) as [string, string | undefined];
  const base = new URLSearchParams(qs ?? '');
  for (const k of ['from', 'to', 'limit']) base.delete(k);
  const link = (key: 'from' | 'to', id: number): string => {
    const p = new URLSearchParams(base);
    p.set(key, String(id));
    p.set('limit', String(page.limit));
    return `<${externalUrl ? externalUrl.replace(/\/$/, '') : ''}${path}?${p.toString()}>`;
  };
  const links: string[] = [];
  if (result.older !== undefined) links.push(`${link('to', result.older)}; rel="next"`);
  if (result.newer !== undefined) links.push(`${link('from', result.newer)}; rel="previous"`);
  if (links.length > 0) void reply.header('Link', links.join(', '));
}

export function idParam(value: string, name: string): number {
  if (!/^\d+$/.test(value)) throw badRequest(`${name} must be a number (got '${value}')`);
  const n = Number(value);
  if (!Number.isSafeInteger(n) || n > 2_147_483_647) throw badRequest(`${name} ${value} is out of range`);
  return n;
}
