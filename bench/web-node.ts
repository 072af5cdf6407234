// Benchmarks of the web node itself, as users run it (a real `jetway web` process):
//  - web_rss_mb_100_pipelines: resident memory of an idle web node with 100 pipelines set;
//  - checks_per_second: sustained checks of 1,000 mock resources due every minute, on this
//    machine (2 cores in CI), on the local runtime (each check is a resource process).
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../src/db/embedded.ts';
import type { Database } from '../src/db/database.ts';
import { median, type BenchContext, type BenchResult } from './harness.ts';
import { WEB_ENV } from '../src/packaging/images.ts';

const BIN = join(import.meta.dirname, '..', 'bin', 'jetway.js');

export interface WebProcess {
  url: string;
  child: ChildProcess;
  token: string;
  stop(): Promise<void>;
}

export async function startWeb(db: Database, extra: string[] = []): Promise<WebProcess> {
  const dir = await mkdtemp(join(tmpdir(), 'jw-bench-web-'));
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const child = spawn(
    process.execPath,
    // JETWAY_BENCH_NODE_ARGS: node flags for the web node, e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof" to profile it
    [...(process.env.JETWAY_BENCH_NODE_ARGS?.split(' ').filter(Boolean) ?? []), BIN, 'web', '--port', String(port), '--bind-ip', '127.0.0.1', '--data-dir', dir, '--postgres-url', db.url, '--add-local-user', 'bench:bench-pass', '--log-level', 'warn', ...extra],
    // the environment the web image runs it with (WEB_ENV: MALLOC_ARENA_MAX=2), as users run it
    { stdio: 'ignore', env: { ...process.env, ...Object.fromEntries(WEB_ENV.filter((e) => e.startsWith('MALLOC_')).map((e) => e.split('=') as [string, string])) } },
  );
  // a benchmark that fails or is interrupted must not leave its nodes running (and using the
  // cores the next one measures): they go with this process however it ends
  const orphaned = (): void => {
    if (child.exitCode === null) child.kill('SIGKILL');
  };
  process.once('exit', orphaned);
  // a minute: on a loaded machine a node running its TypeScript sources (tsx) starts slowly
  for (let i = 0; i < 600; i++) {
    if (await fetch(`${url}/api/v1/health`).then((r) => r.ok, () => false)) break;
    if (child.exitCode !== null) throw new Error(`jetway web exited with ${child.exitCode} before answering /api/v1/health`);
    await new Promise((r) => setTimeout(r, 100));
  }
  const res = await fetch(`${url}/api/v1/token`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username: 'bench', password: 'bench-pass' }) });
  const { access_token: token } = (await res.json()) as { access_token: string };
  return {
    url,
    child,
    token,
    async stop() {
      process.off('exit', orphaned);
      if (child.exitCode === null) {
        child.kill('SIGTERM');
        await new Promise((r) => child.once('exit', r));
      }
      await rm(dir, { recursive: true, force: true });
    },
  };
}

export function rssMb(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = Number(/VmRSS:\s+(\d+)\s+kB/.exec(status)?.[1] ?? NaN);
  return Math.round((kb / 1024) * 10) / 10;
}

async function setPipeline(web: WebProcess, name: string, yaml: string): Promise<void> {
  const res = await fetch(`${web.url}/api/v1/teams/main/pipelines/${name}/config`, {
    method: 'PUT',
    headers: { authorization: `Bearer ${web.token}`, 'content-type': 'application/x-yaml', 'x-concourse-config-version': '0' },
    body: yaml,
  });
  if (!res.ok) throw new Error(`set ${name}: ${res.status} ${await res.text()}`);
}

const EXAMPLE = readFileSync(join(import.meta.dirname, '..', 'examples', 'hello.yml'), 'utf8');

export async function benchWebRss(ctx: BenchContext): Promise<BenchResult> {
  const samples: number[] = [];
  const busy: number[] = [];
  const runs = ctx.quick ? 1 : 3;
  for (let run = 0; run < runs; run++) {
    const db = await ctx.freshDatabase();
    const web = await startWeb(db);
    try {
      ctx.progress(`run ${run + 1}/${runs}: setting 100 pipelines`);
      for (let i = 0; i < 100; i++) await setPipeline(web, `p${i}`, EXAMPLE);
      // just after the last request: the pipeline loader's worker thread still runs
      await new Promise((r) => setTimeout(r, 3_000));
      busy.push(rssMb(web.child.pid!));
      // idle: no request for longer than the loader keeps its worker (30 s, src/config/off-thread.ts),
      // and the few seconds V8 and glibc take to give back what the worker held
      ctx.progress(`run ${run + 1}/${runs}: idle for 45 s`);
      await new Promise((r) => setTimeout(r, 42_000));
      samples.push(rssMb(web.child.pid!));
    } finally {
      await web.stop();
    }
  }
  return {
    key: 'web_rss_mb_100_pipelines',
    title: `resident memory of an idle web node with 100 pipelines set, 45 s after the last request, run as the web image runs it (median of ${runs} runs)`,
    value: median(samples),
    unit: 'MB',
    samples,
    extra: { three_seconds_after_setting_them: median(busy) },
  };
}

