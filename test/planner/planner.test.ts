import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parse } from 'yaml';
import { pipelineConfigSchema, jobStep, type PipelineConfig } from '../../src/config/index.ts';
import { createPlan, PlannerError } from '../../src/planner/planner.ts';
import type { Plan } from '../../src/model/plan.ts';

function pipeline(yaml: string): PipelineConfig {
  return pipelineConfigSchema.parse(parse(yaml));
}

function planFor(config: PipelineConfig, job: string, inputs: Record<string, Record<string, string>>, manual = false): Plan {
  const j = config.jobs?.find((x) => x.name === job);
  assert.ok(j);
  return createPlan({
    step: jobStep(j),
    resources: config.resources ?? [],
    resourceTypes: config.resource_types ?? [],
    buildInputs: inputs,
    manuallyTriggered: manual,
    ...(j.tags ? { jobTags: j.tags } : {}),
  });
}

const config = pipeline(`
resource_types:
- name: custom
  type: registry-image
  source: {repository: example/custom}
  defaults: {level: 1}
resources:
- name: repo
  type: mock
  source: {initial_version: a}
- name: thing
  type: custom
  source: {level: 2}
jobs:
- name: build
  tags: [job-tag]
  plan:
  - get: repo
    trigger: true
  - in_parallel:
    - get: thing
      tags: [own]
    - task: unit
      file: repo/task.yml
      attempts: 2
  - put: thing
    params: {file: out}
    get_params: {skip: true}
  ensure:
    put: repo
    no_get: true
`);

test('a job becomes a plan: hooks outermost, then the plan as a do', () => {
  const plan = planFor(config, 'build', { repo: { version: 'a' }, thing: { v: '1' } });
  assert.ok('ensure' in plan);
  const main = plan.ensure.step;
  assert.ok('do' in main);
  assert.equal(main.do.length, 3);
  const hook = plan.ensure.ensure;
  assert.ok('put' in hook, 'no_get leaves a bare put');
});

test('gets carry the resolved input version, the merged source and the type image', () => {
  const plan = planFor(config, 'build', { repo: { version: 'a' }, thing: { v: '1' } });
  assert.ok('ensure' in plan && 'do' in plan.ensure.step);
  const [getRepo, parallel] = plan.ensure.step.do;
  assert.ok(getRepo && 'get' in getRepo);
  assert.deepEqual(getRepo.get.version, { version: 'a' });
  assert.deepEqual(getRepo.get.image, { base_type: 'mock' });
  assert.deepEqual(getRepo.get.tags, ['job-tag'], 'leaf steps inherit the job tags');
  assert.ok(parallel && 'in_parallel' in parallel);
  const getThing = parallel.in_parallel.steps[0];
  assert.ok(getThing && 'get' in getThing);
  assert.deepEqual(getThing.get.source, { level: 2 }, 'source wins over the type defaults');
  assert.deepEqual(getThing.get.tags, ['own']);
  assert.equal(getThing.get.image.check_plan?.id, `${getThing.id}/image-check`);
});

test('attempts become retry copies with fresh ids', () => {
  const plan = planFor(config, 'build', { repo: { version: 'a' }, thing: { v: '1' } });
  assert.ok('ensure' in plan && 'do' in plan.ensure.step);
  const parallel = plan.ensure.step.do[1];
  assert.ok(parallel && 'in_parallel' in parallel);
  const retry = parallel.in_parallel.steps[1];
  assert.ok(retry && 'retry' in retry);
  assert.equal(retry.retry.length, 2);
  assert.notEqual(retry.retry[0]?.id, retry.retry[1]?.id);
  assert.deepEqual(retry.retry.map((p) => p.attempts), [[1], [2]]);
  const task = retry.retry[0];
  assert.ok(task && 'task' in task);
  assert.equal(task.task.config_path, 'repo/task.yml');
});

test('a put gets its implicit get of the produced version', () => {
  const plan = planFor(config, 'build', { repo: { version: 'a' }, thing: { v: '1' } }, true);
  assert.ok('ensure' in plan && 'do' in plan.ensure.step);
  const put = plan.ensure.step.do[2];
  assert.ok(put && 'on_success' in put);
  const { step, on_success: implicitGet } = put.on_success;
  assert.ok('put' in step && 'get' in implicitGet);
  assert.equal(implicitGet.get.version_from, step.id);
  assert.deepEqual(implicitGet.get.params, { skip: true });
  assert.equal(implicitGet.get.name, 'thing');
  const check = step.put.image.check_plan;
  assert.ok(check && 'check' in check);
  assert.equal(check.check.skip_interval, true, 'manual builds skip the image check interval');
});

