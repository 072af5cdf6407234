// Concourse's own end-to-end pipelines (shared/fixtures/pipelines/testflight) run on Jetway's
// local runtime through check, trigger and build, with the results Concourse's suite expects.
// The cases (testflight-cases.ts) run on the Kubernetes runtime too (kubernetes-testflight.test.ts).
import { test, before, after } from 'node:test';
import { startTestNode, type TestNode } from '../support/node.ts';
import { TESTFLIGHT_CASES } from './testflight-cases.ts';

let node: TestNode;
before(async () => {
  node = await startTestNode();
});
after(async () => {
  await node.stop();
});

for (const c of TESTFLIGHT_CASES) test(c.title, () => c.run(node));
