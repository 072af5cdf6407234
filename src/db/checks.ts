// The Postgres CheckerStore (the checker's port, src/checker/store.ts, checked where the checker
// is built): the resource store's queries, and check creation serialised per resource (or type)
// by a transaction-level advisory lock.
import type { PipelineConfig, ResourceType } from '../config/index.ts';
import { createStartedBuild, type BuildRecord, type StartedBuildInput } from './builds.ts';
import type { Queryable } from './database.ts';
import type { BuildEvent, BuildStatus } from '../model/build-events.ts';
import type { InMemoryCheck } from '../model/in-memory-check.ts';
import { finishInMemoryCheck, recordInMemoryCheckBuild, startInMemoryCheck } from './in-memory-checks.ts';
import {
  checkCandidates,
  checkIntervalElapsed,
  findResource,
  findResourceType,
  getResource,
  getResourceType,
  pruneCheckBuilds,
  runningCheckExists,
  type CheckCandidate,
  type CheckTarget,
  type ResourceRecord,
  type ResourceTypeRecord,
} from './resources.ts';

/** Advisory-lock classes serialising check creation per resource / type. */
const CHECK_LOCK_CLASS = 0x6a7704;
const TYPE_CHECK_LOCK_CLASS = 0x6a7705;

/** One check's creation, inside the transaction holding its lock. */
class PostgresCheckCreation {
  constructor(private readonly tx: Queryable) {}

  getResource(resourceId: number): Promise<ResourceRecord | undefined> {
    return getResource(this.tx, resourceId);
  }

  getResourceType(resourceTypeId: number): Promise<ResourceTypeRecord | undefined> {
    return getResourceType(this.tx, resourceTypeId);
  }

  checkIntervalElapsed(scopeId: number | null): Promise<boolean> {
    return checkIntervalElapsed(this.tx, scopeId);
  }

  runningCheckExists(target: CheckTarget, staleAfterMs: number, createdSinceBuildId?: number): Promise<boolean> {
    return runningCheckExists(this.tx, target, staleAfterMs, createdSinceBuildId);
  }

  async lastFailedCheckEnd(target: CheckTarget, createdSinceBuildId?: number): Promise<Date | undefined> {
    const [col, id] = 'resourceId' in target ? ['resource_id', target.resourceId] : ['resource_type_id', target.resourceTypeId];
    // builds share one id sequence: a check with a larger id was created after the job build
    const r = await this.tx.query<{ status: string; end_time: Date | null }>(
      `SELECT status, end_time FROM builds WHERE ${col} = $1 AND completed AND id > $2 ORDER BY id DESC LIMIT 1`,
      [id, createdSinceBuildId ?? 0],
    );
    const last = r.rows[0];
    return last && last.status !== 'succeeded' && last.end_time ? last.end_time : undefined;
  }

  async pipelineResourceTypes(pipelineId: number): Promise<ResourceType[]> {
    const r = await this.tx.query<{ config: ResourceType }>('SELECT config FROM resource_types WHERE pipeline_id = $1 AND active ORDER BY id', [
      pipelineId,
    ]);
    return r.rows.map((row) => row.config);
  }

  createStartedBuild(input: StartedBuildInput): Promise<BuildRecord> {
    return createStartedBuild(this.tx, input);
  }

  pruneCheckBuilds(target: CheckTarget, keep: number): Promise<number> {
    return pruneCheckBuilds(this.tx, target, keep);
  }
}

export class PostgresCheckerStore {
  constructor(private readonly db: Queryable) {}

  checkCandidates(): Promise<CheckCandidate[]> {
    return checkCandidates(this.db);
  }

  findResource(pipelineId: number, name: string): Promise<ResourceRecord | undefined> {
    return findResource(this.db, pipelineId, name);
  }

  findResourceType(pipelineId: number, name: string): Promise<ResourceTypeRecord | undefined> {
    return findResourceType(this.db, pipelineId, name);
  }

  async findPrototype(pipelineId: number, name: string): Promise<{ teamId: number; pipelineId: number; pipelineArchived: boolean; config: ResourceType } | undefined> {
    const r = await this.db.query<{ team_id: number; archived: boolean; prototype: ResourceType }>(
      `SELECT p.team_id, p.archived, x.prototype FROM pipelines p,
              json_array_elements(CASE WHEN json_typeof(p.config->'prototypes') = 'array' THEN p.config->'prototypes' ELSE '[]'::json END) AS x(prototype)
        WHERE p.id = $1 AND x.prototype->>'name' = $2 LIMIT 1`,
      [pipelineId, name],
    );
    const row = r.rows[0];
    return row ? { teamId: row.team_id, pipelineId, pipelineArchived: row.archived, config: row.prototype } : undefined;
  }

  async pipelinesCheckConfig(pipelineIds: readonly number[]): Promise<Map<number, Pick<PipelineConfig, 'resource_types' | 'var_sources'>>> {
    const out = new Map<number, Pick<PipelineConfig, 'resource_types' | 'var_sources'>>();
    if (pipelineIds.length === 0) return out;
    // as text: JSON.parse is faster than pg's parsing of json values
    const r = await this.db.query<{ id: number; types: string | null; var_sources: string | null }>(
      `SELECT id, (config->'resource_types')::text AS types, (config->'var_sources')::text AS var_sources FROM pipelines WHERE id = ANY($1::int[])`,
      [[...pipelineIds]],
    );
    for (const row of r.rows) {
      out.set(row.id, {
        ...(row.types ? { resource_types: JSON.parse(row.types) as ResourceType[] } : {}),
        ...(row.var_sources ? { var_sources: JSON.parse(row.var_sources) as PipelineConfig['var_sources'] } : {}),
      });
    }
    return out;
  }

  startInMemoryCheck(resourceId: number, config: unknown, intervalMs: number): Promise<{ id: number; createTime: Date } | undefined> {
    return startInMemoryCheck(this.db, resourceId, config, intervalMs);
  }

  finishInMemoryCheck(resourceId: number, id: number, status: BuildStatus | null): Promise<void> {
    return finishInMemoryCheck(this.db, resourceId, id, status);
  }

  recordInMemoryCheckBuild(check: InMemoryCheck, status: BuildStatus, events: readonly BuildEvent[], opts: { keep: number; intervalMs: number | undefined }): Promise<void> {
    return recordInMemoryCheckBuild(this.db, check, status, events, opts);
  }

  inTransaction<T>(create: (tx: PostgresCheckCreation) => Promise<T>): Promise<T> {
    return this.db.transaction((tx) => create(new PostgresCheckCreation(tx)));
  }

  withCheckLock<T>(target: CheckTarget, create: (tx: PostgresCheckCreation) => Promise<T>): Promise<T> {
    const [lockClass, id] = 'resourceId' in target ? [CHECK_LOCK_CLASS, target.resourceId] : [TYPE_CHECK_LOCK_CLASS, target.resourceTypeId];
    return this.db.transaction(async (tx) => {
      await tx.query('SELECT pg_advisory_xact_lock($1, $2)', [lockClass, id]);
      return create(new PostgresCheckCreation(tx));
    });
  }
}
