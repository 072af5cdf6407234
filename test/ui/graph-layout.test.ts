// The pipeline graph's layout (src/ui/app/graph-layout.ts), one test per pipeline: the fixture
// pipelines' jobs and resources in their layers, the edges between them (trigger or not), and
// the crossings left; made-up pipelines for what the fixtures do not show (crossings the sweeps
// remove, resources used by jobs of several layers, a group that hides a passed job, a cycle),
// and a generated pipeline of 100 jobs and 50 resources.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { jobInputs, jobOutputs, type Job } from '../../src/config/index.ts';
import { packagePath } from '../../src/package.ts';
import { layoutPipeline, type GraphJob, type GraphLayout } from '../../src/ui/app/graph-layout.ts';
import { generatedPipeline } from '../support/generated-pipeline.ts';
import { PIPELINE_FIXTURES as FIXTURES } from '../support/shared.ts';

/** A pipeline file's jobs as the API lists them (inputs with passed and trigger, outputs). */
function jobsOf(file: string): GraphJob[] {
  const config = parse(readFileSync(file, 'utf8')) as { jobs: (Job & { name: string })[] };
  const names = config.jobs.map((j) => j.name);
  return config.jobs.map((j) => ({ name: j.name, inputs: jobInputs(j, names), outputs: jobOutputs(j) }));
}

const get = (resource: string, trigger = false, passed?: string[]) => ({ name: resource, resource, trigger, ...(passed ? { passed } : {}) });
const job = (name: string, inputs: GraphJob['inputs'] = [], outputs: string[] = []): GraphJob => ({ name, inputs, outputs: outputs.map((r) => ({ name: r, resource: r })) });

/** `source -> target`, ` (dashed)` for an input that does not trigger. */
const edgeList = (l: GraphLayout): string[] => l.edges.map((e) => `${e.source} -> ${e.target}${e.trigger ? '' : ' (dashed)'}`).sort();

interface Row {
  name: string;
  jobs: () => GraphJob[];
  layers: string[][];
  edges: string[];
  crossings: number;
  /** the crossings of the first order, before the sweeps */
  before?: number;
}

