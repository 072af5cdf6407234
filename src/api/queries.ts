// Read queries (and a few small writes) the API needs that the storage layer does not have:
// pipelines with their groups, resources and types as the API shows them, keyset pagination
// of versions and builds, jobs, builds and build events.
import type { Queryable, Row } from '../db/database.ts';
import type { PipelineRef } from '../db/pipelines.ts';
import { globMatch } from '../config/index.ts';
import type { BuildRecord } from '../db/builds.ts';
import type { JobRecord } from '../db/jobs.ts';
import { ApiError, notFound } from './errors.ts';

type Json = Record<string, unknown>;

const ivParam = (ref: PipelineRef): string | null =>
  ref.instanceVars && Object.keys(ref.instanceVars).length > 0 ? JSON.stringify(ref.instanceVars) : null;

export function describePipeline(ref: PipelineRef): string {
  const iv = ivParam(ref);
  return `pipeline ${ref.team}/${ref.name}${iv ? iv : ''}`;
}

// ------------------------------------------------------------------------------ teams

export interface TeamRow {
  id: number;
  name: string;
}

export async function listTeams(db: Queryable, names: readonly string[]): Promise<TeamRow[]> {
  const r = await db.query<TeamRow & Row>('SELECT id, name FROM teams WHERE name = ANY($1::text[]) ORDER BY name', [names]);
  return r.rows;
}

// ------------------------------------------------------------------------------ pipelines

export interface PipelineView {
  id: number;
  team: string;
  name: string;
  instanceVars: Json | null;
  paused: boolean;
  pausedBy: string | null;
  pausedAt: Date | null;
  archived: boolean;
  public: boolean;
  groups: unknown[];
  display: Json | null;
  lastUpdated: Date;
  version: number;
}

interface PipelineViewRow extends Row {
  id: number;
  team: string;
  name: string;
  instance_vars: Json | null;
  paused: boolean;
  paused_by: string | null;
  paused_at: Date | null;
  archived: boolean;
  public: boolean;
  groups: unknown[];
  display: Json | null;
  last_updated: Date;
  version: number;
}

const PIPELINE_VIEW = `SELECT p.id, t.name AS team, p.name, p.instance_vars, p.paused, p.paused_by, p.paused_at, p.archived,
    p.public, p.groups, p.display, p.last_updated, p.version
  FROM pipelines p JOIN teams t ON t.id = p.team_id`;

const toPipelineView = (r: PipelineViewRow): PipelineView => ({
  id: r.id,
  team: r.team,
  name: r.name,
  instanceVars: r.instance_vars,
  paused: r.paused,
  pausedBy: r.paused_by,
  pausedAt: r.paused_at,
  archived: r.archived,
  public: r.public,
  groups: r.groups,
  display: r.display,
  lastUpdated: r.last_updated,
  version: r.version,
});

/** Pipelines of the given teams, in each team's order; archived ones only when asked for. */
export async function listPipelineViews(db: Queryable, teams: readonly string[], includeArchived = false): Promise<PipelineView[]> {
  const r = await db.query<PipelineViewRow>(
    `${PIPELINE_VIEW} WHERE t.name = ANY($1::text[]) AND ($2 OR NOT p.archived) ORDER BY t.name, p.ordering, p.id`,
    [teams, includeArchived],
  );
  return r.rows.map(toPipelineView);
}

export async function findPipelineView(db: Queryable, ref: PipelineRef): Promise<PipelineView | undefined> {
  const r = await db.query<PipelineViewRow>(
    `${PIPELINE_VIEW} WHERE t.name = $1 AND p.name = $2
       AND ((p.instance_vars IS NULL AND $3::jsonb IS NULL) OR p.instance_vars = $3::jsonb)`,
    [ref.team, ref.name, ivParam(ref)],
  );
  const row = r.rows[0];
  return row ? toPipelineView(row) : undefined;
}

export async function mustFindPipeline(db: Queryable, ref: PipelineRef): Promise<PipelineView> {
  const p = await findPipelineView(db, ref);
  if (!p) throw notFound(describePipeline(ref));
  return p;
}

