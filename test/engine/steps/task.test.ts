// The task step on its own (Concourse's atc/exec/task_step_test.go): its config, env, inputs,
// outputs and image, on the in-memory store and the scripted runtime.
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { StepConfig } from '../../../src/config/index.ts';
import type { ContainerImage } from '../../../src/runtime/runtime.ts';
import { taskCacheKey } from '../../../src/runtime/task-caches.ts';
import type { Version } from '../../../src/model/version.ts';
import type { TaskHandler, TaskResult } from '../../support/scripted-runtime.ts';
import { DIGEST, errorOf, eventData, eventTypes, harness, logged, type Harness, type HarnessOptions } from './harness.ts';

const REGISTRY = '127.0.0.1:9';
const PIPELINE = `
var_sources:
- name: vault
  type: dummy
  config: {vars: {token: s3cr3t-value}}
resources:
- name: app-image
  type: registry-image
  source: {repository: ${REGISTRY}/team/app, tag: v1, username: ci, password: hunter22}
`;
const APP_VERSION: Version = { tag: 'v1', digest: DIGEST };
const RUN = { path: 'sh', args: ['-c', 'make test'] };

function setup(t: TestContext, options: HarnessOptions = {}): Harness {
  return harness(t, { pipeline: PIPELINE, task: () => ({ exitStatus: 0 }), ...options });
}

test('task: params become the env through secretEnv, the step overriding the config, values as Concourse writes them', async (t) => {
  const h = setup(t, { task: (spec): TaskResult => ({ exitStatus: 0, stdout: `token=${spec.secretEnv?.SECRET}\n` }) });
  const plan = h.stepPlan({
    task: 'unit',
    config: { platform: 'linux', params: { A: 'config', B: 'kept', N: 1, T: true, O: { k: 'v' }, Z: null, SECRET: '((vault:token))' }, run: RUN },
    params: { A: 'step' },
  });

  assert.deepEqual(await h.run(plan), { ok: true });

  const [spec] = h.runtime.containers;
  assert.deepEqual(spec?.secretEnv, { A: 'step', B: 'kept', N: '1', T: 'true', O: '{"k":"v"}', Z: '', SECRET: 's3cr3t-value' });
  assert.equal(spec.env, undefined, 'params never go into the plain env');
  const [run] = h.runtime.runs;
  assert.deepEqual(run?.process, RUN);
  assert.equal(run.env.A, 'step');
  assert.equal(logged(h.events, 'stdout'), 'token=((redacted))\n', 'the secret is redacted from the log');

  assert.deepEqual(eventTypes(h.events), ['initialize-task', 'selected-worker', 'start-task', 'finish-task']);
  const [init] = eventData(h.events, 'initialize-task');
  assert.deepEqual(init?.config, { platform: 'linux', run: RUN, inputs: [] }, 'the event shows the config without its params');
  assert.equal(eventData(h.events, 'finish-task')[0]?.exit_status, 0);
  assert.deepEqual(spec.image, { kind: 'none' });
  assert.equal(spec.metadata.type, 'task');
  assert.deepEqual(h.runtime.destroyed, [spec.handle]);
});

test("task: its container is made only once the step's start is recorded in the journal (StepContext.journaled)", async (t) => {
  const h = setup(t, { task: (): TaskResult => ({ exitStatus: 0, stdout: '' }) });
  const plan = h.stepPlan({ task: 'unit', config: { platform: 'linux', run: RUN } });
  let containersWhenRecorded = -1;
  const journaled = new Promise<void>((resolve) =>
    setTimeout(() => {
      containersWhenRecorded = h.runtime.containers.length;
      resolve();
    }, 30),
  );
  assert.deepEqual(await h.run(plan, undefined, journaled), { ok: true });
  assert.equal(containersWhenRecorded, 0, 'no container before the start was recorded');
  assert.equal(h.runtime.containers.length, 1);
});

test("task: a start the journal could not record fails the step before any container", async (t) => {
  const h = setup(t, { task: (): TaskResult => ({ exitStatus: 0, stdout: '' }) });
  const plan = h.stepPlan({ task: 'unit', config: { platform: 'linux', run: RUN } });
  const journaled = Promise.reject(new Error('the database is away'));
  journaled.catch(() => undefined);
  assert.deepEqual(await h.run(plan, undefined, journaled), { error: 'the database is away' });
  assert.equal(h.runtime.containers.length, 0);
});

