// set_pipeline: a build sets a pipeline (itself with `self`) from a file in an artifact. The
// pipeline is created unpaused, remembers which job and build set it, and a build may not
// overwrite what a newer build of the same job set.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { loadPipeline, formatDiagnostic } from '../../config/index.ts';
import type { PlanId, SetPipelinePlan } from '../../model/plan.ts';
import { buildEvent, unixNow } from '../../model/build-events.ts';
import type { StepContext } from '../exec.ts';
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
  const saved = await deps.store.setPipelineFromBuild({
    team,
    name,
    instanceVars,
    config: loaded.config,
    buildId: deps.build.id,
    jobId: deps.build.jobId ?? null,
  });
  if ('setByNewerBuild' in saved) throw new Error(`pipeline '${name}' was set by a newer build (${saved.setByNewerBuild}) of this job`);
  const changed = saved.changed;
  log(changed ? `pipeline '${name}' configured\n` : `pipeline '${name}' unchanged\n`);
  await ctx.emit(buildEvent('set-pipeline-changed', { origin: { id }, changed }));
  await ctx.emit(buildEvent('finish', { time: unixNow(), origin: { id }, succeeded: true }));
  return true;
}
