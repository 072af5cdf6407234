// `jetway intercept` and the API behind it (containers list, WebSocket, refusals) against a
// runtime stand-in; the real thing on the kube-sim cluster: test/cluster/kubernetes-intercept.test.ts.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { text } from 'node:stream/consumers';
import WebSocket from 'ws';
import { jetway, startCliServer, PASSWORD, PIPELINE, type CliServer, type Run, revokeAllTokens } from './client-support.ts';
import { runCli } from '../../src/cli/program.ts';
import { createManualBuild } from '../../src/db/builds.ts';
import { findJob } from '../../src/db/jobs.ts';
import { LocalRuntime } from '../../src/runtime/local/local-runtime.ts';
import type { InterceptableContainer, InterceptIO, Runtime } from '../../src/runtime/runtime.ts';
import { CHANNEL, closeStdinFrame, decodeFrame, encodeFrame, parseStatus } from '../../src/api/intercept-protocol.ts';
import { interceptUrl } from '../../src/cli/commands/intercept.ts';

/** A runtime whose containers are a table; commands: `echo ARGS`, `cat` (stdin), `exit N`, `err TEXT`. */
class FakeRuntime implements Pick<Runtime, 'name' | 'interceptableContainers' | 'intercept'> {
  readonly name = 'kubernetes';
  containers = new Map<number, InterceptableContainer[]>();
  calls: { handle: string; command: string[] }[] = [];
  async interceptableContainers(buildId: number): Promise<InterceptableContainer[]> {
    return this.containers.get(buildId) ?? [];
  }
  async intercept(handle: string, command: string[], io: InterceptIO): Promise<{ exitStatus: number }> {
    this.calls.push({ handle, command });
    const [cmd, ...args] = command;
    if (cmd === 'echo') io.stdout(Buffer.from(`${args.join(' ')}\n`));
    if (cmd === 'err') io.stderr(Buffer.from(`${args.join(' ')}\n`));
    if (cmd === 'cat') io.stdout(Buffer.from(await text(io.stdin)));
    if (cmd === 'gone') throw new Error('the pod p was deleted during the session');
    return { exitStatus: cmd === 'exit' ? Number(args[0]) : 0 };
  }
}

const container = (step: string, extra: Partial<InterceptableContainer> = {}): InterceptableContainer => ({
  handle: `h-${step}`,
  step,
  type: 'task',
  state: 'failed',
  name: `pod-${step}`,
  workDir: '/tmp/build/abc',
  createdAt: '2026-01-01T00:00:00.000Z',
  ...extra,
});

let s: CliServer;
let local: CliServer;
const fake = new FakeRuntime();
let oneStep: number;
let twoSteps: number;
let none: number;

async function newBuild(db: CliServer['api']['t']['db']): Promise<number> {
  const pid = (await db.query<{ id: number }>(`SELECT id FROM pipelines WHERE name = 'demo'`)).rows[0]!.id;
  const job = await findJob(db, pid, 'unit');
  return (await createManualBuild(db, job!.id)).id;
}

before(async () => {
  local = await startCliServer({ runtime: new LocalRuntime({ root: '/nonexistent-never-used' }) });
  s = await startCliServer({ runtime: fake });
  assert.equal((await jetway('login', '-t', 'ci', '-c', s.url, '-u', 'admin', '-p', PASSWORD)).code, 0);
  assert.equal((await jetway('login', '-t', 'local', '-c', local.url, '-u', 'admin', '-p', PASSWORD)).code, 0);
  const file = join(s.dir, 'pipeline.yml');
  writeFileSync(file, PIPELINE);
  for (const t of ['ci', 'local']) assert.equal((await jetway('set-pipeline', '-t', t, '-p', 'demo', '-c', file, '-n')).code, 0);
  oneStep = await newBuild(s.api.t.db);
  twoSteps = await newBuild(s.api.t.db);
  none = await newBuild(s.api.t.db);
  fake.containers.set(oneStep, [container('test')]);
  fake.containers.set(twoSteps, [container('test'), container('repo', { type: 'get', state: 'running' })]);
});
after(async () => {
  await s?.close();
  await local?.close();
});

/** jetway with stdin text, bytes captured. */
async function jetwayIn(stdin: string | undefined, ...argv: string[]): Promise<Run> {
  const r = { code: 0, out: '', err: '' };
  r.code = await runCli(argv, {
    stdout: (t) => (r.out += t),
    stderr: (t) => (r.err += t),
    ...(stdin !== undefined ? { stdin: Readable.from([Buffer.from(stdin)]) } : {}),
  });
  return r;
}

