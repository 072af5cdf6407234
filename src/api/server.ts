// The web API (docs/concourse-semantics.md §7.2): a fastify instance, not listening, so that `jetway web`
// can mount it next to the scheduler, checker and engine, and tests can inject requests or
// listen on a port. Every route is under /api/v1 and needs a bearer token from
// `POST /api/v1/token`, except /health, /info and /token (and /metrics, Prometheus's). The web UI (src/ui) is served from
// the same instance at `/` and /ui/, without a token: its page logs in through the API.
import { registerOidcRoutes } from './routes/oidc.ts';
import Fastify, { type FastifyBaseLogger, type FastifyInstance, type FastifyRequest } from 'fastify';
import { LookupCache } from './lookup-cache.ts';
import { LocalAuth } from './auth.ts';
import { badRequest, installErrorHandlers, unauthorized } from './errors.ts';
import { unsafeNameProblem } from './names.ts';
import { BuildEventNotifier } from './events.ts';
import type { ApiServerOptions } from './context.ts';
import { registerGeneralRoutes } from './routes/general.ts';
import { registerSkyRoutes } from './routes/sky.ts';
import { registerFeedRoutes } from './routes/feeds.ts';
import { LoginLimiter } from './login-limit.ts';
import { registerTeamRoutes } from './routes/teams.ts';
import { registerPipelineRoutes } from './routes/pipelines.ts';
import { registerResourceRoutes } from './routes/resources.ts';
import { registerBuildRoutes } from './routes/builds.ts';
import { registerArtifactRoutes } from './routes/artifacts.ts';
import { registerCompatRoutes } from './routes/compat.ts';
import { registerAdminRoutes } from './routes/admin.ts';
import { registerWorkerRoutes } from './routes/workers.ts';
import { attachInterceptWebSocket, registerInterceptRoutes } from './intercept.ts';
import { registerUi } from '../ui/server.ts';

export type { ApiServerOptions } from './context.ts';

/** The largest JSON or YAML request body by default (a pipeline config, a plan): 10 MiB. */
export const DEFAULT_BODY_LIMIT = 10 * 1024 * 1024;

/** Query parameters whose value is a credential, left out of request logs. */
const SECRET_QUERY = /token|password|secret/i;

/** What a request log says of the request: fastify's fields, with credentials in the query redacted. */
export function requestForLog(req: FastifyRequest): { method: string; url: string; host: string; remoteAddress: string } {
  const [path, query] = req.url.split('?', 2) as [string, string | undefined];
  let url = path;
  if (query !== undefined) {
    const params = new URLSearchParams(query);
    for (const key of new Set(params.keys())) if (SECRET_QUERY.test(key)) params.set(key, '[REDACTED]');
    url = `${path}?${params.toString()}`;
  }
  return { method: req.method, url, host: req.host, remoteAddress: req.ip };
}

/** A 400 naming the first path parameter whose value cannot be a name (`/`, `..`, control characters). */
function checkPathParams(params: unknown): void {
  if (typeof params !== 'object' || params === null) return;
  for (const [name, value] of Object.entries(params as Record<string, unknown>)) {
    if (typeof value !== 'string') continue;
    const problem = unsafeNameProblem(value);
    if (problem) throw badRequest(`path parameter ${name}: ${JSON.stringify(value)} ${problem}`);
  }
}