function checksPipeline(resources: number): string {
  const rs = Array.from({ length: resources }, (_, i) => `- {name: r${i}, type: mock, check_every: 1m, source: {initial_version: v${i}}}`).join('\n');
  const gets = Array.from({ length: resources }, (_, i) => `  - {get: r${i}, trigger: true}`).join('\n');
  return `resources:\n${rs}\njobs:\n- name: j\n  plan:\n${gets}\n`;
}

export async function benchChecksPerSecond(ctx: BenchContext): Promise<BenchResult> {
  const db = await ctx.freshDatabase();
  const web = await startWeb(db, ['--checker-interval', '2s']);
  const total = 1_000;
  const perPipeline = 100;
  try {
    for (let p = 0; p < total / perPipeline; p++) {
      await setPipeline(web, `checks${p}`, checksPipeline(perPipeline));
      const auth = { authorization: `Bearer ${web.token}` };
      // the job stays paused: this measures checking, not building
      await fetch(`${web.url}/api/v1/teams/main/pipelines/checks${p}/jobs/j/pause`, { method: 'PUT', headers: auth });
      await fetch(`${web.url}/api/v1/teams/main/pipelines/checks${p}/unpause`, { method: 'PUT', headers: auth });
    }
    const count = (): Promise<number> => scopesChecked(db);
    const finished = (since: Date): Promise<number> => checksFinishedSince(db, since);

    // 1. the backlog: all 1,000 are due at once; how fast they are worked off is the capacity
    const unpaused = Date.now();
    ctx.progress('1,000 resources due at once: working off the backlog');
    while ((await count()) < total) {
      if (Date.now() - unpaused > 300_000) throw new Error(`checks_per_second: only ${await count()} of ${total} resources checked in 5 minutes`);
      await new Promise((r) => setTimeout(r, 250));
    }
    const capacity = Math.round((total / ((Date.now() - unpaused) / 1000)) * 100) / 100;

    // 2. steady state: each resource due again a minute after its last check (16.67 checks/s due);
    // a window is one whole interval, in which every resource comes due once
    const windows = ctx.quick ? 1 : 3;
    const windowMs = 60_000;
    const rates: number[] = [];
    const steady = new Date();
    for (let w = 0; w < windows; w++) {
      ctx.progress(`steady state: counting checks, window ${w + 1} of ${windows} (${windowMs / 1000} s)`);
      const start = new Date();
      await new Promise((r) => setTimeout(r, windowMs));
      rates.push(Math.round(((await finished(start)) / (windowMs / 1000)) * 100) / 100);
    }
    // how late the steady-state checks started after they were due (previous check's end + 1m)
    const lateness = await checkLateness(db, steady);
    ctx.progress(`capacity ${capacity} checks/s; steady ${rates.join(', ')} checks/s`);
    return {
      key: 'checks_per_second',
      title: `checks of 1,000 mock resources due every minute (local runtime, a process per check): steady-state rate (median of ${windows} windows of ${windowMs / 1000} s; 16.67/s are due), capacity (the initial backlog of 1,000 worked off), lateness`,
      value: median(rates),
      unit: 'checks/s',
      samples: rates,
      extra: { check_capacity_per_second: capacity, check_overdue_s: lateness },
    };
  } finally {
    await web.stop();
  }
}

/** Resource scopes checked at least once. */
export async function scopesChecked(db: Database): Promise<number> {
  return Number((await db.query<{ n: string }>('SELECT count(*) AS n FROM resource_config_scopes WHERE last_check_end_time IS NOT NULL')).rows[0]?.n ?? 0);
}

/** Check builds that ended since a time. */
export async function checksFinishedSince(db: Database, since: Date): Promise<number> {
  return Number((await db.query<{ n: string }>(`SELECT count(*) AS n FROM builds WHERE resource_id IS NOT NULL AND completed AND end_time >= $1`, [since])).rows[0]?.n ?? 0);
}

/**
 * How late (seconds, p50 and p99, to a tenth) the checks that started since `since` began after
 * they were due: their resource's previous check's end + 1 minute.
 */
export async function checkLateness(db: Database, since: Date): Promise<{ p50: number; p99: number }> {
  const r = await db.query<{ p50: number | null; p99: number | null }>(
    `SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY overdue) AS p50, percentile_cont(0.99) WITHIN GROUP (ORDER BY overdue) AS p99
       FROM (SELECT extract(epoch FROM start_time - (lag(end_time) OVER (PARTITION BY resource_id ORDER BY id) + interval '1 minute')) AS overdue, start_time
               FROM builds WHERE resource_id IS NOT NULL AND completed) c
      WHERE overdue IS NOT NULL AND start_time >= $1`,
    [since],
  );
  const round1 = (x: number | null | undefined): number => Math.round((x ?? NaN) * 10) / 10;
  return { p50: round1(r.rows[0]?.p50), p99: round1(r.rows[0]?.p99) };
}
