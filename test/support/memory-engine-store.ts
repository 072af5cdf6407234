// An in-memory EngineStore (src/engine/store.ts) for the steps' unit tests, as Concourse's exec
// tests use dbfakes: plain rows, with the Postgres semantics the steps rely on (src/db/versions.ts,
// check-scopes.ts, engine-store.ts): ids that stay stable for the same key, scopes that replace a
// resource's other scopes, versions in check order, a check lease that makes a second check wait,
// and set_pipeline's "newer build" and "unknown team" rules. Tests assert the rows (the public
// read-only fields), not the calls. The SQL itself is tested against Postgres in test/db.
import type { PipelineConfig } from '../../src/config/index.ts';
import type { BuildOutput, BuildToRun, EngineStore, RunnableBuild, ScopeCheckLease, SetPipelineFromBuild, SetPipelineFromBuildResult } from '../../src/engine/store.ts';
import type { BuildEvent, BuildStatus } from '../../src/model/build-events.ts';
import type { Plan } from '../../src/model/plan.ts';
import type { StepEffects, StepOutcome, StepRecord } from '../../src/engine/journal.ts';
import type { ResourceConfigParent, ResourceConfigScope, ScopeCheckState } from '../../src/model/resource-config.ts';
import { canonicalJson, versionDigest, type MetadataField, type Version } from '../../src/model/version.ts';

export interface ResourceConfigRow {
  id: number;
  parent: ResourceConfigParent;
  source: Record<string, unknown>;
}

export interface ResourceCacheRow {
  id: number;
  resourceConfigId: number;
  version: Version;
  versionDigest: string;
  /** `{}` when the step gave none (Postgres hashes absent params as `{}`) */
  params: Record<string, unknown>;
}

export interface ScopeRow extends ResourceConfigScope, ScopeCheckState {
  /** the build of the last check of a resource (`last_check_build_id`, `last_check_build_plan`) */
  lastCheckBuild: { id: number; plan: unknown } | null;
  checkLease: { owner: number; until: Date } | null;
}

export interface VersionRow {
  id: number;
  scopeId: number;
  version: Version;
  versionDigest: string;
  metadata: MetadataField[];
  checkOrder: number;
}

/** A pipeline's resource or resource type and the scope it points at. */
export interface NamedRow {
  id: number;
  pipelineId: number;
  name: string;
  resourceConfigId: number | null;
  scopeId: number | null;
}

export interface PipelineRow {
  id: number;
  team: string;
  name: string;
  instanceVars: Record<string, unknown> | null;
  config: PipelineConfig;
  paused: boolean;
  parentJobId: number | null;
  parentBuildId: number | null;
}

export interface ArtifactRow {
  id: number;
  name: string;
  buildId: number | null;
  location: string | null;
}

export interface BuildOutputRow {
  buildId: number;
  resourceId: number;
  name: string;
  versionDigest: string;
  /** kept for the tests' convenience; Postgres finds it through the scope's versions */
  version: Version;
}

export interface ImageResourceCacheRow {
  buildId: number;
  jobId: number | null;
  resourceCacheId: number;
}

export interface BuildRow {
  build: BuildToRun;
  plan: Plan | undefined;
  status: BuildStatus;
  completed: boolean;
  events: BuildEvent[];
  /** containers created, by purpose then step type */
  containers: Record<string, Record<string, number>>;
}

/** A version to seed, with the metadata a check or put once stored for it. */
export interface SeedVersion {
  version: Version;
  metadata?: MetadataField[];
}

export interface MemoryEngineStoreOptions {
  /** the store's clock (Postgres' now()); the real one by default */
  now?: () => Date;
}

export class MemoryEngineStore implements EngineStore {
  private readonly now: () => Date;
  private nextId = 1;
  private nextLeaseOwner = 1;
  /** wake-ups of checks waiting for a scope's lease */
  private readonly leaseWaiters = new Map<number, Set<() => void>>();

