// The native image paths, decided by the engine on a runtime that runs images: which steps need
// a container at all. The runtime here records container requests (a test double of the Runtime
// interface); the registry is real. The Kubernetes adapter itself is tested on kube-sim.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, mkdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { createTestDatabase, type TestDatabase } from '../support/db.ts';
import { startRegistry, buildTestImage, pushTestImage, type TestRegistry } from '../support/registry.ts';
import { RegistryClient } from '../../src/images/registry-client.ts';
import { loadPipeline, jobStep, type PipelineConfig } from '../../src/config/index.ts';
import { savePipeline } from '../../src/db/pipelines.ts';
import { createPlan } from '../../src/planner/planner.ts';
import { imageForType } from '../../src/planner/image-plan.ts';
import { PostgresEngineStore } from '../../src/db/engine-store.ts';
import { runBuild } from '../../src/engine/exec.ts';
import { BuildSteps, type StepDeps } from '../../src/engine/steps/index.ts';
import { RunState } from '../../src/engine/run-state.ts';
import { createInterpolator, Redactor, VarSources } from '../../src/engine/vars.ts';
import type { BuildEvent } from '../../src/model/build-events.ts';
import type { Plan } from '../../src/model/plan.ts';
import type { Container, ContainerSpec, Runtime } from '../../src/runtime/runtime.ts';

class RecordingRuntime implements Runtime {
  readonly name = 'recording';
  readonly runsImages = true;
  specs: ContainerSpec[] = [];
  constructor(private readonly root: string) {}
  async createContainer(spec: ContainerSpec): Promise<Container> {
    this.specs.push(spec);
    const workDir = join(this.root, spec.handle);
    await mkdir(workDir, { recursive: true });
    return {
      handle: spec.handle,
      workDir,
      run: async () => ({ exitStatus: 0 }),
      artifact: async (path) => {
        await mkdir(join(workDir, path), { recursive: true });
        return { kind: 'volume', path: join(workDir, path) };
      },
      resourceScript: () => {
        throw new Error(`a resource script was run in a container (${spec.metadata.type} ${spec.metadata.step})`);
      },
      destroy: async () => {},
    };
  }
}

const creds = { username: 'ci', password: 'native-secret-1' };
let tdb: TestDatabase;
let registry: TestRegistry;
let root: string;
let appDigest: string;

before(async () => {
  tdb = await createTestDatabase();
  registry = await startRegistry({ htpasswd: creds });
  root = await mkdtemp(join(tmpdir(), 'jw-native-'));
  const image = buildTestImage({ layers: [[{ type: 'file', path: 'etc/app-release', content: 'v1\n' }]] });
  appDigest = await pushTestImage(new RegistryClient(), { registry: registry.host, path: 'team/app' }, 'v1', image, creds);
});
after(async () => {
  await tdb?.drop();
  await registry?.stop();
  await rm(root, { recursive: true, force: true });
});

function pipeline(): string {
  return `
resource_types:
- name: oci-artifact
  type: registry-image
  source: {repository: ${registry.host}/team/app, tag: v1, username: ${creds.username}, password: ${creds.password}}
  produces: registry-image
resources:
- name: app-image
  type: registry-image
  source: {repository: ${registry.host}/team/app, tag: v1, username: ${creds.username}, password: ${creds.password}}
- name: down
  type: registry-image
  source: {repository: 127.0.0.1:9/team/app, tag: v1}
jobs:
- name: use
  plan:
  - get: app-image
  - task: run
    image: app-image
    config: {platform: linux, run: {path: cat, args: [/etc/app-release]}}
  - task: with-image-resource
    config:
      platform: linux
      image_resource: {type: registry-image, source: {repository: ${registry.host}/team/app, tag: v1, username: ${creds.username}, password: ${creds.password}}}
      run: {path: "true"}
- name: fetch
  plan:
  - get: app-image
    params: {fetch_artifact: true}
- name: uses-down
  plan:
  - get: down
`;
}

