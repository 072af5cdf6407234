// Finding 5 of issue 16 (logins): failed logins are limited per (user, address), per address
// and per user, with a 429 and Retry-After, without locking the user out from elsewhere.
// Every figure comes from an injected clock: no test waits.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { LoginLimiter, MemoryLoginFailures, type LoginFailureStore, type LoginLimitOptions } from '../../src/api/login-limit.ts';
import { PostgresLoginFailures } from '../../src/db/login-failures.ts';
import { checkProxyAddresses } from '../../src/web/options.ts';
import { createTestDatabase, type TestDatabase } from '../support/db.ts';
import { startTenants, type Tenants } from './tenants.ts';

class Clock {
  t = 1_000_000;
  now = (): number => this.t;
  advance(ms: number): void {
    this.t += ms;
  }
}

/** One attempt: 'ok'/'fail' as given, or the refusal's Retry-After. */
async function attempt(l: LoginLimiter, user: string, address: string, ok: boolean): Promise<'ok' | 'fail' | number> {
  const a = await l.begin(user, address);
  if ('reason' in a) return a.retryAfterSeconds;
  await a.finish(ok);
  return ok ? 'ok' : 'fail';
}

// Every decision holds on both stores: one web node's memory, and Postgres, shared by all nodes.
let db: TestDatabase | undefined;
const STORES: { name: string; store: () => Promise<LoginFailureStore> }[] = [
  { name: 'in memory', store: async () => new MemoryLoginFailures() },
  {
    name: 'in Postgres',
    store: async () => {
      db ??= await createTestDatabase();
      await db.db.query('DELETE FROM login_failures');
      return new PostgresLoginFailures(db.db);
    },
  },
];
after(async () => db?.drop());

const limiter = async (clock: Clock, store: LoginFailureStore, opts: Partial<LoginLimitOptions> = {}) => new LoginLimiter({ now: clock.now, store, ...opts });

const SCENARIOS: { name: string; run: (store: LoginFailureStore) => Promise<void> }[] = [
  {
    name: '(user, address): 5 free failures, then 1 s, 2 s, 4 s … capped; a success clears it',
    run: async (store) => {
      const c = new Clock();
      const l = await limiter(c, store, { maxBackoffMs: 8000 });
      for (let i = 0; i < 5; i++) assert.equal(await attempt(l, 'alice', '10.0.0.1', false), 'fail');
      assert.equal(await attempt(l, 'alice', '10.0.0.1', true), 1, 'the right password too waits 1 s after 5 failures');
      c.advance(1000);
      assert.equal(await attempt(l, 'alice', '10.0.0.1', false), 'fail');
      assert.equal(await attempt(l, 'alice', '10.0.0.1', false), 2);
      c.advance(2000);
      assert.equal(await attempt(l, 'alice', '10.0.0.1', false), 'fail');
      assert.equal(await attempt(l, 'alice', '10.0.0.1', false), 4);
      c.advance(4000);
      assert.equal(await attempt(l, 'alice', '10.0.0.1', false), 'fail');
      assert.equal(await attempt(l, 'alice', '10.0.0.1', false), 8, 'the wait doubles up to the cap');
      c.advance(8000);
      assert.equal(await attempt(l, 'alice', '10.0.0.1', false), 'fail');
      assert.equal(await attempt(l, 'alice', '10.0.0.1', false), 8, 'and stays at the cap');
      // meanwhile alice logs in from her own address at once
      assert.equal(await attempt(l, 'alice', '192.168.1.7', true), 'ok');
      c.advance(8000);
      assert.equal(await attempt(l, 'alice', '10.0.0.1', true), 'ok');
      assert.equal(await attempt(l, 'alice', '10.0.0.1', false), 'fail', 'a success cleared the backoff');
    },
  },
  {
    name: 'an address has 30 failures for all users together, one more every 10 s',
    run: async (store) => {
      const c = new Clock();
      const l = await limiter(c, store);
      for (let i = 0; i < 30; i++) assert.equal(await attempt(l, `user${i}`, '10.0.0.2', false), 'fail');
      assert.equal(await attempt(l, 'user99', '10.0.0.2', false), 10);
      c.advance(5000);
      assert.equal(await attempt(l, 'user99', '10.0.0.2', true), 5);
      c.advance(5000);
      assert.equal(await attempt(l, 'user99', '10.0.0.2', false), 'fail');
      assert.equal(await attempt(l, 'user98', '10.0.0.2', false), 10);
      assert.equal(await attempt(l, 'user98', '10.0.0.3', true), 'ok', 'other addresses are not affected');
    },
  },
  {
    name: "a user's failures across addresses slow the failing addresses, never a clean one",
    run: async (store) => {
      const c = new Clock();
      const l = await limiter(c, store, { userBurst: 10 });
      for (let i = 0; i < 10; i++) assert.equal(await attempt(l, 'bob', `10.1.0.${i}`, false), 'fail');
      assert.equal(await attempt(l, 'bob', '10.1.0.3', false), 6, 'an address that failed for bob waits for the user bucket');
      assert.equal(await attempt(l, 'bob', '172.16.0.1', true), 'ok', 'bob on a clean address logs in at once');
    },
  },
];
for (const store of STORES) {
  for (const scenario of SCENARIOS) {
    test(`${scenario.name} (${store.name})`, async () => scenario.run(await store.store()));
  }
}

