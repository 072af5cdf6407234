// The exec output sink: client-node ignores write()'s return value, so a full target stream must
// pause the WebSocket and resume it once the target drains (or fails), without piling listeners.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { outputSink } from '../../../src/runtime/kubernetes/exec.ts';

function slowTarget(): { target: Writable; release(): void; received: Buffer[] } {
  const received: Buffer[] = [];
  const pending: (() => void)[] = [];
  const target = new Writable({
    highWaterMark: 4,
    write(chunk: Buffer, _e, cb) {
      received.push(chunk);
      pending.push(cb); // completes only when released
    },
  });
  return { target, received, release: () => pending.splice(0).forEach((cb) => cb()) };
}

const write = (w: Writable, data: string): Promise<void> => new Promise((resolve, reject) => w.write(Buffer.from(data), (err) => (err ? reject(err) : resolve())));

test('a full target pauses the connection once, and its drain resumes it', async () => {
  const calls: string[] = [];
  const connection = { socket: { pause: () => calls.push('pause'), resume: () => calls.push('resume') } };
  const { target, release, received } = slowTarget();
  const sink = outputSink(target, connection);
  await write(sink, 'aaaaaa'); // over the target's high water mark: full
  await write(sink, 'bb'); // still full: no second pause
  assert.deepEqual(calls, ['pause']);
  release();
  await new Promise((r) => setImmediate(r));
  release();
  await new Promise((r) => setImmediate(r));
  assert.deepEqual(calls, ['pause', 'resume']);
  assert.equal(Buffer.concat(received).toString(), 'aaaaaabb');
  for (const event of ['drain', 'error', 'close']) assert.equal(target.listenerCount(event), 0, `${event} listeners left`);
});

test('a target that fails while full resumes the connection (the exec must still end)', async () => {
  const calls: string[] = [];
  const connection = { socket: { pause: () => calls.push('pause'), resume: () => calls.push('resume') } };
  const { target } = slowTarget();
  target.on('error', () => undefined);
  const sink = outputSink(target, connection);
  await write(sink, 'aaaaaa');
  target.destroy(new Error('disk full'));
  await new Promise((r) => setImmediate(r));
  assert.deepEqual(calls, ['pause', 'resume']);
});

test('a function target is called per chunk and never pauses', async () => {
  const calls: string[] = [];
  const chunks: string[] = [];
  const sink = outputSink((c) => chunks.push(c.toString()), { socket: { pause: () => calls.push('pause'), resume: () => calls.push('resume') } });
  for (let i = 0; i < 20; i++) await write(sink, 'x'.repeat(100));
  assert.equal(chunks.length, 20);
  assert.deepEqual(calls, []);
});
