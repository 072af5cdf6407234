// The step journal of a build (src/engine/journal.ts's StepJournalStore; migration 0008).
import type { StepEffects, StepOutcome, StepRecord } from '../model/step-journal.ts';
import type { Queryable } from './database.ts';

export async function buildSteps(db: Queryable, buildId: number): Promise<StepRecord[]> {
  const r = await db.query<{ step_key: string; plan_id: string; outcome: StepOutcome | null; effects: StepEffects | null }>(
    'SELECT step_key, plan_id, outcome, effects FROM build_steps WHERE build_id = $1 ORDER BY started_at, step_key',
    [buildId],
  );
  return r.rows.map((row) =>
    row.outcome === null
      ? { key: row.step_key, planId: row.plan_id, state: 'started' as const }
      : { key: row.step_key, planId: row.plan_id, state: 'finished' as const, outcome: row.outcome, effects: row.effects ?? { artifacts: [], results: [], vars: [] } },
  );
}

/** A step begins; a step already recorded (a retried write) stays as it is. */
export async function recordStepStarted(db: Queryable, buildId: number, key: string, planId: string): Promise<void> {
  await db.query('INSERT INTO build_steps (build_id, step_key, plan_id) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING', [buildId, key, planId]);
}

export async function recordStepFinished(db: Queryable, buildId: number, key: string, planId: string, outcome: StepOutcome, effects: StepEffects): Promise<void> {
  await db.query(
    `INSERT INTO build_steps (build_id, step_key, plan_id, finished_at, outcome, effects) VALUES ($1, $2, $3, now(), $4::jsonb, $5::jsonb)
     ON CONFLICT (build_id, step_key) DO UPDATE SET finished_at = now(), outcome = EXCLUDED.outcome, effects = EXCLUDED.effects`,
    [buildId, key, planId, JSON.stringify(outcome), JSON.stringify(effects)],
  );
}
