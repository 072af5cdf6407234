// The engine's image seam: one resolver per build, chosen from the runtime.
import type { StepDeps } from '../steps/deps.ts';
import { ContainerImageResolver } from './containers.ts';
import { NativeImageResolver } from './native.ts';
import type { ImageResolver, RunPlan } from './resolver.ts';

export type { ImageResolver, ReferenceGet, ResolvedImage, RunPlan, WebNodeCheck } from './resolver.ts';
export { imageReferenceOf, pullCredentialsOf } from './reference.ts';

/** Native where the runtime boots images by reference and the operator did not switch it off. */
export function imageResolverFor(deps: StepDeps, runPlan: RunPlan): ImageResolver {
  return deps.nativeImages ? new NativeImageResolver(deps, runPlan) : new ContainerImageResolver(deps, runPlan);
}
