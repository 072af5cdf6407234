// The engine as the web node runs it: given a started build's id, load its plan and context
// from its store, run it on the runtime, write its events as they happen, and finish it.
// It is the scheduler's and checker's BuildTracker.
import { type Logger } from '../log.ts';
import { ProcessDetached, type Runtime } from '../runtime/runtime.ts';
import { JournaledSteps, takeoverMode } from './journal.ts';
import type { LeafSteps } from './exec.ts';
import type { BuildTracker } from '../scheduler/interfaces.ts';
import { buildEvent, unixNow, type BuildStatus } from '../model/build-events.ts';
import { errorMessage, runBuild } from './exec.ts';
import { BuildAborted } from './outcome.ts';
import { BuildSteps, type StepDeps } from './steps/index.ts';
import { createInterpolator, Redactor, VarSources, type CredentialManager, type IdTokenSigner } from './vars.ts';
import { isDiskFull, isTransient, redactedEvent, retryDelayMs, StoreEventSink, type EventSinkLimits, type SinkReport } from './event-sink.ts';
import type { BuildLeases, OrphanedBuild } from './leases.ts';
import type { BuildToRun, EngineStore } from './store.ts';
import type { InProcessChecks } from '../resources/in-process.ts';
import type { PipelineConfig } from '../config/index.ts';
import type { BuildEvent } from '../model/build-events.ts';
import type { InMemoryCheck, InMemoryCheckOutcome } from '../model/in-memory-check.ts';

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
  /** the idtoken var source's keys (src/creds/idtoken; absent: `((source:token))` of an idtoken source fails saying so) */
  idTokens?: IdTokenSigner;
  /**
   * Resolve images natively (no check/get pods for registry images) when the runtime runs
   * images; `false` sends everything through pods, for comparison (default true).
   */
  nativeImages?: boolean;
  /** the built-in types whose checks run in the web node (issue 23, docs/in-process-checks.md) */
  inProcessChecks?: InProcessChecks;
  /** told after each build finishes (the web node wakes the scheduler) */
  onBuildFinished?: (buildId: number, status: BuildStatus) => void;
  metrics?: EngineMetrics;
  /**
   * Several web nodes on one database (docs/web-nodes.md): the engine runs a build only while
   * this node holds its lease. Without it (one node, tests) every build is this node's.
   */
  leases?: BuildLeases;
  /** the bounds of a build's events waiting for the database (defaults in event-sink.ts) */
  eventLimits?: EventSinkLimits;
}

/** The build's lease went to another web node: this node stops running it and records nothing more. */
class BuildLost extends Error {
  constructor() {
    super('the build was taken over by another web node');
    this.name = 'BuildLost';
  }
}

const pause = (ms: number, signal: AbortSignal): Promise<void> =>
  new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const t = setTimeout(resolve, ms);
    signal.addEventListener('abort', () => (clearTimeout(t), resolve()), { once: true });
  });

/**
 * The status a build ends with once its events are in (issue 17): a build that lost events, or
 * whose records met a full disk, does not claim success (nor failure: its record is incomplete);
 * the message says why. Aborted stays aborted.
 */
export function finalStatus(status: BuildStatus, report: SinkReport): { status: BuildStatus; reason?: string } {
  if (status === 'aborted' || status === 'errored') return { status };
  if (report.lost > 0) {
    return { status: 'errored', reason: `${report.lost} build event${report.lost === 1 ? '' : 's'} could not be saved (${report.firstLoss ?? 'the database was unavailable'}), so the build cannot say it ${status}` };
  }
  if (report.diskFull) return { status: 'errored', reason: `the database's disk was full while this build ran, so the build cannot say it ${status}` };
  return { status };
}

function buildKind(build: BuildToRun): BuildKind {
  if (build.jobId !== null) return 'job';
  if (build.resourceId !== null || build.resourceTypeId !== null) return 'check';
  return 'one-off';
}

