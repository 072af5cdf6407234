import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { EventEnvelope } from '../../src/api/wire.ts';
import { acrossLabel, BUILD_STEP_ID, BuildView, expandedByDefault, stepTitle, type BuildViewChange } from '../../src/ui/app/build-view.ts';

const ev = (event: string, data: Record<string, unknown>): EventEnvelope => ({ event, version: '1.0', data: { time: 100, ...data } });
const at = (id: string) => ({ origin: { id } });

/** The steps shown: title, status, and the label/depth when there is one. */
const shown = (v: BuildView) => v.visibleSteps().map((s) => `${s.label ? `${s.label}> ` : ''}${'  '.repeat(s.depth)}${stepTitle(s)} [${s.status}]`);

// examples/hello.yml's job `unit` as its public plan: a get, then a task with an image_resource
const HELLO_PLAN = {
  id: '6',
  do: [
    { id: '1', get: { name: 'source-code', type: 'mock', resource: 'source-code' } },
    {
      id: '5',
      task: {
        name: 'test',
        image_check_plan: { id: '2', check: { name: 'image', type: 'registry-image' } }, image_get_plan: { id: '3', get: { name: 'image', type: 'registry-image' } },
      },
    },
  ],
};

test('a successful build: a section per step, named from the plan, with status, log, version and metadata', () => {
  const v = new BuildView(HELLO_PLAN);
  assert.deepEqual(shown(v), ['get: source-code [pending]', 'task: test [pending]'], 'image steps only show once they run');
  const events = [
    ev('status', { status: 'started' }),
    ev('initialize-get', at('1')),
    ev('start-get', at('1')),
    ev('finish-get', { ...at('1'), time: 103, exit_status: 0, version: { version: 'v1' }, metadata: [{ name: 'greeting', value: 'hi' }] }),
    // as the engine sends it: the note in the event, and as the step's log
    ev('initialize-task', { ...at('5'), time: 104, message: 'the local runtime runs tasks on the host: image_resource is not applied' }),
    ev('log', { ...at('5'), payload: 'the local runtime runs tasks on the host: image_resource is not applied\n' }),
    ev('start-task', at('5')),
    ev('log', { ...at('5'), payload: '\x1b[32mhello from jetway' }),
    ev('log', { ...at('5'), payload: '\x1b[0m -- tests passed\r\n' }),
    ev('finish-task', { ...at('5'), time: 110, exit_status: 0 }),
    ev('status', { status: 'succeeded' }),
  ];
  for (const e of events) v.apply(e);
  assert.equal(v.status, 'succeeded');
  assert.deepEqual(shown(v), ['get: source-code [succeeded]', 'task: test [succeeded]']);
  const [get, task] = v.visibleSteps();
  assert.deepEqual(get!.version, { version: 'v1' });
  assert.deepEqual(get!.metadata, [{ name: 'greeting', value: 'hi' }]);
  assert.equal(get!.startTime, 100);
  assert.equal(get!.finishTime, 103);
  assert.equal(task!.log, 'the local runtime runs tasks on the host: image_resource is not applied\nhello from jetway -- tests passed\n');
  assert.deepEqual(
    task!.segments.map((s) => s.classes),
    ['', 'ansi-fg-2', ''],
  );
  assert.equal(task!.exitStatus, 0);
  assert.equal(expandedByDefault(task!), true, 'a task that ran is open');
  assert.equal(expandedByDefault(get!), false, 'a get that succeeded is closed');
});

test('what each event changes is reported, so the page redraws only that', () => {
  const v = new BuildView(HELLO_PLAN);
  const types = (changes: BuildViewChange[]) => changes.map((c) => (c.type === 'log' ? `log:${c.step.id}:${c.segments.map((s) => s.text).join('')}` : c.type === 'step' ? `step:${c.step.id}:${c.step.status}` : c.type));
  assert.deepEqual(types(v.apply(ev('initialize-task', at('5')))), ['step:5:running']);
  assert.deepEqual(types(v.apply(ev('log', { ...at('5'), payload: 'out\n' }))), ['log:5:out\n']);
  assert.deepEqual(types(v.apply(ev('log', { ...at('2'), payload: 'checking\n' }))), ['structure', 'log:2:checking\n'], 'an image step appears when it runs');
  assert.deepEqual(shown(v), ['get: source-code [pending]', 'task: test [running]', 'image>   check: image [running]']);
  assert.deepEqual(types(v.apply(ev('status', { status: 'started' }))), ['status']);
});

