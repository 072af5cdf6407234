// Version history: resource configs, their scopes, and saving check results (docs/concourse-semantics.md §2, §5, §6).
import { canonicalJson, sha256Hex as sha256, versionDigest, type MetadataField, type Version } from '../model/version.ts';
import type { ResourceConfigParent, ResourceConfigScope } from '../model/resource-config.ts';
import type { Queryable } from './database.ts';
import { NotFoundError } from './errors.ts';

// ------------------------------------------------------------------------------ digests

/** `resource_configs.source_hash`: sha256 hex of the canonical JSON of the (interpolated) source. */
export function sourceHash(source: Record<string, unknown> | null | undefined): string {
  return sha256(canonicalJson(source ?? {}));
}

// ------------------------------------------------------------------------------ configs and scopes

export type { ResourceConfigParent, ResourceConfigScope } from '../model/resource-config.ts';

export interface ResourceConfig {
  id: number;
  baseResourceTypeId: number | null;
  resourceCacheId: number | null;
  sourceHash: string;
}

/**
 * The CTEs `bt` (the base type named $1) and `c` (its config of source hash $2, its use recorded):
 * the one copy of that upsert, which the statements that hang something from a base type's config
 * chain after.
 */
const BASE_TYPE_CONFIG = `bt AS (INSERT INTO base_resource_types (name) VALUES ($1) ON CONFLICT (name) DO UPDATE SET name = EXCLUDED.name RETURNING id),
     c AS (INSERT INTO resource_configs (base_resource_type_id, source_hash) SELECT bt.id, $2 FROM bt
           ON CONFLICT (base_resource_type_id, source_hash) WHERE base_resource_type_id IS NOT NULL
           DO UPDATE SET last_referenced = now() RETURNING id, base_resource_type_id)`;

export async function findOrCreateResourceConfig(
  db: Queryable,
  parent: ResourceConfigParent,
  source: Record<string, unknown>,
): Promise<ResourceConfig> {
  const hash = sourceHash(source);
  if ('baseType' in parent) {
    // the base type's upsert and the config's in one statement
    const r = await db.query<{ id: number; base_id: number }>(`WITH ${BASE_TYPE_CONFIG} SELECT c.id, c.base_resource_type_id AS base_id FROM c`, [parent.baseType, hash]);
    const row = r.rows[0];
    if (!row) throw new Error(`could not create a resource config of base type ${parent.baseType}`);
    return { id: row.id, baseResourceTypeId: row.base_id, resourceCacheId: null, sourceHash: hash };
  }
  const r = await db.query<{ id: number }>(
    `INSERT INTO resource_configs (resource_cache_id, source_hash) VALUES ($1, $2)
     ON CONFLICT (resource_cache_id, source_hash) WHERE resource_cache_id IS NOT NULL
     DO UPDATE SET last_referenced = now() RETURNING id`,
    [parent.resourceCacheId, hash],
  );
  return { id: r.rows[0]!.id, baseResourceTypeId: null, resourceCacheId: parent.resourceCacheId, sourceHash: hash };
}

export interface ResourceCache {
  id: number;
  resourceConfigId: number;
  version: Version;
  versionDigest: string;
  paramsHash: string;
}

/** "This version of this config, fetched with these params" (e.g. a custom type's image). */
export async function findOrCreateResourceCache(
  db: Queryable,
  resourceConfigId: number,
  version: Version,
  params: Record<string, unknown> = {},
  metadata?: MetadataField[],
): Promise<ResourceCache> {
  const digest = versionDigest(version);
  const paramsHash = sha256(canonicalJson(params));
  const r = await db.query<{ id: number }>(
    `INSERT INTO resource_caches (resource_config_id, version, version_digest, params_hash, metadata)
     VALUES ($1, $2::jsonb, $3, $4, $5::jsonb)
     ON CONFLICT (resource_config_id, version_digest, params_hash)
     DO UPDATE SET metadata = COALESCE(EXCLUDED.metadata, resource_caches.metadata), last_referenced = now() RETURNING id`,
    [resourceConfigId, JSON.stringify(version), digest, paramsHash, metadata ? JSON.stringify(metadata) : null],
  );
  return { id: r.rows[0]!.id, resourceConfigId, version, versionDigest: digest, paramsHash };
}

