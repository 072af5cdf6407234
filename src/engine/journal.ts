// The build's step journal (issue 17, docs/web-nodes.md "Re-attaching builds"): a durable record
// of each leaf step, started and then finished with its outcome and what it left in the run
// state (artifacts, results, local vars). A web node that takes a build over (its own restart,
// or another node after the lease expired) runs the plan again from the top, as Concourse's
// engine does: the plan walk is deterministic, so each leaf step gets the same key again, and
//  - a finished step is answered from its record (not run again: no pod, no events);
//  - a step that started but did not finish is re-attached when its runtime can (a task's, get's,
//    put's or check's pod on Kubernetes: its process was left running), run again when it runs
//    in the web node and is idempotent (set_pipeline, load_var), else the build errors saying why;
//  - a step that never started runs as usual.
// Only runtimes whose processes outlive the web node (Runtime.reattaches) keep a journal.
import { access } from 'node:fs/promises';
import type { Artifact } from '../model/artifact.ts';
import type { PlanId } from '../model/plan.ts';
import type { LeafSteps, StepContext } from './exec.ts';
import type { StepEffects, StepOutcome, StepRecord } from '../model/step-journal.ts';

export type { StepEffects, StepOutcome, StepRecord } from '../model/step-journal.ts';
import { RunState } from './run-state.ts';
import { isTransient, retryDelayMs } from './event-sink.ts';

/** A journal write, tried again while the database is away (up to about a minute). */
async function persist(write: () => Promise<void>, signal?: AbortSignal): Promise<void> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await write();
    } catch (err) {
      if (!isTransient(err) || attempt >= 15 || signal?.aborted) throw err;
      await new Promise((resolve) => setTimeout(resolve, retryDelayMs(attempt)));
    }
  }
}

/** The engine's port for the journal (Postgres: src/db/build-steps.ts; tests: the memory store). */
export interface StepJournalStore {
  /** Every record of the build. */
  buildSteps(buildId: number): Promise<StepRecord[]>;
  /** A step begins (before anything of it exists outside the web node). */
  recordStepStarted(buildId: number, key: string, planId: PlanId): Promise<void>;
  /** A step ended with this outcome and these effects. */
  recordStepFinished(buildId: number, key: string, planId: PlanId, outcome: StepOutcome, effects: StepEffects): Promise<void>;
}

/** What to do with a leaf step when the plan is walked (again). */
export type StepDecision = 'run' | 'replay' | 'reattach' | 'rerun' | 'unknown';

/** The kinds of leaf steps, as the journal tells them apart. */
export type StepKind = 'task' | 'get' | 'put' | 'check' | 'set_pipeline' | 'load_var' | 'artifact_input' | 'artifact_output';

/** The kinds whose only effect outside the web node is a container (or a record run again harmlessly). */
const CONTAINER_KINDS: ReadonlySet<StepKind> = new Set(['task', 'get', 'put', 'check']);

/**
 * What a web node taking a build over can do with a step of a kind that started and did not
 * finish: re-attach to its process, run it again (it is idempotent), or nothing (its result is
 * unknown).
 */
export type TakeoverMode = 'reattach' | 'rerun' | 'none';

/**
 * The takeover of each kind on a runtime whose processes outlive the web node (Kubernetes): a
 * task's, get's, put's and check's process runs detached in its pod and is re-attached;
 * set_pipeline and load_var run in the web node and are idempotent (the same config saved, the
 * same file read), so they run again; a one-off build's artifact upload or download lives on the
 * disk of the node that started it.
 */
export function takeoverMode(kind: StepKind): TakeoverMode {
  switch (kind) {
    case 'task':
    case 'get':
    case 'put':
    case 'check':
      return 'reattach';
    case 'set_pipeline':
    case 'load_var':
      return 'rerun';
    case 'artifact_input':
    case 'artifact_output':
      return 'none';
  }
}

/**
 * The decision for a step from its record: no record runs it; a finished one is replayed; a
 * started one is re-attached or run again as its kind's takeover says, else its result is unknown
 * (never run twice).
 */
export function stepDecision(record: StepRecord | undefined, mode: TakeoverMode): StepDecision {
  if (!record) return 'run';
  if (record.state === 'finished') return 'replay';
  if (mode === 'reattach') return 'reattach';
  if (mode === 'rerun') return 'rerun';
  return 'unknown';
}