test('a failing task, its on_failure hook and a step error', () => {
  const plan = {
    id: '4',
    on_failure: {
      step: { id: '3', do: [{ id: '1', get: { name: 'repo' } }, { id: '2', task: { name: 'unit' } }] },
      on_failure: { id: '5', put: { name: 'notify', resource: 'slack' } },
    },
  };
  const v = new BuildView(plan);
  assert.deepEqual(shown(v), ['get: repo [pending]', 'task: unit [pending]'], 'the hook shows only if it runs');
  v.apply(ev('finish-get', { ...at('1'), exit_status: 0 }));
  v.apply(ev('initialize-task', at('2')));
  v.apply(ev('log', { ...at('2'), payload: '1 test failed\n' }));
  v.apply(ev('finish-task', { ...at('2'), exit_status: 1 }));
  v.apply(ev('initialize-put', at('5')));
  v.apply(ev('error', { ...at('5'), message: 'slack is down' }));
  v.apply(ev('status', { status: 'failed' }));
  assert.deepEqual(shown(v), ['get: repo [succeeded]', 'task: unit [failed]', 'on_failure>   put: notify [errored]']);
  const put = v.step('5')!;
  assert.deepEqual(put.errors, ['slack is down']);
  assert.equal(expandedByDefault(put), true);
  assert.equal(expandedByDefault(v.step('2')!), true);
  assert.equal(v.step('2')!.exitStatus, 1);
});

test('an aborted build interrupts the running step; errors of the build and of a timeout find their place', () => {
  const plan = { id: '9', do: [{ id: '8', timeout: { step: { id: '1', task: { name: 'slow' } }, duration: '1s' } }, { id: '2', task: { name: 'never' } }] };
  const v = new BuildView(plan);
  v.apply(ev('initialize-task', at('1')));
  v.apply(ev('error', { ...at('8'), message: 'timeout exceeded' }));
  assert.deepEqual(v.step('1')!.errors, ['timeout exceeded'], "a timeout's error goes to the step it cut short");
  v.apply(ev('error', { ...at('9'), message: 'the build failed to start its worker' }));
  v.apply(ev('error', { origin: { id: 'build' }, message: 'the web node restarted' }));
  assert.deepEqual(v.step(BUILD_STEP_ID)!.errors, ['the build failed to start its worker', 'the web node restarted']);
  assert.deepEqual(shown(v), ['build [errored]', 'task: slow [errored]', 'task: never [pending]']);

  const aborted = new BuildView(plan);
  aborted.apply(ev('initialize-task', at('1')));
  aborted.setStatus('aborted');
  assert.deepEqual(shown(aborted), ['task: slow [interrupted]', 'task: never [pending]']);
  assert.equal(expandedByDefault(aborted.step('1')!), true);
});

test('a build without a plan shows its events as the build', () => {
  const v = new BuildView(null);
  assert.deepEqual(shown(v), []);
  v.apply(ev('log', { ...at('x'), payload: 'something\n' }));
  assert.deepEqual(shown(v), ['build [running]']);
  assert.equal(v.step(BUILD_STEP_ID)!.log, 'something\n');
  v.setStatus('succeeded');
  assert.equal(v.step(BUILD_STEP_ID)!.status, 'running', 'the build section has no status of its own');
});