test('two web nodes on one Postgres: failures on one count on the other', async () => {
  const c = new Clock();
  const shared = await STORES[1]!.store();
  const nodeA = await limiter(c, shared);
  const nodeB = await limiter(c, new PostgresLoginFailures(db!.db));
  for (let i = 0; i < 3; i++) assert.equal(await attempt(nodeA, 'dave', '10.2.0.1', false), 'fail');
  for (let i = 0; i < 2; i++) assert.equal(await attempt(nodeB, 'dave', '10.2.0.1', false), 'fail');
  assert.equal(await attempt(nodeA, 'dave', '10.2.0.1', true), 1, 'the fifth failure was on the other node');
  assert.equal(await attempt(nodeB, 'dave', '10.2.0.1', true), 1);
  c.advance(1000);
  assert.equal(await attempt(nodeB, 'dave', '10.2.0.1', true), 'ok');
  assert.equal(await attempt(nodeA, 'dave', '10.2.0.1', false), 'fail', "a success on one node cleared the pair's count on both");
});

test('at most 4 password checks at once from one address', async () => {
  const c = new Clock();
  const l = await limiter(c, new MemoryLoginFailures());
  const held = await Promise.all([1, 2, 3, 4].map(() => l.begin('carol', '10.0.0.9')));
  const fifth = await l.begin('carol', '10.0.0.9');
  assert.ok('reason' in fifth && fifth.retryAfterSeconds === 1);
  assert.ok(!('reason' in (await l.begin('carol', '10.0.0.10'))), 'another address is not held up');
  const first = held[0]!;
  assert.ok(!('reason' in first));
  await first.finish(true);
  assert.ok(!('reason' in (await l.begin('carol', '10.0.0.9'))));
});

const PROXIES: { name: string; flag: string[]; result: string[] | string }[] = [
  { name: 'addresses and ranges, comma-separated and repeated', flag: ['10.0.0.0/8,127.0.0.1', '::1', 'fd00::/8'], result: ['10.0.0.0/8', '127.0.0.1', '::1', 'fd00::/8'] },
  { name: 'none', flag: [], result: [] },
  { name: 'a host name', flag: ['proxy.example.com'], result: "--trust-proxy: 'proxy.example.com' is not an IP address or a CIDR range (e.g. 10.0.0.0/8)" },
  { name: 'a prefix too long', flag: ['10.0.0.0/33'], result: "--trust-proxy: '10.0.0.0/33' is not an IP address or a CIDR range (e.g. 10.0.0.0/8)" },
  { name: 'two slashes', flag: ['10.0.0.0/8/8'], result: "--trust-proxy: '10.0.0.0/8/8' is not an IP address or a CIDR range (e.g. 10.0.0.0/8)" },
];
for (const row of PROXIES) {
  test(`--trust-proxy: ${row.name}`, () => {
    if (typeof row.result === 'string') assert.throws(() => checkProxyAddresses(row.flag), { message: row.result });
    else assert.deepEqual(checkProxyAddresses(row.flag), row.result);
  });
}

