// Rootless containers (issue 19; docs/local-containers.md, "Rootless"): the container runtime run
// by a user that is not root, as a web node started by such a user runs it. The runtime runs in a
// child process (test/containers/rootless-child.ts) as the user `jetway-rootless`, whom
// scripts/install-test-deps.sh makes with a subordinate id range; this file (root) checks what its
// containers saw and what they left on the host.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, chmod } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { busyboxImage, skipContainers } from './support.ts';
import { subordinateIds } from '../../src/runtime/local/rootless.ts';
import { freePort } from '../../src/db/embedded.ts';

const USER = 'jetway-rootless';
const run = promisify(execFile);

async function whySkip(): Promise<string | false> {
  const containers = await skipContainers();
  if (containers) return containers;
  let uid: number;
  try {
    uid = Number(execFileSync('id', ['-u', USER], { encoding: 'utf8' }).trim());
  } catch {
    return `no user ${USER} (scripts/install-test-deps.sh makes it)`;
  }
  if (!subordinateIds(await readFile('/etc/subuid', 'utf8').catch(() => ''), USER, uid)) return `no /etc/subuid range for ${USER}`;
  return false;
}
const skip = await whySkip();
if (skip) console.log(`# skipped: rootless containers: ${skip}`);

interface Ran {
  exitStatus: number;
  out: string;
  err: string;
  owners: Record<string, string>;
}
interface Seen {
  mode: { mode: string; teams: number; subuid: { start: number; count: number } };
  uid: number;
  root: Ran;
  nonroot: Ran;
  nonrootTeam2: Ran;
  privileged: { error: string };
  limits: { error: string };
  teamPastRange: { error: string };
  intercept: { live: string; kept: string; listed: string[] };
  inputAfter: string;
  left: { containers: string[]; mounts: string[]; runc: string[] };
}
let dir: string;
let seen: Seen;
before(async () => {
  if (skip) return;
  dir = await mkdtemp(join(tmpdir(), 'jw-rootless-'));
  await chmod(dir, 0o755);
  busyboxImage(join(dir, 'image'), { env: ['PATH=/bin', 'FROM_IMAGE=image-env'] });
  // a web node that is not root unpacks its images as its own user: the image's files are its
  execFileSync('chown', ['-R', `${USER}:`, dir]);
  const { stdout } = await run('runuser', ['-u', USER, '--', 'env', `HOME=${dir}`, process.execPath, '--import', 'tsx', join(import.meta.dirname, 'rootless-child.ts'), dir, join(dir, 'image')], {
    cwd: join(import.meta.dirname, '..', '..'),
    maxBuffer: 4 << 20,
    timeout: 300_000,
  });
  seen = JSON.parse(stdout) as Seen;
});
after(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

test('a web node that is not root runs rootless containers, a slice of its subordinate ids per team', { skip }, () => {
  assert.equal(seen.mode.mode, 'rootless', JSON.stringify(seen.mode));
  assert.ok(seen.mode.teams >= 2, 'the test range holds two teams at least');
});

test("a step runs in its image as the container's root, in a PID namespace of its own, without the host's files", { skip }, () => {
  assert.equal(seen.root.exitStatus, 0, seen.root.err);
  const lines = seen.root.out.split('\n');
  assert.equal(lines[0], '0', 'root in the container');
  assert.equal(lines[1], 'image-env', "the image's env");
  // sh, ls and grep; ls may read /proc before sh has started grep: 2 or 3, never the host's
  assert.ok(lines[2] === '2' || lines[2] === '3', `only its own processes (sh, ls, grep): ${lines[2]}`);
  assert.match(lines[3] ?? '', /^sh -c /, 'its own process is pid 1');
  assert.match(seen.root.out, /ls: \/work: No such file or directory/);
  assert.match(seen.root.out, /ls: \/etc\/subuid: No such file or directory/);
});

test("the container's root writes as the web node's user; an input is a copy", { skip }, () => {
  assert.equal(seen.root.owners['o/root-file'], `${seen.uid}:${execFileSync('id', ['-g', USER], { encoding: 'utf8' }).trim()}`);
  assert.equal(seen.inputAfter, 'original');
});

test("run.user: the image's user with its groups, as a subordinate id of the team's slice; another team's same uid is another host id", { skip }, () => {
  assert.equal(seen.nonroot.exitStatus, 0, seen.nonroot.err);
  assert.deepEqual(seen.nonroot.out.trim().split('\n'), ['1000', '1000 2000', 'wrote']);
  const start = seen.mode.subuid.start;
  // team t's uid u is subordinate id start + 65536·t + u - 1 (src/runtime/local/rootless.ts)
  const team1 = start + 65536 * 1 + 1000 - 1;
  const team2 = start + 65536 * 2 + 1000 - 1;
  assert.equal(seen.nonroot.owners['o/nonroot-file'], `${team1}:${team1}`);
  assert.equal(seen.nonrootTeam2.owners['o/nonroot-file'], `${team2}:${team2}`);
});

test('privileged steps, container limits and a team without ids of its own fail with the reason', { skip }, () => {
  assert.match(seen.privileged.error, /^privileged steps cannot run in rootless containers \(the web node is not root\)/);
  assert.match(seen.limits.error, /^container_limits cannot be applied in rootless containers/);
  assert.match(seen.teamPastRange.error, new RegExp(`^team ${seen.mode.teams + 1} has no ids of its own for rootless containers`));
});

test('intercept: exec into a running container, and into a failed one kept for it', { skip }, () => {
  assert.deepEqual(seen.intercept, { live: 'hello\n', kept: 'hello\n', listed: ['icpt:failed'] });
});

test('nothing is left: no container directory, mount or runc state', { skip }, () => {
  assert.deepEqual(seen.left, { containers: [], mounts: [], runc: [] });
});

test("a web node started by a user that is not root runs the quickstart's builds in rootless containers", { skip }, async () => {
  const home = await mkdtemp(join(tmpdir(), 'jw-rootless-qs-'));
  try {
    execFileSync('chown', [`${USER}:`, home]);
    const bin = join(import.meta.dirname, '..', '..', 'bin', 'jetway.js');
    const port = String(await freePort());
    const { stdout } = await run('runuser', ['-u', USER, '--', 'env', `HOME=${home}`, 'JETWAY_POSTGRES_URL=', `JETWAY_LOCAL_RUNTIME=containers`, process.execPath, bin, 'quickstart', '--exit', '--port', port, '--data-dir', join(home, 'data')], {
      maxBuffer: 16 << 20,
      timeout: 300_000,
    });
    assert.match(stdout, /hello from jetway -- tests passed/);
    assert.match(stdout, /\$ jetway watch -t quickstart -j hello\/ship\n[\s\S]*succeeded\s*$/);
    const log = await readFile(join(home, 'data', 'web.log'), 'utf8');
    assert.match(log, /local runtime: steps run in rootless containers \(runc; the web node is not root\)/);
  } finally {
    await rm(home, { recursive: true, force: true });
  }
});
