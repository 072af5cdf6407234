// Check storms (issue 17): a check whose container cannot even be created (the Kubernetes
// namespace is missing, the runtime is down) ends failed on its scope with the next check due
// one interval later, so the scanner does not create a check build on every scan (once ~14 a second).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { errorOf, harness } from './harness.ts';

const PIPELINE = `
resources:
- name: repo
  type: mock
  source: {uri: https://git.test/repo.git}
  check_every: 1h
`;
const HOUR = 3_600_000;

test('check: a container that cannot be created fails the check and its next one is due an interval later', async (t) => {
  const h = harness(t, { pipeline: PIPELINE });
  h.deps.runtime = {
    ...h.deps.runtime,
    name: h.deps.runtime.name,
    runsImages: h.deps.runtime.runsImages,
    createContainer: () => Promise.reject(new Error('namespaces "ci" not found')),
  };
  const outcome = await h.run(h.checkPlan('repo'));
  assert.match(errorOf(outcome), /namespaces "ci" not found/);
  const [scope] = h.store.scopes;
  assert.ok(scope);
  assert.equal(scope.lastCheckSucceeded, false);
  assert.ok(scope.lastCheckEndTime, 'the check that started also ended');
  assert.equal(scope.nextCheckTime!.getTime() - scope.lastCheckEndTime.getTime(), HOUR);
});
