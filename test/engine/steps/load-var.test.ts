// The load_var step on its own (Concourse's atc/exec/load_var_step_test.go): formats, redaction,
// and what a bad file does.
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, symlinkSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { StepConfig } from '../../../src/config/index.ts';
import { DIGEST, errorOf, eventData, eventTypes, harness, logged, type Harness } from './harness.ts';

const FORMATS: { name: string; file: string; content: string; format?: StepConfig['format']; value: unknown }[] = [
  { name: 'json by extension', file: 'v.json', content: '{"a": 1, "b": ["x"]}', value: { a: 1, b: ['x'] } },
  { name: 'yaml by extension', file: 'v.yaml', content: 'a: 1\nb: [x]\n', value: { a: 1, b: ['x'] } },
  { name: 'yml by extension', file: 'v.yml', content: 'a: 1\n', value: { a: 1 } },
  { name: 'trim for any other file', file: 'version', content: '  1.2.3\n', value: '1.2.3' },
  { name: 'raw by format: as it is', file: 'version', content: '  1.2.3\n', format: 'raw', value: '  1.2.3\n' },
  { name: 'format wins over the extension (trim of a .json)', file: 'v.json', content: '{"a": 1}\n', format: 'trim', value: '{"a": 1}' },
  { name: 'format wins over the extension (json of a .txt)', file: 'v.txt', content: '{"a": 1}', format: 'json', value: { a: 1 } },
];
for (const row of FORMATS) {
  test(`load_var: ${row.name}`, async (t) => {
    const h = harness(t);
    h.volume('vars', { [row.file]: row.content });
    const plan = h.stepPlan({ load_var: 'v', file: `vars/${row.file}`, ...(row.format ? { format: row.format } : {}) });

    assert.deepEqual(await h.run(plan), { ok: true });

    assert.deepEqual(h.state.localVar('v'), row.value);
    assert.deepEqual(eventTypes(h.events), ['initialize', 'start', 'finish']);
    assert.equal(eventData(h.events, 'finish')[0]?.succeeded, true);
    assert.deepEqual(h.runtime.containers, [], 'load_var needs no container');
  });
}

test('load_var: the var is usable as ((.:name)) by the steps after it', async (t) => {
  const h = harness(t, { task: (spec) => ({ exitStatus: 0, stdout: spec.secretEnv?.V ?? '' }) });
  h.volume('vars', { 'v.json': '{"nested": {"field": "from-file"}}' });
  assert.deepEqual(await h.run(h.stepPlan({ load_var: 'v', file: 'vars/v.json', reveal: true })), { ok: true });
  assert.deepEqual(await h.run(h.stepPlan({ task: 't', config: { platform: 'linux', params: { V: '((.:v.nested.field))' }, run: { path: 'true' } } })), { ok: true });
  assert.equal(h.runtime.containers[0]?.secretEnv?.V, 'from-file');
});

// the value is a secret unless `reveal: true`: a task printing it shows ((redacted))
const REDACTION: { name: string; reveal?: boolean; file: string; content: string; printed: string; log: string }[] = [
  { name: 'a value is redacted by default', file: 'token', content: 's3cr3t-token\n', printed: 'token: s3cr3t-token', log: 'token: ((redacted))' },
  { name: 'every string of a structured value is redacted', file: 'creds.yml', content: 'user: deploy-bot\npassword: hunter22\n', printed: 'deploy-bot:hunter22', log: '((redacted)):((redacted))' },
  { name: 'reveal: true leaves it in the logs', reveal: true, file: 'token', content: 's3cr3t-token\n', printed: 'token: s3cr3t-token', log: 'token: s3cr3t-token' },
];
for (const row of REDACTION) {
  test(`load_var: ${row.name}`, async (t) => {
    const h = harness(t, { task: () => ({ exitStatus: 0, stdout: row.printed }) });
    h.volume('vars', { [row.file]: row.content });
    assert.deepEqual(await h.run(h.stepPlan({ load_var: 'v', file: `vars/${row.file}`, ...(row.reveal ? { reveal: true } : {}) })), { ok: true });
    assert.deepEqual(await h.run(h.stepPlan({ task: 'print', config: { platform: 'linux', run: { path: 'true' } } })), { ok: true });
    assert.equal(logged(h.events, 'stdout'), row.log);
  });
}

const ERRORS: { name: string; file: string; content?: Record<string, string>; imageRef?: boolean; error: RegExp }[] = [
  { name: 'a missing file', file: 'vars/absent.json', content: { 'other.json': '{}' }, error: /^load_var 'v': file 'vars\/absent\.json' not found in artifact 'vars'$/ },
  { name: 'an unknown artifact', file: 'nope/v.json', error: /^load_var 'v': unknown artifact 'nope' in 'nope\/v\.json'$/ },
  { name: 'an artifact that is only an image reference', file: 'vars/v.json', imageRef: true, error: /^load_var 'v': artifact 'vars' is an image reference; 'vars\/v\.json' cannot be read from it$/ },
  { name: 'a file that is not in its format', file: 'vars/v.json', content: { 'v.json': '{not json' }, error: /^load_var 'v': vars\/v\.json is not valid json: / },
];
for (const row of ERRORS) {
  test(`load_var: ${row.name} is a step error`, async (t) => {
    const h = harness(t);
    if (row.content) h.volume('vars', row.content);
    if (row.imageRef) h.state.registerArtifact('vars', { kind: 'image-ref', reference: `registry.test/app@${DIGEST}`, digest: DIGEST });

    assert.match(errorOf(await h.run(h.stepPlan({ load_var: 'v', file: row.file }))), row.error);

    assert.deepEqual(eventTypes(h.events), ['initialize', 'start']);
    assert.equal(h.state.hasLocalVar('v'), false);
  });
}

