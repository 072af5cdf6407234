// The engine as the web node runs it: given a started build's id, load its plan and context
// from its store, run it on the runtime, write its events as they happen, and finish it.
// It is the scheduler's and checker's BuildTracker.
import { type Logger } from '../log.ts';
import type { Runtime } from '../runtime/runtime.ts';
import type { BuildTracker } from '../scheduler/interfaces.ts';
import { buildEvent, unixNow, type BuildEvent, type BuildStatus } from '../model/build-events.ts';
import type { EventSink } from './exec.ts';
import { errorMessage, runBuild } from './exec.ts';
import { BuildAborted } from './outcome.ts';
import { BuildSteps, type StepDeps } from './steps/index.ts';
import { createInterpolator, Redactor, VarSources } from './vars.ts';
import type { BuildToRun, EngineStore } from './store.ts';
import type { CredentialManager } from '../creds/credential-manager.ts';

/** What a build is, for metrics: a job's, a resource (type) check, or a one-off (`execute`). */
export type BuildKind = 'job' | 'check' | 'one-off';

/** What the engine reports to metrics (src/metrics implements it). */
export interface EngineMetrics {
  buildFinished(kind: BuildKind, status: BuildStatus, seconds: number | undefined): void;
  containerCreated(runtime: string, type: string, purpose: string): void;
  /** an image (custom type, task image_resource) resolved natively, or through check + get containers */
  imageResolved(how: 'native' | 'containers'): void;
}

export interface EngineOptions {
  store: EngineStore;
  runtime: Runtime;
  externalUrl: string;
  /** where artifact tarballs of one-off builds (`execute`) live */
  artifactsDir: string;
  logger: Logger;
  /**
   * The cluster's credential manager (none by default): `((name))` vars that no var source
   * names are looked up there, scoped to the build's team and pipeline, cached per build.
   */
  credentials?: CredentialManager;
  /**
   * Resolve images natively (no check/get pods for registry images) when the runtime runs
   * images; `false` sends everything through pods, for comparison (default true).
   */
  nativeImages?: boolean;
  /** told after each build finishes (the web node wakes the scheduler) */
  onBuildFinished?: (buildId: number, status: BuildStatus) => void;
  metrics?: EngineMetrics;
}

function buildKind(build: BuildToRun): BuildKind {
  if (build.jobId !== null) return 'job';
  if (build.resourceId !== null || build.resourceTypeId !== null) return 'check';
  return 'one-off';
}

/** Writes events to the store in call order, even when callers do not wait for each write. */
class StoreEventSink implements EventSink {
  private tail: Promise<void> = Promise.resolve();
  /**
   * The build's secrets, once its steps can find any: every event but `log` (whose payload the
   * step redacts as it writes) is redacted here, so a secret in a version, metadata or message
   * (a resource echoing its source, an error quoting a value) never reaches the events.
   */
  redactor: Redactor | undefined;

  constructor(
    private readonly store: EngineStore,
    private readonly buildId: number,
    private readonly logger: Logger,
  ) {}

  emit(event: BuildEvent): Promise<void> {
    const safe = this.redactor && event.event !== 'log' ? ({ ...event, data: this.redactor.redactValue(event.data) } as BuildEvent) : event;
    // A failed write is logged (below) and must not stop the writes after it.
    this.tail = this.tail.catch(() => undefined).then(() => this.store.saveBuildEvent(this.buildId, safe));
    return this.tail.catch((err: unknown) => {
      this.logger.error({ buildId: this.buildId, err: errorMessage(err) }, 'saving a build event failed');
    });
  }

  flushed(): Promise<void> {
    return this.tail.catch(() => undefined);
  }
}

/** The runtime as one build sees it: every container it creates is counted on the build. */
function countingRuntime(runtime: Runtime, store: EngineStore, buildId: number, metrics?: EngineMetrics): Runtime {
  return {
    name: runtime.name,
    runsImages: runtime.runsImages,
    ...(runtime.appliesImages ? { appliesImages: true } : {}),
    async createContainer(spec, signal) {
      const container = await runtime.createContainer(spec, signal);
      metrics?.containerCreated(runtime.name, spec.metadata.type, spec.metadata.purpose ?? 'step');
      await store.countBuildContainer(buildId, spec.metadata.purpose ?? 'step', spec.metadata.type);
      return container;
    },
    ...(runtime.releaseBuild ? { releaseBuild: (id: number) => runtime.releaseBuild!(id) } : {}),
  };
}

export class Engine implements BuildTracker {
  private readonly running = new Map<number, { controller: AbortController; done: Promise<void> }>();

  constructor(private readonly opts: EngineOptions) {}

  /** Runs the build in the background; errors end the build `errored`, never the process. */
  track(buildId: number): void {
    if (this.running.has(buildId)) return;
    const controller = new AbortController();
    const done = this.run(buildId, controller.signal)
      .catch((err: unknown) => this.opts.logger.error({ buildId, err: errorMessage(err) }, 'build tracking failed'))
      .finally(() => this.running.delete(buildId));
    this.running.set(buildId, { controller, done });
  }

