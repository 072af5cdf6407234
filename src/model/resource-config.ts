// Resource configs, caches and check scopes (docs/concourse-semantics.md §2, §5, §6): the cache
// chain that ties a custom type's resources to the exact image version they ran on, and what a
// scope's check history says about whether a check is due.

/** What a resource config runs on: a base type, or the resource cache of a custom type's image. */
export type ResourceConfigParent = { baseType: string } | { resourceCacheId: number };

/** A config's version history: shared (resourceId null: types, images) or one resource's own. */
export interface ResourceConfigScope {
  id: number;
  resourceConfigId: number;
  resourceId: number | null;
}

/** The check times of a scope, the inputs of "should this check run now". */
export interface ScopeCheckState {
  lastCheckStartTime: Date | null;
  lastCheckEndTime: Date | null;
  lastCheckSucceeded: boolean;
  nextCheckTime: Date | null;
}