/** expose (public = true) / hide (public = false). */
export async function setPipelinePublic(db: Queryable, pipelineId: number, isPublic: boolean): Promise<void> {
  await db.query('UPDATE pipelines SET public = $2 WHERE id = $1', [pipelineId, isPublic]);
}

export function pipelineJson(p: PipelineView): Json {
  return {
    id: p.id,
    name: p.name,
    instance_vars: p.instanceVars ?? undefined,
    paused: p.paused,
    paused_by: p.pausedBy ?? undefined,
    paused_at: p.pausedAt ? unix(p.pausedAt) : undefined,
    public: p.public,
    archived: p.archived,
    groups: p.groups.length > 0 ? p.groups : undefined,
    team_name: p.team,
    display: p.display ?? undefined,
    last_updated: unix(p.lastUpdated),
  };
}

export const unix = (d: Date): number => Math.floor(d.getTime() / 1000);

// ------------------------------------------------------------------------------ keyset pagination

export interface PageRequest {
  limit: number;
  /** inclusive: this item and newer ones (the page closest to it) */
  from?: number;
  /** inclusive: this item and older ones */
  to?: number;
}

export interface PageResult<R> {
  rows: R[];
  /** id to pass as `from` for the next newer page, when there are newer items */
  newer?: number;
  /** id to pass as `to` for the next older page, when there are older items */
  older?: number;
}

interface KeysetQuery {
  /** `FROM … WHERE …` text without ORDER BY, the same for every page */
  source: string;
  params: unknown[];
  /** SQL expressions ordering the items, newest = greatest (compared as a row) */
  key: string[];
  /** the id column (the values of from/to) */
  id: string;
  /** select list */
  select: string;
  /** what an unknown from/to id is called in the 400 message */
  itemName: string;
}

/** Items newest first, one page of them, and the ids that start the neighbouring pages. */
export async function keysetPage<R extends Row & { id: number }>(db: Queryable, q: KeysetQuery, page: PageRequest): Promise<PageResult<R>> {
  const keyRow = `(${q.key.join(', ')})`;
  const params = [...q.params];
  const param = (v: unknown): string => {
    params.push(v);
    return `$${params.length}`;
  };
  const keyOf = async (id: number, name: string): Promise<string> => {
    const r = await db.query(`SELECT 1 ${q.source} AND ${q.id} = $${q.params.length + 1}`, [...q.params, id]);
    if (r.rowCount === 0) throw new ApiError(400, `${name}: ${q.itemName} ${id} not found`);
    return `(SELECT ${q.key.join(', ')} ${q.source} AND ${q.id} = ${param(id)})`;
  };
  const conds: string[] = [];
  if (page.to !== undefined) conds.push(`${keyRow} <= ${await keyOf(page.to, 'to')}`);
  if (page.from !== undefined) conds.push(`${keyRow} >= ${await keyOf(page.from, 'from')}`);
  const where = conds.length > 0 ? ` AND ${conds.join(' AND ')}` : '';
  const desc = q.key.map((k) => `${k} DESC`).join(', ');
  const asc = q.key.map((k) => `${k} ASC`).join(', ');
  const limit = param(page.limit);
  let rows: R[];
  if (page.from !== undefined && page.to === undefined) {
    const r = await db.query<R>(`SELECT ${q.select} ${q.source}${where} ORDER BY ${asc} LIMIT ${limit}`, params);
    rows = r.rows.reverse();
  } else {
    const r = await db.query<R>(`SELECT ${q.select} ${q.source}${where} ORDER BY ${desc} LIMIT ${limit}`, params);
    rows = r.rows;
  }
  const result: PageResult<R> = { rows };
  const first = rows[0];
  const last = rows.at(-1);
  if (first && last) {
    const nb = [...q.params];
    nb.push(first.id);
    const newer = await db.query<{ id: number }>(
      `SELECT ${q.id} AS id ${q.source} AND ${keyRow} > (SELECT ${q.key.join(', ')} ${q.source} AND ${q.id} = $${nb.length})
        ORDER BY ${asc} LIMIT 1`,
      nb,
    );
    const ob = [...q.params];
    ob.push(last.id);
    const older = await db.query<{ id: number }>(
      `SELECT ${q.id} AS id ${q.source} AND ${keyRow} < (SELECT ${q.key.join(', ')} ${q.source} AND ${q.id} = $${ob.length})
        ORDER BY ${desc} LIMIT 1`,
      ob,
    );
    if (newer.rows[0]) result.newer = newer.rows[0].id;
    if (older.rows[0]) result.older = older.rows[0].id;
  }
  return result;
}