  private readonly rows = {
    resourceConfigs: [] as ResourceConfigRow[],
    resourceCaches: [] as ResourceCacheRow[],
    scopes: [] as ScopeRow[],
    versions: [] as VersionRow[],
    resources: [] as NamedRow[],
    resourceTypes: [] as NamedRow[],
    pipelines: [] as PipelineRow[],
    artifacts: [] as ArtifactRow[],
    buildOutputs: [] as BuildOutputRow[],
    imageResourceCaches: [] as ImageResourceCacheRow[],
    builds: [] as BuildRow[],
    /** team names; main exists from the start, as in Postgres (migration 0001) */
    teams: ['main'] as string[],
  };

  // The recorded state, for assertions; only the store changes it.
  readonly resourceConfigs: readonly Readonly<ResourceConfigRow>[] = this.rows.resourceConfigs;
  readonly resourceCaches: readonly Readonly<ResourceCacheRow>[] = this.rows.resourceCaches;
  readonly scopes: readonly Readonly<ScopeRow>[] = this.rows.scopes;
  readonly versions: readonly Readonly<VersionRow>[] = this.rows.versions;
  readonly resources: readonly Readonly<NamedRow>[] = this.rows.resources;
  readonly resourceTypes: readonly Readonly<NamedRow>[] = this.rows.resourceTypes;
  readonly pipelines: readonly Readonly<PipelineRow>[] = this.rows.pipelines;
  readonly artifacts: readonly Readonly<ArtifactRow>[] = this.rows.artifacts;
  readonly buildOutputs: readonly Readonly<BuildOutputRow>[] = this.rows.buildOutputs;
  readonly imageResourceCaches: readonly Readonly<ImageResourceCacheRow>[] = this.rows.imageResourceCaches;
  readonly builds: readonly Readonly<BuildRow>[] = this.rows.builds;
  readonly teams: readonly string[] = this.rows.teams;

  constructor(options: MemoryEngineStoreOptions = {}) {
    this.now = options.now ?? (() => new Date());
  }

  // ------------------------------------------------------------------ seeding (the test's setup)

  /** A team (main exists from the start). */
  addTeam(name: string): void {
    if (!this.rows.teams.includes(name)) this.rows.teams.push(name);
  }

  /** A pipeline (paused unless said otherwise, as the API creates them) with its resources and types; its team is added when new. */
  addPipeline(input: {
    team?: string;
    name: string;
    config?: PipelineConfig;
    instanceVars?: Record<string, unknown> | null;
    paused?: boolean;
    parentJobId?: number | null;
    parentBuildId?: number | null;
  }): number {
    this.addTeam(input.team ?? 'main');
    const row: PipelineRow = {
      id: this.id(),
      team: input.team ?? 'main',
      name: input.name,
      instanceVars: instanceVarsOf(input.instanceVars ?? null),
      config: structuredClone(input.config ?? {}),
      paused: input.paused ?? true,
      parentJobId: input.parentJobId ?? null,
      parentBuildId: input.parentBuildId ?? null,
    };
    this.rows.pipelines.push(row);
    this.upsertNamed(row.id, row.config);
    return row.id;
  }

  /**
   * A resource of a pipeline (the existing one when the name is taken). With `versions`, it gets
   * a history: a scope of its own on the config of `parent` (base type `seed` by default) and
   * `source`, holding those versions (oldest first) with their metadata.
   */
  addResource(
    pipelineId: number,
    name: string,
    seed: { versions?: readonly SeedVersion[]; parent?: ResourceConfigParent; source?: Record<string, unknown> } = {},
  ): number {
    const row = this.named(this.rows.resources, pipelineId, name);
    if (seed.versions) {
      const config = this.resourceConfig(seed.parent ?? { baseType: 'seed' }, seed.source ?? {});
      const scope = this.scopeOf(config.id, row.id);
      row.resourceConfigId = config.id;
      row.scopeId = scope.id;
      this.upsertVersions(scope.id, seed.versions);
    }
    return row.id;
  }

