// builtin_checks_per_second, check_cpu_ms (issue 23): checks of built-in resources in the web
// node, without processes. A real `jetway web` process (local runtime) with 10,000 resources
// (100 pipelines × 80 mock + 20 time, check_every 1m, jobs paused: this measures checking, not
// building), due every minute: 166.7 checks/s are due.
//  - the backlog: all 10,000 due at once; how fast they are worked off is the capacity;
//  - steady state: checks finished per second over whole intervals (each resource due once per
//    window), how late they started after they were due (p50/p99 of start − (previous end + 1m)),
//    and the web node's CPU per check (utime + stime of its process over the window / checks).
// BUILTIN_CHECKS_RESOURCES=N changes the count (a baseline with processes,
// JETWAY_IN_PROCESS_CHECKS=off, cannot work off 10,000 in reasonable time on 2 cores).
import { readFileSync } from 'node:fs';
import { median, type BenchContext, type BenchResult } from './harness.ts';
import { scopesChecked, startWeb, type WebProcess } from './web-node.ts';

const PER_PIPELINE = 100;
const TIME_PER_PIPELINE = 20;

function pipeline(p: number): string {
  const rs = Array.from({ length: PER_PIPELINE }, (_, i) =>
    i < TIME_PER_PIPELINE
      ? `- {name: r${i}, type: time, check_every: 1m, source: {interval: 1m}}`
      : `- {name: r${i}, type: mock, check_every: 1m, source: {initial_version: p${p}-v${i}}}`,
  ).join('\n');
  const gets = Array.from({ length: PER_PIPELINE }, (_, i) => `  - {get: r${i}, trigger: true}`).join('\n');
  return `resources:\n${rs}\njobs:\n- name: j\n  plan:\n${gets}\n`;
}

