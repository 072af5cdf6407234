// fly's commands that Jetway added for teams moving from Concourse (docs/concourse-compatibility.md):
// delete-target, get-team, paused-pipelines, paused-jobs, completion, checklist, schedule-job, against
// a real API server.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadTargets } from '../../src/cli/client/targets.ts';
import { buildProgram } from '../../src/cli/program.ts';
import { completionScript } from '../../src/cli/commands/completion.ts';
import { capture } from '../support/cli.ts';
import { jetway, startCliServer, PASSWORD, PIPELINE, type CliServer } from './client-support.ts';

let s: CliServer;
before(async () => {
  s = await startCliServer();
  assert.equal((await jetway('login', '-t', 'ci', '-c', s.url, '-u', 'admin', '-p', PASSWORD)).code, 0);
  const file = join(s.dir, 'p.yml');
  writeFileSync(file, PIPELINE.replace('((repo_uri))', 'x'));
  for (const p of ['one', 'two']) assert.equal((await jetway('set-pipeline', '-t', 'ci', '-p', p, '-c', file, '-n')).code, 0);
});
after(async () => {
  await s.close();
});

test('paused-pipelines lists only the paused ones (new pipelines are paused), with fly\'s columns', async () => {
  assert.equal((await jetway('unpause-pipeline', '-t', 'ci', '-p', 'two')).code, 0);
  const r = await jetway('pps', '-t', 'ci');
  assert.equal(r.code, 0, r.err);
  const lines = r.out.trim().split('\n');
  assert.match(lines[0]!, /^id\s+name\s+paused\s+paused by\s+paused at$/);
  assert.equal(lines.length, 2);
  assert.match(lines[1]!, /^\d+\s+one\s+yes\s/);
  const json = JSON.parse((await jetway('paused-pipelines', '-t', 'ci', '--json')).out) as { name: string }[];
  assert.deepEqual(json.map((p) => p.name), ['one']);
});

test('paused-jobs lists only the paused jobs of a pipeline', async () => {
  assert.equal((await jetway('pause-job', '-t', 'ci', '-j', 'two/unit')).code, 0);
  const r = await jetway('pjs', '-t', 'ci', '-p', 'two');
  assert.equal(r.code, 0, r.err);
  assert.deepEqual(r.out.trim().split('\n').slice(1).map((l) => l.split(/\s+/)[0]), ['unit']);
  const missing = await jetway('paused-jobs', '-t', 'ci');
  assert.equal(missing.code, 2);
  assert.match(missing.err, /-p, --pipeline/);
});

test("get-team prints each role's users and groups as fly does", async () => {
  const r = await jetway('gt', '-t', 'ci', '-n', 'main');
  assert.equal(r.code, 0, r.err);
  assert.deepEqual(r.out.trim().split('\n').map((l) => l.split(/\s{2,}/)), [
    ['name/role', 'users', 'groups'],
    ['main/owner', 'local:admin,local:other', 'none'],
  ]);
  const unknown = await jetway('get-team', '-t', 'ci', '-n', 'nope');
  assert.equal(unknown.code, 1);
  assert.match(unknown.err, /team/);
});

test('delete-target removes a target from ~/.jetwayrc without asking the server; -a removes all', async () => {
  assert.equal((await jetway('login', '-t', 'other', '-c', s.url, '-u', 'admin', '-p', PASSWORD)).code, 0);
  const token = loadTargets().targets.other?.token?.value;
  assert.ok(token);
  const r = await jetway('dtg', '-t', 'other');
  assert.equal(r.code, 0, r.err);
  assert.equal(r.out, 'deleted target: other\n');
  assert.deepEqual(Object.keys(loadTargets().targets), ['ci']);
  // not revoked: the token still works (logout is the command that revokes)
  const user = await s.api.app.inject({ url: '/api/v1/user', headers: { authorization: `Bearer ${token}` } });
  assert.equal(user.statusCode, 200);
  const unknown = await jetway('delete-target', '-t', 'other');
  assert.equal(unknown.code, 1);
  assert.match(unknown.err, /unknown target: other\nknown targets: ci/);
});