// A file is read inside its artifact only (issue 16, finding 3; docs/security.md "Builds"). The
// build's own code fills the artifact, so it may hold `..`, absolute paths and symlinks that point
// at the web node's files: here a secret beside the artifact, and the web node's environment.
const SECRET = 'web-node-secret-do-not-leak';
function attacker(t: TestContext): { h: Harness; root: string } {
  const h = harness(t, { task: () => ({ exitStatus: 0 }) });
  const root = h.volume('o', { 'v.json': '{"ok": true}' });
  assert.ok(root.kind === 'volume');
  writeFileSync(join(h.dir, 'secret.txt'), SECRET);
  symlinkSync(join(h.dir, 'secret.txt'), join(root.path, 'abs-link'));
  symlinkSync('../../secret.txt', join(root.path, 'rel-link'));
  symlinkSync(h.dir, join(root.path, 'dir-link'));
  symlinkSync('/proc/self/environ', join(root.path, 'environ'));
  symlinkSync('v.json', join(root.path, 'inside-link.json'));
  symlinkSync('loop', join(root.path, 'loop'));
  mkdirSync(join(root.path, 'sub'));
  execFileSync('mkfifo', [join(root.path, 'fifo')]);
  writeFileSync(join(root.path, 'huge'), '');
  truncateSync(join(root.path, 'huge'), 10 * 1024 * 1024 + 1); // sparse: 10 MiB + 1 byte
  return { h, root: root.path };
}

const ESCAPES: { name: string; file: string; error: string }[] = [
  { name: '.. out of the artifact to the web node\'s environment', file: 'o/../../../../../../proc/self/environ', error: "load_var 'v': file 'o/../../../../../../proc/self/environ' is outside artifact 'o'" },
  { name: '.. just past the artifact', file: 'o/sub/../../secret.txt', error: "load_var 'v': file 'o/sub/../../secret.txt' is outside artifact 'o'" },
  { name: 'an absolute path', file: '/proc/self/environ', error: "load_var 'v': file '/proc/self/environ' is an absolute path; name a file inside an artifact as <artifact>/<path>" },
  { name: 'a NUL byte', file: 'o/v.json\u0000.txt', error: "load_var 'v': file 'o/v.json\\u0000.txt' contains a NUL byte" },
  { name: 'a symlink to an absolute path outside', file: 'o/abs-link', error: "load_var 'v': file 'o/abs-link' is outside artifact 'o' (through a symlink)" },
  { name: 'a relative symlink that climbs out', file: 'o/rel-link', error: "load_var 'v': file 'o/rel-link' is outside artifact 'o' (through a symlink)" },
  { name: 'a symlinked directory outside', file: 'o/dir-link/secret.txt', error: "load_var 'v': file 'o/dir-link/secret.txt' is outside artifact 'o' (through a symlink)" },
  { name: 'a symlink to /proc/self/environ', file: 'o/environ', error: "load_var 'v': file 'o/environ' is outside artifact 'o' (through a symlink)" },
  { name: 'a symlink loop', file: 'o/loop', error: "load_var 'v': file 'o/loop' in artifact 'o' is a symlink loop" },
  { name: 'a directory', file: 'o/sub', error: "load_var 'v': file 'o/sub' in artifact 'o' is not a regular file" },
  { name: 'a FIFO (which would block the web node)', file: 'o/fifo', error: "load_var 'v': file 'o/fifo' in artifact 'o' is not a regular file" },
  { name: 'a file over the 10 MiB limit', file: 'o/huge', error: "load_var 'v': file 'o/huge' in artifact 'o' is larger than the 10 MiB limit" },
  { name: 'the artifact alone', file: 'o', error: "load_var 'v': file 'o' names no file inside an artifact; write <artifact>/<path>" },
];
for (const row of ESCAPES) {
  test(`load_var: ${row.name} is refused`, async (t) => {
    const { h } = attacker(t);
    const outcome = await h.run(h.stepPlan({ load_var: 'v', file: row.file, reveal: true }));
    assert.equal(errorOf(outcome), row.error);
    assert.equal(h.state.hasLocalVar('v'), false);
    assert.doesNotMatch(JSON.stringify(h.events), new RegExp(SECRET), 'nothing of the file reaches the events');
    assert.doesNotMatch(row.error, new RegExp(h.dir), "the error does not show the volume's path on the web node");
  });
}

test('load_var: a symlink that stays inside the artifact is followed', async (t) => {
  const { h } = attacker(t);
  assert.deepEqual(await h.run(h.stepPlan({ load_var: 'v', file: 'o/inside-link.json' })), { ok: true });
  assert.deepEqual(h.state.localVar('v'), { ok: true });
  assert.deepEqual(await h.run(h.stepPlan({ load_var: 'w', file: 'o/sub/../v.json' })), { ok: true }, 'a .. that stays inside is fine');
  assert.deepEqual(h.state.localVar('w'), { ok: true });
});
