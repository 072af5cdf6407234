import { test } from 'node:test';
import assert from 'node:assert/strict';
import { useTestDatabase } from '../support/db.ts';
import { lockScopeForCheck } from '../../src/db/check-scopes.ts';
import { findOrCreateResourceConfig, findOrCreateScope } from '../../src/db/versions.ts';

let scopeId: number;
const t = useTestDatabase(async (db) => {
  const config = await findOrCreateResourceConfig(db, { baseType: 'mock' }, { x: 1 });
  scopeId = (await findOrCreateScope(db, config.id, null)).id;
});

test('one check of a scope at a time: a second one waits for the release', async () => {
  const signal = new AbortController().signal;
  const { release } = await lockScopeForCheck(t.db, scopeId, signal);
  let second = false;
  const waiting = lockScopeForCheck(t.db, scopeId, signal).then((r) => {
    second = true;
    return r;
  });
  await new Promise((r) => setTimeout(r, 300));
  assert.equal(second, false, 'the second check waits');
  await release();
  const { release: releaseSecond } = await waiting;
  assert.equal(second, true);
  await releaseSecond();
});

test('an expired lease (a web node that died mid-check) is taken over', async () => {
  const signal = new AbortController().signal;
  await lockScopeForCheck(t.db, scopeId, signal, 50); // never released
  await new Promise((r) => setTimeout(r, 100));
  const { release } = await lockScopeForCheck(t.db, scopeId, signal);
  await release();
});

test('waiting checks hold no database connection: more checks than pool connections all get their turn', { timeout: 20_000 }, async () => {
  const signal = new AbortController().signal;
  const { release } = await lockScopeForCheck(t.db, scopeId, signal);
  // 25 waiters on a pool of 10: with a connection held per waiter this would deadlock
  const waiters = Array.from({ length: 25 }, () => lockScopeForCheck(t.db, scopeId, signal).then((r) => r.release()));
  await new Promise((r) => setTimeout(r, 200));
  assert.equal((await t.db.query('SELECT 1 AS ok')).rows.length, 1, 'the pool still answers');
  await release();
  await Promise.all(waiters);
});

test('a cancelled check stops waiting', async () => {
  const { release } = await lockScopeForCheck(t.db, scopeId, new AbortController().signal);
  const abort = new AbortController();
  const waiting = lockScopeForCheck(t.db, scopeId, abort.signal);
  abort.abort(new Error('aborted'));
  await assert.rejects(waiting, /aborted/);
  await release();
});
