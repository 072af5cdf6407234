// What the checker needs of storage. The port is the checker's; the Postgres implementation is
// src/db/checks.ts (checked where the checker is built) and unit tests use an in-memory fake.
// The records are the resource store's (src/db/resources.ts, src/db/builds.ts).
import type { PipelineConfig, ResourceType } from '../config/index.ts';
import type { BuildRecord, StartedBuildInput } from '../db/builds.ts';
import type { CheckCandidate, CheckTarget, ResourceRecord, ResourceTypeRecord } from '../db/resources.ts';
import type { BuildEvent, BuildStatus } from '../model/build-events.ts';
import type { InMemoryCheck } from '../model/in-memory-check.ts';

export interface CheckerStore {
  /** Every active resource of an unpaused, unarchived pipeline, with its check facts. */
  checkCandidates(): Promise<CheckCandidate[]>;
  /** An active resource of a pipeline by name. */
  findResource(pipelineId: number, name: string): Promise<ResourceRecord | undefined>;
  /** An active resource type of a pipeline by name. */
  findResourceType(pipelineId: number, name: string): Promise<ResourceTypeRecord | undefined>;
  /**
   * Runs `create` in one transaction holding the target's check-creation lock, so that the
   * decision to create a check and its creation are one step per resource (or type) across
   * web nodes.
   */
  withCheckLock<T>(target: CheckTarget, create: (tx: CheckCreationStore) => Promise<T>): Promise<T>;
  /** A prototype of a pipeline's config by name (prototypes have no rows of their own). */
  findPrototype(pipelineId: number, name: string): Promise<PrototypeRecord | undefined>;
  /** Runs `create` in one transaction without a check lock (a prototype's manual check). */
  inTransaction<T>(create: (tx: CheckCreationStore) => Promise<T>): Promise<T>;

  // -- in-memory checks (src/model/in-memory-check.ts)
  /** What each pipeline's checks run with: its config's resource types and var sources. */
  pipelinesCheckConfig(pipelineIds: readonly number[]): Promise<Map<number, PipelineCheckConfig>>;
  /**
   * Records the resource's in-memory check as started, with an id from the builds' sequence;
   * undefined when it is not the check the scan queued any more (the resource's `config` as the
   * scan read it changed, it went inactive, its pipeline was paused or archived) or its newest
   * check failed less than `intervalMs` ago.
   */
  startInMemoryCheck(resourceId: number, config: unknown, intervalMs: number): Promise<{ id: number; createTime: Date } | undefined>;
  /** How it ended; null: handed to a check build (the resource's record of it cleared). */
  finishInMemoryCheck(resourceId: number, id: number, status: BuildStatus | null): Promise<void>;
  /**
   * One that did not succeed, as a completed check build with its events (periodic ones beyond
   * `keep` pruned); the resource's scope not due again for `intervalMs` (a check that failed
   * before it reached the scope set no next check time there).
   */
  recordInMemoryCheckBuild(check: InMemoryCheck, status: BuildStatus, events: readonly BuildEvent[], opts: { keep: number; intervalMs: number | undefined }): Promise<void>;
}

/** The parts of a pipeline's config its checks run with. */
export type PipelineCheckConfig = Pick<PipelineConfig, 'resource_types' | 'var_sources'>;

/** A prototype (Concourse's experimental `prototypes:`): the resource-type shape, in its pipeline. */
export interface PrototypeRecord {
  teamId: number;
  pipelineId: number;
  pipelineArchived: boolean;
  config: ResourceType;
}

/** The reads and writes of creating one check, inside `withCheckLock`. */
export interface CheckCreationStore {
  getResource(resourceId: number): Promise<ResourceRecord | undefined>;
  getResourceType(resourceTypeId: number): Promise<ResourceTypeRecord | undefined>;
  /** Whether now ≥ the scope's next check time (true without a scope or a next check time). */
  checkIntervalElapsed(scopeId: number | null): Promise<boolean>;
  /**
   * Whether a check build of the target is running and younger than `staleAfterMs`; with
   * `createdSinceBuildId`, only one created at or after that build counts.
   */
  runningCheckExists(target: CheckTarget, staleAfterMs: number, createdSinceBuildId?: number): Promise<boolean>;
  /**
   * When the target's newest finished check build did not succeed, its end time (else
   * undefined): a check that errored before it reached its scope (an undefined ((var)) in the
   * source, an image that cannot be fetched) sets no next check time there. With
   * `createdSinceBuildId`, only a check created since that (waiting) build counts.
   */
  lastFailedCheckEnd(target: CheckTarget, createdSinceBuildId?: number): Promise<Date | undefined>;
  /** The configs of the pipeline's active resource types, in id order. */
  pipelineResourceTypes(pipelineId: number): Promise<ResourceType[]>;
  /** A check build, created started with its plan. */
  createStartedBuild(input: StartedBuildInput): Promise<BuildRecord>;
  /** Deletes the target's completed periodic check builds beyond the newest `keep`; how many went. */
  pruneCheckBuilds(target: CheckTarget, keep: number): Promise<number>;
}
