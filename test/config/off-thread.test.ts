// PipelineLoader (src/config/off-thread.ts) gives what loadPipeline gives, computed in a worker
// thread: the same config, errors, warnings and unresolved vars (structured clone keeps them).
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadPipeline, type LoadOptions } from '../../src/config/index.ts';
import { PipelineLoader } from '../../src/config/off-thread.ts';

const loader = new PipelineLoader();
after(() => loader.close());

const HELLO = readFileSync(join(import.meta.dirname, '..', '..', 'examples', 'hello.yml'), 'utf8');
const ROWS: { name: string; text: string; opts: LoadOptions }[] = [
  { name: 'the example pipeline, with a var', text: HELLO, opts: { vars: { registry: '127.0.0.1:5000' } } },
  { name: 'the example pipeline, its vars unresolved', text: HELLO, opts: {} },
  { name: 'errors located in a named file', text: 'jobs:\n- name: a\n  plan:\n  - get: nope\n', opts: { file: 'ci/p.yml' } },
  { name: 'strict: an unresolved var is an error', text: 'jobs:\n- name: a\n  plan:\n  - task: t\n    file: ((f))\n', opts: { strict: true } },
  { name: 'YAML that does not parse', text: 'jobs: [\n', opts: {} },
];
for (const row of ROWS) {
  test(`off the event loop, the same result: ${row.name}`, async () => {
    assert.deepEqual(await loader.load(row.text, row.opts), loadPipeline(row.text, row.opts));
  });
}
