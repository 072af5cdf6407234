// api_rps / api_p99_ms (issue 23): the read routes the UI and fly poll, served by a real
// `jetway web` to 50 concurrent keep-alive clients, on pipelines with a history (builds, check
// builds, versions seeded in SQL). Goal: 2,000 requests/s or more, p99 under 100 ms.
// The figure is a mix of the routes (round robin, each client its own sequence); each route is
// also measured alone. Before the load, every route is requested once through an in-process API
// whose database records its statements, and each statement's plan (EXPLAIN ANALYZE, buffers,
// of the prepared statement, as the web node runs it) is printed with its time, so a regression shows which query.
import { Agent, request } from 'node:http';
import { pino } from 'pino';
import { createApiServer, LocalAuth } from '../src/api/index.ts';
import type { Database, Queryable, QueryResult, Row } from '../src/db/database.ts';
import { explainPrepared } from '../src/db/explain.ts';
import { findOrCreateResourceConfig, sourceHash } from '../src/db/versions.ts';
import { cpuPerRequest, cpuSnapshot, median, percentile, type BenchContext, type BenchResult, type CpuPerRequest } from './harness.ts';
import { startWeb, type WebProcess } from './web-node.ts';

export const CLIENTS = 50;

/** A pipeline of 10 jobs and 5 mock resources: job i gets r(i%5) (trigger) and r((i-1)%5) passed job i-1. */
export function tenJobPipeline(jobs = 10, resources = 5, trigger = true): string {
  const rs = Array.from({ length: resources }, (_, i) => `- {name: r${i}, type: mock, check_every: 24h, source: {initial_version: v${i}}}`).join('\n');
  const js = Array.from({ length: jobs }, (_, i) => {
    const gets = [`  - {get: r${i % resources}, trigger: ${trigger}}`];
    if (i > 0 && (i - 1) % resources !== i % resources) gets.push(`  - {get: r${(i - 1) % resources}, passed: [j${i - 1}]}`);
    return `- name: j${i}\n  plan:\n${gets.join('\n')}\n  - task: t\n    config: {platform: linux, run: {path: "true"}}`;
  }).join('\n');
  return `resources:\n${rs}\njobs:\n${js}\n`;
}

export async function setPipeline(web: WebProcess, name: string, yaml: string): Promise<void> {
  const res = await fetch(`${web.url}/api/v1/teams/main/pipelines/${name}/config`, {
    method: 'PUT',
    headers: { authorization: `Bearer ${web.token}`, 'content-type': 'application/x-yaml', 'x-concourse-config-version': '0' },
    body: yaml,
  });
  if (!res.ok) throw new Error(`set ${name}: ${res.status} ${await res.text()}`);
}

/** Sets `count` pipelines named `${prefix}${i}`, a few at a time. */
export async function setPipelines(web: WebProcess, prefix: string, count: number, yaml: string, progress?: (m: string) => void): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < count) {
      const i = next++;
      await setPipeline(web, `${prefix}${i}`, yaml);
      if (progress && (i + 1) % 100 === 0) progress(`${i + 1} of ${count} pipelines set`);
    }
  };
  await Promise.all(Array.from({ length: 4 }, worker));
}

/**
 * A history in SQL, as if the pipelines had run: `buildsPerJob` finished builds of every job
 * (1 in 7 failed), each resource checked (a config, a scope, `versionsPerResource` versions,
 * `checksPerResource` check builds), the jobs' latest/transition builds set.
 */
