// Run by test/containers/rootless.test.ts as a user that is not root: the container runtime in its
// rootless mode, the scenarios below, and what each saw, as one JSON object on stdout. The parent
// (root) asserts on it and on the files left on the host.
import { mkdir, readFile, readdir, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { ContainerRuntime } from '../../src/runtime/local/containers/container-runtime.ts';
import { mountsUnder } from '../../src/runtime/local/containers/rootfs.ts';
import { probeContainers, DEFAULT_RUNC } from '../../src/runtime/local/containers/runc.ts';
import type { ContainerSpec } from '../../src/runtime/runtime.ts';

const [root, image] = process.argv.slice(2) as [string, string];
const mode = await probeContainers(DEFAULT_RUNC);
if (mode.mode !== 'rootless') {
  process.stdout.write(JSON.stringify({ mode }));
  process.exit(0);
}
const runtime = new ContainerRuntime({ root: join(root, 'worker'), killGraceMs: 500, failedRetentionMs: 60_000, rootless: { subuid: mode.subuid, subgid: mode.subgid, teams: mode.teams } });
const signal = new AbortController().signal;
const spec = (handle: string, extra: Partial<ContainerSpec> = {}, teamId = 1): ContainerSpec => ({
  handle,
  metadata: { type: 'task', buildId: 1, step: handle, teamId },
  image: { kind: 'artifact', artifact: { kind: 'volume', path: image } },
  inputs: [],
  outputs: [],
  ...extra,
});

interface Ran {
  exitStatus: number;
  out: string;
  err: string;
  /** the host owner (uid:gid) of each output's files, by output file */
  owners: Record<string, string>;
}
async function run(s: ContainerSpec, script: string, files: string[] = []): Promise<Ran | { error: string }> {
  try {
    const c = await runtime.createContainer(s, signal);
    try {
      let out = '';
      let err = '';
      const { exitStatus } = await c.run({ path: 'sh', args: ['-c', script], ...(s.user ? { user: s.user } : {}) }, { stdout: (b) => (out += b.toString()), stderr: (b) => (err += b.toString()) }, signal);
      const owners: Record<string, string> = {};
      for (const f of files) {
        const [output, name] = f.split('/') as [string, string];
        const artifact = await c.artifact(output);
        if (artifact.kind !== 'volume') throw new Error(`output ${output} is not a volume`);
        const st = await stat(join(artifact.path, name));
        owners[f] = `${st.uid}:${st.gid}`;
      }
      return { exitStatus, out, err, owners };
    } finally {
      await c.destroy();
    }
  } catch (e) {
    return { error: e instanceof Error ? e.message : String(e) };
  }
}

async function intercept(): Promise<{ live: string; kept: string; listed: string[] } | { error: string }> {
  try {
    const c = await runtime.createContainer(spec('icpt', { metadata: { type: 'task', buildId: 7, step: 'icpt', teamId: 1 } }), signal);
    const running = c.run({ path: 'sh', args: ['-c', 'echo hello > marker; while [ ! -e done ]; do sleep 0.1; done; exit 1'] }, { stdout: () => undefined, stderr: () => undefined }, signal);
    const io = async (cmd: string[]): Promise<string> => {
      let out = '';
      const stdin = new PassThrough();
      stdin.end();
      await runtime.intercept(c.handle, cmd, { stdin, stdout: (b) => (out += b.toString()), stderr: (b) => (out += b.toString()) }, signal);
      return out;
    };
    for (let i = 0; i < 200 && !(await io(['cat', 'marker'])).includes('hello'); i++) await new Promise((r) => setTimeout(r, 50));
    const live = await io(['sh', '-c', 'cat marker; touch done']);
    await running;
    await c.destroy();
    const listed = (await runtime.interceptableContainers(7)).map((x) => `${x.step}:${x.state}`);
    const kept = await io(['cat', 'marker']);
    return { live, kept, listed };
  } catch (e) {
    return { error: e instanceof Error ? e.message : String(e) };
  }
}

const input = join(root, 'input');
await mkdir(input, { recursive: true });
await writeFile(join(input, 'file.txt'), 'original');
const out = { outputs: [{ name: 'o', path: 'o' }] };
const results = {
  mode: { mode: mode.mode, teams: mode.teams, subuid: mode.subuid },
  uid: process.getuid?.(),
  root: await run(
    spec('root', { ...out, inputs: [{ name: 'in', path: 'in', artifact: { kind: 'volume', path: input } }] }),
    'id -u; echo "$FROM_IMAGE"; ls /proc | grep -c "^[0-9]"; cat /proc/1/cmdline | tr "\\0" " "; echo; cat in/file.txt; echo changed > in/file.txt; echo x > o/root-file; ls /work /etc/subuid 2>&1 | head -2',
    ['o/root-file'],
  ),
  nonroot: await run(spec('nonroot', { ...out, user: 'nonroot' }), 'id -u; id -G; echo x > o/nonroot-file && echo wrote', ['o/nonroot-file']),
  nonrootTeam2: await run(spec('nonroot2', { ...out, user: 'nonroot' }, 2), 'echo x > o/nonroot-file', ['o/nonroot-file']),
  privileged: await run(spec('privileged', { privileged: true }), 'true'),
  limits: await run(spec('limits', { limits: { memory: 1 << 30 } }), 'true'),
  teamPastRange: await run(spec('past', {}, mode.teams + 1), 'true'),
  intercept: await intercept(),
  inputAfter: await readFile(join(input, 'file.txt'), 'utf8'),
  left: {} as Record<string, unknown>,
};
await runtime.close();
results.left = {
  containers: await readdir(join(root, 'worker', 'containers')).catch(() => []),
  mounts: await mountsUnder(join(root, 'worker', 'containers')),
  runc: await readdir(join(root, 'worker', 'runc')).catch(() => []),
};
process.stdout.write(JSON.stringify(results));
