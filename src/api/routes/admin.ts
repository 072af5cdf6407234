// Admin routes of Concourse (docs/concourse-compatibility.md): the wall message
// (atc/api/wallserver: anyone reads it, admins set and clear it), the web node's log level
// (loglevelserver: plain-text bodies, changed live), the credential managers' settings
// (infoserver/creds.go) and the users who logged in (usersserver/get_since.go, fly active-users).
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { clearWall, getWall, setWall } from '../../db/wall.ts';
import { listUserLogins } from '../../db/users.ts';
import { ApiError, badRequest, unavailable } from '../errors.ts';
import { currentUser, parseWith, requireAdmin, type ApiServerOptions } from '../context.ts';
import { unix } from '../queries.ts';
import type { ActiveUser, Component, Wall } from '../wire.ts';
import { listComponents, setComponentPaused } from '../../db/components.ts';
import { passesNamed } from '../../component/concourse-names.ts';
import { notFound } from '../errors.ts';
import { CONCOURSE_LOG_LEVELS, isConcourseLogLevel } from '../log-level.ts';

const NANOS_PER_MS = 1_000_000;
/** The longest TTL accepted: a year (a Go duration of more overflows nothing, but nobody means it). */
const MAX_TTL_MS = 366 * 24 * 3600 * 1000;

const wallBody = z
  .object({
    message: z.string('must be a string').max(10_000, 'must be at most 10000 characters').optional(),
    TTL: z.number('must be a number of nanoseconds').int('must be a whole number of nanoseconds').min(0, 'must not be negative').optional(),
  })
  .strict();

function assertAdmin(req: FastifyRequest): void {
  requireAdmin(currentUser(req), `${req.method} ${req.routeOptions.url ?? req.url}`);
}

export function registerAdminRoutes(app: FastifyInstance, opts: ApiServerOptions): void {
  const { db } = opts;

  // ---------------------------------------------------------------- wall

  app.get('/wall', { config: { optionalAuth: true } }, async (): Promise<Wall> => {
    const wall = await getWall(db);
    if (!wall) return {};
    const left = wall.expiresAt ? Math.max(0, wall.expiresAt.getTime() - Date.now()) : undefined;
    return { message: wall.message, ...(left !== undefined ? { TTL: left * NANOS_PER_MS } : {}) };
  });

  app.put('/wall', async (req, reply) => {
    assertAdmin(req);
    const body = parseWith(wallBody, req.body ?? {}, 'body');
    if (!body.message) throw new ApiError('JW_INVALID_REQUEST', 'invalid body', ['body.message: the wall message cannot be empty']);
    const ttlMs = body.TTL ? Math.ceil(body.TTL / NANOS_PER_MS) : null;
    if (ttlMs !== null && ttlMs > MAX_TTL_MS) throw new ApiError('JW_INVALID_REQUEST', 'invalid body', ['body.TTL: must be at most a year']);
    await setWall(db, body.message, ttlMs);
    req.log.info({ ttlMs }, 'wall message set');
    return reply.code(200).send();
  });

  app.delete('/wall', async (req, reply) => {
    assertAdmin(req);
    await clearWall(db);
    req.log.info({}, 'wall message cleared');
    return reply.code(200).send();
  });

  // ---------------------------------------------------------------- log level

  const control = (): NonNullable<ApiServerOptions['logLevel']> => {
    if (!opts.logLevel) throw unavailable("the log level cannot be changed: this API server's logger has no live level");
    return opts.logLevel;
  };

  app.get('/log-level', async (req, reply) => {
    assertAdmin(req);
    return reply.type('text/plain; charset=utf-8').send(control().get());
  });

  // the body is the level itself, as plain text (fly and curl send it so)
  app.register(async (scope) => {
    scope.removeAllContentTypeParsers();
    scope.addContentTypeParser('*', { parseAs: 'string', bodyLimit: 64 }, (_req, body, done) => done(null, body));
    scope.put('/log-level', async (req, reply) => {
      assertAdmin(req);
      const text = (typeof req.body === 'string' ? req.body : '').trim();
      if (!isConcourseLogLevel(text)) throw badRequest(`log level ${JSON.stringify(text)} is not one of ${CONCOURSE_LOG_LEVELS.join(', ')}`);
      const before = control().get();
      control().set(text);
      req.log.info({ from: before, to: text, by: currentUser(req).name }, 'log level changed');
      return reply.code(200).send();
    });
  });

  // ---------------------------------------------------------------- credential managers

  // infoserver/creds.go: the configured managers' settings (no credentials), admins only
  app.get('/info/creds', async (req) => {
    assertAdmin(req);
    return opts.credentialManagersInfo ?? {};
  });

  // ---------------------------------------------------------------- users

  app.get<{ Querystring: { since?: string | string[] } }>('/users', async (req): Promise<ActiveUser[]> => {
    assertAdmin(req);
    const raw = req.query.since;
    let since: Date | undefined;
    if (raw !== undefined && raw !== '') {
      if (typeof raw !== 'string' || !/^\d{4}-\d{2}-\d{2}$/.test(raw) || Number.isNaN(Date.parse(`${raw}T00:00:00Z`))) {
        throw badRequest('query parameter since: wrong date format (yyyy-mm-dd)');
      }
      since = new Date(`${raw}T00:00:00Z`);
    }
    return (await listUserLogins(db, since)).map((u) => ({ username: u.username, connector: u.connector, last_login: unix(u.lastLogin), sub: u.username }));
  });

  // ---------------------------------------------------------------- components (atc/api/componentsserver; admins, as api_auth_wrappa.go)

  app.get('/components', async (req): Promise<Component[]> => {
    assertAdmin(req);
    return (await listComponents(db)).map((c) => ({
      name: c.name,
      interval: c.intervalMs * NANOS_PER_MS,
      last_ran: c.lastRanAt ? c.lastRanAt.toISOString() : '0001-01-01T00:00:00Z',
      paused: c.paused,
    }));
  });
  for (const [verb, paused] of [
    ['pause', true],
    ['unpause', false],
  ] as const) {
    app.put(`/components/${verb}`, async (req, reply) => {
      assertAdmin(req);
      await setComponentPaused(db, undefined, paused);
      req.log.info({ paused }, `every component ${verb}d`);
      return reply.code(200).send();
    });
    app.put<{ Params: { component: string } }>(`/components/:component/${verb}`, async (req, reply) => {
      assertAdmin(req);
      // Concourse's names too (tracker, scanner, collector_*), as a stock fly sends them
      if (!(await setComponentPaused(db, passesNamed(req.params.component), paused))) throw notFound('JW_NOT_FOUND', `component ${req.params.component}`);
      req.log.info({ component: req.params.component, paused }, `component ${verb}d`);
      return reply.code(200).send();
    });
  }
}
