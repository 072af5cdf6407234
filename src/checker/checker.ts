// The checker (lidar, docs/concourse-semantics.md §5): a periodic scanner creating check builds for the
// resources that need them, manual (API) and webhook checks, and the CheckRequester the build
// starter asks for the checks a pending build waits for. It only creates check builds and hands
// them to the BuildTracker; the engine runs them (scope lock, should-run, the check script,
// saving versions and the scope's check times).
//
// A periodic check of a built-in type the web node checks itself runs in memory instead
// (Concourse's in-memory check builds; src/model/in-memory-check.ts): no build row, no engine
// build, a few statements; a bounded number at a time. One that fails is kept as a check build;
// one that turns out to need a container is handed to a check build.
//
// Check builds are persisted `builds` rows named `check`, with resource_id / resource_type_id,
// status started, the plan saved and a `status: started` event. API and webhook checks are
// `manually_triggered` and kept (like any build). Periodic checks and the build starter's
// checks — in-memory builds in Concourse — are persisted too, not manually triggered, and
// pruned when the next one is created: only the newest `keepPeriodicBuilds` completed ones per
// resource (and the one the scope records as its last check) are kept.
import { COMPONENT } from '../component/names.ts';
import { silentLogger, type Logger } from '../log.ts';
import { PeriodicPass, type PassGate } from '../component/periodic.ts';
import { timingSafeEqual } from 'node:crypto';
import { parseDuration } from '../config/index.ts';
import type { BuildRecord } from '../db/builds.ts';
import { ConflictError, NotFoundError } from '../db/errors.ts';
import type { CheckTarget } from '../db/resources.ts';
import type { Version } from '../model/version.ts';
import type { InMemoryCheck, InMemoryCheckOutcome } from '../model/in-memory-check.ts';
import type { CheckCandidate } from '../db/resources.ts';
import type { BuildTracker, CheckRequest, CheckRequester } from '../scheduler/interfaces.ts';
import {
  DEFAULT_CHECK_TIMEOUT,
  DEFAULT_INTERVALS,
  resourceCheckInterval,
  resourceCheckPlan,
  resourceTypeCheckInterval,
  resourceTypeCheckPlan,
  scanDecision,
  type CheckInterval,
  type IntervalDefaults,
  type ScanDecision,
} from './policy.ts';
import type { CheckCreationStore, CheckerStore, PipelineCheckConfig } from './store.ts';

/** A running check build older than its timeout plus this is considered abandoned. */
const STALE_MARGIN_MS = 5 * 60_000;

export const DEFAULT_SCANNER_INTERVAL_MS = 10_000;

/** A bad or missing webhook token (HTTP 401). */
export class UnauthorizedError extends Error {}

/** Runs in-memory checks (the engine). */
export interface InMemoryCheckRunner {
  /** `pipeline`: what the check runs with of its pipeline's config (its types, its var sources) */
  runInMemoryCheck(check: InMemoryCheck, pipeline: PipelineCheckConfig, signal: AbortSignal): Promise<InMemoryCheckOutcome>;
}

export interface InMemoryChecksOptions {
  runner: InMemoryCheckRunner;
  /** whether the web node checks a base type with this (uninterpolated) source itself; the run decides for good */
  accepts(type: string, source: unknown): boolean;
  /** in-memory checks running at once (default 16) */
  concurrency?: number;
}

/** What the checker reports to metrics (src/metrics). */
export interface CheckerMetrics {
  /** a periodic check started, this long after it was due */
  checkStarted(how: 'in-memory' | 'build', lateSeconds: number): void;
}

export interface CheckerOptions {
  tracker: BuildTracker;
  /** periodic checks of the built-in types the web node checks itself, in memory (absent: every check a build) */
  inMemory?: InMemoryChecksOptions;
  metrics?: CheckerMetrics;
  /** Time between scans (default 10 s). */
  intervalMs?: number;
  /** Resources handled in parallel in one scan (default 8). */
  concurrency?: number;
  intervals?: Partial<IntervalDefaults>;
  /** Completed periodic check builds kept per resource (default 5). */
  keepPeriodicBuilds?: number;
  logger?: Logger;
  /** several web nodes: a scan runs once per interval across them (docs/web-nodes.md) */
  cluster?: PassGate;
}

export interface CheckOptions {
  /** Skip the interval and the one-running-check rule. */
  manual?: boolean;
  /** A manual check's `from` (default: the resource's pin for periodic checks). */
  from?: Version | null;
  /** Manual: do not skip the interval of nested type checks. */
  shallow?: boolean;
  createdBy?: string | null;
  /** A pending build waiting for this check: a running check created since it suffices. */
  forBuildId?: number;
  /** An API / webhook check: manually triggered and never pruned. */
  api?: boolean;
}

