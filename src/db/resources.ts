// The resource store: reading resources and resource types with their check state, what the
// checker's scanner selects (docs/concourse-semantics.md §5), check builds of a resource, scope freshness for the build
// starter (§4.4 step 3), and pins / enabled versions.
import type { Resource, ResourceType } from '../config/index.ts';
import { BUILD_SELECT, toBuildRecord, type BuildRecord } from './builds.ts';
import type { Queryable } from './database.ts';
import { ConflictError, NotFoundError } from './errors.ts';
import { requestScheduleForScope } from './versions.ts';
import type { Version } from '../model/version.ts';

export interface ResourceRecord {
  id: number;
  name: string;
  type: string;
  pipelineId: number;
  pipelineName: string;
  pipelinePaused: boolean;
  pipelineArchived: boolean;
  teamId: number;
  teamName: string;
  config: Resource;
  active: boolean;
  resourceConfigId: number | null;
  scopeId: number | null;
  lastCheckStartTime: Date | null;
  lastCheckEndTime: Date | null;
  lastCheckSucceeded: boolean;
  nextCheckTime: Date | null;
  lastCheckBuildId: number | null;
  pinnedVersion: Version | null;
  pinnedInConfig: boolean;
  pinComment: string;
}

interface ResourceRow extends Record<string, unknown> {
  id: number;
  name: string;
  type: string;
  pipeline_id: number;
  pipeline_name: string;
  pipeline_paused: boolean;
  pipeline_archived: boolean;
  team_id: number;
  team_name: string;
  config: Resource;
  active: boolean;
  resource_config_id: number | null;
  scope_id: number | null;
  last_check_start_time: Date | null;
  last_check_end_time: Date | null;
  last_check_succeeded: boolean | null;
  next_check_time: Date | null;
  last_check_build_id: number | null;
  pin: Version | null;
  pin_config: boolean | null;
  pin_comment: string | null;
}

const RESOURCE_SELECT = `SELECT r.id, r.name, r.type, r.pipeline_id, p.name AS pipeline_name, p.paused AS pipeline_paused,
    p.archived AS pipeline_archived, p.team_id, t.name AS team_name, r.config, r.active, r.resource_config_id,
    r.resource_config_scope_id AS scope_id,
    s.last_check_start_time, s.last_check_end_time, s.last_check_succeeded, s.next_check_time, s.last_check_build_id,
    rp.version AS pin, rp.config AS pin_config, rp.comment_text AS pin_comment
  FROM resources r JOIN pipelines p ON p.id = r.pipeline_id JOIN teams t ON t.id = p.team_id
  LEFT JOIN resource_config_scopes s ON s.id = r.resource_config_scope_id
  LEFT JOIN resource_pins rp ON rp.resource_id = r.id`;

function toResource(r: ResourceRow): ResourceRecord {
  return {
    id: r.id,
    name: r.name,
    type: r.type,
    pipelineId: r.pipeline_id,
    pipelineName: r.pipeline_name,
    pipelinePaused: r.pipeline_paused,
    pipelineArchived: r.pipeline_archived,
    teamId: r.team_id,
    teamName: r.team_name,
    config: r.config,
    active: r.active,
    resourceConfigId: r.resource_config_id,
    scopeId: r.scope_id,
    lastCheckStartTime: r.last_check_start_time,
    lastCheckEndTime: r.last_check_end_time,
    lastCheckSucceeded: r.last_check_succeeded ?? false,
    nextCheckTime: r.next_check_time,
    lastCheckBuildId: r.last_check_build_id,
    pinnedVersion: r.pin,
    pinnedInConfig: r.pin_config ?? false,
    pinComment: r.pin_comment ?? '',
  };
}

export async function getResource(db: Queryable, resourceId: number): Promise<ResourceRecord | undefined> {
  const r = await db.query<ResourceRow>(`${RESOURCE_SELECT} WHERE r.id = $1`, [resourceId]);
  const row = r.rows[0];
  return row ? toResource(row) : undefined;
}