async function api(web: WebProcess, method: string, path: string, body?: string): Promise<void> {
  const res = await fetch(`${web.url}/api/v1${path}`, {
    method,
    headers: { authorization: `Bearer ${web.token}`, ...(body ? { 'content-type': 'application/x-yaml', 'x-concourse-config-version': '0' } : {}) },
    ...(body ? { body } : {}),
  });
  if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${await res.text()}`);
}

/**
 * What the node's /metrics say of its checks: checks finished (in memory or as check builds) and
 * the lateness histogram's cumulative buckets (jetway_check_lateness_seconds, both kinds).
 */
interface CheckMetrics {
  finished: number;
  lateness: Map<number, number>;
}

async function checkMetrics(web: WebProcess): Promise<CheckMetrics> {
  const text = await (await fetch(`${web.url}/metrics`)).text();
  let finished = 0;
  const lateness = new Map<number, number>();
  for (const line of text.split('\n')) {
    const m = /^(\w+)\{([^}]*)\} (\S+)$/.exec(line);
    if (!m) continue;
    const [, name, labels, value] = m;
    if (name === 'jetway_builds_finished_total' && labels!.includes('kind="check"')) finished += Number(value);
    const le = /le="([^"]+)"/.exec(labels!)?.[1];
    if (name === 'jetway_check_lateness_seconds_bucket' && le !== undefined) {
      const bound = le === '+Inf' ? Infinity : Number(le);
      lateness.set(bound, (lateness.get(bound) ?? 0) + Number(value));
    }
  }
  return { finished, lateness };
}

/** A quantile of the checks observed between two scrapes, interpolated within its bucket (as Prometheus' histogram_quantile), to a tenth of a second. */
function latenessQuantile(before: CheckMetrics, after: CheckMetrics, q: number): number {
  const bounds = [...after.lateness.keys()].sort((a, b) => a - b);
  const counts = bounds.map((b) => (after.lateness.get(b) ?? 0) - (before.lateness.get(b) ?? 0));
  const total = counts.at(-1) ?? 0;
  if (total === 0) return NaN;
  const rank = q * total;
  let lower = 0;
  let below = 0;
  for (let i = 0; i < bounds.length; i++) {
    if (counts[i]! >= rank) {
      const upper = bounds[i]!;
      if (upper === Infinity) return lower;
      const inBucket = counts[i]! - below;
      return Math.round((lower + (upper - lower) * (inBucket === 0 ? 1 : (rank - below) / inBucket)) * 10) / 10;
    }
    lower = bounds[i]!;
    below = counts[i]!;
  }
  return lower;
}

/** The process's CPU time so far (user + system), in ms. */
function cpuMs(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // fields[11], [12]: utime, stime (clock ticks; 100 per second on Linux)
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100;
}

export async function benchBuiltinChecks(ctx: BenchContext): Promise<BenchResult> {
  const total = Number(process.env.BUILTIN_CHECKS_RESOURCES ?? 10_000);
  const pipelines = Math.ceil(total / PER_PIPELINE);
  const db = await ctx.freshDatabase();
  const web = await startWeb(db, ['--checker-interval', '1s']);
  try {
    ctx.progress(`setting ${pipelines} pipelines of ${PER_PIPELINE} built-in resources (paused)`);
    for (let p = 0; p < pipelines; p++) {
      await api(web, 'PUT', `/teams/main/pipelines/b${p}/config`, pipeline(p));
      await api(web, 'PUT', `/teams/main/pipelines/b${p}/jobs/j/pause`);
    }
    const checked = (): Promise<number> => scopesChecked(db);

    // 1. the backlog: every resource due at once
    const cpuBefore = cpuMs(web.child.pid!);
    const unpaused = Date.now();
    for (let p = 0; p < pipelines; p++) await api(web, 'PUT', `/teams/main/pipelines/b${p}/unpause`);
    ctx.progress(`${total} resources due at once: working off the backlog`);
    const limitMs = 15 * 60_000;
    while ((await checked()) < total) {
      if (Date.now() - unpaused > limitMs) throw new Error(`builtin_checks: only ${await checked()} of ${total} resources checked in ${limitMs / 60_000} minutes`);
      await new Promise((r) => setTimeout(r, 500));
    }
    const backlogS = (Date.now() - unpaused) / 1000;
    const capacity = Math.round((total / backlogS) * 100) / 100;
    const backlogCpuPerCheck = Math.round(((cpuMs(web.child.pid!) - cpuBefore) / total) * 100) / 100;

    // 2. steady state: whole intervals, each resource due once per window
    const windows = ctx.quick ? 1 : 3;
    const windowMs = 60_000;
    const rates: number[] = [];
    const cpuPerCheck: number[] = [];
    // checks finished and their lateness: the node's own metrics (in-memory checks leave no build row)
    const steady = await checkMetrics(web);
    for (let w = 0; w < windows; w++) {
      ctx.progress(`steady state: window ${w + 1} of ${windows} (${windowMs / 1000} s)`);
      const start = await checkMetrics(web);
      const cpu0 = cpuMs(web.child.pid!);
      await new Promise((r) => setTimeout(r, windowMs));
      const cpu = cpuMs(web.child.pid!) - cpu0;
      const n = (await checkMetrics(web)).finished - start.finished;
      rates.push(Math.round((n / (windowMs / 1000)) * 100) / 100);
      cpuPerCheck.push(n > 0 ? Math.round((cpu / n) * 100) / 100 : NaN);
    }
    const end = await checkMetrics(web);
    const lateness = { p50: latenessQuantile(steady, end, 0.5), p99: latenessQuantile(steady, end, 0.99) };
    const loadavg = readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
    ctx.progress(`capacity ${capacity}/s; steady ${rates.join(', ')}/s; cpu/check ${cpuPerCheck.join(', ')} ms; load ${loadavg}`);
    return {
      key: 'builtin_checks_per_second',
      title: `checks of ${total} built-in resources (80% mock, 20% time) due every minute, in the web node (local runtime): steady-state rate (median of ${windows} windows of ${windowMs / 1000} s; ${Math.round((total / 60) * 100) / 100}/s are due), capacity (the backlog worked off), lateness, the web node's CPU per check`,
      value: median(rates),
      unit: 'checks/s',
      samples: rates,
      extra: {
        check_cpu_ms: median(cpuPerCheck),
        builtin_check_capacity_per_second: capacity,
        builtin_check_backlog_cpu_ms: backlogCpuPerCheck,
        builtin_check_overdue_s: lateness,
      },
    };
  } finally {
    await web.stop();
  }
}
