// Health, info, the token endpoint (issue and revoke), the signed-in user.
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { ping } from '../../db/health.ts';
import { ApiError, unauthorized } from '../errors.ts';
import { currentUser, parseWith, type ApiServerOptions } from '../context.ts';
import type { Health, Info, TokenResponse, UserInfo } from '../wire.ts';
import { LoginLimiter } from '../login-limit.ts';

const tokenBody = z.object({
  grant_type: z.literal('password').optional(),
  username: z.string().min(1, 'required'),
  password: z.string().min(1, 'required'),
});

export function registerGeneralRoutes(app: FastifyInstance, opts: ApiServerOptions): void {
  const { db, auth } = opts;
  const limiter = opts.loginLimiter ?? new LoginLimiter();

  app.get('/health', { config: { public: true } }, async (): Promise<Health> => {
    await ping(db);
    return { status: 'ok' };
  });

  app.get('/info', { config: { public: true } }, async (): Promise<Info> => ({
    version: opts.version,
    worker_version: opts.workerVersion ?? opts.version,
    feature_flags: {},
    external_url: opts.externalUrl,
    cluster_name: opts.clusterName ?? '',
  }));

  // POST /api/v1/token: {"username", "password"} as JSON, or the OAuth2 password grant as
  // application/x-www-form-urlencoded (grant_type=password&username=…&password=…).
  app.register(async (scope) => {
    scope.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string' }, (_req, body, done) => {
      done(null, Object.fromEntries(new URLSearchParams(String(body))));
    });
    scope.post('/token', { config: { public: true } }, async (req, reply): Promise<TokenResponse> => {
      if (req.body === undefined || req.body === null) throw new ApiError('JW_EMPTY_BODY', 'the request body is empty; expected {"username", "password"}');
      const body = parseWith(tokenBody, req.body, 'body');
      // refused before the password is checked: a guess then costs no scrypt work
      const attempt = limiter.begin(body.username, req.ip);
      if ('reason' in attempt) {
        req.log.info({ username: body.username, address: req.ip, retryAfter: attempt.retryAfterSeconds }, 'login refused: too many failures');
        void reply.header('Retry-After', String(attempt.retryAfterSeconds));
        throw new ApiError('JW_TOO_MANY_LOGINS', `${attempt.reason}: try again in ${attempt.retryAfterSeconds} s`);
      }
      let ok = false;
      try {
        ok = await auth.verifyPassword(body.username, body.password);
      } finally {
        attempt.finish(ok);
      }
      if (!ok) {
        req.log.info({ username: body.username, address: req.ip }, 'login failed');
        throw new ApiError('JW_INVALID_LOGIN', 'invalid username or password');
      }
      const issued = await auth.issueToken(db, body.username);
      const { user } = issued;
      req.log.info({ username: user.name }, 'login succeeded');
      void reply.header('Cache-Control', 'no-store');
      return {
        access_token: issued.token,
        token_type: 'bearer',
        expires_in: Math.floor((issued.expiresAt.getTime() - Date.now()) / 1000),
        expiry: issued.expiresAt.toISOString(),
        username: user.name,
        teams: user.teams,
      };
    });
  });

  // Logout (`jetway logout`, the token route's DELETE) revokes the bearer token the request
  // carries, so a copy of it stops working before it expires. Public: the token is its own proof, and an
  // unknown, expired or already revoked one gets the same 204, which tells nothing about it.
  // (Concourse's counterpart, GET /sky/logout, is its browser flow: cookies, and a GET that
  // changes state.)
  app.delete('/token', { config: { public: true } }, async (req, reply) => {
    const m = /^bearer\s+(\S+)$/i.exec(req.headers.authorization ?? '');
    if (!m?.[1]) throw unauthorized('send the token to revoke as "Authorization: Bearer <token>"');
    const username = await auth.revokeToken(db, m[1]);
    if (username !== undefined) req.log.info({ username }, 'token revoked');
    return reply.code(204).send();
  });

  app.get('/user', async (req): Promise<UserInfo> => {
    const user = currentUser(req);
    return { user_name: user.name, teams: user.roles, is_admin: user.isAdmin };
  });
}
