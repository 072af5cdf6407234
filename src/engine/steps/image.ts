// The image a check/get/put step runs in (concourse-core §3.3): a base type's image directly, or
// a custom type's image fetched by the nested check + get sub-plans. The fetched image's resource
// cache becomes the parent of the step's resource config, which keeps the cache chain
// (custom type -> parent cache -> base type) intact.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { ResourceConfigParent } from '../../model/resource-config.ts';
import { parseRepository, podImageReference } from '../../images/reference.ts';
import type { PullCredentials } from '../../runtime/runtime.ts';
import type { Plan, PlanId, TypeImage } from '../../model/plan.ts';
import type { Version } from '../../model/version.ts';
import { publicPlan } from '../../model/public-plan.ts';
import { buildEvent, unixNow } from '../../model/build-events.ts';
import type { ContainerImage } from '../../runtime/runtime.ts';
import type { Artifact } from '../../model/artifact.ts';
import type { StepContext } from '../exec.ts';
import type { StepDeps } from './deps.ts';
import { checksNatively, producesRegistryImages, resolveImageNatively } from './native.ts';

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

/** What a get step leaves in the run state under its plan id. */
export interface GetResult {
  version: Version;
  metadata: { name: string; value: string }[];
  resourceCacheId: number;
  artifact: Artifact;
  /** a registry image's credentials (from its source), for pods that run it */
  pullCredentials?: PullCredentials;
}

/** `repository` + `username`/`password` of an (interpolated) registry-image source. */
export function pullCredentialsOf(source: unknown): PullCredentials | undefined {
  if (typeof source !== 'object' || source === null) return undefined;
  const { repository, username, password } = source as Record<string, unknown>;
  if (typeof repository !== 'string' || typeof username !== 'string' || typeof password !== 'string' || !username) return undefined;
  try {
    return { registry: parseRepository(repository).registry, username, password };
  } catch {
    return undefined;
  }
}

export type RunPlan = (plan: Plan, ctx: StepContext) => Promise<boolean>;

/**
 * The image of the step `origin`: its base type's, or a custom type's (or a task's image_resource)
 * fetched through the image's check + get sub-plans, natively where decisions 2 and 12 allow.
 * Like Concourse's FetchImage, it announces the sub-plans with image-check and image-get events.
 */
export async function resolveTypeImage(origin: PlanId, typeImage: TypeImage, ctx: StepContext, deps: StepDeps, runPlan: RunPlan): Promise<ResolvedImage> {
  const privileged = typeImage.privileged === true;
  if (!typeImage.get_plan) {
    const type = typeImage.base_type ?? '';
    return { image: { kind: 'base-type', type }, parent: { baseType: type }, privileged };
  }
  await emitImageEvents(origin, typeImage, ctx, deps);
  const native = await resolveImageNatively(typeImage, ctx, deps, runPlan);
  deps.metrics?.imageResolved(native ? 'native' : 'containers');
  if (native) return native;
  // The image's check and get run in a child scope: their artifacts are not the build's.
  const imageCtx: StepContext = { ...ctx, state: ctx.state.child(), purpose: 'image' };
  if (typeImage.check_plan && !(await runPlan(typeImage.check_plan, imageCtx))) {
    throw new Error('image check failed');
  }
  if (!(await runPlan(typeImage.get_plan, imageCtx))) throw new Error('image fetching failed');
  const result = imageCtx.state.result<GetResult>(typeImage.get_plan.id);
  if (!result) throw new Error('image get did not return a result');
  await deps.recorder.saveImageResourceCache(result.resourceCacheId);
  const env = await fetchedImageEnv(result.artifact);
  return {
    ...(Object.keys(env).length > 0 ? { env } : {}),
    // A runtime that boots images takes the fetched image by reference (a pod cannot boot from
    // an artifact directory); the local runtime runs the fetched rootfs's scripts.
    image: deps.runtime.runsImages
      ? {
          kind: 'reference',
          reference: await imageReferenceOf(result.artifact, result.version),
          ...(result.pullCredentials ? { pullCredentials: result.pullCredentials } : {}),
        }
      : { kind: 'artifact', artifact: result.artifact },
    parent: { resourceCacheId: result.resourceCacheId },
    privileged,
    resourceCacheId: result.resourceCacheId,
    version: result.version,
  };
}

/**
 * Decision 4: the image's events stay on every path, marked when no pod serves them (a native
 * check; a get replaced by the image reference).
 */
async function emitImageEvents(origin: PlanId, typeImage: TypeImage, ctx: StepContext, deps: StepDeps): Promise<void> {
  const { check_plan: checkPlan, get_plan: getPlan } = typeImage;
  if (checkPlan) {
    const native = 'check' in checkPlan && checksNatively(checkPlan.check.type, checkPlan.check.image, deps);
    await ctx.emit(buildEvent('image-check', { time: unixNow(), origin: { id: origin }, plan: publicPlan(checkPlan), ...(native ? { resolved_without_pod: true } : {}) }));
  }
  if (getPlan) {
    const native = deps.nativeImages && 'get' in getPlan && producesRegistryImages(getPlan.get.type, getPlan.get.image, deps);
    await ctx.emit(buildEvent('image-get', { time: unixNow(), origin: { id: origin }, plan: publicPlan(getPlan), ...(native ? { resolved_without_pod: true } : {}) }));
  }
}

/**
 * The `repository@digest` of a fetched image: an image-reference artifact as is, else the
 * `repository` and `digest` files registry-image's `in` writes (the version's digest wins).
 */
export async function imageReferenceOf(artifact: Artifact, version?: Version): Promise<string> {
  if (artifact.kind === 'image-ref') return artifact.reference;
  const read = (name: string): Promise<string | undefined> =>
    readFile(join(artifact.path, name), 'utf8').then(
      (t) => t.trim(),
      () => undefined,
    );
  const repository = await read('repository');
  const digest = version?.digest ?? (await read('digest'));
  if (!repository) {
    throw new Error('the image was fetched without a `repository` file: only registry images (registry-image, or a type that produces them) can run as pods');
  }
  return podImageReference({ repository, ...(digest ? { digest } : {}) });
}

/** The env of a fetched image directory (`metadata.json` next to its rootfs), if any. */
export async function fetchedImageEnv(artifact: Artifact): Promise<Record<string, string>> {
  if (artifact.kind !== 'volume') return {};
  try {
    const meta = JSON.parse(await readFile(join(artifact.path, 'metadata.json'), 'utf8')) as { env?: unknown };
    const env: Record<string, string> = {};
    for (const entry of Array.isArray(meta.env) ? meta.env : []) {
      if (typeof entry !== 'string') continue;
      const eq = entry.indexOf('=');
      if (eq > 0) env[entry.slice(0, eq)] = entry.slice(eq + 1);
    }
    return env;
  } catch {
    return {};
  }
}
