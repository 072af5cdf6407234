// What each team role may do (src/api/roles.ts): a table of routes and the role they need.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { authProblems, requiredRole, rolesFromAuth, satisfies, strongest, type Role } from '../../src/api/roles.ts';

const cases: [string, string, Role][] = [
  ['GET', '/api/v1/teams/:team/pipelines', 'viewer'],
  ['GET', '/api/v1/builds/:id/events', 'viewer'],
  ['HEAD', '/api/v1/teams/:team/pipelines/:pipeline', 'viewer'],
  ['PUT', '/api/v1/teams/:team/pipelines/:pipeline/pause', 'pipeline-operator'],
  ['PUT', '/api/v1/teams/:team/pipelines/:pipeline/unpause', 'pipeline-operator'],
  ['PUT', '/api/v1/teams/:team/pipelines/:pipeline/jobs/:job/pause', 'pipeline-operator'],
  ['POST', '/api/v1/teams/:team/pipelines/:pipeline/jobs/:job/builds', 'pipeline-operator'],
  ['POST', '/api/v1/teams/:team/pipelines/:pipeline/jobs/:job/builds/:build', 'pipeline-operator'],
  ['PUT', '/api/v1/builds/:id/abort', 'pipeline-operator'],
  ['POST', '/api/v1/teams/:team/pipelines/:pipeline/resources/:resource/check', 'pipeline-operator'],
  ['POST', '/api/v1/teams/:team/pipelines/:pipeline/resource-types/:type/check', 'pipeline-operator'],
  ['PUT', '/api/v1/teams/:team/pipelines/:pipeline/resources/:resource/versions/:version/pin', 'pipeline-operator'],
  ['PUT', '/api/v1/teams/:team/pipelines/:pipeline/resources/:resource/versions/:version/disable', 'pipeline-operator'],
  ['PUT', '/api/v1/teams/:team/pipelines/:pipeline/resources/:resource/unpin', 'pipeline-operator'],
  ['PUT', '/api/v1/teams/:team/pipelines/:pipeline/resources/:resource/pin_comment', 'pipeline-operator'],
  ['DELETE', '/api/v1/teams/:team/pipelines/:pipeline/jobs/:job/tasks/:step/cache', 'pipeline-operator'],
  ['DELETE', '/api/v1/teams/:team/pipelines/:pipeline/resources/:resource/versions', 'member'],
  ['DELETE', '/api/v1/teams/:team/pipelines/:pipeline/resources/:resource/cache', 'member'],
  // changing what is there needs a member
  ['PUT', '/api/v1/teams/:team/pipelines/:pipeline/config', 'member'],
  ['DELETE', '/api/v1/teams/:team/pipelines/:pipeline', 'member'],
  ['PUT', '/api/v1/teams/:team/pipelines/:pipeline/rename', 'member'],
  ['PUT', '/api/v1/teams/:team/pipelines/:pipeline/expose', 'member'],
  ['PUT', '/api/v1/teams/:team/pipelines/ordering', 'member'],
  ['POST', '/api/v1/teams/:team/builds', 'member'],
  ['POST', '/api/v1/teams/:team/artifacts', 'member'],
  ['PUT', '/api/v1/teams/:team/pipelines/:pipeline/jobs/:job/schedule', 'member'],
  // a look-alike of an operator route is not one
  ['PUT', '/api/v1/teams/:team/pipelines/:pipeline/pause/extra', 'member'],
];

for (const [method, route, role] of cases) {
  test(`${method} ${route} needs ${role}`, () => assert.equal(requiredRole(method, route), role));
}

test('roles are ordered: owner > member > pipeline-operator > viewer', () => {
  assert.ok(satisfies('owner', 'member'));
  assert.ok(satisfies('member', 'pipeline-operator'));
  assert.ok(satisfies('pipeline-operator', 'viewer'));
  assert.ok(satisfies('viewer', 'viewer'));
  assert.ok(!satisfies('viewer', 'pipeline-operator'));
  assert.ok(!satisfies('pipeline-operator', 'member'));
  assert.ok(!satisfies('member', 'owner'));
  assert.equal(strongest(['viewer', 'member', 'pipeline-operator']), 'member');
  assert.equal(strongest([]), undefined);
});

test('an auth that gives nobody a role is a problem', () => {
  assert.deepEqual(authProblems({ owner: { users: ['local:alice'], groups: [] } }), []);
  assert.deepEqual(authProblems({ viewer: { users: [], groups: ['org:team'] } }), []);
  assert.deepEqual(authProblems({ owner: { users: [], groups: [] } }), ['auth: no role has a user or group; nobody could log in to the team']);
});

// rolesFromAuth: what a user holds by team, from the teams' stored auth (one test per row)
const authRows: [string, { name: string; auth: Record<string, { users?: unknown }> }[], Record<string, string[]>][] = [
  ['a member of one team', [{ name: 'a', auth: { member: { users: ['local:alice'] } } }], { a: ['member'] }],
  ['two roles in one team, in ROLES order', [{ name: 'a', auth: { viewer: { users: ['local:alice'] }, owner: { users: ['local:alice'] } } }], { a: ['owner', 'viewer'] }],
  ['team main is the flags\', never a row\'s', [{ name: 'main', auth: { owner: { users: ['local:alice'] } } }], {}],
  ['another user named', [{ name: 'a', auth: { member: { users: ['local:bob'] } } }], {}],
  ['a name that only contains the user', [{ name: 'a', auth: { member: { users: ['local:alice2', 'xlocal:alice'] } } }], {}],
  ['users that is not a list', [{ name: 'a', auth: { member: { users: 'local:alice' } } }], {}],
  ['a key that is not a role', [{ name: 'a', auth: { admin: { users: ['local:alice'] } } }], {}],
  ['a group does not name a user', [{ name: 'a', auth: { member: { users: [] } } }], {}],
];
for (const [name, teams, expected] of authRows) {
  test(`rolesFromAuth: ${name}`, () => {
    assert.deepEqual(Object.fromEntries(rolesFromAuth(teams, 'local:alice', 'main')), expected);
  });
}