  /** A resource type of a pipeline (the existing one when the name is taken). */
  addResourceType(pipelineId: number, name: string): number {
    return this.named(this.rows.resourceTypes, pipelineId, name).id;
  }

  /** Versions saved with their metadata (as a check that reported metadata, or a put, would). */
  seedVersions(scopeId: number, versions: readonly SeedVersion[]): void {
    this.upsertVersions(scopeId, versions);
  }

  /** An uploaded artifact (`jetway execute`), not yet claimed by a build. */
  addUploadedArtifact(location: string, name = ''): number {
    const id = this.id();
    this.rows.artifacts.push({ id, name, buildId: null, location });
    return id;
  }

  /** A build record (started, unless given), with its plan. */
  addBuild(build: Partial<BuildToRun> & { id: number }, opts: { plan?: Plan; status?: BuildStatus } = {}): BuildToRun {
    const record: BuildToRun = {
      name: String(build.id),
      teamId: 1,
      teamName: 'main',
      jobId: null,
      jobName: null,
      pipelineId: null,
      pipelineName: null,
      resourceId: null,
      resourceTypeId: null,
      aborted: false,
      createTime: this.now(),
      startTime: this.now(),
      createdBy: null,
      ...build,
    };
    this.rows.builds.push({ build: record, plan: opts.plan, status: opts.status ?? 'started', completed: false, events: [], containers: {} });
    return record;
  }

  // ------------------------------------------------------------------ the cache chain

  async findOrCreateResourceCache(
    parent: ResourceConfigParent,
    source: Record<string, unknown>,
    version: Version,
    params?: Record<string, unknown>,
    imageOf?: { buildId: number; jobId: number | null },
  ): Promise<{ id: number; resourceConfigId: number }> {
    const cache = this.resourceCacheOf(parent, source, version, params);
    if (imageOf) await this.saveImageResourceCache(imageOf.buildId, imageOf.jobId, cache.id);
    return cache;
  }

  private resourceCacheOf(parent: ResourceConfigParent, source: Record<string, unknown>, version: Version, params?: Record<string, unknown>): { id: number; resourceConfigId: number } {
    const resourceConfigId = this.resourceConfig(parent, source).id;
    const digest = versionDigest(version);
    const paramsJson = canonicalJson(params ?? {});
    const found = this.rows.resourceCaches.find((c) => c.resourceConfigId === resourceConfigId && c.versionDigest === digest && canonicalJson(c.params) === paramsJson);
    if (found) return { id: found.id, resourceConfigId };
    const row: ResourceCacheRow = { id: this.id(), resourceConfigId, version: { ...version }, versionDigest: digest, params: structuredClone(params ?? {}) };
    this.rows.resourceCaches.push(row);
    return { id: row.id, resourceConfigId };
  }

  // ------------------------------------------------------------------ scopes, versions, checks

  async findOrCreateScope(parent: ResourceConfigParent, source: Record<string, unknown>, resourceId: number | null): Promise<ResourceConfigScope> {
    const resourceConfigId = this.resourceConfig(parent, source).id;
    const { id } = this.scopeOf(resourceConfigId, resourceId);
    return { id, resourceConfigId, resourceId };
  }

  async currentResourceScope(pipelineId: number, resource: string, parent: { baseType: string }, source: Record<string, unknown>): Promise<{ resourceId: number; scope: ResourceConfigScope } | undefined> {
    const r = this.rows.resources.find((x) => x.pipelineId === pipelineId && x.name === resource);
    const scope = r && this.rows.scopes.find((x) => x.id === r.scopeId);
    const sourceJson = canonicalJson(source);
    const config = this.rows.resourceConfigs.find((c) => parentKey(c.parent) === parentKey(parent) && canonicalJson(c.source) === sourceJson);
    if (!r || !scope || !config || scope.resourceConfigId !== config.id || scope.resourceId !== r.id) return undefined;
    return { resourceId: r.id, scope: { id: scope.id, resourceConfigId: config.id, resourceId: r.id } };
  }

