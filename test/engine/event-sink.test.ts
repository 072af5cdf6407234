// The event sink's decisions (src/engine/event-sink.ts): which failures are worth retrying, which
// mean a full disk, and how long to wait. One test per row.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isDiskFull, isTransient, retryDelayMs, StoreEventSink } from '../../src/engine/event-sink.ts';
import { silentLogger } from '../../src/log.ts';
import type { BuildEvent } from '../../src/model/build-events.ts';

const err = (message: string, code?: string): Error => Object.assign(new Error(message), code ? { code } : {});

const TRANSIENT: [string, Error, boolean][] = [
  ['connection refused (Postgres down)', err('connect ECONNREFUSED 127.0.0.1:5432', 'ECONNREFUSED'), true],
  ['connection reset', err('read ECONNRESET', 'ECONNRESET'), true],
  ['connection terminated (Postgres killed)', err('Connection terminated unexpectedly'), true],
  ['pool connect timeout (Postgres frozen)', err('timeout exceeded when trying to connect'), true],
  ['client query timeout (Postgres frozen)', err('Query read timeout'), true],
  ['server shutting down', err('terminating connection due to administrator command', '57P01'), true],
  ['statement timeout', err('canceling statement due to statement timeout', '57014'), true],
  ['disk full', err('could not extend file: No space left on device', '53100'), true],
  ['too many connections', err('sorry, too many clients already', '53300'), true],
  ['connection failure class 08', err('connection failure', '08006'), true],
  ['serialization failure', err('could not serialize access', '40001'), true],
  ['a constraint violation is not', err('duplicate key value violates unique constraint', '23505'), false],
  ['invalid JSON is not', err('invalid input syntax for type json', '22P02'), false],
  ['a plain bug is not', new TypeError("Cannot read properties of undefined (reading 'x')"), false],
];
for (const [name, e, want] of TRANSIENT) test(`isTransient: ${name}`, () => assert.equal(isTransient(e), want));

const DISK: [string, Error, boolean][] = [
  ['53100', err('could not extend file', '53100'), true],
  ['ENOSPC message', err('write: No space left on device'), true],
  ['connection refused', err('connect ECONNREFUSED', 'ECONNREFUSED'), false],
];
for (const [name, e, want] of DISK) test(`isDiskFull: ${name}`, () => assert.equal(isDiskFull(e), want));

const DELAYS: [number, number][] = [
  [0, 100],
  [1, 200],
  [3, 800],
  [5, 3200],
  [6, 5000],
  [60, 5000],
];
for (const [attempt, want] of DELAYS) test(`retryDelayMs: attempt ${attempt} waits ${want} ms`, () => assert.equal(retryDelayMs(attempt), want));

// batches: what waits while one write runs goes in the next write, in order
const line = (n: number): BuildEvent => ({ event: 'log', version: '5.1', data: { time: 0, origin: { id: 'x', source: 'stdout' }, payload: `line ${n}` } });
const payloadOf = (e: BuildEvent): string => String((e.data as { payload?: unknown }).payload);

test('the events that waited while a write ran are written together, in order, in the next write', async () => {
  let release!: () => void;
  const firstWrite = new Promise<void>((r) => (release = r));
  const writes: string[][] = [];
  const sink = new StoreEventSink(
    {
      async saveBuildEvent(_id, event) {
        writes.push([payloadOf(event)]);
        if (writes.length === 1) await firstWrite;
      },
      async saveBuildEvents(_id, events) {
        writes.push(events.map((e) => payloadOf(e.event)));
      },
    },
    1,
    silentLogger,
  );
  const first = sink.emit(line(0));
  await new Promise((resolve) => setImmediate(resolve)); // the first write has started, and waits
  const rest = Array.from({ length: 5 }, (_, i) => sink.emit(line(i + 1)));
  release();
  await Promise.all([first, ...rest]);
  assert.deepEqual(await sink.flushed(), { lost: 0, diskFull: false });
  assert.deepEqual(writes, [['line 0'], ['line 1', 'line 2', 'line 3', 'line 4', 'line 5']]);
});

