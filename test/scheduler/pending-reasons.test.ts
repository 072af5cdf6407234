// pendingReasons / describePendingReason (src/scheduler/pending-reasons.ts) and the preparation
// fields derived from them: one row per reason a pending build or a job can have.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { pendingReasonLine, pendingReasons, type PendingFacts, type PendingInputFacts } from '../../src/scheduler/pending-reasons.ts';
import { checkState, preparationOf } from '../../src/scheduler/preparation.ts';
import type { InputResourceState } from '../../src/db/pending-facts.ts';
import { LATEST_VERSION_NOT_FOUND, NO_SATISFIABLE_BUILDS, VERSION_NOT_FOUND } from '../../src/scheduler/algorithm/types.ts';

const input = (over: Partial<PendingInputFacts> = {}): PendingInputFacts => ({
  name: 'repo',
  resource: 'repo',
  resolveError: null,
  passed: [],
  hasVersions: true,
  hasEnabledVersions: true,
  check: { status: 'succeeded' },
  waitingForCheck: false,
  ...over,
});

const facts = (over: Partial<PendingFacts> = {}): PendingFacts => ({
  pipeline: 'demo',
  job: 'unit',
  pipelineArchived: false,
  pipelinePaused: false,
  jobPaused: false,
  rerun: false,
  maxInFlight: 0,
  serialGroups: [],
  running: [],
  inputsDetermined: true,
  inputs: [input()],
  ...over,
});