/**
 * The scope of a config: shared (resourceId null: resource types, images, global resources) or
 * per resource. Creating a per-resource scope deletes that resource's scopes for other configs
 * (a changed source or type version starts a new history), as Concourse does.
 */
export async function findOrCreateScope(
  db: Queryable,
  resourceConfigId: number,
  resourceId: number | null,
): Promise<ResourceConfigScope> {
  if (resourceId === null) {
    // a shared scope: one statement, no transaction
    const r = await db.query<{ id: number }>(
      `INSERT INTO resource_config_scopes (resource_config_id) VALUES ($1)
       ON CONFLICT (resource_config_id) WHERE resource_id IS NULL
       DO UPDATE SET resource_config_id = EXCLUDED.resource_config_id RETURNING id`,
      [resourceConfigId],
    );
    const id = r.rows[0]?.id;
    if (id === undefined) throw new Error('could not create a resource config scope');
    return { id, resourceConfigId, resourceId };
  }
  return db.transaction(async (tx) => {
    // the resource's own: its scopes of other configs go (their versions with them)
    await tx.query('DELETE FROM resource_config_scopes WHERE resource_id = $1 AND resource_config_id <> $2', [resourceId, resourceConfigId]);
    const r = await tx.query<{ id: number }>(
      `INSERT INTO resource_config_scopes (resource_config_id, resource_id) VALUES ($1, $2)
       ON CONFLICT (resource_id, resource_config_id) WHERE resource_id IS NOT NULL
       DO UPDATE SET resource_id = EXCLUDED.resource_id RETURNING id`,
      [resourceConfigId, resourceId],
    );
    const id = r.rows[0]?.id;
    if (id === undefined) throw new Error('could not create a resource config scope');
    return { id, resourceConfigId, resourceId };
  });
}

/**
 * The scope of the config of `source` on `parent` (findOrCreateResourceConfig, then
 * findOrCreateScope). A shared scope of a base type's config, what an image's check asks on
 * every build, is one statement: the base type's, the config's and the scope's upserts chained.
 */
export async function findOrCreateScopeOf(
  db: Queryable,
  parent: ResourceConfigParent,
  source: Record<string, unknown>,
  resourceId: number | null,
): Promise<ResourceConfigScope> {
  if (resourceId !== null || !('baseType' in parent)) {
    const config = await findOrCreateResourceConfig(db, parent, source);
    return findOrCreateScope(db, config.id, resourceId);
  }
  const r = await db.query<{ id: number; config_id: number }>(
    `WITH ${BASE_TYPE_CONFIG}
     INSERT INTO resource_config_scopes (resource_config_id) SELECT c.id FROM c
     ON CONFLICT (resource_config_id) WHERE resource_id IS NULL
     DO UPDATE SET resource_config_id = EXCLUDED.resource_config_id RETURNING id, resource_config_id AS config_id`,
    [parent.baseType, sourceHash(source)],
  );
  const row = r.rows[0];
  if (!row) throw new Error(`could not create a resource config scope of base type ${parent.baseType}`);
  return { id: row.id, resourceConfigId: row.config_id, resourceId: null };
}

/** A build that used a resource cache as an image (build_image_resource_caches: kept while its job needs it). */
export interface ImageUse {
  buildId: number;
  jobId: number | null;
}

/** Records that a build used a resource cache as an image. */
export async function saveImageResourceCache(db: Queryable, use: ImageUse, resourceCacheId: number): Promise<void> {
  await db.query('INSERT INTO build_image_resource_caches (build_id, job_id, resource_cache_id) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING', [use.buildId, use.jobId, resourceCacheId]);
}

/**
 * The resource cache of `version` of the config of `source` on `parent` (findOrCreateResourceConfig,
 * then findOrCreateResourceCache), recorded as `imageOf`'s image when given: of a base type's
 * config, one statement.
 */
