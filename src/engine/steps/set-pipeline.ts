// set_pipeline: a build sets a pipeline (itself with `self`) from a file in an artifact. The
// pipeline is created unpaused, remembers which job and build set it, and a build may not
// overwrite what a newer build of the same job set. A build sets pipelines of its own team; only
// a build of team main may name another (Concourse's atc/exec/set_pipeline_step.go;
// docs/security.md "Builds").
import { parse as parseYaml } from 'yaml';
import { formatDiagnostic } from '../../config/index.ts';
import { diffLines, formatDiff } from '../../config/diff.ts';
import { stringifyPipeline } from '../../config/format.ts';
import type { PipelineConfig } from '../../config/schema.ts';
import { pipelineLoader } from '../../config/off-thread.ts';
import type { PlanId, SetPipelinePlan } from '../../model/plan.ts';
import { buildEvent, unixNow } from '../../model/build-events.ts';
import type { StepContext } from '../exec.ts';
import { readArtifactFile } from '../artifact-files.ts';
import { logWriter, type StepDeps } from './deps.ts';

/** The team whose builds may set other teams' pipelines (Concourse's admin team; it cannot be renamed). */
export const MAIN_TEAM = 'main';

/**
 * The team a set_pipeline step saves into: the build's own for `self` and for an absent or empty
 * `team:`; another team only from a build of team main. Refused before any file is read, and
 * before the target team is looked up, so that a refusal does not tell which teams exist.
 */
export function targetTeam(step: string, plan: SetPipelinePlan, buildTeam: string): string {
  if (plan.name === 'self' || plan.team === undefined || plan.team === '') return buildTeam;
  if (plan.team !== buildTeam && buildTeam !== MAIN_TEAM) {
    throw new Error(`${step}: only ${MAIN_TEAM} team can set another team's pipeline (this build is of team '${buildTeam}')`);
  }
  return plan.team;
}

/** The web node's bound on the diff's table (4 bytes a cell): a bigger change is listed whole. */
const STEP_DIFF_MAX_CELLS = 4_000_000;

/** What a set_pipeline step shows before saving: the config's changed lines, or all of a new one's. */
export function setPipelineDiff(previous: PipelineConfig | null, next: PipelineConfig): string {
  return formatDiff(diffLines(previous ? stringifyPipeline(previous) : '', stringifyPipeline(next), STEP_DIFF_MAX_CELLS));
}

export async function runSetPipeline(id: PlanId, plan: SetPipelinePlan, ctx: StepContext, deps: StepDeps): Promise<boolean> {
  await ctx.emit(buildEvent('initialize', { time: unixNow(), origin: { id } }));
  await ctx.emit(buildEvent('start', { time: unixNow(), origin: { id } }));
  const name = plan.name === 'self' ? deps.build.pipelineName : plan.name;
  if (!name) throw new Error('set_pipeline: self only works inside a pipeline');
  const step = `set_pipeline '${name}'`;
  const team = targetTeam(step, plan, deps.build.teamName);

  // files inside their artifact only, and bounded (src/engine/artifact-files.ts)
  const artifactFile = (path: string): Promise<string> => readArtifactFile({ step, path, artifact: (a) => ctx.state.artifact(a) });
  const vars: Record<string, unknown> = {};
  for (const file of plan.var_files ?? []) Object.assign(vars, parseYaml(await artifactFile(file)) as Record<string, unknown>);
  Object.assign(vars, await deps.interpolator.evaluate(plan.vars ?? {}, ctx.state));
  const text = await artifactFile(plan.file);
  // in a worker thread: a 10 MiB file must not hold the web node's event loop (src/config/off-thread.ts)
  const loaded = await pipelineLoader.load(text, { file: plan.file, vars });
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
  if ('teamNotFound' in saved) throw new Error(`${step}: team '${team}' not found`);
  if ('setByNewerBuild' in saved) throw new Error(`pipeline '${name}' was set by a newer build (${saved.setByNewerBuild}) of this job`);
  const changed = saved.changed;
  // what Concourse's set_pipeline step writes (atc/exec/set_pipeline_step.go): what changed, then
  // `setting pipeline: NAME` and `done`; the diff is the one `jetway set-pipeline` shows
  if (changed) log(`${setPipelineDiff(saved.previous, loaded.config)}setting pipeline: ${pipelineRefText(name, instanceVars)}\ndone\n`);
  else log('no changes to apply.\n');
  await ctx.emit(buildEvent('set-pipeline-changed', { origin: { id }, changed }));
  await ctx.emit(buildEvent('finish', { time: unixNow(), origin: { id }, succeeded: true }));
  return true;
}

/** A pipeline as Concourse's PipelineRef prints it: the name, then `/key:value,…` for an instance. */
export function pipelineRefText(name: string, instanceVars: Record<string, unknown> | null): string {
  const entries = Object.entries(instanceVars ?? {});
  if (entries.length === 0) return name;
  return `${name}/${entries.map(([k, v]) => `${k}:${typeof v === 'string' ? v : JSON.stringify(v)}`).join(',')}`;
}
