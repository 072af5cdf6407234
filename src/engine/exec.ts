// Runs a build plan: the composite steps and modifiers with Concourse's outcome rules
// (docs/concourse-semantics.md §1.5). Leaf steps (get, put, task, check, set_pipeline, load_var) are handed to
// a LeafSteps implementation, so these rules are tested on their own.
import type {
  AcrossPlan,
  ArtifactInputPlan,
  ArtifactOutputPlan,
  CheckPlan,
  GetPlan,
  LoadVarPlan,
  Plan,
  PlanId,
  PutPlan,
  SetPipelinePlan,
  TaskPlan,
} from '../model/plan.ts';
import { parseDuration } from '../config/duration.ts';
import { buildEvent, unixNow, type BuildEvent, type BuildStatus } from '../model/build-events.ts';
import { publicPlan } from '../model/public-plan.ts';
import { BuildAborted, CancelledByFailFast, StepTimedOut, combineErrors, isAbort, throwIfAborted } from './outcome.ts';
import { RunState } from './run-state.ts';
import { runRunStep } from './steps/run.ts';
import { ProcessDetached } from '../runtime/runtime.ts';

/** The web node stops and hands the build over: hooks do not run here (the next node runs them). */
function handedOver(signal: AbortSignal): boolean {
  return signal.aborted && signal.reason instanceof ProcessDetached;
}

/** Where a running build's events go (the database, a test's array, ...), in order. */
export interface EventSink {
  /** `writerKey`: a key of the caller's that saves the event once however often it is emitted (a re-attached step's log lines) */
  emit(event: BuildEvent, writerKey?: string): Promise<void>;
}

export interface StepContext {
  signal: AbortSignal;
  state: RunState;
  /** set inside a step's image resolution: its containers exist only to get an image */
  purpose?: 'image';
  /** the leaf step's key in the build's journal (src/engine/journal.ts): its plan id and occurrence */
  stepKey?: string;
  /** the step started under a web node that stopped: re-attach to what it left running */
  reattach?: boolean;
  /**
   * the step's start being recorded in the journal (journal.ts): what makes a container waits for
   * it, so nothing of the step exists outside the web node before its start is recorded
   */
  journaled?: Promise<void>;
  emit(event: BuildEvent, writerKey?: string): Promise<void>;
}

/** The leaf steps; each resolves to ok (true) or not ok (false), or throws an error. */
export interface LeafSteps {
  get(id: PlanId, plan: GetPlan, ctx: StepContext): Promise<boolean>;
  put(id: PlanId, plan: PutPlan, ctx: StepContext): Promise<boolean>;
  task(id: PlanId, plan: TaskPlan, ctx: StepContext): Promise<boolean>;
  check(id: PlanId, plan: CheckPlan, ctx: StepContext): Promise<boolean>;
  setPipeline(id: PlanId, plan: SetPipelinePlan, ctx: StepContext): Promise<boolean>;
  loadVar(id: PlanId, plan: LoadVarPlan, ctx: StepContext): Promise<boolean>;
  artifactInput(id: PlanId, plan: ArtifactInputPlan, ctx: StepContext): Promise<boolean>;
  artifactOutput(id: PlanId, plan: ArtifactOutputPlan, ctx: StepContext): Promise<boolean>;
  /** evaluates ((vars)) in a plan value at run time (across values); identity when absent */
  evaluate?<T>(value: T, state: RunState): Promise<T>;
}

export class PlanExecutor {
  constructor(private readonly leaves: LeafSteps) {}

