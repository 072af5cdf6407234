// An in-memory CheckerStore for the checker's unit tests: resources with their scanner facts,
// whether each scope's interval elapsed, and check builds in creation order (ids shared with the
// builds that wait for checks, so "created since" is an id comparison). The SQL behind the port
// is tested against Postgres in checker.test.ts.
import type { ResourceType } from '../../src/config/index.ts';
import type { BuildRecord, StartedBuildInput } from '../../src/db/builds.ts';
import type { CheckFacts, CheckTarget, ResourceRecord, ResourceTypeRecord, CheckCandidate } from '../../src/db/resources.ts';
import type { CheckCreationStore, CheckerStore, PipelineCheckConfig, PrototypeRecord } from '../../src/checker/store.ts';
import type { BuildEvent, BuildStatus } from '../../src/model/build-events.ts';
import type { InMemoryCheck } from '../../src/model/in-memory-check.ts';

/** A resource's in-memory checks as the fake records them. */
export interface FakeInMemoryCheck {
  id: number;
  resourceId: number;
  /** started; how it ended; `handed` when a check build took it over; `recorded` when kept as a build */
  status: BuildStatus | 'handed' | 'recorded';
  events?: readonly BuildEvent[];
  check?: InMemoryCheck;
  /** how long its scope is not due again, when recorded */
  intervalMs?: number | undefined;
}

export const facts = (over: Partial<CheckFacts> = {}): CheckFacts => ({
  triggerInput: false,
  nonTriggerInput: false,
  putOnly: false,
  checked: true,
  lastCheckSucceeded: true,
  hasVersions: true,
  pinned: false,
  pinFound: false,
  intervalElapsed: true,
  ...over,
});

export const resource = (id: number, over: Partial<ResourceRecord> = {}): ResourceRecord => ({
  id,
  name: `r${id}`,
  type: 'mock',
  pipelineId: 1,
  pipelineName: 'p',
  pipelinePaused: false,
  pipelineArchived: false,
  teamId: 1,
  teamName: 'main',
  config: { name: `r${id}`, type: 'mock', source: {} },
  active: true,
  resourceConfigId: null,
  scopeId: id,
  lastCheckStartTime: null,
  lastCheckEndTime: null,
  lastCheckSucceeded: false,
  nextCheckTime: null,
  lastCheckBuildId: null,
  pinnedVersion: null,
  pinnedInConfig: false,
  pinComment: '',
  ...over,
});

export interface FakeCheckBuild {
  id: number;
  target: CheckTarget;
  /** what the checker created it with (none for checks a test put there) */
  input?: StartedBuildInput;
  completed: boolean;
  /** a completed check that did not succeed, and when it ended */
  failedAt?: Date;
}

const sameTarget = (a: CheckTarget, b: CheckTarget): boolean =>
  'resourceId' in a ? 'resourceId' in b && a.resourceId === b.resourceId : 'resourceTypeId' in b && a.resourceTypeId === b.resourceTypeId;

export class FakeCheckerStore implements CheckerStore, CheckCreationStore {
  readonly resources = new Map<number, { record: ResourceRecord; facts: CheckFacts }>();
  readonly types = new Map<number, ResourceTypeRecord>();
  /** scopes whose next check time is still ahead */
  readonly intervalNotElapsed = new Set<number>();
  readonly builds: FakeCheckBuild[] = [];
  /** the staleAfterMs of each runningCheckExists call */
  readonly staleAges: number[] = [];
  /** the targets pruneCheckBuilds was called for, with `keep` */
  readonly pruned: { target: CheckTarget; keep: number }[] = [];
  /** the targets withCheckLock was held for */
  readonly locked: CheckTarget[] = [];
  /** resource ids whose check creation throws */
  readonly failing = new Set<number>();
  private nextId = 100;

  add(record: ResourceRecord, over: Partial<CheckFacts> = {}): this {
    this.resources.set(record.id, { record, facts: facts(over) });
    return this;
  }

  /** A build id, as a pending job build waiting for a check would have. */
  buildId(): number {
    return this.nextId++;
  }

  /** A check build of the target already running. */
  running(target: CheckTarget): number {
    const id = this.buildId();
    this.builds.push({ id, target, completed: false });
    return id;
  }

  async checkCandidates(): Promise<CheckCandidate[]> {
    return [...this.resources.values()]
      .filter((r) => r.record.active && !r.record.pipelinePaused && !r.record.pipelineArchived)
      .map((r) => ({ resource: r.record, facts: r.facts }));
  }

  async findResource(pipelineId: number, name: string): Promise<ResourceRecord | undefined> {
    return [...this.resources.values()].find((r) => r.record.pipelineId === pipelineId && r.record.name === name && r.record.active)?.record;
  }

  async findResourceType(pipelineId: number, name: string): Promise<ResourceTypeRecord | undefined> {
    return [...this.types.values()].find((t) => t.pipelineId === pipelineId && t.name === name);
  }

  /** prototypes by pipeline id, as a pipeline's config holds them */
  readonly prototypes = new Map<number, { teamId: number; archived: boolean; configs: ResourceType[] }>();

  async findPrototype(pipelineId: number, name: string): Promise<PrototypeRecord | undefined> {
    const p = this.prototypes.get(pipelineId);
    const config = p?.configs.find((c) => c.name === name);
    return p && config ? { teamId: p.teamId, pipelineId, pipelineArchived: p.archived, config } : undefined;
  }

