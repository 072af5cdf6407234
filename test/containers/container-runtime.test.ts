// The local container runtime with real runc (issue 19): skipped, saying why, where runc or root is missing.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { access, mkdir, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { ContainerRuntime } from '../../src/runtime/local/containers/container-runtime.ts';
import { mountsUnder } from '../../src/runtime/local/containers/rootfs.ts';
import type { ContainerSpec, ProcessIO } from '../../src/runtime/runtime.ts';
import { busyboxImage, skipContainers } from './support.ts';
import { probeSaysMissing, shellProbe } from '../../src/api/intercept.ts';

const skip = await skipContainers();
if (skip) console.log(`# skipped: the container runtime's tests need runc as root: ${skip}`);

let root: string;
let runtime: ContainerRuntime;
let image: string;
before(async () => {
  if (skip) return;
  root = await mkdtemp(join(tmpdir(), 'jw-containers-'));
  runtime = new ContainerRuntime({ root: join(root, 'worker'), killGraceMs: 500, failedRetentionMs: 0 });
  image = busyboxImage(join(root, 'image'), { env: ['PATH=/bin', 'FROM_IMAGE=image-env'] });
});
after(async () => {
  if (skip) return;
  await runtime.close();
  await rm(root, { recursive: true, force: true });
});

const signal = (): AbortSignal => new AbortController().signal;

function collect(stdin?: string): ProcessIO & { out: string; err: string } {
  const io = {
    out: '',
    err: '',
    ...(stdin !== undefined ? { stdin } : {}),
    stdout: (c: Buffer) => {
      io.out += c.toString();
    },
    stderr: (c: Buffer) => {
      io.err += c.toString();
    },
  };
  return io;
}

const spec = (handle: string, extra: Partial<ContainerSpec> = {}): ContainerSpec => ({
  handle,
  metadata: { type: 'task', buildId: 1, step: handle },
  image: { kind: 'artifact', artifact: { kind: 'volume', path: image } },
  inputs: [],
  outputs: [],
  ...extra,
});

async function runIn(s: ContainerSpec, script: string, stdin?: string): Promise<{ exitStatus: number; out: string; err: string }> {
  const c = await runtime.createContainer(s, signal());
  try {
    const io = collect(stdin);
    const { exitStatus } = await c.run({ path: 'sh', args: ['-c', script], ...(s.user ? { user: s.user } : {}) }, io, signal());
    return { exitStatus, out: io.out, err: io.err };
  } finally {
    await c.destroy();
  }
}

async function nothingLeft(): Promise<void> {
  assert.deepEqual(await mountsUnder(join(root, 'worker', 'containers')), [], 'no mount left');
  assert.deepEqual(await readdir(join(root, 'worker', 'containers')), [], 'no container directory left');
  assert.deepEqual(await runtime.runc.list(), [], 'no runc container left');
}

test('a task runs in its image: stdin, stdout apart from stderr, exit status, the image env under the step env', { skip }, async () => {
  const r = await runIn(spec('io', { env: { STEP: 'step-env' }, secretEnv: { SECRET: 's3' } }), 'cat; echo " $FROM_IMAGE $STEP $SECRET"; echo oops >&2; test -x /bin/busybox; exit 3', '{"a":1}');
  assert.equal(r.exitStatus, 3);
  assert.equal(r.out, '{"a":1} image-env step-env s3\n');
  assert.equal(r.err, 'oops\n');
  await nothingLeft();
});

test('the web node is out of sight: own PID namespace, no host files, not its env', { skip }, async () => {
  process.env.JETWAY_TEST_WEB_NODE_SECRET = 'web-node-only-7f3a';
  try {
    const r = await runIn(spec('sight'), `echo pid=$$; ls /proc | grep -c '^[0-9]'; test -e ${root} && echo sees-host; env | grep -c web-node-only; ps -o comm | grep -c -e node -e tsx`);
    assert.match(r.out, /^pid=1$/m);
    assert.doesNotMatch(r.out, /sees-host/);
    // sh and ls, and grep unless ls read /proc before grep was forked (a loaded machine)
    const [procs, ...rest] = r.out.split('\n').slice(1);
    assert.ok(['2', '3'].includes(procs ?? ''), `its own processes only (sh, ls, grep), not ${procs}`);
    assert.deepEqual(rest, ['0', '0', ''], 'not the web node env; no node process');
  } finally {
    delete process.env.JETWAY_TEST_WEB_NODE_SECRET;
  }
});

