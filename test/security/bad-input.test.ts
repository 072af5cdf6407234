// Finding 7 of issue 16: input that used to reach the database (and come back as a 500 with
// Postgres's text) is a 400 naming the field; names that become paths or URLs are refused; a
// truncated upload is refused and leaves nothing behind.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tar from 'tar';
import type { LightMyRequestResponse } from 'fastify';
import { startTenants, type Tenants } from './tenants.ts';

let t: Tenants;
let dir: string;

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'jw-sec-input-'));
  t = await startTenants({ artifactsDir: join(dir, 'store') });
  const set = await t.as('alice', 'PUT', '/api/v1/teams/a/pipelines/p/config', PIPELINE, { 'content-type': 'application/x-yaml' });
  assert.equal(set.statusCode, 201, set.body);
});
after(async () => {
  await t?.close();
  rmSync(dir, { recursive: true, force: true });
});

const PIPELINE = `resources:
- name: r
  type: mock
  source: {}
jobs:
- name: j
  plan:
  - get: r
`;

/** A 400 with the code and a message (or messages) matching; never the database's words. */
function refused(res: LightMyRequestResponse, code: string, message: RegExp): void {
  assert.equal(res.statusCode, 400, res.body);
  const body = res.json<{ code: string; error?: string; errors?: string[] }>();
  assert.equal(body.code, code, res.body);
  const text = body.error ?? (body.errors ?? []).join('\n');
  assert.match(text, message);
  assert.doesNotMatch(res.body, /invalid byte sequence|unsupported Unicode|out of range for type|SQLSTATE|postgres/i);
}

const yaml = { 'content-type': 'application/x-yaml' };

test('NUL bytes, slashes and .. in names in the path are a 400 naming the parameter', async () => {
  refused(await t.as('admin', 'PUT', '/api/v1/teams/x%00y', { auth: { owner: { users: ['local:bob'] } } }), 'JW_BAD_REQUEST', /^path parameter team: "x\\u0000y" must not contain control characters \(found U\+0000\)$/);
  refused(await t.as('alice', 'PUT', '/api/v1/teams/a/pipelines/p%00q/config', PIPELINE, yaml), 'JW_BAD_REQUEST', /^path parameter pipeline: .* must not contain control characters/);
  refused(await t.as('alice', 'PUT', '/api/v1/teams/a/pipelines/..%2F..%2Fetc/config', PIPELINE, yaml), 'JW_BAD_REQUEST', /^path parameter pipeline: "..\/..\/etc" must not contain '\/'/);
  refused(await t.as('alice', 'GET', '/api/v1/teams/a/pipelines/p/jobs/j%0Ax'), 'JW_BAD_REQUEST', /^path parameter job: "j\\nx" must not contain control characters/);
  refused(await t.as('alice', 'GET', '/api/v1/teams/a/pipelines/p/resources/r%2F..'), 'JW_BAD_REQUEST', /^path parameter resource: "r\/\.\." must not contain '\/'/);
});

test('names in a pipeline config that become paths are refused with the config path', async () => {
  const bad = PIPELINE.replace('- name: j', '- name: "../../j"').replace('- name: r', '- name: "r\\x01"').replace('get: r', 'get: "r\\x01"');
  const res = await t.as('alice', 'PUT', '/api/v1/teams/a/pipelines/q/config', bad, yaml);
  refused(res, 'JW_INVALID_CONFIG', /jobs\[0\]\.name: "\.\.\/\.\.\/j" must not contain '\/'/);
  assert.match(res.json<{ errors: string[] }>().errors.join('\n'), /resources\[0\]\.name: "r\\u0001" must not contain control characters/);
  const nul = await t.as('alice', 'PUT', '/api/v1/teams/a/pipelines/q/config', PIPELINE.replace('source: {}', 'source: {x: "a\\0b"}'), yaml);
  refused(nul, 'JW_INVALID_CONFIG', /^config\.resources\[0\]\.source\.x: must not contain a NUL character$/);
  const absent = await t.as('alice', 'GET', '/api/v1/teams/a/pipelines/q');
  assert.equal(absent.statusCode, 404, 'nothing was saved');
});

