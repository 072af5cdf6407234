// Teams and roles through the API: admins (team main's owners) create, rename and destroy teams;
// a team's owner sets its auth; each role may do what Concourse's may, and a change of auth
// holds at the next request.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { LocalAuth } from '../../src/api/index.ts';
import { startApi, PIPELINE, type TestApi } from './helpers.ts';
import { localUserInfo } from '../support/user-info.ts';

let api: TestApi;
const tokens: Record<string, string> = {};
const USERS = ['admin', 'alice', 'bob', 'carol', 'dave', 'erin'];

async function login(name: string): Promise<string> {
  const res = await api.app.inject({ method: 'POST', url: '/api/v1/token', payload: { username: name, password: `${name}-pw` } });
  assert.equal(res.statusCode, 200, res.body);
  return (res.json() as { access_token: string }).access_token;
}

function as(user: string, method: string, url: string, payload?: unknown, headers: Record<string, string> = {}) {
  return api.app.inject({ method: method as 'GET', url, headers: { authorization: `Bearer ${tokens[user]}`, ...headers }, ...(payload !== undefined ? { payload: payload as string } : {}) });
}

const WEB_AUTH = {
  owner: { users: ['local:alice'] },
  member: { users: ['local:bob'] },
  'pipeline-operator': { users: ['local:carol'] },
  viewer: { users: ['local:dave'] },
};

before(async () => {
  api = await startApi({ auth: new LocalAuth({ users: USERS.map((u) => `${u}:${u}-pw`), mainTeamUsers: ['admin'] }) });
  for (const u of USERS) tokens[u] = await login(u);
});
after(async () => api?.close());

test('only an admin creates a team; the answer warns of users who cannot log in', async () => {
  const refused = await as('alice', 'PUT', '/api/v1/teams/web', { auth: WEB_AUTH });
  assert.equal(refused.statusCode, 403);
  assert.match(refused.json<{ error: string }>().error, /user alice cannot create team web: only an admin \(an owner of team main\) can/);
  assert.equal(refused.json<{ code: string }>().code, 'JW_FORBIDDEN');
  const created = await as('admin', 'PUT', '/api/v1/teams/web', { auth: { ...WEB_AUTH, viewer: { users: ['local:dave', 'local:zed', 'github:someone'], groups: ['org:devs'] } } });
  assert.equal(created.statusCode, 201, created.body);
  const body = created.json<{ team: { name: string; auth: unknown }; warnings: string[] }>();
  assert.equal(body.team.name, 'web');
  assert.deepEqual(body.warnings, [
    'auth.viewer.users: zed is not a local user of this web node (--add-local-user); they cannot log in yet',
    "auth.viewer.users: 'github:someone' names no local user (write local:<name>); nobody can log in as it",
    'auth.viewer.groups: groups need an identity provider, which this web node has not; they give nobody a role yet',
  ]);
  const again = await as('admin', 'PUT', '/api/v1/teams/web', { auth: WEB_AUTH });
  assert.equal(again.statusCode, 200);
  assert.deepEqual(again.json<{ warnings: string[] }>().warnings, []);
});

test('each user sees their roles and teams; only owners and admins see a team\'s auth', async () => {
  assert.deepEqual((await as('alice', 'GET', '/api/v1/user')).json(), localUserInfo('alice', { web: ['owner'] }, false));
  assert.deepEqual((await as('admin', 'GET', '/api/v1/user')).json(), localUserInfo('admin', { main: ['owner'], web: ['owner'] }, true));
  assert.deepEqual((await as('erin', 'GET', '/api/v1/user')).json(), localUserInfo('erin', {}, false));
  const owner = (await as('alice', 'GET', '/api/v1/teams')).json<{ name: string; auth?: unknown }[]>();
  assert.deepEqual(owner.map((t) => t.name), ['web']);
  assert.deepEqual(owner[0]?.auth, { owner: { users: ['local:alice'], groups: [] }, member: { users: ['local:bob'], groups: [] }, 'pipeline-operator': { users: ['local:carol'], groups: [] }, viewer: { users: ['local:dave'], groups: [] } });
  const viewer = (await as('dave', 'GET', '/api/v1/teams')).json<{ name: string; auth?: unknown }[]>();
  assert.deepEqual(viewer.map((t) => [t.name, t.auth]), [['web', undefined]]);
  assert.deepEqual((await as('admin', 'GET', '/api/v1/teams')).json<{ name: string }[]>().map((t) => t.name), ['main', 'web']);
  assert.equal((await as('erin', 'GET', '/api/v1/teams/web')).statusCode, 404);
  assert.deepEqual((await as('admin', 'GET', '/api/v1/teams/main')).json(), { id: 1, name: 'main', auth: { owner: { users: ['local:admin'], groups: [] } } });
});

