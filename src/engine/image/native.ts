// The native image paths (docs/image-features.md: k8s-native-image-fetch, skip-image-get-k8s;
// decisions 1-7, 10-12), for a runtime that boots images by reference. A container image is then
// a string the kubelet pulls, so Jetway never spends a container or a download to learn it:
//  - a check of a `registry-image` resource or type runs in the web node (one manifest request
//    with the source's credentials) and saves into the same version history;
//  - an image (custom type, task image_resource) of a registry-image type, or of a type that
//    declares `produces: registry-image`, is its checked version's `repository@digest`: the
//    check runs as usual (skipped while fresh; in the web node for registry-image), the get never;
//  - a get of such a resource records the version and registers an image-reference artifact,
//    unless `fetch_artifact: true` (the get step decides that).
// Every short cut still writes the resource cache and the build's image record, and emits the
// step's events marked as resolved without a pod. Anything else goes through containers.
import { builtinResourceTypes } from '../../resources/index.ts';
import { makeContext } from '../../resources/protocol.ts';
import { podImageReference } from '../../images/reference.ts';
import type { GetPlan, PlanId, TypeImage } from '../../model/plan.ts';
import { buildEvent, unixNow } from '../../model/build-events.ts';
import type { MetadataField, Version } from '../../model/version.ts';
import type { StepContext } from '../exec.ts';
import type { GetResult } from '../results.ts';
import { logWriter } from '../steps/deps.ts';
import { resourceParams } from '../steps/params.ts';
import { ContainerImageResolver } from './containers.ts';
import { pullCredentialsOf } from './reference.ts';
import type { ReferenceGet, ResolvedImage, WebNodeCheck } from './resolver.ts';

export const REGISTRY_IMAGE = 'registry-image';

export class NativeImageResolver extends ContainerImageResolver {
  override webNodeCheck(type: string, image: TypeImage): WebNodeCheck | undefined {
    if (type !== REGISTRY_IMAGE || image.get_plan) return undefined;
    return (id, source, from, ctx) => this.registryImageCheck(id, source, from, ctx);
  }

  override referenceGet(type: string, image: TypeImage): ReferenceGet | undefined {
    if (!this.producesRegistryImages(type, image)) return undefined;
    return (id, plan, version, source, ctx, knownMetadata) => this.recordGet(id, plan, version, source, ctx, knownMetadata, false);
  }

  /** Whether resources of `type` are registry images: the base type, or a type that produces them. */
  private producesRegistryImages(type: string, image: TypeImage): boolean {
    if (type === REGISTRY_IMAGE && !image.get_plan) return true;
    return this.deps.resourceTypes.some((t) => t.name === type && t.produces === REGISTRY_IMAGE);
  }

  /** Runs registry-image's `check` in the web node: one registry request for a tag, no container. */
  private registryImageCheck(id: PlanId, source: Record<string, unknown>, from: Version | undefined, ctx: StepContext): Promise<Version[]> {
    const impl = builtinResourceTypes[REGISTRY_IMAGE];
    if (!impl) throw new Error('the registry-image resource type is not built in');
    const stderr = logWriter(ctx, this.deps, id, 'stderr');
    return impl.check(
      { source: source as Parameters<typeof impl.check>[0]['source'], ...(from ? { version: from } : {}) },
      makeContext({ stderr: { write: (chunk: string) => stderr(chunk) }, signal: ctx.signal }),
    );
  }

