import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { chmod, mkdtemp, mkdir, readFile, rm, writeFile, access, stat, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LocalRuntime } from '../../../src/runtime/local/local-runtime.ts';
import type { ContainerSpec, ProcessIO } from '../../../src/runtime/runtime.ts';

let root: string;
let runtime: LocalRuntime;
before(async () => {
  root = await mkdtemp(join(tmpdir(), 'jw-local-'));
  runtime = new LocalRuntime({ root, killGraceMs: 200 });
});
after(async () => {
  await rm(root, { recursive: true, force: true });
});

function collect(stdin?: string): ProcessIO & { out: string; err: string } {
  const io = {
    out: '',
    err: '',
    ...(stdin !== undefined ? { stdin } : {}),
    stdout: (c: Buffer) => { io.out += c.toString(); },
    stderr: (c: Buffer) => { io.err += c.toString(); },
  };
  return io;
}

const spec = (handle: string, extra: Partial<ContainerSpec> = {}): ContainerSpec => ({
  handle,
  metadata: { type: 'task' },
  image: { kind: 'none' },
  inputs: [],
  outputs: [],
  ...extra,
});

test('a process gets stdin and keeps stdout apart from stderr, with its exit status', async () => {
  const c = await runtime.createContainer(spec('io'), new AbortController().signal);
  const io = collect('{"hello":1}');
  const { exitStatus } = await c.run({ path: 'sh', args: ['-c', 'cat; echo oops >&2; exit 3'] }, io, new AbortController().signal);
  assert.equal(exitStatus, 3);
  assert.equal(io.out, '{"hello":1}');
  assert.equal(io.err, 'oops\n');
  await c.destroy();
});

test('inputs are copied in, outputs become volumes that outlive the container', async () => {
  const src = join(root, 'src-artifact');
  await mkdir(src, { recursive: true });
  await writeFile(join(src, 'file.txt'), 'original');
  const c = await runtime.createContainer(
    spec('art', { inputs: [{ name: 'in', path: 'in', artifact: { kind: 'volume', path: src } }], outputs: [{ name: 'out', path: 'out' }] }),
    new AbortController().signal,
  );
  const io = collect();
  const { exitStatus } = await c.run({ path: 'sh', args: ['-c', 'echo changed > in/file.txt; cp in/file.txt out/copy.txt; pwd'] }, io, new AbortController().signal);
  assert.equal(exitStatus, 0);
  assert.equal(await readFile(join(src, 'file.txt'), 'utf8'), 'original', 'the source artifact is untouched');
  const out = await c.artifact('out');
  await c.destroy();
  assert.ok(out.kind === 'volume');
  assert.equal(await readFile(join(out.path, 'copy.txt'), 'utf8'), 'changed\n');
  await assert.rejects(access(c.workDir), 'the working directory is gone after destroy');
});

test('the env and working dir are the spec’s', async () => {
  const c = await runtime.createContainer(spec('env', { env: { GREETING: 'hi' }, outputs: [{ name: 'sub', path: 'sub' }] }), new AbortController().signal);
  const io = collect();
  await c.run({ path: 'sh', args: ['-c', 'echo "$GREETING $EXTRA $(basename "$PWD")"'], dir: 'sub', env: { EXTRA: 'there' } }, io, new AbortController().signal);
  assert.equal(io.out, 'hi there sub\n');
  await c.destroy();
});

test('cancelling kills the process and everything it started', async () => {
  const c = await runtime.createContainer(spec('kill'), new AbortController().signal);
  const abort = new AbortController();
  const marker = join(root, 'child-survived');
  const running = c.run({ path: 'sh', args: ['-c', `(sleep 1; touch ${marker}) & sleep 30`] }, collect(), abort.signal);
  setTimeout(() => abort.abort(new Error('stop')), 100);
  await assert.rejects(running, /stop/);
  await new Promise((r) => setTimeout(r, 1300));
  await assert.rejects(access(marker), 'the background child was killed with its group');
  await c.destroy();
});