export async function seedHistory(db: Queryable, opts: { buildsPerJob: number; versionsPerResource: number; checksPerResource: number }): Promise<void> {
  await db.query(
    `INSERT INTO builds (name, job_id, pipeline_id, team_id, status, scheduled, inputs_ready, completed, create_time, start_time, end_time)
     SELECT g::text, j.id, j.pipeline_id, p.team_id, CASE WHEN g % 7 = 0 THEN 'failed' ELSE 'succeeded' END, true, true, true,
            now() - make_interval(mins => $1 - g), now() - make_interval(mins => $1 - g), now() - make_interval(mins => $1 - g) + interval '30 seconds'
       FROM jobs j JOIN pipelines p ON p.id = j.pipeline_id, generate_series(1, $1::int) g
      ORDER BY g, j.id`,
    [opts.buildsPerJob],
  );
  await db.query(
    `UPDATE jobs j SET build_number_seq = $1,
            latest_completed_build_id = (SELECT max(b.id) FROM builds b WHERE b.job_id = j.id),
            transition_build_id = (SELECT max(b.id) FROM builds b WHERE b.job_id = j.id AND b.status = 'failed')`,
    [opts.buildsPerJob],
  );
  // each resource checked under its real config (the source's hash), so the checker finds it fresh
  const resources = await db.query<{ id: number; source: Record<string, unknown> | null }>(`SELECT id, config->'source' AS source FROM resources`);
  const hashes = resources.rows.map((r) => sourceHash(r.source));
  const base = (await findOrCreateResourceConfig(db, { baseType: 'mock' }, {})).baseResourceTypeId;
  await db.query(
    `INSERT INTO resource_configs (base_resource_type_id, source_hash) SELECT DISTINCT $1::int, h FROM unnest($2::text[]) h
     ON CONFLICT (base_resource_type_id, source_hash) WHERE base_resource_type_id IS NOT NULL DO NOTHING`,
    [base, hashes],
  );
  await db.query(
    `INSERT INTO resource_config_scopes (resource_config_id, resource_id, last_check_start_time, last_check_end_time, last_check_succeeded, next_check_time)
     SELECT c.id, x.rid, now() - interval '1 minute', now(), true, now() + interval '1 day'
       FROM unnest($1::int[], $2::text[]) x(rid, h) JOIN resource_configs c ON c.base_resource_type_id = $3 AND c.source_hash = x.h`,
    [resources.rows.map((r) => r.id), hashes, base],
  );
  await db.query(
    `UPDATE resources r SET resource_config_id = s.resource_config_id, resource_config_scope_id = s.id
       FROM resource_config_scopes s WHERE s.resource_id = r.id`,
  );
  await db.query(
    `INSERT INTO resource_config_versions (resource_config_scope_id, version, version_sha256, metadata, check_order)
     SELECT s.id, jsonb_build_object('version', 'v' || g), encode(sha256(convert_to(s.id || '/' || g, 'UTF8')), 'hex'),
            jsonb_build_array(jsonb_build_object('name', 'n', 'value', g::text)), g
       FROM resource_config_scopes s, generate_series(1, $1::int) g`,
    [opts.versionsPerResource],
  );
  await db.query(
    `INSERT INTO builds (name, resource_id, pipeline_id, team_id, status, scheduled, completed, create_time, start_time, end_time)
     SELECT 'check', r.id, r.pipeline_id, p.team_id, 'succeeded', true, true, now() - make_interval(mins => $1 - g), now() - make_interval(mins => $1 - g), now() - make_interval(mins => $1 - g)
       FROM resources r JOIN pipelines p ON p.id = r.pipeline_id, generate_series(1, $1::int) g`,
    [opts.checksPerResource],
  );
  await db.query(
    `UPDATE resource_config_scopes s SET last_check_build_id = (SELECT max(b.id) FROM builds b WHERE b.resource_id = s.resource_id)`,
  );
  // running pipelines: unpaused, every job's inputs resolved and nothing due for scheduling
  await db.query(`UPDATE pipelines SET paused = false`);
  await db.query(`UPDATE jobs SET inputs_determined = true, last_scheduled = schedule_requested`);
  await db.query('ANALYZE');
}

// ------------------------------------------------------------------------------ load

export interface LoadResult {
  requests: number;
  rps: number;
  p50: number;
  p99: number;
  errors: number;
  /** CPU ms per request of the web node, Postgres and the load generator, and the cores' ceiling at that cost (when the web node's pid is known) */
  cpu?: CpuPerRequest;
}

/** `clients` keep-alive clients, each sending the next of `paths` as soon as its last answer is read, for `ms`. */
export async function load(baseUrl: string, token: string, paths: readonly string[], ms: number, clients = CLIENTS, webPid?: number): Promise<LoadResult> {
  return drive([{ url: baseUrl, token, ...(webPid !== undefined ? { pid: webPid } : {}) }], paths, ms, clients);
}

/** As load, the clients spread over several web nodes on one database (as a load balancer would), their CPU summed. */
export function loadAcross(nodes: readonly WebProcess[], paths: readonly string[], ms: number, clients = CLIENTS): Promise<LoadResult> {
  return drive(nodes.map((n) => ({ url: n.url, token: n.token, ...(n.child.pid !== undefined ? { pid: n.child.pid } : {}) })), paths, ms, clients);
}