  /**
   * Records a get that needed no container: the resource cache (chain intact), the events
   * (marked), and an image-reference artifact.
   */
  private async recordGet(
    id: PlanId,
    plan: GetPlan,
    version: Version,
    source: Record<string, unknown>,
    ctx: StepContext,
    knownMetadata: MetadataField[],
    /** the build's own image: recorded as one it used (saveImageResourceCache) with the cache */
    image: boolean,
  ): Promise<GetResult> {
    await ctx.emit(buildEvent('initialize-get', { time: unixNow(), origin: { id }, resolved_without_pod: true }));
    const parent = plan.image.get_plan ? (await this.fetchImage(id, plan.image, ctx)).parent : { baseType: plan.image.base_type ?? plan.type };
    // the params as the get's `in` would receive them, so both paths land in the same cache
    const params = (await this.deps.interpolator.evaluate(plan.params, ctx.state)) as Record<string, unknown> | undefined;
    const imageOf = image ? { buildId: this.deps.build.id, jobId: this.deps.build.jobId ?? null } : undefined;
    const cache = await this.deps.store.findOrCreateResourceCache(parent, source, version, resourceParams(params), imageOf);
    const reference = referenceFor(plan, source, version);
    if (!version.digest) {
      // docs/image-features.md, decision 9: a version without a digest falls back to the tag, which may move
      logWriter(ctx, this.deps, id, 'stderr')(
        `the version ${JSON.stringify(version)} of ${subjectOf(plan)} has no digest: using ${reference}, a mutable reference (the image behind it may change between pulls)\n`,
      );
    }
    const credentials = pullCredentialsOf(source);
    const result: GetResult = {
      version,
      metadata: knownMetadata,
      resourceCacheId: cache.id,
      artifact: { kind: 'image-ref', reference, digest: version.digest ?? '' },
      ...(credentials ? { pullCredentials: credentials } : {}),
    };
    await ctx.emit(buildEvent('finish-get', { time: unixNow(), origin: { id }, exit_status: 0, version, metadata: knownMetadata, resolved_without_pod: true }));
    return result;
  }

  /**
   * An image of a registry-image type (or a type that produces registry images), known without
   * a get: the check sub-plan runs (it skips itself while the history is fresh), then the
   * reference is the checked version's repository@digest.
   */
  protected override async resolveWithoutSteps(typeImage: TypeImage, ctx: StepContext): Promise<ResolvedImage | undefined> {
    const getPlan = typeImage.get_plan;
    if (!getPlan || !('get' in getPlan)) return undefined;
    const get = getPlan.get;
    if (!this.producesRegistryImages(get.type, get.image)) return undefined;
    const imageCtx: StepContext = { ...ctx, state: ctx.state.child(), purpose: 'image' };
    let version = get.version;
    if (!version) {
      if (!typeImage.check_plan || !(await this.runPlan(typeImage.check_plan, imageCtx))) throw new Error('image check failed');
      version = imageCtx.state.result<{ version: Version }>(typeImage.check_plan.id)?.version;
    }
    if (!version) throw new Error(`no version of the image ${get.name} was found`);
    const source = (await this.deps.interpolator.evaluate(get.source, ctx.state)) as Record<string, unknown>;
    const result = await this.recordGet(getPlan.id, get, version, source, imageCtx, [], true);
    const reference = result.artifact.kind === 'image-ref' ? result.artifact.reference : '';
    return {
      image: { kind: 'reference', reference, ...(result.pullCredentials ? { pullCredentials: result.pullCredentials } : {}) },
      parent: { resourceCacheId: result.resourceCacheId },
      privileged: typeImage.privileged === true,
      resourceCacheId: result.resourceCacheId,
      version,
    };
  }
}

/**
 * The pod image of a version (docs/image-features.md, decision 9): `repository@digest`; without a
 * digest `repository:tag` (the version's tag, else the source's), else `repository`.
 */
function referenceFor(plan: GetPlan, source: Record<string, unknown>, version: Version): string {
  const repository = source.repository;
  if (typeof repository !== 'string') {
    const type = plan.type === REGISTRY_IMAGE ? `type '${REGISTRY_IMAGE}'` : `type '${plan.type}', which declares produces: ${REGISTRY_IMAGE}`;
    throw new Error(`${subjectOf(plan)} (${type}) has no repository in its source: source.repository names the image its reference is built from`);
  }
  const tag = version.tag !== undefined && version.tag !== '' ? version.tag : source.tag;
  return podImageReference({ repository, ...(version.digest ? { digest: version.digest } : {}), ...(tag !== undefined ? { tag } : {}) });
}

/** What a get by reference is of, for messages: a pipeline resource, or an image (a resource type's, a task's image_resource). */
function subjectOf(plan: GetPlan): string {
  return plan.resource !== undefined ? `resource '${plan.resource}'` : `image '${plan.name}'`;
}
