import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startApi, PASSWORD, type TestApi } from './helpers.ts';
import { LocalAuth, parseLocalUser } from '../../src/api/index.ts';
import { localUserInfo } from '../support/user-info.ts';
import { CONCOURSE_COMPATIBLE_VERSION } from '../../src/version.ts';

let api: TestApi;
before(async () => {
  api = await startApi();
});
after(async () => {
  await api.close();
});

test('health and info answer without a token', async () => {
  const health = await api.app.inject({ url: '/api/v1/health' });
  assert.equal(health.statusCode, 200);
  const info = await api.app.inject({ url: '/api/v1/info' });
  assert.equal(info.statusCode, 200);
  assert.deepEqual(info.json(), {
    version: CONCOURSE_COMPATIBLE_VERSION,
    jetway_version: '0.1.0-test',
    worker_version: CONCOURSE_COMPATIBLE_VERSION,
    feature_flags: {},
    external_url: 'http://jetway.example:8080',
    cluster_name: '',
  });
});

test('every other route needs a token: 401 with a JSON message', async () => {
  for (const url of ['/api/v1/builds', '/api/v1/teams', '/api/v1/teams/main/pipelines/p/config', '/api/v1/builds/1']) {
    const res = await api.app.inject({ url });
    assert.equal(res.statusCode, 401, url);
    assert.match((res.json() as { error: string }).error, /not authorized: log in first/);
    assert.equal(res.json<{ code: string }>().code, 'JW_UNAUTHORIZED');
  }
  const put = await api.app.inject({
    method: 'PUT',
    url: '/api/v1/teams/main/pipelines/p/config',
    headers: { 'content-type': 'application/x-yaml' },
    payload: 'jobs: []',
  });
  assert.equal(put.statusCode, 401);
  const bogus = await api.app.inject({ url: '/api/v1/pipelines', headers: { authorization: 'Bearer nope' } });
  assert.equal(bogus.statusCode, 401);
  assert.match(bogus.body, /invalid token/);
  const basic = await api.app.inject({ url: '/api/v1/pipelines', headers: { authorization: 'Basic YTpi' } });
  assert.equal(basic.statusCode, 401);
  assert.match(basic.body, /Bearer <token>/);
});

test('a token from POST /api/v1/token works, and is stored only hashed', async () => {
  const res = await api.app.inject({ url: '/api/v1/user', headers: api.auth() });
  assert.equal(res.statusCode, 200);
  assert.deepEqual(res.json(), localUserInfo('admin', { main: ['owner'] }, true));
  const teams = await api.app.inject({ url: '/api/v1/teams', headers: api.auth() });
  assert.deepEqual(teams.json(), [{ id: 1, name: 'main', auth: { owner: { users: ['local:admin', 'local:other'], groups: [] } } }]);
  const stored = await api.t.db.query<{ token_sha256: string }>('SELECT token_sha256 FROM access_tokens');
  assert.ok(stored.rows.length >= 1);
  assert.ok(stored.rows.every((r) => r.token_sha256 !== api.token && /^[0-9a-f]{64}$/.test(r.token_sha256)));
});

test('the OAuth2 password grant form is accepted too', async () => {
  const res = await api.app.inject({
    method: 'POST',
    url: '/api/v1/token',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    payload: 'grant_type=password&username=other&password=pw%3Awith%3Acolons',
  });
  assert.equal(res.statusCode, 200);
  const body = res.json() as { token_type: string; username: string; expires_in: number };
  assert.equal(body.token_type, 'bearer');
  assert.equal(body.username, 'other');
  assert.ok(body.expires_in > 3600);
});

test('a wrong password is 401 and the password is in no log line', async () => {
  const wrong = 'Wr0ng-Pa55word-XYZ';
  const res = await api.app.inject({ method: 'POST', url: '/api/v1/token', payload: { username: 'admin', password: wrong } });
  assert.equal(res.statusCode, 401);
  assert.deepEqual(res.json(), { error: 'invalid username or password', code: 'JW_INVALID_LOGIN' });
  const unknown = await api.app.inject({ method: 'POST', url: '/api/v1/token', payload: { username: 'nobody', password: wrong } });
  assert.equal(unknown.statusCode, 401);
  assert.ok(api.logs.some((l) => /login failed/.test(l)), 'the failure is logged');
  for (const line of api.logs) {
    assert.ok(!line.includes(wrong), `a log line contains the password: ${line}`);
    assert.ok(!line.includes(PASSWORD), `a log line contains the password: ${line}`);
    assert.ok(!line.includes(api.token), `a log line contains the token: ${line}`);
  }
});

