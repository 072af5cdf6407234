// Benchmark: input resolution at scale (issue "Scheduling" docs/concourse-semantics.md §6): 50 jobs in ten `passed` chains
// five jobs deep, 20 resources with 10,000 versions each, 200 succeeded builds per job. Measures
// computeInputs for the last job of a chain (the deepest passed constraint) on the real
// Postgres store.
import { PostgresVersionsStore } from '../src/db/algorithm-store.ts';
import type { Database } from '../src/db/database.ts';
import { jobInputConfigs, toAlgorithmInputs } from '../src/db/jobs.ts';
import { savePipeline } from '../src/db/pipelines.ts';
import { findOrCreateResourceConfig, findOrCreateScope, setResourceScope } from '../src/db/versions.ts';
import { loadPipeline } from '../src/config/index.ts';
import { computeInputs } from '../src/scheduler/algorithm/compute.ts';
import { groupMedians, percentile, type BenchContext, type BenchResult } from './harness.ts';

const CHAINS = 10;
const DEPTH = 5;
const RESOURCES = 20;
const VERSIONS = 10_000;
const BUILDS_PER_JOB = 200;

function pipelineYaml(): string {
  const resources = Array.from({ length: RESOURCES }, (_, r) => `- {name: r${r}, type: mock}`).join('\n');
  const jobs: string[] = [];
  for (let c = 0; c < CHAINS; c++) {
    for (let d = 0; d < DEPTH; d++) {
      const gets = [2 * c, 2 * c + 1]
        .map((r) => `  - get: r${r % RESOURCES}${d > 0 ? `\n    passed: [c${c}-j${d - 1}]` : ''}\n    trigger: true`)
        .join('\n');
      jobs.push(`- name: c${c}-j${d}\n  plan:\n${gets}`);
    }
  }
  return `resources:\n${resources}\njobs:\n${jobs.join('\n')}\n`;
}

const DIGEST = (expr: string): string => `encode(sha256(convert_to('{"v":"' || ${expr} || '"}', 'UTF8')), 'hex')`;

async function seed(db: Database): Promise<number> {
  const loaded = loadPipeline(pipelineYaml());
  if (!loaded.config) throw new Error('bench pipeline is invalid');
  const { pipelineId } = await savePipeline(db, { team: 'main', name: 'scale', config: loaded.config });
  const resources = (await db.query<{ id: number; name: string }>('SELECT id, name FROM resources WHERE pipeline_id = $1', [pipelineId])).rows;
  for (const r of resources) {
    const config = await findOrCreateResourceConfig(db, { baseType: 'mock' }, { name: r.name });
    const scope = await findOrCreateScope(db, config.id, r.id);
    await setResourceScope(db, r.id, scope);
    await db.query(
      `INSERT INTO resource_config_versions (resource_config_scope_id, version, version_sha256, check_order)
       SELECT $1, jsonb_build_object('v', $2 || '-' || i), ${DIGEST(`$2 || '-' || i`)}, i FROM generate_series(1, ${VERSIONS}) AS i`,
      [scope.id, r.name],
    );
  }
  // Build i of every job in chain c used (and passed on) version (VERSIONS - BUILDS_PER_JOB + i)
  // of both of the chain's resources; build_pipes link build i of job d to build i of job d-1.
  const jobs = (await db.query<{ id: number; name: string }>('SELECT id, name FROM jobs WHERE pipeline_id = $1', [pipelineId])).rows;
  const jobId = new Map(jobs.map((j) => [j.name, j.id]));
  const resourceId = new Map(resources.map((r) => [r.name, r.id]));
  for (let c = 0; c < CHAINS; c++) {
    const [ra, rb] = [`r${(2 * c) % RESOURCES}`, `r${(2 * c + 1) % RESOURCES}`];
    for (let d = 0; d < DEPTH; d++) {
      const job = jobId.get(`c${c}-j${d}`)!;
      const ids = (
        await db.query<{ id: number; i: number }>(
          `INSERT INTO builds (name, job_id, pipeline_id, team_id, status, completed, scheduled, inputs_ready)
           SELECT i::text, $1, $2, 1, 'succeeded', true, true, true FROM generate_series(1, ${BUILDS_PER_JOB}) AS i
           RETURNING id, name::int AS i`,
          [job, pipelineId],
        )
      ).rows;
      const version = (r: string, i: number): string => `${r}-${VERSIONS - BUILDS_PER_JOB + i}`;
      for (const { id, i } of ids) {
        const a = resourceId.get(ra)!;
        const b = resourceId.get(rb)!;
        await db.query(
          `INSERT INTO build_resource_config_version_inputs (build_id, resource_id, version_digest, name)
           VALUES ($1, $2, ${DIGEST('$4')}, $6), ($1, $3, ${DIGEST('$5')}, $7)`,
          [id, a, b, version(ra, i), version(rb, i), ra, rb],
        );
        await db.query(
          `INSERT INTO successful_build_outputs (build_id, job_id, outputs)
           VALUES ($1, $2, jsonb_build_object($3::text, jsonb_build_array(${DIGEST('$5')}), $4::text, jsonb_build_array(${DIGEST('$6')})))`,
          [id, job, String(a), String(b), version(ra, i), version(rb, i)],
        );
        if (d > 0) {
          await db.query(
            `INSERT INTO build_pipes (from_build_id, to_build_id)
             SELECT b.id, $1 FROM builds b WHERE b.job_id = $2 AND b.name = $3`,
            [id, jobId.get(`c${c}-j${d - 1}`)!, String(i)],
          );
        }
      }
    }
  }
  await db.query('ANALYZE');
  return jobId.get(`c0-j${DEPTH - 1}`)!;
}

export async function benchResolveInputs(ctx: BenchContext): Promise<BenchResult> {
  const db = await ctx.freshDatabase();
  ctx.progress(`seeding ${RESOURCES} resources x ${VERSIONS} versions, ${CHAINS * DEPTH} jobs x ${BUILDS_PER_JOB} builds`);
  const jobId = await seed(db);
  const inputs = toAlgorithmInputs(await jobInputConfigs(db, jobId));
  const store = new PostgresVersionsStore(db);
  const samples: number[] = [];
  const runs = ctx.quick ? 10 : 50;
  for (let i = 0; i < runs + 3; i++) {
    const started = performance.now();
    const result = await computeInputs(store, jobId, inputs);
    const ms = performance.now() - started;
    if (!result.ok) throw new Error(`resolution failed: ${JSON.stringify(result.mapping)}`);
    if (i >= 3) samples.push(ms); // the first runs warm caches and plans
  }
  return {
    key: 'resolve_inputs_ms',
    title: 'resolve one job’s inputs (passed chain 5 deep, 10,000 versions per resource)',
    value: { p50: percentile(samples, 50), p99: percentile(samples, 99), runs: samples.length },
    unit: 'ms',
    // noise: the p50 of each of 5 consecutive groups of runs
    samples: groupMedians(samples, 5),
  };
}
