// The session commands against a real API server: targets, logout, status, userinfo, curl.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer, type AddressInfo } from 'node:net';
import { parse, stringify } from 'yaml';
import { jetway, startCliServer, PASSWORD, type CliServer, revokeAllTokens } from './client-support.ts';
import { localUserInfo } from '../support/user-info.ts';

type Rc = { targets: Record<string, { api: string; team: string; token?: { type: string; value: string; expiry?: string } }> };

let s: CliServer;
/** A URL where nothing listens. */
let downUrl: string;
before(async () => {
  s = await startCliServer();
  const port = await new Promise<number>((resolve) => {
    const srv = createServer().listen(0, '127.0.0.1', () => {
      const p = (srv.address() as AddressInfo).port;
      srv.close(() => resolve(p));
    });
  });
  downUrl = `http://127.0.0.1:${port}`;
});
after(async () => {
  await s.close();
});

const rcPath = (): string => join(s.home, '.jetwayrc');
const readRc = (): Rc => parse(readFileSync(rcPath(), 'utf8')) as Rc;
const writeRc = (rc: Rc): void => writeFileSync(rcPath(), stringify(rc), { mode: 0o600 });
/** For the tests that assert on the whole file: no targets from earlier tests. */
const clearRc = (): void => writeRc({ targets: {} });

async function login(name: string, user = 'admin', password = PASSWORD): Promise<string> {
  const r = await jetway('login', '-t', name, '-c', s.url, '-u', user, '-p', password);
  assert.equal(r.code, 0, r.err);
  const token = readRc().targets[name]?.token?.value;
  assert.ok(token);
  return token;
}

/** Whether the server still accepts the token. */
async function works(token: string): Promise<boolean> {
  const res = await fetch(`${s.url}/api/v1/user`, { headers: { authorization: `Bearer ${token}` } });
  return res.status === 200;
}

function assertNoSecret(text: string, ...secrets: string[]): void {
  for (const secret of [PASSWORD, ...secrets]) assert.ok(!text.includes(secret), `a secret is printed:\n${text}`);
}

test('targets lists the saved targets sorted, with the expiry login saved, never a token', async () => {
  const ci = await login('ci');
  const other = await login('a-other', 'other', 'pw:with:colons');
  const expiry = readRc().targets.ci?.token?.expiry;
  assert.ok(expiry && Date.parse(expiry) > Date.now(), `login saves the token's expiry (got ${expiry})`);

  const r = await jetway('targets');
  assert.equal(r.code, 0, r.err);
  const lines = r.out.trimEnd().split('\n');
  assert.match(lines[0] ?? '', /^name\s+url\s+team\s+expiry$/);
  // fly/commands/targets.go: the expiry in UTC, RFC 1123
  const rfc1123 = '[A-Z][a-z]{2}, \\d\\d [A-Z][a-z]{2} \\d{4} \\d\\d:\\d\\d:\\d\\d UTC';
  assert.match(lines[1] ?? '', new RegExp(`^a-other\\s+${s.url}\\s+main\\s+${rfc1123}$`));
  assert.match(lines[2] ?? '', new RegExp(`^ci\\s+${s.url}\\s+main\\s+${rfc1123}$`));
  assert.equal(lines.length, 3);
  assertNoSecret(r.out + r.err, ci, other);

  const alias = await jetway('ts');
  assert.equal(alias.out, r.out);

  const j = await jetway('targets', '--output', 'json');
  assert.equal(j.code, 0, j.err);
  assert.deepEqual(JSON.parse(j.out), [
    { name: 'a-other', url: s.url, team: 'main', has_token: true, expiry: readRc().targets['a-other']?.token?.expiry, expired: false },
    { name: 'ci', url: s.url, team: 'main', has_token: true, expiry, expired: false },
  ]);
  assertNoSecret(j.out, ci, other);
  assert.equal((await jetway('targets', '--json')).out, j.out);
  const bad = await jetway('targets', '-o', 'xml');
  assert.equal(bad.code, 2);
  assert.match(bad.err, /unknown output format 'xml'/);
});