async function drive(targets: readonly { url: string; token: string; pid?: number }[], paths: readonly string[], ms: number, clients: number): Promise<LoadResult> {
  const agents = targets.map((t) => ({ url: new URL(t.url), token: t.token, agent: new Agent({ keepAlive: true, maxSockets: clients }) }));
  const latencies: number[] = [];
  let errors = 0;
  const get = (client: number, path: string): Promise<number> =>
    new Promise((resolve) => {
      const t = agents[client % agents.length]!;
      const req = request({ host: t.url.hostname, port: t.url.port, path, agent: t.agent, headers: { authorization: `Bearer ${t.token}` } }, (res) => {
        res.on('data', () => undefined);
        res.on('end', () => resolve(res.statusCode ?? 0));
      });
      req.on('error', () => resolve(0));
      req.end();
    });
  const pids = targets.flatMap((t) => (t.pid !== undefined ? [t.pid] : []));
  const measured = pids.length === targets.length;
  const cpuBefore = measured ? cpuSnapshot(pids) : undefined;
  const started = performance.now();
  const end = started + ms;
  await Promise.all(
    Array.from({ length: clients }, async (_, c) => {
      for (let i = c; performance.now() < end; i++) {
        const t = performance.now();
        const status = await get(c, paths[i % paths.length]!);
        latencies.push(performance.now() - t);
        if (status !== 200) errors++;
      }
    }),
  );
  const elapsed = (performance.now() - started) / 1000;
  const cpu = cpuBefore ? cpuPerRequest(cpuBefore, cpuSnapshot(pids), latencies.length) : undefined;
  for (const a of agents) a.agent.destroy();
  return {
    ...(cpu ? { cpu } : {}),
    requests: latencies.length,
    rps: Math.round(latencies.length / elapsed),
    p50: percentile(latencies, 50),
    p99: percentile(latencies, 99),
    errors,
  };
}

// ------------------------------------------------------------------------------ plans

type Statement = { text: string; values: readonly unknown[] };

/** `q`, recording every statement it runs (text and values), inside transactions too, for EXPLAIN. */
function recording(q: Queryable, statements: Statement[]): Queryable {
  return {
    query: <R extends Row = Row>(text: string, values: readonly unknown[] = []): Promise<QueryResult<R>> => {
      statements.push({ text, values });
      return q.query<R>(text, values);
    },
    transaction: <T>(fn: (tx: Queryable) => Promise<T>): Promise<T> => q.transaction((tx) => fn(recording(tx, statements))),
  };
}

/**
 * Each route requested once through an in-process API on the same database; the statements it
 * ran (reads only), each with its EXPLAIN ANALYZE. `{route: [{ms, statement, plan}]}`.
 */
export async function routePlans(db: Database, paths: readonly string[]): Promise<{ path: string; statements: { ms: number; sql: string; plan: string }[] }[]> {
  const statements: Statement[] = [];
  const app = createApiServer({
    db: { ...recording(db, statements), url: db.url, displayUrl: db.displayUrl, pool: db.pool, close: () => Promise.resolve() },
    auth: new LocalAuth({ users: ['bench:bench-pass'] }),
    logger: pino({ level: 'silent' }),
    version: '0.0.0-bench',
    externalUrl: 'http://bench',
  });
  await app.ready();
  const login = await app.inject({ method: 'POST', url: '/api/v1/token', payload: { username: 'bench', password: 'bench-pass' } });
  const token = (login.json() as { access_token: string }).access_token;
  const out: { path: string; statements: { ms: number; sql: string; plan: string }[] }[] = [];
  try {
    for (const path of paths) {
      statements.length = 0;
      const res = await app.inject({ method: 'GET', url: path, headers: { authorization: `Bearer ${token}` } });
      if (res.statusCode !== 200) throw new Error(`GET ${path}: ${res.statusCode} ${res.body.slice(0, 200)}`);
      const explained: { ms: number; sql: string; plan: string }[] = [];
      for (const s of [...statements]) {
        if (!/^\s*(SELECT|WITH)\b/i.test(s.text)) continue;
        const plan = await explainPrepared(db, s.text, s.values);
        const ms = Number(/Execution Time: ([\d.]+) ms/.exec(plan)?.[1] ?? NaN);
        explained.push({ ms, sql: s.text.replace(/\s+/g, ' ').trim(), plan });
      }
      out.push({ path, statements: explained });
    }
  } finally {
    await app.close();
  }
  return out;
}