test('task: inputs are placed in the container by input_mapping and path', async (t) => {
  const seen: string[] = [];
  const h = setup(t, {
    task: (_spec, _process, workDir) => {
      seen.push(readFileSync(join(workDir, 'source', 'src.txt'), 'utf8'), readFileSync(join(workDir, 'deps', 'lib', 'lib.txt'), 'utf8'));
      return { exitStatus: 0 };
    },
  });
  const repo = h.volume('repo', { 'src.txt': 'hello' });
  const lib = h.volume('lib', { 'lib.txt': 'library' });
  const plan = h.stepPlan({
    task: 'unit',
    config: { platform: 'linux', inputs: [{ name: 'source' }, { name: 'lib', path: 'deps/lib' }], run: RUN },
    input_mapping: { source: 'repo' },
  });

  assert.deepEqual(await h.run(plan), { ok: true });

  assert.deepEqual(h.runtime.containers[0]?.inputs, [
    { name: 'source', path: 'source', artifact: repo },
    { name: 'lib', path: 'deps/lib', artifact: lib },
  ]);
  assert.deepEqual(seen, ['hello', 'library']);
  assert.deepEqual(eventData(h.events, 'initialize-task')[0]?.config.inputs, [
    { name: 'source', path: 'source' },
    { name: 'lib', path: 'deps/lib' },
  ]);
});

const MISSING: { name: string; inputs: Record<string, unknown>[]; mapping?: Record<string, string>; error?: string }[] = [
  { name: 'a missing input errors naming it', inputs: [{ name: 'absent' }], error: 'missing inputs: absent' },
  { name: 'every missing input is named, by its mapped artifact', inputs: [{ name: 'a' }, { name: 'b' }], mapping: { a: 'gone' }, error: 'missing inputs: gone, b' },
  { name: 'a missing optional input is fine', inputs: [{ name: 'absent', optional: true }] },
];
for (const row of MISSING) {
  test(`task: ${row.name}`, async (t) => {
    const h = setup(t);
    const outcome = await h.run(h.stepPlan({ task: 'unit', config: { platform: 'linux', inputs: row.inputs, run: RUN }, ...(row.mapping ? { input_mapping: row.mapping } : {}) }));
    if (row.error === undefined) {
      assert.deepEqual(outcome, { ok: true });
      assert.deepEqual(h.runtime.containers[0]?.inputs, []);
      return;
    }
    assert.equal(errorOf(outcome), row.error);
    assert.deepEqual(eventTypes(h.events), ['initialize-task', 'error']);
    assert.equal(eventData(h.events, 'error')[0]?.message, row.error);
    assert.deepEqual(h.runtime.containers, [], 'no container for a task that cannot run');
  });
}

test('task: outputs are registered as artifacts, by output_mapping', async (t) => {
  const h = setup(t, { task: () => ({ exitStatus: 0, files: { 'result/bin': 'binary', 'out/logs/test.log': 'ok' } }) });
  const plan = h.stepPlan({
    task: 'unit',
    config: { platform: 'linux', outputs: [{ name: 'result' }, { name: 'logs', path: 'out/logs' }], run: RUN },
    output_mapping: { result: 'built' },
  });

  assert.deepEqual(await h.run(plan), { ok: true });

  const [spec] = h.runtime.containers;
  assert.deepEqual(spec?.outputs, [
    { name: 'result', path: 'result' },
    { name: 'logs', path: 'out/logs' },
  ]);
  const built = h.state.artifact('built');
  assert.deepEqual(built, { kind: 'volume', path: join(h.runtime.root, spec.handle, 'result'), handle: spec.handle });
  assert.equal(readFileSync(join(built.path, 'bin'), 'utf8'), 'binary');
  const logs = h.state.artifact('logs');
  assert.ok(logs?.kind === 'volume');
  assert.equal(readFileSync(join(logs.path, 'test.log'), 'utf8'), 'ok');
  assert.equal(h.state.artifact('result'), undefined, 'a mapped output goes by its new name only');
});

test('task: a non-zero exit fails it with that exit status; its outputs are still registered', async (t) => {
  const h = setup(t, { task: () => ({ exitStatus: 7, stderr: 'FAIL\n' }) });
  assert.deepEqual(await h.run(h.stepPlan({ task: 'unit', config: { platform: 'linux', outputs: [{ name: 'report' }], run: RUN } })), { ok: false });
  assert.deepEqual(eventData(h.events, 'finish-task').map((e) => e.exit_status), [7]);
  assert.equal(logged(h.events, 'stderr'), 'FAIL\n');
  assert.equal(h.state.artifact('report')?.kind, 'volume');
});

test('task: its timeout cancels the process and fails it', async (t) => {
  const waits: TaskHandler = (_spec, _process, _dir, signal) => new Promise((resolve) => signal.addEventListener('abort', () => resolve({ exitStatus: 137 }), { once: true }));
  const h = setup(t, { task: waits });
  assert.deepEqual(await h.run(h.stepPlan({ task: 'unit', timeout: '50ms', config: { platform: 'linux', run: RUN } })), { ok: false });
  assert.deepEqual(eventTypes(h.events), ['initialize-task', 'selected-worker', 'start-task', 'error']);
  assert.equal(eventData(h.events, 'error')[0]?.message, 'timeout exceeded');
  assert.equal(h.runtime.destroyed.length, 1);
});

