// Config paths in messages as Concourse writes them: a job's plan is a `do` step carrying the
// job's hooks (atc/configvalidate/validate_test.go: `jobs.some-other-job.plan.do[0].get(...)`,
// `jobs.some-other-job.plan.on_success.get(...)`, `plan.do[0].on_abort.put(custom-name)`).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { describePath } from '../../src/config/config-path.ts';

const config = {
  resources: [{ name: 'repo', type: 'git', source: {} }],
  jobs: [
    {
      name: 'build',
      plan: [{ get: 'repo', passed: ['a'] }, { put: 'out', resource: 'repo', on_abort: { put: 'custom-name', resource: 'repo' } }],
      on_success: { get: 'repo' },
      ensure: { task: 't' },
    },
    { plan: [{ get: 'repo' }] },
  ],
};

for (const [at, want] of [
  [['jobs', 0, 'plan', 0], 'jobs.build.plan.do[0].get(repo)'],
  [['jobs', 0, 'plan', 0, 'passed', 0], 'jobs.build.plan.do[0].get(repo).passed[0]'],
  [['jobs', 0, 'plan', 1, 'on_abort'], 'jobs.build.plan.do[1].put(out).on_abort.put(custom-name)'],
  [['jobs', 0, 'on_success'], 'jobs.build.plan.on_success.get(repo)'],
  [['jobs', 0, 'ensure'], 'jobs.build.plan.ensure.task(t)'],
  [['jobs', 1, 'plan', 0], 'jobs[1].plan.do[0].get(repo)'],
  [['resources', 0, 'source'], 'resources.repo.source'],
] as const) {
  test(`${JSON.stringify(at)} reads ${want}`, () => {
    assert.equal(describePath(config, [...at]), want);
  });
}
