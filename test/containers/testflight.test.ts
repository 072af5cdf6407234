// Concourse's testflight pipelines on the local runtime's containers (issue 19): the same cases as
// test/integration/testflight.test.ts, every step in a runc container from its image.
import { test, before, after } from 'node:test';
import { startTestNode, type TestNode } from '../support/node.ts';
import { TESTFLIGHT_CASES } from '../integration/testflight-cases.ts';
import { ContainerRuntime } from '../../src/runtime/local/containers/container-runtime.ts';
import { skipContainers } from './support.ts';

const skip = await skipContainers();
if (skip) console.log(`# skipped: the container runtime's tests need runc as root: ${skip}`);

let node: TestNode;
let runtime: ContainerRuntime | undefined;
before(async () => {
  if (skip) return;
  node = await startTestNode({ runtime: (root) => (runtime = new ContainerRuntime({ root, killGraceMs: 500, failedRetentionMs: 0 })) });
});
after(async () => {
  if (skip) return;
  await node.stop();
  await runtime?.close();
});

for (const c of TESTFLIGHT_CASES) test(c.title, { skip }, () => c.run(node));
