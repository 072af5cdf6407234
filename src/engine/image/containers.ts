// Images through containers (docs/concourse-semantics.md §3.3), the path of every runtime: a base
// type's image directly, or a custom type's image fetched by its check + get sub-plans, which run
// through the build's own executor. The fetched image's resource cache becomes the parent of the
// step's resource config, which keeps the cache chain (custom type -> parent cache -> base type).
import type { PlanId, TypeImage } from '../../model/plan.ts';
import { publicPlan } from '../../model/public-plan.ts';
import { buildEvent, unixNow } from '../../model/build-events.ts';
import type { StepContext } from '../exec.ts';
import type { GetResult } from '../results.ts';
import type { StepDeps } from '../steps/deps.ts';
import { fetchedImageEnv, imageReferenceOf } from './reference.ts';
import type { ImageResolver, ReferenceGet, ResolvedImage, RunPlan, WebNodeCheck } from './resolver.ts';

export class ContainerImageResolver implements ImageResolver {
  constructor(
    protected readonly deps: StepDeps,
    protected readonly runPlan: RunPlan,
  ) {}

  webNodeCheck(_type: string, _image: TypeImage): WebNodeCheck | undefined {
    return undefined;
  }

  referenceGet(_type: string, _image: TypeImage): ReferenceGet | undefined {
    return undefined;
  }

  /** Like Concourse's FetchImage, it announces the image's sub-plans with image-check and image-get events. */
  async fetchImage(origin: PlanId, typeImage: TypeImage, ctx: StepContext): Promise<ResolvedImage> {
    const privileged = typeImage.privileged === true;
    if (!typeImage.get_plan) {
      const type = typeImage.base_type ?? '';
      return { image: { kind: 'base-type', type }, parent: { baseType: type }, privileged };
    }
    await this.emitImageEvents(origin, typeImage, ctx);
    const withoutSteps = await this.resolveWithoutSteps(typeImage, ctx);
    this.deps.metrics?.imageResolved(withoutSteps ? 'native' : 'containers');
    return withoutSteps ?? this.fetchThroughSteps(typeImage, ctx);
  }

  /** A resolver that knows the image without running its get says so here (native.ts). */
  protected resolveWithoutSteps(_typeImage: TypeImage, _ctx: StepContext): Promise<ResolvedImage | undefined> {
    return Promise.resolve(undefined);
  }

  private async fetchThroughSteps(typeImage: TypeImage, ctx: StepContext): Promise<ResolvedImage> {
    const { deps } = this;
    // The image's check and get run in a child scope: their artifacts are not the build's.
    const imageCtx: StepContext = { ...ctx, state: ctx.state.child(), purpose: 'image' };
    if (typeImage.check_plan && !(await this.runPlan(typeImage.check_plan, imageCtx))) throw new Error('image check failed');
    if (!typeImage.get_plan || !(await this.runPlan(typeImage.get_plan, imageCtx))) throw new Error('image fetching failed');
    const result = imageCtx.state.result<GetResult>(typeImage.get_plan.id);
    if (!result) throw new Error('image get did not return a result');
    await deps.store.saveImageResourceCache(deps.build.id, deps.build.jobId ?? null, result.resourceCacheId);
    // the image's files are named after its get (the type's name, or `image` for a task's image_resource)
    const getName = 'get' in typeImage.get_plan ? typeImage.get_plan.get.name : 'image';
    const files = { step: `image '${getName}'`, artifact: getName };
    const env = await fetchedImageEnv(result.artifact, files);
    return {
      ...(Object.keys(env).length > 0 ? { env } : {}),
      // A runtime that boots images takes the fetched image by reference (a pod cannot boot from
      // an artifact directory); the local runtime runs the fetched rootfs's scripts.
      image: deps.runtime.runsImages
        ? {
            kind: 'reference',
            reference: await imageReferenceOf(result.artifact, result.version, files),
            ...(result.pullCredentials ? { pullCredentials: result.pullCredentials } : {}),
          }
        : { kind: 'artifact', artifact: result.artifact },
      parent: { resourceCacheId: result.resourceCacheId },
      privileged: typeImage.privileged === true,
      resourceCacheId: result.resourceCacheId,
      version: result.version,
    };
  }

  /**
   * Decision 4: the image's events stay on every path, marked when no container serves them (a
   * check in the web node; a get replaced by the image reference).
   */
  private async emitImageEvents(origin: PlanId, typeImage: TypeImage, ctx: StepContext): Promise<void> {
    const { check_plan: checkPlan, get_plan: getPlan } = typeImage;
    // both queued before waiting: the event sink writes them in one statement, in this order
    const written: Promise<void>[] = [];
    if (checkPlan) {
      const marked = 'check' in checkPlan && this.webNodeCheck(checkPlan.check.type, checkPlan.check.image) !== undefined;
      written.push(ctx.emit(buildEvent('image-check', { time: unixNow(), origin: { id: origin }, plan: publicPlan(checkPlan), ...(marked ? { resolved_without_pod: true } : {}) })));
    }
    if (getPlan) {
      const marked = 'get' in getPlan && this.referenceGet(getPlan.get.type, getPlan.get.image) !== undefined;
      written.push(ctx.emit(buildEvent('image-get', { time: unixNow(), origin: { id: origin }, plan: publicPlan(getPlan), ...(marked ? { resolved_without_pod: true } : {}) })));
    }
    await Promise.all(written);
  }
}