export async function findOrCreateResourceCacheOf(
  db: Queryable,
  parent: ResourceConfigParent,
  source: Record<string, unknown>,
  version: Version,
  params: Record<string, unknown> = {},
  imageOf?: ImageUse,
): Promise<ResourceCache> {
  if (!('baseType' in parent)) {
    const config = await findOrCreateResourceConfig(db, parent, source);
    const cache = await findOrCreateResourceCache(db, config.id, version, params);
    if (imageOf) await saveImageResourceCache(db, imageOf, cache.id);
    return cache;
  }
  const digest = versionDigest(version);
  const paramsHash = sha256(canonicalJson(params));
  const r = await db.query<{ id: number; config_id: number }>(
    `WITH ${BASE_TYPE_CONFIG},
     k AS (INSERT INTO resource_caches (resource_config_id, version, version_digest, params_hash, metadata)
           SELECT c.id, $3::jsonb, $4, $5, NULL FROM c
           ON CONFLICT (resource_config_id, version_digest, params_hash)
           DO UPDATE SET last_referenced = now() RETURNING id, resource_config_id),
     i AS (INSERT INTO build_image_resource_caches (build_id, job_id, resource_cache_id)
           SELECT $6::int, $7::int, k.id FROM k WHERE $6::int IS NOT NULL ON CONFLICT DO NOTHING)
     SELECT id, resource_config_id AS config_id FROM k`,
    [parent.baseType, sourceHash(source), JSON.stringify(version), digest, paramsHash, imageOf?.buildId ?? null, imageOf?.jobId ?? null],
  );
  const row = r.rows[0];
  if (!row) throw new Error(`could not create a resource cache of base type ${parent.baseType}`);
  return { id: row.id, resourceConfigId: row.config_id, version, versionDigest: digest, paramsHash };
}

/**
 * The resource's scope when it already is its own scope of the base type's config of `source`
 * (the steady state of a resource's checks): one statement instead of the config's and scope's
 * upserts, recording the config's use (last_referenced) as they would.
 */
export async function currentResourceScope(
  db: Queryable,
  pipelineId: number,
  resource: string,
  parent: { baseType: string },
  source: Record<string, unknown>,
): Promise<{ resourceId: number; scope: ResourceConfigScope } | undefined> {
  const r = await db.query<{ resource_id: number; scope_id: number; config_id: number }>(
    `UPDATE resource_configs c SET last_referenced = now()
       FROM resources r JOIN resource_config_scopes s ON s.id = r.resource_config_scope_id AND s.resource_id = r.id, base_resource_types b
      WHERE r.pipeline_id = $1 AND r.name = $2 AND c.id = s.resource_config_id AND r.resource_config_id = c.id
        AND b.id = c.base_resource_type_id AND b.name = $3 AND c.source_hash = $4
      RETURNING r.id AS resource_id, s.id AS scope_id, c.id AS config_id`,
    [pipelineId, resource, parent.baseType, sourceHash(source)],
  );
  const row = r.rows[0];
  return row ? { resourceId: row.resource_id, scope: { id: row.scope_id, resourceConfigId: row.config_id, resourceId: row.resource_id } } : undefined;
}

/** Points a resource at the scope its checks (or puts) save into. */
export async function setResourceScope(db: Queryable, resourceId: number, scope: ResourceConfigScope): Promise<void> {
  const r = await db.query(
    'UPDATE resources SET resource_config_id = $2, resource_config_scope_id = $3 WHERE id = $1',
    [resourceId, scope.resourceConfigId, scope.id],
  );
  if (r.rowCount === 0) throw new NotFoundError(`resource ${resourceId} not found`);
}

/** Points a resource type at the scope of its (image) checks. */
export async function setResourceTypeScope(db: Queryable, resourceTypeId: number, scope: ResourceConfigScope): Promise<void> {
  const r = await db.query(
    'UPDATE resource_types SET resource_config_id = $2, resource_config_scope_id = $3 WHERE id = $1',
    [resourceTypeId, scope.resourceConfigId, scope.id],
  );
  if (r.rowCount === 0) throw new NotFoundError(`resource type ${resourceTypeId} not found`);
}

// ------------------------------------------------------------------------------ saving versions

export interface VersionToSave {
  version: Version;
  /** Absent: a new version gets [], an existing one keeps its metadata. */
  metadata?: MetadataField[];
}

export interface SaveVersionsResult {
  /** How many of the given versions were not in the scope before. */
  newVersions: number;
  /** The jobs whose scheduling was requested (those with a non-passed input on the scope). */
  scheduledJobIds: number[];
}