const rows: Row[] = [
  {
    name: 'examples/hello.yml: source-code, unit, ship, release',
    jobs: () => jobsOf(packagePath('examples', 'hello.yml')),
    layers: [['input:source-code'], ['job:unit'], ['passed:unit:source-code'], ['job:ship'], ['output:release']],
    edges: ['input:source-code -> job:unit', 'job:ship -> output:release', 'job:unit -> passed:unit:source-code', 'passed:unit:source-code -> job:ship'],
    crossings: 0,
  },
  {
    name: 'jetway/native-images.yml: tool-image sits next to ship, the job that gets it, not in the first layer',
    jobs: () => jobsOf(join(FIXTURES, 'jetway', 'native-images.yml')),
    layers: [['input:source-code', 'input:app-image'], ['job:build'], ['passed:build:app-image', 'input:tool-image'], ['job:ship']],
    edges: ['input:app-image -> job:build (dashed)', 'input:source-code -> job:build', 'input:tool-image -> job:ship (dashed)', 'job:build -> passed:build:app-image', 'passed:build:app-image -> job:ship'],
    crossings: 0,
  },
  {
    name: 'testflight/image-resource-test.yml: a passed edge that does not trigger is dashed',
    jobs: () => jobsOf(join(FIXTURES, 'testflight', 'image-resource-test.yml')),
    layers: [['input:some-resource', 'input:some-image'], ['job:upstream-job'], ['passed:upstream-job:some-resource', 'passed:upstream-job:some-image'], ['job:downstream-job']],
    edges: ['input:some-image -> job:upstream-job (dashed)', 'input:some-resource -> job:upstream-job (dashed)', 'job:upstream-job -> passed:upstream-job:some-image', 'job:upstream-job -> passed:upstream-job:some-resource', 'passed:upstream-job:some-image -> job:downstream-job (dashed)', 'passed:upstream-job:some-resource -> job:downstream-job (dashed)'],
    crossings: 0,
  },
  {
    name: 'testflight/input-mapping-test.yml: a triggering passed edge is solid',
    jobs: () => jobsOf(join(FIXTURES, 'testflight', 'input-mapping-test.yml')),
    layers: [['input:some-resource'], ['job:upstream-job'], ['passed:upstream-job:some-resource'], ['job:downstream-job']],
    edges: ['input:some-resource -> job:upstream-job (dashed)', 'job:upstream-job -> passed:upstream-job:some-resource', 'passed:upstream-job:some-resource -> job:downstream-job'],
    crossings: 0,
  },
  {
    name: 'testflight/many-inputs.yml: one job, its two resources before it',
    jobs: () => jobsOf(join(FIXTURES, 'testflight', 'many-inputs.yml')),
    layers: [['input:some-resource-a', 'input:some-resource-b'], ['job:some-job']],
    edges: ['input:some-resource-a -> job:some-job (dashed)', 'input:some-resource-b -> job:some-job (dashed)'],
    crossings: 0,
  },
  {
    name: 'crossed passed edges in config order are uncrossed by the sweeps',
    // in the config's order y1 comes first but follows x2: the first order crosses once
    jobs: () => [job('y1', [get('b', true, ['x2'])]), job('y2', [get('a', true, ['x1'])]), job('x1', [get('a', true)]), job('x2', [get('b', true)])],
    layers: [['input:a', 'input:b'], ['job:x1', 'job:x2'], ['passed:x1:a', 'passed:x2:b'], ['job:y2', 'job:y1']],
    edges: ['input:a -> job:x1', 'input:b -> job:x2', 'job:x1 -> passed:x1:a', 'job:x2 -> passed:x2:b', 'passed:x1:a -> job:y2', 'passed:x2:b -> job:y1'],
    crossings: 0,
    before: 1,
  },
  {
    name: 'a resource got by jobs of two layers has an input box before each of them',
    jobs: () => [job('unit', [get('src', true)]), job('ship', [get('src', true, ['unit']), get('creds')])],
    layers: [['input:src'], ['job:unit'], ['passed:unit:src', 'input:creds'], ['job:ship']],
    edges: ['input:creds -> job:ship (dashed)', 'input:src -> job:unit', 'job:unit -> passed:unit:src', 'passed:unit:src -> job:ship'],
    crossings: 0,
  },
  {
    name: 'a resource put by jobs of two layers has an output box after each, and a put is solid',
    jobs: () => [job('a', [get('src', true)], ['report']), job('b', [get('src', false, ['a'])], ['report'])],
    layers: [['input:src'], ['job:a'], ['output:report', 'passed:a:src'], ['job:b'], ['output:report@4']],
    edges: ['input:src -> job:a', 'job:a -> output:report', 'job:a -> passed:a:src', 'job:b -> output:report@4', 'passed:a:src -> job:b (dashed)'],
    crossings: 0,
  },
  {
    name: "a group without the passed job: the input comes from the resource's box",
    jobs: () => [job('ship', [get('src', true, ['unit'])])],
    layers: [['input:src'], ['job:ship']],
    edges: ['input:src -> job:ship'],
    crossings: 0,
  },
  {
    name: 'a long edge passes layers: a job two stages down gets a version that passed the first',
    jobs: () => [job('a', [get('s', true)]), job('b', [get('s', true, ['a']), get('t', true)]), job('c', [get('s', true, ['a']), get('t', true, ['b'])])],
    layers: [['input:s'], ['job:a'], ['passed:a:s', 'input:t'], ['job:b'], ['passed:b:t'], ['job:c']],
    edges: ['input:s -> job:a', 'input:t -> job:b', 'job:a -> passed:a:s', 'job:b -> passed:b:t', 'passed:a:s -> job:b', 'passed:a:s -> job:c', 'passed:b:t -> job:c'],
    crossings: 0,
  },
  {
    name: 'two jobs joined by passed on two resources: a box and a line for each resource, as Concourse draws them',
    jobs: () => [job('build', [get('src', true), get('tools')]), job('test', [get('src', true, ['build']), get('tools', false, ['build'])])],
    layers: [['input:src', 'input:tools'], ['job:build'], ['passed:build:src', 'passed:build:tools'], ['job:test']],
    edges: ['input:src -> job:build', 'input:tools -> job:build (dashed)', 'job:build -> passed:build:src', 'job:build -> passed:build:tools', 'passed:build:src -> job:test', 'passed:build:tools -> job:test (dashed)'],
    crossings: 0,
  },
  {
    name: "a version that passed a job which puts the resource comes from that job's output box",
    jobs: () => [job('build', [get('src', true)], ['image']), job('test', [get('image', true, ['build'])]), job('scan', [get('image', false, ['build'])])],
    layers: [['input:src'], ['job:build'], ['passed:build:image'], ['job:test', 'job:scan']],
    edges: ['input:src -> job:build', 'job:build -> passed:build:image', 'passed:build:image -> job:scan (dashed)', 'passed:build:image -> job:test'],
    crossings: 0,
  },
  {
    name: 'a job without inputs stands alone in the first layer',
    jobs: () => [job('cron')],
    layers: [['job:cron']],
    edges: [],
    crossings: 0,
  },
  {
    name: 'a passed cycle (refused when set) is cut, and the layout still ends',
    jobs: () => [job('a', [get('r', true, ['b'])]), job('b', [get('r', true, ['a'])])],
    layers: [['job:a'], ['passed:a:r'], ['job:b'], ['passed:b:r']],
    edges: ['job:a -> passed:a:r', 'job:b -> passed:b:r', 'passed:a:r -> job:b'],
    crossings: 0,
  },
];

