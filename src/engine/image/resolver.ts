// The one image seam of the engine (Concourse's FetchImage in its step delegate): every step asks
// the build's ImageResolver for the image it runs in, and whether its check or get needs a
// container at all. The resolver is chosen once per build from the runtime: through check and get
// containers everywhere (containers.ts), or natively where the runtime boots images by reference
// (native.ts, docs/image-features.md decisions 1-4, 10-12). No step branches on the choice.
import type { Plan, PlanId, GetPlan, TypeImage } from '../../model/plan.ts';
import type { ResourceConfigParent } from '../../model/resource-config.ts';
import type { MetadataField, Version } from '../../model/version.ts';
import type { ContainerImage } from '../../runtime/runtime.ts';
import type { StepContext } from '../exec.ts';
import type { GetResult } from '../results.ts';

export interface ResolvedImage {
  image: ContainerImage;
  /**
   * The fetched image's env (`metadata.json`, as registry-image and mock's mirror_self write
   * it): the step runs with it, on the host as in a pod booted by reference.
   */
  env?: Record<string, string>;
  parent: ResourceConfigParent;
  privileged: boolean;
  resourceCacheId?: number;
  version?: Version;
}

/** A check that runs in the web node (no container): the versions found after `from`. */
export type WebNodeCheck = (id: PlanId, source: Record<string, unknown>, from: Version | undefined, ctx: StepContext) => Promise<Version[]>;

/** A get that records its version as an image reference instead of downloading it. */
export type ReferenceGet = (
  id: PlanId,
  plan: GetPlan,
  version: Version,
  source: Record<string, unknown>,
  ctx: StepContext,
  knownMetadata: MetadataField[],
) => Promise<GetResult>;

export interface ImageResolver {
  /** The image a step of `origin` runs in: its base type's, or a custom type's (or task's) fetched image. */
  fetchImage(origin: PlanId, image: TypeImage, ctx: StepContext): Promise<ResolvedImage>;
  /** Decision 12: how a check of `type` runs without a container, or undefined when it needs one. */
  webNodeCheck(type: string, image: TypeImage): WebNodeCheck | undefined;
  /** Decision 10: how a get of `type` is recorded by reference, or undefined when it must download. */
  referenceGet(type: string, image: TypeImage): ReferenceGet | undefined;
}

export type RunPlan = (plan: Plan, ctx: StepContext) => Promise<boolean>;