const rows: { name: string; facts: PendingFacts; line: string | undefined }[] = [
  { name: 'nothing holds it', facts: facts(), line: undefined },
  { name: 'pipeline paused', facts: facts({ pipelinePaused: true }), line: 'the pipeline demo is paused' },
  {
    name: 'pipeline archived (it is paused too: archived is said alone)',
    facts: facts({ pipelineArchived: true, pipelinePaused: true }),
    line: 'the pipeline demo is archived (set it again to unarchive it)',
  },
  { name: 'job paused', facts: facts({ jobPaused: true }), line: 'the job demo/unit is paused' },
  {
    name: 'pipeline and job paused: both',
    facts: facts({ pipelinePaused: true, jobPaused: true }),
    line: 'the pipeline demo is paused; the job demo/unit is paused',
  },
  {
    name: 'max-in-flight reached names the builds holding it',
    facts: facts({ maxInFlight: 2, running: [{ job: 'unit', name: '3' }, { job: 'unit', name: '4' }] }),
    line: 'max-in-flight 2 reached: builds unit #3 and unit #4 hold it',
  },
  {
    name: 'max-in-flight not reached: no reason',
    facts: facts({ maxInFlight: 2, running: [{ job: 'unit', name: '3' }] }),
    line: undefined,
  },
  {
    name: 'serial job (max-in-flight 1) with a running build',
    facts: facts({ maxInFlight: 1, running: [{ job: 'unit', name: '7' }] }),
    line: 'max-in-flight 1 reached: build unit #7 holds it',
  },
  {
    name: 'serial group full, held by another job',
    facts: facts({ maxInFlight: 1, serialGroups: ['deploy'], running: [{ job: 'ship', name: '2' }] }),
    line: 'serial group deploy full: build ship #2 holds it',
  },
  {
    name: 'many holders are cut after five',
    facts: facts({ maxInFlight: 6, running: ['1', '2', '3', '4', '5', '6', '7'].map((name) => ({ job: 'unit', name })) }),
    line: 'max-in-flight 6 reached: builds unit #1, unit #2, unit #3, unit #4, unit #5 and 2 more hold it',
  },
  {
    name: 'an older pending build of the serial group goes first',
    facts: facts({ maxInFlight: 1, serialGroups: ['deploy', 'prod'], olderPending: { job: 'ship', name: '4' } }),
    line: 'the pending build ship #4 of serial groups deploy and prod starts first',
  },
  {
    name: 'waiting for a check',
    facts: facts({ inputs: [input({ waitingForCheck: true, check: { status: 'running' } })] }),
    line: 'waiting for a check of repo (input repo) to finish',
  },
  {
    name: 'waiting for a check that runs again after a failure: the last error',
    facts: facts({ inputs: [input({ waitingForCheck: true, check: { status: 'running', previousError: 'undefined vars: branch' } })] }),
    line: 'waiting for a check of repo (input repo) to finish; the last one failed: undefined vars: branch',
  },
  {
    name: 'waiting for a check that runs again after a failure, its text kept from a reader outside the team',
    facts: facts({ inputs: [input({ waitingForCheck: true, check: { status: 'running', previousError: '' } })] }),
    line: 'waiting for a check of repo (input repo) to finish; the last one failed',
  },
  {
    name: 'waiting for a check that is failing: its error',
    facts: facts({ inputs: [input({ waitingForCheck: true, check: { status: 'failed', error: 'undefined vars: branch' } })] }),
    line: 'waiting for a check of repo (input repo); its check is failing: undefined vars: branch',
  },
  {
    name: 'paused and waiting for a check: the check is asked for only after unpausing',
    facts: facts({ jobPaused: true, inputs: [input({ waitingForCheck: true, check: { status: 'running' } })] }),
    line: 'the job demo/unit is paused',
  },
  {
    name: 'no versions yet, never checked',
    facts: facts({
      inputsDetermined: false,
      inputs: [input({ resolveError: LATEST_VERSION_NOT_FOUND, hasVersions: false, hasEnabledVersions: false, check: { status: 'never' } })],
    }),
    line: 'input repo: resource repo has no versions (it has not been checked yet)',
  },
  {
    name: 'no versions, the check failing with its error',
    facts: facts({
      inputsDetermined: false,
      inputs: [
        input({
          resolveError: LATEST_VERSION_NOT_FOUND,
          hasVersions: false,
          hasEnabledVersions: false,
          check: { status: 'failed', error: 'git ls-remote: repository not found' },
        }),
      ],
    }),
    line: 'input repo: resource repo has no versions (its check is failing: git ls-remote: repository not found)',
  },
  {
    name: 'no versions, the check failing, its text kept from a reader outside the team',
    facts: facts({
      inputsDetermined: false,
      inputs: [input({ resolveError: LATEST_VERSION_NOT_FOUND, hasVersions: false, hasEnabledVersions: false, check: { status: 'failed', error: '' } })],
    }),
    line: 'input repo: resource repo has no versions (its check is failing)',
  },
  {
    name: 'no versions, the check found none',
    facts: facts({ inputsDetermined: false, inputs: [input({ resolveError: VERSION_NOT_FOUND, hasVersions: false, hasEnabledVersions: false })] }),
    line: 'input repo: resource repo has no versions (its last check found none)',
  },
  {
    name: 'every version disabled',
    facts: facts({ inputsDetermined: false, inputs: [input({ resolveError: LATEST_VERSION_NOT_FOUND, hasEnabledVersions: false })] }),
    line: 'input repo: every version of resource repo is disabled',
  },
  {
    name: 'versions arrived after the last pass',
    facts: facts({ inputsDetermined: false, inputs: [input({ resolveError: LATEST_VERSION_NOT_FOUND })] }),
    line: 'input repo: resource repo has new versions the scheduler has not resolved yet',
  },
  {
    name: 'passed: the upstream job never succeeded',
    facts: facts({
      inputsDetermined: false,
      inputs: [input({ resolveError: NO_SATISFIABLE_BUILDS, passed: [{ job: 'build', succeeded: false }, { job: 'lint', succeeded: true }] })],
    }),
    line: 'input repo: passed: no build of build has succeeded yet',
  },
  {
    name: 'passed: no common version',
    facts: facts({
      inputsDetermined: false,
      inputs: [input({ resolveError: NO_SATISFIABLE_BUILDS, passed: [{ job: 'build', succeeded: true }, { job: 'lint', succeeded: true }] })],
    }),
    line: "input repo: passed: no version has passed build and lint together with the other inputs' versions",
  },
  {
    name: 'pinned version missing',
    facts: facts({
      inputsDetermined: false,
      inputs: [input({ resolveError: 'pinned version ref:abc not found', pinned: 'ref:abc', pinFound: false })],
    }),
    line: 'input repo: pinned version ref:abc of resource repo is not among its versions',
  },
  {
    name: 'pinned version missing, the check failing',
    facts: facts({
      inputsDetermined: false,
      inputs: [input({ resolveError: 'pinned version ref:abc not found', pinned: 'ref:abc', pinFound: false, check: { status: 'failed', error: 'boom' } })],
    }),
    line: 'input repo: pinned version ref:abc of resource repo is not among its versions (its check is failing: boom)',
  },
  {
    name: "another input's pin in the same passed group: the scheduler's words",
    facts: facts({ inputsDetermined: false, inputs: [input({ resolveError: 'pinned version ref:abc not found' })] }),
    line: 'input repo: pinned version ref:abc not found',
  },
  {
    name: 'inputs never resolved',
    facts: facts({ inputsDetermined: false, inputs: [input({ resolveError: undefined })] }),
    line: 'its inputs are not resolved yet (the scheduler has not run for it)',
  },
  {
    name: 'paused with inputs never resolved: only paused (the scheduler resolves no held job)',
    facts: facts({ pipelinePaused: true, inputsDetermined: false, inputs: [input({ resolveError: undefined })] }),
    line: 'the pipeline demo is paused',
  },
  {
    name: 'a rerun: only pause and max-in-flight apply',
    facts: facts({ rerun: true, jobPaused: true, inputsDetermined: false, inputs: [input({ resolveError: LATEST_VERSION_NOT_FOUND, hasVersions: false })] }),
    line: 'the job demo/unit is paused',
  },
  {
    name: 'paused, and an input that cannot be satisfied: both, pause first',
    facts: facts({ jobPaused: true, inputsDetermined: false, inputs: [input({ resolveError: LATEST_VERSION_NOT_FOUND, hasEnabledVersions: false })] }),
    line: 'the job demo/unit is paused; input repo: every version of resource repo is disabled',
  },
];

