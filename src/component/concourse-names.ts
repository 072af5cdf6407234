// Concourse's component names (atc/component.go) and the Jetway passes that do their work, so a
// stock fly's `pause-component --runtime-components` / `--gc-components` (which send Concourse's
// names, atc.ComponentsRuntime and atc.ComponentsGarbageCollection, one request each, stopping
// at the first 404) pauses the right passes instead of failing on `tracker` or `reaper`. Jetway's
// passes are the rows of src/db/cluster.ts's periodic_passes: scheduler, checker, gc and, on
// Kubernetes, kubernetes-reaper (src/component/names.ts).
import { COMPONENT, GC_COMPONENTS } from './names.ts';

/** atc.ComponentsRuntime, in fly's order: what starts and runs builds. */
export const CONCOURSE_RUNTIME_COMPONENTS = ['tracker', 'scanner', 'scheduler'] as const;

/** atc.ComponentsGarbageCollection, in fly's order. */
export const CONCOURSE_GC_COMPONENTS = [
  'reaper',
  'collector_artifacts',
  'collector_builds',
  'collector_check_sessions',
  'collector_checks',
  'collector_containers',
  'collector_resource_cache_uses',
  'collector_resource_caches',
  'collector_task_caches',
  'collector_resource_configs',
  'collector_volumes',
  'collector_workers',
  'collector_pipelines',
  'pipeline_pauser',
] as const;

const BY_CONCOURSE_NAME: Readonly<Record<string, readonly string[]>> = {
  // Jetway's scheduler pass starts the builds it creates and hands them to the engine: the tracker's work
  tracker: [COMPONENT.scheduler],
  scanner: [COMPONENT.checker],
  scheduler: [COMPONENT.scheduler],
  // one gc pass collects what Concourse's collectors do, so each of them names it (collectors of
  // things Jetway has not, as workers and check sessions, too: pausing all GC is what they are for)
  ...Object.fromEntries(CONCOURSE_GC_COMPONENTS.map((name) => [name, name === 'collector_containers' ? GC_COMPONENTS : [COMPONENT.gc]])),
};

/**
 * The Jetway passes a component name in a request means: a Concourse name its passes (some may
 * not exist on this runtime, as kubernetes-reaper on the local one), any other name itself.
 */
export function passesNamed(name: string): readonly string[] {
  return Object.hasOwn(BY_CONCOURSE_NAME, name) ? (BY_CONCOURSE_NAME[name] ?? [name]) : [name];
}
