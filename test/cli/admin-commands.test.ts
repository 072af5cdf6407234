// fly's admin and fleet commands (issue 21): set-wall / get-wall / clear-wall
// (fly/commands/set_wall.go, get_wall.go, clear_wall.go), active-users (fly/commands/users.go),
// workers and volumes (fly/commands/workers.go, volumes.go), against a real API server: their
// output lines and columns are fly's, their bad flags usage errors naming the flag.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { jetway, startCliServer, PASSWORD, type CliServer } from './client-support.ts';
import { goDuration } from '../../src/cli/client/common.ts';
import { workerAge } from '../../src/cli/commands/workers.ts';
import { activeUsersSince } from '../../src/cli/commands/active-users.ts';
import { markWebNodeDraining, registerWebNode } from '../../src/db/cluster.ts';

let s: CliServer;

before(async () => {
  s = await startCliServer();
  assert.equal((await jetway('login', '-t', 'ci', '-c', s.url, '-u', 'admin', '-p', PASSWORD)).code, 0);
});
after(async () => {
  await s?.close();
});

test('set-wall with a ttl, get-wall shows it with the time left, clear-wall removes it', async () => {
  let r = await jetway('set-wall', '-t', 'ci', '-m', 'upgrade at 17:00', '--ttl', '1h30m');
  assert.equal(r.code, 0, r.err);
  assert.equal(r.out, 'Wall message set successfully\nMessage will expire in 1h30m0s\n');
  r = await jetway('get-wall', '-t', 'ci');
  assert.equal(r.code, 0, r.err);
  assert.match(r.out, /^Wall Message: upgrade at 17:00\nExpires in: (1h29m\d+(\.\d+)?s|1h30m0s)\n$/);
  r = await jetway('get-wall', '-t', 'ci', '--json');
  assert.equal((JSON.parse(r.out) as { message: string }).message, 'upgrade at 17:00');
  r = await jetway('clear-wall', '-t', 'ci');
  assert.equal(r.code, 0, r.err);
  assert.equal(r.out, 'Wall message cleared successfully\n');
  r = await jetway('get-wall', '-t', 'ci');
  assert.equal(r.out, 'No wall message is currently set\n');
});

test('set-wall without a ttl never expires', async () => {
  let r = await jetway('set-wall', '-t', 'ci', '-m', 'read-only Fridays');
  assert.equal(r.out, 'Wall message set successfully\nNo expiration set\n');
  r = await jetway('get-wall', '-t', 'ci');
  assert.equal(r.out, 'Wall Message: read-only Fridays\nNo expiration set\n');
  await jetway('clear-wall', '-t', 'ci');
});

test('set-wall refuses a missing message and a ttl that is not a duration, naming the flag, and sets nothing', async () => {
  let r = await jetway('set-wall', '-t', 'ci');
  assert.equal(r.code, 2);
  assert.match(r.err, /-m, --message/);
  r = await jetway('set-wall', '-t', 'ci', '-m', 'x', '--ttl', 'soon');
  assert.equal(r.code, 2);
  assert.match(r.err, /--ttl: 'soon' is not a duration/);
  assert.equal((await jetway('get-wall', '-t', 'ci')).out, 'No wall message is currently set\n');
});

test('active-users lists who logged in, with their connector and the day of their last login', async () => {
  const r = await jetway('active-users', '-t', 'ci');
  assert.equal(r.code, 0, r.err);
  const rows = r.out.trim().split('\n').map((l) => l.trim().split(/\s+/));
  assert.deepEqual(rows[0], ['username', 'connector', 'last', 'login']);
  const admin = rows.find((row) => row[0] === 'admin');
  assert.ok(admin, r.out);
  assert.equal(admin[1], 'local');
  const d = new Date();
  const today = `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, '0')}-${String(d.getDate()).padStart(2, '0')}`;
  assert.equal(admin[2], today, 'logged in today (local time, as fly prints it)');
});

for (const [since, now, expected] of [
  [undefined, new Date(2026, 11, 3, 12), '2026-10-03'],
  ['2026-01-31', new Date(2026, 11, 3, 12), '2026-01-31'],
] as const) {
  test(`active-users --since ${since ?? '(none)'} on ${now.toDateString()} asks for ${expected}`, () => {
    assert.equal(activeUsersSince(since, now), expected);
  });
}

test('active-users --since in the future or in another format is a usage error naming the flag', async () => {
  let r = await jetway('active-users', '-t', 'ci', '--since', '2999-01-01');
  assert.equal(r.code, 2);
  assert.match(r.err, /--since: since time can't be in the future/);
  r = await jetway('active-users', '-t', 'ci', '--since', '01/02/2026');
  assert.equal(r.code, 2);
  assert.match(r.err, /--since: since time should be in the format: yyyy-mm-dd/);
});

test('workers: one row per web node with fly’s columns, sorted by name; --json gives the API’s objects', async () => {
  await registerWebNode(s.api.t.db, 'web-b', 'inc-b');
  await registerWebNode(s.api.t.db, 'web-a', 'inc-a');
  await markWebNodeDraining(s.api.t.db, 'web-b');
  let r = await jetway('workers', '-t', 'ci');
  assert.equal(r.code, 0, r.err);
  const rows = r.out.trim().split('\n').map((l) => l.split(/\s{2,}/));
  assert.deepEqual(rows[0], ['name', 'containers', 'platform', 'tags', 'team', 'state', 'version', 'age']);
  assert.deepEqual(rows.slice(1).map((row) => [row[0], row[1], row[2], row[3], row[4], row[5]]), [
    ['web-a', '0', 'linux', 'none', 'none', 'running'],
    ['web-b', '0', 'linux', 'none', 'none', 'landing'],
  ]);
  assert.match(rows[1]?.[7] ?? '', /^\d+s$/, 'its age');
  r = await jetway('workers', '-t', 'ci', '--details');
  assert.deepEqual(r.out.split('\n')[0]?.split(/\s{2,}/).slice(-4), ['garden address', 'baggageclaim url', 'active tasks', 'resource types']);
  assert.match(r.out.split('\n')[1] ?? '', /git, /);
  r = await jetway('workers', '-t', 'ci', '--json');
  assert.deepEqual((JSON.parse(r.out) as { name: string; state: string }[]).map((w) => [w.name, w.state]), [['web-a', 'running'], ['web-b', 'landing']]);
});

test('volumes: none, under fly’s columns', async () => {
  const r = await jetway('volumes', '-t', 'ci');
  assert.equal(r.code, 0, r.err);
  assert.equal(r.out.trim().split(/\s{2,}/).join('|'), 'handle|worker|type|identifier');
});

for (const [ms, expected] of [
  [0, '0s'],
  [45_000, '45s'],
  [123_500, '2m3.5s'],
  [5_400_000, '1h30m0s'],
  [90_061_000, '25h1m1s'],
] as const) {
  test(`goDuration(${ms} ms) = ${expected}, as Go prints a time.Duration`, () => {
    assert.equal(goDuration(ms), expected);
  });
}

for (const [start, now, expected] of [
  [0, 100, 'n/a'],
  [200, 100, 'n/a'],
  [100, 112, '12s'],
  [100, 100 + 250, '4m10s'],
  [100, 100 + 2 * 3600 + 5 * 60 + 9, '2h5m'],
  [100, 100 + 3 * 86400 + 7, '3d'],
] as const) {
  test(`workerAge(started ${start}, now ${now}) = ${expected}, as fly's ageCell`, () => {
    assert.equal(workerAge(start, now), expected);
  });
}
