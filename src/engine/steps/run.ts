// The run step (Concourse's experimental prototypes): Concourse's own does not run anything yet
// (atc/exec/run_step.go writes that it is not implemented, "pretends" and succeeds), so a
// pipeline using one behaves the same on Jetway: the same two lines on stderr, then success.
// No container, no image: nothing to fetch for a step that runs nothing.
import type { PlanId, RunPlan } from '../../model/plan.ts';
import { buildEvent, unixNow, type BuildEvent } from '../../model/build-events.ts';

/** What the step needs of its context (exec.ts's StepContext, which hands it over). */
interface RunStepContext {
  emit(event: BuildEvent): Promise<void>;
}

/** What Concourse's run step writes on stderr (its colours included). */
export function runStepLines(plan: Pick<RunPlan, 'message' | 'type'>): string {
  return `\x1b[1;33mthe run step is not yet implemented\x1b[0m\n\n\x1b[1;34mpretending to run ${plan.message} on prototype ${plan.type}...\x1b[0m\n`;
}

export async function runRunStep(id: PlanId, plan: RunPlan, ctx: RunStepContext): Promise<boolean> {
  const log = (payload: string): Promise<void> => ctx.emit(buildEvent('log', { time: unixNow(), origin: { id, source: 'stderr' }, payload }));
  await ctx.emit(buildEvent('initialize', { time: unixNow(), origin: { id } }));
  const [notYet, pretending] = runStepLines(plan).split(/(?<=\n\n)/);
  await log(notYet ?? '');
  await ctx.emit(buildEvent('start', { time: unixNow(), origin: { id } }));
  await log(pretending ?? '');
  await ctx.emit(buildEvent('finish', { time: unixNow(), origin: { id }, succeeded: true }));
  return true;
}
