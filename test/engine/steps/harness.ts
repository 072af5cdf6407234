// What every step's unit test needs: the steps' dependencies on the in-memory store and the
// scripted runtime (no Postgres, no registry, no network), wired as the engine wires them
// (src/engine/engine.ts stepDeps), a build of a pipeline, and a way to run one plan and see its
// outcome, its events and the run state.
import type { TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { decodePipeline, jobStep, type Job, type PipelineConfig, type StepConfig } from '../../../src/config/index.ts';
import { PlanExecutor, errorMessage, type StepContext } from '../../../src/engine/exec.ts';
import { RunState } from '../../../src/engine/run-state.ts';
import { BuildSteps, type BuildInfo, type StepDeps } from '../../../src/engine/steps/index.ts';
import { createInterpolator, Redactor, VarSources } from '../../../src/engine/vars.ts';
import type { Artifact } from '../../../src/model/artifact.ts';
import type { BuildEvent, BuildEventData, BuildEventType } from '../../../src/model/build-events.ts';
import type { Plan } from '../../../src/model/plan.ts';
import type { Version } from '../../../src/model/version.ts';
import { imageForType, type PlannerResourceType } from '../../../src/planner/image-plan.ts';
import { createPlan } from '../../../src/planner/planner.ts';
import { MemoryEngineStore } from '../../support/memory-engine-store.ts';
import { ScriptedRuntime, type ResourceHandler, type TaskHandler } from '../../support/scripted-runtime.ts';

/** A digest as registries write them (sha256 of nothing in particular). */
export const DIGEST = `sha256:${'ab12'.repeat(16)}`;
export const OTHER_DIGEST = `sha256:${'cd34'.repeat(16)}`;

export interface HarnessOptions {
  /** the build's pipeline (YAML); its resources and types become rows of the store */
  pipeline?: string;
  /** native image paths (the engine sets it only when the runtime runs images) */
  nativeImages?: boolean;
  runsImages?: boolean;
  resource?: ResourceHandler;
  task?: TaskHandler;
  /** a one-off build (`jetway execute`): no pipeline, no job */
  oneOff?: boolean;
  build?: Partial<BuildInfo>;
  /** the store's clock (when checks started, ended, are due next) */
  now?: () => Date;
  /** the runtime's processes outlive the web node (ScriptedRuntime `reattaches`) */
  reattaches?: boolean;
}

/** How a step ended: its boolean, or the error it threw (the build would be errored). */
export type StepOutcome = { ok: boolean } | { error: string };

export interface Harness {
  store: MemoryEngineStore;
  runtime: ScriptedRuntime;
  deps: StepDeps;
  state: RunState;
  events: BuildEvent[];
  config: PipelineConfig;
  pipelineId: number | undefined;
  /** a temporary directory of the test's own (uploads, artifact sources) */
  dir: string;
  /** `journaled`: the step's start being recorded (StepContext.journaled, as the journal gives it) */
  run(plan: Plan, signal?: AbortSignal, journaled?: Promise<void>): Promise<StepOutcome>;
  /** as the planner makes it: one step of a job (its leaf, or a put with its implicit get), or several (a `do`) */
  stepPlan(step: StepConfig | StepConfig[], inputs?: Record<string, Version>): Plan;
  /** the check of a pipeline resource, as the checker (or `jetway check-resource`) plans it */
  checkPlan(resource: string, opts?: { id?: string; interval?: string; skipInterval?: boolean; fromVersion?: Version }): Plan;
  /** registers a directory with these files as the artifact `name` (a step before it made it) */
  volume(name: string, files: Record<string, string>): Artifact;
}

export const BUILD_ID = 42;
export const JOB_ID = 7;

export function harness(t: TestContext, options: HarnessOptions = {}): Harness {
  const store = new MemoryEngineStore(options.now ? { now: options.now } : {});
  const runtime = new ScriptedRuntime({
    name: 'scripted',
    runsImages: options.runsImages ?? false,
    ...(options.resource ? { resource: options.resource } : {}),
    ...(options.task ? { task: options.task } : {}),
    ...(options.reattaches ? { reattaches: true } : {}),
  });
  const dir = mkdtempSync(join(tmpdir(), 'jw-step-test-'));
  t.after(() => {
    runtime.cleanup();
    rmSync(dir, { recursive: true, force: true });
  });

  let config: PipelineConfig = {};
  if (options.pipeline !== undefined) {
    // decoded, not validated: steps are planned one at a time, so the pipeline needs no jobs
    const loaded = decodePipeline(options.pipeline);
    assert.deepEqual(loaded.errors, [], 'the test pipeline decodes');
    config = loaded.config!;
  }
  const pipelineId = options.oneOff ? undefined : store.addPipeline({ team: 'main', name: 'p', config, paused: false });
  const build: BuildInfo = {
    id: BUILD_ID,
    name: '3',
    teamId: 1,
    teamName: 'main',
    ...(pipelineId !== undefined ? { pipelineId, pipelineName: 'p', jobId: JOB_ID, jobName: 'build' } : {}),
    createTime: new Date(Date.now() - 60_000),
    ...options.build,
  };
  const redactor = new Redactor();
  const deps: StepDeps = {
    store,
    runtime,
    build,
    interpolator: createInterpolator(new VarSources(config.var_sources ?? []), redactor),
    redactor,
    externalUrl: 'http://jetway.test',
    artifactsDir: join(dir, 'artifacts'),
    nativeImages: options.nativeImages ?? false,
    resourceTypes: config.resource_types ?? [],
  };
  const state = new RunState();
  const events: BuildEvent[] = [];
  const planJob = (job: Job, inputs: Record<string, Version>): Plan =>
    createPlan({ step: jobStep(job), resources: config.resources ?? [], resourceTypes: config.resource_types ?? [], buildInputs: inputs, manuallyTriggered: false });

  return {
    store,
    runtime,
    deps,
    state,
    events,
    config,
    pipelineId,
    dir,
    async run(plan, signal = new AbortController().signal, journaled) {
      const ctx: StepContext = { signal, state, emit: async (e) => void events.push(e), ...(journaled ? { journaled } : {}) };
      try {
        return { ok: await new PlanExecutor(new BuildSteps(deps)).run(plan, ctx) };
      } catch (err) {
        return { error: errorMessage(err) };
      }
    },
    stepPlan(step, inputs = {}) {
      const plan = planJob({ name: 'build', plan: Array.isArray(step) ? step : [step] }, inputs);
      return 'do' in plan && plan.do.length === 1 ? plan.do[0]! : plan;
    },
    checkPlan(resource, opts = {}) {
      const r = config.resources?.find((x) => x.name === resource);
      assert.ok(r, `resource ${resource}`);
      const id = opts.id ?? 'chk';
      const type = r.type ?? '';
      const types: PlannerResourceType[] = (config.resource_types ?? []).map((t) => ({ name: t.name ?? '', type: t.type ?? '', ...(t.source ? { source: t.source } : {}) }));
      return {
        id,
        check: {
          name: resource,
          type,
          source: r.source ?? {},
          resource,
          interval: opts.interval ?? r.check_every ?? '1m',
          ...(opts.skipInterval ? { skip_interval: true } : {}),
          ...(opts.fromVersion ? { from_version: opts.fromVersion } : {}),
          image: imageForType(id, type, types, undefined, opts.skipInterval === true),
        },
      };
    },
    volume(name, files) {
      const path = join(dir, 'volumes', name);
      mkdirSync(path, { recursive: true });
      for (const [file, content] of Object.entries(files)) {
        mkdirSync(dirname(join(path, file)), { recursive: true });
        writeFileSync(join(path, file), content);
      }
      const artifact: Artifact = { kind: 'volume', path };
      state.registerArtifact(name, artifact);
      return artifact;
    },
  };
}

/** The first plan node of a kind in a plan tree (a put is wrapped with its implicit get). */
export function leaf(plan: Plan, kind: 'get' | 'put' | 'task' | 'check' | 'set_pipeline' | 'load_var'): Plan {
  const found = findLeaf(plan, kind);
  if (!found) throw new Error(`no ${kind} step in the plan`);
  return found;
}

function findLeaf(plan: Plan, kind: string): Plan | undefined {
  if (kind in plan) return plan;
  for (const child of childPlans(plan)) {
    const found = findLeaf(child, kind);
    if (found) return found;
  }
  return undefined;
}

function childPlans(plan: Plan): Plan[] {
  if ('do' in plan) return plan.do;
  if ('on_success' in plan) return [plan.on_success.step, plan.on_success.on_success];
  if ('in_parallel' in plan) return plan.in_parallel.steps;
  return [];
}

/** The data of every event of a type, in order. */
export function eventData<K extends BuildEventType>(events: readonly BuildEvent[], type: K): BuildEventData[K][] {
  return events.filter((e) => e.event === type).map((e) => e.data as BuildEventData[K]);
}

/** The plan id an event belongs to (the build's status events have none). */
export function originOf(event: BuildEvent): string | undefined {
  return 'origin' in event.data ? event.data.origin.id : undefined;
}

/** The event types, in order, logs left out (their chunking is the script's business). */
export function eventTypes(events: readonly BuildEvent[]): string[] {
  return events.filter((e) => e.event !== 'log').map((e) => e.event);
}

/** Everything logged on a stream, joined. */
export function logged(events: readonly BuildEvent[], source: 'stdout' | 'stderr'): string {
  return eventData(events, 'log')
    .filter((l) => l.origin.source === source)
    .map((l) => l.payload)
    .join('');
}

export function errorOf(outcome: StepOutcome): string {
  assert.ok('error' in outcome, `expected the step to error, it returned ${JSON.stringify(outcome)}`);
  return outcome.error;
}
