// Kubernetes builds survive a web-node restart or takeover (issue 17, docs/web-nodes.md
// "Re-attaching builds"): a build with a step before the restart and a long step during it ends
// `succeeded` after kill -9 of its web node (and a restart on the same data dir), after SIGTERM
// (the node drains and hands it over), and with two nodes when the one running it is killed.
// The first step runs once (pods created, from the API server's audit), and the long step's log
// lines are neither duplicated nor lost. The same for a put's and a get's resource script (a
// custom type's slow scripts). Real `jetway web` processes on the kube-sim test cluster.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CoreV1Api } from '@kubernetes/client-node';
import { freePort } from '../../src/db/embedded.ts';
import { loadPipeline } from '../../src/config/index.ts';
import { savePipeline, unpausePipeline } from '../../src/db/pipelines.ts';
import { buildEvents, createManualBuild, getBuild } from '../../src/db/builds.ts';
import { findJob } from '../../src/db/jobs.ts';
import { createTestDatabase, type TestDatabase } from '../support/db.ts';
import { startKubeEnv, type KubeEnv } from '../runtime/kubernetes/support.ts';
import { containersUnusable, DEFAULT_RUNC } from '../../src/runtime/local/containers/runc.ts';
import { RegistryClient } from '../../src/images/registry-client.ts';
import { assembleImage, buildBusyboxImage, buildLayer, DEFAULT_PATH, fileEntries, pushImage } from '../kube-sim/images/build.ts';

const BIN = join(import.meta.dirname, '..', '..', 'bin', 'jetway.js');

let env: KubeEnv;
let tdb: TestDatabase;
let dir: string;

// kube-sim runs its pods in runc containers (as root); `npm run chaos` runs this file too, where
// either may be missing: the scenarios are skipped saying why
const unusable = await containersUnusable(DEFAULT_RUNC);
const skip = unusable ? `kube-sim needs runc containers: ${unusable}` : false;