test('a bad token request body names the field', async () => {
  const res = await api.app.inject({ method: 'POST', url: '/api/v1/token', payload: { username: 'admin' } });
  assert.equal(res.statusCode, 400);
  assert.deepEqual(res.json(), { errors: ['body.password: Invalid input: expected string, received undefined'], code: 'JW_INVALID_REQUEST' });
  const notJson = await api.app.inject({
    method: 'POST',
    url: '/api/v1/token',
    headers: { 'content-type': 'application/json' },
    payload: '{"username": ',
  });
  assert.equal(notJson.statusCode, 400);
  assert.match((notJson.json() as { error: string }).error, /not valid JSON/);
  assert.equal(notJson.json<{ code: string }>().code, 'JW_INVALID_JSON');
});

test('an expired token is refused with a clear message', async () => {
  await api.t.db.query(`UPDATE access_tokens SET expires_at = now() - interval '1 second'`);
  await api.lookups.heardUpTo(); // the node keeps tokens: it hears the change (migration 0025)
  const res = await api.app.inject({ url: '/api/v1/pipelines', headers: api.auth() });
  assert.equal(res.statusCode, 401);
  assert.match(res.body, /token expired; log in again/);
  // a fresh login works again
  const login = await api.app.inject({ method: 'POST', url: '/api/v1/token', payload: { username: 'admin', password: PASSWORD } });
  api.token = (login.json() as { access_token: string }).access_token;
  assert.equal((await api.app.inject({ url: '/api/v1/pipelines', headers: api.auth() })).statusCode, 200);
});

test('teams scope routes: another team is 403', async () => {
  const res = await api.app.inject({ url: '/api/v1/teams/other/pipelines/p/config', headers: api.auth() });
  assert.equal(res.statusCode, 403);
  assert.match(res.body, /user admin is not a member of team other/);
});

test('parseLocalUser keeps colons in the password and refuses malformed specs', () => {
  assert.deepEqual(parseLocalUser('a:b:c'), { name: 'a', password: 'b:c' });
  assert.throws(() => parseLocalUser('nopassword'), /name:password/);
  assert.throws(() => parseLocalUser(':pw'), /name:password/);
  assert.throws(() => new LocalAuth({ users: ['bad'] }), /name:password/);
});

test('DELETE /api/v1/token revokes the token it carries; unknown ones get the same 204', async () => {
  const login = await api.app.inject({ method: 'POST', url: '/api/v1/token', payload: { username: 'other', password: 'pw:with:colons' } });
  const token = (login.json() as { access_token: string }).access_token;
  assert.equal((await api.app.inject({ url: '/api/v1/user', headers: api.auth(token) })).statusCode, 200);
  const res = await api.app.inject({ method: 'DELETE', url: '/api/v1/token', headers: api.auth(token) });
  assert.equal(res.statusCode, 204);
  const after = await api.app.inject({ url: '/api/v1/user', headers: api.auth(token) });
  assert.equal(after.statusCode, 401);
  assert.match(after.body, /invalid token/);
  // the other tokens are untouched
  assert.equal((await api.app.inject({ url: '/api/v1/user', headers: api.auth() })).statusCode, 200);
  assert.equal((await api.app.inject({ method: 'DELETE', url: '/api/v1/token', headers: api.auth(token) })).statusCode, 204);
  assert.equal((await api.app.inject({ method: 'DELETE', url: '/api/v1/token', headers: api.auth('nope') })).statusCode, 204);
  const none = await api.app.inject({ method: 'DELETE', url: '/api/v1/token' });
  assert.equal(none.statusCode, 401);
  assert.match(none.body, /Authorization: Bearer <token>/);
  assert.ok(api.logs.some((l) => /token revoked/.test(l) && /"username":"other"/.test(l)), 'the revocation is logged');
  for (const line of api.logs) assert.ok(!line.includes(token), `a log line contains the token: ${line}`);
});
