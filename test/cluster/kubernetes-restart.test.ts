// A web node killed mid-build on the Kubernetes runtime: the next web node ends the build errored
// with a reason (never stuck "started"), and its reaper removes the build's pod. Real `jetway web`
// processes (`--runtime kubernetes` and its flags) on the kube-sim test cluster.
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

const BIN = join(import.meta.dirname, '..', '..', 'bin', 'jetway.js');

let env: KubeEnv;
let tdb: TestDatabase;
let dir: string;

before(async () => {
  env = await startKubeEnv(['mock']);
  tdb = await createTestDatabase();
  dir = await mkdtemp(join(tmpdir(), 'jw-k8s-restart-'));
});
after(async () => {
  await tdb?.drop();
  await env?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

async function webNode(port: number) {
  const f = env.flags();
  const args = [
    'web',
    '--port', String(port),
    '--bind-ip', '127.0.0.1',
    '--data-dir', dir,
    '--postgres-url', tdb.url,
    '--add-local-user', 'ci:restart-pass',
    '--scheduler-interval', '500ms',
    '--runtime', 'kubernetes',
    '--kubernetes-kubeconfig', f.kubernetesKubeconfig!,
    '--kubernetes-namespace', 'default',
    '--kubernetes-helper-image', f.kubernetesHelperImage!,
    '--kubernetes-failed-pod-retention', '0s',
    '--kubernetes-image-pull-grace', '2s',
    '--kubernetes-pod-startup-timeout', '60s',
    ...(f.baseResourceType ?? []).flatMap((t) => ['--base-resource-type', t]),
  ];
  const child = spawn(process.execPath, [BIN, ...args], { env: { ...process.env, JETWAY_LOG_LEVEL: 'info' }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (c: Buffer) => (out += c.toString()));
  child.stderr.on('data', (c: Buffer) => (out += c.toString()));
  const exited = new Promise<number>((resolve) => child.on('exit', (code, signal) => resolve(code ?? (signal ? 128 : 1))));
  for (let i = 0; i < 200; i++) {
    const health = await fetch(`http://127.0.0.1:${port}/api/v1/health`).catch(() => undefined);
    if (health?.status === 200) break;
    if (child.exitCode !== null) throw new Error(`jetway web exited: ${out}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  return { child, exited, output: () => out };
}

async function waitUntil(what: string, fn: () => Promise<boolean>, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await fn())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

test('a web node killed mid-build: the next one ends the build errored with a reason and the reaper removes its pod', async () => {
  const loaded = loadPipeline(
    `
jobs:
- name: long
  plan:
  - task: sleepy
    config:
      platform: linux
      image_resource: {type: mock, source: {mirror_self: true}}
      run: {path: sleep, args: ["120"]}
`,
    { file: 'restart.yml', vars: {} },
  );
  const saved = await savePipeline(tdb.db, { team: 'main', name: 'restart', config: loaded.config! });
  await unpausePipeline(tdb.db, { team: 'main', name: 'restart' });
  const job = await findJob(tdb.db, saved.pipelineId, 'long');
  const api = env.kubeConfig().makeApiClient(CoreV1Api);
  const selector = 'jetway.dev/pipeline=restart,jetway.dev/job=long,jetway.dev/type=task';

  const first = await webNode(await freePort());
  let build;
  try {
    build = await createManualBuild(tdb.db, job!.id);
    await waitUntil('the task pod to run', async () => {
      const pods = await api.listNamespacedPod({ namespace: 'default', labelSelector: selector });
      return pods.items.some((p) => p.status?.phase === 'Running');
    });
    assert.equal((await getBuild(tdb.db, build.id))?.status, 'started');
  } finally {
    first.child.kill('SIGKILL');
    await first.exited;
  }
  // the pod outlives the web node
  const orphaned = await api.listNamespacedPod({ namespace: 'default', labelSelector: selector });
  assert.equal(orphaned.items.length, 1);

  const second = await webNode(await freePort());
  try {
    await waitUntil('the build to end', async () => (await getBuild(tdb.db, build.id))?.completed === true);
    const ended = await getBuild(tdb.db, build.id);
    assert.equal(ended?.status, 'errored');
    const messages = (await buildEvents(tdb.db, build.id)).flatMap((e) => (e.event.event === 'error' ? [e.event.data.message] : []));
    assert.ok(messages.some((m) => /web node restarted/.test(m)), JSON.stringify(messages));
    await waitUntil('the orphaned pod to be removed', async () => {
      const pods = await api.listNamespacedPod({ namespace: 'default', labelSelector: selector });
      return pods.items.length === 0;
    });
    assert.ok(env.cluster.audit.count({ verb: 'delete', resource: 'pods', name: orphaned.items[0]!.metadata!.name! }) >= 1);
    second.child.kill('SIGTERM');
    assert.equal(await second.exited, 0, second.output());
  } finally {
    second.child.kill('SIGKILL');
  }
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
