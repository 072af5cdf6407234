// Teams apart on the local containers runtime (issue 16, finding 4): each team's unprivileged
// containers run in a user namespace of the team's host ids (src/runtime/local/team-ids.ts), so a
// task of team B cannot read a running build of team A, signal its process or read its environ,
// nor the web node's /proc/<pid>/environ, even by host pid; on the host, each team's processes
// are its own ids, never root.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { copyFileSync, existsSync, mkdirSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ContainerRuntime } from '../../src/runtime/local/containers/container-runtime.ts';
import { teamIdRange } from '../../src/runtime/local/team-ids.ts';
import type { Container, ContainerSpec, ProcessIO } from '../../src/runtime/runtime.ts';
import { busyboxImage, skipContainers } from './support.ts';

const skip = await skipContainers();
if (skip) console.log(`# skipped: the container runtime's tests need runc as root: ${skip}`);

let root: string;
let runtime: ContainerRuntime;
let image: string;
before(async () => {
  if (skip) return;
  root = await mkdtemp(join(tmpdir(), 'jw-containers-teams-'));
  runtime = new ContainerRuntime({ root: join(root, 'worker'), killGraceMs: 500, failedRetentionMs: 0 });
  image = busyboxImage(join(root, 'image'));
});
after(async () => {
  if (skip) return;
  await runtime.close();
  await rm(root, { recursive: true, force: true });
});

const spec = (handle: string, teamId: number, extra: Partial<ContainerSpec> = {}): ContainerSpec => ({
  handle,
  metadata: { type: 'task', buildId: teamId * 10, step: handle, teamId },
  image: { kind: 'artifact', artifact: { kind: 'volume', path: image } },
  inputs: [],
  outputs: [],
  ...extra,
});

function collect(): ProcessIO & { out: string; err: string } {
  const io = { out: '', err: '', stdout: (c: Buffer) => void (io.out += c.toString()), stderr: (c: Buffer) => void (io.err += c.toString()) };
  return io;
}

/** The host pid of a container process's `sleep` (its uid on the host is read from /proc). */
async function hostPidOf(marker: string): Promise<number> {
  for (let i = 0; i < 400; i++) {
    const { execFileSync } = await import('node:child_process');
    let out = '';
    try {
      out = execFileSync('pgrep', ['-f', marker], { encoding: 'utf8' }).trim();
    } catch {
      // pgrep exits 1 while there is none yet
    }
    if (out) return Number(out.split('\n')[0]);
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`no process ${marker}`);
}

test("team B's container cannot read team A's running build, signal or read its process, nor the web node's environ; each team runs as its own host ids", { skip }, async () => {
  const a = await runtime.createContainer(spec('team-a', 1, { env: { A_SECRET: 'team-a-secret-7d1e' } }), new AbortController().signal);
  const abort = new AbortController();
  const aio = collect();
  const running = a.run({ path: 'sh', args: ['-c', 'echo team-a-file > mine.txt; exec sleep 61.5'] }, aio, abort.signal).catch(() => undefined);
  let b: Container | undefined;
  try {
    const aPid = await hostPidOf('sleep 61.5');
    const aUid = Number(/^Uid:\s+(\d+)/m.exec(await readFile(`/proc/${aPid}/status`, 'utf8'))?.[1]);
    assert.equal(aUid, teamIdRange(1).hostId, "team A's root is its range's first host id, not root");
    b = await runtime.createContainer(spec('team-b', 2), new AbortController().signal);
    const bio = collect();
    const script = [
      'id -u',
      `cat ${a.workDir}/mine.txt 2>/dev/null || echo "file: refused"`,
      `kill -0 ${aPid} 2>/dev/null && echo "signal: SENT" || echo "signal: refused"`,
      `cat /proc/${aPid}/environ >/dev/null 2>&1 && echo "team A environ: READ" || echo "team A environ: refused"`,
      `cat /proc/${process.pid}/environ >/dev/null 2>&1 && echo "web environ: READ" || echo "web environ: refused"`,
      'cat /proc/self/uid_map',
    ].join('; ');
    const { exitStatus } = await b.run({ path: 'sh', args: ['-c', script] }, bio, new AbortController().signal);
    assert.equal(exitStatus, 0, bio.err);
    const lines = bio.out.split('\n').map((l) => l.trim().replace(/\s+/g, ' '));
    assert.deepEqual(lines, ['0', 'file: refused', 'signal: refused', 'team A environ: refused', 'web environ: refused', `0 ${teamIdRange(2).hostId} 65536`, '']);
  } finally {
    abort.abort(new Error('done'));
    await running;
    await a.destroy();
    await b?.destroy();
  }
});

test('a privileged step has no user namespace: root on the host, as documented', { skip }, async () => {
  const c = await runtime.createContainer(spec('priv', 1, { privileged: true }), new AbortController().signal);
  const io = collect();
  await c.run({ path: 'sh', args: ['-c', 'cat /proc/self/uid_map'] }, io, new AbortController().signal);
  await c.destroy();
  assert.equal(io.out.trim().replace(/\s+/g, ' '), '0 0 4294967295');
});

// A `ping`-like binary of the image (file capabilities instead of setuid): the team's shifted copy
// keeps them, so a non-root user of the image gets cap_net_raw from the file (the chown of the
// shift clears security.capability; rootfs.ts's shiftOwnership puts it back).
const CAP_NET_RAW_BIT = 1n << 13n;
const skipCaps = skip || (existsSync('/usr/sbin/setcap') || existsSync('/sbin/setcap') ? false : 'no setcap (libcap2-bin)');

test("a file's capabilities survive the team's shifted copy: a non-root user gets cap_net_raw from it, and not from a file without", { skip: skipCaps }, async () => {
  const capImage = busyboxImage(join(root, 'image-caps'));
  // named busybox (it picks its applet by its own name), in a folder of its own
  mkdirSync(join(capImage, 'rootfs/caps'));
  copyFileSync('/bin/busybox', join(capImage, 'rootfs/caps/busybox'));
  execFileSync('setcap', ['cap_net_raw+ep', join(capImage, 'rootfs/caps/busybox')]);
  const c = await runtime.createContainer(spec('caps', 3, { image: { kind: 'artifact', artifact: { kind: 'volume', path: capImage } }, user: 'nonroot' }), new AbortController().signal);
  try {
    const io = collect();
    const { exitStatus } = await c.run({ path: 'sh', args: ['-c', 'id -u; /caps/busybox grep CapEff /proc/self/status; grep CapEff /proc/self/status'], user: 'nonroot' }, io, new AbortController().signal);
    assert.equal(exitStatus, 0, io.err);
    const [uid, withCaps, without] = io.out.trim().split('\n');
    assert.equal(uid, '1000');
    const eff = (line: string | undefined) => BigInt(`0x${/CapEff:\s+([0-9a-f]+)/.exec(line ?? '')?.[1] ?? 'x'}`);
    assert.equal(eff(withCaps) & CAP_NET_RAW_BIT, CAP_NET_RAW_BIT, `cap_net_raw from the file: ${withCaps}`);
    assert.equal(eff(without), 0n, `nothing without file capabilities: ${without}`);
  } finally {
    await c.destroy();
  }
});
