// /api/v1/health's answer (src/api/health.ts, issue 17) in Concourse's atc.Health shape
// (atc/api/healthserver/health.go): 503 `failing` naming the database when it is unreachable or
// frozen (never a hang, never a 500), or a full disk; `degraded` for a stale build-running
// component or a stalled web node; 200 `ok` otherwise.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server, type Socket } from 'node:net';
import { checkHealth, healthOf, type HealthFacts } from '../../src/api/health.ts';
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
  const now = new Date('2026-12-04T03:00:00Z');
  assert.deepEqual(await checkHealth({ db: answering, dbName: 'postgres://x', now: () => now }), {
    code: 200,
    body: { status: 'ok', timestamp: '2026-12-04T03:00:00.000Z', database: { status: 'healthy' }, workers: { status: 'healthy', total: 0, running: 0 }, components: [] },
  });
});

test('health: the database refuses connections: 503 naming it and why', async () => {
  const got = await checkHealth({ db: refusing, dbName: 'postgres://db:5432/jetway' });
  assert.equal(got.code, 503);
  assert.equal(got.body.status, 'failing');
  assert.deepEqual(got.body.database, { status: 'unhealthy', error: 'the database postgres://db:5432/jetway is unavailable: connect ECONNREFUSED 127.0.0.1:5432' });
  // the nodes and components are not read from a database that does not answer
  assert.deepEqual(got.body.workers, { status: 'unhealthy', total: 0, running: 0 });
});

test('health: a full disk: 503 naming the disk', async () => {
  const got = await checkHealth({ db: answering, dbName: 'x', disk: async () => 'the disk of the data directory /d is full: 0.0 MiB free' });
  assert.equal(got.code, 503);
  assert.equal(got.body.status, 'failing');
  assert.deepEqual(got.body.disk, { status: 'unhealthy', error: 'the disk of the data directory /d is full: 0.0 MiB free' });
});

test('health: a frozen Postgres (accepts, never answers) gets 503 within the timeout instead of a hang', async () => {
  const frozen = await frozenServer();
  const db = new PoolDatabase({ url: `postgres://u:p@127.0.0.1:${frozen.port}/db`, logger: silentLogger, connectTimeoutMs: 2_000 });
  try {
    const started = Date.now();
    const got = await checkHealth({ db, dbName: db.displayUrl, timeoutMs: 500 });
    assert.ok(Date.now() - started < 1_500, `answered in ${Date.now() - started} ms`);
    assert.equal(got.code, 503);
    assert.match(got.body.database.error ?? '', /^the database postgres:\/\/u:\*+@127\.0\.0\.1:\d+\/db did not answer within 500 ms$/);
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

// ---------------------------------------------------------------- the decision, one row per test

const NOW = new Date('2026-12-04T03:00:00Z');
const ago = (ms: number): Date => new Date(NOW.getTime() - ms);
const node = (name: string, heartbeatMsAgo: number, draining = false) => ({ name, heartbeatAt: ago(heartbeatMsAgo), draining });
const component = (name: string, lastRanMsAgo: number | null, intervalMs = 10_000, paused = false) => ({ name, intervalMs, lastRanAt: lastRanMsAgo === null ? null : ago(lastRanMsAgo), paused });
const rows: { name: string; facts: Omit<HealthFacts, 'now'>; code: 200 | 503; status: string; workers?: string; unhealthyComponents?: string[] }[] = [
  { name: 'all well', facts: { nodes: [node('a', 1_000)], components: [component('scheduler', 5_000)] }, code: 200, status: 'ok', workers: 'healthy' },
  { name: 'the database does not answer: failing, 503', facts: { database: 'down' }, code: 503, status: 'failing', workers: 'unhealthy' },
  { name: 'a full disk: failing, 503', facts: { disk: 'full', nodes: [node('a', 1_000)] }, code: 503, status: 'failing', workers: 'healthy' },
  { name: 'one of two nodes stalled: degraded, named', facts: { nodes: [node('a', 1_000), node('b', 120_000)] }, code: 200, status: 'degraded', workers: 'degraded' },
  { name: 'a draining node is not running', facts: { nodes: [node('a', 1_000), node('b', 1_000, true)] }, code: 200, status: 'degraded', workers: 'degraded' },
  { name: 'every node stalled: degraded, not failing (the node answering runs builds itself)', facts: { nodes: [node('a', 120_000)] }, code: 200, status: 'degraded', workers: 'unhealthy' },
  { name: 'the scheduler not run for three intervals: degraded', facts: { nodes: [node('a', 1_000)], components: [component('scheduler', 31_000)] }, code: 200, status: 'degraded', unhealthyComponents: ['scheduler'] },
  { name: 'gc stale: unhealthy, but not a runtime component', facts: { nodes: [node('a', 1_000)], components: [component('gc', 100_000, 30_000)] }, code: 200, status: 'ok', unhealthyComponents: ['gc'] },
  { name: 'a paused component is never stale', facts: { nodes: [node('a', 1_000)], components: [component('scheduler', 3_600_000, 10_000, true)] }, code: 200, status: 'ok', unhealthyComponents: [] },
  { name: 'a component that never ran is not stale', facts: { nodes: [node('a', 1_000)], components: [component('checker', null)] }, code: 200, status: 'ok', unhealthyComponents: [] },
];
for (const row of rows) {
  test(`healthOf: ${row.name}`, () => {
    const got = healthOf({ now: NOW, ...row.facts });
    assert.equal(got.code, row.code);
    assert.equal(got.body.status, row.status);
    if (row.workers) assert.equal(got.body.workers.status, row.workers);
    if (row.unhealthyComponents) assert.deepEqual(got.body.components.filter((c) => c.status === 'unhealthy').map((c) => c.name), row.unhealthyComponents);
  });
}
test('healthOf: a stalled node is named, a component that never ran shows Go\'s zero time', () => {
  const got = healthOf({ now: NOW, nodes: [node('a', 1_000), node('b', 120_000)], components: [component('checker', null)] });
  assert.deepEqual(got.body.workers, { status: 'degraded', total: 2, running: 1, unhealthy_workers: ['b'] });
  assert.deepEqual(got.body.components, [{ name: 'checker', status: 'healthy', paused: false, last_ran: '0001-01-01T00:00:00Z' }]);
});
