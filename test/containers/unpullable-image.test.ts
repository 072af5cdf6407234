// An image the local containers runtime cannot pull (issue 19, "Bad input"): the task's image get
// fails with the registry's reason, the build fails, and no container, mount or runc container
// is left behind.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { startTestNode, type TestNode } from '../support/node.ts';
import { ContainerRuntime } from '../../src/runtime/local/containers/container-runtime.ts';
import { mountsUnder } from '../../src/runtime/local/containers/rootfs.ts';
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

// port 9 (discard) on loopback: nothing listens, the connection is refused at once
const PIPELINE = `
jobs:
- name: j
  plan:
  - task: t
    config:
      platform: linux
      image_resource:
        type: registry-image
        source: {repository: 127.0.0.1:9/nope/nothing}
        version: {digest: "sha256:${'0'.repeat(64)}"}
      run: {path: echo, args: [never runs]}
`;

test('an image that cannot be pulled fails its step with the reason and leaves no container or mount', { skip }, async () => {
  const id = await node.setPipeline('unpullable', PIPELINE);
  const build = await node.trigger(id, 'j');
  const done = await node.waitForBuild(build.id);
  const logs = await node.logs(build.id);
  assert.ok(['failed', 'errored'].includes(done.status), `${done.status}: ${logs}`);
  assert.match(logs, /127\.0\.0\.1:9/, 'the log names the registry it could not reach');
  assert.doesNotMatch(logs, /never runs/);
  const root = runtime!.opts.root;
  assert.deepEqual(await mountsUnder(join(root, 'containers')), [], 'no mount left');
  assert.deepEqual(await readdir(join(root, 'containers')), [], 'no container directory left');
  assert.deepEqual(await runtime!.runc.list(), [], 'no runc container left');
});