test('targets: no token, a token without an expiry, an expired one; and no file at all', async () => {
  const home = process.env.HOME;
  process.env.HOME = mkdtempSync(join(tmpdir(), 'jetway-home-'));
  try {
    const empty = await jetway('targets', '-o', 'json');
    assert.equal(empty.code, 0, empty.err);
    assert.deepEqual(JSON.parse(empty.out), []);
    assert.equal((await jetway('targets')).out, 'name  url  team  expiry\n');

    writeFileSync(
      join(process.env.HOME, '.jetwayrc'),
      stringify({
        targets: {
          none: { api: 'http://a', team: 'main' },
          old: { api: 'http://b', team: 'dev', token: { type: 'bearer', value: 'old-token-value' } },
          gone: { api: 'http://c', team: 'main', token: { type: 'bearer', value: 'gone-token-value', expiry: '2001-02-03T04:05:06.000Z' } },
        },
      }),
    );
    const r = await jetway('targets');
    assert.equal(r.code, 0, r.err);
    assert.equal(
      r.out,
      'name  url       team  expiry\n' +
        'gone  http://c  main  Sat, 03 Feb 2001 04:05:06 UTC\n' +
        'none  http://a  main  n/a\n' +
        'old   http://b  dev   n/a: invalid token\n',
    );
    const j = JSON.parse((await jetway('targets', '-o', 'json')).out) as { name: string; has_token: boolean; expiry: string | null; expired: boolean | null }[];
    assert.deepEqual(
      j.map((t) => [t.name, t.has_token, t.expiry, t.expired]),
      [
        ['gone', true, '2001-02-03T04:05:06.000Z', true],
        ['none', false, null, null],
        ['old', true, null, null],
      ],
    );
  } finally {
    process.env.HOME = home;
  }
});