  async setResourceScope(resourceId: number, scope: ResourceConfigScope): Promise<void> {
    this.point(this.rows.resources, 'resource', resourceId, scope);
  }

  async setResourceTypeScope(resourceTypeId: number, scope: ResourceConfigScope): Promise<void> {
    this.point(this.rows.resourceTypes, 'resource type', resourceTypeId, scope);
  }

  async lockScopeForCheck(scopeId: number, signal: AbortSignal, leaseMs: number): Promise<ScopeCheckLease> {
    const owner = this.nextLeaseOwner++;
    for (;;) {
      signal.throwIfAborted();
      const scope = this.scope(scopeId);
      const now = this.now();
      if (scope.checkLease === null || scope.checkLease.until < now) {
        scope.checkLease = { owner, until: new Date(now.getTime() + leaseMs) };
        break;
      }
      await this.waitForLease(scopeId, scope.checkLease.until.getTime() - now.getTime(), signal);
    }
    let released = false;
    const release = async (): Promise<void> => {
      if (released) return;
      released = true;
      const scope = this.rows.scopes.find((s) => s.id === scopeId);
      if (scope?.checkLease?.owner !== owner) return;
      scope.checkLease = null;
      for (const wake of this.leaseWaiters.get(scopeId) ?? []) wake();
    };
    return {
      state: await this.scopeCheckState(scopeId),
      latest: await this.scopeLatestVersion(scopeId),
      finish: async (succeeded, intervalMs, versions) => {
        if (succeeded && versions) {
          try {
            await this.saveVersions(scopeId, versions);
          } catch (err) {
            await this.markCheckFinished(scopeId, false, intervalMs);
            await release();
            throw err;
          }
        }
        await this.markCheckFinished(scopeId, succeeded, intervalMs);
        await release();
        return this.scopeLatestVersion(scopeId);
      },
      release,
    };
  }

  async scopeCheckState(scopeId: number): Promise<ScopeCheckState> {
    const s = this.scope(scopeId);
    return { lastCheckStartTime: s.lastCheckStartTime, lastCheckEndTime: s.lastCheckEndTime, lastCheckSucceeded: s.lastCheckSucceeded, nextCheckTime: s.nextCheckTime };
  }

  async scopeLatestVersion(scopeId: number): Promise<Version | undefined> {
    const latest = this.versionsOf(scopeId).at(-1);
    return latest ? { ...latest.version } : undefined;
  }

  async markCheckStarted(scopeId: number, build?: { id: number; plan: unknown }): Promise<void> {
    const s = this.scope(scopeId);
    s.lastCheckStartTime = this.now();
    if (build) s.lastCheckBuild = { id: build.id, plan: structuredClone(build.plan) };
  }

  async markCheckFinished(scopeId: number, succeeded: boolean, intervalMs: number | undefined): Promise<void> {
    const s = this.scope(scopeId);
    const now = this.now();
    s.lastCheckEndTime = now;
    s.lastCheckSucceeded = succeeded;
    s.nextCheckTime = intervalMs === undefined ? null : new Date(now.getTime() + intervalMs);
  }

  async saveVersions(scopeId: number, versions: readonly Version[]): Promise<void> {
    this.upsertVersions(
      scopeId,
      versions.map((version) => ({ version })),
    );
  }

  // ------------------------------------------------------------------ names of a pipeline

  async resourceId(pipelineId: number, name: string): Promise<number | undefined> {
    return this.rows.resources.find((r) => r.pipelineId === pipelineId && r.name === name)?.id;
  }

  async resourceTypeId(pipelineId: number, name: string): Promise<number | undefined> {
    return this.rows.resourceTypes.find((r) => r.pipelineId === pipelineId && r.name === name)?.id;
  }

