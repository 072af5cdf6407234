// The pure parts of `jetway intercept`: the WebSocket's channel framing, the status message, the
// choice of a build's container and its messages, and the command run in the step container.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  CHANNEL,
  closeStdinFrame,
  ContainerChoiceError,
  decodeFrame,
  encodeFrame,
  noRuntimeContainersMessage,
  parseStatus,
  selectContainer,
  statusFrame,
} from '../../src/api/intercept-protocol.ts';
import { interceptCommand, BUSYBOX, DEFAULT_INTERCEPT_COMMAND } from '../../src/runtime/kubernetes/pod-spec.ts';
import { interceptUrl } from '../../src/cli/commands/intercept.ts';
import type { InterceptableContainer } from '../../src/runtime/runtime.ts';

test('frames: one channel byte, then the payload, binary-safe', () => {
  const f = encodeFrame(CHANNEL.stdout, Buffer.from([0, 255, 10]));
  assert.deepEqual([...f], [1, 0, 255, 10]);
  assert.deepEqual(decodeFrame(f), { channel: 1, payload: Buffer.from([0, 255, 10]) });
  assert.deepEqual([...encodeFrame(CHANNEL.stdin)], [0]);
  assert.deepEqual(decodeFrame(encodeFrame(CHANNEL.stderr, 'é')), { channel: 2, payload: Buffer.from('é') });
  assert.equal(decodeFrame(Buffer.alloc(0)), undefined);
  assert.deepEqual([...closeStdinFrame()], [255, 0]);
});

test('the status message', () => {
  const exit = decodeFrame(statusFrame({ exit_status: 7 }))!;
  assert.equal(exit.channel, CHANNEL.status);
  assert.deepEqual(parseStatus(exit.payload), { exit_status: 7 });
  assert.deepEqual(parseStatus(decodeFrame(statusFrame({ error: 'gone' }))!.payload), { error: 'gone' });
  assert.deepEqual(parseStatus(Buffer.from('{"exit_status": 1.5}')), { error: 'malformed status message: {"exit_status": 1.5}' });
  assert.match((parseStatus(Buffer.from('nope')) as { error: string }).error, /^malformed status message: nope/);
});

const c = (step: string, extra: Partial<InterceptableContainer> = {}): InterceptableContainer => ({
  handle: `h-${step}-${extra.createdAt ?? ''}-${extra.state ?? 'failed'}`,
  step,
  type: 'task',
  state: 'failed',
  name: `pod-${step}`,
  workDir: '/tmp/build/x',
  ...extra,
});

function refusal(fn: () => unknown): { status: number; message: string } {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof ContainerChoiceError);
    return { status: err.statusCode, message: err.message };
  }
  assert.fail('not refused');
}

test('choosing a container: by step (and type), the only one, a running one, the newest', () => {
  const only = c('unit');
  assert.equal(selectContainer(3, [only]), only);
  assert.equal(selectContainer(3, [only], 'unit'), only);
  const get = c('repo', { type: 'get' });
  assert.equal(selectContainer(3, [only, get], 'repo'), get);
  assert.equal(selectContainer(3, [only, get], 'repo', 'get'), get);
  // by handle (fly's hijack --handle): that container, or a 404 naming it
  assert.equal(selectContainer(3, [only, get], undefined, undefined, get.handle), get);
  assert.throws(() => selectContainer(3, [only, get], undefined, undefined, 'h-elsewhere'), (e: unknown) => e instanceof ContainerChoiceError && e.statusCode === 404 && /no container h-elsewhere/.test(e.message));
  // attempts of one step: a running one first, else the newest
  const old = c('unit', { createdAt: '2026-01-01T00:00:00Z' });
  const newer = c('unit', { createdAt: '2026-01-02T00:00:00Z' });
  const running = c('unit', { createdAt: '2025-12-01T00:00:00Z', state: 'running' });
  assert.equal(selectContainer(3, [old, newer]), newer);
  assert.equal(selectContainer(3, [old, running, newer], 'unit'), running);
  assert.deepEqual(refusal(() => selectContainer(12, [only, get])), {
    status: 400,
    message: 'build 12 has several containers: unit (task, failed), repo (get, failed); choose one with step=<name>',
  });
  assert.deepEqual(refusal(() => selectContainer(12, [only], 'lint')), {
    status: 404,
    message:
      "build 12 has no container for step 'lint' (running or kept after a failure): steps that succeeded are deleted at once, " +
      "failed ones kept for the runtime's retention; it has unit (task, failed)",
  });
  assert.match(refusal(() => selectContainer(12, [only], 'unit', 'get')).message, /^build 12 has no container for get step 'unit'/);
  assert.deepEqual(refusal(() => selectContainer(12, [], 'unit')), {
    status: 404,
    message: "build 12 has no containers (running or kept after a failure): steps that succeeded are deleted at once, failed ones kept for the runtime's retention",
  });
  assert.match(noRuntimeContainersMessage(4, 'local'), /^build 4 has no containers to intercept: the local runtime keeps none \(its steps are host processes, gone when they end\); intercept needs jetway web --local-runtime containers or --runtime kubernetes$/);
  assert.equal(noRuntimeContainersMessage(4, undefined), 'build 4 has no containers to intercept: this server runs no steps');
});

