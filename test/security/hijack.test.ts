// Concourse's hijack WebSocket, what a stock `fly intercept` opens
// (GET /api/v1/teams/:team/containers/:id/hijack; atc/api/containerserver/hijack.go, the
// messages of atc/hijack_payload.go): the process spec, stdin as base64 and its end, stdout and
// the exit status back, through the runtime's intercept. Only the container's team's members;
// another team's member gets 403, a handle of another team 404, and nothing runs.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import { execFileSync } from 'node:child_process';
import WebSocket from 'ws';
import { createOneOffBuild } from '../../src/db/builds.ts';
import type { InterceptableContainer, InterceptIO, Runtime } from '../../src/runtime/runtime.ts';
import { hijackCommand, probeSaysMissing, shellProbe } from '../../src/api/intercept.ts';
import { startTenants, type Tenants } from './tenants.ts';

class FakeRuntime implements Pick<Runtime, 'name' | 'interceptableContainers' | 'intercept'> {
  readonly name = 'kubernetes';
  containers = new Map<number, InterceptableContainer[]>();
  calls: { handle: string; command: string[] }[] = [];
  async interceptableContainers(buildId: number): Promise<InterceptableContainer[]> {
    return this.containers.get(buildId) ?? [];
  }
  async intercept(handle: string, command: string[], io: InterceptIO): Promise<{ exitStatus: number }> {
    this.calls.push({ handle, command });
    // the probe for fly's default shell (shellProbe): h-alpine has no bash
    if (command[0] === 'sh' && command.at(-1) === 'bash' && command.length === 5) {
      io.stdout(Buffer.from(handle === 'h-alpine' ? 'missing\n' : 'found\n'));
      return { exitStatus: 0 };
    }
    let input = '';
    for await (const chunk of io.stdin as AsyncIterable<Buffer>) input += chunk.toString();
    io.stdout(Buffer.from(`ran ${command.join(' ')} with ${input}`));
    io.stderr(Buffer.from('a warning\n'));
    return { exitStatus: 3 };
  }
}

const runtime = new FakeRuntime();
let t: Tenants;
let base = '';
const tokens = new Map<string, string>();

before(async () => {
  t = await startTenants({ runtime });
  const teamA = (await t.api.t.db.query<{ id: number }>(`SELECT id FROM teams WHERE name = 'a'`)).rows[0]!.id;
  const build = (await createOneOffBuild(t.api.t.db, teamA, { id: '1', do: [] })).id;
  runtime.containers.set(build, [
    { handle: 'h-unit', step: 'unit', type: 'task', state: 'running', name: 'pod-unit', workDir: '/tmp/build/x' },
    { handle: 'h-alpine', step: 'lint', type: 'task', state: 'running', name: 'pod-lint', workDir: '/tmp/build/y' },
  ]);
  for (const user of ['alice', 'bob']) {
    const res = await t.api.app.inject({ method: 'POST', url: '/api/v1/token', payload: { username: user, password: `${user}-pw` } });
    tokens.set(user, res.json<{ access_token: string }>().access_token);
  }
  await t.api.app.listen({ port: 0, host: '127.0.0.1' });
  base = `ws://127.0.0.1:${(t.api.app.server.address() as AddressInfo).port}`;
});
after(async () => t?.close());

/** A hijack as fly's hijacker makes it: the spec, then stdin and its end; the outputs it got, or the HTTP refusal. */
function hijack(user: string, path: string, spec: unknown, stdin = ''): Promise<{ status: number; body?: { error: string }; messages?: Record<string, unknown>[] }> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`${base}${path}`, { headers: { authorization: `Bearer ${tokens.get(user)}` } });
    const messages: Record<string, unknown>[] = [];
    ws.on('open', () => {
      ws.send(JSON.stringify(spec));
      if (stdin) ws.send(JSON.stringify({ stdin: Buffer.from(stdin).toString('base64') }));
      ws.send(JSON.stringify({ closed: true }));
    });
    ws.on('unexpected-response', (_req, res) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(body) as { error: string } }));
    });
    ws.on('message', (data: Buffer) => messages.push(JSON.parse(data.toString()) as Record<string, unknown>));
    ws.on('close', () => resolve({ status: 101, messages }));
    ws.on('error', (err) => (err.message.startsWith('Unexpected server response') ? undefined : reject(err)));
  });
}

