// What the API looks up at nearly every request (tokens, teams, pipelines by name), kept while
// the node LISTENs for their changes (src/api/lookup-cache.ts, migrations 0025, 0026, 0029): what
// is kept costs no statement, and a change made anywhere (another node's logout, set-team, a
// pipeline paused, SQL) is not answered from before it once heard.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { pino } from 'pino';
import { LookupCache, TEAMS_CHANNEL, TOKENS_CHANNEL } from '../../src/api/lookup-cache.ts';
import { LocalAuth, tokenDigest } from '../../src/api/auth.ts';
import { saveAccessToken } from '../../src/db/access-tokens.ts';
import type { Database, Queryable } from '../../src/db/database.ts';
import type { Listener, NotificationHandlers } from '../../src/db/notifications.ts';
import { saveTeam } from '../../src/db/teams.ts';
import { savePipeline, unpausePipeline } from '../../src/db/pipelines.ts';
import { loadPipeline } from '../../src/config/index.ts';
import { createTestDatabase, type TestDatabase } from '../support/db.ts';
import { startApi, PASSWORD } from './helpers.ts';

let t: TestDatabase;
const logger = pino({ level: 'silent' });
before(async () => {
  t = await createTestDatabase();
});
after(async () => {
  await t.drop();
});

/** The database, counting the statements that match `count` (all by default). */
function counting(db: Database, count = /./): { db: Database; statements: () => number; hold: (pattern: RegExp) => () => void } {
  let n = 0;
  let held: { pattern: RegExp; gate: Promise<void> } | undefined;
  const wrap = <T extends Queryable>(target: T): T =>
    new Proxy(target, {
      get(obj, prop, receiver) {
        if (prop === 'query') {
          return async (text: string, values?: readonly unknown[]) => {
            if (count.test(text)) n++;
            const r = await obj.query(text, values);
            if (held && held.pattern.test(text)) await held.gate;
            return r;
          };
        }
        if (prop === 'transaction') return <R>(fn: (tx: Queryable) => Promise<R>) => obj.transaction((tx) => fn(wrap(tx)));
        const v: unknown = Reflect.get(obj, prop, receiver);
        return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(obj) : v;
      },
    });
  return {
    db: wrap(db),
    statements: () => n,
    // the next answers of statements matching `pattern` wait (read, not yet returned) until released
    hold(pattern) {
      let release!: () => void;
      held = { pattern, gate: new Promise<void>((r) => (release = r)) };
      return () => {
        held = undefined;
        release();
      };
    },
  };
}

let tokens = 0;
async function newToken(username = 'admin', lifetimeMs = 3_600_000): Promise<string> {
  const token = `token-${++tokens}-${Math.random()}`;
  await saveAccessToken(t.db, { sha256: tokenDigest(token), username, teams: [], expiresAt: new Date(Date.now() + lifetimeMs) });
  return token;
}