  async run(plan: Plan, ctx: StepContext): Promise<boolean> {
    throwIfAborted(ctx.signal);
    if ('get' in plan) return this.leaves.get(plan.id, plan.get, ctx);
    if ('put' in plan) return this.leaves.put(plan.id, plan.put, ctx);
    if ('task' in plan) return this.leaves.task(plan.id, plan.task, ctx);
    if ('check' in plan) return this.leaves.check(plan.id, plan.check, ctx);
    if ('set_pipeline' in plan) return this.leaves.setPipeline(plan.id, plan.set_pipeline, ctx);
    if ('load_var' in plan) return this.leaves.loadVar(plan.id, plan.load_var, ctx);
    if ('run' in plan) return runRunStep(plan.id, plan.run, ctx);
    if ('artifact_input' in plan) return this.leaves.artifactInput(plan.id, plan.artifact_input, ctx);
    if ('artifact_output' in plan) return this.leaves.artifactOutput(plan.id, plan.artifact_output, ctx);
    if ('do' in plan) return this.runDo(plan.do, ctx);
    if ('in_parallel' in plan) {
      const { steps, limit, fail_fast } = plan.in_parallel;
      const items = steps.map((step) => ({ plan: step, state: ctx.state }));
      return this.runConcurrently(items, limit ?? 0, fail_fast ?? false, ctx);
    }
    if ('try' in plan) return this.runTry(plan.try.step, ctx);
    if ('timeout' in plan) return this.runTimeout(plan.id, plan.timeout.step, plan.timeout.duration, ctx);
    if ('retry' in plan) return this.runRetry(plan.retry, ctx);
    if ('across' in plan) return this.runAcross(plan.id, plan.across, ctx);
    if ('on_success' in plan) {
      const ok = await this.run(plan.on_success.step, ctx);
      return ok ? this.run(plan.on_success.on_success, ctx) : false;
    }
    if ('on_failure' in plan) return this.runOnFailure(plan.on_failure.step, plan.on_failure.on_failure, ctx);
    if ('on_error' in plan) return this.runOnError(plan.on_error.step, plan.on_error.on_error, ctx);
    if ('on_abort' in plan) return this.runOnAbort(plan.on_abort.step, plan.on_abort.on_abort, ctx);
    if ('ensure' in plan) return this.runEnsure(plan.ensure.step, plan.ensure.ensure, ctx);
    throw new Error(`unknown plan node ${JSON.stringify(Object.keys(plan))}`);
  }

  private async runDo(steps: Plan[], ctx: StepContext): Promise<boolean> {
    for (const step of steps) {
      if (!(await this.run(step, ctx))) return false;
    }
    return true;
  }