test("a member of the container's team hijacks it: the spec's argv runs, stdin reaches it, stdout and stderr come back as base64, then the exit status", async () => {
  const r = await hijack('alice', '/api/v1/teams/a/containers/h-unit/hijack', { path: 'sh', args: ['-c', 'cat'], env: [], dir: '', user: '', privileged: false, tty: null }, 'typed input');
  assert.equal(r.status, 101, JSON.stringify(r.body));
  const decode = (key: string): string => (r.messages ?? []).flatMap((m) => (typeof m[key] === 'string' ? [Buffer.from(m[key] as string, 'base64').toString()] : [])).join('');
  assert.equal(decode('stdout'), 'ran sh -c cat with typed input');
  assert.equal(decode('stderr'), 'a warning\n');
  assert.deepEqual(r.messages?.at(-1), { exit_status: 3 });
  assert.deepEqual(runtime.calls.at(-1), { handle: 'h-unit', command: ['sh', '-c', 'cat'] });
});

test("another team's member gets 403, a handle its team does not have 404, and nothing runs", async () => {
  const calls = runtime.calls.length;
  const other = await hijack('bob', '/api/v1/teams/a/containers/h-unit/hijack', { path: 'id' });
  assert.equal(other.status, 403);
  const ownTeam = await hijack('bob', '/api/v1/teams/b/containers/h-unit/hijack', { path: 'id' });
  assert.equal(ownTeam.status, 404);
  assert.match(ownTeam.body?.error ?? '', /container h-unit in team b not found/);
  const unknown = await hijack('alice', '/api/v1/teams/a/containers/nope/hijack', { path: 'id' });
  assert.equal(unknown.status, 404);
  const badName = await hijack('alice', '/api/v1/teams/a/containers/..%2Fx/hijack', { path: 'id' });
  assert.equal(badName.status, 400);
  assert.equal(runtime.calls.length, calls);
});

test('a malformed process spec ends the session with an error naming it, and nothing runs', async () => {
  const calls = runtime.calls.length;
  const r = await hijack('alice', '/api/v1/teams/a/containers/h-unit/hijack', { args: ['x'] });
  assert.equal(r.status, 101);
  assert.deepEqual(r.messages, [{ error: 'the process spec has no path' }]);
  assert.equal(runtime.calls.length, calls);
});

for (const [spec, message] of [
  [{ path: 'ls', args: ['-l', 1] }, "the process spec's args are not a list of strings"],
  [{ path: 'ls', args: ['a\u0000b'] }, "the process spec's command contains a NUL byte"],
  [{ path: 'ls', args: Array.from({ length: 1001 }, () => 'x') }, 'the process spec has more than 1000 arguments'],
] as const) {
  test(`hijackCommand refuses: ${message}`, () => assert.throws(() => hijackCommand(spec as Record<string, unknown>), { message }));
}
test('hijackCommand: the path, then the args', () => assert.deepEqual(hijackCommand({ path: 'sh', args: ['-c', 'x'] }), ['sh', '-c', 'x']));

test('a plain GET of the hijack route (no upgrade) is a 400 saying it is a WebSocket', async () => {
  const res = await t.api.app.inject({ url: '/api/v1/teams/a/containers/h-unit/hijack', headers: { authorization: `Bearer ${tokens.get('alice')}` } });
  assert.equal(res.statusCode, 400);
  assert.match(res.body, /this is a WebSocket: open it with an upgrade/);
  const anonymous = await t.api.app.inject({ url: '/api/v1/teams/a/containers/h-unit/hijack' });
  assert.equal(anonymous.statusCode, 401);
});

