// Secrets never reach build events: not in log payloads (redacted as written), and not in any
// other event either, e.g. a version or metadata that echoes a ((var)) from a var source.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startTestNode, type TestNode } from '../support/node.ts';

const SECRET = 'tok-3b9e1f-from-the-var-source';
let node: TestNode;

before(async () => {
  node = await startTestNode();
});
after(async () => {
  await node?.stop();
});

test('a version and metadata carrying a secret are redacted in the build events; the build still gets the real value', async () => {
  const id = await node.setPipeline(
    'redaction',
    `
var_sources:
- name: vault
  type: dummy
  config: {vars: {token: ${SECRET}}}
resources:
- name: echo
  type: mock
  source: {initial_version: ((vault:token)), metadata: [{name: token, value: ((vault:token))}]}
jobs:
- name: use
  plan:
  - get: echo
  - task: show
    config:
      platform: linux
      inputs: [{name: echo}]
      run: {path: sh, args: [-c, 'test "$(cat echo/version)" = ${SECRET} && echo same-value']}
`,
  );
  await node.checkResource(id, 'echo');
  const build = await node.trigger(id, 'use');
  const logs = await node.logs(build.id);
  assert.equal(build.status, 'succeeded', logs);
  assert.match(logs, /same-value/);
  const events = await node.events(build.id);
  const finishGet = events.find((e) => e.event === 'finish-get');
  assert.deepEqual(finishGet?.data.version, { version: '((redacted))' });
  assert.deepEqual(finishGet?.data.metadata, [{ name: 'token', value: '((redacted))' }]);
  assert.doesNotMatch(JSON.stringify(events), new RegExp(SECRET));
});

test('an error message quoting a secret is redacted in the build events', async () => {
  const id = await node.setPipeline(
    'redaction-error',
    `
var_sources:
- name: vault
  type: dummy
  config: {vars: {token: ${SECRET}}}
jobs:
- name: loop
  plan:
  - across:
    - var: x
      values: ((vault:token))
    task: never
    config:
      platform: linux
      run: {path: "true"}
`,
  );
  const build = await node.trigger(id, 'loop');
  assert.equal(build.status, 'errored');
  const events = await node.events(build.id);
  const errors = events.filter((e) => e.event === 'error').map((e) => String(e.data.message));
  assert.ok(errors.some((m) => m.includes('values must be a list') && m.includes('((redacted))')), JSON.stringify(errors));
  assert.doesNotMatch(JSON.stringify(events), new RegExp(SECRET));
});
