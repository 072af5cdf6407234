// The native image paths (specs k8s-native-image-fetch, skip-image-get-k8s; decisions 1-7, 11,
// 12). On a runtime that runs images, a container image is a string the kubelet pulls, so
// Jetway never spends a pod or a download to learn it:
//  - a check of a `registry-image` resource or type runs from the web node (one manifest
//    request with the source's credentials) and saves into the same version history;
//  - an image (custom type, task image_resource) of a registry-image type, or of a type that
//    declares `produces: registry-image`, is its checked version's `repository@digest`: the
//    check runs as usual (skipped while fresh; natively for registry-image), the get never;
//  - a get of such a resource records the version and registers an image-reference artifact,
//    unless `fetch_artifact: true`.
// Every short cut still writes the resource cache and the build's image record, and emits the
// step's events marked as resolved without a pod.
import { builtinResourceTypes } from '../../resources/index.ts';
import { makeContext } from '../../resources/protocol.ts';
import type { Version } from '../../model/version.ts';
import { podImageReference } from '../../images/reference.ts';
import type { ResourceConfigParent } from '../../model/resource-config.ts';
import type { GetPlan, PlanId, TypeImage } from '../../model/plan.ts';
import { buildEvent, unixNow } from '../../model/build-events.ts';
import type { MetadataField } from '../../model/version.ts';
import type { StepContext } from '../exec.ts';
import { logWriter, type StepDeps } from './deps.ts';
import { resourceParams } from './params.ts';
import { pullCredentialsOf, resolveTypeImage, type GetResult, type ResolvedImage, type RunPlan } from './image.ts';

export const REGISTRY_IMAGE = 'registry-image';

/** Whether resources of `type` are registry images: the base type, or a type that produces them. */
export function producesRegistryImages(type: string, image: TypeImage, deps: StepDeps): boolean {
  if (type === REGISTRY_IMAGE && !image.get_plan) return true;
  return deps.resourceTypes.some((t) => t.name === type && t.produces === REGISTRY_IMAGE);
}

/** A check that runs natively: a registry-image check (decision 12), on a runtime that runs images. */
export function checksNatively(type: string, image: TypeImage, deps: StepDeps): boolean {
  return deps.nativeImages && type === REGISTRY_IMAGE && !image.get_plan;
}

/** Runs registry-image's `check` in the web node: one registry request for a tag, no container. */
export async function nativeCheck(id: PlanId, source: Record<string, unknown>, from: Version | undefined, ctx: StepContext, deps: StepDeps): Promise<Version[]> {
  const impl = builtinResourceTypes[REGISTRY_IMAGE];
  if (!impl) throw new Error('the registry-image resource type is not built in');
  const stderr = logWriter(ctx, deps, id, 'stderr');
  return impl.check(
    { source: source as Parameters<typeof impl.check>[0]['source'], ...(from ? { version: from } : {}) },
    makeContext({ stderr: { write: (chunk: string) => stderr(chunk) }, signal: ctx.signal }),
  );
}

function referenceFor(source: Record<string, unknown>, version: Version): string {
  const repository = source.repository;
  if (typeof repository !== 'string') throw new Error('the image source has no repository');
  if (!version.digest) throw new Error(`the image version ${JSON.stringify(version)} has no digest`);
  return podImageReference({ repository, digest: version.digest });
}

/** The resource config parent of a get/check of `type`: the base type, or its type's image. */
async function parentOf(id: PlanId, type: string, image: TypeImage, ctx: StepContext, deps: StepDeps, runPlan: RunPlan): Promise<ResourceConfigParent> {
  if (!image.get_plan) return { baseType: image.base_type ?? type };
  return (await resolveTypeImage(id, image, ctx, deps, runPlan)).parent;
}

/**
 * Records a get that needed no pod: the resource cache (chain intact), the events (marked), and
 * an image-reference artifact. Returns the get's result.
 */
export async function shortCircuitGet(
  id: PlanId,
  plan: GetPlan,
  version: Version,
  source: Record<string, unknown>,
  ctx: StepContext,
  deps: StepDeps,
  runPlan: RunPlan,
  knownMetadata: MetadataField[] = [],
): Promise<GetResult> {
  await ctx.emit(buildEvent('initialize-get', { time: unixNow(), origin: { id }, resolved_without_pod: true }));
  const parent = await parentOf(id, plan.type, plan.image, ctx, deps, runPlan);
  const config = await deps.store.findOrCreateResourceConfig(parent, source);
  const cache = await deps.store.findOrCreateResourceCache(config.id, version, resourceParams(plan.params as Record<string, unknown> | undefined));
  const reference = referenceFor(source, version);
  const credentials = pullCredentialsOf(source);
  const result: GetResult = {
    version,
    metadata: knownMetadata,
    resourceCacheId: cache.id,
    artifact: { kind: 'image-ref', reference, digest: version.digest ?? '' },
    ...(credentials ? { pullCredentials: credentials } : {}),
  };
  await ctx.emit(
    buildEvent('finish-get', { time: unixNow(), origin: { id }, exit_status: 0, version, metadata: knownMetadata, resolved_without_pod: true }),
  );
  return result;
}

/**
 * An image of a registry-image type (or a type that produces registry images), resolved without
 * a get: the check sub-plan runs (it skips itself while the history is fresh, and runs natively
 * for registry-image), then the reference is the checked version's repository@digest.
 */
export async function resolveImageNatively(typeImage: TypeImage, ctx: StepContext, deps: StepDeps, runPlan: RunPlan): Promise<ResolvedImage | undefined> {
  const getPlan = typeImage.get_plan;
  if (!deps.nativeImages || !getPlan || !('get' in getPlan)) return undefined;
  const get = getPlan.get;
  if (!producesRegistryImages(get.type, get.image, deps)) return undefined;
  const imageCtx: StepContext = { ...ctx, state: ctx.state.child(), purpose: 'image' };
  let version = get.version;
  if (!version) {
    if (!typeImage.check_plan || !(await runPlan(typeImage.check_plan, imageCtx))) throw new Error('image check failed');
    version = imageCtx.state.result<{ version: Version }>(typeImage.check_plan.id)?.version;
  }
  if (!version) throw new Error(`no version of the image ${get.name} was found`);
  const source = (await deps.interpolator.evaluate(get.source, ctx.state)) as Record<string, unknown>;
  const result = await shortCircuitGet(getPlan.id, get, version, source, imageCtx, deps, runPlan);
  await deps.recorder.saveImageResourceCache(result.resourceCacheId);
  const reference = result.artifact.kind === 'image-ref' ? result.artifact.reference : '';
  return {
    image: { kind: 'reference', reference, ...(result.pullCredentials ? { pullCredentials: result.pullCredentials } : {}) },
    parent: { resourceCacheId: result.resourceCacheId },
    privileged: typeImage.privileged === true,
    resourceCacheId: result.resourceCacheId,
    version,
  };
}

/** What is known about a version of a pipeline resource (its metadata), so a short cut keeps it. */
export async function knownMetadata(deps: StepDeps, resource: string | undefined, version: Version): Promise<MetadataField[]> {
  if (!resource || deps.build.pipelineId === undefined) return [];
  return deps.store.versionMetadata(deps.build.pipelineId, resource, version);
}
