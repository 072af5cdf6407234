// An in-memory check (Concourse's in-memory check builds, atc/db/build_in_memory_check.go): a
// periodic check of a built-in type that runs in the web node without a `builds` row. Its id
// comes from the builds' sequence, so it orders with check builds; the resource records it
// (started, then how it ended). A failed one becomes a completed check build with its events,
// so its error reads as any check's. The checker starts it, the engine runs it.
import type { BuildEvent, BuildStatus } from './build-events.ts';
import type { Plan } from './plan.ts';

export interface InMemoryCheck {
  /** from the builds' id sequence (BUILD_ID of the check) */
  id: number;
  createTime: Date;
  teamId: number;
  teamName: string;
  pipelineId: number;
  pipelineName: string;
  resourceId: number;
  plan: Plan;
}

export type InMemoryCheckOutcome =
  /** it ran (or found its scope checked already): its status, and its events for a record if it did not succeed */
  | { ran: true; status: BuildStatus; events: BuildEvent[] }
  /** it needs a container (a source the web node declines, found only once interpolated): a check build runs it */
  | { ran: false; reason: string };