for (const row of rows) {
  test(`pending reason: ${row.name}`, () => {
    assert.equal(pendingReasonLine(row.facts), row.line);
  });
}

const state = (over: Partial<InputResourceState>): InputResourceState => ({
  resourceId: 1,
  hasVersions: false,
  hasEnabledVersions: false,
  checkBuildStatus: null,
  checkError: null,
  previousCheckError: null,
  scopeChecked: false,
  scopeCheckSucceeded: false,
  ...over,
});

const checkRows: { name: string; state: InputResourceState | undefined; want: ReturnType<typeof checkState> }[] = [
  { name: 'no state', state: undefined, want: { status: 'never' } },
  { name: 'a running check build', state: state({ checkBuildStatus: 'started' }), want: { status: 'running' } },
  {
    name: 'a running check build after a failed one: its error',
    state: state({ checkBuildStatus: 'started', previousCheckError: 'undefined vars: branch\nmore' }),
    want: { status: 'running', previousError: 'undefined vars: branch' },
  },
  {
    name: 'an errored check build: its first error line',
    state: state({ checkBuildStatus: 'errored', checkError: 'undefined vars: branch\nmore' }),
    want: { status: 'failed', error: 'undefined vars: branch' },
  },
  {
    name: 'a failed check build without an error event',
    state: state({ checkBuildStatus: 'failed', scopeChecked: true }),
    want: { status: 'failed', error: 'the check build failed' },
  },
  { name: 'no check build, the scope never checked', state: state({}), want: { status: 'never' } },
  { name: 'no check build, the scope checked fine', state: state({ scopeChecked: true, scopeCheckSucceeded: true }), want: { status: 'succeeded' } },
];

for (const row of checkRows) {
  test(`check state: ${row.name}`, () => {
    assert.deepEqual(checkState(row.state), row.want);
  });
}

test('preparation fields: an input waiting for a check and one without versions', () => {
  const f = facts({
    inputsDetermined: false,
    inputs: [
      input({ name: 'a', resource: 'ra', waitingForCheck: true, check: { status: 'running' } }),
      input({ name: 'b', resource: 'rb', resolveError: LATEST_VERSION_NOT_FOUND, hasVersions: false, hasEnabledVersions: false }),
      input({ name: 'c', resource: 'rc' }),
    ],
  });
  assert.deepEqual(preparationOf(9, f, pendingReasons(f)), {
    build_id: 9,
    paused_pipeline: 'not_blocking',
    paused_job: 'not_blocking',
    max_running_builds: 'not_blocking',
    inputs: { a: 'blocking', b: 'blocking', c: 'not_blocking' },
    inputs_satisfied: 'blocking',
    missing_input_reasons: { a: 'waiting for a check of ra (input a) to finish', b: 'resource rb has no versions (its last check found none)' },
    reasons: [
      'waiting for a check of ra (input a) to finish',
      'input b: resource rb has no versions (its last check found none)',
    ],
  });
});

test('preparation fields: max-in-flight and an archived pipeline', () => {
  const f = facts({ pipelineArchived: true, maxInFlight: 1, running: [{ job: 'unit', name: '1' }] });
  const p = preparationOf(3, f, pendingReasons(f));
  assert.equal(p.paused_pipeline, 'blocking');
  assert.equal(p.max_running_builds, 'blocking');
  assert.equal(p.inputs_satisfied, 'not_blocking');
  assert.deepEqual(p.inputs, { repo: 'not_blocking' });
});