  /** in_parallel, and across's combinations: each item may carry its own RunState. */
  private async runConcurrently(
    items: { plan: Plan; state: RunState }[],
    limit: number,
    failFast: boolean,
    ctx: StepContext,
  ): Promise<boolean> {
    const controller = new AbortController();
    const stopChildren = (): void => controller.abort(ctx.signal.reason);
    ctx.signal.addEventListener('abort', stopChildren, { once: true });
    let ok = true;
    const errors: unknown[] = [];
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < items.length) {
        const { plan, state } = items[next++]!;
        if (controller.signal.aborted) return;
        try {
          if (!(await this.run(plan, { ...ctx, state, signal: controller.signal }))) {
            ok = false;
            if (failFast) controller.abort(new CancelledByFailFast());
          }
        } catch (err) {
          if (err instanceof CancelledByFailFast) continue;
          ok = false;
          errors.push(err);
          if (failFast && !isAbort(err)) controller.abort(new CancelledByFailFast());
        }
      }
    };
    const width = limit > 0 ? Math.min(limit, items.length) : items.length;
    try {
      await Promise.all(Array.from({ length: width }, worker));
    } finally {
      ctx.signal.removeEventListener('abort', stopChildren);
    }
    throwIfAborted(ctx.signal);
    const err = combineErrors(errors.filter((e) => !isAbort(e)));
    if (err) throw err;
    return ok;
  }

  private async runTry(step: Plan, ctx: StepContext): Promise<boolean> {
    try {
      await this.run(step, ctx);
    } catch (err) {
      // Only the build's abort gets through a try; errors and timeouts are swallowed.
      if (isAbort(err) || ctx.signal.aborted) throw err;
    }
    return true;
  }

  private async runTimeout(id: PlanId, step: Plan, duration: string, ctx: StepContext): Promise<boolean> {
    const ms = parseDuration(duration);
    if (ms === undefined) throw new Error(`invalid timeout duration '${duration}'`);
    const controller = new AbortController();
    const timedOut = new StepTimedOut(duration);
    const timer = setTimeout(() => controller.abort(timedOut), ms);
    const forward = (): void => controller.abort(ctx.signal.reason);
    ctx.signal.addEventListener('abort', forward, { once: true });
    try {
      return await this.run(step, { ...ctx, signal: controller.signal });
    } catch (err) {
      if (controller.signal.reason === timedOut && !ctx.signal.aborted) {
        // An exceeded deadline fails the step; it is not an error of the build.
        await ctx.emit(buildEvent('error', { time: unixNow(), origin: { id }, message: 'timeout exceeded' }));
        return false;
      }
      throw err;
    } finally {
      clearTimeout(timer);
      ctx.signal.removeEventListener('abort', forward);
    }
  }

  private async runRetry(attempts: Plan[], ctx: StepContext): Promise<boolean> {
    let lastError: unknown;
    for (let i = 0; i < attempts.length; i++) {
      lastError = undefined;
      try {
        if (await this.run(attempts[i]!, ctx)) return true;
      } catch (err) {
        if (isAbort(err) || ctx.signal.aborted) throw err;
        lastError = err;
      }
    }
    if (lastError !== undefined) throw lastError;
    return false;
  }

  private async runOnFailure(step: Plan, hook: Plan, ctx: StepContext): Promise<boolean> {
    const ok = await this.run(step, ctx);
    if (!ok) await this.run(hook, ctx);
    return ok;
  }

  private async runOnError(step: Plan, hook: Plan, ctx: StepContext): Promise<boolean> {
    try {
      return await this.run(step, ctx);
    } catch (err) {
      if (isAbort(err) || ctx.signal.aborted) throw err;
      let hookError: unknown;
      try {
        await this.run(hook, ctx);
      } catch (e) {
        hookError = e;
      }
      throw combineErrors([err, hookError]);
    }
  }

  private async runOnAbort(step: Plan, hook: Plan, ctx: StepContext): Promise<boolean> {
    try {
      return await this.run(step, ctx);
    } catch (err) {
      if (!isAbort(err) && !ctx.signal.aborted) throw err;
      if (handedOver(ctx.signal)) throw err;
      // The hook runs in a fresh context: the build's cancellation must not stop it.
      await this.run(hook, { ...ctx, signal: new AbortController().signal }).catch(() => false);
      throw err instanceof BuildAborted ? err : new BuildAborted();
    }
  }

  private async runEnsure(step: Plan, hook: Plan, ctx: StepContext): Promise<boolean> {
    let ok = false;
    let stepError: unknown;
    try {
      ok = await this.run(step, ctx);
    } catch (err) {
      stepError = err;
    }
    if (handedOver(ctx.signal)) throw stepError ?? ctx.signal.reason;
    const aborted = isAbort(stepError) || ctx.signal.aborted;
    const hookCtx = aborted ? { ...ctx, signal: new AbortController().signal } : ctx;
    let hookOk = false;
    let hookError: unknown;
    try {
      hookOk = await this.run(hook, hookCtx);
    } catch (err) {
      hookError = err;
    }
    if (aborted) throw stepError instanceof BuildAborted ? stepError : new BuildAborted();
    const err = combineErrors([stepError, hookError]);
    if (err !== undefined) throw err;
    return ok && hookOk;
  }

  private async runAcross(id: PlanId, across: AcrossPlan, ctx: StepContext): Promise<boolean> {
    const values: unknown[][] = [];
    for (const v of across.vars) {
      // values may be a var (`((.:list))` from load_var), known only now
      const evaluated = this.leaves.evaluate ? await this.leaves.evaluate(v.values, ctx.state) : v.values;
      if (!Array.isArray(evaluated)) throw new Error(`across var '${v.name}': values must be a list, got ${JSON.stringify(evaluated)}`);
      values.push(evaluated as unknown[]);
    }
    const combos = cartesian(values);
    const template = JSON.parse(across.substep_template) as Plan;
    const substeps = combos.map((_, i) => renumber(template, `${id}/${i}`));
    // as Concourse: public plans (no sources or params) with each combination's values, which the UI shows
    await ctx.emit(buildEvent('across-substeps', { time: unixNow(), origin: { id }, substeps: substeps.map((step, i) => ({ step: publicPlan(step), values: combos[i]! })) }));
    // The first var's max_in_flight bounds how many combinations run at once (default 1).
    const maxInFlight = across.vars[0]?.max_in_flight;
    const limit = maxInFlight === 'all' ? 0 : typeof maxInFlight === 'number' ? maxInFlight : 1;
    const items = substeps.map((plan, i) => {
      const state = ctx.state.child();
      across.vars.forEach((v, j) => state.setLocalVar(v.name, combos[i]![j]));
      return { plan, state };
    });
    return this.runConcurrently(items, limit, across.fail_fast ?? false, ctx);
  }
}

