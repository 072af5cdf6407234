// thousand_pipelines (issue 23): one `jetway web` with 1,000 pipelines × 10 jobs × 5 resources,
// 100 of them active (unpaused), the rest paused. Figures:
//  - scheduling pass: every job of the active pipelines due at once (1,000 jobs: inputs resolved
//    by the algorithm against 20 versions a resource and the jobs' builds), several rounds; the
//    passes' durations from the node's own histogram (jetway_scheduling_duration_seconds, so the
//    p99 is a bucket's bound) and the wall time of a round. Goal: p99 under 1 s.
//    The pipelines' gets do not trigger (trigger: false), so a pass resolves inputs and creates no
//    builds: the figure is the scheduler's, not the local runtime's.
//  - dashboard: GET /api/v1/pipelines (what the dashboard asks first), and /api/v1/jobs and
//    /api/v1/resources when the node has them. Goal: under 200 ms.
//  - idle RSS of the node after that (goal under 300 MB);
//  - Postgres: bytes per 10,000 builds (the builds, their events: 20 log lines each, and indexes).
import { median, percentile, type BenchContext, type BenchResult } from './harness.ts';
import { seedHistory, setPipelines, tenJobPipeline } from './api.ts';
import { rssMb, startWeb, type WebProcess } from './web-node.ts';

/** The histogram's buckets from /metrics: [upper bound s, cumulative count], and the count and sum. */
async function schedulingHistogram(web: WebProcess): Promise<{ buckets: [number, number][]; count: number; sum: number }> {
  const text = await (await fetch(`${web.url}/metrics`)).text();
  const buckets: [number, number][] = [];
  let count = 0;
  let sum = 0;
  for (const line of text.split('\n')) {
    const b = /^jetway_scheduling_duration_seconds_bucket\{le="([^"]+)"\} (\d+)/.exec(line);
    if (b) buckets.push([b[1] === '+Inf' ? Infinity : Number(b[1]), Number(b[2])]);
    const c = /^jetway_scheduling_duration_seconds_count (\d+)/.exec(line);
    if (c) count = Number(c[1]);
    const s = /^jetway_scheduling_duration_seconds_sum ([\d.e+-]+)/.exec(line);
    if (s) sum = Number(s[1]);
  }
  return { buckets, count, sum };
}

/** The bound of the bucket the p-th percentile of the passes since `before` falls in. */
function histogramPercentile(after: Awaited<ReturnType<typeof schedulingHistogram>>, before: typeof after, p: number): number {
  const count = after.count - before.count;
  const rank = Math.ceil((p / 100) * count);
  for (const [i, [le, n]] of after.buckets.entries()) if (n - (before.buckets[i]?.[1] ?? 0) >= rank) return le;
  return Infinity;
}

async function timeGet(web: WebProcess, path: string, runs: number): Promise<{ status: number; ms: number[]; bytes: number }> {
  const ms: number[] = [];
  let status = 0;
  let bytes = 0;
  for (let i = 0; i < runs; i++) {
    const t = performance.now();
    const res = await fetch(`${web.url}${path}`, { headers: { authorization: `Bearer ${web.token}` } });
    const body = await res.arrayBuffer();
    ms.push(Math.round((performance.now() - t) * 10) / 10);
    status = res.status;
    bytes = body.byteLength;
    if (status !== 200) break;
  }
  return { status, ms, bytes };
}

