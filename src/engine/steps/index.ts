// The leaf steps of a build, bound to its dependencies. Image sub-plans run through the same
// executor, so a custom type's check and get behave exactly like the build's own steps.
import type { ArtifactInputPlan, ArtifactOutputPlan, CheckPlan, GetPlan, LoadVarPlan, PlanId, PutPlan, SetPipelinePlan, TaskPlan } from '../../model/plan.ts';
import { runArtifactInput, runArtifactOutput } from './artifacts.ts';
import { PlanExecutor, type LeafSteps, type StepContext } from '../exec.ts';
import type { RunState } from '../run-state.ts';
import { runCheck } from './check.ts';
import type { StepDeps } from './deps.ts';
import { runGet } from './get.ts';
import { runLoadVar } from './load-var.ts';
import { runPut } from './put.ts';
import { runSetPipeline } from './set-pipeline.ts';
import { runTask } from './task.ts';
import { imageResolverFor, type ImageResolver } from '../image/index.ts';

export class BuildSteps implements LeafSteps {
  private readonly executor: PlanExecutor;
  /** the build's image seam, chosen once from the runtime; image sub-plans run on this executor */
  private readonly images: ImageResolver;

  constructor(private readonly deps: StepDeps) {
    this.executor = new PlanExecutor(this);
    this.images = imageResolverFor(deps, (plan, ctx) => this.executor.run(plan, ctx));
  }

  get(id: PlanId, plan: GetPlan, ctx: StepContext): Promise<boolean> {
    return runGet(id, plan, ctx, this.deps, this.images);
  }
  put(id: PlanId, plan: PutPlan, ctx: StepContext): Promise<boolean> {
    return runPut(id, plan, ctx, this.deps, this.images);
  }
  task(id: PlanId, plan: TaskPlan, ctx: StepContext): Promise<boolean> {
    return runTask(id, plan, ctx, this.deps, this.images);
  }
  check(id: PlanId, plan: CheckPlan, ctx: StepContext): Promise<boolean> {
    return runCheck(id, plan, ctx, this.deps, this.images);
  }
  setPipeline(id: PlanId, plan: SetPipelinePlan, ctx: StepContext): Promise<boolean> {
    return runSetPipeline(id, plan, ctx, this.deps);
  }
  loadVar(id: PlanId, plan: LoadVarPlan, ctx: StepContext): Promise<boolean> {
    return runLoadVar(id, plan, ctx, this.deps);
  }
  artifactInput(id: PlanId, plan: ArtifactInputPlan, ctx: StepContext): Promise<boolean> {
    return runArtifactInput(id, plan, ctx, this.deps);
  }
  artifactOutput(id: PlanId, plan: ArtifactOutputPlan, ctx: StepContext): Promise<boolean> {
    return runArtifactOutput(id, plan, ctx, this.deps);
  }
  evaluate<T>(value: T, state: RunState): Promise<T> {
    return this.deps.interpolator.evaluate(value, state);
  }
}

export type { StepDeps, BuildInfo } from './deps.ts';
