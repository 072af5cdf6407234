// How streamed builds look: fly's step headers, logs as they come, colour only when asked.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BuildRenderer, stepNames } from '../../src/cli/client/watch.ts';
import type { EventEnvelope } from '../../src/api/wire.ts';

const plan = {
  id: 'root',
  do: [
    { id: '1', get: { name: 'repo', type: 'git', resource: 'repo' } },
    { id: '2', task: { name: 'unit', image_get_plan: { id: '2/image-get', get: { name: 'image', type: 'registry-image' } } } },
    { id: '3', put: { name: 'release', type: 'mock', resource: 'release' } },
  ],
};

const ev = (event: string, data: Record<string, unknown>): EventEnvelope => ({ event, version: '1.0', data });

async function render(color: boolean, events: EventEnvelope[]): Promise<{ out: string; err: string; code: number }> {
  const io = { out: '', err: '', stdout: (t: string) => void (io.out += t), stderr: (t: string) => void (io.err += t) };
  let loads = 0;
  const r = new BuildRenderer(io, color, async () => {
    loads++;
    return plan;
  });
  for (const e of events) if (await r.render(e)) break;
  const code = r.finish(r.status ?? 'errored');
  assert.ok(loads <= 1, 'the plan is loaded once');
  return { ...io, code };
}

const BUILD = [
  ev('status', { status: 'started' }),
  ev('initialize-get', { origin: { id: '1' } }),
  ev('selected-worker', { origin: { id: '1' }, selected_worker: 'local' }),
  ev('finish-get', { origin: { id: '1' }, exit_status: 0, version: { ref: 'abc' } }),
  ev('initialize-task', { origin: { id: '2' } }),
  ev('initialize-get', { origin: { id: '2/image-get' } }),
  ev('start-task', { origin: { id: '2' }, config: { run: { path: 'go', args: ['test', './...'] } } }),
  ev('log', { origin: { id: '2' }, payload: 'ok  pkg 0.1s' }),
  ev('error', { origin: { id: '2' }, message: 'something broke' }),
  ev('finish-task', { origin: { id: '2' }, exit_status: 4 }),
  ev('initialize-put', { origin: { id: '3' } }),
  ev('finish-put', { origin: { id: '3' }, exit_status: 0, version: { version: '1.2' } }),
  ev('status', { status: 'failed' }),
  ev('log', { origin: { id: '2' }, payload: 'after the end' }),
];

test('step headers, logs and the status, without colour', async () => {
  const r = await render(false, BUILD);
  assert.equal(
    r.out,
    [
      'fetching repo',
      'selected worker: local',
      'initializing',
      'fetching image',
      'running go test ./...',
      'ok  pkg 0.1s',
      'pushing release',
      'created version: version:1.2',
      'failed',
      '',
    ].join('\n'),
  );
  assert.equal(r.err, 'something broke\n', 'step errors go to stderr, after the open log line was ended');
  assert.equal(r.code, 4, 'the task exit status wins');
});

test('colour on a terminal: bold headers, the status in its colour', async () => {
  const r = await render(true, BUILD.slice(0, 3).concat([ev('status', { status: 'succeeded' })]));
  assert.equal(r.out, '\x1b[1mfetching repo\x1b[0m\n\x1b[1mselected worker:\x1b[0m local\n\x1b[32msucceeded\x1b[0m\n');
  assert.equal(r.code, 0);
});

test('exit codes per fly: errored 2, aborted 3', async () => {
  assert.equal((await render(false, [ev('status', { status: 'errored' })])).code, 2);
  assert.equal((await render(false, [ev('status', { status: 'aborted' })])).code, 3);
});

test('stepNames maps plan ids to steps, image sub-plans included', () => {
  const names = stepNames(plan);
  assert.deepEqual(Object.fromEntries(names), {
    '1': { kind: 'get', name: 'repo' },
    '2': { kind: 'task', name: 'unit' },
    '2/image-get': { kind: 'get', name: 'image' },
    '3': { kind: 'put', name: 'release' },
  });
});