test('out-of-range ?from=, ?to=, ?limit= and ids are a 400 naming the parameter', async () => {
  refused(await t.as('alice', 'GET', '/api/v1/teams/a/pipelines/p/jobs/j/builds?from=99999999999'), 'JW_INVALID_REQUEST', /query\.from: from must be at most 2147483647/);
  refused(await t.as('alice', 'GET', '/api/v1/teams/a/builds?to=99999999999999999999999'), 'JW_INVALID_REQUEST', /query\.to: to must be at most 2147483647/);
  refused(await t.as('alice', 'GET', '/api/v1/teams/a/pipelines/p/resources/r/versions?limit=1e9'), 'JW_INVALID_REQUEST', /query\.limit: limit must be a non-negative integer/);
  refused(await t.as('alice', 'GET', '/api/v1/builds/99999999999'), 'JW_BAD_REQUEST', /build id 99999999999 is out of range/);
});

test('instance vars with NUL characters or unsafe names are a 400', async () => {
  refused(await t.as('alice', 'GET', `/api/v1/teams/a/pipelines/p?vars=${encodeURIComponent('{"v":"a\\u0000"}')}`), 'JW_BAD_REQUEST', /^query parameter vars\.v: must not contain a NUL character$/);
  refused(await t.as('alice', 'GET', `/api/v1/teams/a/pipelines/p?vars.${encodeURIComponent('x/y')}=1`), 'JW_BAD_REQUEST', /^query parameter vars: the instance var name "x\/y" must not contain '\/'/);
});

test('a truncated tar upload is refused and leaves nothing behind', async () => {
  const src = mkdtempSync(join(dir, 'src-'));
  writeFileSync(join(src, 'one'), Buffer.alloc(5000, 1));
  writeFileSync(join(src, 'two'), Buffer.alloc(5000, 2));
  const chunks: Buffer[] = [];
  for await (const c of tar.c({ cwd: src, portable: true }, ['one', 'two'])) chunks.push(c as Buffer);
  const whole = Buffer.concat(chunks);
  const gz: Buffer[] = [];
  for await (const c of tar.c({ gzip: true, cwd: src, portable: true }, ['one', 'two'])) gz.push(c as Buffer);
  const rows = async () => (await t.api.t.db.query<{ n: number }>('SELECT count(*)::int AS n FROM artifacts')).rows[0]!.n;
  const before = await rows();
  // cut inside an entry, cut exactly between the two entries (512-byte header + 5120 bytes), and a cut gzip stream
  for (const [body, type] of [
    [whole.subarray(0, 3000), 'application/x-tar'],
    [whole.subarray(0, 512 + 5120), 'application/x-tar'],
    [Buffer.concat(gz).subarray(0, 60), 'application/gzip'],
  ] as const) {
    const res = await t.as('bob', 'POST', '/api/v1/teams/b/artifacts', body, { 'content-type': type });
    refused(res, 'JW_INVALID_ARTIFACT', /not a (complete )?tar archive/);
  }
  assert.equal(await rows(), before, 'no artifact was recorded');
  const uploads = readdirSync(join(dir, 'store', 'uploads'), { recursive: true }).filter((f) => String(f).endsWith('.tar'));
  assert.deepEqual(uploads, [], 'no file was left in the upload directory');
  const ok = await t.as('bob', 'POST', '/api/v1/teams/b/artifacts', whole, { 'content-type': 'application/x-tar' });
  assert.equal(ok.statusCode, 201, 'the whole archive is accepted');
});

test('renames to unsafe names are refused', async () => {
  refused(await t.as('alice', 'PUT', '/api/v1/teams/a/pipelines/p/rename', { name: 'a/b' }), 'JW_INVALID_REQUEST', /^body\.name: "a\/b" must not contain '\/'/);
  refused(await t.as('admin', 'PUT', '/api/v1/teams/b/rename', { name: 'b\u0000' }), 'JW_INVALID_TEAM_NAME', /^name: "b\\u0000" must not contain control characters/);
});

test('which names are unsafe', async () => {
  const { unsafeNameProblem } = await import('../../src/api/names.ts');
  assert.equal(unsafeNameProblem('..'), "must not be '..'");
  assert.equal(unsafeNameProblem('.'), "must not be '.'");
  assert.equal(unsafeNameProblem('a\\b'), "must not contain '/' or '\\'");
  assert.equal(unsafeNameProblem('x\u007f'), 'must not contain control characters (found U+007F)');
  for (const ok of ['a..b', 'my-job_1.2', 'ünïcode', 'with space']) assert.equal(unsafeNameProblem(ok), undefined, ok);
});