// ------------------------------------------------------------------------------ resources

export interface ResourceView {
  id: number;
  name: string;
  type: string;
  config: Json;
  scopeId: number | null;
  lastChecked: Date | null;
  lastCheckSucceeded: boolean | null;
  lastCheckBuild: { id: number; name: string; status: string; start_time?: number; end_time?: number } | null;
  pinnedVersion: Json | null;
  pinnedInConfig: boolean;
  pinComment: string | null;
}

interface ResourceRow extends Row {
  id: number;
  name: string;
  type: string;
  config: Json;
  scope_id: number | null;
  last_checked: Date | null;
  last_check_succeeded: boolean | null;
  build_id: number | null;
  build_name: string | null;
  build_status: string | null;
  build_start: Date | null;
  build_end: Date | null;
  pinned_version: Json | null;
  pinned_in_config: boolean | null;
  pin_comment: string | null;
}

const RESOURCE_VIEW = `SELECT r.id, r.name, r.type, r.config, r.resource_config_scope_id AS scope_id,
    s.last_check_end_time AS last_checked, s.last_check_succeeded,
    b.id AS build_id, b.name AS build_name, b.status AS build_status, b.start_time AS build_start, b.end_time AS build_end,
    pin.version AS pinned_version, pin.config AS pinned_in_config, pin.comment_text AS pin_comment
  FROM resources r
  LEFT JOIN resource_config_scopes s ON s.id = r.resource_config_scope_id
  LEFT JOIN builds b ON b.id = s.last_check_build_id
  LEFT JOIN resource_pins pin ON pin.resource_id = r.id`;

const toResourceView = (r: ResourceRow): ResourceView => ({
  id: r.id,
  name: r.name,
  type: r.type,
  config: r.config,
  scopeId: r.scope_id,
  lastChecked: r.last_checked,
  lastCheckSucceeded: r.scope_id === null ? null : r.last_check_succeeded,
  lastCheckBuild:
    r.build_id === null
      ? null
      : {
          id: r.build_id,
          name: r.build_name ?? '',
          status: r.build_status ?? '',
          ...(r.build_start ? { start_time: unix(r.build_start) } : {}),
          ...(r.build_end ? { end_time: unix(r.build_end) } : {}),
        },
  pinnedVersion: r.pinned_version,
  pinnedInConfig: r.pinned_in_config === true,
  pinComment: r.pin_comment,
});

export async function listResources(db: Queryable, pipelineId: number): Promise<ResourceView[]> {
  const r = await db.query<ResourceRow>(`${RESOURCE_VIEW} WHERE r.pipeline_id = $1 AND r.active ORDER BY r.ordering, r.id`, [pipelineId]);
  return r.rows.map(toResourceView);
}

export async function findResource(db: Queryable, pipelineId: number, name: string): Promise<ResourceView | undefined> {
  const r = await db.query<ResourceRow>(`${RESOURCE_VIEW} WHERE r.pipeline_id = $1 AND r.name = $2 AND r.active`, [pipelineId, name]);
  const row = r.rows[0];
  return row ? toResourceView(row) : undefined;
}

export function resourceJson(r: ResourceView, p: PipelineView): Json {
  const icon = typeof r.config.icon === 'string' ? r.config.icon : undefined;
  return {
    name: r.name,
    pipeline_id: p.id,
    pipeline_name: p.name,
    pipeline_instance_vars: p.instanceVars ?? undefined,
    team_name: p.team,
    type: r.type,
    last_checked: r.lastChecked ? unix(r.lastChecked) : undefined,
    icon,
    pinned_version: r.pinnedVersion ?? undefined,
    pinned_in_config: r.pinnedInConfig || undefined,
    pin_comment: r.pinComment || undefined,
    build: r.lastCheckBuild ?? undefined,
  };
}

interface ResourceTypeRow extends Row {
  name: string;
  type: string;
  config: Json;
  last_checked: Date | null;
}