test('the command runs in the only container; stdout, stderr and the exit status come back; stdin is passed', async () => {
  const r = await jetway('intercept', '-t', 'ci', '-b', String(oneStep), '--', 'echo', 'hello', 'there');
  assert.equal(r.code, 0, r.err);
  assert.equal(r.out, 'hello there\n');
  assert.deepEqual(fake.calls.at(-1), { handle: 'h-test', command: ['echo', 'hello', 'there'] });
  const e = await jetway('intercept', '-t', 'ci', '-b', String(oneStep), '-s', 'test', '--', 'err', 'oops');
  assert.equal(e.code, 0);
  assert.equal(e.out, '');
  assert.equal(e.err, 'oops\n');
  assert.equal((await jetway('intercept', '-t', 'ci', '-b', String(oneStep), '--', 'exit', '7')).code, 7);
  const c = await jetwayIn('line one\nline two\n', 'intercept', '-t', 'ci', '-b', String(oneStep), '--', 'cat');
  assert.equal(c.code, 0, c.err);
  assert.equal(c.out, 'line one\nline two\n');
  // no command: the runtime's default (an empty argv)
  await jetway('intercept', '-t', 'ci', '-b', String(oneStep));
  assert.deepEqual(fake.calls.at(-1)?.command, []);
  // the session's failure is an error
  const g = await jetway('intercept', '-t', 'ci', '-b', String(oneStep), '--', 'gone');
  assert.equal(g.code, 1);
  assert.equal(g.err, 'error: the pod p was deleted during the session\n');
});

test('-j takes the job\'s latest build', async () => {
  const job = (await (await fetch(`${s.url}/api/v1/teams/main/pipelines/demo/jobs/unit`, { headers: s.api.auth() })).json()) as { next_build?: { id: number }; finished_build?: { id: number } };
  const latest = (job.next_build ?? job.finished_build)!.id;
  const saved = fake.containers.get(latest);
  fake.containers.set(latest, [container('only')]);
  try {
    const r = await jetway('intercept', '-t', 'ci', '-j', 'demo/unit', '--', 'echo', 'latest');
    assert.equal(r.code, 0, r.err);
    assert.equal(r.out, 'latest\n');
    assert.equal(fake.calls.at(-1)?.handle, 'h-only');
  } finally {
    if (saved) fake.containers.set(latest, saved);
    else fake.containers.delete(latest);
  }
});

test('several containers and no -s: listed, exit 1 asking for -s; -s picks one', async () => {
  const r = await jetway('intercept', '-t', 'ci', '-b', String(twoSteps));
  assert.equal(r.code, 1);
  assert.match(r.out, /^step\s+type\s+state\s+container\n/);
  assert.match(r.out, /test\s+task\s+failed\s+pod-test/);
  assert.match(r.out, /repo\s+get\s+running\s+pod-repo/);
  assert.match(r.err, /has several containers: choose one with -s STEP/);
  const picked = await jetway('intercept', '-t', 'ci', '-b', String(twoSteps), '-s', 'repo', '--', 'echo', 'x');
  assert.equal(picked.code, 0, picked.err);
  assert.equal(fake.calls.at(-1)?.handle, 'h-repo');
});

// fly's hijack --handle (fly/commands/hijack.go): a container listed by `containers`, by its handle
test('--handle picks one container by its handle, its build found from it; an unknown handle is refused naming it', async () => {
  const r = await jetway('intercept', '-t', 'ci', '--handle', 'h-repo', '--', 'echo', 'by handle');
  assert.equal(r.code, 0, r.err);
  assert.equal(r.out, 'by handle\n');
  assert.deepEqual(fake.calls.at(-1), { handle: 'h-repo', command: ['echo', 'by handle'] });
  const calls = fake.calls.length;
  const unknown = await jetway('intercept', '-t', 'ci', '--handle', 'h-nope', '--', 'echo', 'x');
  assert.equal(unknown.code, 1);
  assert.match(unknown.err, /h-nope/);
  assert.equal(fake.calls.length, calls, 'no session ran');
  const none = await jetway('intercept', '-t', 'ci');
  assert.equal(none.code, 2);
  assert.match(none.err, /give -b <build id>, -j <pipeline\/job> or --handle <handle>/);
});