export type CheckCreation = { created: true; build: BuildRecord } | { created: false; reason: 'interval' | 'running' | 'never' | 'archived' };

export interface ScanResult {
  resourceId: number;
  decision: ScanDecision | 'running' | 'interval' | 'archived';
  buildId?: number;
  /** the check was queued to run in memory */
  inMemory?: true;
}

interface InMemoryItem {
  candidate: CheckCandidate;
  pipeline: PipelineCheckConfig;
}

export class Checker implements CheckRequester {
  private readonly store: CheckerStore;
  private readonly tracker: BuildTracker;
  private readonly intervalMs: number;
  private readonly concurrency: number;
  private readonly intervals: IntervalDefaults;
  private readonly keep: number;
  private readonly logger: Logger;
  private readonly loop: PeriodicPass<ScanResult[]>;
  private readonly inMemory: InMemoryChecksOptions | undefined;
  private readonly metrics: CheckerMetrics | undefined;
  /** resources whose in-memory check is queued or running (not queued again meanwhile) */
  private readonly inFlight = new Set<number>();
  private readonly queue: InMemoryItem[] = [];
  private running = 0;
  private readonly drained = new Set<() => void>();
  private readonly stopping = new AbortController();

  constructor(store: CheckerStore, opts: CheckerOptions) {
    this.store = store;
    this.tracker = opts.tracker;
    this.intervalMs = opts.intervalMs ?? DEFAULT_SCANNER_INTERVAL_MS;
    this.concurrency = Math.max(1, opts.concurrency ?? 8);
    this.intervals = { ...DEFAULT_INTERVALS, ...opts.intervals };
    this.keep = opts.keepPeriodicBuilds ?? 5;
    this.logger = opts.logger ?? silentLogger;
    this.inMemory = opts.inMemory;
    this.metrics = opts.metrics;
    this.loop = new PeriodicPass(
      () => this.scanOnce(),
      this.intervalMs,
      (err) => this.logger.error({ err }, 'check scan failed'),
      opts.cluster ? { cluster: { name: COMPONENT.checker, gate: opts.cluster } } : {},
    );
  }

  /** Starts the loop: a pass now, then every interval. */
  start(): void {
    this.loop.start();
  }

  /** Stops the loop and waits for the pass in progress; running in-memory checks are aborted, queued ones dropped. */
  async stop(): Promise<void> {
    await this.loop.stop();
    for (const item of this.queue.splice(0)) this.inFlight.delete(item.candidate.resource.id);
    this.stopping.abort();
    await this.inMemoryIdle();
  }

  /** Waits until no in-memory check is queued or running (tests, shutdown). */
  inMemoryIdle(): Promise<void> {
    if (this.inFlight.size === 0) return Promise.resolve();
    return new Promise((resolve) => this.drained.add(resolve));
  }

  /** A nudge: run a pass as soon as possible (nudges made before it begins share it). */
  scanNow(): void {
    this.loop.nudge();
  }

  /** One pass, after any pass in progress; tests drive it directly. */
  scan(): Promise<ScanResult[]> {
    return this.loop.runOnce();
  }