/** The runtime as one build sees it: every container it creates is counted on the build. */
function countingRuntime(runtime: Runtime, store: EngineStore, buildId: number, metrics: EngineMetrics | undefined, teamId: number): Runtime {
  return {
    name: runtime.name,
    runsImages: runtime.runsImages,
    ...(runtime.appliesImages ? { appliesImages: true } : {}),
    // the build's team: the local runtime keeps resource caches per team (docs/local-containers.md)
    ...(runtime.cachedResource ? { cachedResource: (id: number) => runtime.cachedResource!(id, teamId) } : {}),
    ...(runtime.keepResourceCache ? { keepResourceCache: (id, artifact, result) => runtime.keepResourceCache!(id, artifact, result, teamId) } : {}),
    async createContainer(spec, signal) {
      const container = await runtime.createContainer(spec, signal);
      metrics?.containerCreated(runtime.name, spec.metadata.type, spec.metadata.purpose ?? 'step');
      await store.countBuildContainer(buildId, spec.metadata.purpose ?? 'step', spec.metadata.type);
      return container;
    },
    ...(runtime.releaseBuild ? { releaseBuild: (id: number) => runtime.releaseBuild!(id) } : {}),
    ...(runtime.reattaches ? { reattaches: true } : {}),
    ...(runtime.reattachContainer ? { reattachContainer: (spec, signal) => runtime.reattachContainer!(spec, signal) } : {}),
  };
}

/** Events kept of one in-memory check (its log is bounded by the in-process checks already). */
const MAX_IN_MEMORY_EVENTS = 1000;

/** The runtime of an in-memory check: the step stops before a container (StepDeps.inMemory); this makes sure. */
function noContainers(runtime: Runtime): Runtime {
  return {
    name: runtime.name,
    runsImages: runtime.runsImages,
    ...(runtime.appliesImages ? { appliesImages: true } : {}),
    createContainer: () => Promise.reject(new Error('an in-memory check creates no container')),
  };
}

export class Engine implements BuildTracker {
  private readonly running = new Map<number, { controller: AbortController; done: Promise<void> }>();
  /** builds this node holds the lease of (claimed, not yet finished) */
  private readonly claimed = new Set<number>();
  /** aborted by stop(): retries of events and finishes give up */
  private readonly stopping = new AbortController();
  /** when the last heartbeat failed (the database was away): no takeover until a lease later */
  private heartbeatFailedAt: number | undefined;

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
   * Builds left `started` by this node's previous incarnation, or by no node at all, cannot be
   * re-attached on the local runtime (their processes died with it): they end `errored` with the
   * reason, never stuck. Builds another live node owns are left alone (docs/web-nodes.md).
   */
  async recoverOrphans(): Promise<number> {
    const orphans: OrphanedBuild[] = this.opts.leases
      ? await this.opts.leases.claimOrphans(true)
      : (await this.opts.store.runningBuildIds()).map((id) => ({ id, previousOwner: null, leaseExpired: null }));
    let count = 0;
    for (const orphan of orphans) {
      if (this.running.has(orphan.id)) continue;
      await this.takeOver(orphan);
      count++;
    }
    return count;
  }

  /**
   * A build nobody runs any more, now this node's: on a runtime whose processes outlive the web
   * node it goes on here (its plan walked again, finished steps answered from the journal, the
   * running one re-attached: journal.ts); elsewhere it ends errored.
   */
  private async takeOver(orphan: OrphanedBuild): Promise<void> {
    if (!this.opts.runtime.reattaches) return this.endOrphan(orphan);
    this.opts.logger.warn({ buildId: orphan.id, previousOwner: orphan.previousOwner }, 'continuing a build another web node (or this one before a restart) ran: re-attaching its steps');
    this.track(orphan.id);
  }

