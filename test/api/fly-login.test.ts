// A real `fly login -u -p` against Jetway, request by request as fly's source makes them
// (fly/commands/login.go: ValidateWithWarningOnly → GET /api/v1/info; passwordGrant → POST
// /sky/issuer/token through golang.org/x/oauth2 with fly's client; verifyTeamExists → GET
// /api/v1/user, and GET /api/v1/teams for an admin), each answer checked against the Go type
// fly decodes it into (atc.Info, oauth2's token JSON, atc.UserInfo).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startApi, PASSWORD, type TestApi } from './helpers.ts';
import { CONCOURSE_COMPATIBLE_VERSION, JETWAY_VERSION } from '../../src/version.ts';

let api: TestApi;
before(async () => {
  api = await startApi();
});
after(async () => {
  await api.close();
});

/** fly's client, as golang.org/x/oauth2 sends it first: HTTP Basic with form-encoded id and secret */
const FLY_BASIC = `Basic ${Buffer.from('fly:Zmx5').toString('base64')}`;
/** the body oauth2.Config.PasswordCredentialsToken posts (url.Values.Encode: sorted keys) */
function grantBody(username: string, password: string): string {
  return new URLSearchParams({ grant_type: 'password', password, scope: 'openid profile email federated:id groups', username }).toString();
}

/** `authorization`: null sends no Authorization header */
async function token(body: string, authorization: string | null = FLY_BASIC) {
  return api.app.inject({
    method: 'POST',
    url: '/sky/issuer/token',
    headers: { 'content-type': 'application/x-www-form-urlencoded', ...(authorization !== null ? { authorization } : {}) },
    payload: body,
  });
}

test("GET /api/v1/info: version is the Concourse release fly compares (major.minor), Jetway's own in jetway_version", async () => {
  const info = (await api.app.inject({ url: '/api/v1/info' })).json() as Record<string, unknown>;
  assert.equal(info.version, CONCOURSE_COMPATIBLE_VERSION);
  assert.match(String(info.version), /^\d+\.\d+\.\d+$/); // fly's version.GetSemver parses it
  assert.equal(info.jetway_version, '0.1.0-test');
  assert.equal(typeof info.worker_version, 'string');
  assert.equal(typeof info.external_url, 'string');
  assert.equal(typeof JETWAY_VERSION, 'string');
});

test('the password grant with fly\'s client gives a bearer token that the API takes', async () => {
  const res = await token(grantBody('admin', PASSWORD));
  assert.equal(res.statusCode, 200);
  assert.match(String(res.headers['content-type']), /^application\/json/); // oauth2 parses JSON by content type
  assert.equal(res.headers['cache-control'], 'no-store');
  const body = res.json() as { access_token: unknown; token_type: unknown; expires_in: unknown };
  assert.equal(typeof body.access_token, 'string');
  assert.equal(body.token_type, 'bearer');
  assert.equal(typeof body.expires_in, 'number');
  // fly saves TokenType and AccessToken and sends "bearer <token>"
  const user = await api.app.inject({ url: '/api/v1/user', headers: { authorization: `bearer ${String(body.access_token)}` } });
  assert.equal(user.statusCode, 200);
  const info = user.json() as Record<string, unknown>;
  // atc.UserInfo: every field, with its Go type
  for (const key of ['sub', 'name', 'user_id', 'user_name', 'email', 'connector', 'display_user_id']) assert.equal(typeof info[key], 'string', key);
  assert.equal(info.is_admin, true);
  assert.equal(info.is_system, false);
  assert.deepEqual(info.teams, { main: ['owner'] });
  // an admin's login then lists the teams to find the one asked for
  const teams = await api.app.inject({ url: '/api/v1/teams', headers: { authorization: `bearer ${String(body.access_token)}` } });
  assert.ok((teams.json() as { name: string }[]).some((t) => t.name === 'main'));
});

test('the client id and secret may come as form fields (oauth2 retries that way)', async () => {
  const res = await token(`${grantBody('admin', PASSWORD)}&client_id=fly&client_secret=Zmx5`, null);
  assert.equal(res.statusCode, 200);
});

test('a wrong password is OAuth2 invalid_grant (401), which fly prints', async () => {
  const res = await token(grantBody('admin', 'wrong'));
  assert.equal(res.statusCode, 401);
  assert.deepEqual(res.json(), { error: 'invalid_grant', error_description: 'invalid username or password' });
});

test('another client is invalid_client (401); another grant type unsupported_grant_type (400); no password invalid_request', async () => {
  const other = await token(grantBody('admin', PASSWORD), `Basic ${Buffer.from('web:secret').toString('base64')}`);
  assert.equal(other.statusCode, 401);
  assert.equal((other.json() as { error: string }).error, 'invalid_client');
  const none = await token(grantBody('admin', PASSWORD), null);
  assert.equal((none.json() as { error: string }).error, 'invalid_client');
  const code = await token('grant_type=authorization_code&code=x');
  assert.equal(code.statusCode, 400);
  assert.equal((code.json() as { error: string }).error, 'unsupported_grant_type');
  const empty = await token('grant_type=password&username=admin');
  assert.equal(empty.statusCode, 400);
  assert.equal((empty.json() as { error: string }).error, 'invalid_request');
});

test('failed grants count against the same login limits as POST /api/v1/token: slow_down (429) with Retry-After', async () => {
  let last = await token(grantBody('other', 'nope'));
  for (let i = 0; i < 10 && last.statusCode !== 429; i++) last = await token(grantBody('other', 'nope'));
  assert.equal(last.statusCode, 429);
  assert.equal((last.json() as { error: string }).error, 'slow_down');
  assert.match(String(last.headers['retry-after']), /^\d+$/);
  // the other endpoint sees the same failures
  const jetwayToken = await api.app.inject({ method: 'POST', url: '/api/v1/token', payload: { username: 'other', password: 'nope' } });
  assert.equal(jetwayToken.statusCode, 429);
});

test('GET /api/v1/cli (fly sync) says that this server ships no fly binaries and where fly comes from', async () => {
  const res = await api.app.inject({ url: '/api/v1/cli?arch=amd64&platform=linux' });
  assert.equal(res.statusCode, 404);
  const body = res.json() as { error: string; code: string };
  assert.equal(body.code, 'JW_FLY_NOT_SHIPPED');
  assert.match(body.error, new RegExp(`fly ${CONCOURSE_COMPATIBLE_VERSION.replace(/\./g, '\\.')} from https://github.com/concourse/concourse/releases`));
});

test("the operator's --concourse-version is what info reports (for teams on another fly)", async () => {
  const other = await startApi({ concourseVersion: '7.11.2' });
  try {
    const info = (await other.app.inject({ url: '/api/v1/info' })).json() as { version: string; worker_version: string };
    assert.equal(info.version, '7.11.2');
    assert.equal(info.worker_version, '7.11.2');
  } finally {
    await other.close();
  }
});