/**
 * Saves the result of a check (or a put's version) into a scope, in one transaction, exactly
 * as §2 says: upsert each version by its sha256 (new rows start at check_order 0; existing rows
 * only get their metadata refreshed); if any was new, move every given version, in the given
 * order, to max+1 when its check_order ≤ the scope's max, and request scheduling of every job
 * that has a non-passed input on a resource using this scope. Concurrent saves into one scope
 * are serialised by locking the scope row. When nothing is new, nothing is re-ordered and no
 * scheduling is requested (as Concourse).
 */
export async function saveVersions(db: Queryable, scopeId: number, versions: readonly VersionToSave[]): Promise<SaveVersionsResult> {
  // A check's steady state: every version known already, no metadata to store: nothing changes
  // (one read instead of the transaction's four statements).
  if (versions.length > 0 && versions.every((v) => v.metadata === undefined)) {
    const digests = [...new Set(versions.map((v) => versionDigest(v.version)))];
    const known = await db.query<{ n: number }>(
      'SELECT count(*)::int AS n FROM resource_config_versions WHERE resource_config_scope_id = $1 AND version_sha256 = ANY($2::text[])',
      [scopeId, digests],
    );
    if (known.rows[0]?.n === digests.length) return { newVersions: 0, scheduledJobIds: [] };
  }
  return saveVersionsInTransaction(db, scopeId, versions);
}

/**
 * saveVersions without its steady-state read, for a caller that found a version unknown already
 * (a check's end, check-scopes.ts): inserts them, moves the check order when one is new, and
 * requests scheduling, in one transaction.
 */
export async function saveVersionsInTransaction(db: Queryable, scopeId: number, versions: readonly VersionToSave[]): Promise<SaveVersionsResult> {
  return db.transaction(async (tx) => {
    const scope = await tx.query('SELECT id FROM resource_config_scopes WHERE id = $1 FOR UPDATE', [scopeId]);
    if (scope.rowCount === 0) throw new NotFoundError(`resource config scope ${scopeId} not found`);

    let newVersions = 0;
    const digests: string[] = [];
    for (const v of versions) {
      const digest = versionDigest(v.version);
      digests.push(digest);
      const r = await tx.query<{ inserted: boolean }>(
        `INSERT INTO resource_config_versions (resource_config_scope_id, version, version_sha256, metadata, check_order)
         VALUES ($1, $2::jsonb, $3, COALESCE($4::jsonb, '[]'::jsonb), 0)
         ON CONFLICT (resource_config_scope_id, version_sha256)
         DO UPDATE SET metadata = COALESCE($4::jsonb, resource_config_versions.metadata)
         RETURNING (xmax = 0) AS inserted`,
        [scopeId, JSON.stringify(v.version), digest, v.metadata === undefined ? null : JSON.stringify(v.metadata)],
      );
      if (r.rows[0]?.inserted) newVersions++;
    }
    if (newVersions === 0) return { newVersions, scheduledJobIds: [] };

    for (const digest of digests) {
      await tx.query(
        `UPDATE resource_config_versions SET check_order = mc.co + 1
           FROM (SELECT COALESCE(max(check_order), 0) AS co FROM resource_config_versions
                  WHERE resource_config_scope_id = $1) mc
          WHERE resource_config_scope_id = $1 AND version_sha256 = $2 AND check_order <= mc.co`,
        [scopeId, digest],
      );
    }

    const scheduled = await requestScheduleForScope(tx, scopeId);
    return { newVersions, scheduledJobIds: scheduled };
  });
}

/** Requests scheduling of every job with a non-passed input on a resource using the scope. */
export async function requestScheduleForScope(db: Queryable, scopeId: number): Promise<number[]> {
  const r = await db.query<{ id: number }>(
    `UPDATE jobs SET schedule_requested = now()
      WHERE id IN (SELECT ji.job_id FROM job_inputs ji JOIN resources r ON r.id = ji.resource_id
                    WHERE r.resource_config_scope_id = $1 AND ji.passed_job_id IS NULL)
      RETURNING id`,
    [scopeId],
  );
  return r.rows.map((row) => row.id).sort((a, b) => a - b);
}

