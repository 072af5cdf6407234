// Health, info, the token endpoint (issue and revoke), the signed-in user.
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { checkHealth } from '../health.ts';
import { ApiError, unauthorized } from '../errors.ts';
import { currentUser, parseWith, type ApiServerOptions } from '../context.ts';
import type { Health, Info, TokenResponse, UserInfo } from '../wire.ts';
import { LoginLimiter } from '../login-limit.ts';
import { acceptFormBodies } from '../form-body.ts';
import { passwordLogin } from '../password-login.ts';
import { CONCOURSE_COMPATIBLE_VERSION } from '../../version.ts';

const tokenBody = z.object({
  grant_type: z.literal('password').optional(),
  username: z.string().min(1, 'required'),
  password: z.string().min(1, 'required'),
});

export function registerGeneralRoutes(app: FastifyInstance, opts: ApiServerOptions): void {
  const { db, auth } = opts;
  const limiter = opts.loginLimiter ?? new LoginLimiter();

  app.get('/health', { config: { public: true } }, async (_req, reply): Promise<Health> => {
    const health = await checkHealth({ db, dbName: db.displayUrl, ...(opts.diskProblem ? { disk: opts.diskProblem } : {}) });
    void reply.code(health.code);
    return health.body;
  });

  // `version` is the Concourse version fly compares with its own; Jetway's is `jetway_version`
  const concourseVersion = opts.concourseVersion ?? CONCOURSE_COMPATIBLE_VERSION;
  app.get('/info', { config: { public: true } }, async (): Promise<Info> => ({
    version: concourseVersion,
    jetway_version: opts.version,
    worker_version: opts.workerVersion ?? concourseVersion,
    feature_flags: {},
    external_url: opts.externalUrl,
    cluster_name: opts.clusterName ?? '',
  }));

  // fly downloads itself from here (`fly sync`, the UI's download links); Jetway ships no fly
  // binaries: fly comes from Concourse's releases, and Jetway's own CLI with the project
  app.get('/cli', { config: { public: true } }, async () => {
    throw new ApiError('JW_FLY_NOT_SHIPPED', `this server does not ship fly binaries: download fly ${concourseVersion} from https://github.com/concourse/concourse/releases (or use the jetway CLI)`);
  });

  // POST /api/v1/token: {"username", "password"} as JSON, or the OAuth2 password grant as
  // application/x-www-form-urlencoded (grant_type=password&username=…&password=…).
  app.register(async (scope) => {
    acceptFormBodies(scope);
    scope.post('/token', { config: { public: true } }, async (req, reply): Promise<TokenResponse> => {
      if (req.body === undefined || req.body === null) throw new ApiError('JW_EMPTY_BODY', 'the request body is empty; expected {"username", "password"}');
      const body = parseWith(tokenBody, req.body, 'body');
      const issued = await passwordLogin({ db, auth, limiter }, req, reply, body.username, body.password);
      const { user } = issued;
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
    const username = await auth.revokeToken(db, m[1], opts.lookups);
    if (username !== undefined) req.log.info({ username }, 'token revoked');
    return reply.code(204).send();
  });

  app.get('/user', async (req): Promise<UserInfo> => {
    const user = currentUser(req);
    // a local user's identity is its name, as Concourse's local connector has it
    return {
      sub: user.name,
      name: user.name,
      user_id: user.name,
      user_name: user.name,
      email: '',
      teams: user.roles,
      is_admin: user.isAdmin,
      is_system: false,
      connector: 'local',
      display_user_id: user.name,
    };
  });
}