/** A step's key: its plan id and how many times the walk reached that id before (retries, hooks). */
export function stepKey(planId: PlanId, occurrence: number): string {
  return occurrence === 0 ? planId : `${planId}#${occurrence}`;
}

/** The run state as a step sees it, with what the step leaves in it recorded. */
class RecordingState extends RunState {
  readonly effects: StepEffects = { artifacts: [], results: [], vars: [] };

  constructor(private readonly inner: RunState) {
    super();
  }
  override child(): RunState {
    return this.inner.child();
  }
  override registerArtifact(name: string, artifact: Artifact): void {
    this.effects.artifacts.push([name, artifact]);
    this.inner.registerArtifact(name, artifact);
  }
  override artifact(name: string): Artifact | undefined {
    return this.inner.artifact(name);
  }
  override artifactNames(): string[] {
    return this.inner.artifactNames();
  }
  override storeResult(id: PlanId, value: unknown): void {
    this.effects.results.push([id, value]);
    this.inner.storeResult(id, value);
  }
  override result<T>(id: PlanId): T | undefined {
    return this.inner.result<T>(id);
  }
  override allResults(): unknown[] {
    return this.inner.allResults();
  }
  override setLocalVar(name: string, value: unknown): void {
    this.effects.vars.push([name, value]);
    this.inner.setLocalVar(name, value);
  }
  override localVar(name: string): unknown {
    return this.inner.localVar(name);
  }
  override hasLocalVar(name: string): boolean {
    return this.inner.hasLocalVar(name);
  }
}

/**
 * A result as it is kept: registry credentials a get found in its source are not written to the
 * database (a replayed get's image is pulled without them).
 */
function durable(value: unknown): unknown {
  if (value && typeof value === 'object' && 'pullCredentials' in value) {
    const { pullCredentials: _omitted, ...rest } = value as Record<string, unknown>;
    return rest;
  }
  return value;
}

/** Whether an artifact a finished step left is still here (a volume on this web node's disk). */
export async function artifactPresent(artifact: Artifact): Promise<boolean> {
  if (artifact.kind !== 'volume') return true;
  return access(artifact.path).then(
    () => true,
    () => false,
  );
}

export interface JournalOptions {
  store: StepJournalStore;
  buildId: number;
  /** the records found when the build was (re)started */
  records: StepRecord[];
  /** what a takeover does with a started step of this kind (takeoverMode, on a runtime that re-attaches) */
  takeover: (kind: StepKind) => TakeoverMode;
  present?: (artifact: Artifact) => Promise<boolean>;
}

/**
 * The leaf steps with the journal around them. A step's context carries its key (`stepKey`,
 * which names its pod and its log events) and, when it is being re-attached, `reattach`.
 */
export class JournaledSteps implements LeafSteps {
  private readonly records: Map<string, StepRecord>;
  private readonly seen = new Map<PlanId, number>();

  constructor(
    private readonly inner: LeafSteps,
    private readonly opts: JournalOptions,
  ) {
    this.records = new Map(opts.records.map((r) => [r.key, r]));
    if (inner.evaluate) this.evaluate = (value, state) => inner.evaluate!(value, state);
  }

  evaluate?: LeafSteps['evaluate'];

  get(id: PlanId, plan: Parameters<LeafSteps['get']>[1], ctx: StepContext): Promise<boolean> {
    return this.step(id, 'get', ctx, (c) => this.inner.get(id, plan, c));
  }
  put(id: PlanId, plan: Parameters<LeafSteps['put']>[1], ctx: StepContext): Promise<boolean> {
    return this.step(id, 'put', ctx, (c) => this.inner.put(id, plan, c));
  }
  task(id: PlanId, plan: Parameters<LeafSteps['task']>[1], ctx: StepContext): Promise<boolean> {
    return this.step(id, 'task', ctx, (c) => this.inner.task(id, plan, c));
  }
  check(id: PlanId, plan: Parameters<LeafSteps['check']>[1], ctx: StepContext): Promise<boolean> {
    return this.step(id, 'check', ctx, (c) => this.inner.check(id, plan, c));
  }
  setPipeline(id: PlanId, plan: Parameters<LeafSteps['setPipeline']>[1], ctx: StepContext): Promise<boolean> {
    return this.step(id, 'set_pipeline', ctx, (c) => this.inner.setPipeline(id, plan, c));
  }
  loadVar(id: PlanId, plan: Parameters<LeafSteps['loadVar']>[1], ctx: StepContext): Promise<boolean> {
    return this.step(id, 'load_var', ctx, (c) => this.inner.loadVar(id, plan, c));
  }
  artifactInput(id: PlanId, plan: Parameters<LeafSteps['artifactInput']>[1], ctx: StepContext): Promise<boolean> {
    return this.step(id, 'artifact_input', ctx, (c) => this.inner.artifactInput(id, plan, c));
  }
  artifactOutput(id: PlanId, plan: Parameters<LeafSteps['artifactOutput']>[1], ctx: StepContext): Promise<boolean> {
    return this.step(id, 'artifact_output', ctx, (c) => this.inner.artifactOutput(id, plan, c));
  }