  /** Cancels a running build (after the API marked it aborted). */
  abort(buildId: number): void {
    this.running.get(buildId)?.controller.abort(new BuildAborted());
  }

  isRunning(buildId: number): boolean {
    return this.running.has(buildId);
  }

  /** Waits for a build this engine runs to finish (tests, shutdown). */
  async wait(buildId: number): Promise<void> {
    await this.running.get(buildId)?.done;
  }

  /** Waits until no build runs here (including builds started while waiting). */
  async idle(): Promise<void> {
    while (this.running.size > 0) await Promise.all([...this.running.values()].map((r) => r.done));
  }

  /**
   * Builds left `started` by a previous web node cannot be re-attached on the local runtime
   * (their processes died with it): they end `errored` with the reason, never stuck.
   */
  async recoverOrphans(): Promise<number> {
    let count = 0;
    for (const buildId of await this.opts.store.runningBuildIds()) {
      if (this.running.has(buildId)) continue;
      const sink = new StoreEventSink(this.opts.store, buildId, this.opts.logger);
      await sink.emit(
        buildEvent('error', { time: unixNow(), origin: { id: 'build' }, message: 'the web node restarted while this build was running; its processes are gone' }),
      );
      await sink.flushed();
      await this.opts.store.finishBuild(buildId, 'errored');
      count++;
    }
    return count;
  }

  /** How many builds this engine is running. */
  get runningBuilds(): number {
    return this.running.size;
  }

  /** Stops every running build (shutdown): they end aborted. */
  async stop(): Promise<void> {
    for (const { controller } of this.running.values()) controller.abort(new BuildAborted());
    await Promise.all([...this.running.values()].map((r) => r.done));
  }

  private async run(buildId: number, signal: AbortSignal): Promise<void> {
    const { store, logger } = this.opts;
    const build = await store.build(buildId);
    if (!build) throw new Error(`build ${buildId} not found`);
    const sink = new StoreEventSink(store, buildId, logger);
    let status: BuildStatus;
    try {
      if (build.aborted) throw new BuildAborted();
      const plan = await store.buildPlan(buildId);
      if (!plan) throw new Error(`build ${buildId} has no plan`);
      const deps = await this.stepDeps(build, signal);
      sink.redactor = deps.redactor;
      logger.info({ buildId, job: build.jobName, pipeline: build.pipelineName }, 'build started');
      status = await runBuild({ plan, leaves: new BuildSteps(deps), sink, signal });
    } catch (err) {
      status = err instanceof BuildAborted ? 'aborted' : 'errored';
      if (status === 'errored') await sink.emit(buildEvent('error', { time: unixNow(), origin: { id: 'build' }, message: errorMessage(err) }));
    }
    await sink.flushed();
    await store.finishBuild(buildId, status);
    this.opts.metrics?.buildFinished(buildKind(build), status, build.startTime ? (Date.now() - build.startTime.getTime()) / 1000 : undefined);
    // Nothing of a finished build's working state is needed again: its volumes go.
    await this.opts.runtime.releaseBuild?.(buildId).catch((err: unknown) => logger.warn({ buildId, err: errorMessage(err) }, 'releasing build volumes failed'));
    logger.info({ buildId, status }, 'build finished');
    this.opts.onBuildFinished?.(buildId, status);
  }

  private async stepDeps(build: BuildToRun, signal: AbortSignal): Promise<StepDeps> {
    const { store } = this.opts;
    // one lookup per build: its cache lives as long as the build
    const credentials = this.opts.credentials?.forBuild(
      {
        team: build.teamName,
        ...(build.pipelineName !== null ? { pipeline: build.pipelineName } : {}),
      },
      signal,
    );
    let varSources: VarSources = new VarSources([], credentials);
    let resourceTypes: StepDeps['resourceTypes'] = [];
    if (build.pipelineId !== null) {
      const config = await store.pipelineConfig(build.pipelineId);
      varSources = new VarSources(config?.var_sources ?? [], credentials);
      resourceTypes = config?.resource_types ?? [];
    }
    const redactor = new Redactor();
    return {
      store,
      runtime: countingRuntime(this.opts.runtime, store, build.id, this.opts.metrics),
      build: {
        id: build.id,
        name: build.name,
        teamId: build.teamId,
        teamName: build.teamName,
        ...(build.pipelineId !== null ? { pipelineId: build.pipelineId } : {}),
        ...(build.pipelineName !== null ? { pipelineName: build.pipelineName } : {}),
        ...(build.jobId !== null ? { jobId: build.jobId } : {}),
        ...(build.jobName !== null ? { jobName: build.jobName } : {}),
        createTime: build.createTime,
        ...(build.createdBy ? { createdBy: build.createdBy } : {}),
      },
      interpolator: createInterpolator(varSources, redactor),
      redactor,
      externalUrl: this.opts.externalUrl,
      artifactsDir: this.opts.artifactsDir,
      nativeImages: this.opts.runtime.runsImages && this.opts.nativeImages !== false,
      resourceTypes,
      ...(this.opts.metrics ? { metrics: this.opts.metrics } : {}),
    };
  }
}
