// GET /api/v1/jobs's shapes kept per pipeline config version (src/api/job-summaries.ts): bounded,
// and a list longer than the bound is still whole.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { JobSummaries } from '../../src/api/job-summaries.ts';
import { listPipelineViews } from '../../src/db/views.ts';
import { startTestNode } from '../support/node.ts';

const node = await startTestNode();
after(() => node.stop());

const PIPELINE = `
resources:
- {name: repo, type: mock}
jobs:
- name: unit
  plan:
  - {get: repo, trigger: true}
- name: ship
  plan:
  - {get: repo, passed: [unit]}
groups:
- {name: all, jobs: ['*']}
`;

test('three pipelines through a bound of two: every job whole, two pipelines kept', async () => {
  for (const name of ['a', 'b', 'c']) await node.setPipeline(name, PIPELINE);
  const summaries = new JobSummaries(node.tdb.db, 2);
  const pipelines = await listPipelineViews(node.tdb.db, ['main']);
  for (let round = 0; round < 2; round++) {
    const jobs = await summaries.list(pipelines);
    assert.deepEqual(
      jobs.map((j) => [j.pipeline_name, j.name, j.groups, j.inputs]),
      ['a', 'b', 'c'].flatMap((p) => [
        [p, 'unit', ['all'], [{ name: 'repo', resource: 'repo', trigger: true }]],
        [p, 'ship', ['all'], [{ name: 'repo', resource: 'repo', passed: ['unit'] }]],
      ]),
    );
    assert.equal(summaries.size, 2);
  }
});
