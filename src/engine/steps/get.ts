// The get step: fetch one version of a resource into an artifact by running the type's `in`.
// The version comes from the build's inputs (the scheduler) or from the step it follows
// (`version_from`: a check of an image, or a put's implicit get).
import type { GetPlan, PlanId } from '../../model/plan.ts';
import { buildEvent, unixNow } from '../../model/build-events.ts';
import type { MetadataField, Version } from '../../model/version.ts';
import type { StepContext } from '../exec.ts';
import { pullCredentialsOf, type ImageResolver } from '../image/index.ts';
import type { GetResult } from '../results.ts';
import { buildEnv, emitError, stepMetadata, versionResponse, type StepDeps } from './deps.ts';
import { containerGone, resourceContainer, runResourceScript, withoutImageEvents } from './resource-script.ts';
import { fetchesArtifact, resourceParams } from './params.ts';

export { resourceParams };

export async function runGet(id: PlanId, plan: GetPlan, ctx: StepContext, deps: StepDeps, images: ImageResolver): Promise<boolean> {
  const version = plan.version ?? versionFrom(plan.version_from, ctx);
  const rawParams = (await deps.interpolator.evaluate(plan.params, ctx.state)) as Record<string, unknown> | undefined;
  const byReference = version && !fetchesArtifactOf(plan, rawParams) ? images.referenceGet(plan.type, plan.image) : undefined;
  if (version && byReference) {
    // An image resource on a runtime that boots images: downstream steps need its reference, not its layers.
    const source = (await deps.interpolator.evaluate(plan.source, ctx.state)) as Record<string, unknown>;
    const result = await byReference(id, plan, version, source, ctx, await knownMetadata(deps, plan.resource, version));
    ctx.state.storeResult(id, result);
    ctx.state.registerArtifact(plan.name, result.artifact);
    ctx.state.setLocalVar(plan.name, Object.fromEntries(result.metadata.map((m) => [m.name, m.value])));
    return true;
  }
  // re-attaching (journal.ts): the step's first events and its pod exist already
  const reattach = ctx.reattach === true;
  if (!reattach) await ctx.emit(buildEvent('initialize-get', { time: unixNow(), origin: { id } }));
  if (!version) {
    await emitError(ctx, id, plan.version_from ? 'no version to fetch: the step it follows produced none' : `no version for '${plan.name}'`);
    return false;
  }
  const source = (await deps.interpolator.evaluate(plan.source, ctx.state)) as Record<string, unknown>;
  const params = resourceParams(rawParams);
  const image = await images.fetchImage(id, plan.image, reattach ? withoutImageEvents(ctx) : ctx);

  const cache = await deps.store.findOrCreateResourceCache(image.parent, source, version, params);
  // resource cache reuse (Concourse's): this version, source and params were fetched before
  const cached = await deps.runtime.cachedResource?.(cache.id);
  if (cached) {
    const credentials = pullCredentialsOf(source);
    const result: GetResult = { version: cached.version, metadata: cached.metadata, resourceCacheId: cache.id, artifact: cached.artifact, ...(credentials ? { pullCredentials: credentials } : {}) };
    ctx.state.storeResult(id, result);
    ctx.state.registerArtifact(plan.name, cached.artifact);
    ctx.state.setLocalVar(plan.name, Object.fromEntries(cached.metadata.map((m) => [m.name, m.value])));
    await saveMetadata(deps, plan.resource, cached.version, cached.metadata);
    await ctx.emit(buildEvent('finish-get', { time: unixNow(), origin: { id }, exit_status: 0, version: cached.version, metadata: cached.metadata }));
    return true;
  }

  if (!reattach) await ctx.emit(buildEvent('start-get', { time: unixNow(), origin: { id } }));
  const container = await resourceContainer(
    {
      metadata: stepMetadata(deps, 'get', plan.name, id, ctx),
      image: image.image,
      privileged: image.privileged,
      inputs: [],
      outputs: [{ name: plan.name, path: 'get' }],
      env: { ...image.env, ...buildEnv(deps) },
    },
    ctx,
    deps,
  );
  if (!container) throw containerGone(`get '${plan.name}'`);
  try {
    if (!reattach) await ctx.emit(buildEvent('selected-worker', { time: unixNow(), origin: { id }, selected_worker: deps.runtime.name }));
    const outcome = await runResourceScript<{ version?: Version; metadata?: MetadataField[] }>(
      container,
      'in',
      { source, version, params },
      ctx,
      deps,
      id,
      [`${container.workDir}/get`],
    );
    if (!outcome.ok) {
      await ctx.emit(buildEvent('finish-get', { time: unixNow(), origin: { id }, exit_status: outcome.exitStatus }));
      return false;
    }
    const { version: fetched, metadata } = versionResponse('in', outcome.response);
    const fetchedArtifact = await container.artifact('get');
    const artifact = deps.runtime.keepResourceCache ? await deps.runtime.keepResourceCache(cache.id, fetchedArtifact, { version: fetched, metadata }) : fetchedArtifact;
    const credentials = pullCredentialsOf(source);
    const result: GetResult = { version: fetched, metadata, resourceCacheId: cache.id, artifact, ...(credentials ? { pullCredentials: credentials } : {}) };
    ctx.state.storeResult(id, result);
    ctx.state.registerArtifact(plan.name, artifact);
    // `((.:<get name>))`: the version's metadata as a map
    ctx.state.setLocalVar(plan.name, Object.fromEntries(metadata.map((m) => [m.name, m.value])));
    await saveMetadata(deps, plan.resource, fetched, metadata);
    await ctx.emit(buildEvent('finish-get', { time: unixNow(), origin: { id }, exit_status: 0, version: fetched, metadata }));
    return true;
  } finally {
    await container.destroy();
  }
}

/** `fetch_artifact` of a get, checked once interpolated (docs/image-features.md, decision 5); a bad value errors the step, which it names. */
function fetchesArtifactOf(plan: GetPlan, params: Record<string, unknown> | undefined): boolean {
  try {
    return fetchesArtifact(params);
  } catch (err) {
    throw new Error(`get '${plan.name}': ${err instanceof Error ? err.message : String(err)}`);
  }
}

/** What is known about a version of a pipeline resource (its metadata), so a get by reference keeps it (docs/image-features.md, decision 7). */
async function knownMetadata(deps: StepDeps, resource: string | undefined, version: Version): Promise<MetadataField[]> {
  if (!resource || deps.build.pipelineId === undefined) return [];
  return deps.store.versionMetadata(deps.build.pipelineId, resource, version);
}

/**
 * What `in` said of a pipeline resource's version goes onto the version in its history, as
 * Concourse's get delegate does (`UpdateResourceVersion`), so the resource page shows metadata
 * for every version a get fetched, not only a put's. `in` saying nothing keeps what a check or a
 * put saved.
 */
async function saveMetadata(deps: StepDeps, resource: string | undefined, version: Version, metadata: readonly MetadataField[]): Promise<void> {
  if (!resource || deps.build.pipelineId === undefined || metadata.length === 0) return;
  await deps.store.saveVersionMetadata(deps.build.pipelineId, resource, version, metadata);
}

function versionFrom(planId: PlanId | undefined, ctx: StepContext): Version | undefined {
  if (!planId) return undefined;
  const result = ctx.state.result<unknown>(planId);
  if (result && typeof result === 'object' && 'version' in result) return (result as { version: Version }).version;
  if (result && typeof result === 'object') return result as Version;
  return undefined;
}