  /**
   * One heartbeat of this node (the web node calls it every few seconds): renews the leases of
   * its builds, stops running any build another node took over meanwhile, and takes over the
   * builds of nodes whose leases expired. Returns the builds taken over.
   */
  async heartbeat(leaseMs: number): Promise<number[]> {
    const leases = this.opts.leases;
    if (!leases) return [];
    const held = new Set(this.claimed);
    let owned: Set<number>;
    try {
      const beat = await leases.heartbeat();
      owned = new Set(beat.owned);
      // an abort that reached another node's API (or this one's while the build was starting)
      for (const id of beat.aborted) this.abort(id);
    } catch (err) {
      this.heartbeatFailedAt = Date.now();
      throw err;
    }
    for (const id of held) {
      if (owned.has(id) || !this.claimed.has(id)) continue;
      this.opts.logger.warn({ buildId: id }, 'another web node took this build over (this node could not renew its lease): stopping it here');
      this.running.get(id)?.controller.abort(new BuildLost());
    }
    // After the database was away every lease looks expired: the live owners renew theirs
    // within a lease, so nothing is taken over before that (or live builds would be run twice).
    if (this.heartbeatFailedAt !== undefined) {
      if (Date.now() - this.heartbeatFailedAt < leaseMs) return [];
      this.heartbeatFailedAt = undefined;
    }
    const taken: number[] = [];
    for (const orphan of await leases.claimOrphans(false)) {
      if (this.running.has(orphan.id)) continue;
      await this.takeOver(orphan);
      taken.push(orphan.id);
    }
    return taken;
  }

  /** A build nobody runs any more: its processes are gone, it ends errored saying why. */
  private async endOrphan(orphan: OrphanedBuild): Promise<void> {
    const self = this.opts.leases?.node;
    const message =
      orphan.previousOwner !== null && orphan.previousOwner !== self
        ? `the web node ${orphan.previousOwner} that ran this build stopped (its lease expired${orphan.leaseExpired ? ` at ${orphan.leaseExpired.toISOString()}` : ''}); its processes are gone`
        : 'the web node restarted while this build was running; its processes were stopped with it';
    this.opts.logger.warn({ buildId: orphan.id, previousOwner: orphan.previousOwner }, message);
    const sink = new StoreEventSink(this.opts.store, orphan.id, this.opts.logger, this.opts.eventLimits);
    void sink.emit(buildEvent('error', { time: unixNow(), origin: { id: 'build' }, message }));
    await sink.flushed();
    await this.finish(orphan.id, 'errored', sink);
    // what its containers left (pods of a Kubernetes build) goes now, not at the reaper's next pass
    await this.opts.runtime.releaseBuild?.(orphan.id).catch((err: unknown) => this.opts.logger.warn({ buildId: orphan.id, err: errorMessage(err) }, 'releasing the build failed'));
  }

  /** How many builds this engine is running. */
  get runningBuilds(): number {
    return this.running.size;
  }

  /**
   * Stops every running build (shutdown). With several web nodes possible (leases) and a runtime
   * whose processes outlive this one, the builds are handed over (SIGTERM drains: no new step
   * starts, running processes are left running, the leases released for another node, or this
   * one restarted, to take over at once); otherwise they end aborted.
   */
  async stop(): Promise<void> {
    const handOver = this.opts.leases !== undefined && this.opts.runtime.reattaches === true;
    if (!handOver) this.stopping.abort();
    for (const { controller } of this.running.values()) controller.abort(handOver ? new ProcessDetached() : new BuildAborted());
    await Promise.all([...this.running.values()].map((r) => r.done));
    this.stopping.abort();
  }

  private async run(buildId: number, signal: AbortSignal): Promise<void> {
    const { logger, leases, store } = this.opts;
    // the build and its journal (when the runtime re-attaches) are read while its lease is
    // claimed: three round trips, none waiting for another (issue 23, the trigger's path).
    // Reads only: a node that is refused the lease has read for nothing and does nothing.
    const reads = {
      runnable: store.buildToRun(buildId),
      journal: this.opts.runtime.reattaches ? store.buildSteps(buildId) : undefined,
    };
    reads.runnable.catch(() => undefined); // awaited in runClaimed; a failure then fails the build as before
    reads.journal?.catch(() => undefined);
    if (leases && !(await leases.claim(buildId))) {
      logger.info({ buildId }, 'another web node runs this build');
      return;
    }
    this.claimed.add(buildId);
    try {
      await this.runClaimed(buildId, signal, reads);
    } finally {
      this.claimed.delete(buildId);
    }
  }