test('completion --shell bash completes commands, fly aliases and a command\'s flags in a real bash', () => {
  const script = completionScript(buildProgram(capture()), 'bash');
  const complete = (line: string): string[] => {
    const words = line.split(' ');
    const out = execFileSync('bash', ['-c', `${script}\nCOMP_WORDS=(${words.map((w) => `'${w}'`).join(' ')}); COMP_CWORD=${words.length - 1}; _jetway; printf '%s\\n' "\${COMPREPLY[@]}"`], { encoding: 'utf8' });
    return out.split('\n').filter(Boolean).sort();
  };
  assert.deepEqual(complete('jetway set-p'), ['set-pipeline']);
  assert.ok(complete('jetway s').includes('sp'));
  assert.deepEqual(complete('jetway sp --non'), ['--non-interactive']);
});

test('completion refuses an unknown shell, naming the flag and the choices', async () => {
  const r = await jetway('completion', '--shell', 'tcsh');
  assert.equal(r.code, 2);
  assert.match(r.err, /--shell <shell>': "tcsh" is not one of bash, zsh, fish/);
});

test("checklist prints fly's Checkfile of a pipeline (cl too); an unknown pipeline fails naming it", async () => {
  const r = await jetway('checklist', '-t', 'ci', '-p', 'one');
  assert.equal(r.code, 0, r.err);
  assert.equal(r.out, `#- one\nship: concourse.check ${s.url} main one ship\nunit: concourse.check ${s.url} main one unit\n\n`);
  assert.equal((await jetway('cl', '-t', 'ci', '-p', 'one')).out, r.out);
  const missing = await jetway('checklist', '-t', 'ci', '-p', 'nope');
  assert.equal(missing.code, 1);
  assert.match(missing.err, /nope/);
});

test("schedule-job asks the scheduler to run for the job and says so (sj too); an unknown job fails naming it", async () => {
  const r = await jetway('schedule-job', '-t', 'ci', '-j', 'one/unit');
  assert.equal(r.code, 0, r.err);
  assert.equal(r.out, "scheduled 'unit'\n");
  assert.equal((await jetway('sj', '-t', 'ci', '-j', 'one/ship')).out, "scheduled 'ship'\n");
  const missing = await jetway('schedule-job', '-t', 'ci', '-j', 'one/nope');
  assert.equal(missing.code, 1);
  assert.match(missing.err, /nope/);
  const bad = await jetway('schedule-job', '-t', 'ci', '-j', 'unit');
  assert.notEqual(bad.code, 0);
  assert.match(bad.err, /-j, --job/);
});

test('edit-target (etg) renames a saved target and changes its team offline; a new URL drops its token', async () => {
  assert.equal((await jetway('login', '-t', 'edit-me', '-c', s.url, '-u', 'admin', '-p', PASSWORD)).code, 0);
  const r = await jetway('edit-target', '-t', 'edit-me', '--target-name', 'edited', '-n', 'other-team');
  assert.equal(r.code, 0, r.err);
  assert.equal(r.out, 'Updated target: edit-me\n');
  const targets = loadTargets(join(s.home, '.jetwayrc')).targets;
  assert.equal(targets['edit-me'], undefined);
  assert.equal(targets.edited?.team, 'other-team');
  assert.ok(targets.edited?.token, 'a rename keeps the token');
  const moved = await jetway('etg', '-t', 'edited', '-u', 'http://127.0.0.1:1');
  assert.equal(moved.code, 0, moved.err);
  assert.match(moved.err, /log in again/);
  assert.equal(loadTargets(join(s.home, '.jetwayrc')).targets.edited?.token, undefined);
  const none = await jetway('edit-target', '-t', 'edited');
  assert.notEqual(none.code, 0);
  assert.match(none.err, /no attributes specified to update/);
});