export function createApiServer(given: ApiServerOptions): FastifyInstance {
  if (!(given.auth instanceof LocalAuth)) throw new Error('createApiServer: auth must be a LocalAuth');
  const ownCache = given.lookups === undefined;
  const lookups = given.lookups ?? new LookupCache(given.db, given.logger.child({ component: 'api' }));
  const opts: ApiServerOptions = { ...given, lookups };
  const app = Fastify({
    loggerInstance: opts.logger.child({ component: 'api' }) as FastifyBaseLogger,
    // request logs name the URL without credentials in its query (?webhook_token=)
    childLoggerFactory: (logger, bindings, options) =>
      logger.child(bindings, { ...options, serializers: { ...options.serializers, req: requestForLog } }),
    bodyLimit: opts.bodyLimit ?? DEFAULT_BODY_LIMIT,
    // req.ip: the first address from the right that is not a trusted proxy (docs/security.md "API")
    ...(opts.trustProxy && opts.trustProxy.length > 0 ? { trustProxy: [...opts.trustProxy] } : {}),
    // responses of streaming routes are hijacked; everything else is JSON
    return503OnClosing: true,
    forceCloseConnections: true,
  });
  installErrorHandlers(app);
  // JSON as Concourse's API sends it: `application/json`, no charset (JSON is UTF-8 by definition,
  // RFC 8259), since go-concourse compares the header as a whole (CreateOrUpdatePipelineConfig
  // refuses anything else, so a stock fly could not set a pipeline)
  app.addHook('onSend', async (_req, reply, payload) => {
    const type = reply.getHeader('content-type');
    if (typeof type === 'string' && type.startsWith('application/json;')) reply.header('content-type', 'application/json');
    return payload;
  });
  const notifier = new BuildEventNotifier(opts.db, opts.logger);
  // not awaited: a node whose database is not there yet starts, and reads at every request until it is
  app.addHook('onReady', async () => {
    void lookups.start();
  });
  app.addHook('onClose', async () => {
    await notifier.stop();
    if (ownCache) await lookups.stop();
  });

  app.decorateRequest('user', null);
  app.decorateRequest('lookups', null);
  // a write through this node: the pipelines it may have changed are read again by this node's
  // next request, not only once their NOTIFY comes back
  app.addHook('onSend', async (req, _reply, payload) => {
    if (req.method !== 'GET' && req.method !== 'HEAD') lookups.pipelinesChanged();
    return payload;
  });
  app.addHook('onRequest', async (req) => {
    req.lookups = lookups;
    if (req.routeOptions.config?.public) return;
    const header = req.headers.authorization;
    if (!header) return; // routes call currentUser(), which answers 401; unknown routes answer 404
    const m = /^bearer\s+(\S+)$/i.exec(header);
    if (!m || !m[1]) throw unauthorized('not authorized: the Authorization header must be "Bearer <token>"');
    const result = await opts.auth.authenticate(opts.db, m[1], lookups);
    if ('refused' in result) throw unauthorized(`not authorized: ${result.refused}`);
    req.user = result;
  });
  // every non-public route requires a user; checked before the body is parsed
  app.addHook('preValidation', async (req) => {
    // publicPipeline and optionalAuth routes decide themselves (context.ts pipelineOf, assertBuildReadable)
    if (req.routeOptions.config?.public || req.routeOptions.config?.publicPipeline || req.routeOptions.config?.optionalAuth || req.user) return;
    if (req.routeOptions.url === undefined) return; // not found
    throw unauthorized('not authorized: log in first (jetway login), then send "Authorization: Bearer <token>"');
  });
  // names in the path become database keys, paths and URLs: refuse the unsafe ones by field
  app.addHook('preValidation', async (req) => {
    if (!req.routeOptions.url?.startsWith('/api/')) return;
    checkPathParams(req.params);
  });

  const metrics = opts.metrics;
  if (metrics) {
    // by route pattern (not the URL: ids and names would make a series each)
    app.addHook('onResponse', async (req, reply) => {
      metrics.apiRequest(req.method, req.routeOptions.url ?? 'unmatched', reply.statusCode);
    });
    // Prometheus scrapes it without a token; its labels name no pipeline, job or resource
    app.get('/metrics', { config: { public: true } }, async (_req, reply) => {
      const { contentType, body } = await metrics.scrape();
      return reply.type(contentType).send(body);
    });
  }

  // one limiter for both token endpoints: a guess at one counts at the other
  const loginLimiter = opts.loginLimiter ?? new LoginLimiter();
  registerSkyRoutes(app, { db: opts.db, auth: opts.auth, limiter: loginLimiter });
  registerOidcRoutes(app, opts);
  app.register(
    async (api) => {
      registerGeneralRoutes(api, { ...opts, loginLimiter });
      registerTeamRoutes(api, opts);
      registerPipelineRoutes(api, opts);
      registerResourceRoutes(api, opts);
      registerBuildRoutes(api, opts, notifier);
      registerArtifactRoutes(api, opts);
      registerFeedRoutes(api, opts);
      registerInterceptRoutes(api, opts);
      registerCompatRoutes(api, opts);
      registerAdminRoutes(api, opts);
      registerWorkerRoutes(api, opts);
    },
    { prefix: '/api/v1' },
  );
  // the intercept WebSocket (GET /api/v1/builds/:id/intercept): an upgrade, which fastify does not route
  attachInterceptWebSocket(app, opts);
  registerUi(app);
  return app;
}
