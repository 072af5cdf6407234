// skymarshal's token endpoint, so that a real `fly login -u -p` logs in (fly/commands/login.go:
// passwordGrant): the OAuth2 resource-owner password grant at POST /sky/issuer/token, with
// fly's public client (id `fly`, secret `Zmx5`, as Basic auth or form fields). The token is a
// Jetway token, the same as POST /api/v1/token gives; fly then sends it as `Bearer` and reads
// /api/v1/user to check the team. Errors are OAuth2's (RFC 6749 §5.2), which fly prints.
import type { FastifyInstance, FastifyReply } from 'fastify';
import { ApiError } from '../errors.ts';
import { acceptFormBodies } from '../form-body.ts';
import { passwordLogin, type PasswordLoginDeps } from '../password-login.ts';

/** fly's OAuth2 client (fly/commands/login.go), the only client this endpoint knows. */
const FLY_CLIENT = { id: 'fly', secret: 'Zmx5' };

interface OAuthError {
  error: 'invalid_request' | 'invalid_client' | 'invalid_grant' | 'unsupported_grant_type' | 'slow_down';
  error_description: string;
}

function oauthError(reply: FastifyReply, status: number, body: OAuthError): OAuthError {
  void reply.code(status).header('Cache-Control', 'no-store');
  return body;
}

/** The client's id and secret: HTTP Basic auth (what golang.org/x/oauth2 tries first) or form fields. */
function clientOf(authorization: string | undefined, form: Record<string, string>): { id: string; secret: string } | undefined {
  const m = /^basic\s+(\S+)$/i.exec(authorization ?? '');
  if (m?.[1]) {
    const decoded = Buffer.from(m[1], 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    if (colon < 0) return undefined;
    // form-encoded in the header, as RFC 6749 §2.3.1 says
    return { id: decodeURIComponent(decoded.slice(0, colon)), secret: decodeURIComponent(decoded.slice(colon + 1)) };
  }
  if (form.client_id !== undefined) return { id: form.client_id, secret: form.client_secret ?? '' };
  return undefined;
}

export function registerSkyRoutes(app: FastifyInstance, deps: PasswordLoginDeps): void {
  app.register(
    async (scope) => {
      acceptFormBodies(scope);
      scope.post('/sky/issuer/token', { config: { public: true } }, async (req, reply) => {
        const form = (typeof req.body === 'object' && req.body !== null ? req.body : {}) as Record<string, string>;
        let client: { id: string; secret: string } | undefined;
        try {
          client = clientOf(req.headers.authorization, form);
        } catch {
          client = undefined; // a malformed percent-encoding
        }
        if (!client || client.id !== FLY_CLIENT.id || client.secret !== FLY_CLIENT.secret) {
          void reply.header('WWW-Authenticate', 'Basic realm="sky"');
          return oauthError(reply, 401, { error: 'invalid_client', error_description: 'unknown client: only fly\'s client (id "fly") may use this endpoint' });
        }
        if (form.grant_type !== 'password') {
          return oauthError(reply, 400, { error: 'unsupported_grant_type', error_description: `grant_type ${JSON.stringify(form.grant_type ?? '')} is not supported; use "password"` });
        }
        if (!form.username || !form.password) {
          return oauthError(reply, 400, { error: 'invalid_request', error_description: 'username and password are required' });
        }
        try {
          const issued = await passwordLogin(deps, req, reply, form.username, form.password);
          return {
            access_token: issued.token,
            token_type: 'bearer',
            expires_in: Math.floor((issued.expiresAt.getTime() - Date.now()) / 1000),
          };
        } catch (err) {
          if (err instanceof ApiError && err.code === 'JW_INVALID_LOGIN') {
            return oauthError(reply, 401, { error: 'invalid_grant', error_description: 'invalid username or password' });
          }
          if (err instanceof ApiError && err.code === 'JW_TOO_MANY_LOGINS') {
            return oauthError(reply, 429, { error: 'slow_down', error_description: err.message });
          }
          throw err;
        }
      });
    },
  );
}
