// OIDC discovery for the idtoken var source (atc/api/idtokenserver): the issuer is the web node's
// external URL; /.well-known/jwks.json publishes the recent signing keys' public halves, which a
// cloud provider fetches to verify a build's token. Public, as Concourse's.
import type { FastifyInstance } from 'fastify';
import { jwks, openIdConfiguration } from '../../creds/idtoken/token.ts';
import { publishedKeys } from '../../creds/idtoken/keys.ts';
import type { ApiServerOptions } from '../context.ts';

export function registerOidcRoutes(app: FastifyInstance, opts: ApiServerOptions): void {
  const issuer = opts.externalUrl.replace(/\/+$/, '');
  app.get('/.well-known/openid-configuration', { config: { public: true } }, async () => openIdConfiguration(issuer));
  app.get('/.well-known/jwks.json', { config: { public: true } }, async () => jwks(opts.signingKeys ? await publishedKeys(opts.signingKeys, new Date()) : []));
}
