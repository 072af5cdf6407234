// Leaf steps end to end: real Postgres, the local runtime, the real mock resource as a process.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createTestDatabase, type TestDatabase } from '../support/db.ts';
import { loadPipeline, jobStep, type PipelineConfig } from '../../src/config/index.ts';
import { savePipeline } from '../../src/db/pipelines.ts';
import { createPlan } from '../../src/planner/planner.ts';
import { imageForType } from '../../src/planner/image-plan.ts';
import { PostgresEngineStore } from '../../src/db/engine-store.ts';
import { runBuild } from '../../src/engine/exec.ts';
import { BuildSteps, type StepDeps } from '../../src/engine/steps/index.ts';
import { RunState } from '../../src/engine/run-state.ts';
import { createInterpolator, Redactor, VarSources } from '../../src/engine/vars.ts';
import { LocalRuntime } from '../../src/runtime/local/local-runtime.ts';
import type { BuildEvent } from '../../src/model/build-events.ts';
import type { Plan } from '../../src/model/plan.ts';

let tdb: TestDatabase;
let root: string;
let pipelineId: number;
let config: PipelineConfig;

const PIPELINE = `
var_sources:
- name: vault
  type: dummy
  config:
    vars: {token: s3cr3t-value}
resource_types:
- name: mirrored-mock
  type: mock
  source: {mirror_self: true, initial_version: type-v1}
resources:
- name: repo
  type: mock
  source:
    initial_version: v1
    create_files: {script.sh: "echo hello from the repo", task.yml: "platform: linux\\nrun: {path: sh, args: [-c, 'echo task file $GREETING']}\\nparams: {GREETING: hi}\\n"}
- name: custom
  type: mirrored-mock
  source: {initial_version: c1}
- name: out
  type: mock
jobs:
- name: build
  plan:
  - get: repo
  - get: custom
  - task: run
    config:
      platform: linux
      image_resource: {type: registry-image, source: {repository: busybox}}
      inputs: [{name: repo}]
      outputs: [{name: result}]
      params: {SECRET: ((vault:token))}
      run: {path: sh, args: [-c, "sh repo/script.sh; echo token=$SECRET; echo built > result/file"]}
  - task: from-file
    file: repo/task.yml
  - put: out
    params: {version: shipped}
`;

before(async () => {
  tdb = await createTestDatabase();
  root = await mkdtemp(join(tmpdir(), 'jw-steps-'));
  const loaded = loadPipeline(PIPELINE);
  assert.deepEqual(loaded.errors, []);
  config = loaded.config!;
  pipelineId = (await savePipeline(tdb.db, { team: 'main', name: 'p', config })).pipelineId;
});
after(async () => {
  await tdb.drop();
  await rm(root, { recursive: true, force: true });
});

async function newBuild(): Promise<{ id: number; createTime: Date }> {
  const r = await tdb.db.query<{ id: number; create_time: Date }>(
    `INSERT INTO builds (name, team_id, pipeline_id, status) VALUES ('1', 1, $1, 'started') RETURNING id, create_time`,
    [pipelineId],
  );
  return { id: r.rows[0]!.id, createTime: r.rows[0]!.create_time };
}

function deps(build: { id: number; createTime: Date }): StepDeps {
  const redactor = new Redactor();
  return {
    store: new PostgresEngineStore(tdb.db),
    runtime: new LocalRuntime({ root }),
    build: { id: build.id, name: '1', teamId: 1, teamName: 'main', pipelineId, pipelineName: 'p', jobName: 'build', createTime: build.createTime },
    interpolator: createInterpolator(new VarSources(config.var_sources ?? []), redactor),
    redactor,
    externalUrl: 'http://jetway.test',
    artifactsDir: join(root, 'artifacts'),
    nativeImages: false,
    resourceTypes: config.resource_types ?? [],
  };
}

async function run(plan: Plan, d: StepDeps, state = new RunState()) {
  const events: BuildEvent[] = [];
  const status = await runBuild({ plan, leaves: new BuildSteps(d), sink: { emit: async (e) => { events.push(e); } }, signal: new AbortController().signal, state });
  return { status, events };
}