  private async scanOnce(): Promise<ScanResult[]> {
    const candidates = await this.store.checkCandidates();
    const results: ScanResult[] = [];
    const todo: { resourceId: number; from: Version | null; due: Date | null }[] = [];
    const inMemory: CheckCandidate[] = [];
    for (const c of candidates) {
      const decision = scanDecision(c.facts, resourceCheckInterval(c.resource.config, this.intervals));
      if (decision !== 'check') results.push({ resourceId: c.resource.id, decision });
      else if (this.inFlight.has(c.resource.id)) results.push({ resourceId: c.resource.id, decision: 'running' });
      else if (this.inMemory?.accepts(c.resource.type, c.resource.config.source)) inMemory.push(c);
      else todo.push({ resourceId: c.resource.id, from: c.resource.pinnedVersion, due: c.resource.nextCheckTime });
    }
    if (inMemory.length > 0) {
      const configs = await this.store.pipelinesCheckConfig([...new Set(inMemory.map((c) => c.resource.pipelineId))]);
      for (const c of inMemory) {
        const pipeline = configs.get(c.resource.pipelineId) ?? {};
        // a custom type of the built-in's name has an image of its own: a check build
        if ((pipeline.resource_types ?? []).some((t) => t.name === c.resource.type)) {
          todo.push({ resourceId: c.resource.id, from: c.resource.pinnedVersion, due: c.resource.nextCheckTime });
          continue;
        }
        this.enqueue({ candidate: c, pipeline });
        results.push({ resourceId: c.resource.id, decision: 'check', inMemory: true });
      }
    }
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < todo.length) {
        const item = todo[next++]!;
        try {
          const r = await this.tryCreateCheck(item.resourceId, { from: item.from });
          if (r.created) this.observeLateness('build', item.due);
          results.push(
            r.created
              ? { resourceId: item.resourceId, decision: 'check', buildId: r.build.id }
              : { resourceId: item.resourceId, decision: r.reason === 'never' ? 'never' : r.reason },
          );
        } catch (err) {
          this.logger.error({ resourceId: item.resourceId, err }, 'creating a check failed');
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(this.concurrency, todo.length) }, worker));
    return results.sort((a, b) => a.resourceId - b.resourceId);
  }

  private enqueue(item: InMemoryItem): void {
    this.inFlight.add(item.candidate.resource.id);
    this.queue.push(item);
    this.pump();
  }

  private pump(): void {
    const limit = Math.max(1, this.inMemory?.concurrency ?? 16);
    while (this.running < limit && this.queue.length > 0) {
      const item = this.queue.shift()!;
      this.running++;
      void this.runInMemory(item)
        .catch((err: unknown) => this.logger.error({ resourceId: item.candidate.resource.id, err }, 'an in-memory check failed'))
        .finally(() => {
          this.running--;
          this.inFlight.delete(item.candidate.resource.id);
          this.pump();
          if (this.inFlight.size > 0) return;
          for (const resolve of this.drained) resolve();
          this.drained.clear();
        });
    }
  }

  /**
   * One periodic check in memory: recorded as started on the resource, run by the engine, its end
   * recorded; a failed one kept as a check build; one that needs a container handed to a check
   * build (as the scan would have made without in-memory checks).
   */
  private async runInMemory({ candidate, pipeline }: InMemoryItem): Promise<void> {
    const { resource } = candidate;
    if (this.stopping.signal.aborted) return;
    const interval = resourceCheckInterval(resource.config, this.intervals);
    // the scan's reading of the resource may be old by now (a queue behind a backlog): the start
    // is refused if its config changed or its pipeline was paused or archived meanwhile
    const started = await this.store.startInMemoryCheck(resource.id, resource.config, interval.never ? 0 : interval.ms);
    if (!started) return;
    this.observeLateness('in-memory', resource.nextCheckTime);
    const check: InMemoryCheck = {
      id: started.id,
      createTime: started.createTime,
      teamId: resource.teamId,
      teamName: resource.teamName,
      pipelineId: resource.pipelineId,
      pipelineName: resource.pipelineName,
      resourceId: resource.id,
      plan: resourceCheckPlan(resource.config, pipeline.resource_types ?? [], { interval, ...(resource.pinnedVersion ? { from: resource.pinnedVersion } : {}), skipInterval: false, shallow: false }),
    };
    const outcome = await this.inMemory!.runner.runInMemoryCheck(check, pipeline, this.stopping.signal);
    if (!outcome.ran) {
      this.logger.debug({ resourceId: resource.id, reason: outcome.reason }, 'an in-memory check needs a container: a check build runs it');
      await this.store.finishInMemoryCheck(resource.id, check.id, null);
      await this.tryCreateCheck(resource.id, { from: resource.pinnedVersion });
      return;
    }
    if (outcome.status === 'succeeded' || outcome.status === 'aborted') await this.store.finishInMemoryCheck(resource.id, check.id, outcome.status);
    else await this.store.recordInMemoryCheckBuild(check, outcome.status, outcome.events, { keep: this.keep, intervalMs: interval.never ? undefined : interval.ms });
  }

  /** How late a periodic check started after its scope's next check time (none for a first check). */
  private observeLateness(how: 'in-memory' | 'build', due: Date | null): void {
    if (due !== null) this.metrics?.checkStarted(how, (Date.now() - due.getTime()) / 1000);
  }

  /**
   * `TryCreateCheck` for a resource: unless manual, nothing when now < the scope's
   * next_check_time or a check of the resource is running; else the check plan and a started
   * check build, handed to the tracker.
   */
  async tryCreateCheck(resourceId: number, opts: CheckOptions = {}): Promise<CheckCreation> {
    const target: CheckTarget = { resourceId };
    const creation = await this.store.withCheckLock(target, async (tx): Promise<CheckCreation> => {
      const resource = await tx.getResource(resourceId);
      if (!resource) throw new NotFoundError(`resource ${resourceId} not found`);
      // archived since the scan read it, or asked for directly: an archived pipeline is not checked
      if (resource.pipelineArchived) return { created: false, reason: 'archived' };
      const interval = resourceCheckInterval(resource.config, this.intervals);
      const stale = staleAfterMs(resource.config.check_timeout);
      if (!opts.manual) {
        if (!(await tx.checkIntervalElapsed(resource.scopeId))) return { created: false, reason: 'interval' };
        if (await failedWithinInterval(tx, target, interval)) return { created: false, reason: 'interval' };
        if (await tx.runningCheckExists(target, stale)) return { created: false, reason: 'running' };
      } else if (opts.forBuildId !== undefined) {
        if (await tx.runningCheckExists(target, stale, opts.forBuildId)) return { created: false, reason: 'running' };
        // a check made for the waiting build failed: the next waits the interval, as a periodic
        // one would, instead of one per scheduling pass for as long as the build waits (issue 24)
        if (await failedWithinInterval(tx, target, interval, opts.forBuildId)) return { created: false, reason: 'interval' };
      }
      const types = await tx.pipelineResourceTypes(resource.pipelineId);
      const from = opts.from !== undefined ? opts.from : opts.manual ? null : resource.pinnedVersion;
      const plan = resourceCheckPlan(resource.config, types, {
        interval,
        ...(from ? { from } : {}),
        skipInterval: opts.manual === true,
        shallow: opts.shallow === true,
      });
      const build = await tx.createStartedBuild({
        teamId: resource.teamId,
        pipelineId: resource.pipelineId,
        resourceId,
        plan,
        manuallyTriggered: opts.api === true,
        createdBy: opts.createdBy ?? null,
      });
      if (!opts.api) await tx.pruneCheckBuilds(target, this.keep);
      return { created: true, build };
    });
    if (creation.created) {
      this.logger.debug({ resourceId, buildId: creation.build.id }, 'check created');
      this.tracker.track(creation.build.id);
    }
    return creation;
  }

  /** A resource type's check (API: `POST …/resource-types/:t/check`). */
  async tryCreateTypeCheck(resourceTypeId: number, opts: CheckOptions = {}): Promise<CheckCreation> {
    const target: CheckTarget = { resourceTypeId };
    const creation = await this.store.withCheckLock(target, async (tx): Promise<CheckCreation> => {
      const type = await tx.getResourceType(resourceTypeId);
      if (!type) throw new NotFoundError(`resource type ${resourceTypeId} not found`);
      if (type.pipelineArchived) return { created: false, reason: 'archived' };
      const interval = resourceTypeCheckInterval(type.config, this.intervals);
      if (!opts.manual) {
        if (!(await tx.checkIntervalElapsed(type.scopeId))) return { created: false, reason: 'interval' };
        if (await failedWithinInterval(tx, target, interval)) return { created: false, reason: 'interval' };
        if (await tx.runningCheckExists(target, staleAfterMs(undefined))) return { created: false, reason: 'running' };
      }
      const types = await tx.pipelineResourceTypes(type.pipelineId);
      const plan = resourceTypeCheckPlan(type.config, types, {
        interval,
        ...(opts.from ? { from: opts.from } : {}),
        skipInterval: opts.manual === true,
        shallow: opts.shallow === true,
      });
      const build = await tx.createStartedBuild({
        teamId: type.teamId,
        pipelineId: type.pipelineId,
        resourceTypeId,
        plan,
        manuallyTriggered: opts.api === true,
        createdBy: opts.createdBy ?? null,
      });
      if (!opts.api) await tx.pruneCheckBuilds(target, this.keep);
      return { created: true, build };
    });
    if (creation.created) this.tracker.track(creation.build.id);
    return creation;
  }

  /** `POST …/resources/:r/check` (`fly check-resource`): a manual, persisted check build. */
  async checkResource(
    pipelineId: number,
    resourceName: string,
    opts: { from?: Version | null; shallow?: boolean; createdBy?: string | null } = {},
  ): Promise<BuildRecord> {
    const resource = await this.store.findResource(pipelineId, resourceName);
    if (!resource) throw new NotFoundError(`resource ${resourceName} not found`);
    const r = await this.tryCreateCheck(resource.id, { ...opts, manual: true, api: true });
    return createdBuild(r, `resource ${resourceName}`, `a manual check of ${resourceName}`);
  }

  /** `POST …/resource-types/:t/check`. */
  async checkResourceType(
    pipelineId: number,
    typeName: string,
    opts: { from?: Version | null; shallow?: boolean; createdBy?: string | null } = {},
  ): Promise<BuildRecord> {
    const type = await this.store.findResourceType(pipelineId, typeName);
    if (!type) throw new NotFoundError(`resource type ${typeName} not found`);
    const r = await this.tryCreateTypeCheck(type.id, { ...opts, manual: true, api: true });
    return createdBuild(r, `resource type ${typeName}`, `a manual check of resource type ${typeName}`);
  }

  /**
   * `POST …/prototypes/:p/check` (Concourse's CheckPrototype): a manual check of the prototype's
   * image, planned as a resource type's check is (prototypes have its shape); its versions go to
   * the shared scope of its type and source. Always created, as Concourse's manual checks are.
   */
  async checkPrototype(
    pipelineId: number,
    name: string,
    opts: { from?: Version | null; shallow?: boolean; createdBy?: string | null } = {},
  ): Promise<BuildRecord> {
    const prototype = await this.store.findPrototype(pipelineId, name);
    if (!prototype) throw new NotFoundError(`prototype ${name} not found`);
    if (prototype.pipelineArchived) return createdBuild({ created: false, reason: 'archived' }, `prototype ${name}`, '');
    const build = await this.store.inTransaction(async (tx) => {
      const types = await tx.pipelineResourceTypes(pipelineId);
      const planned = resourceTypeCheckPlan(prototype.config, types, {
        interval: resourceTypeCheckInterval(prototype.config, this.intervals),
        ...(opts.from ? { from: opts.from } : {}),
        skipInterval: true,
        shallow: opts.shallow === true,
      });
      // not a resource type's: its versions must not be recorded as one's
      let plan = planned;
      if ('check' in planned) {
        const { resource_type: _notAType, ...check } = planned.check;
        plan = { ...planned, check };
      }
      return tx.createStartedBuild({ teamId: prototype.teamId, pipelineId, plan, manuallyTriggered: true, createdBy: opts.createdBy ?? null });
    });
    this.tracker.track(build.id);
    return build;
  }

  /**
   * `POST …/resources/:r/check/webhook?webhook_token=T`: a manual check when T equals the
   * resource's webhook_token; UnauthorizedError otherwise (also when the resource has none).
   * The token is compared as written in the config: a `((var))` token is not interpolated here.
   */
  async checkWebhook(pipelineId: number, resourceName: string, token: string): Promise<BuildRecord> {
    const resource = await this.store.findResource(pipelineId, resourceName);
    if (!resource) throw new NotFoundError(`resource ${resourceName} not found`);
    if (!tokenMatches(resource.config.webhook_token, token)) throw new UnauthorizedError('invalid webhook token');
    const r = await this.tryCreateCheck(resource.id, { manual: true, api: true });
    return createdBuild(r, `resource ${resourceName}`, `a webhook check of ${resourceName}`);
  }

  /** CheckRequester: the build starter's checks (§4.4 step 3). */
  async requestChecks(requests: readonly CheckRequest[]): Promise<void> {
    for (const req of requests) {
      try {
        await this.tryCreateCheck(req.resourceId, { manual: req.manual, forBuildId: req.forBuildId });
      } catch (err) {
        this.logger.warn({ resourceId: req.resourceId, err }, 'a check requested by the scheduler failed');
      }
    }
  }
}