test('events emitted one after the other in the same turn go in one write, in order', async () => {
  const writes: string[][] = [];
  const sink = new StoreEventSink(
    {
      async saveBuildEvent(_id, event) {
        writes.push([payloadOf(event)]);
      },
      async saveBuildEvents(_id, events) {
        writes.push(events.map((e) => payloadOf(e.event)));
      },
    },
    1,
    silentLogger,
  );
  await Promise.all([sink.emit(line(0)), sink.emit(line(1)), sink.emit(line(2))]);
  await sink.flushed();
  assert.deepEqual(writes, [['line 0', 'line 1', 'line 2']]);
});

test('an emit resolves without waiting for its write; flushed() waits for every write', async () => {
  let release!: () => void;
  const blocked = new Promise<void>((r) => (release = r));
  const written: string[] = [];
  const sink = new StoreEventSink(
    {
      async saveBuildEvent(_id, event) {
        await blocked;
        written.push(payloadOf(event));
      },
      async saveBuildEvents(_id, events) {
        await blocked;
        written.push(...events.map((e) => payloadOf(e.event)));
      },
    },
    1,
    silentLogger,
  );
  await sink.emit(line(0));
  await sink.emit(line(1));
  assert.deepEqual(written, [], 'the store has not taken a write yet, and the caller went on');
  let flushed = false;
  const report = sink.flushed().then((r) => ((flushed = true), r));
  await new Promise((resolve) => setImmediate(resolve));
  assert.equal(flushed, false, 'flushed() waits for the blocked write');
  release();
  assert.deepEqual(await report, { lost: 0, diskFull: false });
  assert.deepEqual(written, ['line 0', 'line 1']);
});

test('past the high-water mark (1,000 waiting events) an emit waits for the writes', async () => {
  let release!: () => void;
  const blocked = new Promise<void>((r) => (release = r));
  let written = 0;
  const sink = new StoreEventSink(
    {
      async saveBuildEvent() {
        await blocked;
        written++;
      },
      async saveBuildEvents(_id, events) {
        await blocked;
        written += events.length;
      },
    },
    1,
    silentLogger,
  );
  for (let i = 0; i < 1000; i++) await sink.emit(line(i));
  let waited = true;
  const over = sink.emit(line(1000)).then(() => (waited = false));
  await new Promise((resolve) => setImmediate(resolve));
  assert.equal(waited, true, 'the 1,001st emit waits');
  release();
  await over;
  assert.equal(written, 1001);
});

test('a batch the database refuses for good is tried event by event: only the bad event is lost', async () => {
  let release!: () => void;
  const firstWrite = new Promise<void>((r) => (release = r));
  const saved: string[] = [];
  const sink = new StoreEventSink(
    {
      async saveBuildEvent(_id, event) {
        if (payloadOf(event) === 'line 2') throw Object.assign(new Error('invalid input syntax for type json'), { code: '22P02' });
        saved.push(payloadOf(event));
        if (saved.length === 1) await firstWrite;
      },
      async saveBuildEvents() {
        throw Object.assign(new Error('invalid input syntax for type json'), { code: '22P02' });
      },
    },
    1,
    silentLogger,
    { maxPermanentAttempts: 2 },
  );
  for (let i = 0; i < 4; i++) void sink.emit(line(i));
  release();
  const report = await sink.flushed();
  assert.deepEqual(saved, ['line 0', 'line 1', 'line 3']);
  assert.equal(report.lost, 1);
});

test('abandoned while the database is away, every event of the waiting batch is counted lost', async () => {
  let calls = 0;
  const sink = new StoreEventSink(
    {
      async saveBuildEvent() {
        calls++;
        throw Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' });
      },
      async saveBuildEvents() {
        calls++;
        throw Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' });
      },
    },
    1,
    silentLogger,
  );
  // the first event is written alone (and fails); the other three wait and go as one batch
  const done = Array.from({ length: 4 }, (_, i) => sink.emit(line(i)));
  while (calls < 3) await new Promise((r) => setTimeout(r, 20));
  sink.abandon();
  await Promise.all(done);
  assert.equal((await sink.flushed()).lost, 4);
});