function checkPlan(resource: string): Plan {
  const r = config.resources!.find((x) => x.name === resource)!;
  return { id: 'c', check: { name: resource, type: r.type!, source: r.source ?? {}, resource, interval: '1m', skip_interval: true, image: imageForType('c', r.type!, (config.resource_types ?? []).map((t) => ({ name: t.name!, type: t.type!, source: t.source as Record<string, unknown> })), undefined, true) } };
}

async function versions(resource: string): Promise<string[]> {
  const r = await tdb.db.query<{ v: string }>(
    `SELECT v.version->>'version' AS v FROM resource_config_versions v JOIN resources r ON r.resource_config_scope_id = v.resource_config_scope_id
      WHERE r.name = $1 ORDER BY v.check_order`,
    [resource],
  );
  return r.rows.map((x) => x.v);
}

test('a check runs the mock check, saves the version and points the resource at its scope', async () => {
  const { status, events } = await run(checkPlan('repo'), deps(await newBuild()));
  assert.equal(status, 'succeeded');
  assert.deepEqual(await versions('repo'), ['v1']);
  assert.deepEqual(events.map((e) => e.event), ['initialize-check', 'finish']);
});

test('a check of a custom type fetches the type image first and keeps the cache chain', async () => {
  const { status, events } = await run(checkPlan('custom'), deps(await newBuild()));
  assert.equal(status, 'succeeded', JSON.stringify(events.filter((e) => e.event === 'error' || e.event === 'log')));
  assert.deepEqual(await versions('custom'), ['c1']);
  // custom's resource config hangs off the type image's resource cache, which hangs off `mock`
  const chain = await tdb.db.query<{ base: string | null; parent_base: string | null }>(
    `SELECT b.name AS base, pb.name AS parent_base FROM resources r
       JOIN resource_configs rc ON rc.id = r.resource_config_id
       LEFT JOIN base_resource_types b ON b.id = rc.base_resource_type_id
       LEFT JOIN resource_caches c ON c.id = rc.resource_cache_id
       LEFT JOIN resource_configs prc ON prc.id = c.resource_config_id
       LEFT JOIN base_resource_types pb ON pb.id = prc.base_resource_type_id
      WHERE r.name = 'custom'`,
  );
  assert.deepEqual(chain.rows, [{ base: null, parent_base: 'mock' }]);
  const types = await tdb.db.query<{ n: number }>(
    `SELECT count(*)::int AS n FROM resource_types t JOIN resource_config_versions v ON v.resource_config_scope_id = t.resource_config_scope_id WHERE t.name = 'mirrored-mock'`,
  );
  assert.equal(types.rows[0]!.n, 1, "the type's own version history got the image check's version");
  // as Concourse's FetchImage: the type image's sub-plans are announced (no pod marks locally)
  const imageEvents = events.filter((e) => e.event === 'image-check' || e.event === 'image-get');
  assert.deepEqual(
    imageEvents.map((e) => [e.event, (e.data as { origin: { id: string } }).origin.id, 'resolved_without_pod' in (e.data as object)]),
    [
      ['image-check', 'c', false],
      ['image-get', 'c', false],
    ],
  );
});