  private async step(id: PlanId, kind: StepKind, ctx: StepContext, run: (ctx: StepContext) => Promise<boolean>): Promise<boolean> {
    const occurrence = this.seen.get(id) ?? 0;
    this.seen.set(id, occurrence + 1);
    const key = stepKey(id, occurrence);
    const record = this.records.get(key);
    const decision = stepDecision(record, this.opts.takeover(kind));
    if (decision === 'replay' && record?.state === 'finished') return this.replay(record, ctx);
    if (decision === 'unknown') {
      throw new Error(
        `step ${id} was running when the web node that ran this build stopped, and its result is unknown: ` +
          'it is not run a second time (its kind cannot be re-attached)',
      );
    }
    // 'rerun': its start is recorded already; it runs again as if new
    let journaled: Promise<void> | undefined;
    if (decision === 'run') {
      const started = persist(() => this.opts.store.recordStepStarted(this.opts.buildId, key, id), ctx.signal);
      // a step whose only effect outside the web node is a container (task, get, put, check)
      // resolves its image meanwhile and makes its container once the start is recorded
      // (resource-script.ts, task.ts); the others wait for it first
      if (CONTAINER_KINDS.has(kind)) {
        journaled = started;
        journaled.catch(() => undefined); // awaited below
      } else await started;
    }
    const state = new RecordingState(ctx.state);
    const stepCtx: StepContext = { ...ctx, state, stepKey: key, ...(decision === 'reattach' ? { reattach: true } : {}), ...(journaled ? { journaled } : {}) };
    let outcome: StepOutcome;
    try {
      outcome = { ok: await run(stepCtx) };
      await journaled;
    } catch (err) {
      // the end is recorded after the start, or not at all when the start could not be
      await journaled;
      // an abort (the build's, a hand-over, a timeout) is not the step's result
      if (ctx.signal.aborted) throw err;
      outcome = { error: err instanceof Error ? err.message : String(err) };
      await this.finish(key, id, outcome, state.effects);
      throw err;
    }
    await this.finish(key, id, outcome, state.effects);
    return outcome.ok;
  }

  private async finish(key: string, id: PlanId, outcome: StepOutcome, effects: StepEffects): Promise<void> {
    const kept: StepEffects = { artifacts: effects.artifacts, results: effects.results.map(([k, v]) => [k, durable(v)]), vars: effects.vars };
    await persist(() => this.opts.store.recordStepFinished(this.opts.buildId, key, id, outcome, kept));
  }

  private async replay(record: Extract<StepRecord, { state: 'finished' }>, ctx: StepContext): Promise<boolean> {
    const present = this.opts.present ?? artifactPresent;
    for (const [name, artifact] of record.effects.artifacts) {
      if (!(await present(artifact))) {
        throw new Error(
          `the artifact '${name}' of step ${record.planId}, which finished before this web node took the build over, is not on this node ` +
            '(artifacts live on the disk of the web node that made them): the build cannot go on',
        );
      }
    }
    for (const [name, artifact] of record.effects.artifacts) ctx.state.registerArtifact(name, artifact);
    for (const [id, value] of record.effects.results) ctx.state.storeResult(id, value);
    for (const [name, value] of record.effects.vars) ctx.state.setLocalVar(name, value);
    if ('error' in record.outcome) throw new Error(record.outcome.error);
    return record.outcome.ok;
  }
}