test('plan ids are unique and stable for the same input', () => {
  const inputs = { repo: { version: 'a' }, thing: { v: '1' } };
  const a = planFor(config, 'build', inputs);
  const b = planFor(config, 'build', inputs);
  assert.deepEqual(a, b);
  const ids: string[] = [];
  JSON.stringify(a, (k, v: unknown) => {
    if (k === 'id' && typeof v === 'string') ids.push(v);
    return v;
  });
  assert.equal(new Set(ids).size, ids.length);
});

test('a missing input version is a planner error', () => {
  assert.throws(() => planFor(config, 'build', { repo: { version: 'a' } }), (e: unknown) => e instanceof PlannerError && /thing/.test(e.message));
});

test('across plans its sub-step once as a template', () => {
  const c = pipeline(`
jobs:
- name: j
  plan:
  - across:
    - var: v
      values: [1, 2]
      max_in_flight: all
    task: t
    config: {platform: linux, run: {path: echo}}
`);
  const plan = planFor(c, 'j', {});
  assert.ok('do' in plan);
  const across = plan.do[0];
  assert.ok(across && 'across' in across);
  assert.deepEqual(across.across.vars, [{ name: 'v', values: [1, 2], max_in_flight: 'all' }]);
  const template = JSON.parse(across.across.substep_template) as Plan;
  assert.ok('task' in template);
  assert.equal(template.task.name, 't');
});

test("a task's inline image_resource is planned as image-check + image-get under the task id", () => {
  const c = pipeline(`
resource_types:
- name: custom
  type: registry-image
  source: {repository: example/custom}
jobs:
- name: j
  plan:
  - task: with-image
    config:
      platform: linux
      image_resource: {type: custom, source: {repository: busybox}}
      run: {path: echo}
  - task: with-artifact
    image: something
    config:
      platform: linux
      image_resource: {type: registry-image, source: {repository: busybox}}
      run: {path: echo}
`);
  const plan = planFor(c, 'j', {});
  assert.ok('do' in plan);
  const [first, second] = plan.do;
  assert.ok(first && 'task' in first && second && 'task' in second);
  const image = first.task.image_plan;
  assert.equal(image?.check_plan?.id, `${first.id}/image-check`);
  assert.equal(image?.get_plan?.id, `${first.id}/image-get`);
  assert.equal(image?.base_type, 'registry-image', 'the custom type resolves down to its base type');
  const get = image?.get_plan;
  assert.ok(get && 'get' in get);
  assert.equal(get.get.name, 'image');
  assert.equal(get.get.image.get_plan?.id, `${first.id}/image-get/image-get`);
  assert.equal(second.task.image_plan, undefined, 'the image: artifact wins, so no image_resource plan');
});

// a run step as Concourse's VisitRun (atc/builds/planner.go): the prototype's defaults under the
// step's params as its object, the job's tags inherited; an unknown prototype is a planner error
const withPrototypes = pipeline(`
prototypes:
- name: npm
  type: registry-image
  source: {repository: concourse/npm-prototype}
  defaults: {registry: https://registry.npmjs.org, quiet: true}
jobs:
- name: lint
  tags: [fast]
  plan:
  - run: install
    type: npm
    params: {quiet: false, package: left-pad}
    privileged: true
`);
test('a run step is planned with its prototype: defaults under params, the privileged flag, inherited tags', () => {
  const j = withPrototypes.jobs?.[0];
  assert.ok(j);
  const plan = createPlan({ step: jobStep(j), resources: [], resourceTypes: [], prototypes: withPrototypes.prototypes ?? [], buildInputs: {}, manuallyTriggered: false, jobTags: ['fast'] });
  const run = JSON.stringify(plan).match(/"run":(\{[^}]*\{[^}]*\}[^}]*\})/)?.[1];
  assert.deepEqual(JSON.parse(run ?? 'null'), {
    message: 'install',
    type: 'npm',
    object: { registry: 'https://registry.npmjs.org', quiet: false, package: 'left-pad' },
    privileged: true,
    tags: ['fast'],
  });
});
test('a run step of an unknown prototype is a planner error naming it', () => {
  const j = withPrototypes.jobs?.[0];
  assert.ok(j);
  assert.throws(() => createPlan({ step: jobStep(j), resources: [], resourceTypes: [], buildInputs: {}, manuallyTriggered: false }), (err: unknown) => err instanceof PlannerError && err.message === "unknown prototype 'npm'");
});
