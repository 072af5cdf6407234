// The names of the web nodes' periodic passes: their leases (periodic_passes), and the
// components `GET /api/v1/components`, `/api/v1/health` and fly's pause-component name.
export const COMPONENT = { scheduler: 'scheduler', checker: 'checker', gc: 'gc', kubernetesReaper: 'kubernetes-reaper' } as const;

/** The passes that start and run builds (Concourse's ComponentsRuntime: tracker, scanner, scheduler). */
export const RUNTIME_COMPONENTS: readonly string[] = [COMPONENT.checker, COMPONENT.scheduler];
/** The passes that collect garbage: the database and artifacts' collector, and the Kubernetes pods' reaper. */
export const GC_COMPONENTS: readonly string[] = [COMPONENT.gc, COMPONENT.kubernetesReaper];