test('a job build runs get, task (inline and from a file), put and its implicit get, with secrets redacted', async () => {
  const job = config.jobs![0]!;
  const plan = createPlan({ step: jobStep(job), resources: config.resources!, resourceTypes: config.resource_types!, buildInputs: { repo: { version: 'v1' }, custom: { version: 'c1' } }, manuallyTriggered: false });
  const state = new RunState();
  const build = await newBuild();
  const { status, events } = await run(plan, deps(build), state);
  const logs = events.filter((e) => e.event === 'log').map((e) => (e.data as { payload: string }).payload).join('');
  assert.equal(status, 'succeeded', logs + JSON.stringify(events.filter((e) => e.event === 'error')));
  assert.match(logs, /hello from the repo/);
  assert.match(logs, /token=\(\(redacted\)\)/);
  assert.doesNotMatch(logs, /s3cr3t-value/);
  assert.match(logs, /task file hi/);
  assert.match(logs, /image is not applied/);
  const outputs = await tdb.db.query<{ name: string; version: unknown }>(
    `SELECT o.name, v.version FROM build_resource_config_version_outputs o
       JOIN resources r ON r.id = o.resource_id
       JOIN resource_config_versions v ON v.resource_config_scope_id = r.resource_config_scope_id AND v.version_sha256 = o.version_digest
      WHERE o.build_id = $1`,
    [build.id],
  );
  assert.deepEqual(outputs.rows, [{ name: 'out', version: { version: 'shipped' } }], "the put's version is the build's output, in the resource's history");
  const result = state.artifact('result');
  assert.ok(result && result.kind === 'volume');
  assert.equal(await readFile(join(result.path, 'file'), 'utf8'), 'built\n');
  const finishGets = events.filter((e) => e.event === 'finish-get').map((e) => (e.data as { version?: unknown }).version);
  assert.deepEqual(finishGets.at(-1), { version: 'shipped' }, 'the implicit get fetched what the put created');
  const order = events.map((e) => e.event).filter((e) => e.endsWith('-task'));
  assert.deepEqual(order, ['initialize-task', 'start-task', 'finish-task', 'initialize-task', 'start-task', 'finish-task']);
});

test('a failing task fails the build with its exit status; a missing var errors it', async () => {
  const failing: Plan = { id: 't', task: { name: 'x', config: { platform: 'linux', run: { path: 'sh', args: ['-c', 'exit 7'] } } } };
  const failed = await run(failing, deps(await newBuild()));
  assert.equal(failed.status, 'failed');
  assert.deepEqual(failed.events.filter((e) => e.event === 'finish-task').map((e) => (e.data as { exit_status: number }).exit_status), [7]);
  const missing: Plan = { id: 't', task: { name: 'x', config: { platform: 'linux', params: { X: '((nope:thing))' }, run: { path: 'true' } } } };
  const errored = await run(missing, deps(await newBuild()));
  assert.equal(errored.status, 'errored');
  assert.match(JSON.stringify(errored.events), /undefined vars: nope:thing/);
});

test('a task with a missing input errors naming it', async () => {
  const plan: Plan = { id: 't', task: { name: 'x', config: { platform: 'linux', inputs: [{ name: 'absent' }], run: { path: 'true' } } } };
  const r = await run(plan, deps(await newBuild()));
  assert.equal(r.status, 'errored');
  assert.match(JSON.stringify(r.events), /missing inputs: absent/);
});

test('one-off builds: an uploaded directory becomes an input, a named output becomes a tarball', async () => {
  const { mkdir: mk, writeFile: wf } = await import('node:fs/promises');
  const tar = await import('tar');
  const src = join(root, 'upload-src');
  await mk(src, { recursive: true });
  await wf(join(src, 'input.txt'), 'from the client\n');
  const upload = join(root, 'upload.tgz');
  await tar.c({ gzip: true, file: upload, cwd: src }, ['.']);
  const art = await tdb.db.query<{ id: number }>(`INSERT INTO artifacts (name, location) VALUES ('in', $1) RETURNING id`, [upload]);
  const build = await newBuild();
  const plan: Plan = {
    id: 'root',
    do: [
      { id: 'a', artifact_input: { artifact_id: art.rows[0]!.id, name: 'in' } },
      { id: 't', task: { name: 'work', config: { platform: 'linux', inputs: [{ name: 'in' }], outputs: [{ name: 'out' }], run: { path: 'sh', args: ['-c', 'tr a-z A-Z < in/input.txt > out/result.txt'] } } } },
      { id: 'o', artifact_output: { name: 'out' } },
    ],
  };
  const { status } = await run(plan, deps(build));
  assert.equal(status, 'succeeded');
  const stored = await tdb.db.query<{ location: string }>(`SELECT location FROM artifacts WHERE build_id = $1 AND name = 'out'`, [build.id]);
  assert.equal(stored.rows.length, 1);
  const dest = join(root, 'download');
  await mk(dest, { recursive: true });
  await tar.x({ file: stored.rows[0]!.location, cwd: dest });
  assert.equal(await readFile(join(dest, 'result.txt'), 'utf8'), 'FROM THE CLIENT\n');
});
