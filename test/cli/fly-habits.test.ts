// fly habits of issue 21 (docs/concourse-compatibility.md), each pointing at the fly source it
// follows: builds --since/--until (fly/commands/builds.go), watch --timestamps
// (fly/eventstream/timestamped_writer.go), following absolute Link headers
// (go-concourse/concourse/pagination.go).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { jetway, startCliServer, PASSWORD, PIPELINE, type CliServer } from './client-support.ts';
import { createManualBuild, finishBuild, saveBuildEvent, startBuild } from '../../src/db/builds.ts';
import { buildEvent } from '../../src/model/build-events.ts';
import type { Plan } from '../../src/model/plan.ts';
import { parseLocalTime } from '../../src/cli/commands/builds.ts';
import { pathOfLink } from '../../src/cli/commands/resource-versions.ts';
import { runCli } from '../../src/cli/program.ts';
import { NO_TIMESTAMP, TimestampedIO, timestampPrefix } from '../../src/cli/client/timestamps.ts';

// ---------------------------------------------------------------- pure rows

const local = (y: number, mo: number, d: number, h: number, mi: number, s: number): number => Math.floor(new Date(y, mo - 1, d, h, mi, s).getTime() / 1000);

for (const [text, want] of [
  ['2024-01-31 13:04:05', local(2024, 1, 31, 13, 4, 5)],
  ['2024-02-29 00:00:00', local(2024, 2, 29, 0, 0, 0)],
  ['2023-02-29 00:00:00', undefined],
  ['2024-13-01 00:00:00', undefined],
  ['2024-01-31T13:04:05', undefined],
  ['2024-01-31 13:04', undefined],
  ['yesterday', undefined],
] as const) {
  test(`builds --since '${text}' reads as ${want ?? 'an error'} (fly's inputTimeLayout, local time)`, () => {
    assert.equal(parseLocalTime(text), want);
  });
}

for (const [link, want] of [
  ['http://ci.example:8080/api/v1/builds?to=5&limit=2', '/api/v1/builds?to=5&limit=2'],
  ['/api/v1/builds?from=9&limit=2', '/api/v1/builds?from=9&limit=2'],
  ['https://ci.example/api/v1/teams/main/pipelines/p/resources/r/versions?to=3&limit=4&vars.a=%221%22', '/api/v1/teams/main/pipelines/p/resources/r/versions?to=3&limit=4&vars.a=%221%22'],
] as const) {
  test(`a Link to ${link} is followed on the target as ${want}`, () => {
    assert.equal(pathOfLink(link), want);
  });
}

for (const [time, want] of [
  [local(2024, 1, 31, 9, 5, 7), '09:05:07  '],
  [local(2024, 1, 31, 23, 59, 59), '23:59:59  '],
  [undefined, NO_TIMESTAMP],
  [0, NO_TIMESTAMP],
] as const) {
  test(`watch --timestamps prefix for ${time ?? 'no time'} is ${JSON.stringify(want)}`, () => {
    assert.equal(timestampPrefix(time), want);
    assert.equal(timestampPrefix(time).length, 10);
  });
}

test('TimestampedIO prefixes every line, including lines split across writes, with the time of the event that wrote it', () => {
  let out = '';
  const io = new TimestampedIO({ stdout: (t) => (out += t), stderr: () => undefined });
  const t1 = local(2024, 1, 31, 10, 0, 1);
  const t2 = local(2024, 1, 31, 10, 0, 2);
  io.setTime(t1);
  io.stdout('one\ntw');
  io.setTime(t2);
  io.stdout('o\nthree\n');
  io.setTime(undefined);
  io.stdout('succeeded\n');
  assert.equal(out, '10:00:01  one\n10:00:01  two\n10:00:02  three\n          succeeded\n');
});

// ---------------------------------------------------------------- against a server

let s: CliServer;
const starts: Record<string, number> = {};
before(async () => {
  s = await startCliServer();
  assert.equal((await jetway('login', '-t', 'ci', '-c', s.url, '-u', 'admin', '-p', PASSWORD)).code, 0);
  const file = join(s.dir, 'pipeline.yml');
  writeFileSync(file, PIPELINE);
  assert.equal((await jetway('set-pipeline', '-t', 'ci', '-p', 'demo', '-c', file, '-n')).code, 0);
  const unit = (await s.api.t.db.query<{ id: number }>(`SELECT id FROM jobs WHERE name = 'unit'`)).rows[0]!.id;
  // builds 1..3 of demo/unit started on 2024-01-01 at 10:00, 11:00 and 12:00 local time
  for (const [name, hour] of [['1', 10], ['2', 11], ['3', 12]] as const) {
    const b = await createManualBuild(s.api.t.db, unit);
    await startBuild(s.api.t.db, b.id, { id: 'root', do: [] } as unknown as Plan);
    await saveBuildEvent(s.api.t.db, b.id, buildEvent('log', { time: local(2024, 1, 1, hour, 0, 30), origin: { id: 't', source: 'stdout' }, payload: `build ${name}\n` }));
    await finishBuild(s.api.t.db, b.id, 'succeeded');
    starts[name] = local(2024, 1, 1, hour, 0, 0);
    await s.api.t.db.query('UPDATE builds SET start_time = to_timestamp($2) WHERE id = $1', [b.id, starts[name]]);
  }
});
after(async () => {
  await s.close();
});

const names = (out: string): string[] => (JSON.parse(out) as { name: string }[]).map((b) => b.name);

