// Runs the exec commands for real with the host's busybox (standing in for /jetway/bin/busybox and
// the helper image's /bin/busybox), in a temporary directory standing in for the work dir: the
// tar streams round-trip, values with shell metacharacters reach the process verbatim, stdin,
// exit codes, the pid file and signals work.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { chmod, lstat, mkdir, mkdtemp, readFile, readlink, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BUSYBOX, HELPER_BUSYBOX, RUN_DIR, execCommands, processCommand, signalCommand, type ExecCommand } from '../../../src/runtime/kubernetes/pod-spec.ts';
import { workDirFor } from '../../../src/runtime/kubernetes/naming.ts';
import type { ContainerSpec } from '../../../src/runtime/runtime.ts';

const hostBusybox = ['/usr/bin/busybox', '/bin/busybox'].find((p) => existsSync(p) && spawnSync(p, ['tar', '--help']).status !== 127);
const skip = hostBusybox ? false : 'no busybox on this host';
const H = '3f2a9c1e-7b44-4d2a-9a0b-1c2d3e4f5a6b';
const POD_WORK = workDirFor(H);
/** stands for the host's busybox as a process path in the tests (rewritten by localize) */
const HOST = '@host-busybox';

let root: string;
let work: string;
let run: string;
before(async () => {
  root = await mkdtemp(join(tmpdir(), 'jw-k8s-exec-'));
  work = join(root, 'work');
  run = join(root, 'run');
  await mkdir(work);
  await mkdir(run);
});
after(async () => {
  await rm(root, { recursive: true, force: true });
});

/** The command as it would run in the pod, with host paths for busybox, the work dir and the run dir. */
function localize(cmd: ExecCommand): string[] {
  return cmd.command.map((arg) =>
    arg
      .split(BUSYBOX).join('\0BB\0')
      .split(HELPER_BUSYBOX).join('\0BB\0')
      .split('\0BB\0').join(hostBusybox ?? '')
      .split(POD_WORK).join(work)
      .split(RUN_DIR).join(run)
      .split(HOST).join(hostBusybox ?? ''),
  );
}

function exec(cmd: ExecCommand, stdin?: Buffer | string): Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: Buffer; stderr: string; pid: number | undefined }> {
  const [file, ...args] = localize(cmd);
  return new Promise((resolve, reject) => {
    const child = spawn(file ?? '', args, { stdio: ['pipe', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    let err = '';
    child.stdout.on('data', (c: Buffer) => out.push(c));
    child.stderr.on('data', (c: Buffer) => (err += c.toString()));
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ code, signal, stdout: Buffer.concat(out), stderr: err, pid: child.pid }));
    child.stdin.on('error', () => {});
    child.stdin.end(stdin ?? '');
  });
}

const spec: ContainerSpec = {
  handle: H,
  metadata: { type: 'task' },
  image: { kind: 'reference', reference: 'alpine' },
  inputs: [{ name: 'src', path: 'in put/src', artifact: { kind: 'volume', path: '/unused' } }],
  outputs: [{ name: 'out', path: 'out' }],
  caches: [{ path: '.cache', key: 'k' }],
};

