import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Build, BuildStatus, Job } from '../../src/api/wire.ts';
import { checkFailing, graphJobStatus, isFinished, jobIsRunning, jobStatus, pipelineStatus, statusClass, statusLabel, type DisplayStatus } from '../../src/ui/app/status.ts';

const build = (status: BuildStatus): Build => ({ id: 1, team_name: 'main', name: '1', status, api_url: 'http://jetway.example/api/v1/builds/1', containers_created: {} });
type JobLike = Pick<Job, 'paused' | 'next_build' | 'finished_build'>;

const jobCases: { name: string; job: JobLike; status: DisplayStatus; running: boolean }[] = [
  { name: 'no builds', job: {}, status: 'no-builds', running: false },
  { name: 'latest finished build succeeded', job: { finished_build: build('succeeded') }, status: 'succeeded', running: false },
  { name: 'latest finished build failed', job: { finished_build: build('failed') }, status: 'failed', running: false },
  { name: 'errored', job: { finished_build: build('errored') }, status: 'errored', running: false },
  { name: 'aborted', job: { finished_build: build('aborted') }, status: 'aborted', running: false },
  { name: 'a running build shows as started', job: { finished_build: build('failed'), next_build: build('started') }, status: 'started', running: true },
  { name: 'a first build waiting to start is pending', job: { next_build: build('pending') }, status: 'pending', running: true },
  { name: 'a waiting build keeps the last status', job: { finished_build: build('succeeded'), next_build: build('pending') }, status: 'succeeded', running: true },
  { name: 'paused wins', job: { paused: true, next_build: build('started') }, status: 'paused', running: true },
];

for (const c of jobCases) {
  test(`job status: ${c.name}`, () => {
    assert.equal(jobStatus(c.job), c.status);
    assert.equal(jobIsRunning(c.job), c.running);
  });
}

// the graph colours a box by the latest finished build and pulses it while one runs (Concourse's)
const graphCases: { name: string; job: JobLike; status: DisplayStatus }[] = [
  { name: 'no builds', job: {}, status: 'no-builds' },
  { name: 'a running build keeps the last finished colour', job: { finished_build: build('failed'), next_build: build('started') }, status: 'failed' },
  { name: 'a first build running or waiting is pending', job: { next_build: build('started') }, status: 'pending' },
  { name: 'the latest finished build', job: { finished_build: build('errored') }, status: 'errored' },
  { name: 'paused wins', job: { paused: true, finished_build: build('succeeded') }, status: 'paused' },
];

for (const c of graphCases) {
  test(`graph job status: ${c.name}`, () => {
    assert.equal(graphJobStatus(c.job), c.status);
  });
}

const checkCases: [BuildStatus | undefined, boolean][] = [
  [undefined, false],
  ['succeeded', false],
  ['started', false],
  ['failed', true],
  ['errored', true],
  ['aborted', false],
];

for (const [status, failing] of checkCases) {
  test(`a resource whose latest check is ${status ?? 'not run yet'} is ${failing ? '' : 'not '}failing`, () => {
    assert.equal(checkFailing(status ? { build: { id: 1, name: '1', status } } : {}), failing);
  });
}

const pipelineCases: { name: string; paused: boolean; jobs: JobLike[]; status: DisplayStatus }[] = [
  { name: 'paused', paused: true, jobs: [{ finished_build: build('failed') }], status: 'paused' },
  { name: 'no jobs', paused: false, jobs: [], status: 'no-builds' },
  { name: 'all succeeded', paused: false, jobs: [{ finished_build: build('succeeded') }, { finished_build: build('succeeded') }], status: 'succeeded' },
  { name: 'failed beats errored and succeeded', paused: false, jobs: [{ finished_build: build('errored') }, { finished_build: build('failed') }, { finished_build: build('succeeded') }], status: 'failed' },
  { name: 'errored beats aborted', paused: false, jobs: [{ finished_build: build('aborted') }, { finished_build: build('errored') }], status: 'errored' },
  { name: 'a first build running', paused: false, jobs: [{ next_build: build('started') }, {}], status: 'started' },
  { name: 'a first build waiting', paused: false, jobs: [{ next_build: build('pending') }], status: 'pending' },
];

for (const c of pipelineCases) {
  test(`pipeline status: ${c.name}`, () => {
    assert.equal(pipelineStatus(c.paused, c.jobs), c.status);
  });
}

test('labels and classes', () => {
  assert.equal(statusLabel('no-builds'), 'no builds');
  assert.equal(statusLabel('errored'), 'errored');
  assert.equal(statusClass('started'), 'status-started');
  assert.deepEqual(
    (['pending', 'started', 'succeeded', 'failed', 'errored', 'aborted'] as const).map(isFinished),
    [false, false, true, true, true, true],
  );
});
