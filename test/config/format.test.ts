import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { join, relative } from 'node:path';
import { formatPipeline, decodePipeline } from '../../src/config/index.ts';
import { PIPELINE_FIXTURES } from '../support/shared.ts';

const FIXTURES = PIPELINE_FIXTURES;
const pipelines = ['testflight', 'jetway'].flatMap((dir) =>
  readdirSync(join(FIXTURES, dir))
    .filter((f) => f.endsWith('.yml'))
    .map((f) => join(FIXTURES, dir, f))
    .filter((p) => !/^platform:/m.test(readFileSync(p, 'utf8'))),
);

test('the fixtures to format are there', () => assert.ok(pipelines.length > 20));
for (const path of pipelines) {
  test(`formatting ${relative(PIPELINE_FIXTURES, path)} is stable and keeps the config: format(format(x)) == format(x), decode(format(x)) == decode(x)`, () => {
    const text = readFileSync(path, 'utf8');
    const once = formatPipeline(text);
    assert.ok(once.text);
    assert.equal(formatPipeline(once.text).text, once.text);
    assert.deepEqual(decodePipeline(once.text).config, decodePipeline(text).config);
  });
}

test('keys come out in the schema order, top-level unknown keys and comments are dropped', () => {
  const text = `# comment
jobs:
- plan:
  - trigger: true
    get: repo
  name: j
meta: dropped
resources:
- type: mock
  name: repo
  source: {b: 1, a: "yes"}
`;
  assert.equal(
    formatPipeline(text).text,
    `resources:
- name: repo
  type: mock
  source:
    b: 1
    a: "yes"
jobs:
- name: j
  plan:
  - get: repo
    trigger: true
`,
  );
});

test('a config that does not decode is not formatted; an invalid-but-decodable one is', () => {
  assert.equal(formatPipeline('jobs:\n- name: j\n  bogus: 1\n').text, undefined);
  assert.match(formatPipeline('jobs:\n- name: j\n  bogus: 1\n').errors[0]?.message ?? '', /unknown fields \["bogus"\]/);
  // unknown resource: semantically invalid, still formats
  assert.ok(formatPipeline('jobs:\n- name: j\n  plan: [{get: nope}]\n').text);
});