// each runtime's refusal names its own retention setting (issue 19: the local containers runtime
// named Kubernetes' flag), with its value when the runtime says it
for (const [runtime, retentionMs, setting] of [
  ['kubernetes', undefined, '--kubernetes-failed-pod-retention'],
  ['local', 3_600_000, '1h (--local-failed-container-retention)'],
  ['local', 90 * 60_000, '1h30m (--local-failed-container-retention)'],
  ['local', 0, '0s (--local-failed-container-retention)'],
  ['local', undefined, '--local-failed-container-retention'],
  [undefined, undefined, "the runtime's retention"],
] as const) {
  test(`no containers on the ${runtime ?? 'unnamed'} runtime (retention ${retentionMs ?? 'unsaid'}): the retention named is ${setting}`, () => {
    assert.deepEqual(refusal(() => selectContainer(7, [], undefined, undefined, undefined, runtime, retentionMs)), {
      status: 404,
      message: `build 7 has no containers (running or kept after a failure): steps that succeeded are deleted at once, failed ones kept for ${setting}`,
    });
    assert.match(refusal(() => selectContainer(7, [c('unit')], 'lint', undefined, undefined, runtime, retentionMs)).message, new RegExp(`failed ones kept for ${setting.replace(/[()]/g, '\\$&')}; it has unit`));
  });
}

test('the WebSocket URL: ws or wss, step, type and the argv as repeated command parameters', () => {
  assert.equal(interceptUrl('http://ci.example:8080/', 4, { step: 'unit', command: ['sh', '-c', 'a b&c'] }), 'ws://ci.example:8080/api/v1/builds/4/intercept?step=unit&command=sh&command=-c&command=a+b%26c');
  assert.equal(interceptUrl('https://ci.example', 4, { step: 'x y', type: 'get', command: [] }), 'wss://ci.example/api/v1/builds/4/intercept?step=x+y&type=get');
});

test('the command in the step container: busybox sh, in the work dir, the default a shell', () => {
  const cmd = interceptCommand('/tmp/build/abcd1234', ['cat', 'a file']);
  assert.equal(cmd.container, 'step');
  assert.deepEqual(cmd.command.slice(0, 2), [BUSYBOX, 'sh']);
  assert.deepEqual(cmd.command.slice(4), ['jetway-intercept', BUSYBOX, '/tmp/build/abcd1234', 'cat', 'a file']);
  assert.deepEqual(interceptCommand('/w', []).command.slice(-2), [...DEFAULT_INTERCEPT_COMMAND]);
});

const hostBusybox = ['/usr/bin/busybox', '/bin/busybox'].find((p) => existsSync(p));

test('the command script: the work dir, the image\'s PATH first, else a busybox applet, 127 when neither', { skip: hostBusybox ? false : 'no busybox on this host' }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'jw-intercept-'));
  const bin = mkdtempSync(join(tmpdir(), 'jw-intercept-bin-'));
  writeFileSync(join(dir, 'report.txt'), 'report\n');
  writeFileSync(join(bin, 'hello'), '#!/bin/sh\necho "image hello $*"\n', { mode: 0o755 });
  const run = (argv: string[], input = ''): { status: number | null; stdout: string } => {
    const command = interceptCommand(dir, argv).command.map((a) => (a === BUSYBOX ? hostBusybox! : a));
    const r = spawnSync(command[0]!, command.slice(1), { input, encoding: 'utf8', env: { PATH: bin } });
    return { status: r.status, stdout: r.stdout };
  };
  // cat is not in PATH (only `hello` is): busybox's applet
  assert.deepEqual(run(['cat', 'report.txt']), { status: 0, stdout: 'report\n' });
  assert.deepEqual(run(['hello', 'there']), { status: 0, stdout: 'image hello there\n' });
  assert.deepEqual(run(['sh', '-c', 'pwd; exit 7']), { status: 7, stdout: `${dir}\n` });
  assert.deepEqual(run([], 'echo from-stdin\n'), { status: 0, stdout: 'from-stdin\n' });
  assert.equal(run(['no-such-command']).status, 127);
});
