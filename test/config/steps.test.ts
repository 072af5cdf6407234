import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  parseStep,
  jobStep,
  walkSteps,
  jobInputs,
  jobOutputs,
  StepConfigError,
  type Step,
  type StepConfig,
  type StepIssue,
  type Job,
} from '../../src/config/index.ts';

function shape(step: Step): string {
  switch (step.kind) {
    case 'get':
    case 'put':
    case 'task':
      return `${step.kind}(${step.name})`;
    case 'do':
    case 'in_parallel':
      return `${step.kind}[${step.steps.map(shape).join(',')}]`;
    case 'try':
    case 'timeout':
    case 'attempts':
    case 'across':
      return `${step.kind}(${shape(step.step)})`;
    case 'ensure':
    case 'on_error':
    case 'on_abort':
    case 'on_failure':
    case 'on_success':
      return `${step.kind}(${shape(step.step)}|${shape(step.hook)})`;
    default:
      return step.kind;
  }
}

function issuesOf(raw: StepConfig): StepIssue[] {
  const issues: StepIssue[] = [];
  parseStep(raw, { onIssue: (i) => issues.push(i) });
  return issues;
}

test('precedence, not YAML order, decides the wrappers: hooks wrap across wraps attempts wraps the core', () => {
  const raw = { get: 'x', attempts: 3, on_failure: { put: 'alert' }, across: [{ var: 'v', values: [1] }], ensure: { task: 'clean', file: 'f' } };
  assert.equal(shape(parseStep(raw)), 'ensure(on_failure(across(attempts(get(x)))|put(alert))|task(clean))');
});

test('task, get, put and run own their timeout; other steps are wrapped by it', () => {
  const task = parseStep({ task: 't', file: 'f', timeout: '5m' });
  assert.equal(task.kind, 'task');
  const doStep = parseStep({ do: [{ get: 'a' }], timeout: '1h' });
  assert.equal(shape(doStep), 'timeout(do[get(a)])');
  assert.equal(doStep.kind === 'timeout' && doStep.duration, '1h');
});

test('parsing stops at the first core key; the rest are unknown fields', () => {
  assert.deepEqual(issuesOf({ get: 'a', put: 'b', file: 'x' }), [
    { path: [], key: 'get', message: 'unknown fields ["get","file"]' },
  ]);
  assert.equal(shape(parseStep({ put: 'b', get: 'a' }, { onIssue: () => {} })), 'put(b)');
});

test('no known key and only modifiers are different errors', () => {
  assert.deepEqual(issuesOf({ bogus: 1 }).map((i) => i.message), ['no step configured']);
  assert.deepEqual(issuesOf({ attempts: 2, timeout: '1m' }).map((i) => i.message), [
    'no core step type declared (e.g. get, put, task, etc.)',
  ]);
});

test('issues inside nested steps carry their path; without onIssue parseStep throws them all', () => {
  const raw = { in_parallel: { steps: [{ get: 'a' }, { do: [{ nope: 1 }] }] }, try: { get: 'b', x: 1 } } as StepConfig;
  // `try` comes before in_parallel in precedence, so in_parallel is left over
  assert.throws(
    () => parseStep(raw),
    (err: unknown) =>
      err instanceof StepConfigError &&
      err.issues.some((i) => i.message === 'unknown fields ["in_parallel"]') &&
      err.issues.some((i) => i.message === 'unknown fields ["x"]' && i.path.join('.') === 'try'),
  );
  const issues = issuesOf({ in_parallel: { steps: [{ get: 'a' }, { do: [{ nope: 1 }] }] } });
  assert.deepEqual(issues, [{ path: ['in_parallel', 'steps', 1, 'do', 0], message: 'no step configured' }]);
});

test('jobStep wraps the plan inside-out with the job hooks', () => {
  const job: Job = {
    name: 'j',
    plan: [{ get: 'a' }],
    ensure: { put: 'e' },
    on_success: { put: 's' },
    on_failure: { put: 'f' },
    on_error: { put: 'r' },
    on_abort: { put: 'b' },
  };
  assert.equal(
    shape(jobStep(job)),
    'ensure(on_error(on_abort(on_failure(on_success(do[get(a)]|put(s))|put(f))|put(b))|put(r))|put(e))',
  );
});

test('walkSteps visits parents before children, hooks included', () => {
  const seen: string[] = [];
  walkSteps(parseStep({ do: [{ get: 'a' }], on_success: { put: 'b' } }), (s, parents) => seen.push(`${parents.length}:${s.kind}`));
  assert.deepEqual(seen, ['0:on_success', '1:do', '2:get', '1:put']);
});

test('jobInputs: every get (hooks included), passed globs expanded with path.Match, defaults applied', () => {
  const all = ['unit-a', 'unit-b', 'lint', 'deploy/x', 'j'];
  const job: Job = {
    name: 'j',
    plan: [
      { in_parallel: [{ get: 'src', passed: ['unit-*', 'lint', 'unit-a'], trigger: true }] },
      { get: 'img', resource: 'image', version: 'every', params: { fetch_artifact: true } },
      { get: 'pinned', version: { ref: 'abc' }, passed: ['deploy*', 'l?nt', '[u]nit-[!a]'] },
    ],
    on_failure: { get: 'logs', trigger: '((t))' },
  };
  assert.deepEqual(jobInputs(job, all), [
    { name: 'src', resource: 'src', passed: ['unit-a', 'unit-b', 'lint'], trigger: true, version: 'latest' },
    { name: 'img', resource: 'image', passed: [], trigger: false, version: 'every', params: { fetch_artifact: true } },
    // `*` does not cross `/`: deploy* does not match deploy/x
    { name: 'pinned', resource: 'pinned', passed: ['lint', 'unit-b'], trigger: false, version: { ref: 'abc' } },
    { name: 'logs', resource: 'logs', passed: [], trigger: false, version: 'latest' },
  ]);
});

test('jobOutputs: every put, with its resource', () => {
  const job: Job = { name: 'j', plan: [{ put: 'a' }, { try: { put: 'b', resource: 'r' } }], ensure: { put: 'c' } };
  assert.deepEqual(jobOutputs(job), [
    { name: 'a', resource: 'a' },
    { name: 'b', resource: 'r' },
    { name: 'c', resource: 'c' },
  ]);
});