export async function mustGetResource(db: Queryable, resourceId: number): Promise<ResourceRecord> {
  const res = await getResource(db, resourceId);
  if (!res) throw new NotFoundError(`resource ${resourceId} not found`);
  return res;
}

/** An active resource of a pipeline by name. */
export async function findResource(db: Queryable, pipelineId: number, name: string): Promise<ResourceRecord | undefined> {
  const r = await db.query<ResourceRow>(`${RESOURCE_SELECT} WHERE r.pipeline_id = $1 AND r.name = $2 AND r.active`, [pipelineId, name]);
  const row = r.rows[0];
  return row ? toResource(row) : undefined;
}

/** The active resources of a pipeline, in config order. */
export async function listResources(db: Queryable, pipelineId: number): Promise<ResourceRecord[]> {
  const r = await db.query<ResourceRow>(`${RESOURCE_SELECT} WHERE r.pipeline_id = $1 AND r.active ORDER BY r.ordering, r.id`, [pipelineId]);
  return r.rows.map(toResource);
}

export interface ResourceTypeRecord {
  id: number;
  name: string;
  type: string;
  pipelineId: number;
  pipelineArchived: boolean;
  teamId: number;
  config: ResourceType;
  scopeId: number | null;
  lastCheckEndTime: Date | null;
  lastCheckSucceeded: boolean;
  nextCheckTime: Date | null;
}

interface TypeRow extends Record<string, unknown> {
  id: number;
  name: string;
  type: string;
  pipeline_id: number;
  pipeline_archived: boolean;
  team_id: number;
  config: ResourceType;
  scope_id: number | null;
  last_check_end_time: Date | null;
  last_check_succeeded: boolean | null;
  next_check_time: Date | null;
}

const TYPE_SELECT = `SELECT rt.id, rt.name, rt.type, rt.pipeline_id, p.archived AS pipeline_archived, p.team_id, rt.config,
    rt.resource_config_scope_id AS scope_id, s.last_check_end_time, s.last_check_succeeded, s.next_check_time
  FROM resource_types rt JOIN pipelines p ON p.id = rt.pipeline_id
  LEFT JOIN resource_config_scopes s ON s.id = rt.resource_config_scope_id`;

function toType(r: TypeRow): ResourceTypeRecord {
  return {
    id: r.id,
    name: r.name,
    type: r.type,
    pipelineId: r.pipeline_id,
    pipelineArchived: r.pipeline_archived,
    teamId: r.team_id,
    config: r.config,
    scopeId: r.scope_id,
    lastCheckEndTime: r.last_check_end_time,
    lastCheckSucceeded: r.last_check_succeeded ?? false,
    nextCheckTime: r.next_check_time,
  };
}

/** The active resource types of a pipeline. */
export async function listResourceTypes(db: Queryable, pipelineId: number): Promise<ResourceTypeRecord[]> {
  const r = await db.query<TypeRow>(`${TYPE_SELECT} WHERE rt.pipeline_id = $1 AND rt.active ORDER BY rt.id`, [pipelineId]);
  return r.rows.map(toType);
}

export async function findResourceType(db: Queryable, pipelineId: number, name: string): Promise<ResourceTypeRecord | undefined> {
  const r = await db.query<TypeRow>(`${TYPE_SELECT} WHERE rt.pipeline_id = $1 AND rt.name = $2 AND rt.active`, [pipelineId, name]);
  const row = r.rows[0];
  return row ? toType(row) : undefined;
}

export async function getResourceType(db: Queryable, id: number): Promise<ResourceTypeRecord | undefined> {
  const r = await db.query<TypeRow>(`${TYPE_SELECT} WHERE rt.id = $1`, [id]);
  const row = r.rows[0];
  return row ? toType(row) : undefined;
}

// ------------------------------------------------------------------------------ the scanner