async function until(pred: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 5_000;
  while (!pred()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting: ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

test('a kept token and the teams cost no statement; an unknown token is never kept', async () => {
  const c = counting(t.db);
  const cache = new LookupCache(c.db, logger);
  await cache.start();
  assert.ok(cache.listening);
  const token = await newToken();
  const before = c.statements();
  assert.deepEqual(await cache.token(tokenDigest(token)), { username: 'admin', expired: false });
  assert.deepEqual(await cache.token(tokenDigest(token)), { username: 'admin', expired: false });
  assert.equal(c.statements() - before, 1, 'read once');
  await cache.teams();
  const teams = await cache.teams();
  assert.ok(teams.some((x) => x.name === 'main'));
  assert.equal(c.statements() - before, 2, 'the teams read once');
  // a spray of unknown tokens fills nothing: each is asked of the database
  assert.equal(await cache.token(tokenDigest('nope')), undefined);
  assert.equal(await cache.token(tokenDigest('nope')), undefined);
  assert.equal(c.statements() - before, 4);
  await cache.stop();
});

test("another node's logout is heard: the token is refused", async () => {
  const auth = new LocalAuth({ users: ['admin:pw'] });
  const here = new LookupCache(t.db, logger);
  const there = new LookupCache(t.db, logger);
  await Promise.all([here.start(), there.start()]);
  const token = await newToken();
  assert.ok(!('refused' in (await auth.authenticate(t.db, token, here))));
  assert.ok(!('refused' in (await auth.authenticate(t.db, token, there))));
  assert.equal(await auth.revokeToken(t.db, token, there), 'admin');
  // the node that revoked it refuses it at once; the other once it has heard (no barrier: heard)
  assert.deepEqual(await auth.authenticate(t.db, token, there), { refused: 'invalid token; log in again (jetway login)' });
  const deadline = Date.now() + 5_000;
  while (!('refused' in (await auth.authenticate(t.db, token, here)))) {
    assert.ok(Date.now() < deadline, 'the logout was not heard by the other node within 5 s');
    await new Promise((r) => setTimeout(r, 5));
  }
  await Promise.all([here.stop(), there.stop()]);
});

test("a team's auth changed by another session: a member's roles follow once it is heard", async () => {
  const auth = new LocalAuth({ users: ['admin:pw', 'alice:pw'], mainTeamUsers: ['admin'] });
  const cache = new LookupCache(t.db, logger);
  await cache.start();
  await saveTeam(t.db, 'alpha', { member: { users: ['local:alice'], groups: [] } });
  await cache.heardUpTo();
  const token = await newToken('alice');
  const first = await auth.authenticate(t.db, token, cache);
  assert.ok(!('refused' in first));
  assert.deepEqual(first.roles, { alpha: ['member'] });
  await t.db.query(`UPDATE teams SET auth = '{"owner": {"users": ["local:alice"], "groups": []}}' WHERE name = 'alpha'`);
  await cache.heardUpTo();
  const second = await auth.authenticate(t.db, token, cache);
  assert.ok(!('refused' in second));
  assert.deepEqual(second.roles, { alpha: ['owner'] });
  // the admin sees every team, the new one too, once heard
  await t.db.query(`INSERT INTO teams (name) VALUES ('beta')`);
  await cache.heardUpTo();
  const admin = await auth.authenticate(t.db, await newToken('admin'), cache);
  assert.ok(!('refused' in admin));
  assert.ok(admin.teams.includes('beta'));
  // an UPDATE of a kept token (its expiry) is heard too
  await t.db.query(`UPDATE access_tokens SET expires_at = now() - interval '1 second' WHERE token_sha256 = $1`, [tokenDigest(token)]);
  await cache.heardUpTo();
  assert.deepEqual(await auth.authenticate(t.db, token, cache), { refused: 'token expired; log in again (jetway login)' });
  await cache.stop();
});

test("a kept token expires by the database's remaining lifetime on the node's clock, with no statement", async () => {
  let now = 1_000;
  const c = counting(t.db);
  const cache = new LookupCache(c.db, logger, { now: () => now });
  await cache.start();
  const token = await newToken('admin', 60_000);
  assert.equal((await cache.token(tokenDigest(token)))?.expired, false);
  const before = c.statements();
  now += 55_000;
  assert.equal((await cache.token(tokenDigest(token)))?.expired, false);
  now += 6_000;
  assert.equal((await cache.token(tokenDigest(token)))?.expired, true);
  assert.equal(c.statements(), before);
  await cache.stop();
});

test('the listening connection lost: nothing is kept until it listens again', async () => {
  const c = counting(t.db, /access_tokens/);
  const cache = new LookupCache(c.db, logger, { retryMs: 50 });
  await cache.start();
  const token = await newToken();
  await cache.token(tokenDigest(token));
  await t.db.query(`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid() AND query LIKE 'LISTEN%'`);
  await until(() => !cache.listening, 'the loss noticed');
  const before = c.statements();
  await cache.token(tokenDigest(token));
  assert.equal(c.statements() - before, 1, 'the kept token was forgotten');
  await until(() => cache.listening, 'listening again');
  await cache.token(tokenDigest(token));
  await cache.token(tokenDigest(token));
  assert.equal(c.statements() - before, 2, 'kept again once listening');
  await cache.stop();
});

/** A listener the test drives: it sends what it likes, when it likes. */
function fakeListen(): { listen: (db: Database, channels: readonly string[], h: NotificationHandlers) => Promise<Listener>; send: (channel: string, payload: string) => void } {
  let handlers: NotificationHandlers | undefined;
  return {
    listen: async (_db, _channels, h) => {
      handlers = h;
      return { close: async () => undefined };
    },
    send: (channel, payload) => handlers?.onNotification(channel, payload),
  };
}

test('a read that began before a change was heard is not kept (it may have read the old row)', async () => {
  const c = counting(t.db, /FROM (access_tokens|teams)/);
  const fake = fakeListen();
  const cache = new LookupCache(c.db, logger, { listen: fake.listen });
  await cache.start();
  const token = await newToken();
  const digest = tokenDigest(token);
  let release = c.hold(/FROM access_tokens/);
  const reading = cache.token(digest);
  await new Promise((r) => setTimeout(r, 20));
  fake.send(TOKENS_CHANNEL, digest);
  release();
  assert.equal((await reading)?.username, 'admin', 'the read is answered');
  const before = c.statements();
  await cache.token(digest);
  assert.equal(c.statements() - before, 1, 'but not kept');
  await cache.token(digest);
  assert.equal(c.statements() - before, 1, 'a read after the change is kept');

  release = c.hold(/FROM teams/);
  const teams = cache.teams();
  await new Promise((r) => setTimeout(r, 20));
  fake.send(TEAMS_CHANNEL, '');
  release();
  await teams;
  const mid = c.statements();
  await cache.teams();
  assert.equal(c.statements() - mid, 1, 'the teams read during a change were not kept');
  await cache.stop();
});

test('the tokens kept are bounded: the least recently used goes first', async () => {
  const c = counting(t.db, /access_tokens/);
  const cache = new LookupCache(c.db, logger, { maxEntries: 2 });
  await cache.start();
  const [a, b, d] = [await newToken(), await newToken(), await newToken()];
  await cache.token(tokenDigest(a));
  await cache.token(tokenDigest(b));
  await cache.token(tokenDigest(a)); // a used after b
  await cache.token(tokenDigest(d)); // b goes
  const before = c.statements();
  await cache.token(tokenDigest(a));
  await cache.token(tokenDigest(d));
  assert.equal(c.statements(), before, 'a and d kept');
  await cache.token(tokenDigest(b));
  assert.equal(c.statements() - before, 1, 'b was dropped');
  await cache.stop();
});

test('through the API: a logout at one web node refuses the token at another', async () => {
  const one = await startApi({}, t);
  const cache = new LookupCache(t.db, logger);
  await cache.start();
  const two = await startApi({ lookups: cache }, t);
  const login = await one.app.inject({ method: 'POST', url: '/api/v1/token', payload: { username: 'admin', password: PASSWORD } });
  const token = (login.json() as { access_token: string }).access_token;
  assert.equal((await two.app.inject({ url: '/api/v1/user', headers: two.auth(token) })).statusCode, 200);
  assert.equal((await one.app.inject({ method: 'DELETE', url: '/api/v1/token', headers: one.auth(token) })).statusCode, 204);
  await cache.heardUpTo();
  const after = await two.app.inject({ url: '/api/v1/user', headers: two.auth(token) });
  assert.equal(after.statusCode, 401);
  assert.match(after.body, /invalid token/);
  await two.close();
  await one.close();
  await cache.stop();
});

// ------------------------------------------------------------------------------ pipelines

const TINY = loadPipeline('jobs:\n- name: j\n  plan:\n  - task: t\n    config: {platform: linux, run: {path: "true"}}\n').config!;

test('a pipeline a path names is kept; paused by another session, it is read again once heard', async () => {
  const c = counting(t.db, /FROM pipelines/);
  const cache = new LookupCache(c.db, logger);
  await cache.start();
  await savePipeline(t.db, { team: 'main', name: 'kept', config: TINY });
  await cache.heardUpTo();
  const before = c.statements();
  assert.equal((await cache.pipeline({ team: 'main', name: 'kept' }))?.paused, true);
  assert.equal((await cache.pipeline({ team: 'main', name: 'kept' }))?.paused, true);
  assert.equal(c.statements() - before, 1, 'read once');
  await unpausePipeline(t.db, { team: 'main', name: 'kept' });
  await cache.heardUpTo();
  assert.equal((await cache.pipeline({ team: 'main', name: 'kept' }))?.paused, false);
  assert.equal(c.statements() - before, 2);
  // an unknown one is never kept: each ask reads
  assert.equal(await cache.pipeline({ team: 'main', name: 'nope' }), undefined);
  assert.equal(await cache.pipeline({ team: 'main', name: 'nope' }), undefined);
  assert.equal(c.statements() - before, 4);
  // what is kept is shared by requests: frozen
  const kept = await cache.pipeline({ team: 'main', name: 'kept' });
  assert.throws(() => {
    (kept as { paused: boolean }).paused = true;
  }, TypeError);
  await cache.stop();
});

test("a team renamed is heard: its pipelines' kept views (which name the team) go too", async () => {
  const cache = new LookupCache(t.db, logger);
  await cache.start();
  await saveTeam(t.db, 'gamma', {});
  await savePipeline(t.db, { team: 'gamma', name: 'g', config: TINY });
  await cache.heardUpTo();
  assert.equal((await cache.pipeline({ team: 'gamma', name: 'g' }))?.team, 'gamma');
  await t.db.query(`UPDATE teams SET name = 'delta' WHERE name = 'gamma'`);
  await cache.heardUpTo();
  assert.equal(await cache.pipeline({ team: 'gamma', name: 'g' }), undefined);
  assert.equal((await cache.pipeline({ team: 'delta', name: 'g' }))?.team, 'delta');
  await cache.stop();
});

// a statement on pipelines or teams that changes no row is not a change: finishBuild's archiving
// of older builds' child pipelines runs at every successful build and almost never matches one
// (migration 0029; before it every kept pipeline went at every successful build)
test('statements that change no pipeline or team (a successful build) keep what is kept', async () => {
  const c = counting(t.db, /FROM pipelines|FROM teams/);
  const cache = new LookupCache(c.db, logger);
  await cache.start();
  await savePipeline(t.db, { team: 'main', name: 'steady', config: TINY });
  await cache.heardUpTo();
  assert.ok(await cache.pipeline({ team: 'main', name: 'steady' }));
  assert.ok(await cache.teams());
  const before = c.statements();
  await t.db.query('UPDATE pipelines SET paused = true WHERE false');
  await t.db.query('DELETE FROM pipelines WHERE false');
  await t.db.query(`UPDATE teams SET name = 'x' WHERE false`);
  await t.db.query('DELETE FROM teams WHERE false');
  await cache.heardUpTo();
  assert.ok(await cache.pipeline({ team: 'main', name: 'steady' }));
  assert.ok(await cache.teams());
  assert.equal(c.statements(), before, 'nothing read again');
  // one statement changing rows is still heard (once, however many rows)
  await t.db.query(`UPDATE pipelines SET paused = false WHERE name = 'steady'`);
  await cache.heardUpTo();
  assert.equal((await cache.pipeline({ team: 'main', name: 'steady' }))?.paused, false);
  assert.equal(c.statements() - before, 1);
  await cache.stop();
});

test('a write through this API forgets its kept pipelines at once, before any notification', async () => {
  // notifications never come: only the API's own write can make it read again
  const fake = fakeListen();
  const cache = new LookupCache(t.db, logger, { listen: fake.listen });
  await cache.start();
  const api = await startApi({ lookups: cache }, t);
  await savePipeline(t.db, { team: 'main', name: 'own', config: TINY });
  const url = '/api/v1/teams/main/pipelines/own';
  assert.equal((await api.app.inject({ url, headers: api.auth() })).json<{ paused: boolean }>().paused, true);
  assert.equal((await api.app.inject({ method: 'PUT', url: `${url}/unpause`, headers: api.auth() })).statusCode, 200);
  assert.equal((await api.app.inject({ url, headers: api.auth() })).json<{ paused: boolean }>().paused, false);
  await api.close();
  await cache.stop();
});

test('a read begun before LISTEN took effect is not kept (a change before it would never be heard)', async () => {
  const c = counting(t.db, /FROM access_tokens/);
  let connect!: () => void;
  const fake = fakeListen();
  const cache = new LookupCache(c.db, logger, {
    listen: async (db, channels, h) => {
      await new Promise<void>((r) => (connect = r));
      return fake.listen(db, channels, h);
    },
  });
  const starting = cache.start();
  const token = await newToken();
  const release = c.hold(/FROM access_tokens/);
  const reading = cache.token(tokenDigest(token));
  await new Promise((r) => setTimeout(r, 20));
  connect();
  await starting;
  assert.ok(cache.listening);
  release();
  await reading;
  const before = c.statements();
  await cache.token(tokenDigest(token));
  assert.equal(c.statements() - before, 1, 'read again: the first read was not kept');
  await cache.stop();
});