test('status: logged in; a token deleted on the server or garbage; no token; the server down', async () => {
  await login('ci');
  const ok = await jetway('status', '-t', 'ci');
  assert.equal(ok.code, 0, ok.err);
  assert.equal(ok.out, 'logged in successfully\n');

  await revokeAllTokens(s);
  const deleted = await jetway('status', '-t', 'ci');
  assert.equal(deleted.code, 1);
  assert.equal(deleted.out, '');
  assert.match(deleted.err, /^token expired or invalid: please login again: jetway login -t ci\n\(the server said: not authorized: invalid token/);

  const rc = readRc();
  const ci = rc.targets.ci;
  assert.ok(ci?.token);
  ci.token.value = 'garbage-token-value';
  writeRc(rc);
  const garbage = await jetway('status', '-t', 'ci');
  assert.equal(garbage.code, 1);
  assert.match(garbage.err, /token expired or invalid: please login again: jetway login -t ci/);
  assertNoSecret(garbage.out + garbage.err, 'garbage-token-value');

  delete ci.token;
  rc.targets.down = { api: downUrl, team: 'main', token: { type: 'bearer', value: 'down-token-value' } };
  writeRc(rc);
  const none = await jetway('status', '-t', 'ci');
  assert.equal(none.code, 1);
  assert.equal(none.err, 'logged out: no token is saved for target ci; log in: jetway login -t ci\n');

  const down = await jetway('status', '-t', 'down');
  assert.equal(down.code, 1);
  assert.equal(down.err, `error: could not reach the Jetway server at ${downUrl}: ECONNREFUSED\n`);

  const noTarget = await jetway('status');
  assert.equal(noTarget.code, 2);
  assert.match(noTarget.err, /pass -t <target>/);
  const unknown = await jetway('status', '-t', 'nope');
  assert.equal(unknown.code, 1);
  assert.match(unknown.err, /unknown target: nope/);
});

test('userinfo: the user and team/role pairs as a table, or the JSON', async () => {
  const token = await login('ci');
  const r = await jetway('userinfo', '-t', 'ci');
  assert.equal(r.code, 0, r.err);
  assert.equal(r.out, 'username  team/role   admin\nadmin     main/owner  yes\n');
  const j = await jetway('userinfo', '-t', 'ci', '--output', 'json');
  assert.equal(j.code, 0, j.err);
  assert.deepEqual(JSON.parse(j.out), localUserInfo('admin', { main: ['owner'] }, true));
  assertNoSecret(r.out + j.out, token);

  await revokeAllTokens(s);
  const refused = await jetway('userinfo', '-t', 'ci');
  assert.equal(refused.code, 1);
  assert.match(refused.err, /invalid token.*\n\(log in again: jetway login -t ci\) \(HTTP 401\)/);
});

test('curl: an authenticated GET prints the body', async () => {
  const token = await login('ci');
  const info = await jetway('curl', '-t', 'ci', '/api/v1/info');
  assert.equal(info.code, 0, info.err);
  assert.equal((JSON.parse(info.out) as { jetway_version: string }).jetway_version, '0.1.0-test');
  assert.ok(info.out.endsWith('}\n'), 'a JSON body ends with a newline');

  // only with the token: /user is not public
  const user = await jetway('curl', '-t', 'ci', '/api/v1/user');
  assert.equal(user.code, 0, user.err);
  assert.equal((JSON.parse(user.out) as { user_name: string }).user_name, 'admin');
  assertNoSecret(info.out + user.out + user.err, token);

  // the global -t works too
  assert.equal((await jetway('-t', 'ci', 'curl', '/api/v1/user')).code, 0);
});

test('curl: -d sends a body (POST by default, JSON by default); -X, -H and @file', async () => {
  await login('ci');
  const post = await jetway('curl', '-t', 'ci', '/api/v1/token', '-d', JSON.stringify({ username: 'other', password: 'pw:with:colons' }));
  assert.equal(post.code, 0, post.err);
  assert.equal((JSON.parse(post.out) as { username: string }).username, 'other');

  const file = join(s.dir, 'p.yml');
  writeFileSync(file, 'jobs:\n- name: j\n  plan:\n  - task: t\n    config: {platform: linux, run: {path: "true"}}\n');
  const put = await jetway('curl', '-t', 'ci', '-X', 'put', '-H', 'Content-Type: application/x-yaml', '-d', `@${file}`, '/api/v1/teams/main/pipelines/curled/config');
  assert.equal(put.code, 0, put.err);
  assert.deepEqual(JSON.parse(put.out), { warnings: [] });
  const list = await jetway('curl', '-t', 'ci', '/api/v1/teams/main/pipelines');
  assert.deepEqual(
    (JSON.parse(list.out) as { name: string }[]).map((p) => p.name),
    ['curled'],
  );

  // a form body, with its own content type
  const form = await jetway('curl', '-t', 'ci', '-H', 'content-type: application/x-www-form-urlencoded', '-d', 'username=admin&password=wrong', '/api/v1/token');
  assert.equal(form.code, 1);
  assert.match(form.err, /invalid username or password/);
});

test('curl: a non-2xx answer prints the body on stderr with the status and exits 1', async () => {
  await login('ci');
  const r = await jetway('curl', '-t', 'ci', '/api/v1/teams/main/pipelines/nope');
  assert.equal(r.code, 1);
  assert.equal(r.out, '');
  assert.match(r.err, /^\{"error":".*nope.*"\}\nerror: HTTP 404 Not Found\n$/);

  await revokeAllTokens(s);
  const refused = await jetway('curl', '-t', 'ci', '/api/v1/user');
  assert.equal(refused.code, 1);
  assert.match(refused.err, /invalid token.*\nerror: HTTP 401 Unauthorized\n\(log in again: jetway login -t ci\)\n$/);
});

test('curl --print-and-exit prints a curl command with the token redacted, and sends nothing', async () => {
  const token = await login('ci');
  const rc = readRc();
  // a target where nothing listens: printing must not need the server
  rc.targets.down = { api: downUrl, team: 'main', token: { type: 'bearer', value: token } };
  writeRc(rc);
  const get = await jetway('curl', '-t', 'down', '--print-and-exit', '/api/v1/info?x=1');
  assert.equal(get.code, 0, get.err);
  assert.equal(get.out, `curl -X GET -H 'accept: application/json' -H 'authorization: Bearer <redacted>' '${downUrl}/api/v1/info?x=1'\n`);
  assertNoSecret(get.out + get.err, token);

  const post = await jetway('curl', '-t', 'down', '--print-and-exit', '-d', `{"a": "it's"}`, '-H', 'X-Api-Key: key-value-123', '/api/v1/x');
  assert.equal(post.code, 0, post.err);
  assert.equal(
    post.out,
    `curl -X POST -H 'accept: application/json' -H 'content-type: application/json' -H 'x-api-key: <redacted>' ` +
      `-H 'authorization: Bearer <redacted>' --data-raw '{"a": "it'\\''s"}' ${downUrl}/api/v1/x\n`,
  );
  assertNoSecret(post.out, token, 'key-value-123');

  // an Authorization header given on the command line replaces the saved token, and is redacted too
  const own = await jetway('curl', '-t', 'down', '--print-and-exit', '-H', 'Authorization: Bearer my-own-secret', '-d', '@body.json', '-X', 'PUT', '/api/v1/y');
  assert.equal(own.code, 0, own.err);
  assert.equal(
    own.out,
    `curl -X PUT -H 'accept: application/json' -H 'content-type: application/json' -H 'authorization: Bearer <redacted>' --data-binary @body.json ${downUrl}/api/v1/y\n`,
  );
  assertNoSecret(own.out, token, 'my-own-secret');
});

test('curl: usage errors name the flag and never repeat a header', async () => {
  await login('ci');
  const noSlash = await jetway('curl', '-t', 'ci', 'api/v1/info');
  assert.equal(noSlash.code, 2);
  assert.match(noSlash.err, /<path> must be a path on the target's server, starting with \//);
  const url = await jetway('curl', '-t', 'ci', 'https://elsewhere.example/steal');
  assert.equal(url.code, 2, 'an absolute URL would send the token elsewhere');

  const header = await jetway('curl', '-t', 'ci', '-H', 'Authorization Bearer secret-in-bad-header', '/api/v1/info');
  assert.equal(header.code, 2);
  assert.match(header.err, /-H, --header must be 'Name: value' \(header 1 is not\)/);
  assertNoSecret(header.err, 'secret-in-bad-header');

  const getWithData = await jetway('curl', '-t', 'ci', '-X', 'GET', '-d', 'x', '/api/v1/info');
  assert.equal(getWithData.code, 2);
  assert.match(getWithData.err, /-d, --data cannot be sent with -X GET/);
  const method = await jetway('curl', '-t', 'ci', '-X', 'GET /x', '/api/v1/info');
  assert.equal(method.code, 2);
  assert.match(method.err, /-X, --method must be an HTTP method/);
  const missing = await jetway('curl', '-t', 'ci', '-d', `@${join(s.dir, 'missing.json')}`, '/api/v1/token');
  assert.equal(missing.code, 1);
  assert.match(missing.err, /-d, --data: cannot read .*missing\.json: ENOENT/);
  const noPath = await jetway('curl', '-t', 'ci');
  assert.equal(noPath.code, 2);
  assert.match(noPath.err, /missing required argument 'path'/);
  const down = await jetway('curl', '-t', 'nope', '/api/v1/info');
  assert.equal(down.code, 1);
  assert.match(down.err, /unknown target: nope/);
});

test('logout -t removes the target and revokes its token on the server', async () => {
  clearRc();
  const ci = await login('ci');
  const other = await login('other', 'other', 'pw:with:colons');
  const r = await jetway('logout', '-t', 'other');
  assert.equal(r.code, 0, r.err);
  assert.equal(r.out, 'logged out of target: other\n');
  assert.equal(r.err, '');
  assert.deepEqual(Object.keys(readRc().targets), ['ci']);
  assert.equal(await works(other), false, 'the revoked token no longer works');
  assert.equal(await works(ci), true, 'the other targets are untouched');
  assertNoSecret(r.out, other);
});

test('logout: a server that cannot be reached is a warning; the target is removed all the same', async () => {
  clearRc();
  await login('ci');
  const rc = readRc();
  rc.targets.down = { api: downUrl, team: 'main', token: { type: 'bearer', value: 'down-token-value' } };
  writeRc(rc);
  const r = await jetway('logout', '-t', 'down');
  assert.equal(r.code, 0, r.err);
  assert.equal(r.out, 'logged out of target: down\n');
  assert.equal(
    r.err,
    `warning: could not revoke the token of target down on the server: could not reach the Jetway server at ${downUrl}: ECONNREFUSED\n` +
      '(it stays valid there until it expires)\n',
  );
  assert.deepEqual(Object.keys(readRc().targets), ['ci']);
  assertNoSecret(r.err, 'down-token-value');
});

test('logout --all removes every target and revokes every token', async () => {
  const a = await login('a');
  const b = await login('b', 'other', 'pw:with:colons');
  const r = await jetway('logout', '--all');
  assert.equal(r.code, 0, r.err);
  assert.equal(r.out, 'logged out of all targets\n');
  assert.deepEqual(readRc(), { targets: {} });
  assert.equal(await works(a), false);
  assert.equal(await works(b), false);
  // nothing left: still fine
  assert.equal((await jetway('logout', '-a')).code, 0);
});

test('logout: neither -t nor --all, both, or an unknown target', async () => {
  clearRc();
  await login('ci');
  const neither = await jetway('logout');
  assert.equal(neither.code, 2);
  assert.match(neither.err, /no target specified: pass -t, --target <name> \(or -a, --all for every target\)/);
  const both = await jetway('logout', '-t', 'ci', '--all');
  assert.equal(both.code, 2);
  assert.match(both.err, /-t, --target and -a, --all cannot be combined/);
  const unknown = await jetway('logout', '-t', 'nope');
  assert.equal(unknown.code, 1);
  assert.equal(unknown.err, 'error: unknown target: nope\nknown targets: ci\n');
  assert.deepEqual(Object.keys(readRc().targets), ['ci'], 'nothing was removed');
});

test('--help of each session command describes it', async () => {
  for (const [cmd, text] of [
    ['targets', /List the saved targets/],
    ['logout', /--all\s+log out of every saved target/],
    ['status', /still valid/],
    ['userinfo', /teams and roles/],
    ['curl', /--print-and-exit\s+print the request as a curl command/],
  ] as const) {
    const r = await jetway(cmd, '--help');
    assert.equal(r.code, 0);
    assert.match(r.out, text, cmd);
  }
});