test('prepare, stream in and stream out round-trip a directory (names with spaces, modes, symlinks)', { skip }, async () => {
  const plan = execCommands(spec);
  assert.ok(plan.prepare);
  const prepared = await exec(plan.prepare);
  assert.equal(prepared.code, 0, prepared.stderr);
  assert.equal((await stat(join(work, 'out'))).mode & 0o777, 0o777);
  assert.ok((await stat(join(work, '.cache'))).isDirectory());

  // an artifact as the web node's store would send it: a tar of a directory's content
  const src = join(root, 'artifact');
  await mkdir(join(src, 'sub dir'), { recursive: true });
  await writeFile(join(src, 'sub dir', "it's $(here).txt"), 'content\n');
  await writeFile(join(src, 'run.sh'), '#!/bin/sh\necho hi\n');
  await chmod(join(src, 'run.sh'), 0o755);
  await symlink('run.sh', join(src, 'link'));
  const packed = spawnSync(hostBusybox ?? '', ['tar', '-c', '-f', '-', '-C', src, '.']);
  assert.equal(packed.status, 0);

  const input = plan.inputs[0];
  assert.ok(input);
  const streamed = await exec(input.command, packed.stdout);
  assert.equal(streamed.code, 0, streamed.stderr);
  const dest = join(work, 'in put', 'src');
  assert.equal(await readFile(join(dest, 'sub dir', "it's $(here).txt"), 'utf8'), 'content\n');
  assert.equal((await stat(join(dest, 'run.sh'))).mode & 0o777, 0o755);
  assert.equal(await readlink(join(dest, 'link')), 'run.sh');

  // the step writes an output; it streams out as a tar of the directory's content
  await writeFile(join(work, 'out', 'result.txt'), 'done\n');
  const output = plan.outputs[0];
  assert.ok(output);
  const out = await exec(output.command);
  assert.equal(out.code, 0, out.stderr);
  const back = join(root, 'back');
  await mkdir(back);
  const unpacked = spawnSync(hostBusybox ?? '', ['tar', '-x', '-f', '-', '-C', back], { input: out.stdout });
  assert.equal(unpacked.status, 0);
  assert.equal(await readFile(join(back, 'result.txt'), 'utf8'), 'done\n');
  assert.ok((await lstat(back)).isDirectory());

  // a corrupt stream fails the exec
  const bad = await exec(input.command, 'not a tar');
  assert.notEqual(bad.code, 0);
});

test('a process gets its args verbatim, its env, its dir, stdin and its exit code', { skip }, async () => {
  await mkdir(join(work, 'repo'), { recursive: true });
  const hostile = ['$(touch pwned)', '`id`', '"; exit 3; "', "it's", 'a\nb', '*', '', '--', '-e'];
  const res = await exec(
    processCommand({ path: HOST, args: ['sh', '-c', 'printf "[%s]" "$@"; printf "{%s}{%s}{%s}" "$A" "$B" "$PWD"; cat', 'sh', ...hostile], dir: 'repo', env: { A: 'x y', B: '$(nope)' } }, POD_WORK, 'e1'),
    'from stdin',
  );
  assert.equal(res.code, 0, res.stderr);
  assert.equal(res.stdout.toString(), hostile.map((a) => `[${a}]`).join('') + `{x y}{$(nope)}{${join(work, 'repo')}}from stdin`);
  assert.equal(existsSync(join(work, 'repo', 'pwned')), false);

  const failing = await exec(processCommand({ path: HOST, args: ['sh', '-c', 'echo oops >&2; exit 7'] }, POD_WORK, 'e2'));
  assert.equal(failing.code, 7);
  assert.equal(failing.stderr, 'oops\n');
  assert.equal(failing.stdout.length, 0);

  const missing = await exec(processCommand({ path: '/no/such/thing' }, POD_WORK, 'e3'));
  assert.equal(missing.code, 127);
  const noDir = await exec(processCommand({ path: HOST, args: ['true'], dir: 'nope' }, POD_WORK, 'e4'));
  assert.equal(noDir.code, 126);
});

test('the pid file names the process, and signalCommand ends it', { skip }, async () => {
  const running = exec(processCommand({ path: HOST, args: ['sleep', '30'] }, POD_WORK, 'sleeper'));
  const pidPath = join(run, 'sleeper.pid');
  for (let i = 0; i < 100 && !existsSync(pidPath); i++) await new Promise((r) => setTimeout(r, 20));
  await new Promise((r) => setTimeout(r, 50));
  const pid = Number((await readFile(pidPath, 'utf8')).trim());
  assert.ok(pid > 0);
  const sent = await exec(signalCommand('sleeper', 'TERM'));
  assert.equal(sent.code, 0, sent.stderr);
  const ended = await running;
  assert.equal(ended.pid, pid, 'exec replaced the shell: the pid is the process');
  assert.equal(ended.signal, 'SIGTERM');
  // signalling a process that is gone is not an error
  assert.equal((await exec(signalCommand('sleeper', 'KILL'))).code, 0);
  assert.equal((await exec(signalCommand('never-started', 'TERM'))).code, 0);
});
