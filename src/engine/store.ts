// The engine's storage ports, owned here as Concourse's exec steps own the `db` interfaces they
// take: exactly what a build and its steps read and write, nothing more. Postgres implements them
// (src/db/engine-store.ts, wired by the web node); tests use the in-memory fake
// (test/support/memory-engine-store.ts), so each step is tested without a database.
import type { PipelineConfig } from '../config/index.ts';
import type { BuildEvent, BuildStatus } from '../model/build-events.ts';
import type { Plan } from '../model/plan.ts';
import type { ResourceConfigParent, ResourceConfigScope, ScopeCheckState } from '../model/resource-config.ts';
import type { MetadataField, Version } from '../model/version.ts';
import type { StepJournalStore } from './journal.ts';

/** What a build's steps read and write. */
export interface StepStore {
  // -- the cache chain (docs/concourse-semantics.md §2, §6)
  // (a config is the one of `source` on its parent: a base type, or a custom type's image cache;
  // it is found or created with what hangs from it, in one statement where Postgres can)
  /**
   * "This version of the config of `source`, fetched with these params"; with `imageOf`, also
   * recorded as an image that build used (saveImageResourceCache), in the same write.
   */
  findOrCreateResourceCache(
    parent: ResourceConfigParent,
    source: Record<string, unknown>,
    version: Version,
    params?: Record<string, unknown>,
    imageOf?: { buildId: number; jobId: number | null },
  ): Promise<{ id: number; resourceConfigId: number }>;

  // -- version histories and checks (§5)
  /** The scope of the config of `source`: shared (resourceId null) or the resource's own (which drops its other scopes). */
  findOrCreateScope(parent: ResourceConfigParent, source: Record<string, unknown>, resourceId: number | null): Promise<ResourceConfigScope>;
  /**
   * The resource's scope when it already is the one of this config (a base type's `source`): what
   * findOrCreateScope and setResourceScope would answer, and keep,
   * in one read (the config's last use recorded); undefined when anything would change.
   */
  currentResourceScope(pipelineId: number, resource: string, parent: { baseType: string }, source: Record<string, unknown>): Promise<{ resourceId: number; scope: ResourceConfigScope } | undefined>;
  /** Points a resource at the scope its checks and puts save into. */
  setResourceScope(resourceId: number, scope: ResourceConfigScope): Promise<void>;
  /** Points a resource type at the scope of its checks. */
  setResourceTypeScope(resourceTypeId: number, scope: ResourceConfigScope): Promise<void>;
  /** Takes the scope's check lease (waiting while another check holds it), with the scope's check state as it is then. */
  lockScopeForCheck(scopeId: number, signal: AbortSignal, leaseMs: number): Promise<ScopeCheckLease>;
  scopeCheckState(scopeId: number): Promise<ScopeCheckState>;
  /** The scope's newest version by check order. */
  scopeLatestVersion(scopeId: number): Promise<Version | undefined>;
  markCheckStarted(scopeId: number, build?: { id: number; plan: unknown }): Promise<void>;
  /** How a check ended; the next periodic check is due one interval later (undefined: never). */
  markCheckFinished(scopeId: number, succeeded: boolean, intervalMs: number | undefined): Promise<void>;
  /** A check's versions, oldest first, into the scope's history. */
  saveVersions(scopeId: number, versions: readonly Version[]): Promise<void>;

  // -- names of the build's pipeline
  resourceId(pipelineId: number, name: string): Promise<number | undefined>;
  resourceTypeId(pipelineId: number, name: string): Promise<number | undefined>;
  /** The stored metadata of a version of a pipeline resource ([] when unknown). */
  versionMetadata(pipelineId: number, resource: string, version: Version): Promise<MetadataField[]>;
  /**
   * A get's metadata onto the version in the resource's history, as Concourse's get delegate
   * does (`UpdateResourceVersion` → `resource.UpdateMetadata`): only a version the history
   * already has; false when it has none (or the resource has no history yet).
   */
  saveVersionMetadata(pipelineId: number, resource: string, version: Version, metadata: readonly MetadataField[]): Promise<boolean>;