/** What the scanner's selection rules (§5) look at, per resource. */
export interface CheckFacts {
  /** A non-passed input with `trigger: true` of some active job. */
  triggerInput: boolean;
  /** A non-passed input without trigger of some active job. */
  nonTriggerInput: boolean;
  /** Used by some job's put, and by no get at all. */
  putOnly: boolean;
  /** The scope has a recorded check build (last_check_build_id). */
  checked: boolean;
  lastCheckSucceeded: boolean;
  /** The current scope has at least one version. */
  hasVersions: boolean;
  /** Pinned (config or API). */
  pinned: boolean;
  /** The pinned version is in the current scope. */
  pinFound: boolean;
  /** now ≥ scope.next_check_time (or no scope / never scheduled). */
  intervalElapsed: boolean;
}

export interface CheckCandidate {
  resource: ResourceRecord;
  facts: CheckFacts;
}

/** Every active resource of an unpaused, unarchived pipeline, with its check facts. */
export async function checkCandidates(db: Queryable): Promise<CheckCandidate[]> {
  const r = await db.query<
    ResourceRow & {
      trigger_input: boolean;
      non_trigger_input: boolean;
      put_only: boolean;
      has_versions: boolean;
      pin_found: boolean;
      interval_elapsed: boolean;
    }
  >(
    `SELECT x.*,
       EXISTS (SELECT 1 FROM job_inputs ji JOIN jobs j ON j.id = ji.job_id
                WHERE ji.resource_id = x.id AND j.active AND ji.passed_job_id IS NULL AND ji.trigger) AS trigger_input,
       EXISTS (SELECT 1 FROM job_inputs ji JOIN jobs j ON j.id = ji.job_id
                WHERE ji.resource_id = x.id AND j.active AND ji.passed_job_id IS NULL AND NOT ji.trigger) AS non_trigger_input,
       (EXISTS (SELECT 1 FROM job_outputs o JOIN jobs j ON j.id = o.job_id WHERE o.resource_id = x.id AND j.active)
        AND NOT EXISTS (SELECT 1 FROM job_inputs ji JOIN jobs j ON j.id = ji.job_id WHERE ji.resource_id = x.id AND j.active)) AS put_only,
       EXISTS (SELECT 1 FROM resource_config_versions v WHERE v.resource_config_scope_id = x.scope_id) AS has_versions,
       (x.pin IS NOT NULL AND EXISTS (SELECT 1 FROM resource_config_versions v
                                       WHERE v.resource_config_scope_id = x.scope_id AND v.version @> x.pin)) AS pin_found,
       (x.next_check_time IS NULL OR x.next_check_time <= now()) AS interval_elapsed
     FROM (${RESOURCE_SELECT} WHERE r.active AND NOT p.paused AND NOT p.archived) x
     ORDER BY x.id`,
  );
  return r.rows.map((row) => ({
    resource: toResource(row),
    facts: {
      triggerInput: row.trigger_input,
      nonTriggerInput: row.non_trigger_input,
      putOnly: row.put_only,
      // an in-memory check leaves no build id: its end counts
      checked: row.last_check_build_id !== null || row.last_check_end_time !== null,
      lastCheckSucceeded: row.last_check_succeeded ?? false,
      hasVersions: row.has_versions,
      pinned: row.pin !== null,
      pinFound: row.pin_found,
      intervalElapsed: row.interval_elapsed,
    },
  }));
}

/** Whether now ≥ the scope's next_check_time (true without a scope or a next check time). */
export async function checkIntervalElapsed(db: Queryable, scopeId: number | null): Promise<boolean> {
  if (scopeId === null) return true;
  const r = await db.query<{ due: boolean }>(
    'SELECT (next_check_time IS NULL OR next_check_time <= now()) AS due FROM resource_config_scopes WHERE id = $1',
    [scopeId],
  );
  return r.rows[0]?.due ?? true;
}

export type CheckTarget = { resourceId: number } | { resourceTypeId: number };