test('inputs are copied in, outputs become volumes, the work dir is /tmp/build/<id>', { skip }, async () => {
  const src = join(root, 'src-artifact');
  await mkdir(src, { recursive: true });
  await writeFile(join(src, 'file.txt'), 'original');
  const c = await runtime.createContainer(spec('art', { inputs: [{ name: 'in', path: 'in', artifact: { kind: 'volume', path: src } }], outputs: [{ name: 'out', path: 'out' }] }), signal());
  const io = collect();
  const { exitStatus } = await c.run({ path: 'sh', args: ['-c', 'echo changed > in/file.txt; cp in/file.txt out/copy.txt; pwd'] }, io, signal());
  assert.equal(exitStatus, 0, io.err);
  assert.match(io.out, /^\/tmp\/build\/[a-z0-9]+\n$/);
  assert.equal(io.out.trim(), c.workDir);
  assert.equal(await readFile(join(src, 'file.txt'), 'utf8'), 'original');
  const out = await c.artifact('out');
  await c.destroy();
  assert.ok(out.kind === 'volume');
  assert.equal(await readFile(join(out.path, 'copy.txt'), 'utf8'), 'changed\n');
  await nothingLeft();
});

test('run.user: a name of the image, with its groups; writes its work dir', { skip }, async () => {
  const r = await runIn(spec('user', { user: 'nonroot', outputs: [{ name: 'o', path: 'o' }] }), 'id -u; id -g; id -G; echo x > o/f && echo wrote');
  assert.equal(r.exitStatus, 0, r.err);
  assert.deepEqual(r.out.trim().split('\n'), ['1000', '1000', '1000 2000', 'wrote']);
});

test("the image's USER applies when run.user is not set", { skip }, async () => {
  const userImage = busyboxImage(join(root, 'image-user'), { user: 'nonroot' });
  const r = await runIn(spec('image-user', { image: { kind: 'artifact', artifact: { kind: 'volume', path: userImage } } }), 'id -u');
  assert.equal(r.out, '1000\n');
});