test('a member changes pipelines; a pipeline-operator runs them; a viewer reads; others are refused', async () => {
  const yaml = { 'content-type': 'application/x-yaml' };
  const set = (user: string) => as(user, 'PUT', '/api/v1/teams/web/pipelines/site/config', PIPELINE.replace('((repo_uri))', 'x'), yaml);
  const operatorSet = await set('carol');
  assert.equal(operatorSet.statusCode, 403);
  assert.equal(operatorSet.json<{ error: string }>().error, 'user carol holds the pipeline-operator role in team web; PUT /api/v1/teams/:team/pipelines/:pipeline/config needs the member role');
  assert.equal(operatorSet.json<{ code: string }>().code, 'JW_FORBIDDEN');
  assert.equal((await set('bob')).statusCode, 201);
  assert.equal((await as('carol', 'PUT', '/api/v1/teams/web/pipelines/site/unpause')).statusCode, 200);
  const triggered = await as('carol', 'POST', '/api/v1/teams/web/pipelines/site/jobs/unit/builds');
  assert.equal(triggered.statusCode, 200, triggered.body);
  assert.equal((await as('carol', 'DELETE', '/api/v1/teams/web/pipelines/site')).statusCode, 403);
  assert.equal((await as('dave', 'GET', '/api/v1/teams/web/pipelines/site/jobs')).statusCode, 200);
  const viewerPause = await as('dave', 'PUT', '/api/v1/teams/web/pipelines/site/pause');
  assert.equal(viewerPause.statusCode, 403);
  assert.match(viewerPause.json<{ error: string }>().error, /holds the viewer role in team web; .* needs the pipeline-operator role/);
  assert.equal(viewerPause.json<{ code: string }>().code, 'JW_FORBIDDEN');
  const build = triggered.json<{ id: number }>().id;
  assert.equal((await as('dave', 'GET', `/api/v1/builds/${build}`)).statusCode, 200);
  assert.equal((await as('dave', 'PUT', `/api/v1/builds/${build}/abort`)).statusCode, 403);
  // another team's list shows its public pipelines only (Concourse's ListPipelines): none here
  const outsider = await as('erin', 'GET', '/api/v1/teams/web/pipelines');
  assert.equal(outsider.statusCode, 200);
  assert.deepEqual(outsider.json(), []);
  const outsiderConfig = await as('erin', 'GET', '/api/v1/teams/web/pipelines/site/config');
  assert.equal(outsiderConfig.statusCode, 403);
  assert.equal(outsiderConfig.json<{ error: string }>().error, 'user erin is not a member of team web');
  assert.equal(outsiderConfig.json<{ code: string }>().code, 'JW_FORBIDDEN');
  assert.equal((await as('erin', 'GET', `/api/v1/builds/${build}`)).statusCode, 403);
  // listings across teams show only the user's
  assert.deepEqual((await as('dave', 'GET', '/api/v1/pipelines')).json<{ name: string; team_name: string }[]>().map((p) => `${p.team_name}/${p.name}`), ['web/site']);
  assert.deepEqual((await as('erin', 'GET', '/api/v1/pipelines')).json(), []);
  // the admin acts as an owner of every team
  assert.equal((await as('admin', 'PUT', '/api/v1/teams/web/pipelines/site/pause')).statusCode, 200);
});

test("the team's owner sets its auth, a member cannot, and the change holds at the next request", async () => {
  const byMember = await as('bob', 'PUT', '/api/v1/teams/web', { auth: WEB_AUTH });
  assert.equal(byMember.statusCode, 403);
  assert.match(byMember.json<{ error: string }>().error, /user bob cannot set team web: only its owners and admins can/);
  assert.equal(byMember.json<{ code: string }>().code, 'JW_FORBIDDEN');
  assert.equal((await as('dave', 'GET', '/api/v1/teams/web/pipelines')).statusCode, 200);
  const { viewer: _dropped, ...withoutDave } = WEB_AUTH;
  assert.equal((await as('alice', 'PUT', '/api/v1/teams/web', { auth: withoutDave })).statusCode, 200);
  // the same token, no new login: the team's (private) pipelines are gone from dave's view
  assert.deepEqual((await as('dave', 'GET', '/api/v1/teams/web/pipelines')).json(), []);
  assert.equal((await as('dave', 'GET', '/api/v1/teams/web/pipelines/site/config')).statusCode, 403);
  assert.deepEqual((await as('dave', 'GET', '/api/v1/user')).json<{ teams: unknown }>().teams, {});
});