  async versionMetadata(pipelineId: number, resource: string, version: Version): Promise<MetadataField[]> {
    const row = this.rows.resources.find((r) => r.pipelineId === pipelineId && r.name === resource);
    if (!row || row.scopeId === null) return [];
    const digest = versionDigest(version);
    const found = this.rows.versions.find((v) => v.scopeId === row.scopeId && v.versionDigest === digest);
    return found ? structuredClone(found.metadata) : [];
  }

  async saveVersionMetadata(pipelineId: number, resource: string, version: Version, metadata: readonly MetadataField[]): Promise<boolean> {
    const row = this.rows.resources.find((r) => r.pipelineId === pipelineId && r.name === resource);
    if (!row || row.scopeId === null) return false;
    const digest = versionDigest(version);
    const found = this.rows.versions.find((v) => v.scopeId === row.scopeId && v.versionDigest === digest);
    if (!found) return false;
    found.metadata = structuredClone([...metadata]);
    return true;
  }

  // ------------------------------------------------------------------ set_pipeline

  async setPipelineFromBuild(input: SetPipelineFromBuild): Promise<SetPipelineFromBuildResult> {
    if (!this.rows.teams.includes(input.team)) return { teamNotFound: true };
    const instanceVars = instanceVarsOf(input.instanceVars);
    const existing = this.rows.pipelines.find(
      (p) => p.team === input.team && p.name === input.name && canonicalJson(p.instanceVars) === canonicalJson(instanceVars),
    );
    if (existing && input.jobId !== null && existing.parentJobId === input.jobId && existing.parentBuildId !== null && existing.parentBuildId > input.buildId) {
      return { setByNewerBuild: existing.parentBuildId };
    }
    // Postgres keeps the config as JSON text: what comes back is the JSON round trip.
    const config = JSON.parse(JSON.stringify(input.config)) as PipelineConfig;
    const changed = !existing || canonicalJson(existing.config) !== canonicalJson(config);
    const previous = existing ? existing.config : null;
    if (existing) {
      existing.config = config;
      existing.parentJobId = input.jobId;
      existing.parentBuildId = input.buildId;
      this.upsertNamed(existing.id, config);
    } else {
      // created by a build: not paused (unlike a pipeline set through the API)
      this.addPipeline({ team: input.team, name: input.name, instanceVars, config, paused: false, parentJobId: input.jobId, parentBuildId: input.buildId });
    }
    return { changed, previous };
  }

  // ------------------------------------------------------------------ one-off builds' artifacts

  async claimUploadedArtifact(artifactId: number, buildId: number): Promise<string | undefined> {
    const row = this.rows.artifacts.find((a) => a.id === artifactId);
    if (!row || (row.buildId !== undefined && row.buildId !== null && row.buildId !== buildId)) return undefined;
    row.buildId = buildId;
    return row.location ?? undefined;
  }

  async saveArtifactOutput(buildId: number, name: string, location: string): Promise<void> {
    this.rows.artifacts.push({ id: this.id(), name, buildId, location });
  }

  // ------------------------------------------------------------------ the build's records

  async saveBuildOutput(buildId: number, output: BuildOutput): Promise<void> {
    this.scope(output.scopeId);
    if (!this.rows.resources.some((r) => r.id === output.resourceId)) throw new Error(`resource ${output.resourceId} not found`);
    this.upsertVersions(output.scopeId, [{ version: output.version, metadata: output.metadata }]);
    const digest = versionDigest(output.version);
    const known = this.rows.buildOutputs.some((o) => o.buildId === buildId && o.resourceId === output.resourceId && o.versionDigest === digest && o.name === output.name);
    if (!known) this.rows.buildOutputs.push({ buildId, resourceId: output.resourceId, name: output.name, versionDigest: digest, version: { ...output.version } });
  }