  private async runClaimed(
    buildId: number,
    signal: AbortSignal,
    reads: { runnable: ReturnType<EngineStore['buildToRun']>; journal: ReturnType<EngineStore['buildSteps']> | undefined },
  ): Promise<void> {
    const { store, logger } = this.opts;
    const journal = reads.journal;
    const runnable = await reads.runnable;
    if (!runnable) throw new Error(`build ${buildId} not found`);
    const { build, plan, pipelineConfig } = runnable;
    const sink = new StoreEventSink(store, buildId, logger, this.opts.eventLimits);
    let status: BuildStatus;
    try {
      if (build.aborted) throw new BuildAborted();
      if (!plan) throw new Error(`build ${buildId} has no plan`);
      const deps = this.stepDeps(build, signal, pipelineConfig);
      sink.redactor = deps.redactor;
      logger.info({ buildId, job: build.jobName, pipeline: build.pipelineName }, 'build started');
      let leaves: LeafSteps = new BuildSteps(deps);
      if (journal) {
        // a journal of its steps, so another web node can continue it (journal.ts)
        const records = await journal;
        leaves = new JournaledSteps(leaves, { store, buildId, records, takeover: takeoverMode });
      }
      status = await runBuild({ plan, leaves, sink, signal });
    } catch (err) {
      status = err instanceof BuildAborted ? 'aborted' : 'errored';
      if (status === 'errored' && !(signal.reason instanceof BuildLost) && !(signal.reason instanceof ProcessDetached)) {
        await sink.emit(buildEvent('error', { time: unixNow(), origin: { id: 'build' }, message: errorMessage(err) }));
      }
    }
    if (signal.reason instanceof ProcessDetached) {
      // handed over (this node stops): what was emitted is written, nothing more; the next
      // node re-attaches, and the build's volumes stay for it (the same node restarted)
      await sink.flushed();
      await this.opts.leases?.release(buildId).catch((err: unknown) => logger.warn({ buildId, err: errorMessage(err) }, 'releasing the build lease failed; it expires instead'));
      logger.info({ buildId }, 'build handed over: its running process is left for the next web node');
      return;
    }
    if (signal.reason instanceof BuildLost) {
      // the node that took it over records its end; this one writes nothing more
      sink.abandon();
      await this.opts.runtime.releaseBuild?.(buildId).catch(() => undefined);
      return;
    }
    const final = finalStatus(status, await sink.flushed());
    if (final.reason) {
      logger.error({ buildId, status, reason: final.reason }, 'the build ends errored');
      void sink.emit(buildEvent('error', { time: unixNow(), origin: { id: 'build' }, message: final.reason }));
    }
    status = await this.finish(buildId, final.status, sink);
    this.opts.metrics?.buildFinished(buildKind(build), status, build.startTime ? (Date.now() - build.startTime.getTime()) / 1000 : undefined);
    // Nothing of a finished build's working state is needed again: its volumes go.
    await this.opts.runtime.releaseBuild?.(buildId).catch((err: unknown) => logger.warn({ buildId, err: errorMessage(err) }, 'releasing build volumes failed'));
    logger.info({ buildId, status }, 'build finished');
    this.opts.onBuildFinished?.(buildId, status);
  }

  /**
   * Records the build's end, trying again while the database is away (issue 17). A finish the
   * database refuses for a full disk ends the build errored with that reason once it can.
   * Returns the status recorded.
   */
  private async finish(buildId: number, wanted: BuildStatus, sink: StoreEventSink): Promise<BuildStatus> {
    let status = wanted;
    let warned = false;
    for (let attempt = 0; ; attempt++) {
      try {
        await this.opts.store.finishBuild(buildId, status);
        if (warned) this.opts.logger.info({ buildId, status }, 'build finish recorded');
        return status;
      } catch (err) {
        if (isDiskFull(err) && status !== 'errored' && status !== 'aborted') {
          const message = `the build ${status} but its end could not be recorded: the database's disk is full (${errorMessage(err)})`;
          status = 'errored';
          void sink.emit(buildEvent('error', { time: unixNow(), origin: { id: 'build' }, message }));
          await sink.flushed();
        }
        if ((!isTransient(err) && attempt >= 4) || this.stopping.signal.aborted) throw err;
        if (!warned) {
          warned = true;
          this.opts.logger.warn({ buildId, status, err: errorMessage(err) }, 'recording the build finish failed; retrying');
        }
        await pause(retryDelayMs(attempt), this.stopping.signal);
      }
    }
  }

