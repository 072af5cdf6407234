// One password login, behind both token endpoints: Jetway's `POST /api/v1/token` and
// skymarshal's `POST /sky/issuer/token` (fly's OAuth2 password grant, routes/sky.ts). The
// failed-login limits (login-limit.ts) are checked before the password, so a refused guess costs
// no hashing work.
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Queryable } from '../db/database.ts';
import { ApiError } from './errors.ts';
import type { IssuedToken, LocalAuth } from './auth.ts';
import type { LoginLimiter } from './login-limit.ts';
import { recordLogin } from '../db/users.ts';

export interface PasswordLoginDeps {
  db: Queryable;
  auth: LocalAuth;
  limiter: LoginLimiter;
}

/** Checks the limits and the password and issues a token; throws JW_TOO_MANY_LOGINS or JW_INVALID_LOGIN. */
export async function passwordLogin(
  deps: PasswordLoginDeps,
  req: FastifyRequest,
  reply: FastifyReply,
  username: string,
  password: string,
): Promise<IssuedToken> {
  const attempt = await deps.limiter.begin(username, req.ip);
  if ('reason' in attempt) {
    req.log.info({ username, address: req.ip, retryAfter: attempt.retryAfterSeconds }, 'login refused: too many failures');
    void reply.header('Retry-After', String(attempt.retryAfterSeconds));
    throw new ApiError('JW_TOO_MANY_LOGINS', `${attempt.reason}: try again in ${attempt.retryAfterSeconds} s`);
  }
  let ok = false;
  try {
    ok = await deps.auth.verifyPassword(username, password);
  } finally {
    await attempt.finish(ok);
  }
  if (!ok) {
    req.log.info({ username, address: req.ip }, 'login failed');
    throw new ApiError('JW_INVALID_LOGIN', 'invalid username or password');
  }
  const issued = await deps.auth.issueToken(deps.db, username);
  await recordLogin(deps.db, issued.user.name); // GET /api/v1/users (fly active-users)
  req.log.info({ username: issued.user.name }, 'login succeeded');
  void reply.header('Cache-Control', 'no-store');
  return issued;
}