  async inTransaction<T>(create: (tx: CheckCreationStore) => Promise<T>): Promise<T> {
    return create(this);
  }

  async withCheckLock<T>(target: CheckTarget, create: (tx: CheckCreationStore) => Promise<T>): Promise<T> {
    this.locked.push(target);
    return create(this);
  }

  async getResource(resourceId: number): Promise<ResourceRecord | undefined> {
    if (this.failing.has(resourceId)) throw new Error(`resource ${resourceId} is broken`);
    return this.resources.get(resourceId)?.record;
  }

  async getResourceType(resourceTypeId: number): Promise<ResourceTypeRecord | undefined> {
    return this.types.get(resourceTypeId);
  }

  async checkIntervalElapsed(scopeId: number | null): Promise<boolean> {
    return scopeId === null || !this.intervalNotElapsed.has(scopeId);
  }

  async runningCheckExists(target: CheckTarget, staleAfterMs: number, createdSinceBuildId?: number): Promise<boolean> {
    this.staleAges.push(staleAfterMs);
    return this.builds.some((b) => sameTarget(b.target, target) && !b.completed && (createdSinceBuildId === undefined || b.id >= createdSinceBuildId));
  }

  async lastFailedCheckEnd(target: CheckTarget, createdSinceBuildId?: number): Promise<Date | undefined> {
    const last = this.builds.filter((b) => sameTarget(b.target, target) && b.completed && b.id > (createdSinceBuildId ?? 0)).at(-1);
    return last?.failedAt;
  }

  async pipelineResourceTypes(pipelineId: number): Promise<ResourceType[]> {
    return [...this.types.values()].filter((t) => t.pipelineId === pipelineId).map((t) => t.config);
  }

  async createStartedBuild(input: StartedBuildInput): Promise<BuildRecord> {
    const id = this.buildId();
    const target: CheckTarget = input.resourceId != null ? { resourceId: input.resourceId } : { resourceTypeId: input.resourceTypeId! };
    this.builds.push({ id, target, input, completed: false });
    return {
      id,
      name: 'check',
      teamId: input.teamId,
      teamName: 'main',
      jobId: null,
      jobName: null,
      pipelineId: input.pipelineId ?? null,
      pipelineName: null,
      pipelineInstanceVars: null,
      resourceId: input.resourceId ?? null,
      resourceTypeId: input.resourceTypeId ?? null,
      status: 'started',
      manuallyTriggered: input.manuallyTriggered ?? false,
      scheduled: true,
      inputsReady: true,
      rerunOf: null,
      rerunOfName: null,
      rerunNumber: 0,
      aborted: false,
      completed: false,
      createTime: new Date(),
      startTime: new Date(),
      endTime: null,
      reapTime: null,
      createdBy: input.createdBy ?? null,
      comment: input.comment ?? '',
      containersCreated: {},
    };
  }

  readonly inMemoryChecks: FakeInMemoryCheck[] = [];

  /** var sources by pipeline id */
  readonly varSources = new Map<number, PipelineCheckConfig['var_sources']>();

  async pipelinesCheckConfig(pipelineIds: readonly number[]): Promise<Map<number, PipelineCheckConfig>> {
    return new Map(
      await Promise.all(
        pipelineIds.map(async (id) => {
          const vs = this.varSources.get(id);
          return [id, { resource_types: await this.pipelineResourceTypes(id), ...(vs ? { var_sources: vs } : {}) }] as const;
        }),
      ),
    );
  }

  async startInMemoryCheck(resourceId: number, config: unknown, intervalMs: number): Promise<{ id: number; createTime: Date } | undefined> {
    const r = this.resources.get(resourceId)?.record;
    if (!r || !r.active || r.pipelinePaused || r.pipelineArchived || JSON.stringify(r.config) !== JSON.stringify(config)) return undefined;
    const failedAt = await this.lastFailedCheckEnd({ resourceId });
    if (failedAt && Date.now() < failedAt.getTime() + intervalMs) return undefined;
    const id = this.buildId();
    this.inMemoryChecks.push({ id, resourceId, status: 'started' });
    return { id, createTime: new Date() };
  }

  async finishInMemoryCheck(_resourceId: number, id: number, status: BuildStatus | null): Promise<void> {
    const c = this.inMemoryChecks.find((x) => x.id === id);
    if (c) c.status = status ?? 'handed';
  }

  async recordInMemoryCheckBuild(check: InMemoryCheck, status: BuildStatus, events: readonly BuildEvent[], { keep, intervalMs }: { keep: number; intervalMs: number | undefined }): Promise<void> {
    const c = this.inMemoryChecks.find((x) => x.id === check.id);
    if (c) Object.assign(c, { status: 'recorded', events, check, intervalMs });
    this.builds.push({ id: check.id, target: { resourceId: check.resourceId }, completed: true, ...(status !== 'succeeded' ? { failedAt: new Date() } : {}) });
    await this.pruneCheckBuilds({ resourceId: check.resourceId }, keep);
  }

  async pruneCheckBuilds(target: CheckTarget, keep: number): Promise<number> {
    this.pruned.push({ target, keep });
    return 0;
  }
}