test('a missing executable is a clear error', async () => {
  const c = await runtime.createContainer(spec('missing'), new AbortController().signal);
  await assert.rejects(c.run({ path: 'no-such-binary-here' }, collect(), new AbortController().signal), /executable not found: no-such-binary-here/);
  await c.destroy();
});

test('task caches persist between containers of the same key', async () => {
  const cacheSpec = (h: string) => spec(h, { caches: [{ path: 'cache', key: 'pipeline/job/step' }] });
  const a = await runtime.createContainer(cacheSpec('c1'), new AbortController().signal);
  await a.run({ path: 'sh', args: ['-c', 'echo kept > cache/x'] }, collect(), new AbortController().signal);
  await a.destroy();
  const b = await runtime.createContainer(cacheSpec('c2'), new AbortController().signal);
  const io = collect();
  await b.run({ path: 'cat', args: ['cache/x'] }, io, new AbortController().signal);
  assert.equal(io.out, 'kept\n');
  await b.destroy();
});

test('paths may not leave the working directory', async () => {
  await assert.rejects(runtime.createContainer(spec('esc', { outputs: [{ name: 'x', path: '../../etc' }] }), new AbortController().signal), /leaves the step's working directory/);
});

test('clearTaskCache removes a key\'s caches (or one path\'s) and counts those that existed', async () => {
  const key = 'pipeline/job/cleared';
  const cacheSpec = (h: string, k = key) => spec(h, { caches: [{ path: 'a', key: k }, { path: 'deep/b', key: k }] });
  const run = async (h: string, script: string, k = key): Promise<string> => {
    const c = await runtime.createContainer(cacheSpec(h, k), new AbortController().signal);
    const io = collect();
    await c.run({ path: 'sh', args: ['-c', script] }, io, new AbortController().signal);
    await c.destroy();
    return io.out;
  };
  const fill = 'echo 1 > a/x; echo 1 > deep/b/x';
  const look = 'for f in a/x deep/b/x; do [ -f "$f" ] && echo "$f"; done; true';
  await run('clear-1', fill);
  await run('clear-other', fill, 'pipeline/job/other');

  assert.equal(await runtime.clearTaskCache(key, 'a'), 1);
  assert.equal(await runtime.clearTaskCache(key, 'a'), 0, 'gone already');
  assert.equal(await runtime.clearTaskCache(key, 'nope'), 0);
  assert.equal(await run('clear-2', look), 'deep/b/x\n', 'the next container starts without it, the other path kept');
  assert.equal(await runtime.clearTaskCache(key), 2, 'both paths (a was made again, empty)');
  assert.equal(await runtime.clearTaskCache(key), 0);
  assert.equal(await run('clear-3', look), '', 'the next container starts cold');
  assert.equal(await run('clear-4', look, 'pipeline/job/other'), 'a/x\ndeep/b/x\n', 'another key is untouched');
  assert.equal(await runtime.clearTaskCache('never/used/key'), 0);
});

// --- issue 16, finding 4: builds as an unprivileged user of their own, with nothing of the web node's

const asRoot = process.getuid?.() === 0;

test('processes get an env built from nothing: not the web node\'s variables, a private HOME', async () => {
  process.env.JETWAY_TEST_WEB_NODE_SECRET = 'web-node-only-7f3a';
  try {
    const c = await runtime.createContainer(spec('clean-env'), new AbortController().signal);
    const io = collect();
    await c.run({ path: 'sh', args: ['-c', 'env; stat -c "%a" "$HOME"'] }, io, new AbortController().signal);
    await c.destroy();
    assert.doesNotMatch(io.out, /web-node-only-7f3a/);
    assert.match(io.out, /^PATH=\/usr\/local\/sbin:\/usr\/local\/bin:\/usr\/sbin:\/usr\/bin:\/sbin:\/bin/m);
    assert.match(io.out, new RegExp(`^HOME=${c.workDir}\\.home$`, 'm'));
    assert.match(io.out, /^700$/m);
  } finally {
    delete process.env.JETWAY_TEST_WEB_NODE_SECRET;
  }
});

test('with a build user: processes run as it, in a 0700 work dir and HOME it owns, inputs and caches its own; the folders above are traverse-only', { skip: !asRoot && 'needs root' }, async () => {
  const { ensureBuildUser } = await import('../../../src/runtime/local/build-user.ts');
  const user = await ensureBuildUser();
  assert.deepEqual(await ensureBuildUser(), user, 'idempotent');
  const userRoot = await mkdtemp(join(tmpdir(), 'jw-local-user-'));
  await chmod(userRoot, 0o711); // as the web node's isolateDataDir leaves its data directory
  const rt = new LocalRuntime({ root: join(userRoot, 'worker'), user });
  const src = join(userRoot, 'src-artifact');
  await mkdir(src, { recursive: true });
  await writeFile(join(src, 'file.txt'), 'input');
  // a hostile input: a link to a root-only file must not be chowned through
  const rootOnly = join(userRoot, 'root-only');
  await writeFile(rootOnly, 'root only', { mode: 0o600 });
  await symlink(rootOnly, join(src, 'link'));
  // and a setuid file: its copy must not stay a root setuid binary
  await writeFile(join(src, 'suid'), '#!/bin/sh\n', { mode: 0o755 });
  await chmod(join(src, 'suid'), 0o4755);
  try {
    const c = await rt.createContainer(
      spec('as-user', { inputs: [{ name: 'in', path: 'in', artifact: { kind: 'volume', path: src } }], outputs: [{ name: 'out', path: 'out' }], caches: [{ path: 'cache', key: 'k' }], metadata: { type: 'task', buildId: 4242 } }),
      new AbortController().signal,
    );
    const io = collect();
    const { exitStatus } = await c.run(
      { path: 'sh', args: ['-c', 'id -u; id -g; echo more >> in/file.txt && echo ok-input; echo x > cache/f && echo ok-cache; echo y > out/f; cat in/link 2>&1; ls .. 2>&1; echo "USER=$USER"'] },
      io,
      new AbortController().signal,
    );
    assert.equal(exitStatus, 0, io.err);
    const lines = io.out.split('\n');
    assert.deepEqual(lines.slice(0, 4), [String(user.uid), String(user.gid), 'ok-input', 'ok-cache']);
    assert.match(io.out, /in\/link: Permission denied/);
    assert.match(io.out, /ls: cannot open directory '\.\.': Permission denied/);
    assert.match(io.out, new RegExp(`USER=${user.name}`));
    const work = await stat(c.workDir);
    assert.deepEqual([work.uid, work.mode & 0o777], [user.uid, 0o700]);
    assert.equal((await stat(rootOnly)).uid, 0, 'the link target keeps its owner');
    const suid = await stat(join(c.workDir, 'in', 'suid'));
    assert.deepEqual([suid.uid, suid.mode & 0o7777], [user.uid, 0o755], 'no setuid bit, the build user\'s');
    const out = await c.artifact('out');
    assert.ok(out.kind === 'volume');
    assert.equal(await readFile(join(out.path, 'f'), 'utf8'), 'y\n');
    for (const dir of ['worker', 'worker/containers', 'worker/volumes', 'worker/task-caches']) {
      const st = await stat(join(userRoot, dir));
      assert.deepEqual([st.uid, st.mode & 0o777], [0, 0o711], dir);
    }
    // a build's volumes are its (team's) user's alone
    const volumes = await stat(join(userRoot, 'worker/volumes/build-4242'));
    assert.deepEqual([volumes.uid, volumes.mode & 0o777], [user.uid, 0o700]);
    await c.destroy();
    await assert.rejects(access(`${c.workDir}.home`), 'the HOME goes with the container');
  } finally {
    await rm(userRoot, { recursive: true, force: true });
  }
});

test('the build user can run the built-in resource types from this checkout (checked at start-up)', { skip: !asRoot && 'needs root' }, async () => {
  const { checkBuildUserCanRunResources, ensureBuildUser } = await import('../../../src/runtime/local/build-user.ts');
  await checkBuildUserCanRunResources(await ensureBuildUser());
});
