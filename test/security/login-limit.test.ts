// Finding 5 of issue 16 (logins): failed logins are limited per (user, address), per address
// and per user, with a 429 and Retry-After, without locking the user out from elsewhere.
// Every figure comes from an injected clock: no test waits.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { LoginLimiter, type LoginLimitOptions } from '../../src/api/login-limit.ts';
import { startTenants, type Tenants } from './tenants.ts';

class Clock {
  t = 1_000_000;
  now = (): number => this.t;
  advance(ms: number): void {
    this.t += ms;
  }
}

/** One attempt: 'ok'/'fail' as given, or the refusal's Retry-After. */
function attempt(l: LoginLimiter, user: string, address: string, ok: boolean): 'ok' | 'fail' | number {
  const a = l.begin(user, address);
  if ('reason' in a) return a.retryAfterSeconds;
  a.finish(ok);
  return ok ? 'ok' : 'fail';
}

const limiter = (clock: Clock, opts: Partial<LoginLimitOptions> = {}) => new LoginLimiter({ now: clock.now, ...opts });

test('(user, address): 5 free failures, then 1 s, 2 s, 4 s … capped; a success clears it', () => {
  const c = new Clock();
  const l = limiter(c, { maxBackoffMs: 8000 });
  for (let i = 0; i < 5; i++) assert.equal(attempt(l, 'alice', '10.0.0.1', false), 'fail');
  assert.equal(attempt(l, 'alice', '10.0.0.1', true), 1, 'the right password too waits 1 s after 5 failures');
  c.advance(1000);
  assert.equal(attempt(l, 'alice', '10.0.0.1', false), 'fail');
  assert.equal(attempt(l, 'alice', '10.0.0.1', false), 2);
  c.advance(2000);
  assert.equal(attempt(l, 'alice', '10.0.0.1', false), 'fail');
  assert.equal(attempt(l, 'alice', '10.0.0.1', false), 4);
  c.advance(4000);
  assert.equal(attempt(l, 'alice', '10.0.0.1', false), 'fail');
  assert.equal(attempt(l, 'alice', '10.0.0.1', false), 8, 'the wait doubles up to the cap');
  c.advance(8000);
  assert.equal(attempt(l, 'alice', '10.0.0.1', false), 'fail');
  assert.equal(attempt(l, 'alice', '10.0.0.1', false), 8, 'and stays at the cap');
  // meanwhile alice logs in from her own address at once
  assert.equal(attempt(l, 'alice', '192.168.1.7', true), 'ok');
  c.advance(8000);
  assert.equal(attempt(l, 'alice', '10.0.0.1', true), 'ok');
  assert.equal(attempt(l, 'alice', '10.0.0.1', false), 'fail', 'a success cleared the backoff');
});

test('an address has 30 failures for all users together, one more every 10 s', () => {
  const c = new Clock();
  const l = limiter(c);
  for (let i = 0; i < 30; i++) assert.equal(attempt(l, `user${i}`, '10.0.0.2', false), 'fail');
  assert.equal(attempt(l, 'user99', '10.0.0.2', false), 10);
  c.advance(5000);
  assert.equal(attempt(l, 'user99', '10.0.0.2', true), 5);
  c.advance(5000);
  assert.equal(attempt(l, 'user99', '10.0.0.2', false), 'fail');
  assert.equal(attempt(l, 'user98', '10.0.0.2', false), 10);
  assert.equal(attempt(l, 'user98', '10.0.0.3', true), 'ok', 'other addresses are not affected');
});

test("a user's failures across addresses slow the failing addresses, never a clean one", () => {
  const c = new Clock();
  const l = limiter(c, { userBurst: 10 });
  for (let i = 0; i < 10; i++) assert.equal(attempt(l, 'bob', `10.1.0.${i}`, false), 'fail');
  assert.equal(attempt(l, 'bob', '10.1.0.3', false), 6, 'an address that failed for bob waits for the user bucket');
  assert.equal(attempt(l, 'bob', '172.16.0.1', true), 'ok', 'bob on a clean address logs in at once');
});

test('at most 4 password checks at once from one address', () => {
  const c = new Clock();
  const l = limiter(c);
  const held = [1, 2, 3, 4].map(() => l.begin('carol', '10.0.0.9'));
  const fifth = l.begin('carol', '10.0.0.9');
  assert.ok('reason' in fifth && fifth.retryAfterSeconds === 1);
  assert.ok(!('reason' in l.begin('carol', '10.0.0.10')), 'another address is not held up');
  const first = held[0]!;
  assert.ok(!('reason' in first));
  first.finish(true);
  assert.ok(!('reason' in l.begin('carol', '10.0.0.9')));
});

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
