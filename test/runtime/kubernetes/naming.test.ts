import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  fairShares,
  handleHex,
  keptForDebugging,
  labelSelector,
  podAnnotations,
  podLabels,
  podName,
  sanitizeLabelValue,
  sanitizeNamePart,
  workDirFor,
} from '../../../src/runtime/kubernetes/naming.ts';
import type { ContainerMetadata } from '../../../src/runtime/runtime.ts';
import { isDns1123Label, isLabelValue, isQualifiedKey } from './validate.ts';

const H = '3f2a9c1e-7b44-4d2a-9a0b-1c2d3e4f5a6b';
const H2 = '3f2a9c1f-0000-4d2a-9a0b-1c2d3e4f5a6b';

test('handleHex: a UUID gives its first 8 hex, anything else a stable hash', () => {
  assert.equal(handleHex(H), '3f2a9c1e');
  assert.equal(handleHex('ABCDEF12-3456'), 'abcdef12');
  assert.match(handleHex('abc'), /^[0-9a-f]{8}$/);
  assert.equal(handleHex('abc'), handleHex('abc'));
  assert.notEqual(handleHex('handle-one'), handleHex('handle-two'));
  assert.equal(workDirFor(H), '/tmp/build/3f2a9c1e');
});

test('pod names: readable, DNS-1123, at most 63 characters, hex and type always kept', () => {
  const job = (extra: Partial<ContainerMetadata>): ContainerMetadata => ({ type: 'task', pipeline: 'my-pipeline', job: 'unit-test', build: '42', buildId: 1042, ...extra });
  const cases: { meta: ContainerMetadata; handle?: string; expect: string | RegExp }[] = [
    { meta: job({}), expect: 'my-pipeline-unit-test-b42-task-3f2a9c1e' },
    { meta: job({ type: 'get' }), expect: 'my-pipeline-unit-test-b42-get-3f2a9c1e' },
    { meta: job({ type: 'put', build: '7.1' }), expect: 'my-pipeline-unit-test-b7-1-put-3f2a9c1e' },
    { meta: job({ pipeline: 'My_Pipeline', job: 'Unit Test!' }), expect: 'my-pipeline-unit-test-b42-task-3f2a9c1e' },
    { meta: job({ pipeline: 'Ünïcödé-Pïpeline', job: '日本語ジョブ' }), expect: 'unicode-pipeline-b42-task-3f2a9c1e' },
    { meta: job({ pipeline: '___', job: '---' }), expect: 'b42-task-3f2a9c1e' },
    { meta: job({ pipeline: 'p'.repeat(80), job: 'j' }), expect: `${'p'.repeat(43)}-j-b42-task-3f2a9c1e` },
    { meta: job({ pipeline: 'p'.repeat(80), job: 'j'.repeat(80) }), expect: `${'p'.repeat(22)}-${'j'.repeat(22)}-b42-task-3f2a9c1e` },
    { meta: job({ pipeline: 'a-'.repeat(40), job: 'j'.repeat(80) }), expect: /^a(-a)*-j+-b42-task-3f2a9c1e$/ },
    { meta: job({ build: '1234567890123456789' }), expect: /^my-pipeline-unit-test-b123456789012-task-3f2a9c1e$/ },
    { meta: { type: 'check', step: 'my-git-resource', pipeline: 'p', buildId: 5 }, expect: 'chk-my-git-resource-3f2a9c1e' },
    { meta: { type: 'check', step: 'R'.repeat(100) }, expect: `chk-${'r'.repeat(50)}-3f2a9c1e` },
    { meta: { type: 'check' }, expect: 'chk-3f2a9c1e' },
    { meta: { type: 'task', buildId: 17, build: '17' }, expect: 'build-17-task-3f2a9c1e' },
    { meta: { type: 'get', pipeline: 'p', buildId: 9, purpose: 'image' }, expect: 'build-9-get-3f2a9c1e' },
    { meta: { type: 'task' }, expect: 'build-task-3f2a9c1e' },
    { meta: job({}), handle: 'not-a-uuid', expect: /^my-pipeline-unit-test-b42-task-[0-9a-f]{8}$/ },
  ];
  for (const c of cases) {
    const name = podName(c.meta, c.handle ?? H);
    if (typeof c.expect === 'string') assert.equal(name, c.expect, JSON.stringify(c.meta));
    else assert.match(name, c.expect, JSON.stringify(c.meta));
    assert.ok(isDns1123Label(name), `${name} is a DNS-1123 label`);
    assert.ok(name.length <= 63, `${name} is at most 63`);
  }
});

test('two pods of the same step never share a name (the hex suffix)', () => {
  const meta: ContainerMetadata = { type: 'task', pipeline: 'x'.repeat(100), job: 'y'.repeat(100), build: '1' };
  assert.notEqual(podName(meta, H), podName(meta, H2));
  assert.notEqual(podName({ type: 'check', step: 'r' }, 'a'), podName({ type: 'check', step: 'r' }, 'b'));
});