function cartesian(lists: unknown[][]): unknown[][] {
  return lists.reduce<unknown[][]>((acc, list) => acc.flatMap((prefix) => list.map((v) => [...prefix, v])), [[]]);
}

/** Gives every plan node of an across sub-step a fresh id under `<acrossId>/<i>/`. */
function renumber(template: Plan, prefix: string): Plan {
  let n = 0;
  const ids = new Map<string, string>();
  const json = JSON.stringify(template, (key, value: unknown) => {
    if (key === 'id' && typeof value === 'string') {
      const fresh = `${prefix}/${n++}`;
      ids.set(value, fresh);
      return fresh;
    }
    return value;
  });
  // version_from and image sub-plan ids refer to other ids of the same template.
  return JSON.parse(json, (key, value: unknown) => {
    if (key === 'version_from' && typeof value === 'string') return ids.get(value) ?? value;
    return value;
  }) as Plan;
}

/** The build's final status from how its plan ended. */
export function buildStatusOf(outcome: { ok: boolean } | { error: unknown }): BuildStatus {
  if ('ok' in outcome) return outcome.ok ? 'succeeded' : 'failed';
  return isAbort(outcome.error) ? 'aborted' : 'errored';
}

export interface RunBuildOptions {
  plan: Plan;
  leaves: LeafSteps;
  sink: EventSink;
  signal: AbortSignal;
  state?: RunState;
}

/**
 * Runs a whole build's plan and says how it ended. A build-level error is recorded as an `error`
 * event on the root plan; the `status` events belong to starting and finishing the build record.
 */
export async function runBuild(opts: RunBuildOptions): Promise<BuildStatus> {
  const emit = (event: BuildEvent, writerKey?: string): Promise<void> => opts.sink.emit(event, writerKey);
  const ctx: StepContext = { signal: opts.signal, state: opts.state ?? new RunState(), emit };
  try {
    return buildStatusOf({ ok: await new PlanExecutor(opts.leaves).run(opts.plan, ctx) });
  } catch (error) {
    const status = buildStatusOf({ error: opts.signal.aborted && !isAbort(error) ? new BuildAborted() : error });
    if (status === 'errored') {
      await emit(buildEvent('error', { time: unixNow(), origin: { id: opts.plan.id }, message: errorMessage(error) }));
    }
    return status;
  }
}

export function errorMessage(err: unknown): string {
  if (err instanceof AggregateError) return err.errors.map(errorMessage).join('\n');
  return err instanceof Error ? err.message : String(err);
}