  // -- set_pipeline
  /**
   * Saves a pipeline a build set (created unpaused, remembering the job and build that set it),
   * in one transaction; nothing is saved when a newer build of the same job set it, or when the
   * team does not exist. Whether the build may set that team's pipeline is the step's rule.
   */
  setPipelineFromBuild(input: SetPipelineFromBuild): Promise<SetPipelineFromBuildResult>;

  // -- one-off builds' artifacts (`jetway execute`)
  /** The tarball of an uploaded artifact, claimed by the build; undefined when unknown or another build's. */
  claimUploadedArtifact(artifactId: number, buildId: number): Promise<string | undefined>;
  /** Records an output tarball the client downloads afterwards. */
  saveArtifactOutput(buildId: number, name: string, location: string): Promise<void>;

  // -- the build's records besides events
  /** A put's version: into the scope's history, and as the build's output. */
  saveBuildOutput(buildId: number, output: BuildOutput): Promise<void>;
  /** The resource cache of an image the build used (kept while the build's job needs it). */
  saveImageResourceCache(buildId: number, jobId: number | null, resourceCacheId: number): Promise<void>;
}

/** A held check lease of a scope (one check of a scope at a time), read and ended in one statement each. */
export interface ScopeCheckLease {
  /** the scope's check times when the lease was taken */
  state: ScopeCheckState;
  /** its newest version then */
  latest: Version | undefined;
  /**
   * Ends the check: the versions a successful check found saved into the scope (saveVersions),
   * markCheckFinished, the lease let go, the scope's newest version answered. One write when
   * every version is known already (a check's steady state). When the versions cannot be saved,
   * the check is recorded failed and the error thrown.
   */
  finish(succeeded: boolean, intervalMs: number | undefined, versions?: readonly Version[]): Promise<Version | undefined>;
  /** lets the lease go (nothing once finished or released) */
  release(): Promise<void>;
}

export interface SetPipelineFromBuild {
  team: string;
  name: string;
  instanceVars: Record<string, unknown> | null;
  config: PipelineConfig;
  buildId: number;
  jobId: number | null;
}

/** `previous`: the config it replaced (null when it is new, or was archived), for the step's diff. */
export type SetPipelineFromBuildResult = { changed: boolean; previous: PipelineConfig | null } | { setByNewerBuild: number } | { teamNotFound: true };

export interface BuildOutput {
  resourceId: number;
  scopeId: number;
  name: string;
  version: Version;
  metadata: MetadataField[];
}

/** The build the engine runs: what it needs of the build's record. */
export interface BuildToRun {
  id: number;
  name: string;
  teamId: number;
  teamName: string;
  jobId: number | null;
  jobName: string | null;
  pipelineId: number | null;
  pipelineName: string | null;
  /** the instanced pipeline's instance vars (the idtoken var source's `instance` and `job` subjects) */
  pipelineInstanceVars?: Record<string, unknown> | null;
  resourceId: number | null;
  resourceTypeId: number | null;
  aborted: boolean;
  createTime: Date;
  startTime: Date | null;
  createdBy: string | null;
}

/** A build to run with what the engine needs of it before its first step, read together (one round trip on the way to the first pod). */
export interface RunnableBuild {
  build: BuildToRun;
  /** undefined: the build has no plan (it never started) */
  plan: Plan | undefined;
  /** its pipeline's config now (var sources, resource types); undefined: no pipeline */
  pipelineConfig: PipelineConfig | undefined;
}

/** What the engine itself reads and writes around the steps (the step journal too: journal.ts). */
export interface EngineStore extends StepStore, StepJournalStore {
  buildToRun(buildId: number): Promise<RunnableBuild | undefined>;
  /** Builds left `started` (by this node or one before it). */
  runningBuildIds(): Promise<number[]>;
  /** `writerKey`: the writer and its position; a write retried under the same key is saved once. */
  saveBuildEvent(buildId: number, event: BuildEvent, writerKey?: string): Promise<void>;
  /** Several events in order in one write, all or none (the event sink's batches). */
  saveBuildEvents(buildId: number, events: readonly { event: BuildEvent; writerKey: string }[]): Promise<void>;
  finishBuild(buildId: number, status: BuildStatus): Promise<void>;
  /** Counts a container (pod) the build created, by purpose and step type. */
  countBuildContainer(buildId: number, purpose: string, type: string): Promise<void>;
}