test('task: a config from a file in an artifact, with its vars and caches', async (t) => {
  const h = setup(t);
  h.volume('ci', { 'task.yml': 'platform: linux\nrun: {path: ./ci/test.sh, args: [((suite))]}\nparams: {GREETING: ((greeting))}\ncaches: [{path: .cache}]\n' });
  const plan = h.stepPlan({ task: 'unit', file: 'ci/task.yml', vars: { suite: 'integration', greeting: 'hi' } });

  assert.deepEqual(await h.run(plan), { ok: true });

  const [run] = h.runtime.runs;
  assert.deepEqual(run?.process, { path: './ci/test.sh', args: ['integration'] });
  assert.deepEqual(run.container.secretEnv, { GREETING: 'hi' });
  assert.deepEqual(run.container.caches, [{ path: '.cache', key: taskCacheKey(h.pipelineId!, 'build', 'unit') }]);
});

// A task file is read inside its artifact only (issue 16, finding 3; docs/security.md "Builds"),
// and a missing one says where it was looked for, not the volume's path on the web node.
const TASK_FILES: { name: string; file: string; error: string }[] = [
  { name: 'a missing task file names the step, the file and the artifact', file: 'ci/absent.yml', error: "task 'unit': file 'ci/absent.yml' not found in artifact 'ci'" },
  { name: 'a task file .. out of its artifact is refused', file: 'ci/../../outside.yml', error: "task 'unit': file 'ci/../../outside.yml' is outside artifact 'ci'" },
  { name: 'a task file that is a symlink out of its artifact is refused', file: 'ci/link.yml', error: "task 'unit': file 'ci/link.yml' is outside artifact 'ci' (through a symlink)" },
  { name: 'an absolute task file is refused', file: '/etc/passwd', error: "task 'unit': file '/etc/passwd' is an absolute path; name a file inside an artifact as <artifact>/<path>" },
];
for (const row of TASK_FILES) {
  test(`task: ${row.name}`, async (t) => {
    const h = setup(t);
    const ci = h.volume('ci', { 'task.yml': 'platform: linux\nrun: {path: sh}\n' });
    assert.ok(ci.kind === 'volume');
    // a valid task config beside the artifact: read, it would run
    writeFileSync(join(h.dir, 'volumes', 'outside.yml'), 'platform: linux\nrun: {path: sh}\n');
    symlinkSync(join(h.dir, 'volumes', 'outside.yml'), join(ci.path, 'link.yml'));

    assert.equal(errorOf(await h.run(h.stepPlan({ task: 'unit', file: row.file }))), row.error);
    assert.deepEqual(h.runtime.containers, [], 'nothing ran');
  });
}

test('task: a missing var in the config errors the step', async (t) => {
  const h = setup(t);
  const outcome = await h.run(h.stepPlan({ task: 'unit', config: { platform: 'linux', params: { X: '((vault:nope))' }, run: RUN } }));
  assert.match(errorOf(outcome), /undefined vars: vault:nope/);
  assert.deepEqual(h.runtime.containers, []);
});

// ---------------------------------------------------------------- images, on a runtime that runs them

const BUSYBOX = { type: 'registry-image', source: { repository: `${REGISTRY}/library/busybox` }, version: { digest: DIGEST } };
const APP_REFERENCE = { kind: 'reference', reference: `${REGISTRY}/team/app@${DIGEST}`, pullCredentials: { registry: REGISTRY, username: 'ci', password: 'hunter22' } };