/** The pipeline's resource types as Concourse lists them; `source` is left out (it may hold secrets). */
export async function listResourceTypes(db: Queryable, pipelineId: number): Promise<Json[]> {
  const r = await db.query<ResourceTypeRow>(
    `SELECT rt.name, rt.type, rt.config, s.last_check_end_time AS last_checked
       FROM resource_types rt LEFT JOIN resource_config_scopes s ON s.id = rt.resource_config_scope_id
      WHERE rt.pipeline_id = $1 AND rt.active ORDER BY rt.id`,
    [pipelineId],
  );
  return r.rows.map((row) => ({
    name: row.name,
    type: row.type,
    privileged: row.config.privileged === true || undefined,
    check_every: row.config.check_every,
    tags: row.config.tags,
    params: row.config.params,
    defaults: row.config.defaults,
    last_checked: row.last_checked ? unix(row.last_checked) : undefined,
  }));
}

export interface VersionRow extends Row {
  id: number;
  version: Record<string, string>;
  metadata: { name: string; value: string }[];
  enabled: boolean;
}

/** The versions of a resource, newest (check_order) first, one page; `filter` matches version fields. */
export async function pageResourceVersions(
  db: Queryable,
  resource: ResourceView,
  page: PageRequest,
  filter: Record<string, string>,
): Promise<PageResult<VersionRow>> {
  if (resource.scopeId === null) return { rows: [] };
  return keysetPage<VersionRow>(
    db,
    {
      source: `FROM resource_config_versions v WHERE v.resource_config_scope_id = $1 AND v.version @> $2::jsonb`,
      params: [resource.scopeId, JSON.stringify(filter)],
      key: ['v.check_order', 'v.id'],
      id: 'v.id',
      select: `v.id, v.version, v.metadata, NOT EXISTS (SELECT 1 FROM resource_disabled_versions d
                 WHERE d.resource_id = ${Math.trunc(resource.id)} AND d.version_digest = v.version_sha256) AS enabled`,
      itemName: 'version',
    },
    page,
  );
}

// ------------------------------------------------------------------------------ builds and jobs

export function buildJson(b: BuildRecord, externalUrl: string): Json {
  return {
    id: b.id,
    team_name: b.teamName,
    name: b.name,
    status: b.status,
    job_name: b.jobName ?? undefined,
    pipeline_id: b.pipelineId ?? undefined,
    pipeline_name: b.pipelineName ?? undefined,
    pipeline_instance_vars: b.pipelineInstanceVars ?? undefined,
    start_time: b.startTime ? unix(b.startTime) : undefined,
    end_time: b.endTime ? unix(b.endTime) : undefined,
    reap_time: b.reapTime ? unix(b.reapTime) : undefined,
    api_url: `${externalUrl.replace(/\/$/, '')}/api/v1/builds/${b.id}`,
    rerun_number: b.rerunNumber || undefined,
    rerun_of: b.rerunOf !== null ? { id: b.rerunOf, name: b.rerunOfName ?? '' } : undefined,
    // Jetway: what the build spent, e.g. {"step": {"task": 1}, "image": {}} (pods on Kubernetes)
    containers_created: b.containersCreated,
    created_by: b.createdBy ?? undefined,
    comment: b.comment || undefined,
  };
}

export interface JobBuilds {
  nextBuild: BuildRecord | null;
  finishedBuild: BuildRecord | null;
  transitionBuild: BuildRecord | null;
}