function targetColumn(target: CheckTarget): [string, number] {
  return 'resourceId' in target ? ['resource_id', target.resourceId] : ['resource_type_id', target.resourceTypeId];
}

/**
 * Whether a check build of the resource (or type) is running: not completed and created less
 * than `staleAfterMs` ago (older ones are considered abandoned, e.g. by a crashed engine). With
 * `createdSinceBuildId`, only check builds created at or after that build count.
 */
export async function runningCheckExists(
  db: Queryable,
  target: CheckTarget,
  staleAfterMs: number,
  createdSinceBuildId?: number,
): Promise<boolean> {
  const [col, id] = targetColumn(target);
  const r = await db.query(
    `SELECT 1 FROM builds b WHERE b.${col} = $1 AND NOT b.completed
        AND b.create_time > now() - make_interval(secs => $2::double precision / 1000)
        AND ($3::int IS NULL OR b.create_time >= (SELECT create_time FROM builds WHERE id = $3))
      LIMIT 1`,
    [id, staleAfterMs, createdSinceBuildId ?? null],
  );
  return r.rowCount > 0;
}

/**
 * Deletes completed periodic (not manually triggered) check builds of a resource or type
 * beyond the newest `keep` periodic ones (running ones count), keeping the one a scope records
 * as its last check. Returns how many went.
 */
export async function pruneCheckBuilds(db: Queryable, target: CheckTarget, keep: number): Promise<number> {
  const [col, id] = targetColumn(target);
  const r = await db.query(
    `DELETE FROM builds b WHERE b.id IN (
       SELECT id FROM builds WHERE ${col} = $1 AND NOT manually_triggered
        ORDER BY id DESC OFFSET $2)
       AND b.completed AND NOT EXISTS (SELECT 1 FROM resource_config_scopes s WHERE s.last_check_build_id = b.id)`,
    [id, Math.max(0, keep)],
  );
  return r.rowCount;
}

export async function checkBuildsOf(db: Queryable, target: CheckTarget, limit = 10): Promise<BuildRecord[]> {
  const [col, id] = targetColumn(target);
  const r = await db.query<Parameters<typeof toBuildRecord>[0]>(`${BUILD_SELECT} WHERE b.${col} = $1 ORDER BY b.id DESC LIMIT $2`, [
    id,
    limit,
  ]);
  return r.rows.map(toBuildRecord);
}

// ------------------------------------------------------------------------------ the build starter

export interface ScopeFreshness {
  resourceId: number;
  hasScope: boolean;
  /** last_check_end_time ≥ the build's create_time (what a manual build waits for). */
  checkedSinceBuildCreated: boolean;
  /** next_check_time ≥ the build's create_time (what a scheduler build waits for). */
  checkedRecentlyForBuild: boolean;
}

/** The check state of the resources' current scopes, compared (in SQL, exactly) with a build's create time. */
export async function scopeFreshness(db: Queryable, resourceIds: readonly number[], buildId: number): Promise<Map<number, ScopeFreshness>> {
  // a job without inputs (a build of tasks only) waits for no check
  if (resourceIds.length === 0) return new Map();
  const r = await db.query<{ id: number; scope_id: number | null; since: boolean | null; recent: boolean | null }>(
    `SELECT r.id, s.id AS scope_id, s.last_check_end_time >= b.create_time AS since, s.next_check_time >= b.create_time AS recent
       FROM resources r CROSS JOIN builds b
       LEFT JOIN resource_config_scopes s ON s.id = r.resource_config_scope_id
      WHERE r.id = ANY($1::int[]) AND b.id = $2`,
    [[...resourceIds], buildId],
  );
  const out = new Map<number, ScopeFreshness>();
  for (const row of r.rows) {
    out.set(row.id, {
      resourceId: row.id,
      hasScope: row.scope_id !== null,
      checkedSinceBuildCreated: row.since === true,
      checkedRecentlyForBuild: row.recent === true,
    });
  }
  return out;
}

// ------------------------------------------------------------------------------ pins and versions