for (const row of rows) {
  test(row.name, () => {
    const l = layoutPipeline(row.jobs());
    assert.deepEqual(l.layers, row.layers);
    assert.deepEqual(edgeList(l), row.edges);
    assert.equal(l.crossings, row.crossings);
    if (row.before !== undefined) assert.equal(layoutPipeline(row.jobs(), { sweeps: 0 }).crossings, row.before);
    // every edge runs left to right, from the source's right side to the target's left side
    const node = new Map(l.nodes.map((n) => [n.id, n]));
    for (const e of l.edges) {
      const s = node.get(e.source)!;
      const t = node.get(e.target)!;
      assert.ok(t.layer > s.layer, `${e.id}: left to right`);
      assert.deepEqual(e.points[0], { x: s.x + s.width, y: s.y + s.height / 2 });
      assert.deepEqual(e.points.at(-1), { x: t.x, y: t.y + t.height / 2 });
      assert.equal(e.points.length, t.layer - s.layer + 1, `${e.id}: a point per layer`);
    }
  });
}

test('boxes of a layer do not overlap, and the graph holds them all', () => {
  const l = layoutPipeline(generatedPipeline().jobs);
  for (const layer of l.layers) {
    const boxes = layer.map((id) => l.nodes.find((n) => n.id === id)!);
    for (let i = 1; i < boxes.length; i++) assert.ok(boxes[i]!.y >= boxes[i - 1]!.y + boxes[i - 1]!.height, `${boxes[i]!.id} below ${boxes[i - 1]!.id}`);
  }
  for (const n of l.nodes) assert.ok(n.x >= 0 && n.y >= 0 && n.x + n.width <= l.width && n.y + n.height <= l.height, n.id);
});

test('100 jobs and 50 resources: every job drawn, the sweeps remove most crossings of the first order', () => {
  const { jobs } = generatedPipeline();
  const first = layoutPipeline(jobs, { sweeps: 0 });
  const l = layoutPipeline(jobs);
  assert.equal(l.nodes.filter((n) => n.kind === 'job').length, 100);
  assert.equal(l.layers.length, 21, 'ten stages of jobs, a layer of passed boxes between each two, inputs before and outputs after');
  assert.ok(l.crossings < first.crossings * 0.8, `${l.crossings} crossings after the sweeps, ${first.crossings} before`);
});

test("a passed box is the job's output box when the job puts the resource, else an input box; one box per job and resource, shared by the jobs after it", () => {
  const l = layoutPipeline([job('build', [get('src', true)], ['image']), job('test', [get('image', true, ['build']), get('src', true, ['build'])]), job('scan', [get('src', false, ['build'])])]);
  const kinds = Object.fromEntries(l.nodes.filter((n) => n.id.startsWith('passed:')).map((n) => [n.id, `${n.kind} ${n.name}`]));
  assert.deepEqual(kinds, { 'passed:build:image': 'output image', 'passed:build:src': 'input src' });
  assert.deepEqual(l.edges.filter((e) => e.source === 'passed:build:src').map((e) => e.target).sort(), ['job:scan', 'job:test']);
});
