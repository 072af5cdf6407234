// The event sink's decisions (src/engine/event-sink.ts): which failures are worth retrying, which
// mean a full disk, and how long to wait. One test per row.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isDiskFull, isTransient, retryDelayMs } from '../../src/engine/event-sink.ts';

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
