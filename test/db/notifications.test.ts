// LISTEN through src/db/notifications.ts: one connection per pool, whoever listens; delivered
// by channel; a broken connection tells every listener, and listening again works.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { listen, ListeningEndedError, notify } from '../../src/db/notifications.ts';
import { PoolDatabase } from '../../src/db/database.ts';
import { defaultLogger } from '../../src/log.ts';
import { createTestDatabase, type TestDatabase } from '../support/db.ts';

let t: TestDatabase;
before(async () => {
  t = await createTestDatabase();
});
after(async () => {
  await t.drop();
});

/** Backends of this database that are LISTENing, by the channels they listen on. */
const listeners = async (): Promise<number> => {
  const r = await t.db.query<{ n: number }>(
    `SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid() AND query LIKE 'LISTEN%'`,
  );
  return r.rows[0]!.n;
};

function recorder() {
  const heard: string[] = [];
  const errors: Error[] = [];
  let wake: (() => void) | undefined;
  return {
    heard,
    errors,
    handlers: {
      onNotification: (channel: string, payload: string) => {
        heard.push(`${channel}:${payload}`);
        wake?.();
      },
      onError: (err: Error) => {
        errors.push(err);
        wake?.();
      },
    },
    async until(pred: () => boolean): Promise<void> {
      const deadline = Date.now() + 5_000;
      while (!pred()) {
        if (Date.now() > deadline) throw new Error(`not heard: ${JSON.stringify(heard)}`);
        await new Promise<void>((r) => {
          wake = r;
          setTimeout(r, 50);
        });
      }
    },
  };
}

test('two listeners share one connection and each hears only its channels', async () => {
  const checkedOut = t.db.pool.totalCount - t.db.pool.idleCount;
  const a = recorder();
  const b = recorder();
  const la = await listen(t.db, ['chan_a', 'chan_both'], a.handlers);
  const lb = await listen(t.db, ['chan_b', 'chan_both'], b.handlers);
  assert.equal(t.db.pool.totalCount - t.db.pool.idleCount, checkedOut + 1, 'one connection held for both');
  await notify(t.db, 'chan_a', '1');
  await notify(t.db, 'chan_b', '2');
  await notify(t.db, 'chan_both', '3');
  await a.until(() => a.heard.length >= 2);
  await b.until(() => b.heard.length >= 2);
  assert.deepEqual(a.heard, ['chan_a:1', 'chan_both:3']);
  assert.deepEqual(b.heard, ['chan_b:2', 'chan_both:3']);
  // one closes: the other still hears its channel on the same connection
  await la.close();
  await notify(t.db, 'chan_both', '4');
  await b.until(() => b.heard.length >= 3);
  assert.deepEqual(a.heard, ['chan_a:1', 'chan_both:3']);
  await lb.close();
  assert.equal(t.db.pool.totalCount - t.db.pool.idleCount, checkedOut, 'the connection went back to the pool');
});

test('a NOTIFY inside a transaction is heard only once it commits, and not at all after a rollback', async () => {
  const a = recorder();
  const l = await listen(t.db, ['chan_tx'], a.handlers);
  await assert.rejects(
    t.db.transaction(async (tx) => {
      await tx.query(`SELECT pg_notify('chan_tx', 'rolled back')`);
      throw new Error('rollback');
    }),
  );
  await t.db.transaction(async (tx) => {
    await tx.query(`SELECT pg_notify('chan_tx', 'committed')`);
  });
  await a.until(() => a.heard.length >= 1);
  assert.deepEqual(a.heard, ['chan_tx:committed']);
  await l.close();
});

test('the connection killed: every listener is told; listening again opens another', async () => {
  const a = recorder();
  const b = recorder();
  await listen(t.db, ['chan_kill'], a.handlers);
  await listen(t.db, ['chan_kill'], b.handlers);
  assert.equal(await listeners(), 1);
  await t.db.query(`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid() AND query LIKE 'LISTEN%'`);
  await a.until(() => a.errors.length > 0);
  await b.until(() => b.errors.length > 0);
  const c = recorder();
  const l = await listen(t.db, ['chan_kill'], c.handlers);
  await notify(t.db, 'chan_kill', 'again');
  await c.until(() => c.heard.length > 0);
  assert.deepEqual(c.heard, ['chan_kill:again']);
  assert.deepEqual(a.heard, [], 'a listener told of the failure hears nothing more');
  await l.close();
});

test('a channel name that is not an identifier is refused before anything is sent', async () => {
  await assert.rejects(listen(t.db, ['x; DROP TABLE teams'], recorder().handlers), /invalid LISTEN channel/);
});

test('closing the database ends its listening connection: the pool does not wait for it, listeners are told', async () => {
  const db = new PoolDatabase({ url: t.url, logger: defaultLogger('silent') });
  const a = recorder();
  await listen(db, ['chan_close'], a.handlers);
  // pg's pool.end waits for every checked-out connection: without this, close() never returned
  await Promise.race([db.close(), new Promise((_, reject) => setTimeout(() => reject(new Error('close() waited for the listener')), 5_000))]);
  assert.equal(a.errors.length, 1);
  assert.ok(a.errors[0] instanceof ListeningEndedError);
});

test('a listener closing while its database closes: the connection is released once, neither throws', async () => {
  const db = new PoolDatabase({ url: t.url, logger: defaultLogger('silent') });
  const l = await listen(db, ['chan_both_close'], recorder().handlers);
  const closing = l.close(); // its UNLISTEN in flight
  await db.close();
  await closing;
});
