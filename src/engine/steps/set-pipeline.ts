// set_pipeline: a build sets a pipeline (itself with `self`) from a file in an artifact. The
// pipeline is created unpaused, remembers which job and build set it, and a build may not
// overwrite what a newer build of the same job set.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { loadPipeline, formatDiagnostic } from '../../config/index.ts';
import { getPipelineConfig, savePipeline, unpausePipeline } from '../../db/pipelines.ts';
import type { PlanId, SetPipelinePlan } from '../../model/plan.ts';
import { buildEvent, unixNow } from '../../model/build-events.ts';
import type { StepContext } from '../exec.ts';
import { canonicalJson } from '../../model/version.ts';
import { logWriter, type StepDeps } from './deps.ts';

async function artifactFile(path: string, ctx: StepContext): Promise<string> {
  const [artifactName = '', ...rest] = path.split('/');
  const artifact = ctx.state.artifact(artifactName);
  if (!artifact || artifact.kind !== 'volume') throw new Error(`unknown artifact '${artifactName}' in '${path}'`);
  return readFile(join(artifact.path, ...rest), 'utf8');
}

export async function runSetPipeline(id: PlanId, plan: SetPipelinePlan, ctx: StepContext, deps: StepDeps): Promise<boolean> {
  await ctx.emit(buildEvent('initialize', { time: unixNow(), origin: { id } }));
  await ctx.emit(buildEvent('start', { time: unixNow(), origin: { id } }));
  const name = plan.name === 'self' ? deps.build.pipelineName : plan.name;
  if (!name) throw new Error('set_pipeline: self only works inside a pipeline');
  const team = plan.team ?? deps.build.teamName;

  const vars: Record<string, unknown> = {};
  for (const file of plan.var_files ?? []) Object.assign(vars, parseYaml(await artifactFile(file, ctx)) as Record<string, unknown>);
  Object.assign(vars, await deps.interpolator.evaluate(plan.vars ?? {}, ctx.state));
  const text = await artifactFile(plan.file, ctx);
  const loaded = loadPipeline(text, { file: plan.file, vars });
  const log = logWriter(ctx, deps, id, 'stdout');
  for (const w of loaded.warnings) log(`WARNING: ${formatDiagnostic(w)}\n`);
  if (!loaded.config) {
    throw new Error(`invalid pipeline ${plan.file}:\n${loaded.errors.map(formatDiagnostic).join('\n')}`);
  }
  const instanceVars = (plan.instance_vars as Record<string, unknown> | undefined) ?? null;
  const ref = { team, name, instanceVars };

  const changed = await deps.db.transaction(async (tx) => {
    const existing = await getPipelineConfig(tx, ref);
    if (existing && deps.build.jobId !== undefined) {
      const setter = await tx.query<{ parent_job_id: number | null; parent_build_id: number | null }>(
        'SELECT parent_job_id, parent_build_id FROM pipelines WHERE id = $1 FOR UPDATE',
        [existing.pipelineId],
      );
      const row = setter.rows[0];
      if (row?.parent_job_id === deps.build.jobId && row.parent_build_id !== null && row.parent_build_id > deps.build.id) {
        throw new Error(`pipeline '${name}' was set by a newer build (${row.parent_build_id}) of this job`);
      }
    }
    const differs = !existing || canonicalJson(existing.config) !== canonicalJson(loaded.config);
    const saved = await savePipeline(tx, { ...ref, config: loaded.config! });
    await tx.query('UPDATE pipelines SET parent_job_id = $2, parent_build_id = $3 WHERE id = $1', [
      saved.pipelineId,
      deps.build.jobId ?? null,
      deps.build.id,
    ]);
    // Pipelines set by a build are not paused (unlike ones set through the API).
    if (saved.created) await unpausePipeline(tx, ref);
    return differs;
  });
  log(changed ? `pipeline '${name}' configured\n` : `pipeline '${name}' unchanged\n`);
  await ctx.emit(buildEvent('set-pipeline-changed', { origin: { id }, changed }));
  await ctx.emit(buildEvent('finish', { time: unixNow(), origin: { id }, succeeded: true }));
  return true;
}