  async saveImageResourceCache(buildId: number, jobId: number | null, resourceCacheId: number): Promise<void> {
    if (!this.rows.resourceCaches.some((c) => c.id === resourceCacheId)) throw new Error(`resource cache ${resourceCacheId} not found`);
    const known = this.rows.imageResourceCaches.some((r) => r.buildId === buildId && r.jobId === jobId && r.resourceCacheId === resourceCacheId);
    if (!known) this.rows.imageResourceCaches.push({ buildId, jobId, resourceCacheId });
  }

  // ------------------------------------------------------------------ EngineStore: the build itself

  async buildToRun(buildId: number): Promise<RunnableBuild | undefined> {
    const row = this.rows.builds.find((b) => b.build.id === buildId);
    if (!row) return undefined;
    const pipeline = row.build.pipelineId === null ? undefined : this.rows.pipelines.find((p) => p.id === row.build.pipelineId);
    return { build: { ...row.build }, plan: row.plan, pipelineConfig: pipeline ? structuredClone(pipeline.config) : undefined };
  }

  /** The plan a build was added with (tests read its step ids). */
  async buildPlan(buildId: number): Promise<Plan | undefined> {
    return this.rows.builds.find((b) => b.build.id === buildId)?.plan;
  }

  async runningBuildIds(): Promise<number[]> {
    return this.rows.builds
      .filter((b) => b.status === 'started' && !b.completed)
      .map((b) => b.build.id)
      .sort((a, b) => a - b);
  }

  /** writer keys seen per build: a write under a known key is saved once (as in Postgres) */
  private readonly writerKeys = new Map<number, Set<string>>();

  /** the batches saveBuildEvents was given (how many events each) */
  readonly eventBatches: number[] = [];

  async saveBuildEvents(buildId: number, events: readonly { event: BuildEvent; writerKey: string }[]): Promise<void> {
    this.eventBatches.push(events.length);
    for (const e of events) await this.saveBuildEvent(buildId, e.event, e.writerKey);
  }

  async saveBuildEvent(buildId: number, event: BuildEvent, writerKey?: string): Promise<void> {
    if (writerKey !== undefined) {
      const keys = this.writerKeys.get(buildId) ?? new Set<string>();
      this.writerKeys.set(buildId, keys);
      if (keys.has(writerKey)) return;
      keys.add(writerKey);
    }
    this.buildRow(buildId).events.push(structuredClone(event));
  }

  // -- the step journal (src/engine/journal.ts), in start order
  private readonly steps = new Map<number, StepRecord[]>();

  async buildSteps(buildId: number): Promise<StepRecord[]> {
    return structuredClone(this.steps.get(buildId) ?? []);
  }

  async recordStepStarted(buildId: number, key: string, planId: string): Promise<void> {
    const list = this.steps.get(buildId) ?? [];
    this.steps.set(buildId, list);
    if (!list.some((r) => r.key === key)) list.push({ key, planId, state: 'started' });
  }

  async recordStepFinished(buildId: number, key: string, planId: string, outcome: StepOutcome, effects: StepEffects): Promise<void> {
    const list = this.steps.get(buildId) ?? [];
    this.steps.set(buildId, list);
    const record: StepRecord = { key, planId, state: 'finished', outcome: structuredClone(outcome), effects: structuredClone(effects) };
    const i = list.findIndex((r) => r.key === key);
    if (i >= 0) list[i] = record;
    else list.push(record);
  }

  async finishBuild(buildId: number, status: BuildStatus): Promise<void> {
    const row = this.buildRow(buildId);
    if (row.completed) return;
    row.status = status;
    row.completed = true;
    row.events.push({ event: 'status', version: '1.0', data: { status, time: Math.floor(this.now().getTime() / 1000) } });
  }

  async countBuildContainer(buildId: number, purpose: string, type: string): Promise<void> {
    const byType = (this.buildRow(buildId).containers[purpose] ??= {});
    byType[type] = (byType[type] ?? 0) + 1;
  }


