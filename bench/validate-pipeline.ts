// validate_ms: loading a generated 1,000-job pipeline whose `passed` are globs (10 stages of
// 100 jobs, each job passed by every job of the stage before: 90,000 pairs), YAML parse and
// validation as PUT …/config does them; save_ms: saving it (jobs, inputs, pairs) into Postgres.
// Goal (issue 16): validation under 1 s; it used to be minutes for 800 jobs passed by `j*`.
import { loadPipeline } from '../src/config/index.ts';
import { savePipeline } from '../src/db/pipelines.ts';
import { median, type BenchContext, type BenchResult } from './harness.ts';

const STAGES = 10;
const PER_STAGE = 100;

export function globPipeline(): string {
  let y = 'resources:\n- name: src\n  type: mock\n  source: {}\njobs:\n';
  for (let s = 0; s < STAGES; s++) {
    for (let i = 0; i < PER_STAGE; i++) {
      y += `- name: stage${s}-job${i}\n  plan:\n  - get: src\n${s > 0 ? `    passed: ["stage${s - 1}-*"]\n` : ''}`;
    }
  }
  return y;
}

export async function benchValidatePipeline(ctx: BenchContext): Promise<BenchResult> {
  const text = globPipeline();
  const runs = ctx.quick ? 3 : 7;
  ctx.progress(`loading a ${STAGES * PER_STAGE}-job pipeline with glob passed (${Math.round(text.length / 1024)} KB), ${runs} runs`);
  const samples: number[] = [];
  let config;
  for (let i = 0; i < runs + 1; i++) {
    const started = performance.now();
    const loaded = loadPipeline(text, {});
    const ms = performance.now() - started;
    if (!loaded.config || loaded.errors.length > 0) throw new Error(`the generated pipeline is invalid: ${loaded.errors.map((e) => e.message).join('; ')}`);
    config = loaded.config;
    if (i > 0) samples.push(ms); // the first run warms the JIT
  }
  const db = await ctx.freshDatabase();
  const saves: number[] = [];
  for (let i = 0; i < (ctx.quick ? 1 : 3); i++) {
    const started = performance.now();
    await savePipeline(db, { team: 'main', name: `glob${i}`, config: config! });
    saves.push(performance.now() - started);
  }
  return {
    key: 'validate_ms',
    title: `load and validate a ${STAGES * PER_STAGE}-job pipeline with glob passed (goal < 1000 ms)`,
    value: median(samples),
    unit: 'ms',
    samples,
    extra: { save_ms: median(saves) },
  };
}