const IMAGES: { name: string; steps: StepConfig[]; files?: Record<string, string>; image: ContainerImage; containers: string[]; imageCaches: number }[] = [
  {
    name: 'an image_resource of registry-image pinned to a digest is used as it is (decision 2a)',
    steps: [{ task: 'unit', config: { platform: 'linux', image_resource: BUSYBOX, run: RUN } }],
    image: { kind: 'reference', reference: `${REGISTRY}/library/busybox@${DIGEST}` },
    containers: ['task'],
    imageCaches: 1,
  },
  {
    name: 'the same from a task file (its image planned at run time)',
    steps: [{ task: 'unit', file: 'ci/task.yml' }],
    files: { 'task.yml': `platform: linux\nimage_resource: {type: registry-image, source: {repository: ${REGISTRY}/library/busybox}, version: {digest: ${DIGEST}}}\nrun: {path: sh}\n` },
    image: { kind: 'reference', reference: `${REGISTRY}/library/busybox@${DIGEST}` },
    containers: ['task'],
    imageCaches: 1,
  },
  {
    name: 'an image: artifact of a get by reference, with its credentials',
    steps: [{ get: 'app-image' }, { task: 'unit', image: 'app-image', config: { platform: 'linux', run: RUN } }],
    image: APP_REFERENCE as ContainerImage,
    containers: ['task'],
    imageCaches: 0,
  },
  {
    name: 'an image: artifact of a get that downloaded (decision 11)',
    steps: [{ get: 'app-image', params: { fetch_artifact: true } }, { task: 'unit', image: 'app-image', config: { platform: 'linux', run: RUN } }],
    image: APP_REFERENCE as ContainerImage,
    containers: ['get', 'task'],
    imageCaches: 0,
  },
  {
    name: 'rootfs_uri',
    steps: [{ task: 'unit', config: { platform: 'linux', rootfs_uri: 'docker:///busybox#1.36', run: RUN } }],
    image: { kind: 'reference', reference: 'busybox:1.36' },
    containers: ['task'],
    imageCaches: 0,
  },
];
for (const row of IMAGES) {
  test(`task (native): ${row.name}`, async (t) => {
    const h = setup(t, {
      nativeImages: true,
      runsImages: true,
      // registry-image's `in` writes the repository and digest it fetched
      resource: (_spec, _script, request) => ({ exitStatus: 0, response: { version: (request as { version: Version }).version }, files: { repository: `${REGISTRY}/team/app\n`, digest: `${DIGEST}\n` } }),
    });
    if (row.files) h.volume('ci', row.files);
    const plan = h.stepPlan(row.steps, { 'app-image': APP_VERSION });

    assert.deepEqual(await h.run(plan), { ok: true });

    assert.deepEqual(h.runtime.containers.map((c) => c.metadata.type), row.containers);
    assert.deepEqual(h.runtime.containers.at(-1)?.image, row.image);
    assert.equal(h.store.imageResourceCaches.length, row.imageCaches);
    if (row.imageCaches > 0) {
      const image = h.store.resourceCaches.find((c) => c.id === h.store.imageResourceCaches[0]!.resourceCacheId);
      assert.deepEqual(image?.version, { digest: DIGEST });
      const [imageGet] = eventData(h.events, 'image-get');
      assert.equal(imageGet?.resolved_without_pod, true);
      assert.equal(h.events.some((e) => e.event === 'image-check'), false, 'a pinned digest needs no check');
    }
  });
}

// docs/image-features.md, decision 9: a version without a digest falls back to repository:tag, and the build log says it is mutable
test('task (native): an image_resource pinned to a tag (no digest) runs repository:tag, with no registry request, and logs that the reference is mutable', async (t) => {
  const h = setup(t, { nativeImages: true, runsImages: true });
  // nothing listens at REGISTRY: a registry request would fail the step
  const imageResource = { type: 'registry-image', source: { repository: `${REGISTRY}/library/busybox`, tag: 'latest' }, version: { tag: 'v1' } };
  const plan = h.stepPlan({ task: 'unit', config: { platform: 'linux', image_resource: imageResource, run: RUN } });

  assert.deepEqual(await h.run(plan), { ok: true });

  const reference = `${REGISTRY}/library/busybox:v1`;
  assert.deepEqual(h.runtime.containers.map((c) => [c.metadata.type, c.image]), [['task', { kind: 'reference', reference }]]);
  assert.equal(h.events.some((e) => e.event === 'image-check'), false, 'a pinned version needs no check');
  const imageGetId = `${plan.id}/image-get`;
  const log = eventData(h.events, 'log').find((l) => l.origin.id === imageGetId);
  assert.equal(log?.payload, `the version {"tag":"v1"} of image 'image' has no digest: using ${reference}, a mutable reference (the image behind it may change between pulls)\n`);
  const image = h.store.resourceCaches.find((c) => c.id === h.store.imageResourceCaches[0]?.resourceCacheId);
  assert.deepEqual(image?.version, { tag: 'v1' });
});

test('task: on a runtime that does not run images, the image is not applied and the task says so', async (t) => {
  const h = setup(t, { runsImages: false });
  // an unpinned registry image: resolving it would need a registry, which must not happen here
  const plan = h.stepPlan({ task: 'unit', config: { platform: 'linux', image_resource: { type: 'registry-image', source: { repository: `${REGISTRY}/library/busybox` } }, run: RUN } });

  assert.deepEqual(await h.run(plan), { ok: true });

  const note = "the scripted runtime runs tasks as processes on this host: the task's image is not applied";
  assert.equal(eventData(h.events, 'initialize-task')[0]?.message, note);
  assert.equal(logged(h.events, 'stderr'), `${note}\n`);
  assert.deepEqual(h.runtime.containers.map((c) => [c.metadata.type, c.image]), [['task', { kind: 'none' }]]);
  assert.deepEqual(eventTypes(h.events), ['initialize-task', 'selected-worker', 'start-task', 'finish-task']);
});
