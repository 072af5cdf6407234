// The idtoken var source end to end (Concourse 7.11; testflight/idtoken_test.go): a build's
// `((oidc:token))` is a JWT signed with the web nodes' key kept in Postgres, with the build's
// team, pipeline and job; it verifies against /.well-known/jwks.json as a cloud provider checks
// it; the build log shows it redacted; a second build signs with the same key.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createPublicKey, verify, type JsonWebKey } from 'node:crypto';
import { startApi, type TestApi } from './helpers.ts';
import { startTestNode, type TestNode } from '../support/node.ts';
import { PostgresSigningKeys } from '../../src/db/signing-keys.ts';

let node: TestNode;
let api: TestApi;
before(async () => {
  node = await startTestNode({ signingKeys: true });
  api = await startApi({ signingKeys: new PostgresSigningKeys(node.tdb.db), externalUrl: 'http://jetway.test' }, node.tdb);
});
after(async () => {
  await api.close();
  await node.stop();
});

const PIPELINE = `
var_sources:
- name: oidc
  type: idtoken
  config: {audience: [sts.example.com], subject_scope: job, expires_in: 10m}
jobs:
- name: deploy
  plan:
  - task: assume-role
    config:
      platform: linux
      params: {TOKEN: ((oidc:token))}
      run: {path: sh, args: [-c, 'echo "token: $TOKEN"; echo "reversed: $(printf %s "$TOKEN" | rev)"']}
`;

test("a build's idtoken verifies against the served JWKS, with the build's claims, and is redacted in its log", async () => {
  const id = await node.setPipeline('cloud', PIPELINE);
  const build = await node.trigger(id, 'deploy');
  const logs = await node.logs(build.id);
  assert.equal(build.status, 'succeeded', logs);
  assert.match(logs, /^token: \(\(redacted\)\)$/m);
  const token = [...(/^reversed: (\S+)$/m.exec(logs)?.[1] ?? '')].reverse().join('');
  const [h, p, sig] = token.split('.') as [string, string, string];
  const header = JSON.parse(Buffer.from(h, 'base64url').toString()) as { alg: string; kid: string };
  const claims = JSON.parse(Buffer.from(p, 'base64url').toString()) as Record<string, unknown>;
  assert.equal(header.alg, 'RS256');
  assert.deepEqual({ iss: claims.iss, aud: claims.aud, sub: claims.sub, team: claims.team, pipeline: claims.pipeline, job: claims.job }, {
    iss: 'http://jetway.test',
    aud: 'sts.example.com',
    sub: 'main/cloud//deploy',
    team: 'main',
    pipeline: 'cloud',
    job: 'deploy',
  });
  assert.equal((claims.exp as number) - (claims.iat as number), 600);

  const discovery = await api.app.inject({ url: '/.well-known/openid-configuration' });
  assert.equal(discovery.statusCode, 200);
  assert.equal((discovery.json() as { jwks_uri: string }).jwks_uri, 'http://jetway.test/.well-known/jwks.json');
  const keys = await api.app.inject({ url: '/.well-known/jwks.json' });
  assert.equal(keys.statusCode, 200);
  const jwk = (keys.json() as { keys: { kid: string; d?: string }[] }).keys.find((k) => k.kid === header.kid);
  assert.ok(jwk, 'the signing key is published');
  assert.equal(jwk.d, undefined, 'never its private part');
  assert.ok(verify('sha256', Buffer.from(`${h}.${p}`), createPublicKey({ key: jwk as JsonWebKey, format: 'jwk' }), Buffer.from(sig, 'base64url')));

  // the next build signs with the same key (one key per kind until it is a week old)
  const again = await node.trigger(id, 'deploy');
  const second = [...(/^reversed: (\S+)$/m.exec(await node.logs(again.id))?.[1] ?? '')].reverse().join('');
  assert.equal((JSON.parse(Buffer.from(second.split('.')[0]!, 'base64url').toString()) as { kid: string }).kid, header.kid);
  assert.equal((keys.json() as { keys: unknown[] }).keys.length, 1);
});

test('an invalid idtoken config is refused when the pipeline is set, naming the setting', async () => {
  await assert.rejects(node.setPipeline('bad-oidc', PIPELINE.replace('expires_in: 10m', 'expires_in: 48h')), /bad-oidc.yml:5:11: error: var_sources.oidc.config: invalid idtoken config: expires_in must be <= 24h0m0s/);
});