test('builds --since/--until: the builds that started in the range, for the team, a pipeline or a job', async () => {
  const since = await jetway('builds', '-t', 'ci', '--since', '2024-01-01 10:30:00', '--json');
  assert.equal(since.code, 0, since.err);
  assert.deepEqual(names(since.out), ['3', '2']);
  const until = await jetway('builds', '-t', 'ci', '-j', 'demo/unit', '--until', '2024-01-01 11:00:00', '--json');
  assert.deepEqual(names(until.out), ['2', '1']);
  const both = await jetway('builds', '-t', 'ci', '-p', 'demo', '--since', '2024-01-01 10:30:00', '--until', '2024-01-01 11:30:00', '--json');
  assert.deepEqual(names(both.out), ['2']);
  const count = await jetway('builds', '-t', 'ci', '--since', '2024-01-01 00:00:00', '-c', '1', '--json');
  assert.deepEqual(names(count.out), ['3']);
});

test('builds --since/--until: a time not in fly\'s layout, or --since after --until, is a usage error', async () => {
  const bad = await jetway('builds', '-t', 'ci', '--since', '2024-01-01');
  assert.equal(bad.code, 2);
  assert.match(bad.err, /--since must be a time in the format 'yyyy-mm-dd HH:mm:ss' \(got '2024-01-01'\)/);
  const order = await jetway('builds', '-t', 'ci', '--since', '2024-01-02 00:00:00', '--until', '2024-01-01 00:00:00');
  assert.equal(order.code, 2);
  assert.match(order.err, /--since is after --until/);
});

test('watch --timestamps: each line starts with its event\'s local time', async () => {
  const id = (await s.api.t.db.query<{ id: number }>(`SELECT id FROM builds WHERE name = '2' AND job_id IS NOT NULL`)).rows[0]!.id;
  const w = await jetway('watch', '-t', 'ci', '-b', String(id), '--timestamps');
  assert.equal(w.code, 0, w.err);
  assert.equal(w.out, `11:00:30  build 2\n${NO_TIMESTAMP}succeeded\n`);
  const plain = await jetway('watch', '-t', 'ci', '-b', String(id));
  assert.equal(plain.out, 'build 2\nsucceeded\n');
});

// ---------------------------------------------------------------- curl (fly/commands/curl.go)

test('curl PATH -- ARGS runs curl with the target\'s token, the arguments and the URL', async () => {
  const user = await jetway('curl', '-t', 'ci', '/api/v1/user', '--', '-sS');
  assert.equal(user.code, 0, user.err);
  assert.equal((JSON.parse(user.out) as { user_name: string }).user_name, 'admin');
  const set = await jetway('curl', '-t', 'ci', '/api/v1/wall', '--', '-sS', '-X', 'PUT', '-H', 'Content-Type: application/json', '-d', '{"message":"from curl"}');
  assert.equal(set.code, 0, set.err);
  const wall = await s.api.app.inject({ url: '/api/v1/wall' });
  assert.deepEqual(wall.json(), { message: 'from curl' });
  await s.api.app.inject({ method: 'DELETE', url: '/api/v1/wall', headers: s.api.auth() });
});

test("curl -- ARGS: curl's exit status is jetway's; a full URL on the target's server works", async () => {
  const missing = await jetway('curl', '-t', 'ci', '/api/v1/teams/main/pipelines/nope', '--', '-sS', '--fail');
  assert.equal(missing.code, 22, missing.err);
  const full = await jetway('curl', '-t', 'ci', `${s.url}/api/v1/info?x=1`, '--', '-sS');
  assert.equal(full.code, 0, full.err);
  assert.match(full.out, /"version"/);
  const elsewhere = await jetway('curl', '-t', 'ci', 'http://elsewhere.example/api/v1/info', '--', '-sS');
  assert.equal(elsewhere.code, 2, 'the token never goes to another server');
});

test('curl --print-and-exit -- ARGS shows the curl command with the token redacted', async () => {
  const r = await jetway('curl', '-t', 'ci', '--print-and-exit', '/api/v1/builds?limit=1', '--', '-i', '-H', 'X-Test: a b');
  assert.equal(r.code, 0, r.err);
  assert.equal(r.out, `curl -H 'Authorization: Bearer <redacted>' -i -H 'X-Test: a b' '${s.url}/api/v1/builds?limit=1'\n`);
  const mixed = await jetway('curl', '-t', 'ci', '-X', 'PUT', '/api/v1/wall', '--', '-sS');
  assert.equal(mixed.code, 2);
  assert.match(mixed.err, /give -X, -d and -H to curl \(after --\)/);
});

// fly/ui/table.go: a table's header row only on a terminal or with --print-table-headers
// (fly/commands/fly.go's global flag, also given after the command), so scripts read rows only.
for (const [argv, tty, headers] of [
  [['jobs', '-t', 'ci', '-p', 'demo'], false, false],
  [['--print-table-headers', 'jobs', '-t', 'ci', '-p', 'demo'], false, true],
  [['jobs', '-t', 'ci', '-p', 'demo', '--print-table-headers'], false, true],
  [['jobs', '-t', 'ci', '-p', 'demo'], true, true],
] as const) {
  test(`jetway ${argv.join(' ')} ${tty ? 'on a terminal' : 'into a pipe'} prints ${headers ? 'the header row' : 'rows only'}`, async () => {
    let out = '';
    const code = await runCli([...argv], { stdout: (t) => (out += t), stderr: () => undefined, stdoutIsTTY: tty });
    assert.equal(code, 0);
    const lines = (out.split('\n\n')[0] ?? '').trimEnd().split('\n');
    assert.equal(lines[0]?.startsWith('name'), headers, out);
    assert.equal(lines.length, headers ? 3 : 2, out);
    assert.ok(lines.some((l) => l.startsWith('unit ')), out);
  });
}