/**
 * The build of a check asked for through the API (manual or webhook); one not created is an
 * error: a ConflictError (HTTP 409) for an archived pipeline's resource or type.
 */
function createdBuild(r: CheckCreation, what: string, check: string): BuildRecord {
  if (r.created) return r.build;
  if (r.reason === 'archived') throw new ConflictError(`${what} belongs to an archived pipeline and is not checked; set the pipeline again to unarchive it`);
  throw new Error(`${check} was not created (${r.reason})`);
}

export function tokenMatches(expected: string | undefined, given: string): boolean {
  if (!expected) return false;
  const a = Buffer.from(expected);
  const b = Buffer.from(given);
  return a.length === b.length && timingSafeEqual(a, b);
}

/**
 * A failed check waits its interval, as a healthy one does (Concourse's errored checks too):
 * one that failed before reaching its scope left no next check time there, so the end of the
 * failed check build counts.
 */
async function failedWithinInterval(tx: CheckCreationStore, target: CheckTarget, interval: CheckInterval, createdSinceBuildId?: number): Promise<boolean> {
  if (interval.never) return false;
  const failedAt = await tx.lastFailedCheckEnd(target, createdSinceBuildId);
  return failedAt !== undefined && Date.now() < failedAt.getTime() + interval.ms;
}

function staleAfterMs(checkTimeout: string | undefined): number {
  const timeout = parseDuration(checkTimeout ?? DEFAULT_CHECK_TIMEOUT) ?? parseDuration(DEFAULT_CHECK_TIMEOUT)!;
  return timeout + STALE_MARGIN_MS;
}