async function setup(native: boolean) {
  const loaded = loadPipeline(pipeline());
  assert.deepEqual(loaded.errors, []);
  const config = loaded.config as PipelineConfig;
  const name = `p-${randomUUID().slice(0, 8)}`;
  const { pipelineId } = await savePipeline(tdb.db, { team: 'main', name, config });
  const runtime = new RecordingRuntime(join(root, name));
  const build = (await tdb.db.query<{ id: number; create_time: Date }>(`INSERT INTO builds (name, team_id, pipeline_id, status) VALUES ('1', 1, $1, 'started') RETURNING id, create_time`, [pipelineId])).rows[0]!;
  const redactor = new Redactor();
  const deps: StepDeps = {
    store: new PostgresEngineStore(tdb.db),
    runtime,
    build: { id: build.id, name: '1', teamId: 1, teamName: 'main', pipelineId, pipelineName: name, createTime: build.create_time },
    interpolator: createInterpolator(new VarSources([]), redactor),
    redactor,
    externalUrl: 'http://jetway.test',
    artifactsDir: join(root, 'artifacts'),
    nativeImages: native,
    resourceTypes: config.resource_types ?? [],
  };
  const run = async (plan: Plan) => {
    const events: BuildEvent[] = [];
    const status = await runBuild({ plan, leaves: new BuildSteps(deps), sink: { emit: async (e) => { events.push(e); } }, signal: new AbortController().signal, state: new RunState() });
    return { status, events };
  };
  const check = (resource: string): Plan => {
    const r = config.resources!.find((x) => x.name === resource)!;
    return { id: 'chk', check: { name: resource, type: r.type!, source: r.source as Record<string, unknown>, resource, interval: '1m', skip_interval: true, image: imageForType('chk', r.type!, [], undefined, true) } };
  };
  const jobPlan = (job: string, inputs: Record<string, Record<string, string>>): Plan =>
    createPlan({ step: jobStep(config.jobs!.find((j) => j.name === job)!), resources: config.resources!, resourceTypes: config.resource_types!, buildInputs: inputs, manuallyTriggered: false });
  return { runtime, run, check, jobPlan, config };
}

test('a registry-image check runs from the web node: the version is saved, no container', async () => {
  const { runtime, run, check } = await setup(true);
  const { status, events } = await run(check('app-image'));
  assert.equal(status, 'succeeded', JSON.stringify(events));
  assert.equal(runtime.specs.length, 0);
  const saved = await tdb.db.query<{ digest: string }>(`SELECT v.version->>'digest' AS digest FROM resource_config_versions v JOIN resources r ON r.resource_config_scope_id = v.resource_config_scope_id WHERE r.name = 'app-image' ORDER BY v.id DESC LIMIT 1`);
  assert.equal(saved.rows[0]?.digest, appDigest);
});

test('a get of an image resource and a task using it: only the task gets a container, from repository@digest with the credentials', async () => {
  const { runtime, run, jobPlan } = await setup(true);
  const { status, events } = await run(jobPlan('use', { 'app-image': { tag: 'v1', digest: appDigest } }));
  assert.equal(status, 'succeeded', JSON.stringify(events.filter((e) => e.event === 'error')));
  assert.deepEqual(runtime.specs.map((s) => s.metadata.type), ['task', 'task'], 'no get or check containers');
  const [first, second] = runtime.specs;
  assert.deepEqual(first!.image, { kind: 'reference', reference: `${registry.host}/team/app@${appDigest}`, pullCredentials: { registry: registry.host, ...creds } });
  assert.equal(second!.image.kind === 'reference' && second!.image.reference, `${registry.host}/team/app@${appDigest}`, 'image_resource resolved natively too');
  const gets = events.filter((e) => e.event === 'finish-get').map((e) => e.data as { resolved_without_pod?: boolean; version?: unknown });
  assert.ok(gets.length >= 2 && gets.every((g) => g.resolved_without_pod === true));
  assert.ok(events.some((e) => e.event === 'image-check') && events.some((e) => e.event === 'image-get'), 'image events still emitted');
  const caches = await tdb.db.query<{ n: number }>(`SELECT count(*)::int AS n FROM resource_caches c WHERE c.version->>'digest' = $1`, [appDigest]);
  assert.ok(caches.rows[0]!.n >= 1, 'the resource cache is written');
});

test('fetch_artifact: true downloads through a get container; the key never reaches the script', async () => {
  const { runtime, run, jobPlan } = await setup(true);
  await run(jobPlan('fetch', { 'app-image': { tag: 'v1', digest: appDigest } }));
  assert.deepEqual(runtime.specs.map((s) => s.metadata.type), ['get']);
});

test('with native images off, the same get takes a container', async () => {
  const { runtime, run, jobPlan } = await setup(false);
  await run(jobPlan('use', { 'app-image': { tag: 'v1', digest: appDigest } }));
  assert.ok(runtime.specs.some((s) => s.metadata.type === 'get'));
});

test('a registry that is down fails the check with its name and the status, and no container', async () => {
  const { runtime, run, check } = await setup(true);
  const { status, events } = await run(check('down'));
  assert.equal(status, 'failed');
  assert.equal(runtime.specs.length, 0);
  const errors = events.filter((e) => e.event === 'error').map((e) => (e.data as { message: string }).message).join('\n');
  assert.match(errors, /127\.0\.0\.1:9/);
  assert.doesNotMatch(JSON.stringify(events), new RegExp(creds.password));
});