/** The plans as text: per route, its statements by time, the slowest plan in full. */
export function formatPlans(plans: Awaited<ReturnType<typeof routePlans>>, full = 1): string {
  const lines: string[] = [];
  for (const { path, statements } of plans) {
    const total = statements.reduce((a, s) => a + s.ms, 0);
    lines.push(`  GET ${path}: ${statements.length} statements, ${total.toFixed(2)} ms in Postgres`);
    const sorted = [...statements].sort((a, b) => b.ms - a.ms);
    for (const s of sorted) lines.push(`    ${s.ms.toFixed(3).padStart(8)} ms  ${s.sql.slice(0, 160)}`);
    for (const s of sorted.slice(0, full)) lines.push(s.plan.split('\n').map((l) => `      | ${l}`).join('\n'));
  }
  return lines.join('\n');
}

// ------------------------------------------------------------------------------ the benchmark

export function readRoutes(pipelines: number): Record<string, string[]> {
  const p = (i: number) => `/api/v1/teams/main/pipelines/p${i % pipelines}`;
  const each = (f: (i: number) => string) => Array.from({ length: pipelines }, (_, i) => f(i));
  return {
    pipelines: ['/api/v1/pipelines'],
    jobs: each((i) => `${p(i)}/jobs`),
    builds: ['/api/v1/builds'],
    job_builds: each((i) => `${p(i)}/jobs/j${i % 10}/builds`),
    resources: each((i) => `${p(i)}/resources`),
    resource_versions: each((i) => `${p(i)}/resources/r${i % 5}/versions`),
  };
}

/** The share of one core the web node used: its JavaScript runs on one thread, so near 1 it is what limits the figure. */
function webCoreBusy(r: LoadResult): number | undefined {
  return r.cpu ? Math.round((r.cpu.web * r.rps) / 10) / 100 : undefined;
}

function cpuText(r: LoadResult, nodes = 1): string {
  const web = nodes === 1 ? `the web node busy ${webCoreBusy(r)} of one core` : `the ${nodes} web nodes together ${webCoreBusy(r)} cores busy`;
  return r.cpu
    ? `  cpu/request: web ${r.cpu.web} ms, postgres ${r.cpu.postgres} ms, load generator ${r.cpu.client} ms (the cores' ceiling at that cost: ${r.cpu.ceiling_rps}/s; ${web}${r.cpu.host_busy !== undefined ? `; the machine's cores ${r.cpu.host_busy} busy` : ''})`
    : '';
}

