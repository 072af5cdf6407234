// The reaper on the simulated API server with no kubelet (pods stay Pending, nothing runs): the
// pods of finished or unknown builds go with their pull secrets, one pass at a time, and close()
// waits for the pass in progress.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CoreV1Api, KubeConfig, PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';
import type { Logger } from '../../../src/log.ts';
import { kubernetesRuntimeConfig } from '../../../src/runtime/kubernetes/config.ts';
import { KubernetesRuntime, type FinishedBuilds } from '../../../src/runtime/kubernetes/kubernetes-runtime.ts';
import { podSpec } from '../../../src/runtime/kubernetes/pod-spec.ts';
import { pullSecret, pullSecretName } from '../../../src/runtime/kubernetes/pull-secret.ts';
import type { ContainerMetadata } from '../../../src/runtime/runtime.ts';
import { startCluster, type Cluster } from '../../kube-sim/cluster.ts';

const CREDS = { registry: 'registry.ci', username: 'ci', password: 'hunter2' };

let cluster: Cluster;
let dir: string;
let kc: KubeConfig;
let api: CoreV1Api;
const runtimes: KubernetesRuntime[] = [];

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'jw-reaper-'));
  cluster = await startCluster({ stateDir: join(dir, 'cluster'), registry: false, kubeletFactory: null });
  kc = new KubeConfig();
  kc.loadFromFile(cluster.kubeconfigPath);
  api = kc.makeApiClient(CoreV1Api);
});

after(async () => {
  for (const r of runtimes) await r.close();
  await cluster?.stop();
  rmSync(dir, { recursive: true, force: true });
});

interface Logged {
  level: string;
  obj: object;
  msg: string | undefined;
}

function recordingLogger(into: Logged[]): Logger {
  const log =
    (level: string) =>
    (obj: object, msg?: string): void => {
      into.push({ level, obj, msg });
    };
  const logger: Logger = { debug: log('debug'), info: log('info'), warn: log('warn'), error: log('error'), child: () => logger };
  return logger;
}

function runtime(logged: Logged[] = [], retention?: string): KubernetesRuntime {
  const r = new KubernetesRuntime({
    config: kubernetesRuntimeConfig({ kubernetesHelperImage: 'registry.ci/jetway/helper:1', ...(retention ? { kubernetesFailedPodRetention: retention } : {}) }),
    root: join(dir, `root-${runtimes.length}`),
    kubeConfig: kc,
    logger: recordingLogger(logged),
    retry: { attempts: 3, baseDelayMs: 10, maxDelayMs: 100 },
  });
  runtimes.push(r);
  return r;
}

let handles = 0;
/** A step's pod as the runtime would make it (its build's pull secret, when `withPullSecret`), created in the cluster. */
async function createStepPod(r: KubernetesRuntime, metadata: Omit<ContainerMetadata, 'type'>, withPullSecret = false): Promise<string> {
  const handle = `${(++handles).toString(16).padStart(8, '0')}-0000-4000-8000-000000000000`;
  const buildId = metadata.buildId;
  let pullSecretNameForPod: string | undefined;
  if (withPullSecret && buildId !== undefined) {
    pullSecretNameForPod = pullSecretName(buildId, CREDS);
    await api.createNamespacedSecret({ namespace: r.namespace, body: pullSecret({ buildId }, CREDS, r.namespace) });
  }
  const pod = podSpec(
    { handle, metadata: { type: 'task', ...metadata }, image: { kind: 'reference', reference: 'registry.ci/app:1' }, inputs: [], outputs: [] },
    { ...r.config, namespace: r.namespace },
    pullSecretNameForPod !== undefined ? { pullSecretName: pullSecretNameForPod } : {},
  );
  await api.createNamespacedPod({ namespace: r.namespace, body: pod });
  return pod.metadata?.name ?? '';
}

async function podNames(r: KubernetesRuntime): Promise<string[]> {
  return (await api.listNamespacedPod({ namespace: r.namespace })).items.map((p) => p.metadata?.name ?? '').sort();
}

async function secretNames(r: KubernetesRuntime): Promise<string[]> {
  return (await api.listNamespacedSecret({ namespace: r.namespace })).items.map((s) => s.metadata?.name ?? '').filter((n) => n.startsWith('jetway-')).sort();
}