export interface StoredVersion {
  id: number;
  version: Version;
  versionSha256: string;
  metadata: MetadataField[];
  checkOrder: number;
}

interface VersionRow extends Record<string, unknown> {
  id: number;
  version: Version;
  version_sha256: string;
  metadata: MetadataField[];
  check_order: number;
}

const toStored = (r: VersionRow): StoredVersion => ({
  id: r.id,
  version: r.version,
  versionSha256: r.version_sha256,
  metadata: r.metadata,
  checkOrder: r.check_order,
});

/** The versions of a scope, newest (highest check_order) first. */
export async function listVersions(db: Queryable, scopeId: number): Promise<StoredVersion[]> {
  const r = await db.query<VersionRow>(
    `SELECT id, version, version_sha256, metadata, check_order FROM resource_config_versions
      WHERE resource_config_scope_id = $1 ORDER BY check_order DESC, id DESC`,
    [scopeId],
  );
  return r.rows.map(toStored);
}

/** The newest version of a scope (what the next check starts from), if any. */
export async function latestVersion(db: Queryable, scopeId: number): Promise<StoredVersion | undefined> {
  const r = await db.query<VersionRow>(
    `SELECT id, version, version_sha256, metadata, check_order FROM resource_config_versions
      WHERE resource_config_scope_id = $1 ORDER BY check_order DESC, id DESC LIMIT 1`,
    [scopeId],
  );
  const row = r.rows[0];
  return row ? toStored(row) : undefined;
}

// ------------------------------------------------------------------------------ clearing (fly's clear-versions, clear-resource-cache)

/** A resource or a resource type, by id. */
export type ScopeOwner = { resourceId: number } | { resourceTypeId: number };

function ownerTable(owner: ScopeOwner): ['resources' | 'resource_types', number] {
  return 'resourceId' in owner ? ['resources', owner.resourceId] : ['resource_types', owner.resourceTypeId];
}

export interface ScopeSharer {
  kind: 'resource' | 'resource_type';
  name: string;
  pipelineId: number;
  pipelineName: string;
  pipelineInstanceVars: Record<string, unknown> | null;
  teamName: string;
}

/**
 * The active resources and resource types whose version history is the owner's (its scope),
 * the owner first; the owner alone when it has no scope yet. Resource types of the same type and
 * source share one scope, across pipelines and teams (§5).
 */
export async function scopeSharers(db: Queryable, owner: ScopeOwner): Promise<ScopeSharer[]> {
  const [table, id] = ownerTable(owner);
  const r = await db.query<{
    kind: 'resource' | 'resource_type';
    name: string;
    pipeline_id: number;
    pipeline_name: string;
    instance_vars: Record<string, unknown> | null;
    team_name: string;
    is_owner: boolean;
  }>(
    `WITH owner AS (SELECT $1::int AS id, $2::text AS tbl, (SELECT resource_config_scope_id FROM ${table} WHERE id = $1) AS scope_id)
     SELECT x.kind, x.name, p.id AS pipeline_id, p.name AS pipeline_name, p.instance_vars, t.name AS team_name, x.is_owner
       FROM (SELECT 'resource' AS kind, r.name, r.pipeline_id, (o.tbl = 'resources' AND r.id = o.id) AS is_owner
               FROM resources r, owner o
              WHERE r.active AND (r.resource_config_scope_id = o.scope_id OR (o.tbl = 'resources' AND r.id = o.id))
             UNION ALL
             SELECT 'resource_type', rt.name, rt.pipeline_id, (o.tbl = 'resource_types' AND rt.id = o.id)
               FROM resource_types rt, owner o
              WHERE rt.active AND (rt.resource_config_scope_id = o.scope_id OR (o.tbl = 'resource_types' AND rt.id = o.id))) x
       JOIN pipelines p ON p.id = x.pipeline_id JOIN teams t ON t.id = p.team_id
      ORDER BY x.is_owner DESC, t.name, p.name, p.id, x.kind, x.name`,
    [id, table],
  );
  return r.rows.map((row) => ({
    kind: row.kind,
    name: row.name,
    pipelineId: row.pipeline_id,
    pipelineName: row.pipeline_name,
    pipelineInstanceVars: row.instance_vars,
    teamName: row.team_name,
  }));
}

