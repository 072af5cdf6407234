// Step processes a crashed web node left running are found and killed at start-up
// (src/runtime/local/orphans.ts, issue 17): real processes, started as the local runtime starts
// them (detached, working under the worker root).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { findOrphanProcesses, homeOfEnviron, isUnder, killOrphanProcesses, pgidOfStat } from '../../../src/runtime/local/orphans.ts';
import { silentLogger } from '../../../src/log.ts';

const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

/** The pids of a process group's members that are not zombies (from /proc/<pid>/stat). */
function runningInGroup(pgid: number): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    let stat: string;
    try {
      stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
    } catch {
      continue; // gone meanwhile
    }
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    if (fields[0] !== 'Z' && Number(fields[2]) === pgid) pids.push(Number(entry));
  }
  return pids;
}

test('a step process and its child left under the worker root are killed with their group; a process elsewhere is not', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'jw-orphans-'));
  const root = join(dir, 'worker');
  const work = join(root, 'build-1-task');
  mkdirSync(work, { recursive: true });
  // a task that writes nothing, with a child that moved out of the work dir (still in its group)
  const step = spawn('sh', ['-c', 'cd / && sleep 300 & sleep 300'], { cwd: work, detached: true, stdio: 'ignore', env: { PATH: process.env.PATH ?? '', HOME: `${work}.home` } });
  const bystander = spawn('sleep', ['300'], { cwd: dir, detached: true, stdio: 'ignore' });
  t.after(() => {
    for (const pid of [step.pid, bystander.pid]) {
      try {
        process.kill(-pid!, 'SIGKILL');
      } catch {
        // gone
      }
    }
    rmSync(dir, { recursive: true, force: true });
  });
  await sleep(200);
  const found = await findOrphanProcesses(root);
  assert.ok(found.some((o) => o.pid === step.pid && o.pgid === step.pid), JSON.stringify(found));
  assert.ok(!found.some((o) => o.pid === bystander.pid));
  const killed = await killOrphanProcesses(root, silentLogger);
  assert.ok(killed.some((o) => o.pid === step.pid));
  for (let i = 0; i < 50 && alive(step.pid!); i++) await sleep(50);
  assert.equal(alive(step.pid!), false, 'the step process is gone');
  // its child (cwd /, same group) went with the group
  assert.deepEqual(await findOrphanProcesses(root), []);
  // killed members may stay zombies until whoever adopted them reaps them (a container's PID 1
  // may never do it): only a member that still runs counts
  for (let i = 0; i < 50 && runningInGroup(step.pid!).length > 0; i++) await sleep(50);
  assert.deepEqual(runningInGroup(step.pid!), [], 'nothing of its process group is left running');
  assert.equal(alive(bystander.pid!), true, 'a process outside the worker root is left alone');
});

const STATS: [string, string, number | undefined][] = [
  ['a plain command', '1234 (sleep) S 1 1234 1234 0 -1 4194304', 1234],
  ['a command with spaces and parentheses', '77 (my (odd) cmd) R 5 70 70 0', 70],
  ['garbage', 'nothing here', undefined],
];
for (const [name, stat, want] of STATS) test(`pgidOfStat: ${name}`, () => assert.equal(pgidOfStat(stat), want));

const ENVIRONS: [string, string, string | undefined][] = [
  ['HOME among others', 'PATH=/bin\0HOME=/d/worker/x.home\0USER=b\0', '/d/worker/x.home'],
  ['no HOME', 'PATH=/bin\0', undefined],
];
for (const [name, environ, want] of ENVIRONS) test(`homeOfEnviron: ${name}`, () => assert.equal(homeOfEnviron(environ), want));

const UNDER: [string, string, string, boolean][] = [
  ['the root itself', '/d/worker', '/d/worker', true],
  ['inside', '/d/worker/a/b', '/d/worker', true],
  ['a sibling with the same prefix', '/d/worker2/a', '/d/worker', false],
  ['outside', '/tmp', '/d/worker', false],
];
for (const [name, path, root, want] of UNDER) test(`isUnder: ${name}`, () => assert.equal(isUnder(path, root), want));
