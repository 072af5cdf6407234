import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { jetway, startCliServer, PASSWORD, PIPELINE, type CliServer } from './client-support.ts';
import { Readable } from 'node:stream';
import { diffLines, formatDiff } from '../../src/config/diff.ts';
import { setPromptInput } from '../../src/cli/client/common.ts';

let s: CliServer;
let file: string;
before(async () => {
  s = await startCliServer();
  assert.equal((await jetway('login', '-t', 'ci', '-c', s.url, '-u', 'admin', '-p', PASSWORD)).code, 0);
  file = join(s.dir, 'pipeline.yml');
  writeFileSync(file, PIPELINE);
});
after(async () => {
  await s.close();
});

test('set-pipeline -n creates the pipeline, interpolating -v vars client-side', async () => {
  const r = await jetway('set-pipeline', '-t', 'ci', '-p', 'demo', '-c', file, '-v', 'repo_uri=https://example.com/r.git', '-n');
  assert.equal(r.code, 0, r.err);
  assert.match(r.out, /^creating pipeline demo:\n\+ resources:\n/);
  assert.match(r.out, /\+ {5}uri: https:\/\/example\.com\/r\.git\n/);
  assert.match(r.out, /pipeline created!\nyou can view your pipeline here: http:\/\/127\.0\.0\.1:\d+\/#\/teams\/main\/pipelines\/demo\n/);
  assert.match(r.out, /jetway unpause-pipeline -t ci -p demo/);
  const cfg = await s.api.app.inject({ url: '/api/v1/teams/main/pipelines/demo/config', headers: s.api.auth() });
  const resources = (cfg.json() as { config: { resources: { source: unknown }[] } }).config.resources;
  assert.deepEqual(resources[0]?.source, { uri: 'https://example.com/r.git' });
});

test('set-pipeline again: no changes, then a diff of what changes', async () => {
  const same = await jetway('set-pipeline', '-t', 'ci', '-p', 'demo', '-c', file, '-v', 'repo_uri=https://example.com/r.git', '-n');
  assert.equal(same.code, 0, same.err);
  assert.equal(same.out, 'no changes to apply\n');

  const r = await jetway('set-pipeline', '-t', 'ci', '-p', 'demo', '-c', file, '-n');
  assert.equal(r.code, 0, r.err);
  assert.match(r.out, /^changes to pipeline demo:\n/);
  assert.match(r.out, /^- {5}uri: https:\/\/example\.com\/r\.git$/m);
  assert.match(r.out, /^\+ {5}uri: \(\(repo_uri\)\)$/m);
  assert.match(r.out, /configuration updated\n$/);
  // unchanged lines far from the change are not shown
  assert.ok(!r.out.includes('passed:'), r.out);
});

test('an invalid config is refused locally, nothing sent', async () => {
  const bad = join(s.dir, 'bad.yml');
  writeFileSync(bad, 'resources:\n- name: repo\n  type: mock\njobs:\n- name: j\n  plan:\n  - get: nope\n');
  const r = await jetway('set-pipeline', '-t', 'ci', '-p', 'bad', '-c', bad, '-n');
  assert.equal(r.code, 1);
  assert.match(r.err, new RegExp(`${bad}:7:10: error: jobs\\.j\\.plan\\.do\\[0\\]\\.get\\(nope\\)\\.get: unknown resource 'nope'`));
  assert.match(r.err, /nothing was sent/);
  assert.equal((await jetway('get-pipeline', '-t', 'ci', '-p', 'bad')).code, 1);
});

test('--check-creds: the server refuses unresolvable vars', async () => {
  const r = await jetway('set-pipeline', '-t', 'ci', '-p', 'creds', '-c', file, '-n', '--check-creds');
  assert.equal(r.code, 1);
  assert.match(r.err, /error: credential 'repo_uri' cannot be resolved.*\(HTTP 400\)/s);
});

test('without -n, the answer to "apply configuration?" decides (end of input = no)', async () => {
  setPromptInput(Readable.from([]));
  const r = await jetway('set-pipeline', '-t', 'ci', '-p', 'asked', '-c', file);
  assert.equal(r.code, 1);
  assert.match(r.out, /apply configuration\? \[yN\]: $/);
  assert.match(r.err, /bailing out/);
  assert.equal((await jetway('get-pipeline', '-t', 'ci', '-p', 'asked')).code, 1);
  setPromptInput(Readable.from(['y\n']));
  const yes = await jetway('set-pipeline', '-t', 'ci', '-p', 'asked', '-c', file);
  setPromptInput(undefined);
  assert.equal(yes.code, 0, yes.err);
  assert.match(yes.out, /pipeline created!/);
  assert.equal((await jetway('destroy-pipeline', '-t', 'ci', '-p', 'asked', '-n')).code, 0);
});

test('usage errors exit 2', async () => {
  assert.equal((await jetway('set-pipeline', '-t', 'ci', '-c', file, '-n')).code, 2);
  assert.equal((await jetway('set-pipeline', '-t', 'ci', '-p', 'x', '-n')).code, 2);
  assert.equal((await jetway('set-pipeline', '-t', 'ci', '-p', 'x', '-c', join(s.dir, 'missing.yml'), '-n')).code, 2);
  assert.equal((await jetway('set-pipeline', '-t', 'ci', '-p', 'x', '-c', file, '-v', 'novalue', '-n')).code, 2);
});

test('get-pipeline prints the saved config as YAML or JSON; unknown is exit 1 with a 404', async () => {
  const y = await jetway('get-pipeline', '-t', 'ci', '-p', 'demo');
  assert.equal(y.code, 0, y.err);
  assert.match(y.out, /^resources:\n- name: repo\n {2}type: mock\n {2}source:\n {4}uri: \(\(repo_uri\)\)\n/);
  const j = await jetway('get-pipeline', '-t', 'ci', '-p', 'demo', '--output', 'json');
  assert.equal(j.code, 0);
  const cfg = JSON.parse(j.out) as { jobs: { name: string }[] };
  assert.deepEqual(cfg.jobs.map((x) => x.name), ['unit', 'ship']);
  const missing = await jetway('get-pipeline', '-t', 'ci', '-p', 'nope');
  assert.equal(missing.code, 1);
  assert.equal(missing.err, 'error: pipeline main/nope not found (HTTP 404)\n');
  assert.equal((await jetway('get-pipeline', '-t', 'ci', '-p', 'demo', '--output', 'xml')).code, 2);
});

test('pipelines: aligned table and JSON', async () => {
  writeFileSync(join(s.dir, 'p2.yml'), PIPELINE);
  assert.equal((await jetway('set-pipeline', '-t', 'ci', '-p', 'second-pipeline', '-c', join(s.dir, 'p2.yml'), '-n')).code, 0);
  assert.equal((await jetway('unpause-pipeline', '-t', 'ci', '-p', 'second-pipeline')).out, "unpaused 'second-pipeline'\n");
  const t = await jetway('pipelines', '-t', 'ci');
  assert.equal(t.code, 0, t.err);
  const lines = t.out.trimEnd().split('\n');
  // fly/commands/pipelines.go: id first; last updated as Go prints a time (local, offset, zone)
  assert.match(lines[0] ?? '', /^id {2}name {13}paused {2}public {2}last updated$/);
  assert.match(lines[1] ?? '', /^\d+ +demo {13}yes {5}no {6}\d{4}-\d\d-\d\d \d\d:\d\d:\d\d [+-]\d{4} \S+$/);
  assert.match(lines[2] ?? '', /^\d+ +second-pipeline {2}no {6}no {6}\d{4}-/);
  const j = await jetway('pipelines', '-t', 'ci', '--json');
  const list = JSON.parse(j.out) as { name: string; paused: boolean }[];
  assert.deepEqual(list.map((p) => [p.name, p.paused]), [
    ['demo', true],
    ['second-pipeline', false],
  ]);
});

test('pause, rename, destroy', async () => {
  assert.equal((await jetway('pause-pipeline', '-t', 'ci', '-p', 'second-pipeline')).out, "paused 'second-pipeline'\n");
  const missing = await jetway('pause-pipeline', '-t', 'ci', '-p', 'nope');
  assert.equal(missing.code, 1);
  assert.equal(missing.err, 'error: pipeline main/nope not found (HTTP 404)\n');
  const renamed = await jetway('rename-pipeline', '-t', 'ci', '-o', 'second-pipeline', '-n', 'third');
  assert.equal(renamed.code, 0, renamed.err);
  assert.equal(renamed.out, "pipeline successfully renamed to 'third'\n");
  const taken = await jetway('rename-pipeline', '-t', 'ci', '-o', 'third', '-n', 'demo');
  assert.equal(taken.code, 1);
  assert.match(taken.err, /already exists \(HTTP 409\)/);
  const destroyed = await jetway('destroy-pipeline', '-t', 'ci', '-p', 'third', '-n');
  assert.equal(destroyed.code, 0);
  assert.match(destroyed.out, /`third` deleted\n$/);
  const again = await jetway('destroy-pipeline', '-t', 'ci', '-p', 'third', '-n');
  assert.equal(again.code, 0);
  assert.match(again.out, /`third` does not exist\n$/);
});

test('the line diff shows changes with context', () => {
  const a = 'a\nb\nc\nd\ne\nf\ng\nh\ni\n';
  const b = 'a\nb\nc\nd\nE\nf\ng\nh\ni\nj\n';
  assert.equal(formatDiff(diffLines(a, b), 1), '  d\n- e\n+ E\n  f\n  …\n  i\n+ j\n');
  assert.equal(formatDiff(diffLines('', 'x\n')), '+ x\n');
  assert.equal(formatDiff(diffLines('same\n', 'same\n')), '');
});

// fly's set-pipeline --team (fly/commands/set_pipeline.go, flaghelpers/team_flag.go)
test('set-pipeline --team sets the pipeline in that team, not the target’s; the server refuses a team the user cannot reach', async () => {
  const created = await s.api.app.inject({ method: 'PUT', url: '/api/v1/teams/other', headers: { ...s.api.auth(), 'content-type': 'application/json' }, payload: { auth: { owner: { users: ['local:admin'] } } } });
  assert.ok(created.statusCode < 300, created.body);
  const r = await jetway('set-pipeline', '-t', 'ci', '-p', 'elsewhere', '-c', file, '--team', 'other', '-v', 'repo_uri=https://example.com/o.git', '-n');
  assert.equal(r.code, 0, r.err);
  assert.match(r.out, /#\/teams\/other\/pipelines\/elsewhere\n/);
  assert.match(r.out, /jetway unpause-pipeline -t ci -p elsewhere \(with a target logged in to team other\)/);
  assert.equal((await s.api.app.inject({ url: '/api/v1/teams/other/pipelines/elsewhere', headers: s.api.auth() })).statusCode, 200);
  assert.equal((await s.api.app.inject({ url: '/api/v1/teams/main/pipelines/elsewhere', headers: s.api.auth() })).statusCode, 404);
  const unknown = await jetway('set-pipeline', '-t', 'ci', '-p', 'x', '-c', file, '--team', 'nowhere', '-v', 'repo_uri=u', '-n');
  assert.equal(unknown.code, 1);
  assert.match(unknown.err, /nowhere/);
  const bad = await jetway('set-pipeline', '-t', 'ci', '-p', 'x', '-c', file, '--team', '../main', '-n');
  assert.equal(bad.code, 2);
  assert.match(bad.err, /--team: '..\/main' is not a team name/);
});
