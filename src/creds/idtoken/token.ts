// The idtoken var source (Concourse 7.11; atc/creds/idtoken): `((source:token))` is a JWT the web
// node signs for the build's team, pipeline and job, which cloud providers trust through the
// web node's OIDC discovery (`/.well-known/openid-configuration`, `/.well-known/jwks.json`), so a
// build assumes a role without a stored secret. Pure: the config's checks, the subject and
// claims, signing and the JWKS from keys given (their storage and rotation are elsewhere).
import { createPrivateKey, createPublicKey, sign, type JsonWebKey, type KeyObject } from 'node:crypto';
import { parseIdTokenConfig, type IdTokenConfig, type SubjectScope } from '../../config/idtoken-config.ts';

export { parseIdTokenConfig, type IdTokenConfig, type SubjectScope };

export interface TokenContext {
  team: string;
  pipeline: string;
  job: string;
  instanceVars?: Record<string, unknown>;
}

const escapeSlashes = (s: string): string => s.replaceAll('/', '%2F');

/** Concourse's subject for a scope (generateSubject): slashes in names escaped. */
export function subjectOf(scope: SubjectScope, ctx: TokenContext): string {
  const team = escapeSlashes(ctx.team);
  const pipeline = escapeSlashes(ctx.pipeline);
  const vars = escapeSlashes(instanceVarsString(ctx.instanceVars));
  const job = escapeSlashes(ctx.job);
  switch (scope) {
    case 'team':
      return team;
    case 'instance':
      return `${team}/${pipeline}/${vars}`;
    case 'job':
      return `${team}/${pipeline}/${vars}/${job}`;
    case 'pipeline':
      return `${team}/${pipeline}`;
  }
}

/** Instance vars as Concourse's InstanceVars.String(): `key:value` pairs, sorted, comma-separated. */
function instanceVarsString(vars: Record<string, unknown> | undefined): string {
  if (!vars) return '';
  const flat: string[] = [];
  const walk = (prefix: string, v: unknown): void => {
    if (v !== null && typeof v === 'object' && !Array.isArray(v)) for (const [k, inner] of Object.entries(v as Record<string, unknown>)) walk(prefix ? `${prefix}.${k}` : k, inner);
    else flat.push(`${prefix}:${typeof v === 'string' ? v : JSON.stringify(v)}`);
  };
  walk('', vars);
  return flat.sort().join(',');
}

/** A signing key: its id (the JWT's `kid`), algorithm family and private JWK. */
export interface SigningKey {
  kid: string;
  kind: 'RSA' | 'EC';
  privateJwk: JsonWebKey;
}

const b64url = (v: string | Buffer): string => Buffer.from(v).toString('base64url');

/** The signed JWT for a build (Concourse's claims: iss, iat, aud, sub, exp, team, pipeline, job, instance_vars). */
export function signIdToken(cfg: IdTokenConfig, issuer: string, key: SigningKey, ctx: TokenContext, now: Date): { token: string; expiresAt: Date } {
  const iat = Math.floor(now.getTime() / 1000);
  const exp = iat + Math.floor(cfg.expiresInMs / 1000);
  const claims = {
    iss: issuer,
    iat,
    ...(cfg.audience.length > 0 ? { aud: cfg.audience.length === 1 ? cfg.audience[0] : cfg.audience } : {}),
    sub: subjectOf(cfg.subjectScope, ctx),
    exp,
    team: ctx.team,
    pipeline: ctx.pipeline,
    job: ctx.job,
    ...(ctx.instanceVars && Object.keys(ctx.instanceVars).length > 0 ? { instance_vars: ctx.instanceVars } : {}),
  };
  const header = { alg: cfg.algorithm, kid: key.kid, typ: 'JWT' };
  const input = `${b64url(JSON.stringify(header))}.${b64url(JSON.stringify(claims))}`;
  const privateKey: KeyObject = createPrivateKey({ key: key.privateJwk, format: 'jwk' });
  // ES256's JOSE signature is r||s (IEEE P1363), not DER
  const signature = sign('sha256', Buffer.from(input), cfg.algorithm === 'ES256' ? { key: privateKey, dsaEncoding: 'ieee-p1363' } : privateKey);
  return { token: `${input}.${b64url(signature)}`, expiresAt: new Date(exp * 1000) };
}

/** The public JWKS of the keys (`/.well-known/jwks.json`): no private part ever. */
export function jwks(keys: readonly SigningKey[]): { keys: JsonWebKey[] } {
  return {
    keys: keys.map((k) => {
      const pub = createPublicKey({ key: k.privateJwk, format: 'jwk' }).export({ format: 'jwk' });
      return { ...pub, kid: k.kid, use: 'sig', alg: k.kind === 'RSA' ? 'RS256' : 'ES256' };
    }),
  };
}

/** `/.well-known/openid-configuration` as Concourse serves it (atc/api/idtokenserver/openid_discovery.go). */
export function openIdConfiguration(issuer: string): Record<string, unknown> {
  return {
    issuer,
    jwks_uri: `${issuer}/.well-known/jwks.json`,
    claims_supported: ['aud', 'iat', 'iss', 'sub'],
    response_types_supported: ['idtoken'],
    id_token_signing_alg_values_supported: ['RS256', 'ES256'],
    subject_types_supported: ['public'],
  };
}