async function requestScheduleForResource(db: Queryable, resourceId: number): Promise<void> {
  await db.query(
    `UPDATE jobs SET schedule_requested = clock_timestamp()
      WHERE id IN (SELECT job_id FROM job_inputs WHERE resource_id = $1)`,
    [resourceId],
  );
}

/**
 * Pins a resource to one of its versions (`resource_config_versions.id`) through the API.
 * Refused when the config pins it. Requests scheduling of the jobs using it.
 */
export async function pinVersion(db: Queryable, resourceId: number, versionId: number, by?: string): Promise<void> {
  await db.transaction(async (tx) => {
    const existing = await tx.query<{ config: boolean }>('SELECT config FROM resource_pins WHERE resource_id = $1', [resourceId]);
    if (existing.rows[0]?.config) throw new ConflictError('the resource is pinned in the pipeline config; change the config to unpin it');
    const v = await tx.query<{ version: Version }>(
      `SELECT v.version FROM resource_config_versions v JOIN resources r ON r.resource_config_scope_id = v.resource_config_scope_id
        WHERE r.id = $1 AND v.id = $2`,
      [resourceId, versionId],
    );
    const version = v.rows[0]?.version;
    if (!version) throw new NotFoundError(`version ${versionId} of resource ${resourceId} not found`);
    await tx.query(
      `INSERT INTO resource_pins (resource_id, version, config, pinned_by) VALUES ($1, $2::jsonb, false, $3)
       ON CONFLICT (resource_id) DO UPDATE SET version = EXCLUDED.version, pinned_by = EXCLUDED.pinned_by, pinned_at = now()`,
      [resourceId, JSON.stringify(version), by ?? null],
    );
    await requestScheduleForResource(tx, resourceId);
  });
}

/** Removes an API pin (a config pin cannot be removed). */
export async function unpinResource(db: Queryable, resourceId: number): Promise<void> {
  await db.transaction(async (tx) => {
    const existing = await tx.query<{ config: boolean }>('SELECT config FROM resource_pins WHERE resource_id = $1', [resourceId]);
    if (existing.rows[0]?.config) throw new ConflictError('the resource is pinned in the pipeline config; change the config to unpin it');
    await tx.query('DELETE FROM resource_pins WHERE resource_id = $1', [resourceId]);
    await requestScheduleForResource(tx, resourceId);
  });
}

export async function setPinComment(db: Queryable, resourceId: number, comment: string): Promise<void> {
  const r = await db.query('UPDATE resource_pins SET comment_text = $2 WHERE resource_id = $1', [resourceId, comment]);
  if (r.rowCount === 0) throw new NotFoundError(`resource ${resourceId} is not pinned`);
}

/** Enables or disables a version (`resource_config_versions.id`) of a resource; requests scheduling. */
export async function setVersionEnabled(db: Queryable, resourceId: number, versionId: number, enabled: boolean): Promise<void> {
  await db.transaction(async (tx) => {
    const v = await tx.query<{ digest: string; scope: number }>(
      `SELECT v.version_sha256 AS digest, v.resource_config_scope_id AS scope FROM resource_config_versions v
         JOIN resources r ON r.resource_config_scope_id = v.resource_config_scope_id WHERE r.id = $1 AND v.id = $2`,
      [resourceId, versionId],
    );
    const row = v.rows[0];
    if (!row) throw new NotFoundError(`version ${versionId} of resource ${resourceId} not found`);
    if (enabled) {
      await tx.query('DELETE FROM resource_disabled_versions WHERE resource_id = $1 AND version_digest = $2', [resourceId, row.digest]);
    } else {
      await tx.query('INSERT INTO resource_disabled_versions (resource_id, version_digest) VALUES ($1, $2) ON CONFLICT DO NOTHING', [
        resourceId,
        row.digest,
      ]);
    }
    await requestScheduleForScope(tx, row.scope);
    await requestScheduleForResource(tx, resourceId);
  });
}