test('an unknown run.user fails the step with the reason and leaves nothing behind', { skip }, async () => {
  await assert.rejects(runtime.createContainer(spec('nouser', { user: 'nobody-here' }), signal()), /run\.user 'nobody-here': no user 'nobody-here' in the image's \/etc\/passwd/);
  await nothingLeft();
});

test('a missing run.path fails with runc’s reason and leaves nothing behind', { skip }, async () => {
  const c = await runtime.createContainer(spec('nopath'), signal());
  await assert.rejects(c.run({ path: '/no/such/binary' }, collect(), signal()), /the container did not start: .*no such file or directory/);
  await c.destroy();
  await nothingLeft();
});

test('a memory limit the kernel refuses fails the step with the reason and leaves nothing behind', { skip }, async () => {
  const c = await runtime.createContainer(spec('badlimit', { limits: { memory: 4096 } }), signal());
  await assert.rejects(c.run({ path: 'true' }, collect(), signal()), /the container did not start: .*(memory|resource busy|invalid argument)/i);
  await c.destroy();
  await nothingLeft();
});

test('a memory limit applies (cgroup)', { skip }, async () => {
  const s = spec('limit', { limits: { memory: 32 * 1024 * 1024 } });
  const over = await runIn(s, 'cat /sys/fs/cgroup/memory/memory.limit_in_bytes 2>/dev/null || cat /sys/fs/cgroup/memory.max; x=$(head -c 60000000 /dev/zero | tr "\\0" a); echo survived');
  assert.equal(over.out.split('\n')[0], String(32 * 1024 * 1024), 'the cgroup has the limit');
  assert.doesNotMatch(over.out, /survived/, 'killed for going over');
  assert.equal(over.exitStatus, 137);
  const under = await runIn(s, 'x=$(head -c 4000000 /dev/zero | tr "\\0" a) && echo fine');
  assert.equal(under.out, 'fine\n');
});

test('unprivileged: Docker’s capabilities, no /dev/fuse, seccomp; privileged only when asked', { skip }, async () => {
  const script = 'grep CapEff /proc/self/status; test -e /dev/fuse && echo fuse; grep Seccomp: /proc/self/status';
  const plain = await runIn(spec('unpriv'), script);
  assert.match(plain.out, /CapEff:\s+00000000a80425fb/);
  assert.doesNotMatch(plain.out, /fuse/);
  assert.match(plain.out, /Seccomp:\s+2/);
  const priv = await runIn(spec('priv', { privileged: true }), script);
  assert.doesNotMatch(priv.out, /CapEff:\s+00000000a80425fb/);
  assert.match(priv.out, /Seccomp:\s+0/);
});

test('the host network by default; --local-network=isolated has loopback only', { skip }, async () => {
  const host = await runIn(spec('net-host'), 'cat /proc/net/dev | grep -c :');
  const isolatedRuntime = new ContainerRuntime({ root: join(root, 'worker-isolated'), failedRetentionMs: 0, isolatedNetwork: true });
  const c = await isolatedRuntime.createContainer(spec('net-iso'), signal());
  const io = collect();
  await c.run({ path: 'sh', args: ['-c', 'cat /proc/net/dev | grep -c :'] }, io, signal());
  await c.destroy();
  assert.equal(io.out.trim(), '1', 'lo only');
  assert.ok(Number(host.out.trim()) >= 1);
});

test('task caches are bind mounts kept between containers of the same key', { skip }, async () => {
  const s = (h: string): ContainerSpec => spec(h, { caches: [{ path: 'cache', key: 'p/j/s' }] });
  await runIn(s('cache-1'), 'echo kept > cache/x');
  const r = await runIn(s('cache-2'), 'cat cache/x');
  assert.equal(r.out, 'kept\n');
});

test('a built-in resource type runs its script in the base image: no web node files', { skip }, async () => {
  const c = await runtime.createContainer(spec('base', { image: { kind: 'base-type', type: 'mock' }, metadata: { type: 'check' } }), signal());
  const io = collect(JSON.stringify({ source: { initial_version: 'v1' } }));
  const { exitStatus } = await c.run(c.resourceScript('check'), io, signal());
  await c.destroy();
  assert.equal(exitStatus, 0, io.err);
  assert.deepEqual(JSON.parse(io.out), [{ version: 'v1' }]);
  const r = await runIn(spec('base-sight', { image: { kind: 'none' } }), `ls /; test -e ${root} && echo sees-data; ls /etc`);
  assert.doesNotMatch(r.out, /sees-data|shadow/);
});

test('cancelling kills the process', { skip }, async () => {
  const c = await runtime.createContainer(spec('cancel'), signal());
  const abort = new AbortController();
  const running = c.run({ path: 'sh', args: ['-c', 'sleep 30'] }, collect(), abort.signal);
  setTimeout(() => abort.abort(new Error('stop')), 300);
  await assert.rejects(running, /stop/);
  await c.destroy();
  await nothingLeft();
});

test('intercept: exec into a running container, and into a failed one kept for it', { skip }, async () => {
  const rt = new ContainerRuntime({ root: join(root, 'worker-intercept'), failedRetentionMs: 60_000 });
  const c = await rt.createContainer(spec('icpt', { metadata: { type: 'task', buildId: 7, step: 'icpt' } }), signal());
  const abort = new AbortController();
  // it runs until the test says (a file), not for a fixed time: an exec may take seconds on a loaded machine
  const running = c.run({ path: 'sh', args: ['-c', 'echo hello > marker; while [ ! -e done ]; do sleep 0.1; done; exit 1'] }, collect(), abort.signal);
  const listed = async (): Promise<string[]> => (await rt.interceptableContainers(7)).map((x) => `${x.step}:${x.state}`);
  const io = async (cmd: string[]): Promise<{ status: number; out: string }> => {
    let out = '';
    const stdin = new PassThrough();
    stdin.end();
    const { exitStatus } = await rt.intercept(c.handle, cmd, { stdin, stdout: (b) => (out += b.toString()), stderr: (b) => (out += b.toString()) }, signal());
    return { status: exitStatus, out };
  };
  for (let i = 0; i < 100 && !(await io(['cat', 'marker'])).out.includes('hello'); i++) await new Promise((r) => setTimeout(r, 50));
  assert.deepEqual(await listed(), ['icpt:running']);
  const live = await io(['sh', '-c', 'cat marker; touch done']);
  assert.match(live.out, /hello/);
  assert.equal((await running).exitStatus, 1);
  await c.destroy();
  assert.deepEqual(await listed(), ['icpt:failed'], 'kept after its failure');
  const kept = await io(['cat', 'marker']);
  assert.deepEqual(kept, { status: 0, out: 'hello\n' });
  // the hijack's probe for fly's default shell (src/api/intercept.ts): busybox has sh, not bash
  const probe = shellProbe(['bash']) ?? [];
  const bash = await io(probe);
  assert.equal(probeSaysMissing(bash.out), true, bash.out);
  const sh = await io([...probe.slice(0, -1), 'sh']);
  assert.deepEqual(sh, { status: 0, out: 'found\n' });
  await rt.close();
  assert.deepEqual(await listed(), []);
  await assert.rejects(access(join(root, 'worker-intercept', 'containers', c.handle)));
});
