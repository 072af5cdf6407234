// Teams apart on the processes runtime (issue 16, finding 4): a root web node runs each team's
// steps as host ids of the team's own (src/runtime/local/team-ids.ts), so team B's task cannot
// read a running build of team A, signal its process, read its kept resource caches, or read the
// web node's /proc/<pid>/environ (this test process stands for the web node: root).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { chmod, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LocalRuntime } from '../../../src/runtime/local/local-runtime.ts';
import { teamBuildUser } from '../../../src/runtime/local/team-ids.ts';
import type { Container, ContainerSpec, ProcessIO } from '../../../src/runtime/runtime.ts';

const skip = process.getuid?.() !== 0 && 'team users need a root web node';
let dir: string;
let runtime: LocalRuntime;
before(async () => {
  if (skip) return;
  dir = await mkdtemp(join(tmpdir(), 'jw-teams-'));
  await chmod(dir, 0o711);
  runtime = new LocalRuntime({ root: join(dir, 'worker'), killGraceMs: 200, teamUsers: true });
});
after(async () => {
  if (!skip) await rm(dir, { recursive: true, force: true });
});

const spec = (handle: string, teamId: number, extra: Partial<ContainerSpec> = {}): ContainerSpec => ({
  handle,
  metadata: { type: 'task', team: `team-${teamId}`, teamId, buildId: teamId * 100 },
  image: { kind: 'none' },
  inputs: [],
  outputs: [],
  ...extra,
});

function collect(): ProcessIO & { out: string; err: string } {
  const io = { out: '', err: '', stdout: (c: Buffer) => void (io.out += c.toString()), stderr: (c: Buffer) => void (io.err += c.toString()) };
  return io;
}

async function run(c: Container, script: string): Promise<string> {
  const io = collect();
  await c.run({ path: 'sh', args: ['-c', script] }, io, new AbortController().signal);
  return io.out;
}

/** Team A's running build: a file in its work dir, a process with a secret in its env. */
async function runningBuildOfTeamA(): Promise<{ container: Container; pid: number; stop: () => Promise<void> }> {
  const container = await runtime.createContainer(spec('a-running', 1, { env: { A_SECRET: 'team-a-secret-51c2' } }), new AbortController().signal);
  const abort = new AbortController();
  const io = collect();
  const running = container.run({ path: 'sh', args: ['-c', 'echo team-a-file > mine.txt; chmod 644 mine.txt; echo $$; exec sleep 60'] }, io, abort.signal).catch(() => undefined);
  for (let i = 0; i < 600 && !io.out.includes('\n'); i++) await new Promise((r) => setTimeout(r, 50));
  const pid = Number.parseInt(io.out, 10);
  assert.ok(pid > 0, `team A's process did not start: ${io.err}`);
  return {
    container,
    pid,
    stop: async () => {
      abort.abort(new Error('done'));
      await running;
      await container.destroy();
    },
  };
}

test("team B's task cannot read team A's running build, signal its process or read its environ, nor the web node's; team A's next step can", { skip }, async () => {
  const a = await runningBuildOfTeamA();
  try {
    const b = await runtime.createContainer(spec('b-snoop', 2), new AbortController().signal);
    const script = [
      'echo "uid=$(id -u)"',
      `cat ${a.container.workDir}/mine.txt 2>/dev/null || echo "file: refused"`,
      `ls ${a.container.workDir} >/dev/null 2>&1 && echo "work dir: LISTED" || echo "work dir: refused"`,
      `kill -0 ${a.pid} 2>/dev/null && echo "signal: SENT" || echo "signal: refused"`,
      `cat /proc/${a.pid}/environ >/dev/null 2>&1 && echo "team A environ: READ" || echo "team A environ: refused"`,
      `cat /proc/${process.pid}/environ >/dev/null 2>&1 && echo "web environ: READ" || echo "web environ: refused"`,
    ].join('; ');
    const out = await run(b, script);
    await b.destroy();
    assert.equal(
      out,
      [`uid=${teamBuildUser(2).uid}`, 'file: refused', 'work dir: refused', 'signal: refused', 'team A environ: refused', 'web environ: refused', ''].join('\n'),
    );
    // the same reads from a step of team A itself succeed: the refusals above are the teams' ids, not a broken test
    const a2 = await runtime.createContainer(spec('a-next', 1), new AbortController().signal);
    const own = await run(a2, `cat ${a.container.workDir}/mine.txt; kill -0 ${a.pid} && echo "signal: sent"; tr '\\0' '\\n' < /proc/${a.pid}/environ | grep A_SECRET`);
    await a2.destroy();
    assert.equal(own, 'team-a-file\nsignal: sent\nA_SECRET=team-a-secret-51c2\n');
  } finally {
    await a.stop();
  }
});

test("a team's kept resource caches are its own: another team's get does not find them and its task cannot read them", { skip }, async () => {
  const volume = join(dir, 'fetched');
  await mkdir(volume, { recursive: true });
  await writeFile(join(volume, 'private.txt'), 'team-a-private-repo');
  await chmod(join(volume, 'private.txt'), 0o644);
  const kept = await runtime.keepResourceCache(7, { kind: 'volume', path: volume }, { version: { ref: 'a' }, metadata: [] }, 1);
  assert.ok(kept.kind === 'volume');
  assert.ok(await runtime.cachedResource(7, 1), "team A's get finds its cache");
  assert.equal(await runtime.cachedResource(7, 2), undefined, "team B's get of the same cache id runs in itself");
  const b = await runtime.createContainer(spec('b-cache', 2), new AbortController().signal);
  const out = await run(b, `cat ${kept.path}/private.txt 2>/dev/null || echo refused`);
  await b.destroy();
  assert.equal(out, 'refused\n');
  const a = await runtime.createContainer(spec('a-cache', 1), new AbortController().signal);
  const own = await run(a, `cat ${kept.path}/private.txt`);
  await a.destroy();
  assert.equal(own, 'team-a-private-repo');
});
