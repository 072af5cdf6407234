// The load_var step on its own (Concourse's atc/exec/load_var_step_test.go): formats, redaction,
// and what a bad file does.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { StepConfig } from '../../../src/config/index.ts';
import { DIGEST, errorOf, eventData, eventTypes, harness, logged } from './harness.ts';

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
  { name: 'a missing file', file: 'vars/absent.json', content: { 'other.json': '{}' }, error: /ENOENT.*vars\/absent\.json/ },
  { name: 'an unknown artifact', file: 'nope/v.json', error: /^load_var 'v': unknown artifact 'nope' in 'nope\/v\.json'$/ },
  { name: 'an artifact that is only an image reference', file: 'vars/v.json', imageRef: true, error: /unknown artifact 'vars'/ },
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