export async function benchThousandPipelines(ctx: BenchContext): Promise<BenchResult> {
  const pipelines = ctx.quick ? 100 : 1_000;
  const active = pipelines / 10;
  const db = await ctx.freshDatabase();
  const web = await startWeb(db, ['--scheduler-interval', '1s']);
  try {
    ctx.progress(`setting ${pipelines} pipelines of 10 jobs and 5 resources`);
    const setStart = Date.now();
    await setPipelines(web, 'p', pipelines, tenJobPipeline(10, 5, false), ctx.progress);
    const setSeconds = Math.round((Date.now() - setStart) / 100) / 10;

    // Postgres's bytes per 10,000 builds: the database's size before and after 2 builds a job
    const size = async (): Promise<number> => Number((await db.query<{ n: string }>('SELECT pg_database_size(current_database()) AS n')).rows[0]!.n);
    await db.query('CHECKPOINT');
    const before = await size();
    ctx.progress('seeding a history: 2 builds a job with 20 log lines each, 20 versions and 2 checks a resource');
    await seedHistory(db, { buildsPerJob: 2, versionsPerResource: 20, checksPerResource: 2 });
    const jobBuilds = Number((await db.query<{ n: number }>('SELECT count(*)::int AS n FROM builds WHERE job_id IS NOT NULL')).rows[0]!.n);
    await db.query(
      `INSERT INTO build_events (build_id, event_id, type, version, payload)
       SELECT b.id, g, 'log', '5.1', jsonb_build_object('origin', jsonb_build_object('id', 'task'), 'payload', 'line ' || g || ' of a build log, about eighty bytes long....................', 'time', 0)
         FROM builds b, generate_series(1, 20) g WHERE b.job_id IS NOT NULL`,
    );
    await db.query('VACUUM ANALYZE');
    await db.query('CHECKPOINT');
    const allBuilds = Number((await db.query<{ n: number }>('SELECT count(*)::int AS n FROM builds')).rows[0]!.n);
    const bytesPer10k = Math.round((((await size()) - before) / allBuilds) * 10_000);

    // 100 active pipelines, the rest paused
    await db.query(`UPDATE pipelines SET paused = (id NOT IN (SELECT id FROM pipelines ORDER BY id LIMIT $1))`, [active]);

    // scheduling: every job of the active pipelines due at once, a few rounds
    const rounds = ctx.quick ? 2 : 5;
    const h0 = await schedulingHistogram(web);
    const roundMs: number[] = [];
    for (let r = 0; r < rounds; r++) {
      ctx.progress(`scheduling round ${r + 1}/${rounds}: ${active * 10} jobs due`);
      const t = Date.now();
      await db.query(
        `UPDATE jobs SET schedule_requested = clock_timestamp() WHERE pipeline_id IN (SELECT id FROM pipelines WHERE NOT paused)`,
      );
      for (;;) {
        const due = await db.query<{ n: number }>('SELECT count(*)::int AS n FROM jobs WHERE active AND schedule_requested > last_scheduled');
        if (due.rows[0]!.n === 0) break;
        if (Date.now() - t > 300_000) throw new Error(`thousand_pipelines: ${due.rows[0]!.n} jobs still due after 5 minutes`);
        await new Promise((res) => setTimeout(res, 100));
      }
      roundMs.push(Date.now() - t);
    }
    const h1 = await schedulingHistogram(web);
    const passes = h1.count - h0.count;
    const created = Number((await db.query<{ n: number }>('SELECT count(*)::int AS n FROM builds WHERE job_id IS NOT NULL')).rows[0]!.n) - jobBuilds;

    // the dashboard's requests, one at a time: the first after the pipelines were set apart (the
    // jobs list reads the configs' inputs and outputs then, and keeps them per config version),
    // then the steady state a dashboard polling every 4 s sees
    const runs = ctx.quick ? 5 : 20;
    const dashboard: Record<string, { first: number; p50: number; p99: number; kb: number }> = {};
    for (const path of ['/api/v1/pipelines', '/api/v1/jobs', '/api/v1/resources']) {
      const first = await timeGet(web, path, 1);
      if (first.status === 404) continue; // a route this node does not have
      const r = await timeGet(web, path, runs);
      if (r.status !== 200) throw new Error(`thousand_pipelines: GET ${path} answered ${r.status}`);
      dashboard[path.replace('/api/v1/', '')] = { first: first.ms[0]!, p50: percentile(r.ms, 50), p99: percentile(r.ms, 99), kb: Math.round(r.bytes / 1024) };
    }

    // idle: scheduling done, nothing due
    await new Promise((res) => setTimeout(res, 5_000));
    const rss = rssMb(web.child.pid!);

    const value = {
      pipelines,
      active,
      scheduling_pass_p99_s_bucket: histogramPercentile(h1, h0, 99),
      scheduling_pass_p50_s_bucket: histogramPercentile(h1, h0, 50),
      scheduling_pass_mean_ms: passes > 0 ? Math.round(((h1.sum - h0.sum) / passes) * 1000) : NaN,
      scheduling_passes: passes,
      scheduling_round_ms: median(roundMs),
      builds_created: created,
      dashboard_ms: Object.fromEntries(Object.entries(dashboard).map(([k, v]) => [k, { first: v.first, p50: v.p50, p99: v.p99, kb: v.kb }])),
      idle_rss_mb: rss,
      postgres_bytes_per_10k_builds: bytesPer10k,
      set_pipelines_s: setSeconds,
    };
    return {
      key: 'thousand_pipelines',
      title: `${pipelines} pipelines × 10 jobs × 5 resources, ${active} active: scheduling pass (goal p99 under 1 s), dashboard requests (under 200 ms), idle RSS (under 300 MB), Postgres bytes per 10,000 builds`,
      value,
      unit: '',
      samples: roundMs,
    };
  } finally {
    await web.stop();
  }
}