let t: Tenants;
const clock = new Clock();
before(async () => {
  t = await startTenants({ loginLimiter: new LoginLimiter({ now: clock.now }) });
});
after(async () => t?.close());

test('POST /api/v1/token: 200 wrong passwords are not all accepted; a 429 with Retry-After; others log in', async () => {
  const login = (password: string, remoteAddress: string) =>
    t.api.app.inject({ method: 'POST', url: '/api/v1/token', payload: { username: 'alice', password }, remoteAddress });
  const codes: number[] = [];
  for (let i = 0; i < 200; i++) codes.push((await login(`guess-${i}`, '203.0.113.5')).statusCode);
  assert.deepEqual(codes.slice(0, 5), [401, 401, 401, 401, 401]);
  assert.equal(codes.filter((c) => c === 401).length, 5, 'only 5 passwords were checked');
  assert.equal(codes.filter((c) => c === 429).length, 195);
  const right = await login('alice-pw', '203.0.113.5');
  assert.equal(right.statusCode, 429, 'the right password from the guessing address waits too');
  assert.equal(right.headers['retry-after'], '1');
  assert.deepEqual(right.json(), { error: 'too many failed logins for user alice from this address: try again in 1 s', code: 'JW_TOO_MANY_LOGINS' });
  const elsewhere = await login('alice-pw', '198.51.100.8');
  assert.equal(elsewhere.statusCode, 200, 'alice logs in from her own address');
  clock.advance(1000);
  assert.equal((await login('alice-pw', '203.0.113.5')).statusCode, 200, 'after Retry-After the right password works');
});

// Behind a proxy every client has the proxy's address: with --trust-proxy, the address is the
// client's from X-Forwarded-For, and only from the proxies named; without it the header is ignored.
let proxied: Tenants;
const proxyClock = new Clock();
before(async () => {
  proxied = await startTenants({ loginLimiter: new LoginLimiter({ now: proxyClock.now }), trustProxy: ['10.9.0.0/16'] });
});
after(async () => proxied?.close());

const viaProxy = (app: Tenants, password: string, peer: string, forwardedFor?: string) =>
  app.api.app.inject({
    method: 'POST',
    url: '/api/v1/token',
    payload: { username: 'alice', password },
    remoteAddress: peer,
    ...(forwardedFor ? { headers: { 'x-forwarded-for': forwardedFor } } : {}),
  });

test('--trust-proxy: behind a trusted proxy, limits apply to the client named by X-Forwarded-For', async () => {
  for (let i = 0; i < 5; i++) assert.equal((await viaProxy(proxied, `guess-${i}`, '10.9.0.1', '203.0.113.20')).statusCode, 401);
  assert.equal((await viaProxy(proxied, 'alice-pw', '10.9.0.1', '203.0.113.20')).statusCode, 429, 'the guessing client waits');
  assert.equal((await viaProxy(proxied, 'alice-pw', '10.9.0.1', '198.51.100.30')).statusCode, 200, 'another client behind the same proxy does not');
  // a client that is not a trusted proxy cannot choose its address
  for (let i = 0; i < 5; i++) assert.equal((await viaProxy(proxied, `guess-${i}`, '203.0.113.40', `198.51.100.${i}`)).statusCode, 401);
  assert.equal((await viaProxy(proxied, 'alice-pw', '203.0.113.40', '198.51.100.99')).statusCode, 429, 'X-Forwarded-For from an untrusted peer is ignored');
});

test('without --trust-proxy, X-Forwarded-For is ignored', async () => {
  for (let i = 0; i < 5; i++) assert.equal((await viaProxy(t, `guess-${i}`, '203.0.113.50', `198.51.100.${i}`)).statusCode, 401);
  assert.equal((await viaProxy(t, 'alice-pw', '203.0.113.50', '198.51.100.77')).statusCode, 429);
});
