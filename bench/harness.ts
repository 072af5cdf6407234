// What every benchmark gets and returns.
import { readdirSync, readFileSync } from 'node:fs';
import { cpus } from 'node:os';
import type { Database } from '../src/db/database.ts';

export interface BenchContext {
  /** a fresh, migrated database on the benchmark's Postgres */
  freshDatabase(): Promise<Database>;
  /** fewer iterations (CI smoke runs) */
  quick: boolean;
  progress(message: string): void;
}

/** A figure, or named figures (nested for benchmarks with several cases). */
export type BenchValue = number | { [key: string]: BenchValue };

export interface BenchResult {
  /** the key in the JSON output */
  key: string;
  title: string;
  value: BenchValue;
  unit: string;
  /** a readable table of the figures, printed instead of the one-line summary */
  table?: string;
  /** the runs behind a median figure: their spread is printed and written as `noise` */
  samples?: number[];
  /** further top-level keys the same run measured, written and printed beside `key` */
  extra?: Record<string, BenchValue>;
}

export function percentile(samples: readonly number[], p: number): number {
  if (samples.length === 0) return NaN;
  const sorted = [...samples].sort((a, b) => a - b);
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return Math.round(sorted[rank]! * 100) / 100;
}

/** The median of samples (the mean of the middle two for an even count), rounded to 2 decimals. */
export function median(samples: readonly number[]): number {
  if (samples.length === 0) return NaN;
  const s = [...samples].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  const v = s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
  return Math.round(v * 100) / 100;
}

/** How far the runs behind a median spread: min, max, and the larger distance from the median in percent. */
export function spread(samples: readonly number[]): { min: number; max: number; pct: number } {
  const m = median(samples);
  const min = Math.min(...samples);
  const max = Math.max(...samples);
  const pct = m === 0 ? 0 : Math.round((Math.max(m - min, max - m) / m) * 1000) / 10;
  return { min, max, pct };
}

/** The medians of consecutive groups of samples: a within-run noise estimate for percentile figures. */
export function groupMedians(samples: readonly number[], groups: number): number[] {
  const size = Math.max(1, Math.floor(samples.length / groups));
  const out: number[] = [];
  for (let i = 0; i + size <= samples.length && out.length < groups; i += size) out.push(median(samples.slice(i, i + size)));
  return out;
}

/**
 * CPU time (ms, user + system) used so far by the web node(s), every Postgres process and this
 * process; and the machine's busy time over all cores (kernel work for the sockets included) at
 * a wall-clock instant.
 */
export interface CpuSnapshot {
  web: number;
  postgres: number;
  client: number;
  machine: number | undefined;
  at: number;
}

// /proc/<pid>/stat counts in clock ticks: 100 a second on Linux (USER_HZ)
const TICK_MS = 10;

function procCpuMs(pid: number): { comm: string; ms: number } | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const close = stat.lastIndexOf(')');
    const comm = stat.slice(stat.indexOf('(') + 1, close);
    const fields = stat.slice(close + 2).split(' ');
    // fields[11], [12]: utime, stime (the 14th and 15th of the line)
    return { comm, ms: (Number(fields[11]) + Number(fields[12])) * TICK_MS };
  } catch {
    return undefined; // exited between the listing and the read
  }
}

/**
 * Where the machine's CPU went: the web node (by pid), the Postgres server's processes (every
 * process named postgres: the benchmark's server is the only one), and the load generator
 * itself, which shares the cores. A Postgres backend that exits (a closed connection) takes its
 * time with it, so the windows measured keep their connections open.
 */
export function cpuSnapshot(webPids: readonly number[]): CpuSnapshot {
  let postgres = 0;
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const p = procCpuMs(Number(entry));
    if (p && p.comm === 'postgres') postgres += p.ms;
  }
  const own = process.cpuUsage();
  const web = webPids.reduce((a, pid) => a + (procCpuMs(pid)?.ms ?? 0), 0);
  return { web, postgres, client: (own.user + own.system) / 1000, machine: machineBusyMs(), at: performance.now() };
}

// a type, not an interface: the figures' JSON takes it as a record
export type CpuPerRequest = {
  web: number;
  postgres: number;
  client: number;
  /** the requests/s the machine's cores could serve at that cost */
  ceiling_rps: number;
  /** the share of all the machine's cores busy in the window (0–1; near 1: the machine is what limits) */
  host_busy?: number;
};

/** CPU ms per request between two snapshots, the cores' ceiling at that cost, and how busy the machine was. */
export function cpuPerRequest(before: CpuSnapshot, after: CpuSnapshot, requests: number): CpuPerRequest {
  const per = (k: 'web' | 'postgres' | 'client'): number => Math.round(((after[k] - before[k]) / Math.max(1, requests)) * 1000) / 1000;
  const web = per('web');
  const postgres = per('postgres');
  const client = per('client');
  const out: CpuPerRequest = { web, postgres, client, ceiling_rps: Math.round((1000 * cpus().length) / Math.max(0.001, web + postgres + client)) };
  if (before.machine !== undefined && after.machine !== undefined && after.at > before.at) {
    out.host_busy = Math.round(((after.machine - before.machine) / ((after.at - before.at) * cpus().length)) * 1000) / 1000;
  }
  return out;
}

/** The machine's busy CPU time so far (all cores, ms), from /proc/stat; undefined where there is none. */
function machineBusyMs(): number | undefined {
  try {
    const fields = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number);
    // user, nice, system, irq, softirq, steal (idle and iowait are not busy)
    const busy = (fields[0] ?? 0) + (fields[1] ?? 0) + (fields[2] ?? 0) + (fields[5] ?? 0) + (fields[6] ?? 0) + (fields[7] ?? 0);
    return busy * 10; // USER_HZ ticks of 10 ms
  } catch {
    return undefined;
  }
}

/**
 * Waits until the machine is quiet: a window of `windowMs` in which all cores together were busy
 * at most one clock tick (10 ms), at most `maxMs` in all. For a benchmark that times one
 * request on a node whose test cluster runs on the same cores (its kubelet tearing down the
 * previous pod), so each sample starts from the same state. Without /proc/stat it sleeps `windowMs`.
 */
export async function waitForQuietMachine(windowMs = 50, maxMs = 2_000): Promise<void> {
  const deadline = Date.now() + maxMs;
  let before = machineBusyMs();
  for (;;) {
    await new Promise((resolve) => setTimeout(resolve, windowMs));
    const after = machineBusyMs();
    if (before === undefined || after === undefined || after - before <= 10 || Date.now() >= deadline) return;
    before = after;
  }
}
