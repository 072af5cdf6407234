// The engine's storage ports (src/engine/store.ts: EngineStore, StepStore) on Postgres. The
// engine owns the interfaces; this adapter only maps them onto the store functions and SQL of
// this folder, and is checked against them where the web node wires it.
import type { PipelineConfig } from '../config/index.ts';
import type { BuildEvent, BuildStatus } from '../model/build-events.ts';
import type { Plan } from '../model/plan.ts';
import type { ResourceConfigParent, ResourceConfigScope, ScopeCheckState } from '../model/resource-config.ts';
import { canonicalJson, versionDigest, type MetadataField, type Version } from '../model/version.ts';
import {
  BUILD_COLUMNS,
  BUILD_FROM,
  countBuildContainer,
  finishBuild,
  listRunningBuilds,
  saveBuildEvent,
  saveBuildEvents,
  saveBuildOutput,
  toBuildRecord,
  type BuildRecord,
  type BuildRow,
} from './builds.ts';
import { lockScopeForCheck, markCheckFinished, markCheckStarted, scopeCheckState, scopeLatestVersion, type CheckLease } from './check-scopes.ts';
import type { Database } from './database.ts';
import { buildSteps, recordStepFinished, recordStepStarted } from './build-steps.ts';
import type { StepEffects, StepOutcome, StepRecord } from '../model/step-journal.ts';
import { getPipelineConfig, savePipeline, unpausePipeline } from './pipelines.ts';
import { currentResourceScope, findOrCreateResourceCacheOf, findOrCreateScopeOf, saveImageResourceCache, saveVersions, setResourceScope, setResourceTypeScope } from './versions.ts';

export class PostgresEngineStore {
  constructor(private readonly db: Database) {}

  // -- the step journal (migration 0008)
  buildSteps(buildId: number): Promise<StepRecord[]> {
    return buildSteps(this.db, buildId);
  }
  recordStepStarted(buildId: number, key: string, planId: string): Promise<void> {
    return recordStepStarted(this.db, buildId, key, planId);
  }
  recordStepFinished(buildId: number, key: string, planId: string, outcome: StepOutcome, effects: StepEffects): Promise<void> {
    return recordStepFinished(this.db, buildId, key, planId, outcome, effects);
  }

  findOrCreateResourceCache(
    parent: ResourceConfigParent,
    source: Record<string, unknown>,
    version: Version,
    params?: Record<string, unknown>,
    imageOf?: { buildId: number; jobId: number | null },
  ): Promise<{ id: number; resourceConfigId: number }> {
    return findOrCreateResourceCacheOf(this.db, parent, source, version, params, imageOf);
  }
  findOrCreateScope(parent: ResourceConfigParent, source: Record<string, unknown>, resourceId: number | null): Promise<ResourceConfigScope> {
    return findOrCreateScopeOf(this.db, parent, source, resourceId);
  }
  currentResourceScope(pipelineId: number, resource: string, parent: { baseType: string }, source: Record<string, unknown>): Promise<{ resourceId: number; scope: ResourceConfigScope } | undefined> {
    return currentResourceScope(this.db, pipelineId, resource, parent, source);
  }

  setResourceScope(resourceId: number, scope: ResourceConfigScope): Promise<void> {
    return setResourceScope(this.db, resourceId, scope);
  }
  setResourceTypeScope(resourceTypeId: number, scope: ResourceConfigScope): Promise<void> {
    return setResourceTypeScope(this.db, resourceTypeId, scope);
  }
  lockScopeForCheck(scopeId: number, signal: AbortSignal, leaseMs: number): Promise<CheckLease> {
    return lockScopeForCheck(this.db, scopeId, signal, leaseMs);
  }
  scopeCheckState(scopeId: number): Promise<ScopeCheckState> {
    return scopeCheckState(this.db, scopeId);
  }
  scopeLatestVersion(scopeId: number): Promise<Version | undefined> {
    return scopeLatestVersion(this.db, scopeId);
  }
  markCheckStarted(scopeId: number, build?: { id: number; plan: unknown }): Promise<void> {
    return markCheckStarted(this.db, scopeId, build);
  }
  markCheckFinished(scopeId: number, succeeded: boolean, intervalMs: number | undefined): Promise<void> {
    return markCheckFinished(this.db, scopeId, succeeded, intervalMs);
  }
  async saveVersions(scopeId: number, versions: readonly Version[]): Promise<void> {
    await saveVersions(this.db, scopeId, versions.map((version) => ({ version })));
  }

  resourceId(pipelineId: number, name: string): Promise<number | undefined> {
    return this.idByName('resources', pipelineId, name);
  }
  resourceTypeId(pipelineId: number, name: string): Promise<number | undefined> {
    return this.idByName('resource_types', pipelineId, name);
  }
  private async idByName(table: 'resources' | 'resource_types', pipelineId: number, name: string): Promise<number | undefined> {
    const r = await this.db.query<{ id: number }>(`SELECT id FROM ${table} WHERE pipeline_id = $1 AND name = $2`, [pipelineId, name]);
    return r.rows[0]?.id;
  }
  async versionMetadata(pipelineId: number, resource: string, version: Version): Promise<MetadataField[]> {
    const r = await this.db.query<{ metadata: MetadataField[] | null }>(
      `SELECT v.metadata FROM resource_config_versions v JOIN resources r ON r.resource_config_scope_id = v.resource_config_scope_id
        WHERE r.pipeline_id = $1 AND r.name = $2 AND v.version_sha256 = $3`,
      [pipelineId, resource, versionDigest(version)],
    );
    return r.rows[0]?.metadata ?? [];
  }
  async saveVersionMetadata(pipelineId: number, resource: string, version: Version, metadata: readonly MetadataField[]): Promise<boolean> {
    const r = await this.db.query(
      `UPDATE resource_config_versions v SET metadata = $4 FROM resources r
        WHERE r.pipeline_id = $1 AND r.name = $2 AND v.resource_config_scope_id = r.resource_config_scope_id AND v.version_sha256 = $3`,
      [pipelineId, resource, versionDigest(version), JSON.stringify(metadata)],
    );
    return (r.rowCount ?? 0) > 0;
  }

