// A step's re-attachable process (issue 17; pod-spec.ts detachedStartCommand, followCommand,
// startedCommand, resultCommand), run here with the host's busybox in place of the pod's: the
// start returns at once and the process goes on without it; a follower gives its stdout and stderr
// and ends with its exit code; a second follower (a web node re-attaching) gives the same output
// again from the start. A resource script's request reaches its stdin through a 0600 file that is
// gone once it runs, it is started once however often the start is tried, and its result is read
// from its file, bounded.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ALREADY_STARTED, BUSYBOX, detachedStartCommand, followCommand, processCommand, resultCommand, RUN_DIR, startedCommand } from '../../../src/runtime/kubernetes/pod-spec.ts';

const root = mkdtempSync(join(tmpdir(), 'jw-detached-'));
let dir = root;
after(() => rmSync(root, { recursive: true, force: true }));
/** each test its own /jetway/run */
const fresh = (name: string): string => (dir = mkdtempSync(join(root, `${name}-`)));

/** The pod's paths mapped onto this host: busybox, /jetway/run. */
const onHost = (argv: string[], busybox = '/bin/busybox'): string[] => argv.map((a) => a.replaceAll(BUSYBOX, busybox).replaceAll(RUN_DIR, dir));

function run(argv: string[], stdin = '', busybox?: string): Promise<{ code: number; stdout: string; stderr: string }> {
  const [cmd, ...args] = onHost(argv, busybox);
  return new Promise((resolve) => {
    const child = spawn(cmd!, args);
    // a command that reads no stdin may end before it is written
    child.stdin.on('error', () => undefined);
    child.stdin.end(stdin);
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    child.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
  });
}

test('the detached process outlives its start; followers give its output from the start and its exit code', async () => {
  fresh('task');
  const proc = processCommand({ path: '/bin/busybox', args: ['sh', '-c', 'echo one; echo err >&2; sleep 1; printf "two\\nthree"; exit 3'] }, dir, 'task');
  const started = Date.now();
  const start = await run(detachedStartCommand(proc).command);
  assert.equal(start.code, 0, start.stderr);
  assert.ok(Date.now() - started < 1000 + 5000, 'the start does not wait for the process');
  const first = await run(followCommand().command);
  assert.deepEqual(first, { code: 3, stdout: 'one\ntwo\nthree', stderr: 'err\n' });
  const again = await run(followCommand().command);
  assert.deepEqual(again, first, 'a re-attaching follower reads the same output again');
});

test("a resource script's request reaches its stdin from a 0600 file, removed before it runs; the follower leaves its stdout (the result) to resultCommand", async () => {
  fresh('script');
  // the script reports its stdin, and what /jetway/run holds while it runs, on stderr; its result on stdout
  const script = 'req=$(cat); echo "got $req" >&2; ls "$0" >&2; echo "{\\"version\\":{\\"ref\\":\\"v1\\"}}"';
  const proc = processCommand({ path: '/bin/busybox', args: ['sh', '-c', script, dir] }, dir, 'task');
  const start = await run(detachedStartCommand(proc).command, '{"source":{"token":"s3cret"}}');
  assert.equal(start.code, 0, start.stderr);
  const followed = await run(followCommand('task', { stdout: false }).command);
  assert.equal(followed.code, 0, followed.stderr);
  assert.equal(followed.stdout, '', 'the result is not streamed');
  assert.match(followed.stderr, /^got \{"source":\{"token":"s3cret"\}\}$/m);
  assert.doesNotMatch(followed.stderr, /task\.in/, 'the request file was gone while the script ran');
  assert.ok(!readdirSync(dir).includes('task.in'));
  const result = await run(resultCommand('task', 1024).command);
  assert.deepEqual(result, { code: 0, stdout: '{"version":{"ref":"v1"}}\n', stderr: '' });
});

test('the request file is made with mode 0600', async () => {
  fresh('mode');
  // a busybox whose rm does nothing, so the request file stays to be looked at
  const keeping = join(dir, 'bb');
  writeFileSync(keeping, '#!/bin/busybox sh\n[ "$1" = rm ] && exit 0\nexec /bin/busybox "$@"\n', { mode: 0o755 });
  const proc = processCommand({ path: '/bin/busybox', args: ['true'] }, dir, 'task');
  assert.equal((await run(detachedStartCommand(proc).command, '{"source":{}}', keeping)).code, 0);
  assert.equal((await run(followCommand().command)).code, 0);
  assert.equal((statSync(join(dir, 'task.in')).mode & 0o777).toString(8), '600');
  assert.equal(readFileSync(join(dir, 'task.in'), 'utf8'), '{"source":{}}');
});

test('a process is started once: a second start exits ALREADY_STARTED and runs nothing; startedCommand tells started from not', async () => {
  fresh('once');
  assert.equal((await run(startedCommand().command)).code, 1, 'not started yet');
  const proc = processCommand({ path: '/bin/busybox', args: ['sh', '-c', 'echo ran >>"$0/runs"', dir] }, dir, 'task');
  assert.equal((await run(detachedStartCommand(proc).command)).code, 0);
  assert.equal((await run(startedCommand().command)).code, 0, 'started');
  assert.equal((await run(detachedStartCommand(proc).command)).code, ALREADY_STARTED);
  assert.equal((await run(followCommand().command)).code, 0);
  assert.equal((await run(['/bin/busybox', 'cat', join(dir, 'runs')])).stdout, 'ran\n', 'the process ran once');
});

test('resultCommand reads at most the bound and one byte more', async () => {
  fresh('bound');
  const proc = processCommand({ path: '/bin/busybox', args: ['sh', '-c', 'printf 0123456789'] }, dir, 'task');
  assert.equal((await run(detachedStartCommand(proc).command)).code, 0);
  assert.equal((await run(followCommand('task', { stdout: false }).command)).code, 0);
  assert.equal((await run(resultCommand('task', 4).command)).stdout, '01234');
});