async function eventually(what: string, check: () => Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting: ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

async function removeAllPods(r: KubernetesRuntime): Promise<void> {
  await api.deleteCollectionNamespacedPod({ namespace: r.namespace, gracePeriodSeconds: 0 });
  await api.deleteCollectionNamespacedSecret({ namespace: r.namespace });
}

test('a pass deletes the pods of finished and unknown builds with their pull secrets; a running build keeps its pod', async () => {
  const r = runtime();
  const finishedPod = await createStepPod(r, { pipeline: 'main', job: 'unit', build: '1', buildId: 101, step: 'a' }, true);
  const runningPod = await createStepPod(r, { pipeline: 'main', job: 'unit', build: '2', buildId: 102, step: 'b' }, true);
  const unknownPod = await createStepPod(r, { step: 'no-build' });
  const asked: number[][] = [];
  const finished: FinishedBuilds = async (ids) => {
    asked.push([...ids].sort());
    return new Set([101]);
  };
  const reaped = await r.reap(finished);
  assert.deepEqual(reaped.sort(), [finishedPod, unknownPod].sort());
  assert.deepEqual(asked, [[101, 102]]);
  assert.deepEqual(await podNames(r), [runningPod]);
  assert.deepEqual(await secretNames(r), [pullSecretName(102, CREDS)]);
  await removeAllPods(r);
});

test('startReaper: a pass at once, then every interval, one at a time; close() waits for the pass in progress', async () => {
  const logged: Logged[] = [];
  const r = runtime(logged);
  await createStepPod(r, { pipeline: 'main', job: 'unit', build: '3', buildId: 103, step: 'a' });
  let inPass = 0;
  let mostAtOnce = 0;
  let passes = 0;
  let release: (() => void) | undefined;
  const finished: FinishedBuilds = async () => {
    passes++;
    inPass++;
    mostAtOnce = Math.max(mostAtOnce, inPass);
    // the second pass is held until the test lets it go
    if (passes === 2) await new Promise<void>((resolve) => (release = resolve));
    else await new Promise((resolve) => setTimeout(resolve, 30));
    inPass--;
    return new Set<number>();
  };
  r.startReaper(finished, 10);
  r.startReaper(finished, 10); // a second start is no second reaper
  await eventually('the second pass is held', async () => release !== undefined);
  // intervals passing while a pass is held start none beside it
  await new Promise((resolve) => setTimeout(resolve, 100));
  assert.equal(inPass, 1);
  let closed = false;
  const closing = r.close().then(() => (closed = true));
  await new Promise((resolve) => setTimeout(resolve, 50));
  assert.equal(closed, false, 'close() waits for the pass in progress');
  release?.();
  await closing;
  assert.equal(mostAtOnce, 1);
  const after = passes;
  await new Promise((resolve) => setTimeout(resolve, 100));
  assert.equal(passes, after, 'no pass after close()');
  assert.deepEqual(
    logged.filter((l) => l.level === 'warn'),
    [],
  );
  await removeAllPods(r);
});

test('a failing pass is logged with the Error under err, and the next pass runs', async () => {
  const logged: Logged[] = [];
  const r = runtime(logged);
  const pod = await createStepPod(r, { pipeline: 'main', job: 'unit', build: '4', buildId: 104, step: 'a' });
  let calls = 0;
  const finished: FinishedBuilds = async () => {
    calls++;
    if (calls === 1) throw new Error('database unavailable');
    return new Set([104]);
  };
  r.startReaper(finished, 20);
  await eventually('the pod is reaped by a later pass', async () => !(await podNames(r)).includes(pod));
  await r.close();
  const warning = logged.find((l) => l.msg === 'reaping pods failed');
  assert.ok(warning, 'the failure is logged');
  const err = (warning.obj as { err?: unknown }).err;
  assert.ok(err instanceof Error, 'err is the Error itself (its stack kept), not a string');
  assert.equal(err.message, 'database unavailable');
  assert.ok(logged.some((l) => l.msg === 'reaped pods of finished or unknown builds'));
});

test('close() before the first list: no pass starts afterwards', async () => {
  const r = runtime();
  await createStepPod(r, { pipeline: 'main', job: 'unit', build: '5', buildId: 105, step: 'a' });
  let passes = 0;
  r.startReaper(async () => {
    passes++;
    return new Set<number>();
  }, 10);
  await r.close();
  await new Promise((resolve) => setTimeout(resolve, 100));
  assert.equal(passes, 0);
  await removeAllPods(r);
});

test("a failed step's pod kept by one web node is left alone by another node's reaper until its retain-until passes", async () => {
  const nodeA = runtime([], '1h');
  const nodeB = runtime();
  const kept = await createStepPod(nodeA, { pipeline: 'main', job: 'unit', build: '6', buildId: 106, step: 'a' });
  await nodeA.finishPod(kept, true);
  const annotated = await api.readNamespacedPod({ name: kept, namespace: nodeA.namespace });
  const until = Date.parse(annotated.metadata?.annotations?.['jetway.dev/retain-until'] ?? '');
  assert.ok(until > Date.now() + 50 * 60_000, `retain-until about an hour ahead: ${annotated.metadata?.annotations?.['jetway.dev/retain-until']}`);
  const finished: FinishedBuilds = async () => new Set([106]);
  await nodeB.watcher.start();
  await eventually("node B's watch sees the annotation", async () => nodeB.watcher.get(kept)?.metadata?.annotations?.['jetway.dev/retain-until'] !== undefined);
  assert.deepEqual(await nodeB.reap(finished), []);
  await nodeB.releaseBuild(106);
  assert.ok((await podNames(nodeB)).includes(kept), 'a finished build keeps its pod kept for debugging');
  // the retention ran out (as an hour later): any node's reaper removes it
  await api.patchNamespacedPod(
    { name: kept, namespace: nodeA.namespace, body: { metadata: { annotations: { 'jetway.dev/retain-until': new Date(Date.now() - 1000).toISOString() } } } },
    setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
  );
  await eventually("node B's watch sees the new time", async () => Date.parse(nodeB.watcher.get(kept)?.metadata?.annotations?.['jetway.dev/retain-until'] ?? '') < Date.now());
  assert.deepEqual(await nodeB.reap(finished), [kept]);
  await removeAllPods(nodeA);
});

test("releaseBuild removes the finished build's pods a previous web node left at once, not at the reaper's next pass", async () => {
  const r = runtime();
  const left = await createStepPod(r, { pipeline: 'main', job: 'unit', build: '7', buildId: 107, step: 'a' });
  const other = await createStepPod(r, { pipeline: 'main', job: 'unit', build: '8', buildId: 108, step: 'a' });
  await r.watcher.start();
  await eventually('the watch lists both', async () => r.watcher.get(left) !== undefined && r.watcher.get(other) !== undefined);
  await r.releaseBuild(107);
  assert.deepEqual(await podNames(r), [other]);
  await removeAllPods(r);
});