  /**
   * Runs an in-memory check (src/model/in-memory-check.ts): the check plan with no build record,
   * no journal and no container; its events kept here (bounded) for the checker to record if it
   * did not succeed. A check that needs a container stops before it writes anything and says so.
   */
  async runInMemoryCheck(check: InMemoryCheck, pipeline: Pick<PipelineConfig, 'resource_types' | 'var_sources'>, signal: AbortSignal): Promise<InMemoryCheckOutcome> {
    const build: BuildToRun = {
      id: check.id,
      name: 'check',
      teamId: check.teamId,
      teamName: check.teamName,
      jobId: null,
      jobName: null,
      pipelineId: check.pipelineId,
      pipelineName: check.pipelineName,
      resourceId: check.resourceId,
      resourceTypeId: null,
      aborted: false,
      createTime: check.createTime,
      startTime: check.createTime,
      createdBy: null,
    };
    const events: BuildEvent[] = [];
    let status: BuildStatus;
    const inMemory: NonNullable<StepDeps['inMemory']> = {};
    let redactor: StepDeps['redactor'] | undefined;
    const sink = {
      emit: async (event: BuildEvent): Promise<void> => {
        if (events.length >= MAX_IN_MEMORY_EVENTS) return;
        events.push(redactedEvent(redactor, event));
      },
    };
    try {
      const deps = this.stepDeps(build, signal, pipeline, inMemory);
      redactor = deps.redactor;
      status = await runBuild({ plan: check.plan, leaves: new BuildSteps(deps), sink, signal });
    } catch (err) {
      status = err instanceof BuildAborted || signal.aborted ? 'aborted' : 'errored';
      if (status === 'errored') await sink.emit(buildEvent('error', { time: unixNow(), origin: { id: 'build' }, message: errorMessage(err) }));
    }
    if (inMemory.needsContainer !== undefined) return { ran: false, reason: inMemory.needsContainer };
    this.opts.metrics?.buildFinished('check', status, (Date.now() - check.createTime.getTime()) / 1000);
    return { ran: true, status, events };
  }

  /** `pipeline`: what the steps need of the build's pipeline config; `inMemory`: an in-memory check. */
  private stepDeps(
    build: BuildToRun,
    signal: AbortSignal,
    pipeline: Pick<PipelineConfig, 'resource_types' | 'var_sources'> | undefined,
    inMemory?: NonNullable<StepDeps['inMemory']>,
  ): StepDeps {
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
      const idTokens = this.opts.idTokens
        ? {
            issuer: this.opts.idTokens,
            context: { team: build.teamName, pipeline: build.pipelineName ?? '', job: build.jobName ?? '', ...(build.pipelineInstanceVars ? { instanceVars: build.pipelineInstanceVars } : {}) },
          }
        : undefined;
      varSources = new VarSources(pipeline?.var_sources ?? [], credentials, idTokens);
      resourceTypes = pipeline?.resource_types ?? [];
    }
    const redactor = new Redactor();
    return {
      store,
      // an in-memory check has no record to count containers on, and may create none
      runtime: inMemory ? noContainers(this.opts.runtime) : countingRuntime(this.opts.runtime, store, build.id, this.opts.metrics, build.teamId),
      ...(inMemory ? { inMemory } : {}),
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
      ...(this.opts.inProcessChecks ? { inProcessChecks: this.opts.inProcessChecks } : {}),
    };
  }
}
