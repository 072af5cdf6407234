// The built-in resource types, by name. Callers look types up here; the local runtime runs them
// as processes through `resourceCommand` (src/resources/cli.ts), in-process callers call the
// ResourceTypeImpl directly.
import { gitResource } from './git/index.ts';
import { mockResource } from './mock/index.ts';
import type { ResourceTypeImpl } from './protocol.ts';
import { timeResource } from './time/index.ts';
import registryImageResource from './registry-image/index.ts';

export * from './protocol.ts';
export { resourceCommand, resourceShellScript, type ProcessCommand, type ResourceScript } from './command.ts';

/** Every built-in type by name. Other types (registry-image) join through registerResourceType. */
export const builtinResourceTypes: Record<string, ResourceTypeImpl> = {
  mock: mockResource,
  time: timeResource,
  git: gitResource,
  'registry-image': registryImageResource,
};

/** Adds (or replaces) a built-in type. */
export function registerResourceType(name: string, impl: ResourceTypeImpl): void {
  builtinResourceTypes[name] = impl;
}

