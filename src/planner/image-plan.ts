// Image sub-plans for custom resource types and task image_resource (docs/concourse-semantics.md §3.3).
// A step whose type is a pipeline resource type runs in an image fetched by a nested check + get
// with derived ids (`<id>/image-check`, `<id>/image-get`), recursively down to a base type.
import type { CheckPlan, GetPlan, Params, Plan, PlanId, TypeImage } from '../model/plan.ts';
import type { Version } from '../model/version.ts';

export const DEFAULT_CHECK_INTERVAL = '1m';

/** The parts of a pipeline resource type the planner needs. */
export interface PlannerResourceType {
  name: string;
  type: string;
  source?: Params;
  params?: Params;
  privileged?: boolean;
  check_every?: string;
  tags?: string[];
  defaults?: Params;
}

/** An image to fetch: a resource type's image, or a task's image_resource. */
export interface ImageToFetch {
  name: string;
  type: string;
  source: Params;
  params?: Params;
  version?: Version;
  tags?: string[];
}

/** `defaults ⊕ source`: the type's defaults shallow-merged under the source (source wins). */
export function applyDefaults(source: Params | undefined, type: string, types: readonly PlannerResourceType[]): Params {
  const defaults = types.find((t) => t.name === type)?.defaults;
  // A whole-((var)) source or defaults can only be merged once interpolated, when the step runs.
  if (typeof source === 'string') return source;
  if (typeof defaults === 'string') return source ?? defaults;
  return { ...(defaults ?? {}), ...(source ?? {}) };
}

export function imageForType(
  planId: PlanId,
  typeName: string,
  types: readonly PlannerResourceType[],
  stepTags: string[] | undefined,
  skipInterval: boolean,
): TypeImage {
  const type = types.find((t) => t.name === typeName);
  if (!type) return { base_type: typeName };
  // The type itself is removed from the lookup so `name: git, type: git` reaches the base type
  // instead of recursing forever.
  const rest = types.filter((t) => t.name !== typeName);
  const { get, check } = fetchImagePlan(
    planId,
    {
      name: type.name,
      type: type.type,
      source: applyDefaults(type.source, type.type, rest),
      ...(type.params ? { params: type.params } : {}),
      ...(type.tags ? { tags: type.tags } : {}),
    },
    rest,
    stepTags,
    skipInterval,
    type.check_every,
  );
  if (check && 'check' in check) check.check.resource_type = typeName;
  const baseType = 'get' in get ? get.get.image.base_type : undefined;
  return {
    ...(baseType !== undefined ? { base_type: baseType } : {}),
    ...(type.privileged ? { privileged: true } : {}),
    get_plan: get,
    ...(check ? { check_plan: check } : {}),
  };
}

export function fetchImagePlan(
  planId: PlanId,
  image: ImageToFetch,
  types: readonly PlannerResourceType[],
  stepTags: string[] | undefined,
  skipInterval: boolean,
  checkEvery: string | undefined,
): { get: Plan; check?: Plan } {
  const tags = image.tags && image.tags.length > 0 ? image.tags : stepTags;
  const getId = `${planId}/image-get`;
  const getPlan: GetPlan = {
    name: image.name,
    type: image.type,
    source: image.source,
    ...(image.params ? { params: image.params } : {}),
    ...(tags ? { tags } : {}),
    image: imageForType(getId, image.type, types, tags, skipInterval),
  };
  if (image.version) {
    getPlan.version = image.version;
    return { get: { id: getId, get: getPlan } };
  }
  const checkId = `${planId}/image-check`;
  const checkPlan: CheckPlan = {
    name: image.name,
    type: image.type,
    source: image.source,
    ...(tags ? { tags } : {}),
    interval: checkEvery ?? DEFAULT_CHECK_INTERVAL,
    ...(skipInterval ? { skip_interval: true } : {}),
    image: imageForType(checkId, image.type, types, tags, skipInterval),
  };
  getPlan.version_from = checkId;
  return { get: { id: getId, get: getPlan }, check: { id: checkId, check: checkPlan } };
}
