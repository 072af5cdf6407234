// The clearing commands against a real server with a test node (checker, engine, local runtime):
// clear-task-cache, clear-resource-cache and clear-versions, their flags, prompts (answered, or
// skipped with -n), counts and errors.
import { test, before, after, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { jetway, startCliServer, PASSWORD, type CliServer } from './client-support.ts';
import { startTestNode, type TestNode } from '../support/node.ts';
import { setPromptInput } from '../../src/cli/client/common.ts';

const PIPELINE = `resources:
- name: repo
  type: mock
  source: {no_initial_version: true}
resource_types:
- name: custom
  type: mock
  source: {mirror_self: true}
jobs:
- name: cached
  plan:
  - get: repo
  - task: build
    config:
      platform: linux
      caches: [{path: deps}, {path: more}]
      run: {path: sh, args: [-c, 'date > deps/stamp; date > more/stamp']}
`;

const OTHER_PIPELINE = `resource_types:
- name: custom
  type: mock
  source: {mirror_self: true}
jobs:
- name: noop
  plan:
  - task: nothing
    config: {platform: linux, run: {path: 'true'}}
`;

let node: TestNode;
let s: CliServer;
let pipelineId: number;

before(async () => {
  node = await startTestNode();
  s = await startCliServer(
    {
      checker: node.checker,
      engine: { abortBuild: (id) => node.engine.abort(id), track: (id) => node.engine.track(id) },
      runtime: node.runtime,
    },
    node.tdb,
  );
  assert.equal((await jetway('login', '-t', 'ci', '-c', s.url, '-u', 'admin', '-p', PASSWORD)).code, 0);
  pipelineId = await node.setPipeline('demo', PIPELINE);
  await node.checkResource(pipelineId, 'repo', { version: 'v1' });
  const build = await node.trigger(pipelineId, 'cached');
  assert.equal(build.status, 'succeeded', await node.logs(build.id));
});
after(async () => {
  await s.close();
  await node.stop();
});
afterEach(() => setPromptInput(undefined));

const answer = (line?: string): void => setPromptInput(Readable.from(line === undefined ? [] : [line]));

test('clear-task-cache: asks first (no answer: nothing goes), -n does not; -c clears one cache path', async () => {
  answer();
  const refused = await jetway('clear-task-cache', '-t', 'ci', '-j', 'demo/cached', '-s', 'build');
  assert.equal(refused.code, 1);
  assert.equal(refused.out, '!!! this will remove the task cache(s) for `demo/cached`, task step `build`\n\nare you sure? [yN]: ');
  assert.match(refused.err, /bailing out/);

  answer('y\n');
  const one = await jetway('clear-task-cache', '-t', 'ci', '-j', 'demo/cached', '-s', 'build', '-c', 'more');
  assert.equal(one.code, 0, one.err);
  assert.equal(one.out, '!!! this will remove the task cache(s) for `demo/cached`, task step `build`, at `more`\n\nare you sure? [yN]: 1 caches removed\n');

  const rest = await jetway('clear-task-cache', '-t', 'ci', '-j', 'demo/cached', '-s', 'build', '-n');
  assert.equal(rest.code, 0, rest.err);
  assert.match(rest.out, /\n\n1 caches removed\n$/, 'deps: kept through the refusal, more already gone');
  assert.doesNotMatch(rest.out, /are you sure/);
  assert.match((await jetway('clear-task-cache', '-t', 'ci', '-j', 'demo/cached', '-s', 'build', '--non-interactive')).out, /\n0 caches removed\n$/);
});

test('clear-task-cache: flags and errors', async () => {
  const noStep = await jetway('clear-task-cache', '-t', 'ci', '-j', 'demo/cached', '-n');
  assert.equal(noStep.code, 2);
  assert.match(noStep.err, /required option -s, --step <name> not specified/);
  const badJob = await jetway('clear-task-cache', '-t', 'ci', '-j', 'cached', '-s', 'build', '-n');
  assert.equal(badJob.code, 2);
  assert.match(badJob.err, /-j, --job: argument format should be <pipeline>\/<job> \(got 'cached'\)/);
  const unknown = await jetway('clear-task-cache', '-t', 'ci', '-j', 'demo/cached', '-s', 'nope', '-n');
  assert.equal(unknown.code, 1);
  assert.match(unknown.err, /error: task step nope of job demo\/cached not found \(HTTP 404\)/);
});

test('clear-resource-cache: -v names one version (the whole version); asks unless -n', async () => {
  answer('y\n');
  const one = await jetway('clear-resource-cache', '-t', 'ci', '-r', 'demo/repo', '-v', 'version:v1');
  assert.equal(one.code, 0, one.err);
  assert.equal(one.out, '!!! this will remove the resource cache(s) for `demo/repo` with version: `{"version":"v1"}`\n\nare you sure? [yN]: 1 caches removed\n');
  const none = await jetway('clear-resource-cache', '-t', 'ci', '-r', 'demo/repo', '-n');
  assert.equal(none.code, 0, none.err);
  assert.equal(none.out, '!!! this will remove the resource cache(s) for `demo/repo`\n\n0 caches removed\n');

  const badVersion = await jetway('clear-resource-cache', '-t', 'ci', '-r', 'demo/repo', '-v', 'v1', '-n');
  assert.equal(badVersion.code, 2);
  assert.match(badVersion.err, /-v, --version must be key:value \(got 'v1'\)/);
  const unknown = await jetway('clear-resource-cache', '-t', 'ci', '-r', 'demo/nope', '-n');
  assert.equal(unknown.code, 1);
  assert.match(unknown.err, /error: resource nope in pipeline main\/demo not found \(HTTP 404\)/);
});

test('clear-versions: exactly one of --resource and --resource-type', async () => {
  const neither = await jetway('clear-versions', '-t', 'ci', '-n');
  assert.equal(neither.code, 2);
  assert.match(neither.err, /error: give one of --resource <pipeline\/resource> or --resource-type <pipeline\/resource-type>/);
  const both = await jetway('clear-versions', '-t', 'ci', '--resource', 'demo/repo', '--resource-type', 'demo/custom', '-n');
  assert.equal(both.code, 2);
  assert.match(both.err, /error: give only one of --resource and --resource-type/);
  const bad = await jetway('clear-versions', '-t', 'ci', '--resource', 'repo', '-n');
  assert.equal(bad.code, 2);
  assert.match(bad.err, /--resource: argument format should be <pipeline>\/<resource>/);
});

test('clear-versions --resource: asks, then clears; a check finds the versions again', async () => {
  const versions = async () => {
    const res = await s.api.app.inject({ url: '/api/v1/teams/main/pipelines/demo/resources/repo/versions', headers: s.api.auth() });
    return (res.json() as { version: Record<string, string> }[]).map((v) => v.version);
  };
  answer('n\n');
  const refused = await jetway('clear-versions', '-t', 'ci', '--resource', 'demo/repo');
  assert.equal(refused.code, 1);
  assert.equal(refused.out, '!!! this will clear the version history of resource `demo/repo`\n\nare you sure? [yN]: ');
  assert.deepEqual(await versions(), [{ version: 'v1' }]);

  const cleared = await jetway('clear-versions', '-t', 'ci', '--resource', 'demo/repo', '-n');
  assert.equal(cleared.code, 0, cleared.err);
  assert.equal(cleared.out, '!!! this will clear the version history of resource `demo/repo`\n\n1 versions removed\n');
  assert.deepEqual(await versions(), []);
  await node.checkResource(pipelineId, 'repo', { version: 'v1' });
  assert.deepEqual(await versions(), [{ version: 'v1' }]);

  const unknown = await jetway('clear-versions', '-t', 'ci', '--resource', 'demo/nope', '-n');
  assert.equal(unknown.code, 1);
  assert.match(unknown.err, /error: resource nope in pipeline main\/demo not found \(HTTP 404\)/);
});

test('clear-versions --resource-type: the prompt names the other pipelines\' types sharing the history', async () => {
  const otherId = await node.setPipeline('other', OTHER_PIPELINE);
  for (const id of [pipelineId, otherId]) {
    const check = await node.checker.checkResourceType(id, 'custom', {});
    assert.equal((await node.waitForBuild(check.id)).status, 'succeeded', await node.logs(check.id));
  }
  answer('y\n');
  const r = await jetway('clear-versions', '-t', 'ci', '--resource-type', 'demo/custom');
  assert.equal(r.code, 0, r.err);
  assert.match(
    r.out,
    /^!!! this will clear the version history of resource type `demo\/custom`, which it shares with:\n- main\/other\/custom \(resource type\)\n\nare you sure\? \[yN\]: [1-9]\d* versions removed\n$/,
  );
  assert.match((await jetway('clear-versions', '-t', 'ci', '--resource-type', 'other/custom', '-n')).out, /\n0 versions removed\n$/, 'the other pipeline\'s type lost it too');
});