/** A job as Concourse presents it (inputs/outputs from job_inputs/job_outputs, groups from the pipeline). */
export async function jobJson(db: Queryable, job: JobRecord, builds: JobBuilds, p: PipelineView, externalUrl: string): Promise<Json> {
  const inputs = await db.query<{ name: string; resource: string; trigger: boolean; version: unknown; passed: string | null }>(
    `SELECT ji.name, r.name AS resource, ji.trigger, ji.version, pj.name AS passed
       FROM job_inputs ji JOIN resources r ON r.id = ji.resource_id LEFT JOIN jobs pj ON pj.id = ji.passed_job_id
      WHERE ji.job_id = $1 ORDER BY ji.id`,
    [job.id],
  );
  const byName = new Map<string, { name: string; resource: string; trigger: boolean; passed?: string[]; version?: unknown }>();
  for (const row of inputs.rows) {
    let input = byName.get(row.name);
    if (!input) {
      input = { name: row.name, resource: row.resource, trigger: row.trigger };
      if (row.version !== 'latest') input.version = row.version === 'every' ? { every: true } : { pinned: row.version };
      byName.set(row.name, input);
    }
    if (row.passed) (input.passed ??= []).push(row.passed);
  }
  const outputs = await db.query<{ name: string; resource: string }>(
    `SELECT o.name, r.name AS resource FROM job_outputs o JOIN resources r ON r.id = o.resource_id WHERE o.job_id = $1 ORDER BY o.name`,
    [job.id],
  );
  const groups = p.groups
    .filter((g): g is { name: string; jobs?: string[] } => typeof g === 'object' && g !== null && 'name' in g)
    .filter((g) => (g.jobs ?? []).some((pattern) => globMatch(pattern, job.name)))
    .map((g) => g.name);
  const b = (x: BuildRecord | null): Json | undefined => (x ? buildJson(x, externalUrl) : undefined);
  return {
    id: job.id,
    name: job.name,
    team_name: p.team,
    pipeline_id: p.id,
    pipeline_name: p.name,
    pipeline_instance_vars: p.instanceVars ?? undefined,
    paused: job.paused || undefined,
    has_new_inputs: job.hasNewInputs || undefined,
    disable_manual_trigger: job.disableManualTrigger || undefined,
    groups,
    next_build: b(builds.nextBuild),
    finished_build: b(builds.finishedBuild),
    transition_build: b(builds.transitionBuild),
    inputs: [...byName.values()],
    outputs: outputs.rows.map((o) => ({ name: o.name, resource: o.resource })),
  };
}

// ------------------------------------------------------------------------------ version operations

export interface VersionRef {
  id: number;
  version: Record<string, string>;
  sha256: string;
  md5: string | null;
}

/** A version of a resource, by `resource_config_versions.id`, in the resource's current scope. */
export async function findResourceVersion(db: Queryable, resource: ResourceView, versionId: number): Promise<VersionRef | undefined> {
  if (resource.scopeId === null) return undefined;
  const r = await db.query<{ id: number; version: Record<string, string>; sha256: string; md5: string | null }>(
    `SELECT id, version, version_sha256 AS sha256, version_md5 AS md5 FROM resource_config_versions
      WHERE id = $1 AND resource_config_scope_id = $2`,
    [versionId, resource.scopeId],
  );
  return r.rows[0];
}

/** Ids of the builds that had the version as an input (or output), newest first. */
export async function buildIdsWithVersion(db: Queryable, resourceId: number, v: VersionRef, kind: 'inputs' | 'outputs'): Promise<number[]> {
  const table = kind === 'inputs' ? 'build_resource_config_version_inputs' : 'build_resource_config_version_outputs';
  const r = await db.query<{ build_id: number }>(
    `SELECT DISTINCT build_id FROM ${table} WHERE resource_id = $1 AND version_digest = ANY($2::text[]) ORDER BY build_id DESC`,
    [resourceId, [v.sha256, ...(v.md5 ? [v.md5] : [])]],
  );
  return r.rows.map((row) => row.build_id);
}

/** Ids of the active jobs that use the resource as an input (to wake the scheduler for them). */
export async function jobIdsUsingResource(db: Queryable, resourceId: number): Promise<number[]> {
  const r = await db.query<{ job_id: number }>(
    `SELECT DISTINCT ji.job_id FROM job_inputs ji JOIN jobs j ON j.id = ji.job_id WHERE ji.resource_id = $1 AND j.active ORDER BY ji.job_id`,
    [resourceId],
  );
  return r.rows.map((row) => row.job_id);
}

/** The version a digest names in a resource's current scope. */
export async function versionByDigest(db: Queryable, resourceId: number, digest: string): Promise<Record<string, string> | undefined> {
  const r = await db.query<{ version: Record<string, string> }>(
    `SELECT v.version FROM resource_config_versions v JOIN resources r ON r.resource_config_scope_id = v.resource_config_scope_id
      WHERE r.id = $1 AND $2 IN (v.version_sha256, v.version_md5)`,
    [resourceId, digest],
  );
  return r.rows[0]?.version;
}
