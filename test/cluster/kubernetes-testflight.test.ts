// The testflight cases (testflight-cases.ts) on the Kubernetes runtime: every check, get, put and
// task a pod on the kube-sim test cluster (real registry, runc containers), through the engine,
// with the same statuses and outputs as on the local runtime.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startTestNode, type TestNode } from '../support/node.ts';
import { startTargetKubeEnv, type TargetKubeEnv } from '../runtime/kubernetes/support.ts';
import type { KubernetesRuntime } from '../../src/runtime/kubernetes/kubernetes-runtime.ts';
import { TESTFLIGHT_CASES } from '../integration/testflight-cases.ts';

let env: TargetKubeEnv;
let node: TestNode;
let runtime: KubernetesRuntime;

before(async () => {
  env = await startTargetKubeEnv(['mock']);
  console.log(env.target.kind === 'real' ? `# on the cluster of ${env.target.kubeconfig}, namespace ${env.target.namespace}` : `# on the kube-sim test cluster: ${env.target.why}`);
  node = await startTestNode({ runtime: (root) => (runtime = env.runtime(root)) });
});
after(async () => {
  await runtime?.close();
  await node?.stop();
  await env?.stop();
});

const only = process.env.JETWAY_TESTFLIGHT_ONLY?.split(',');
for (const c of TESTFLIGHT_CASES) {
  if (c.kubernetes === false || (only && !only.includes(c.name))) continue;
  test(`kubernetes: ${c.title}`, () => c.run(node));
}

test('kubernetes: every step pod is deleted once its build finished', async () => {
  await node.engine.idle();
  const deadline = Date.now() + 15_000;
  while (runtime.watcher.list().some((p) => !p.metadata?.deletionTimestamp) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
  assert.deepEqual(runtime.watcher.list().filter((p) => !p.metadata?.deletionTimestamp).map((p) => p.metadata?.name), []);
});
