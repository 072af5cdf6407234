// The put step: run the type's `out` with the build's artifacts, record the version it created
// (the implicit get that follows fetches it through `version_from`).
import type { PlanId, PutPlan } from '../../model/plan.ts';
import type { Version } from '../../model/version.ts';
import { buildEvent, unixNow } from '../../model/build-events.ts';
import type { MetadataField } from '../../model/version.ts';
import type { StepContext } from '../exec.ts';
import type { Artifact } from '../../model/artifact.ts';
import { buildEnv, stepMetadata, versionResponse, type StepDeps } from './deps.ts';
import type { ImageResolver } from '../image/index.ts';
import { containerGone, resourceContainer, runResourceScript, withoutImageEvents } from './resource-script.ts';

/**
 * Which artifacts a put receives: `all`, a list, or `detect` (the default): the artifacts whose
 * names start a path-like string anywhere in the params (`repo/file` or `repo`).
 */
export function putInputs(inputs: PutPlan['inputs'], params: unknown, available: string[]): string[] {
  if (inputs === 'all') return available;
  if (Array.isArray(inputs)) return inputs;
  const found = new Set<string>();
  const visit = (v: unknown): void => {
    if (typeof v === 'string') {
      const first = v.split('/')[0] ?? '';
      if (available.includes(first)) found.add(first);
    } else if (Array.isArray(v)) v.forEach(visit);
    else if (v && typeof v === 'object') Object.values(v).forEach(visit);
  };
  visit(params);
  return available.filter((name) => found.has(name));
}

async function pipelineResourceId(deps: StepDeps, name: string): Promise<number | undefined> {
  if (deps.build.pipelineId === undefined) return undefined;
  return deps.store.resourceId(deps.build.pipelineId, name);
}

export async function runPut(id: PlanId, plan: PutPlan, ctx: StepContext, deps: StepDeps, images: ImageResolver): Promise<boolean> {
  // re-attaching (journal.ts): the step's first events and its pod exist already, its script
  // was started (or is started here, once): never a second push
  const reattach = ctx.reattach === true;
  if (!reattach) await ctx.emit(buildEvent('initialize-put', { time: unixNow(), origin: { id } }));
  const source = (await deps.interpolator.evaluate(plan.source, ctx.state)) as Record<string, unknown>;
  const params = ((await deps.interpolator.evaluate(plan.params, ctx.state)) ?? {}) as Record<string, unknown>;
  const image = await images.fetchImage(id, plan.image, reattach ? withoutImageEvents(ctx) : ctx);

  const names = putInputs(plan.inputs, params, ctx.state.artifactNames());
  const inputs: { name: string; path: string; artifact: Artifact }[] = [];
  for (const name of names) {
    const artifact = ctx.state.artifact(name);
    if (!artifact) throw new Error(`put '${plan.name}': unknown input '${name}'`);
    inputs.push({ name, path: `put/${name}`, artifact });
  }

  if (!reattach) await ctx.emit(buildEvent('start-put', { time: unixNow(), origin: { id } }));
  const env = { ...image.env, ...buildEnv(deps) };
  if (plan.expose_build_created_by && deps.build.createdBy) env.BUILD_CREATED_BY = deps.build.createdBy;
  const container = await resourceContainer(
    {
      metadata: stepMetadata(deps, 'put', plan.name, id, ctx),
      image: image.image,
      privileged: image.privileged,
      inputs,
      outputs: [{ name: 'put', path: 'put' }],
      env,
    },
    ctx,
    deps,
  );
  if (!container) throw containerGone(`put '${plan.name}'`);
  try {
    if (!reattach) await ctx.emit(buildEvent('selected-worker', { time: unixNow(), origin: { id }, selected_worker: deps.runtime.name }));
    const outcome = await runResourceScript<{ version?: Version; metadata?: MetadataField[] }>(
      container,
      'out',
      { source, params },
      ctx,
      deps,
      id,
      [`${container.workDir}/put`],
    );
    if (!outcome.ok) {
      await ctx.emit(buildEvent('finish-put', { time: unixNow(), origin: { id }, exit_status: outcome.exitStatus }));
      return false;
    }
    const { version, metadata } = versionResponse('out', outcome.response);
    const resourceId = await pipelineResourceId(deps, plan.resource);
    if (resourceId !== undefined) {
      // The put's config may never have been checked: its version goes into that config's scope,
      // which the resource now points at (docs/concourse-semantics.md §2, "A put saves its output version").
      const scope = await deps.store.findOrCreateScope(image.parent, source, resourceId);
      await deps.store.setResourceScope(resourceId, scope);
      await deps.store.saveBuildOutput(deps.build.id, { resourceId, scopeId: scope.id, name: plan.name, version, metadata });
    }
    ctx.state.storeResult(id, { version });
    await ctx.emit(buildEvent('finish-put', { time: unixNow(), origin: { id }, exit_status: 0, version, metadata }));
    return true;
  } finally {
    await container.destroy();
  }
}
