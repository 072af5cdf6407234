// What each team role may do (src/api/roles.ts): a table of routes and the role they need.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { authProblems, requiredRole, satisfies, strongest, type Role } from '../../src/api/roles.ts';

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