  // ------------------------------------------------------------------ rows

  /** A scope's versions, oldest first by check order (then id, as Postgres breaks ties). */
  versionsOf(scopeId: number): Readonly<VersionRow>[] {
    return this.rows.versions.filter((v) => v.scopeId === scopeId).sort((a, b) => a.checkOrder - b.checkOrder || a.id - b.id);
  }

  /** The scope a resource points at, if any. */
  scopeOfResource(resourceId: number): Readonly<ScopeRow> | undefined {
    const row = this.rows.resources.find((r) => r.id === resourceId);
    if (row === undefined || row.scopeId === null) return undefined;
    return this.rows.scopes.find((s) => s.id === row.scopeId);
  }

  private id(): number {
    return this.nextId++;
  }

  private resourceConfig(parent: ResourceConfigParent, source: Record<string, unknown>): ResourceConfigRow {
    const key = parentKey(parent);
    const sourceJson = canonicalJson(source);
    const found = this.rows.resourceConfigs.find((c) => parentKey(c.parent) === key && canonicalJson(c.source) === sourceJson);
    if (found) return found;
    if ('resourceCacheId' in parent && !this.rows.resourceCaches.some((c) => c.id === parent.resourceCacheId)) {
      throw new Error(`resource cache ${parent.resourceCacheId} not found`);
    }
    const row: ResourceConfigRow = { id: this.id(), parent: { ...parent }, source: structuredClone(source) };
    this.rows.resourceConfigs.push(row);
    return row;
  }

  private config(id: number): ResourceConfigRow {
    const row = this.rows.resourceConfigs.find((c) => c.id === id);
    if (!row) throw new Error(`resource config ${id} not found`);
    return row;
  }

  /** findOrCreateScope: a resource's own scope drops its scopes of other configs (a new history). */
  private scopeOf(resourceConfigId: number, resourceId: number | null): ScopeRow {
    this.config(resourceConfigId);
    if (resourceId !== null) {
      if (!this.rows.resources.some((r) => r.id === resourceId)) throw new Error(`resource ${resourceId} not found`);
      for (const old of this.rows.scopes.filter((s) => s.resourceId === resourceId && s.resourceConfigId !== resourceConfigId)) this.dropScope(old.id);
    }
    const found = this.rows.scopes.find((s) => s.resourceConfigId === resourceConfigId && s.resourceId === resourceId);
    if (found) return found;
    const row: ScopeRow = {
      id: this.id(),
      resourceConfigId,
      resourceId,
      lastCheckStartTime: null,
      lastCheckEndTime: null,
      lastCheckSucceeded: false,
      nextCheckTime: null,
      lastCheckBuild: null,
      checkLease: null,
    };
    this.rows.scopes.push(row);
    return row;
  }

  /** As the foreign keys do: versions go with the scope, resources and types point at nothing. */
  private dropScope(scopeId: number): void {
    removeWhere(this.rows.scopes, (s) => s.id === scopeId);
    removeWhere(this.rows.versions, (v) => v.scopeId === scopeId);
    for (const named of [...this.rows.resources, ...this.rows.resourceTypes]) {
      if (named.scopeId === scopeId) named.scopeId = null;
    }
  }

  private scope(id: number): ScopeRow {
    const row = this.rows.scopes.find((s) => s.id === id);
    if (!row) throw new Error(`resource config scope ${id} not found`);
    return row;
  }

  private point(rows: NamedRow[], kind: string, id: number, scope: ResourceConfigScope): void {
    const row = rows.find((r) => r.id === id);
    if (!row) throw new Error(`${kind} ${id} not found`);
    row.resourceConfigId = scope.resourceConfigId;
    row.scopeId = scope.id;
  }

