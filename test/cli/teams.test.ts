// set-team, teams, rename-team, destroy-team and login to a team, against a real API server.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { LocalAuth } from '../../src/api/index.ts';
import { setPromptInput } from '../../src/cli/client/common.ts';
import { jetway, startCliServer, type CliServer } from './client-support.ts';

let s: CliServer;
before(async () => {
  s = await startCliServer({ auth: new LocalAuth({ users: ['admin:admin-pw', 'alice:alice-pw', 'bob:bob-pw'], mainTeamUsers: ['admin'] }) });
  assert.equal((await jetway('login', '-t', 'root', '-c', s.url, '-u', 'admin', '-p', 'admin-pw')).code, 0);
});
after(async () => {
  setPromptInput(undefined);
  await s.close();
});

test('set-team shows the roles, asks, and creates the team; a config file gives roles', async () => {
  setPromptInput(Readable.from(['n\n']));
  const declined = await jetway('set-team', '-t', 'root', '-n', 'web', '--local-user', 'alice');
  assert.equal(declined.code, 1);
  assert.equal(declined.out, 'setting team: web\n\nrole owner:\n  users:\n  - local:alice\n\napply team configuration? [yN]: ');
  assert.match(declined.err, /bailing out/);
  assert.equal((await jetway('login', '-t', 'a', '-c', s.url, '-n', 'web', '-u', 'alice', '-p', 'alice-pw')).code, 1, 'no team yet');

  setPromptInput(Readable.from(['y\n']));
  const created = await jetway('set-team', '-t', 'root', '-n', 'web', '--local-user', 'alice');
  assert.equal(created.code, 0, created.err);
  assert.match(created.out, /team created\n$/);
  const login = await jetway('login', '-t', 'a', '-c', s.url, '-n', 'web', '-u', 'alice', '-p', 'alice-pw');
  assert.equal(login.code, 0, login.err);

  const file = join(s.dir, 'team.yml');
  writeFileSync(file, 'roles:\n- name: owner\n  local:\n    users: [alice]\n- name: viewer\n  local:\n    users: [bob, ghost]\n');
  const updated = await jetway('set-team', '-t', 'a', '-n', 'web', '-c', file, '--non-interactive');
  assert.equal(updated.code, 0, updated.err);
  assert.match(updated.out, /role viewer:\n {2}users:\n {2}- local:bob\n {2}- local:ghost\n/);
  assert.match(updated.out, /team updated\n$/);
  assert.equal(updated.err, 'WARNING: auth.viewer.users: ghost is not a local user of this web node (--add-local-user); they cannot log in yet\n');
  assert.equal((await jetway('login', '-t', 'b', '-c', s.url, '-n', 'web', '-u', 'bob', '-p', 'bob-pw')).code, 0);
  // a viewer reads, and is told which role a change needs
  assert.equal((await jetway('pipelines', '-t', 'b')).code, 0);
  const denied = await jetway('set-pipeline', '-t', 'b', '-p', 'x', '-c', file, '-n');
  assert.equal(denied.code, 1);
});

test('bad team configs are refused before anything is sent, naming file:line:column', async () => {
  const file = join(s.dir, 'bad-team.yml');
  writeFileSync(file, 'roles:\n- name: owner\n  local:\n    users: [alice]\n- name: admin\n  github:\n    users: [x]\n');
  const r = await jetway('set-team', '-t', 'root', '-n', 'web', '-c', file, '--non-interactive');
  assert.equal(r.code, 2);
  assert.equal(r.err, `error: ${file}:5:9: roles.1.name: unknown role "admin" (owner, member, pipeline-operator, viewer)\n`);
  writeFileSync(file, 'roles:\n- name: owner\n  github:\n    users: [x]\n');
  const connector = await jetway('set-team', '-t', 'root', '-n', 'web', '-c', file, '--non-interactive');
  assert.equal(connector.err, `error: ${file}:4:5: roles.0.github: the github connector is not supported: Jetway has local users only\n`);
  const none = await jetway('set-team', '-t', 'root', '-n', 'web', '--non-interactive');
  assert.equal(none.code, 2);
  assert.match(none.err, /give the team its users: --local-user <name> \(an owner\), or -c <team config file> with roles/);
  const noName = await jetway('set-team', '-t', 'root', '--local-user', 'alice');
  assert.match(noName.err, /-n, --team-name/);
  const missing = await jetway('set-team', '-t', 'root', '-n', 'web', '-c', join(s.dir, 'nope.yml'));
  assert.match(missing.err, /^error: -c, --config: cannot read .*nope\.yml/);
});

test('teams lists what the user sees; --details shows roles to owners', async () => {
  const admin = await jetway('teams', '-t', 'root');
  assert.equal(admin.code, 0, admin.err);
  assert.deepEqual(admin.out.trim().split('\n').map((l) => l.trim()), ['name', 'main', 'web']);
  const details = await jetway('teams', '-t', 'a', '-d');
  // fly/commands/teams.go: a row per configured role, sorted
  assert.equal(details.out, 'name/role   users                  groups\nweb/owner   local:alice            none\nweb/viewer  local:bob,local:ghost  none\n');
  // a viewer may not see the team's auth: no rows, as fly shows a team without auth
  const viewer = await jetway('teams', '-t', 'b', '-d');
  assert.equal(viewer.out, 'name/role  users  groups\n');
  const json = JSON.parse((await jetway('teams', '-t', 'b', '--output', 'json')).out) as { name: string }[];
  assert.deepEqual(json.map((t) => t.name), ['web']);
});

test('rename-team and destroy-team: admins only; destroy asks for the name', async () => {
  const byOwner = await jetway('rename-team', '-t', 'a', '-o', 'web', '-n', 'site');
  assert.equal(byOwner.code, 1);
  assert.match(byOwner.err, /user alice cannot rename team web: only an admin/);
  const renamed = await jetway('rename-team', '-t', 'root', '-o', 'web', '-n', 'site');
  assert.equal(renamed.code, 0, renamed.err);
  assert.equal(renamed.out, 'team successfully renamed to site\n');

  setPromptInput(Readable.from(['web\n']));
  const wrongName = await jetway('destroy-team', '-t', 'root', '-n', 'site');
  assert.equal(wrongName.code, 1);
  assert.match(wrongName.err, /incorrect team name; bailing out/);
  setPromptInput(Readable.from(['site\n']));
  const destroyed = await jetway('destroy-team', '-t', 'root', '-n', 'site');
  assert.equal(destroyed.code, 0, destroyed.err);
  assert.match(destroyed.out, /`site` deleted\n$/);
  const gone = await jetway('destroy-team', '-t', 'root', '-n', 'site', '--non-interactive');
  assert.equal(gone.code, 1);
  assert.match(gone.err, /team site not found \(HTTP 404\)/);
  assert.deepEqual((await jetway('teams', '-t', 'root')).out.trim().split('\n').map((l) => l.trim()), ['name', 'main']);
});
