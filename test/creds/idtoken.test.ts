// The idtoken var source's pure parts (src/creds/idtoken/token.ts), as Concourse's
// atc/creds/idtoken (manager.go's config checks, token_generator.go's subject and claims): one row
// per test, and a token verified against the JWKS served, as a cloud provider verifies it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createPublicKey, generateKeyPairSync, verify } from 'node:crypto';
import { jwks, openIdConfiguration, parseIdTokenConfig, signIdToken, subjectOf, type SigningKey } from '../../src/creds/idtoken/token.ts';

const configRows: [string, Record<string, unknown> | undefined, unknown][] = [
  ['defaults', undefined, { ok: true, config: { audience: [], subjectScope: 'pipeline', expiresInMs: 3_600_000, algorithm: 'RS256' } }],
  ['every key', { audience: ['sts.amazonaws.com'], subject_scope: 'job', expires_in: '15m', algorithm: 'ES256' }, { ok: true, config: { audience: ['sts.amazonaws.com'], subjectScope: 'job', expiresInMs: 900_000, algorithm: 'ES256' } }],
  ['audience not a list', { audience: 'x' }, { ok: false, error: 'audience must be a list of strings' }],
  ['an unknown scope', { subject_scope: 'world' }, { ok: false, error: 'invalid subject_scope value: world (team, pipeline, instance or job)' }],
  ['expires_in over a day', { expires_in: '25h' }, { ok: false, error: 'expires_in must be <= 24h0m0s' }],
  ['expires_in not a duration', { expires_in: 'soon' }, { ok: false, error: 'invalid expires_in value: soon' }],
  ['an unsupported algorithm', { algorithm: 'HS256' }, { ok: false, error: 'invalid algorithm value: HS256. Only RS256 and ES256 are supported' }],
  ['an unknown key', { audiences: ['x'] }, { ok: false, error: 'unknown setting: audiences' }],
];
for (const [name, config, want] of configRows) test(`idtoken config: ${name}`, () => assert.deepEqual(parseIdTokenConfig(config), want));

const ctx = { team: 'main', pipeline: 'deploy/prod', job: 'ship', instanceVars: { branch: 'main' } };
const subjectRows: [Parameters<typeof subjectOf>[0], string][] = [
  ['team', 'main'],
  ['pipeline', 'main/deploy%2Fprod'],
  ['instance', 'main/deploy%2Fprod/branch:main'],
  ['job', 'main/deploy%2Fprod/branch:main/ship'],
];
for (const [scope, want] of subjectRows) test(`idtoken subject, scope ${scope}: ${want}`, () => assert.equal(subjectOf(scope, ctx), want));

function key(kind: 'RSA' | 'EC'): SigningKey {
  const { privateKey } = kind === 'RSA' ? generateKeyPairSync('rsa', { modulusLength: 2048 }) : generateKeyPairSync('ec', { namedCurve: 'P-256' });
  return { kid: `k-${kind}`, kind, privateJwk: privateKey.export({ format: 'jwk' }) };
}

for (const alg of ['RS256', 'ES256'] as const) {
  test(`a ${alg} token verifies against the served JWKS, with Concourse's claims`, () => {
    const k = key(alg === 'RS256' ? 'RSA' : 'EC');
    const parsed = parseIdTokenConfig({ audience: ['sts.amazonaws.com'], algorithm: alg, expires_in: '10m' });
    assert.ok(parsed.ok);
    const now = new Date('2026-12-04T04:00:00Z');
    const { token, expiresAt } = signIdToken(parsed.config, 'https://ci.example.com', k, ctx, now);
    assert.equal(expiresAt.toISOString(), '2026-12-04T04:10:00.000Z');
    const [h, p, sig] = token.split('.') as [string, string, string];
    const header = JSON.parse(Buffer.from(h, 'base64url').toString()) as { alg: string; kid: string };
    assert.deepEqual(header, { alg, kid: k.kid, typ: 'JWT' });
    assert.deepEqual(JSON.parse(Buffer.from(p, 'base64url').toString()), {
      iss: 'https://ci.example.com',
      iat: 1796356800,
      aud: 'sts.amazonaws.com',
      sub: 'main/deploy%2Fprod',
      exp: 1796357400,
      team: 'main',
      pipeline: 'deploy/prod',
      job: 'ship',
      instance_vars: { branch: 'main' },
    });
    const served = jwks([k]).keys.find((j) => j.kid === header.kid);
    assert.ok(served);
    assert.equal((served as { d?: string }).d, undefined, 'no private part in the JWKS');
    const pub = createPublicKey({ key: served, format: 'jwk' });
    assert.ok(verify('sha256', Buffer.from(`${h}.${p}`), alg === 'ES256' ? { key: pub, dsaEncoding: 'ieee-p1363' } : pub, Buffer.from(sig, 'base64url')));
    // a changed claim fails the signature
    const forged = Buffer.from(JSON.stringify({ sub: 'other/team' })).toString('base64url');
    assert.equal(verify('sha256', Buffer.from(`${h}.${forged}`), alg === 'ES256' ? { key: pub, dsaEncoding: 'ieee-p1363' } : pub, Buffer.from(sig, 'base64url')), false);
  });
}

test("the OpenID configuration names the issuer and its JWKS, as Concourse's", () => {
  assert.deepEqual(openIdConfiguration('https://ci.example.com'), {
    issuer: 'https://ci.example.com',
    jwks_uri: 'https://ci.example.com/.well-known/jwks.json',
    claims_supported: ['aud', 'iat', 'iss', 'sub'],
    response_types_supported: ['idtoken'],
    id_token_signing_alg_values_supported: ['RS256', 'ES256'],
    subject_types_supported: ['public'],
  });
});
