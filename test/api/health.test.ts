// /api/v1/health's answer (src/api/health.ts, issue 17): 503 naming the database when it is
// unreachable or frozen (never a hang, never a 500), 503 naming a full disk, 200 otherwise.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server, type Socket } from 'node:net';
import { checkHealth } from '../../src/api/health.ts';
import { PoolDatabase } from '../../src/db/database.ts';
import { silentLogger } from '../../src/log.ts';
import type { Queryable } from '../../src/db/database.ts';

const answering: Queryable = { query: async () => ({ rows: [], rowCount: 1 }), transaction: (fn) => fn(answering) };
const refusing: Queryable = {
  query: () => Promise.reject(Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' })),
  transaction: (fn) => fn(refusing),
};

/** A server that accepts connections and never says a word: Postgres stopped with SIGSTOP. */
async function frozenServer(): Promise<{ server: Server; port: number; sockets: Socket[] }> {
  const sockets: Socket[] = [];
  const server = createServer((s) => sockets.push(s));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, port: (server.address() as { port: number }).port, sockets };
}

test('health: the database answers and the disk has room: 200 ok', async () => {
  assert.deepEqual(await checkHealth({ db: answering, dbName: 'postgres://x' }), { code: 200, body: { status: 'ok' } });
});

test('health: the database refuses connections: 503 naming it and why', async () => {
  const got = await checkHealth({ db: refusing, dbName: 'postgres://db:5432/jetway' });
  assert.equal(got.code, 503);
  assert.deepEqual(got.body, { status: 'unavailable', database: 'the database postgres://db:5432/jetway is unavailable: connect ECONNREFUSED 127.0.0.1:5432' });
});

test('health: a full disk: 503 naming the disk', async () => {
  const got = await checkHealth({ db: answering, dbName: 'x', disk: async () => 'the disk of the data directory /d is full: 0.0 MiB free' });
  assert.deepEqual(got, { code: 503, body: { status: 'unavailable', disk: 'the disk of the data directory /d is full: 0.0 MiB free' } });
});

test('health: a frozen Postgres (accepts, never answers) gets 503 within the timeout instead of a hang', async () => {
  const frozen = await frozenServer();
  const db = new PoolDatabase({ url: `postgres://u:p@127.0.0.1:${frozen.port}/db`, logger: silentLogger, connectTimeoutMs: 2_000 });
  try {
    const started = Date.now();
    const got = await checkHealth({ db, dbName: db.displayUrl, timeoutMs: 500 });
    assert.ok(Date.now() - started < 1_500, `answered in ${Date.now() - started} ms`);
    assert.equal(got.code, 503);
    assert.match(got.body.database ?? '', /^the database postgres:\/\/u:\*+@127\.0\.0\.1:\d+\/db did not answer within 500 ms$/);
    // and any query gives up after the pool's connect timeout instead of waiting for ever
    const queried = Date.now();
    await assert.rejects(db.query('SELECT 1'), /timeout/i);
    assert.ok(Date.now() - queried < 6_000);
  } finally {
    for (const s of frozen.sockets) s.destroy();
    frozen.server.close();
    await db.close().catch(() => undefined);
  }
});