test('fairShares: short parts keep their length, the rest is split evenly', () => {
  assert.deepEqual(fairShares([5, 100], 40), [5, 35]);
  assert.deepEqual(fairShares([100, 100], 40), [20, 20]);
  assert.deepEqual(fairShares([3, 4], 40), [3, 4]);
  assert.deepEqual(fairShares([100, 2, 100], 41), [19, 2, 20]);
  assert.deepEqual(fairShares([], 10), []);
});

test('sanitizers', () => {
  assert.equal(sanitizeNamePart('Hello_World..2'), 'hello-world-2');
  assert.equal(sanitizeNamePart('--x--'), 'x');
  assert.equal(sanitizeNamePart('日本'), '');
  assert.equal(sanitizeLabelValue('My Pipeline/with:stuff'), 'My-Pipeline-with-stuff');
  assert.equal(sanitizeLabelValue('_x_'), 'x');
  assert.equal(sanitizeLabelValue('a.b_c-D'), 'a.b_c-D');
  assert.equal(sanitizeLabelValue('x'.repeat(70) + '.'), 'x'.repeat(63));
  assert.equal(sanitizeLabelValue('x'.repeat(62) + '.y'), 'x'.repeat(62));
  assert.equal(sanitizeLabelValue('日本'), '');
});

test('labels: every key present and valid; values sanitised; purpose=image only for image pods; full names in annotations', () => {
  const meta: ContainerMetadata = {
    type: 'get',
    pipeline: 'Ünïcödé pipeline with a very long name that goes on and on and on forever',
    job: 'build_and_test',
    build: '12.3',
    buildId: 345,
    step: 'my repo',
    planId: 'abc123',
    team: 'main',
    purpose: 'image',
  };
  const labels = podLabels(meta, H);
  assert.deepEqual(labels, {
    'app.kubernetes.io/managed-by': 'jetway',
    'jetway.dev/type': 'get',
    'jetway.dev/handle': H,
    'jetway.dev/pipeline': 'Unicode-pipeline-with-a-very-long-name-that-goes-on-and-on-and',
    'jetway.dev/job': 'build_and_test',
    'jetway.dev/build': '12.3',
    'jetway.dev/build-id': '345',
    'jetway.dev/step': 'my-repo',
    'jetway.dev/team': 'main',
    'jetway.dev/purpose': 'image',
  });
  for (const [k, v] of Object.entries(labels)) {
    assert.ok(isQualifiedKey(k), k);
    assert.ok(isLabelValue(v), `${k}=${v}`);
  }
  const annotations = podAnnotations(meta, H);
  assert.equal(annotations['jetway.dev/pipeline'], meta.pipeline);
  assert.equal(annotations['jetway.dev/step'], 'my repo');
  assert.equal(annotations['jetway.dev/plan-id'], 'abc123');
  assert.equal(annotations['jetway.dev/handle'], H);
  for (const k of Object.keys(annotations)) assert.ok(isQualifiedKey(k), k);

  const plain = podLabels({ type: 'check', step: 'r' }, H);
  assert.equal(plain['jetway.dev/purpose'], undefined);
  assert.equal(plain['jetway.dev/pipeline'], undefined);
  assert.equal(plain['jetway.dev/type'], 'check');
});

test('labelSelector sanitises values like the labels and always selects Jetway pods', () => {
  assert.equal(
    labelSelector({ 'jetway.dev/pipeline': 'my pipeline', 'jetway.dev/build-id': 3 }),
    'app.kubernetes.io/managed-by=jetway,jetway.dev/pipeline=my-pipeline,jetway.dev/build-id=3',
  );
});

// keptForDebugging: one row per case (docs/web-nodes.md: every node's reaper honours retain-until)
const NOW = new Date('2026-12-02T12:00:00Z');
const keptRows: [string, Record<string, string> | undefined, boolean][] = [
  ['no annotations', undefined, false],
  ['no retain-until', { 'jetway.dev/plan-id': '3' }, false],
  ['retain-until ahead', { 'jetway.dev/retain-until': '2026-12-02T13:00:00Z' }, true],
  ['retain-until passed', { 'jetway.dev/retain-until': '2026-12-02T11:59:59Z' }, false],
  ['retain-until exactly now', { 'jetway.dev/retain-until': '2026-12-02T12:00:00Z' }, false],
  ['retain-until not a time', { 'jetway.dev/retain-until': 'soon' }, false],
];
for (const [name, annotations, kept] of keptRows) {
  test(`keptForDebugging: ${name} -> ${kept}`, () => {
    assert.equal(keptForDebugging(annotations, NOW), kept);
  });
}