test('no such step, no containers, the local runtime: clear messages', async () => {
  const r = await jetway('intercept', '-t', 'ci', '-b', String(oneStep), '-s', 'unit');
  assert.equal(r.code, 1);
  assert.equal(
    r.err,
    `error: build ${oneStep} has no container for step 'unit' (running or kept after a failure): steps that succeeded are deleted at once, ` +
      'failed ones kept for --kubernetes-failed-pod-retention; it has test (task, failed) (HTTP 404)\n',
  );
  const empty = await jetway('intercept', '-t', 'ci', '-b', String(none));
  assert.equal(empty.code, 1);
  // the server's runtime names its retention setting (this fake is a Kubernetes runtime)
  assert.equal(
    empty.err,
    `error: build ${none} has no containers (running or kept after a failure): steps that succeeded are deleted at once, failed ones kept for --kubernetes-failed-pod-retention (HTTP 404)\n`,
  );
  const emptyStep = await jetway('intercept', '-t', 'ci', '-b', String(none), '-s', 'test');
  assert.equal(emptyStep.code, 1);
  assert.match(emptyStep.err, /has no containers .* \(HTTP 404\)\n$/);
  const missing = await jetway('intercept', '-t', 'ci', '-b', '99999', '-s', 'x');
  assert.equal(missing.err, 'error: build 99999 not found (HTTP 404)\n');
  const localBuild = await newBuild(local.api.t.db);
  for (const args of [[], ['-s', 'test']]) {
    const l = await jetway('intercept', '-t', 'local', '-b', String(localBuild), ...args);
    assert.equal(l.code, 1);
    assert.match(l.err, /^error: build \d+ has no containers to intercept: the local runtime keeps none .*--runtime kubernetes \(HTTP 501\)\n$/);
  }
  assert.equal((await jetway('intercept', '-t', 'ci')).code, 2);
});

test('the containers route lists them; wrong or missing tokens are refused before any session', async () => {
  const res = await fetch(`${s.url}/api/v1/builds/${twoSteps}/containers`, { headers: s.api.auth() });
  assert.equal(res.status, 200);
  const list = (await res.json()) as { step: string; state: string; work_dir: string }[];
  assert.deepEqual(list.map((c) => [c.step, c.state, c.work_dir]), [['test', 'failed', '/tmp/build/abc'], ['repo', 'running', '/tmp/build/abc']]);
  assert.equal((await fetch(`${s.url}/api/v1/builds/${twoSteps}/containers`)).status, 401);
  const calls = fake.calls.length;
  for (const headers of [{}, { authorization: 'Bearer not-a-token' }, { authorization: 'Basic abc' }]) {
    const status = await new Promise<{ code: number; body: string }>((resolve) => {
      const ws = new WebSocket(interceptUrl(s.url, oneStep, { step: 'test', command: ['echo', 'x'] }), { headers });
      ws.on('unexpected-response', (_req, r) => {
        let body = '';
        r.on('data', (c: Buffer) => (body += String(c)));
        r.on('end', () => resolve({ code: r.statusCode ?? 0, body }));
      });
      ws.on('open', () => resolve({ code: 101, body: '' }));
    });
    assert.equal(status.code, 401, JSON.stringify(headers));
    assert.match(status.body, /"error":"not authorized/);
  }
  assert.equal(fake.calls.length, calls);
  // the CLI with a token that is no longer valid
  await revokeAllTokens(s);
  try {
    const r = await jetway('intercept', '-t', 'ci', '-b', String(oneStep), '-s', 'test', '--', 'echo', 'x');
    assert.equal(r.code, 1);
    assert.match(r.err, /^error: not authorized: invalid token; log in again \(jetway login\)\n\(log in again: jetway login -t ci\) \(HTTP 401\)\n$/);
  } finally {
    assert.equal((await jetway('login', '-t', 'ci', '-c', s.url, '-u', 'admin', '-p', PASSWORD)).code, 0);
  }
});

test('the wire protocol by hand: stdin frames, close, stdout frame, status last', async () => {
  const token = (await s.api.app.inject({ method: 'POST', url: '/api/v1/token', payload: { username: 'admin', password: PASSWORD } })).json<{ access_token: string }>().access_token;
  const frames: { channel: number; payload: string }[] = [];
  await new Promise<void>((resolve, reject) => {
    const ws = new WebSocket(interceptUrl(s.url, oneStep, { step: 'test', command: ['cat'] }), { headers: { authorization: `Bearer ${token}` } });
    ws.on('open', () => {
      ws.send(encodeFrame(CHANNEL.stdin, 'a'));
      ws.send(encodeFrame(CHANNEL.stdin, 'b'));
      ws.send(closeStdinFrame());
    });
    ws.on('message', (d: Buffer) => {
      const f = decodeFrame(d)!;
      frames.push({ channel: f.channel, payload: f.payload.toString() });
    });
    ws.on('close', (code) => (code === 1000 ? resolve() : reject(new Error(`closed ${code}`))));
    ws.on('error', reject);
  });
  assert.deepEqual(frames, [
    { channel: CHANNEL.stdout, payload: 'ab' },
    { channel: CHANNEL.status, payload: '{"exit_status":0}' },
  ]);
  assert.deepEqual(parseStatus(Buffer.from(frames[1]!.payload)), { exit_status: 0 });
});
