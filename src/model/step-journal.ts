// The records of a build's step journal (issue 17; the journal itself is src/engine/journal.ts,
// Postgres keeps it in src/db/build-steps.ts, migration 0008).
import type { Artifact } from './artifact.ts';
import type { PlanId } from './plan.ts';

/** What a finished step left in the run state, in the order it left it. */
export interface StepEffects {
  artifacts: [string, Artifact][];
  results: [PlanId, unknown][];
  vars: [string, unknown][];
}

export type StepOutcome = { ok: boolean } | { error: string };

/** One leaf step of a build, as the journal keeps it. */
export type StepRecord =
  | { key: string; planId: PlanId; state: 'started' }
  | { key: string; planId: PlanId; state: 'finished'; outcome: StepOutcome; effects: StepEffects };