before(async () => {
  if (skip) return;
  // registry-image: the slow resource type below is a custom type resolved natively
  env = await startKubeEnv(['mock', 'registry-image']);
  await pushSlowType();
  tdb = await createTestDatabase();
  dir = await mkdtemp(join(tmpdir(), 'jw-k8s-restart-'));
});
after(async () => {
  await tdb?.drop();
  await env?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

async function webNode(port: number, opts: { dataDir?: string; nodeName?: string } = {}) {
  const f = env.flags();
  const args = [
    'web',
    '--port', String(port),
    '--bind-ip', '127.0.0.1',
    '--data-dir', opts.dataDir ?? dir,
    '--postgres-url', tdb.url,
    '--add-local-user', 'ci:restart-pass',
    '--scheduler-interval', '500ms',
    '--build-lease', '3s',
    ...(opts.nodeName ? ['--node-name', opts.nodeName] : []),
    '--runtime', 'kubernetes',
    '--kubernetes-kubeconfig', f.kubernetesKubeconfig!,
    '--kubernetes-namespace', 'default',
    '--kubernetes-helper-image', f.kubernetesHelperImage!,
    '--kubernetes-failed-pod-retention', '0s',
    '--kubernetes-image-pull-grace', '2s',
    '--kubernetes-pod-startup-timeout', '120s',
    ...(f.baseResourceType ?? []).flatMap((t) => ['--base-resource-type', t]),
  ];
  const child = spawn(process.execPath, [BIN, ...args], { env: { ...process.env, JETWAY_LOG_LEVEL: 'info' }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (c: Buffer) => (out += c.toString()));
  child.stderr.on('data', (c: Buffer) => (out += c.toString()));
  const exited = new Promise<number>((resolve) => child.on('exit', (code, signal) => resolve(code ?? (signal ? 128 : 1))));
  for (let i = 0; i < 1200; i++) {
    const health = await fetch(`http://127.0.0.1:${port}/api/v1/health`).catch(() => undefined);
    if (health?.status === 200) break;
    if (child.exitCode !== null) throw new Error(`jetway web exited: ${out}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  return { child, exited, output: () => out };
}

// generous: the machine running the suite may be loaded
async function waitUntil(what: string, fn: () => Promise<boolean>, timeoutMs = 240_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await fn())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

const LINES = 30;
let pipelines = 0;

/** A pipeline whose job has a short task `first`, then a task `long` printing `lines` lines over ~lines/2 s. */
async function longJob(lines = LINES) {
  const name = `reattach-${++pipelines}`;
  const loaded = loadPipeline(
    `
jobs:
- name: j
  plan:
  - task: first
    config:
      platform: linux
      image_resource: {type: mock, source: {mirror_self: true}}
      run: {path: sh, args: ["-c", "echo first ran"]}
  - task: long
    config:
      platform: linux
      image_resource: {type: mock, source: {mirror_self: true}}
      run: {path: sh, args: ["-c", "i=1; while [ $i -le ${lines} ]; do echo line $i; i=$((i+1)); sleep 0.5; done; echo done >&2"]}
`,
    { file: `${name}.yml`, vars: {} },
  );
  const saved = await savePipeline(tdb.db, { team: 'main', name, config: loaded.config! });
  await unpausePipeline(tdb.db, { team: 'main', name });
  const job = await findJob(tdb.db, saved.pipelineId, 'j');
  return { name, job: job! };
}

async function logsOf(buildId: number, source: 'stdout' | 'stderr' = 'stdout'): Promise<string> {
  return (await buildEvents(tdb.db, buildId))
    .flatMap((e) => (e.event.event === 'log' && e.event.data.origin.source === source ? [e.event.data.payload] : []))
    .join('');
}

/** Pods created for a step of the pipeline (the API server's audit: nothing ran twice). */
function podsCreated(pipeline: string, step: string): number {
  return env.cluster.audit.count({ verb: 'create', resource: 'pods', code: 201, labels: { 'jetway.dev/pipeline': pipeline, 'jetway.dev/step': step } });
}

/** The build ended as it would have without interruption: succeeded, every line once, each task's pod created once, its pods removed. */
async function endedAsIfUninterrupted(name: string, buildId: number, lines = LINES): Promise<void> {
  await waitUntil('the build to end', async () => (await getBuild(tdb.db, buildId))?.completed === true);
  const ended = await getBuild(tdb.db, buildId);
  const errors = (await buildEvents(tdb.db, buildId)).flatMap((e) => (e.event.event === 'error' ? [e.event.data.message] : []));
  assert.equal(ended?.status, 'succeeded', JSON.stringify(errors));
  const expected = Array.from({ length: lines }, (_, i) => `line ${i + 1}\n`).join('');
  assert.equal(await logsOf(buildId), `first ran\n${expected}`, 'every line once, in order');
  // stderr also has the image fetches' output
  assert.equal((await logsOf(buildId, 'stderr')).match(/^done$/gm)?.length, 1, 'the last line of stderr once');
  assert.equal(podsCreated(name, 'first'), 1, 'the first step ran once');
  assert.equal(podsCreated(name, 'long'), 1, 'the long step ran once');
  const api = env.kubeConfig().makeApiClient(CoreV1Api);
  await waitUntil("the build's pods to be removed", async () => (await api.listNamespacedPod({ namespace: 'default', labelSelector: `jetway.dev/pipeline=${name}` })).items.length === 0);
}

/** Runs the scenario: `interrupt` stops the node running the build mid-way through `long`; the build must still end succeeded. */
async function survives(interrupt: (build: { id: number }) => Promise<void>): Promise<void> {
  const { name, job } = await longJob();
  const build = await createManualBuild(tdb.db, job.id);
  await interrupt(build);
  await endedAsIfUninterrupted(name, build.id);
}

async function midLong(buildId: number): Promise<void> {
  await waitUntil('the long task to print a few lines', async () => /line 3\n/.test(await logsOf(buildId)));
}

test('kill -9 of the web node mid-build, restarted on the same data dir: the build goes on and succeeds, nothing twice, no line lost', { skip }, async () => {
  await survives(async (build) => {
    const first = await webNode(await freePort());
    try {
      await midLong(build.id);
    } finally {
      first.child.kill('SIGKILL');
      await first.exited;
    }
    const second = await webNode(await freePort());
    try {
      await waitUntil('the build to end', async () => (await getBuild(tdb.db, build.id))?.completed === true);
    } finally {
      second.child.kill('SIGTERM');
      assert.equal(await second.exited, 0, second.output());
    }
  });
});

test('SIGTERM drains: the web node hands the build over and exits; the next one re-attaches and the build succeeds', { skip }, async () => {
  await survives(async (build) => {
    const first = await webNode(await freePort());
    try {
      await midLong(build.id);
    } finally {
      first.child.kill('SIGTERM');
    }
    assert.equal(await first.exited, 0, first.output());
    assert.equal((await getBuild(tdb.db, build.id))?.status, 'started', 'handed over, not aborted');
    assert.match(first.output(), /build handed over/);
    const second = await webNode(await freePort());
    try {
      await waitUntil('the build to end', async () => (await getBuild(tdb.db, build.id))?.completed === true);
    } finally {
      second.child.kill('SIGTERM');
      await second.exited;
    }
  });
});

test('two web nodes, the one running the build killed: the other takes it over within the lease and it succeeds', { skip }, async (t) => {
  const dirA = await mkdtemp(join(tmpdir(), 'jw-k8s-a-'));
  const dirB = await mkdtemp(join(tmpdir(), 'jw-k8s-b-'));
  const a = await webNode(await freePort(), { dataDir: dirA, nodeName: 'node-a' });
  const b = await webNode(await freePort(), { dataDir: dirB, nodeName: 'node-b' });
  try {
    await survives(async (build) => {
      await midLong(build.id);
      const owner = (await tdb.db.query<{ owner_node: string }>('SELECT owner_node FROM builds WHERE id = $1', [build.id])).rows[0]?.owner_node;
      const victim = owner === 'node-a' ? a : b;
      victim.child.kill('SIGKILL');
      const killedAt = Date.now();
      await victim.exited;
      // RELIABILITY.md's takeover time on Kubernetes: until the other node owns the build
      const ownerNow = async () => (await tdb.db.query<{ owner_node: string }>('SELECT owner_node FROM builds WHERE id = $1', [build.id])).rows[0]?.owner_node;
      await waitUntil('the other node to take the build over', async () => (await ownerNow()) !== owner);
      const seconds = (Date.now() - killedAt) / 1000;
      t.diagnostic(`takeover of a kill -9'd node's build on Kubernetes: ${seconds.toFixed(1)} s (lease 3s)`);
      assert.ok(seconds < 30, `taken over in ${seconds} s`);
    });
  } finally {
    for (const n of [a, b]) {
      n.child.kill('SIGKILL');
      await n.exited;
    }
    await rm(dirA, { recursive: true, force: true });
    await rm(dirB, { recursive: true, force: true });
  }
});

// RELIABILITY.md's rolling-restart figure on Kubernetes: the Deployment's rolling update, two
// replicas, each stopped with SIGTERM and started again in turn while builds run.
const ROLLING_BUILDS = 3;
const ROLLING_LINES = 80; // 40 s: long enough for both nodes to restart while every build runs

test('rolling restart of two web nodes (SIGTERM, start again, one after the other) while builds run: every build succeeds, every line once, every task once', { skip }, async (t) => {
  const dirA = await mkdtemp(join(tmpdir(), 'jw-k8s-roll-a-'));
  const dirB = await mkdtemp(join(tmpdir(), 'jw-k8s-roll-b-'));
  const nodes = {
    a: await webNode(await freePort(), { dataDir: dirA, nodeName: 'node-a' }),
    b: await webNode(await freePort(), { dataDir: dirB, nodeName: 'node-b' }),
  };
  try {
    const builds: { name: string; id: number }[] = [];
    for (let i = 0; i < ROLLING_BUILDS; i++) {
      const { name, job } = await longJob(ROLLING_LINES);
      builds.push({ name, id: (await createManualBuild(tdb.db, job.id)).id });
    }
    for (const b of builds) await midLong(b.id);
    const owners = async () => (await tdb.db.query<{ owner_node: string | null }>('SELECT owner_node FROM builds WHERE id = ANY($1::int[]) ORDER BY id', [builds.map((b) => b.id)])).rows.map((r) => r.owner_node);
    t.diagnostic(`owners before: ${(await owners()).join(', ')}`);
    const rollStarted = Date.now();
    for (const [key, dataDir] of [['a', dirA], ['b', dirB]] as const) {
      const stopping = nodes[key];
      stopping.child.kill('SIGTERM');
      assert.equal(await stopping.exited, 0, stopping.output());
      nodes[key] = await webNode(await freePort(), { dataDir, nodeName: `node-${key}` });
    }
    const rollSeconds = (Date.now() - rollStarted) / 1000;
    // the rolling restart happened while the builds ran: none had ended when the last node was back
    for (const b of builds) assert.equal((await getBuild(tdb.db, b.id))?.completed, false, `build ${b.id} was still running when the restart ended`);
    t.diagnostic(`rolling restart of two nodes took ${rollSeconds.toFixed(1)} s; owners after: ${(await owners()).join(', ')}`);
    for (const b of builds) await endedAsIfUninterrupted(b.name, b.id, ROLLING_LINES);
    t.diagnostic(`${builds.length} of ${builds.length} builds succeeded with every line once and each task run once`);
  } finally {
    for (const n of Object.values(nodes)) {
      n.child.kill('SIGKILL');
      await n.exited;
    }
    await rm(dirA, { recursive: true, force: true });
    await rm(dirB, { recursive: true, force: true });
  }
});

// Gets and puts re-attached (issue 17): a custom resource type whose scripts take a few seconds,
// so the node can be stopped while one runs. Each script says once on stderr that it started
// and prints numbered lines; a second run (in a new pod, or the same pod started again) would
// say it twice.
const SLOW_LINES = 16;
const SLOW_SCRIPTS: Record<string, string> = {
  '/opt/resource/check': '#!/bin/sh\ncat >/dev/null\necho \'[{"ref":"v1"}]\'\n',
  '/opt/resource/in': [
    '#!/bin/sh',
    'req=$(cat)',
    'ref=$(printf "%s" "$req" | sed -n \'s/.*"ref":"\\([^"]*\\)".*/\\1/p\')',
    'echo "in started for $ref" >&2',
    'case "$req" in *\'"slow":true\'*) i=1; while [ $i -le ' + SLOW_LINES + ' ]; do echo "get line $i" >&2; i=$((i+1)); sleep 0.5; done;; esac',
    'echo "$ref" >"$1/ref"',
    'printf \'{"version":{"ref":"%s"},"metadata":[{"name":"fetched","value":"yes"}]}\\n\' "$ref"',
    '',
  ].join('\n'),
  '/opt/resource/out': [
    '#!/bin/sh',
    'cat >/dev/null',
    'echo "out started" >&2',
    'i=1; while [ $i -le ' + SLOW_LINES + ' ]; do echo "put line $i" >&2; i=$((i+1)); sleep 0.5; done',
    'echo \'{"version":{"ref":"pushed"},"metadata":[{"name":"by","value":"slow"}]}\'',
    '',
  ].join('\n'),
};
let slowTypeRepository = '';

async function pushSlowType(): Promise<void> {
  const base = await buildBusyboxImage();
  const image = assembleImage([...base.layers, await buildLayer(fileEntries(SLOW_SCRIPTS, 0o755))], { env: [DEFAULT_PATH], cmd: ['sh'] });
  await pushImage(new RegistryClient({ userAgent: 'jetway-restart-tests' }), { registry: env.registry, path: 'e2e/slow-resource' }, 'stable', image);
  slowTypeRepository = `${env.registry}/e2e/slow-resource`;
}

/** A job with one step of the slow type: `put: out` (then its implicit get), or `get: src` with the slow `in`. */
async function slowJob(kind: 'put' | 'get') {
  const name = `reattach-${kind}-${++pipelines}`;
  const step = kind === 'put' ? '  - put: out' : '  - get: src\n    params: {slow: true}';
  const loaded = loadPipeline(
    `
resource_types:
- name: slow
  type: registry-image
  source: {repository: ${slowTypeRepository}, tag: stable}
resources:
- name: ${kind === 'put' ? 'out' : 'src'}
  type: slow
  source: {}
jobs:
- name: j
  plan:
${step}
`,
    { file: `${name}.yml`, vars: {} },
  );
  const saved = await savePipeline(tdb.db, { team: 'main', name, config: loaded.config! });
  await unpausePipeline(tdb.db, { team: 'main', name });
  const job = await findJob(tdb.db, saved.pipelineId, 'j');
  return { name, pipelineId: saved.pipelineId, job: job! };
}

/** Pods created for the pipeline's step of this type (put, get, check). */
function podsOfType(pipeline: string, step: string, type: string): number {
  return env.cluster.audit.count({ verb: 'create', resource: 'pods', code: 201, labels: { 'jetway.dev/pipeline': pipeline, 'jetway.dev/step': step, 'jetway.dev/type': type } });
}

/** kill -9 of the node once `line` is in the build's stderr; a new node on the same data dir finishes the build. */
async function killMidScript(buildId: number, line: RegExp): Promise<void> {
  const first = await webNode(await freePort());
  try {
    await waitUntil(`the script to print ${line}`, async () => line.test(await logsOf(buildId, 'stderr')));
  } finally {
    first.child.kill('SIGKILL');
    await first.exited;
  }
  assert.equal((await getBuild(tdb.db, buildId))?.completed, false, 'the build was still running when its node was killed');
  const second = await webNode(await freePort());
  try {
    await waitUntil('the build to end', async () => (await getBuild(tdb.db, buildId))?.completed === true);
  } finally {
    second.child.kill('SIGTERM');
    await second.exited;
  }
}

async function endedSucceeded(buildId: number): Promise<string> {
  const ended = await getBuild(tdb.db, buildId);
  const errors = (await buildEvents(tdb.db, buildId)).flatMap((e) => (e.event.event === 'error' ? [e.event.data.message] : []));
  assert.equal(ended?.status, 'succeeded', JSON.stringify(errors));
  return logsOf(buildId, 'stderr');
}

const numbered = (what: string) => Array.from({ length: SLOW_LINES }, (_, i) => `${what} line ${i + 1}\n`).join('');

test('kill -9 of the web node while a put runs: the restarted node re-attaches to it; the script ran once, its version saved once, its implicit get fetched it once, the build succeeds', { skip }, async () => {
  const { name, pipelineId, job } = await slowJob('put');
  const build = await createManualBuild(tdb.db, job.id);
  await killMidScript(build.id, /put line 3\n/);
  const stderr = await endedSucceeded(build.id);
  assert.equal(stderr.match(/^out started$/gm)?.length, 1, `the out script ran once:\n${stderr}`);
  assert.ok(stderr.includes(numbered('put')), `every line of the put once, in order:\n${stderr}`);
  assert.equal(stderr.match(/^put line \d+$/gm)?.length, SLOW_LINES, 'no line twice');
  assert.equal(stderr.match(/^in started for pushed$/gm)?.length, 1, 'the implicit get fetched the pushed version once');
  assert.equal(podsOfType(name, 'out', 'put'), 1, "the put's pod was created once");
  // the type's check finds v1 as well; the put's version is saved once, as the build's one output
  const versions = await tdb.db.query<{ version: Record<string, string> }>(
    `SELECT v.version FROM resource_config_versions v JOIN resources r ON r.resource_config_scope_id = v.resource_config_scope_id WHERE r.pipeline_id = $1 AND r.name = 'out'`,
    [pipelineId],
  );
  assert.equal(versions.rows.filter((r) => r.version.ref === 'pushed').length, 1, 'the pushed version recorded once');
  const outputs = await tdb.db.query<{ n: string }>('SELECT count(*) AS n FROM build_resource_config_version_outputs WHERE build_id = $1', [build.id]);
  assert.equal(Number(outputs.rows[0]?.n), 1, "the build's one output");
});

test('kill -9 of the web node while a get runs: the restarted node re-attaches to it; the script ran once and the build succeeds', { skip }, async () => {
  const { name, job } = await slowJob('get');
  const build = await createManualBuild(tdb.db, job.id);
  await killMidScript(build.id, /get line 3\n/);
  const stderr = await endedSucceeded(build.id);
  assert.equal(stderr.match(/^in started for v1$/gm)?.length, 1, `the in script ran once:\n${stderr}`);
  assert.ok(stderr.includes(numbered('get')), `every line of the get once, in order:\n${stderr}`);
  assert.equal(stderr.match(/^get line \d+$/gm)?.length, SLOW_LINES, 'no line twice');
  assert.equal(podsOfType(name, 'src', 'get'), 1, "the get's pod was created once");
});

test('jetway web refuses a malformed Kubernetes flag as a usage error naming it', async () => {
  const run = (args: string[]) =>
    new Promise<{ code: number; out: string }>((resolve) => {
      const child = spawn(process.execPath, [BIN, 'web', '--add-local-user', 'a:b', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
      let out = '';
      child.stdout.on('data', (c: Buffer) => (out += c.toString()));
      child.stderr.on('data', (c: Buffer) => (out += c.toString()));
      child.on('exit', (code) => resolve({ code: code ?? 1, out }));
    });
  const bad = await run(['--runtime', 'kubernetes', '--base-resource-type', 'git']);
  assert.equal(bad.code, 2, bad.out);
  assert.match(bad.out, /--base-resource-type: 'git' is not NAME=IMAGE/);
  const grace = await run(['--runtime', 'kubernetes', '--kubernetes-image-pull-grace', 'soon']);
  assert.equal(grace.code, 2, grace.out);
  assert.match(grace.out, /--kubernetes-image-pull-grace: 'soon'/);
  const local = await run(['--kubernetes-namespace', 'ci']);
  assert.equal(local.code, 2, local.out);
  assert.match(local.out, /--kubernetes-namespace: needs --runtime kubernetes/);
});