export interface ClearedVersions {
  removed: number;
  /** the jobs asked to reschedule (an input on a resource of the scope) */
  scheduledJobIds: number[];
}

/**
 * Deletes the version history of the owner's scope, as Concourse's ClearVersions: whatever
 * shares the scope loses it too. No row refers to a version by key (build inputs and outputs,
 * disabled versions and pins name digests or version JSON), so build history stays; a build
 * shows its versions again once a check finds them. The jobs with an input on a resource of the
 * scope are asked to reschedule: their next inputs may be gone. One transaction, the scope
 * locked as saveVersions locks it.
 */
export async function clearScopeVersions(db: Queryable, owner: ScopeOwner): Promise<ClearedVersions> {
  const [table, id] = ownerTable(owner);
  return db.transaction(async (tx) => {
    const scope = await tx.query<{ id: number }>(
      `SELECT s.id FROM resource_config_scopes s JOIN ${table} x ON x.resource_config_scope_id = s.id WHERE x.id = $1 FOR UPDATE OF s`,
      [id],
    );
    const scopeId = scope.rows[0]?.id;
    if (scopeId === undefined) return { removed: 0, scheduledJobIds: [] }; // never checked: no history
    const deleted = await tx.query('DELETE FROM resource_config_versions WHERE resource_config_scope_id = $1', [scopeId]);
    if (deleted.rowCount === 0) return { removed: 0, scheduledJobIds: [] };
    const jobs = await tx.query<{ id: number }>(
      `UPDATE jobs SET schedule_requested = now()
        WHERE id IN (SELECT ji.job_id FROM job_inputs ji JOIN resources r ON r.id = ji.resource_id
                      WHERE r.resource_config_scope_id = $1)
        RETURNING id`,
      [scopeId],
    );
    return { removed: deleted.rowCount, scheduledJobIds: jobs.rows.map((j) => j.id).sort((a, b) => a - b) };
  });
}

/**
 * Deletes the resource caches ("this version, fetched with these params") of a resource's
 * current resource config, only those of `version` (exactly) when given; returns how many went.
 * One statement, cascades included. A cache that is a custom type's image stays: deleting it
 * would cascade to the configs, and so the version histories, of every resource of that type.
 */
export async function clearResourceCaches(db: Queryable, resourceId: number, version?: Version): Promise<number> {
  const r = await db.query(
    `DELETE FROM resource_caches c USING resources r
      WHERE r.id = $1 AND c.resource_config_id = r.resource_config_id
        AND ($2::text IS NULL OR c.version_digest = $2)
        AND NOT EXISTS (SELECT 1 FROM resource_configs rc WHERE rc.resource_cache_id = c.id)`,
    [resourceId, version ? versionDigest(version) : null],
  );
  return r.rowCount;
}

export interface ResourceVersionRow {
  id: number;
  version: Record<string, string>;
  metadata: { name: string; value: string }[];
  enabled: boolean;
  /** sha256, and md5 for old rows: what build inputs and outputs name it by */
  digests: string[];
}

/** One version of a resource (by `resource_config_versions.id`) in its current history. */
export async function resourceVersionById(
  db: Queryable,
  resource: { id: number; scopeId: number | null },
  versionId: number,
): Promise<ResourceVersionRow | undefined> {
  if (resource.scopeId === null) return undefined;
  const r = await db.query<{ id: number; version: Record<string, string>; metadata: { name: string; value: string }[]; sha256: string; md5: string | null; enabled: boolean }>(
    `SELECT v.id, v.version, v.metadata, v.version_sha256 AS sha256, v.version_md5 AS md5,
            NOT EXISTS (SELECT 1 FROM resource_disabled_versions d WHERE d.resource_id = $3 AND d.version_digest = v.version_sha256) AS enabled
       FROM resource_config_versions v WHERE v.id = $1 AND v.resource_config_scope_id = $2`,
    [versionId, resource.scopeId, resource.id],
  );
  const row = r.rows[0];
  if (!row) return undefined;
  return { id: row.id, version: row.version, metadata: row.metadata, enabled: row.enabled, digests: [row.sha256, ...(row.md5 ? [row.md5] : [])] };
}