  setPipelineFromBuild(input: {
    team: string;
    name: string;
    instanceVars: Record<string, unknown> | null;
    config: PipelineConfig;
    buildId: number;
    jobId: number | null;
  }): Promise<{ changed: boolean; previous: PipelineConfig | null } | { setByNewerBuild: number } | { teamNotFound: true }> {
    const ref = { team: input.team, name: input.name, instanceVars: input.instanceVars };
    return this.db.transaction(async (tx) => {
      // FOR SHARE: the team cannot be destroyed while its pipeline is saved
      const team = await tx.query('SELECT id FROM teams WHERE name = $1 FOR SHARE', [input.team]);
      if (team.rows.length === 0) return { teamNotFound: true as const };
      const existing = await getPipelineConfig(tx, ref);
      if (existing && input.jobId !== null) {
        const setter = await tx.query<{ parent_job_id: number | null; parent_build_id: number | null }>(
          'SELECT parent_job_id, parent_build_id FROM pipelines WHERE id = $1 FOR UPDATE',
          [existing.pipelineId],
        );
        const row = setter.rows[0];
        if (row?.parent_job_id === input.jobId && row.parent_build_id !== null && row.parent_build_id > input.buildId) {
          return { setByNewerBuild: row.parent_build_id };
        }
      }
      const changed = !existing || canonicalJson(existing.config) !== canonicalJson(input.config);
      const saved = await savePipeline(tx, { ...ref, config: input.config });
      await tx.query('UPDATE pipelines SET parent_job_id = $2, parent_build_id = $3 WHERE id = $1', [saved.pipelineId, input.jobId, input.buildId]);
      // Pipelines set by a build are not paused (unlike ones set through the API).
      if (saved.created) await unpausePipeline(tx, ref);
      return { changed, previous: existing && !existing.archived ? existing.config : null };
    });
  }

  async claimUploadedArtifact(artifactId: number, buildId: number): Promise<string | undefined> {
    const r = await this.db.query<{ location: string | null }>(
      // an upload serves the one build that claimed it: another build cannot read it by its id
      'UPDATE artifacts SET build_id = $2 WHERE id = $1 AND (build_id IS NULL OR build_id = $2) RETURNING location',
      [artifactId, buildId],
    );
    return r.rows[0]?.location ?? undefined;
  }
  async saveArtifactOutput(buildId: number, name: string, location: string): Promise<void> {
    await this.db.query('INSERT INTO artifacts (name, build_id, location) VALUES ($1, $2, $3)', [name, buildId, location]);
  }

  saveBuildOutput(buildId: number, output: { resourceId: number; scopeId: number; name: string; version: Version; metadata: MetadataField[] }): Promise<void> {
    return saveBuildOutput(this.db, buildId, output.resourceId, output.version, output.name, { metadata: output.metadata, scopeId: output.scopeId });
  }
  saveImageResourceCache(buildId: number, jobId: number | null, resourceCacheId: number): Promise<void> {
    return saveImageResourceCache(this.db, { buildId, jobId }, resourceCacheId);
  }

  /** The build with its plan and its pipeline's config, in one statement (configs as text: pg's own JSON parsing of a large config is slower than JSON.parse). */
  async buildToRun(buildId: number): Promise<{ build: BuildRecord; plan: Plan | undefined; pipelineConfig: PipelineConfig | undefined } | undefined> {
    const r = await this.db.query<BuildRow & { run_plan: string | null; run_config: string | null }>(
      `SELECT ${BUILD_COLUMNS}, b.plan::text AS run_plan, p.config::text AS run_config ${BUILD_FROM} WHERE b.id = $1`,
      [buildId],
    );
    const row = r.rows[0];
    if (!row) return undefined;
    return {
      build: toBuildRecord(row),
      plan: row.run_plan === null ? undefined : (JSON.parse(row.run_plan) as Plan),
      pipelineConfig: row.run_config === null ? undefined : (JSON.parse(row.run_config) as PipelineConfig),
    };
  }
  async runningBuildIds(): Promise<number[]> {
    return (await listRunningBuilds(this.db)).map((b) => b.id);
  }
  async saveBuildEvents(buildId: number, events: readonly { event: BuildEvent; writerKey: string }[]): Promise<void> {
    await saveBuildEvents(this.db, buildId, events);
  }

  async saveBuildEvent(buildId: number, event: BuildEvent, writerKey?: string): Promise<void> {
    await saveBuildEvent(this.db, buildId, event, writerKey);
  }
  async finishBuild(buildId: number, status: BuildStatus): Promise<void> {
    await finishBuild(this.db, buildId, status);
  }
  countBuildContainer(buildId: number, purpose: string, type: string): Promise<void> {
    return countBuildContainer(this.db, buildId, purpose, type);
  }
}