test('bad team bodies and names are refused, naming the field, and change nothing', async () => {
  const before = (await as('admin', 'GET', '/api/v1/teams/web')).json();
  const badRole = await as('admin', 'PUT', '/api/v1/teams/web', { auth: { admin: { users: ['local:bob'] } } });
  assert.equal(badRole.statusCode, 400);
  assert.match(JSON.stringify(badRole.json()), /body\.auth: Unrecognized key: \\"admin\\"|body\.auth.*admin/);
  const nobody = await as('admin', 'PUT', '/api/v1/teams/web', { auth: { owner: { users: [] } } });
  assert.equal(nobody.statusCode, 400);
  assert.deepEqual(nobody.json(), { errors: ['auth: no role has a user or group; nobody could log in to the team'], code: 'JW_INVALID_TEAM_AUTH' });
  const missing = await as('admin', 'PUT', '/api/v1/teams/web', {});
  assert.equal(missing.statusCode, 400);
  assert.match(JSON.stringify(missing.json()), /body\.auth/);
  assert.deepEqual((await as('admin', 'GET', '/api/v1/teams/web')).json(), before);
  const main = await as('admin', 'PUT', '/api/v1/teams/main', { auth: WEB_AUTH });
  assert.equal(main.statusCode, 409);
  assert.match(main.json<{ error: string }>().error, /team main cannot be set: its owners are the web node's --main-team-local-user users/);
  assert.equal(main.json<{ code: string }>().code, 'JW_MAIN_TEAM_PROTECTED');
});

test('an admin renames a team (its pipelines follow) and destroys it (its pipelines go)', async () => {
  assert.equal((await as('alice', 'PUT', '/api/v1/teams/web/rename', { name: 'www' })).statusCode, 403);
  assert.equal((await as('admin', 'PUT', '/api/v1/teams/main/rename', { name: 'x' })).statusCode, 409);
  assert.equal((await as('admin', 'PUT', '/api/v1/teams/nope/rename', { name: 'x' })).statusCode, 404);
  assert.equal((await as('admin', 'PUT', '/api/v1/teams/web', { auth: WEB_AUTH })).statusCode, 200);
  assert.equal((await as('admin', 'PUT', '/api/v1/teams/other', { auth: WEB_AUTH })).statusCode, 201);
  const taken = await as('admin', 'PUT', '/api/v1/teams/web/rename', { name: 'other' });
  assert.equal(taken.statusCode, 409);
  assert.match(taken.json<{ error: string }>().error, /a team named other already exists/);
  assert.equal(taken.json<{ code: string }>().code, 'JW_CONFLICT');
  assert.equal((await as('admin', 'PUT', '/api/v1/teams/web/rename', { name: 'www' })).statusCode, 200);
  assert.deepEqual((await as('alice', 'GET', '/api/v1/teams/www/pipelines')).json<{ name: string }[]>().map((p) => p.name), ['site']);
  assert.deepEqual((await as('alice', 'GET', '/api/v1/teams/web/pipelines')).json(), []);

  assert.equal((await as('alice', 'DELETE', '/api/v1/teams/www')).statusCode, 403);
  assert.equal((await as('admin', 'DELETE', '/api/v1/teams/main')).statusCode, 409);
  assert.equal((await as('admin', 'DELETE', '/api/v1/teams/nope')).statusCode, 404);
  assert.equal((await as('admin', 'DELETE', '/api/v1/teams/www')).statusCode, 204);
  const left = await api.t.db.query<{ name: string }>("SELECT p.name FROM pipelines p JOIN teams t ON t.id = p.team_id WHERE t.name = 'www'");
  assert.equal(left.rows.length, 0);
  assert.deepEqual((await as('alice', 'GET', '/api/v1/user')).json<{ teams: unknown }>().teams, { other: ['owner'] });
});

test('main team users must be local users', () => {
  assert.throws(() => new LocalAuth({ users: ['a:pw'], mainTeamUsers: ['b'] }), /main team user b is not a local user \(add it with --add-local-user name:password\)/);
});