// fly/commands/hijack.go: without a command fly sends bash and, told executable_not_found
// (atc/api/containerserver/hijack.go; fly/commands/internal/hijacker/hijacker.go reads it), asks
// again with sh
test('fly\'s default bash in a container without it: executable_not_found and an error fly recognises, bash never runs; sh then runs', async () => {
  const before = runtime.calls.length;
  const r = await hijack('alice', '/api/v1/teams/a/containers/h-alpine/hijack', { path: 'bash', args: null, env: ['TERM=xterm'], dir: '/tmp/build/y', privileged: true, tty: null });
  assert.equal(r.status, 101, JSON.stringify(r.body));
  assert.deepEqual(r.messages, [{ executable_not_found: true }, { error: 'exec: "bash": executable file not found in $PATH' }]);
  assert.deepEqual(runtime.calls.slice(before).map((c) => c.command.at(-1)), ['bash'], 'only the probe ran');
  const retry = await hijack('alice', '/api/v1/teams/a/containers/h-alpine/hijack', { path: 'sh', args: null });
  assert.deepEqual(retry.messages?.at(-1), { exit_status: 3 });
  assert.deepEqual(runtime.calls.at(-1), { handle: 'h-alpine', command: ['sh'] });
});

test('bash where the container has it: the probe finds it and bash runs, its stdin, output and exit status as any command\'s', async () => {
  const r = await hijack('alice', '/api/v1/teams/a/containers/h-unit/hijack', { path: 'bash' }, 'ls\n');
  const out = (r.messages ?? []).flatMap((m) => (typeof m.stdout === 'string' ? [Buffer.from(m.stdout, 'base64').toString()] : [])).join('');
  assert.equal(out, 'ran bash with ls\n');
  assert.deepEqual(r.messages?.at(-1), { exit_status: 3 });
  assert.equal(r.messages?.some((m) => 'executable_not_found' in m), false);
});

for (const [command, probed] of [
  [['bash'], true],
  [['bash', '-c', 'x'], false],
  [['sh'], false],
  [['/bin/bash'], false],
  [['ls'], false],
] as const) {
  test(`shellProbe(${JSON.stringify(command)}) ${probed ? 'probes for bash' : 'probes nothing'}`, () => {
    const probe = shellProbe(command);
    assert.equal(probe !== undefined, probed);
    if (probe) assert.deepEqual([probe[0], probe.at(-1)], ['sh', 'bash']);
  });
}

for (const [stdout, missing] of [
  ['missing\n', true],
  ['found\n', false],
  ['', false],
  ['sh: not found\n', false],
  ['missing and more\n', false],
] as const) {
  test(`a probe answering ${JSON.stringify(stdout)} means ${missing ? 'bash is missing' : 'nothing is missing'}`, () => assert.equal(probeSaysMissing(stdout), missing));
}

test("the probe's script, run by a real sh: missing for a program not on the PATH, found for one that is", () => {
  const probe = shellProbe(['bash']) ?? [];
  const run = (program: string): string => execFileSync(probe[0] ?? '', [...probe.slice(1, -1), program], { encoding: 'utf8' });
  assert.equal(run('jetway-no-such-program'), 'missing\n');
  assert.equal(run('sh'), 'found\n');
});

// fly sends `tty` when its stdout is a terminal and makes its terminal raw (fly/commands/hijack.go):
// with no remote TTY, the session echoes, turns Enter into lines and \n into \r\n (src/api/hijack-tty.ts)
test('a spec with a tty: keystrokes are echoed, Enter makes a line, Ctrl-D ends stdin, output lines end in CRLF', async () => {
  const tty = { window_size: { columns: 80, rows: 24 } };
  const r = await hijack('alice', '/api/v1/teams/a/containers/h-unit/hijack', { path: 'sh', args: null, tty }, 'cat x\rls\x7fs\r\x04');
  const decode = (key: string): string => (r.messages ?? []).flatMap((m) => (typeof m[key] === 'string' ? [Buffer.from(m[key] as string, 'base64').toString()] : [])).join('');
  assert.equal(decode('stdout'), 'cat x\r\nls\b \bs\r\nran sh with cat x\r\nls\r\n');
  assert.equal(decode('stderr'), 'a warning\r\n');
  assert.deepEqual(r.messages?.at(-1), { exit_status: 3 });
});