test('across combinations, in_parallel steps, retry attempts and run-time image steps', () => {
  const plan = {
    id: '10',
    do: [
      { id: '1', in_parallel: { steps: [{ id: '2', get: { name: 'a' } }, { id: '3', get: { name: 'b' } }] } },
      { id: '4', across: { vars: [{ name: 'v', values: [1, 2] }], substep_template: '{}' } },
      { id: '7', retry: [{ id: '5', task: { name: 'flaky' } }, { id: '6', task: { name: 'flaky' } }] },
    ],
  };
  const v = new BuildView(plan);
  assert.deepEqual(shown(v), ['get: a [pending]', 'get: b [pending]', 'attempt 1>   task: flaky [pending]']);
  v.apply(ev('across-substeps', { ...at('4'), substeps: [{ id: '4/0', task: { name: 'each' } }, { id: '4/1', task: { name: 'each' } }] }));
  v.apply(ev('finish-task', { ...at('5'), exit_status: 1 }));
  v.apply(ev('initialize-task', at('6')));
  v.apply(ev('image-get', { ...at('6'), plan: { id: '6/image-get', get: { name: 'image' } } }));
  v.apply(ev('log', { ...at('6/image-get'), payload: 'pulling\n' }));
  assert.deepEqual(shown(v), [
    'get: a [pending]',
    'get: b [pending]',
    'across 1/2>   task: each [pending]',
    'across 2/2>   task: each [pending]',
    'attempt 1>   task: flaky [failed]',
    'attempt 2>   task: flaky [running]',
    'image>     get: image [running]',
  ]);
});

test("across combinations of Concourse's event ({step, values}) are labelled with their vars' values", () => {
  // the public plan keeps the vars' names only (model/public-plan.ts)
  const v = new BuildView({ id: '4', across: { vars: [{ name: 'os' }, { name: 'go' }] } });
  v.apply(
    ev('across-substeps', {
      ...at('4'),
      substeps: [
        { step: { id: '4/0', task: { name: 'test' } }, values: ['linux', '1.22'] },
        { step: { id: '4/1', task: { name: 'test' } }, values: ['darwin', { n: 2 }] },
      ],
    }),
  );
  v.apply(ev('log', { ...at('4/1'), payload: 'ok\n' }));
  assert.deepEqual(shown(v), ['across 1/2: os=linux, go=1.22>   task: test [pending]', 'across 2/2: os=darwin, go={"n":2}>   task: test [running]']);
});

const lineTimeCases: { name: string; chunks: [string, number | undefined][]; times: number[] }[] = [
  { name: 'each line gets the time of the event that began it', chunks: [['one\ntw', 100], ['o\nthree\n', 105], ['four', 110]], times: [100, 100, 105, 110] },
  { name: 'a line continued by a later event keeps its first time', chunks: [['a', 1], ['b', 2], ['c\n', 3]], times: [1] },
  { name: 'empty lines count', chunks: [['\n\nx', 7]], times: [7, 7, 7] },
  { name: 'an event without a time takes the last line time', chunks: [['a\n', 5], ['b\n', undefined]], times: [5, 5] },
  { name: 'colour codes are no text', chunks: [['\u001b[31m', 1], ['red\n', 2]], times: [2] },
];

for (const c of lineTimeCases) {
  test(`line times: ${c.name}`, () => {
    const v = new BuildView({ id: '1', task: { name: 't' } });
    for (const [payload, time] of c.chunks) v.apply(ev('log', { ...at('1'), payload, time }));
    assert.deepEqual(v.step('1')!.lineTimes, c.times);
  });
}

const acrossLabels: [string, Parameters<typeof acrossLabel>, string][] = [
  ['no values: the position only', [0, 3, ['v'], undefined], 'across 1/3'],
  ['a string value as it is', [1, 3, ['v'], ['b']], 'across 2/3: v=b'],
  ['other values as JSON', [0, 1, ['n', 'list'], [1, [true, null]]], 'across 1/1: n=1, list=[true,null]'],
  ['a value without a name', [0, 1, [], ['x']], 'across 1/1: x'],
];
for (const [name, args, label] of acrossLabels) {
  test(`across label: ${name}`, () => assert.equal(acrossLabel(...args), label));
}

test('names: a step without a name is called after its resource or its kind', () => {
  const v = new BuildView({ id: '3', do: [{ id: '1', get: { resource: 'repo' } }, { id: '2', artifact_input: { artifact_id: 1 } }] });
  assert.deepEqual(shown(v), ['get: repo [pending]', 'artifact_input: artifact_input [pending]']);
});
