// Finding 5 of issue 16 (event streams): a client that never reads its build's event stream
// made the web node read the whole log into memory. Now nothing more is read from the
// database while the socket's buffer is full, and a client that stays stalled is dropped.
// Bounded buffering is shown by counting the events read from the database, not by time.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { connect, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import type { Database } from '../../src/db/database.ts';
import { createOneOffBuild } from '../../src/db/builds.ts';
import { createTestDatabase, type TestDatabase } from '../support/db.ts';
import { startTenants, type Tenants } from './tenants.ts';

const EVENTS = 2000;
const PAYLOAD = 'x'.repeat(10 * 1024); // 2000 × 10 KB: a 20 MB log

let tdb: TestDatabase;
let t: Tenants;
let url: URL;
let eventsRead = 0;
let buildId = 0;

/** The test database, counting the build events streams read from it. */
function counting(db: Database): Database {
  return new Proxy(db, {
    get(target, prop, receiver) {
      const value: unknown = Reflect.get(target, prop, receiver);
      if (prop !== 'query' || typeof value !== 'function') return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
      return async (text: string, values?: readonly unknown[]) => {
        const r = await (value as Database['query']).call(target, text, values);
        if (/FROM build_events WHERE build_id/.test(text)) eventsRead += r.rows.length;
        return r;
      };
    },
  });
}

before(async () => {
  tdb = await createTestDatabase();
  t = await startTenants({ db: counting(tdb.db), eventStallTimeoutMs: 500 }, { ...tdb, db: counting(tdb.db) });
  const team = await tdb.db.query<{ id: number }>(`SELECT id FROM teams WHERE name = 'a'`);
  buildId = (await createOneOffBuild(tdb.db, team.rows[0]!.id, { id: '1', do: [] })).id;
  await tdb.db.query(
    `INSERT INTO build_events (build_id, event_id, type, version, payload)
     SELECT $1, 1000 + g, 'log', '5.1', jsonb_build_object('origin', jsonb_build_object('id', '1'), 'payload', $2::text, 'time', 0)
     FROM generate_series(1, $3) AS g`,
    [buildId, PAYLOAD, EVENTS],
  );
  await t.api.app.listen({ port: 0, host: '127.0.0.1' });
  url = new URL(`http://127.0.0.1:${(t.api.app.server.address() as AddressInfo).port}`);
});
after(async () => {
  await t?.close();
  await tdb?.drop();
});

/** A client that sends the request and never reads the answer. */
async function stalledClient(): Promise<Socket> {
  const token = (await t.api.app.inject({ method: 'POST', url: '/api/v1/token', payload: { username: 'alice', password: 'alice-pw' } })).json<{ access_token: string }>().access_token;
  const socket = connect({ host: url.hostname, port: Number(url.port) });
  socket.pause();
  await new Promise<void>((resolve) => socket.once('connect', resolve));
  socket.write(`GET /api/v1/builds/${buildId}/events HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${token}\r\n\r\n`);
  return socket;
}

/** Waits until the count stops growing (three polls alike). */
async function settled(read: () => number): Promise<number> {
  let last = -1;
  let same = 0;
  for (;;) {
    await new Promise((r) => setTimeout(r, 100));
    const now = read();
    same = now === last ? same + 1 : 0;
    last = now;
    if (same >= 3) return now;
  }
}

test('four stalled clients: the stream stops reading the log while their buffers are full, then drops them', { timeout: 60_000 }, async (tc) => {
  eventsRead = 0;
  const clients = await Promise.all([1, 2, 3, 4].map(() => stalledClient()));
  const read = await settled(() => eventsRead);
  // each stalled client got what the socket buffers hold (a few MB on loopback), not the 20 MB log
  assert.ok(read > 0, "the streams started");
  tc.diagnostic(`events read for 4 stalled clients: ${read} of ${4 * EVENTS}`);
  assert.ok(read < (4 * EVENTS) / 2, `read ${read} of the ${4 * EVENTS} events four full streams would read`);
  // and a client that stays stalled is dropped (eventStallTimeoutMs 500)
  for (;;) {
    const drops = t.api.logs.filter((l) => l.includes('build event stream dropped')).length;
    if (drops === 4) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  for (const c of clients) c.destroy();
});