  private named(rows: NamedRow[], pipelineId: number, name: string): NamedRow {
    const found = rows.find((r) => r.pipelineId === pipelineId && r.name === name);
    if (found) return found;
    const row: NamedRow = { id: this.id(), pipelineId, name, resourceConfigId: null, scopeId: null };
    rows.push(row);
    return row;
  }

  /** savePipeline's rows of the config's resources and types (by name; existing ones keep their scope). */
  private upsertNamed(pipelineId: number, config: PipelineConfig): void {
    for (const r of config.resources ?? []) if (r.name) this.named(this.rows.resources, pipelineId, r.name);
    for (const t of config.resource_types ?? []) if (t.name) this.named(this.rows.resourceTypes, pipelineId, t.name);
  }

  /**
   * saveVersions (src/db/versions.ts): each version is upserted by digest (a new one at check
   * order 0 with its metadata or []; an existing one keeps its metadata unless new metadata is
   * given). When any was new, every given version, in the given order, moves to max + 1 when its
   * check order is at most the scope's max; when none was new, nothing moves.
   */
  private upsertVersions(scopeId: number, versions: readonly SeedVersion[]): number {
    this.scope(scopeId);
    let newVersions = 0;
    const digests: string[] = [];
    for (const v of versions) {
      const digest = versionDigest(v.version);
      digests.push(digest);
      const found = this.rows.versions.find((r) => r.scopeId === scopeId && r.versionDigest === digest);
      if (found) {
        if (v.metadata !== undefined) found.metadata = structuredClone(v.metadata);
        continue;
      }
      this.rows.versions.push({ id: this.id(), scopeId, version: { ...v.version }, versionDigest: digest, metadata: structuredClone(v.metadata ?? []), checkOrder: 0 });
      newVersions++;
    }
    if (newVersions === 0) return 0;
    for (const digest of digests) {
      const inScope = this.rows.versions.filter((r) => r.scopeId === scopeId);
      const max = Math.max(0, ...inScope.map((r) => r.checkOrder));
      const row = inScope.find((r) => r.versionDigest === digest);
      if (row && row.checkOrder <= max) row.checkOrder = max + 1;
    }
    return newVersions;
  }

  private buildRow(buildId: number): BuildRow {
    const row = this.rows.builds.find((b) => b.build.id === buildId);
    if (!row) throw new Error(`build ${buildId} not found`);
    return row;
  }

  /** Resolves when the scope's lease is released or expires; rejects (with its reason) on abort. */
  private waitForLease(scopeId: number, expiresInMs: number, signal: AbortSignal): Promise<void> {
    return new Promise((resolve, reject) => {
      const waiters = this.leaseWaiters.get(scopeId) ?? new Set<() => void>();
      this.leaseWaiters.set(scopeId, waiters);
      const done = (): void => {
        waiters.delete(wake);
        clearTimeout(timer);
        signal.removeEventListener('abort', onAbort);
      };
      const wake = (): void => {
        done();
        resolve();
      };
      const onAbort = (): void => {
        done();
        reject(signal.reason);
      };
      // re-check at the lease's expiry (a crashed holder must not block the scope forever)
      const timer = setTimeout(wake, Math.min(Math.max(expiresInMs + 1, 0), 2 ** 31 - 1));
      waiters.add(wake);
      signal.addEventListener('abort', onAbort, { once: true });
    });
  }
}

function parentKey(parent: ResourceConfigParent): string {
  return 'baseType' in parent ? `base:${parent.baseType}` : `cache:${parent.resourceCacheId}`;
}

/** Postgres stores empty instance vars as NULL. */
function instanceVarsOf(instanceVars: Record<string, unknown> | null): Record<string, unknown> | null {
  return instanceVars && Object.keys(instanceVars).length > 0 ? structuredClone(instanceVars) : null;
}

function removeWhere<T>(rows: T[], doomed: (row: T) => boolean): void {
  for (let i = rows.length - 1; i >= 0; i--) if (doomed(rows[i]!)) rows.splice(i, 1);
}
