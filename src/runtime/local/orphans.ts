// Processes a crashed web node left behind (issue 17, docs/web-nodes.md "Restarts"): the local
// runtime starts every step process detached, in a process group of its own, with its working
// directory and HOME under the data dir's worker root. After a kill -9 of the web node they keep
// running, unsupervised, and a task that writes no output could run twice. At start-up (the data
// dir is locked, so no live node uses that root) every process whose working directory or HOME
// lies under it is killed with its process group, before the builds they belonged to end errored.
import { readdir, readFile, readlink } from 'node:fs/promises';
import { resolve, sep } from 'node:path';
import type { Logger } from '../../log.ts';

export interface OrphanProcess {
  pid: number;
  /** its process group (the step's own, as the runtime started it detached) */
  pgid: number;
  /** its command line, for the log (arguments dropped: they may carry a build's values) */
  command: string;
  /** why it is ours: its working directory or its HOME under the worker root */
  where: string;
}

/** Whether `path` is `root` or inside it. */
export function isUnder(path: string, root: string): boolean {
  const r = resolve(root);
  const p = resolve(path);
  return p === r || p.startsWith(r + sep);
}

/** The process group of a /proc/<pid>/stat line (the field after the parenthesised command). */
export function pgidOfStat(stat: string): number | undefined {
  const close = stat.lastIndexOf(')');
  if (close < 0) return undefined;
  const fields = stat.slice(close + 2).split(' ');
  // state, ppid, pgrp
  const pgrp = Number(fields[2]);
  return Number.isInteger(pgrp) && pgrp > 0 ? pgrp : undefined;
}

/** HOME of a /proc/<pid>/environ (NUL-separated). */
export function homeOfEnviron(environ: string): string | undefined {
  for (const entry of environ.split('\0')) if (entry.startsWith('HOME=')) return entry.slice(5);
  return undefined;
}

/** The processes (other than this one and its group) working or living under `workerRoot`. */
export async function findOrphanProcesses(workerRoot: string, proc = '/proc'): Promise<OrphanProcess[]> {
  const ownGroup = await readFile(`${proc}/self/stat`, 'utf8').then(pgidOfStat, () => undefined);
  const found: OrphanProcess[] = [];
  for (const entry of await readdir(proc).catch(() => [] as string[])) {
    if (!/^\d+$/.test(entry)) continue;
    const pid = Number(entry);
    if (pid === process.pid) continue;
    try {
      const cwd = await readlink(`${proc}/${pid}/cwd`).catch(() => undefined);
      const home = homeOfEnviron(await readFile(`${proc}/${pid}/environ`, 'utf8').catch(() => ''));
      const where = cwd !== undefined && isUnder(cwd, workerRoot) ? `working directory ${cwd}` : home !== undefined && isUnder(home, workerRoot) ? `HOME ${home}` : undefined;
      if (!where) continue;
      const pgid = pgidOfStat(await readFile(`${proc}/${pid}/stat`, 'utf8'));
      if (pgid === undefined || pgid === ownGroup) continue;
      const cmdline = await readFile(`${proc}/${pid}/cmdline`, 'utf8').catch(() => '');
      found.push({ pid, pgid, command: cmdline.split('\0')[0] || '?', where });
    } catch {
      // the process ended while it was looked at
    }
  }
  return found.sort((a, b) => a.pid - b.pid);
}

/**
 * Kills every orphaned step process of `workerRoot` with its process group (SIGKILL: nobody is
 * left to wait for a graceful end); returns what was killed.
 */
export async function killOrphanProcesses(workerRoot: string, logger: Logger): Promise<OrphanProcess[]> {
  const orphans = await findOrphanProcesses(workerRoot);
  const groups = new Set<number>();
  for (const o of orphans) {
    if (!groups.has(o.pgid)) {
      groups.add(o.pgid);
      try {
        process.kill(-o.pgid, 'SIGKILL');
      } catch {
        // the group is gone already
      }
    }
    try {
      process.kill(o.pid, 'SIGKILL');
    } catch {
      // ended with its group
    }
  }
  if (orphans.length > 0) {
    logger.warn(
      { processes: orphans.map((o) => ({ pid: o.pid, command: o.command, where: o.where })) },
      `killed ${orphans.length} step process${orphans.length === 1 ? '' : 'es'} a previous web node on this data directory left running`,
    );
  }
  return orphans;
}