export async function benchApi(ctx: BenchContext): Promise<BenchResult> {
  const db = await ctx.freshDatabase();
  const pipelines = 10;
  const web = await startWeb(db);
  try {
    ctx.progress(`setting ${pipelines} pipelines of 10 jobs and 5 resources`);
    await setPipelines(web, 'p', pipelines, tenJobPipeline());
    ctx.progress('seeding their history: 100 builds a job, 100 versions and 20 checks a resource');
    await seedHistory(db, { buildsPerJob: 100, versionsPerResource: 100, checksPerResource: 20 });

    const builds = async (): Promise<number> => Number((await db.query<{ n: number }>('SELECT count(*)::int AS n FROM builds')).rows[0]!.n);
    const buildsBefore = await builds();
    const routes = readRoutes(pipelines);
    const plans = await routePlans(db, Object.values(routes).map((paths) => paths[0]!));
    const mix = Object.values(routes).flatMap((paths) => paths.slice(0, pipelines));
    // warm-up: connections, JIT, Postgres caches
    await load(web.url, web.token, mix, ctx.quick ? 1_000 : 3_000);
    const runs = ctx.quick ? 1 : 3;
    const windowMs = ctx.quick ? 3_000 : 10_000;
    const mixes: LoadResult[] = [];
    for (let r = 0; r < runs; r++) {
      ctx.progress(`the route mix, ${CLIENTS} clients, run ${r + 1}/${runs} (${windowMs / 1000} s)`);
      mixes.push(await load(web.url, web.token, mix, windowMs, CLIENTS, web.child.pid));
    }
    const perRoute: Record<string, LoadResult> = {};
    for (const [name, paths] of Object.entries(routes)) {
      ctx.progress(`${name} alone (${windowMs / 2000} s)`);
      perRoute[name] = await load(web.url, web.token, paths, windowMs / 2, CLIENTS, web.child.pid);
    }
    // What limits the mix: a second web node on the same database and cores, the clients spread
    // over both. If the one node's thread were the limit, two would serve more; when the
    // machine's cores are all busy (host_busy near 1) the cost per request is.
    ctx.progress('a second web node on the same database');
    const second = await startWeb(db);
    const twoNodes: LoadResult[] = [];
    try {
      await loadAcross([web, second], mix, ctx.quick ? 1_000 : 3_000);
      for (let r = 0; r < runs; r++) {
        ctx.progress(`the route mix on two web nodes, ${CLIENTS} clients, run ${r + 1}/${runs} (${windowMs / 1000} s)`);
        twoNodes.push(await loadAcross([web, second], mix, windowMs));
      }
    } finally {
      await second.stop();
    }
    // the figures are of reads alone: the node's checker and scheduler had nothing to do
    const started = (await builds()) - buildsBefore;
    if (started > 0) ctx.progress(`warning: ${started} builds (checks or jobs) were created during the load`);
    const errors = [...mixes, ...twoNodes, ...Object.values(perRoute)].reduce((a, m) => a + m.errors, 0);
    if (errors > 0) throw new Error(`api_rps: ${errors} requests did not answer 200`);
    const rps = median(mixes.map((m) => m.rps));
    const p99 = median(mixes.map((m) => m.p99));
    const busy = webCoreBusy(mixes[mixes.length - 1]!);
    const hostBusy = mixes[mixes.length - 1]!.cpu?.host_busy;
    const twoRps = median(twoNodes.map((m) => m.rps));
    const twoHostBusy = twoNodes[twoNodes.length - 1]!.cpu?.host_busy;
    const table = [
      `  api_rps: ${rps} requests/s (median of ${runs} runs of the mix; runs: ${mixes.map((m) => m.rps).join(', ')})`,
      `  api_p99_ms: ${p99} ms (p99 of each run: ${mixes.map((m) => m.p99).join(', ')}; p50 ${mixes.map((m) => m.p50).join(', ')})`,
      '  each route alone (requests/s, p50, p99):',
      ...Object.entries(perRoute).map(([name, r]) => `    ${name.padEnd(18)} ${String(r.rps).padStart(6)}/s  p50 ${r.p50} ms  p99 ${r.p99} ms${cpuText(r)}`),
      `  the mix's CPU per request:${cpuText(mixes[mixes.length - 1]!)}`,
      `  api_two_nodes_rps: ${twoRps} requests/s on two web nodes (runs: ${twoNodes.map((m) => m.rps).join(', ')}; p99 ${twoNodes.map((m) => m.p99).join(', ')} ms)`,
      `    CPU per request, both nodes:${cpuText(twoNodes[twoNodes.length - 1]!, 2)}`,
      '  plans (one request of each route, EXPLAIN ANALYZE of every statement it ran):',
      formatPlans(plans),
    ].join('\n');
    return {
      key: 'api_rps',
      title: `API read routes, ${CLIENTS} concurrent clients, ${pipelines} pipelines × 10 jobs × 100 builds, 5 resources × 100 versions (goal: 2,000 requests/s, p99 under 100 ms)`,
      value: rps,
      unit: 'requests/s',
      samples: mixes.map((m) => m.rps),
      table,
      extra: {
        api_p99_ms: p99,
        api_routes: Object.fromEntries(Object.entries(perRoute).map(([k, r]) => [k, { rps: r.rps, p50: r.p50, p99: r.p99 }])),
        // what limits the figure: CPU ms per request (web node, Postgres, the load generator) and the cores' ceiling at that cost
        api_cpu_ms_per_request: Object.fromEntries(Object.entries(perRoute).flatMap(([k, r]) => (r.cpu ? [[k, r.cpu]] : []))),
        // near 1: the web node's one thread is what limits the mix (several web nodes share the load)
        ...(busy !== undefined ? { api_web_core_busy: busy } : {}),
        // the share of the machine's cores busy during the mix: one node, then two
        ...(hostBusy !== undefined ? { api_host_busy: hostBusy } : {}),
        api_two_nodes_rps: twoRps,
        ...(twoHostBusy !== undefined ? { api_two_nodes_host_busy: twoHostBusy } : {}),
        api_statements_ms: Object.fromEntries(plans.map((p) => [p.path, Math.round(p.statements.reduce((a, s) => a + s.ms, 0) * 1000) / 1000])),
      },
    };
  } finally {
    await web.stop();
  }
}

