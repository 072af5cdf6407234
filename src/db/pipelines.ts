// The pipeline store: saving a pipeline config (set-pipeline) and everything derived from it,
// reading it back exactly as saved, and pause/unpause/archive/rename/order/delete.
import { jobInputs, jobOutputs, type Job, type PipelineConfig, type Resource, type ResourceType } from '../config/index.ts';
import type { Queryable } from './database.ts';
import { ConflictError, InvalidConfigError, NotFoundError, StaleConfigVersionError } from './errors.ts';
import { pgErrorCode } from './database.ts';

export interface PipelineRef {
  team: string;
  name: string;
  /** For instanced pipelines; absent or null for an ordinary one. */
  instanceVars?: Record<string, unknown> | null;
}

export interface SavePipelineInput extends PipelineRef {
  config: PipelineConfig;
  /**
   * The config version the caller based its change on (optimistic concurrency). When given
   * and the pipeline's current version differs, the save is refused with
   * StaleConfigVersionError and nothing changes. 0 means "I expect no pipeline yet".
   */
  expectedVersion?: number;
}

export interface SavePipelineResult {
  created: boolean;
  version: number;
  pipelineId: number;
}

export interface PipelineRecord {
  id: number;
  teamId: number;
  team: string;
  name: string;
  instanceVars: Record<string, unknown> | null;
  version: number;
  paused: boolean;
  archived: boolean;
  public: boolean;
  lastUpdated: Date;
}

export interface StoredPipelineConfig {
  pipelineId: number;
  version: number;
  /** The config exactly as it was saved. */
  config: PipelineConfig;
  /** Archived pipelines keep their config, but the API does not serve it (as Concourse's). */
  archived: boolean;
}

// ------------------------------------------------------------------------------ helpers

type Json = Record<string, unknown>;

function isPlainObject(v: unknown): v is Json {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function isStringMap(v: unknown): v is Record<string, string> {
  return isPlainObject(v) && Object.values(v).every((x) => typeof x === 'string');
}

function requireName(kind: string, name: string | undefined, index: number): string {
  if (typeof name !== 'string' || name === '') throw new InvalidConfigError(`${kind} #${index + 1} has no name`);
  return name;
}

const instanceVarsOf = (ref: PipelineRef): Record<string, unknown> | null =>
  ref.instanceVars && Object.keys(ref.instanceVars).length > 0 ? ref.instanceVars : null;

/** The pipeline's name as users write it (with its instance vars), without the team. */
function describeName(ref: PipelineRef): string {
  const iv = instanceVarsOf(ref);
  return `${ref.name}${iv ? JSON.stringify(iv) : ''}`;
}

function describe(ref: PipelineRef): string {
  return `${ref.team}/${describeName(ref)}`;
}

async function teamId(tx: Queryable, team: string): Promise<number> {
  const r = await tx.query<{ id: number }>('SELECT id FROM teams WHERE name = $1', [team]);
  const id = r.rows[0]?.id;
  if (id === undefined) throw new NotFoundError(`team ${team} not found`);
  return id;
}

interface PipelineRow extends Json {
  id: number;
  team_id: number;
  team: string;
  name: string;
  instance_vars: Record<string, unknown> | null;
  version: number;
  paused: boolean;
  archived: boolean;
  public: boolean;
  last_updated: Date;
}

const PIPELINE_COLUMNS = `p.id, p.team_id, t.name AS team, p.name, p.instance_vars, p.version, p.paused, p.archived,
  p.public, p.last_updated`;

async function findPipelineRow(tx: Queryable, ref: PipelineRef, forUpdate = false): Promise<PipelineRow | undefined> {
  const iv = instanceVarsOf(ref);
  const r = await tx.query<PipelineRow>(
    `SELECT ${PIPELINE_COLUMNS} FROM pipelines p JOIN teams t ON t.id = p.team_id
      WHERE t.name = $1 AND p.name = $2
        AND ((p.instance_vars IS NULL AND $3::jsonb IS NULL) OR p.instance_vars = $3::jsonb)
      ${forUpdate ? 'FOR UPDATE OF p' : ''}`,
    [ref.team, ref.name, iv === null ? null : JSON.stringify(iv)],
  );
  return r.rows[0];
}

function toRecord(r: PipelineRow): PipelineRecord {
  return {
    id: r.id,
    teamId: r.team_id,
    team: r.team,
    name: r.name,
    instanceVars: r.instance_vars,
    version: r.version,
    paused: r.paused,
    archived: r.archived,
    public: r.public,
    lastUpdated: r.last_updated,
  };
}

/** The SQL type of each column a named thing's row sets (they arrive as one JSON array). */
type ColumnTypes = Record<string, 'text' | 'jsonb' | 'boolean' | 'integer' | 'text[]'>;

/**
 * Upserts the named things of one kind (resources, resource types, jobs) of a pipeline:
 * `old_name` renames keep the row (and so its id and history), every named row becomes active,
 * the rest become inactive. Returns name → id, in the config's order. All rows go in one
 * statement (a statement per row made a 1,000-job pipeline take seconds: issue 16, finding 5).
 */
async function upsertNamed<T extends { name?: string | undefined; old_name?: string | undefined }>(
  tx: Queryable,
  table: 'resources' | 'resource_types' | 'jobs',
  pipelineId: number,
  items: readonly T[],
  kind: string,
  types: ColumnTypes,
  columns: (item: T, index: number) => Record<string, unknown>,
): Promise<Map<string, number>> {
  const names = items.map((item, i) => requireName(kind, item.name, i));
  const seen = new Set<string>();
  for (const n of names) {
    if (seen.has(n)) throw new InvalidConfigError(`${kind} ${n} is defined more than once`);
    seen.add(n);
  }

  // Renames, in two phases so that swaps (a→b, b→a) work: old → temporary → new.
  const existing = await tx.query<{ id: number; name: string }>(`SELECT id, name FROM ${table} WHERE pipeline_id = $1`, [pipelineId]);
  const idByName = new Map(existing.rows.map((r) => [r.name, r.id]));
  const renamedFrom = new Set(items.map((o) => o.old_name).filter((n): n is string => typeof n === 'string'));
  const renames: { id: number; to: string }[] = [];
  for (const [i, item] of items.entries()) {
    const to = names[i] ?? '';
    const from = item.old_name;
    if (!from || from === to) continue;
    const fromId = idByName.get(from);
    // rename only when the old row exists and the new name is not taken by another row that stays
    if (fromId === undefined) continue;
    const toId = idByName.get(to);
    if (toId !== undefined && !renamedFrom.has(to)) continue;
    renames.push({ id: fromId, to });
  }
  if (renames.length > 0) {
    const ids = renames.map((r) => r.id);
    await tx.query(`UPDATE ${table} SET name = '__jetway_renaming_' || id WHERE id = ANY($1::int[])`, [ids]);
    await tx.query(`UPDATE ${table} t SET name = r.name FROM unnest($1::int[], $2::text[]) AS r(id, name) WHERE t.id = r.id`, [ids, renames.map((r) => r.to)]);
  }

  const keys = Object.keys(types);
  const rows = items.map((item, i) => ({ ...columns(item, i), name: names[i] }));
  const upserted = await tx.query<{ id: number; name: string }>(
    `INSERT INTO ${table} (pipeline_id, name, ${keys.join(', ')}, active)
     SELECT $1, x.name, ${keys.map((k) => `x.${k}`).join(', ')}, true
       FROM jsonb_to_recordset($2::jsonb) AS x(name text, ${keys.map((k) => `${k} ${types[k]}`).join(', ')})
     ON CONFLICT (pipeline_id, name) DO UPDATE SET ${[...keys, 'active'].map((k) => `${k} = EXCLUDED.${k}`).join(', ')}
     RETURNING id, name`,
    [pipelineId, JSON.stringify(rows)],
  );
  const returned = new Map(upserted.rows.map((r) => [r.name, r.id]));
  const ids = new Map<string, number>();
  for (const name of names) {
    const id = returned.get(name);
    if (id === undefined) throw new Error(`upsert of ${kind} ${name} returned no id`);
    ids.set(name, id);
  }
  await tx.query(`UPDATE ${table} SET active = false WHERE pipeline_id = $1 AND active AND NOT (id = ANY($2::int[]))`, [
    pipelineId,
    [...ids.values()],
  ]);
  return ids;
}

const truthy = (v: unknown): boolean => v === true;
const intOr0 = (v: unknown): number => (typeof v === 'number' && Number.isInteger(v) ? v : 0);

/**
 * The pipelines a set_pipeline step set are archived with what set them (Concourse's
 * ArchiveAbandonedPipelines, atc/db/pipeline_lifecycle.go, done in the same transaction instead
 * of by a later GC pass): when the job that set one is removed, or its pipeline is archived or
 * destroyed; and the pipelines those set, all the way down. `where` picks the setting jobs (`j`).
 */
async function archiveChildPipelines(tx: Queryable, where: { pipelineId: number; inactiveJobsOnly?: boolean }): Promise<number[]> {
  const cond = where.inactiveJobsOnly ? 'j.pipeline_id = $1 AND NOT j.active' : 'j.pipeline_id = $1';
  const param = where.pipelineId;
  const r = await tx.query<{ id: number }>(
    `WITH RECURSIVE doomed AS (
       SELECT p.id FROM pipelines p JOIN jobs j ON j.id = p.parent_job_id WHERE ${cond}
       UNION
       SELECT p.id FROM pipelines p JOIN jobs j ON j.id = p.parent_job_id JOIN doomed d ON d.id = j.pipeline_id
     )
     UPDATE pipelines SET archived = true, paused = true, last_updated = now()
      WHERE id IN (SELECT id FROM doomed) AND NOT archived RETURNING id`,
    [param],
  );
  const ids = r.rows.map((row) => row.id);
  // their pending builds are aborted by the scheduler's next look at their jobs
  if (ids.length > 0) await tx.query('UPDATE jobs SET schedule_requested = clock_timestamp() WHERE pipeline_id = ANY($1::int[])', [ids]);
  return ids;
}

function effectiveMaxInFlight(job: Job): number {
  if (truthy(job.serial) || (job.serial_groups?.length ?? 0) > 0) return 1;
  return Math.max(0, intOr0(job.max_in_flight));
}

function serialGroups(job: Job, name: string): string[] {
  if (job.serial_groups && job.serial_groups.length > 0) return [...new Set(job.serial_groups)];
  return effectiveMaxInFlight(job) > 0 ? [name] : [];
}

// ------------------------------------------------------------------------------ save

/**
 * Saves a pipeline config in one transaction: the pipeline row (created paused), its resource
 * types, resources and jobs (upserted by name, `old_name` renames, removed ones inactive),
 * the derived job inputs/outputs/serial groups, config pins; then requests scheduling of every
 * job. With `expectedVersion`, a stale save is refused and changes nothing.
 */
export async function savePipeline(db: Queryable, input: SavePipelineInput): Promise<SavePipelineResult> {
  const config = input.config;
  if (!isPlainObject(config)) throw new InvalidConfigError('the pipeline config must be an object');
  const iv = instanceVarsOf(input);
  const label = describe(input);

  return db.transaction(async (tx) => {
    const tid = await teamId(tx, input.team);
    let row = await findPipelineRow(tx, input, true);
    let created = false;
    const check = (current: PipelineRow | undefined): void => {
      if (input.expectedVersion === undefined) return;
      // an archived pipeline's config is not served (GET …/config answers 404), so a client sets it
      // as a new one, with version 0: Concourse's archive resets the version to 0 for that
      const currentVersion = current && !current.archived ? current.version : 0;
      if (input.expectedVersion !== currentVersion) {
        throw new StaleConfigVersionError(label, input.expectedVersion, current ? currentVersion : null);
      }
    };
    check(row);

    const groups = JSON.stringify(config.groups ?? []);
    const varSources = JSON.stringify(config.var_sources ?? []);
    const display = config.display === undefined ? null : JSON.stringify(config.display);
    const configText = JSON.stringify(config);

    let pipelineId: number;
    let version: number;
    if (!row) {
      // a new pipeline comes last in the team's order (an instance joins its name's place)
      const ins = await tx.query<{ id: number; version: number }>(
        `INSERT INTO pipelines (team_id, name, instance_vars, config, groups, var_sources, display, paused, ordering)
         VALUES ($1, $2, $3::jsonb, $4::json, $5::jsonb, $6::jsonb, $7::jsonb, true,
                 COALESCE((SELECT min(ordering) FROM pipelines WHERE team_id = $1 AND name = $2),
                          (SELECT COALESCE(max(ordering), 0) + 1 FROM pipelines WHERE team_id = $1)))
         ON CONFLICT DO NOTHING
         RETURNING id, version`,
        [tid, input.name, iv === null ? null : JSON.stringify(iv), configText, groups, varSources, display],
      );
      const first = ins.rows[0];
      if (first) {
        created = true;
        pipelineId = first.id;
        version = first.version;
      } else {
        // created concurrently by another save since we looked: treat it as an update
        row = await findPipelineRow(tx, input, true);
        if (!row) throw new ConflictError(`pipeline ${label} could not be created`);
        check(row);
      }
    }
    if (row) {
      const upd = await tx.query<{ version: number }>(
        `UPDATE pipelines SET config = $2::json, groups = $3::jsonb, var_sources = $4::jsonb, display = $5::jsonb,
                version = nextval('config_version_seq'), last_updated = now(),
                paused = CASE WHEN archived THEN true ELSE paused END, archived = false
          WHERE id = $1 RETURNING version`,
        [row.id, configText, groups, varSources, display],
      );
      pipelineId = row.id;
      version = upd.rows[0]?.version ?? row.version;
    }
    const pid = pipelineId!;

    const types = (config.resource_types ?? []) as ResourceType[];
    await upsertNamed(tx, 'resource_types', pid, types, 'resource type', { type: 'text', config: 'jsonb' }, (t) => ({
      type: t.type ?? '',
      config: t,
    }));

    const resources = (config.resources ?? []) as Resource[];
    const resourceIds = await upsertNamed(tx, 'resources', pid, resources, 'resource', { type: 'text', config: 'jsonb', ordering: 'integer' }, (r, i) => ({
      type: r.type ?? '',
      config: r,
      ordering: i,
    }));

    const jobs = (config.jobs ?? []) as Job[];
    const jobIds = await upsertNamed(
      tx,
      'jobs',
      pid,
      jobs,
      'job',
      {
        config: 'jsonb',
        public: 'boolean',
        max_in_flight: 'integer',
        tags: 'text[]',
        disable_manual_trigger: 'boolean',
        disable_reruns: 'boolean',
        interruptible: 'boolean',
        ordering: 'integer',
      },
      (j, i) => ({
        config: j,
        public: truthy(j.public),
        max_in_flight: effectiveMaxInFlight(j),
        tags: j.tags ?? [],
        disable_manual_trigger: truthy(j.disable_manual_trigger),
        disable_reruns: truthy(j.disable_reruns),
        interruptible: truthy(j.interruptible),
        ordering: i,
      }),
    );

    // a removed job's child pipelines go with it
    await archiveChildPipelines(tx, { pipelineId: pid, inactiveJobsOnly: true });

    // derived rows: rebuilt from scratch for every job of the pipeline
    await tx.query('DELETE FROM job_inputs WHERE job_id IN (SELECT id FROM jobs WHERE pipeline_id = $1)', [pid]);
    await tx.query('DELETE FROM job_outputs WHERE job_id IN (SELECT id FROM jobs WHERE pipeline_id = $1)', [pid]);
    await tx.query('DELETE FROM jobs_serial_groups WHERE job_id IN (SELECT id FROM jobs WHERE pipeline_id = $1)', [pid]);

    // Each kind of derived row goes in one statement, whatever the pipeline's size: a statement
    // per input (or per passed job, before that) made saving a 1,000-job pipeline take seconds.
    const inputRows: { job_id: number; name: string; resource_id: number; passed: (number | null)[]; trigger: boolean; version: unknown; params: unknown }[] = [];
    const outputs = { jobIds: [] as number[], names: [] as string[], resourceIds: [] as number[] };
    const serial = { jobIds: [] as number[], names: [] as string[] };
    const allJobNames = [...jobIds.keys()];
    for (const job of jobs) {
      const jobName = job.name ?? '';
      const jobId = jobIds.get(jobName);
      if (jobId === undefined) continue;
      const seenInputs = new Set<string>();
      for (const input of jobInputs(job, allJobNames)) {
        if (seenInputs.has(input.name)) continue; // a repeated name is a validation error; keep the first
        seenInputs.add(input.name);
        const resourceId = resourceIds.get(input.resource);
        if (resourceId === undefined) {
          throw new InvalidConfigError(`job ${jobName} input ${input.name} uses unknown resource ${input.resource}`);
        }
        const passedIds: (number | null)[] = input.passed.length === 0 ? [null] : [];
        for (const p of input.passed) {
          const id = jobIds.get(p);
          if (id === undefined) throw new InvalidConfigError(`job ${jobName} input ${input.name} is passed by unknown job ${p}`);
          passedIds.push(id);
        }
        inputRows.push({ job_id: jobId, name: input.name, resource_id: resourceId, passed: passedIds, trigger: input.trigger, version: input.version, params: input.params ?? null });
      }
      for (const output of jobOutputs(job)) {
        const resourceId = resourceIds.get(output.resource);
        if (resourceId === undefined) {
          throw new InvalidConfigError(`job ${jobName} output ${output.name} uses unknown resource ${output.resource}`);
        }
        outputs.jobIds.push(jobId);
        outputs.names.push(output.name);
        outputs.resourceIds.push(resourceId);
      }
      for (const group of serialGroups(job, jobName)) {
        serial.jobIds.push(jobId);
        serial.names.push(group);
      }
    }
    if (inputRows.length > 0) {
      // a row per (input, passed job); an input without passed has one row with no passed job
      await tx.query(
        `INSERT INTO job_inputs (job_id, name, resource_id, passed_job_id, trigger, version, params)
         SELECT x.job_id, x.name, x.resource_id, p.job_id, x.trigger, x.version, x.params
           FROM jsonb_to_recordset($1::jsonb) AS x(job_id integer, name text, resource_id integer, passed integer[], trigger boolean, version jsonb, params jsonb)
           CROSS JOIN LATERAL unnest(x.passed) AS p(job_id)`,
        [JSON.stringify(inputRows)],
      );
    }
    if (outputs.jobIds.length > 0) {
      await tx.query(
        `INSERT INTO job_outputs (job_id, name, resource_id) SELECT * FROM unnest($1::int[], $2::text[], $3::int[]) ON CONFLICT DO NOTHING`,
        [outputs.jobIds, outputs.names, outputs.resourceIds],
      );
    }
    if (serial.jobIds.length > 0) {
      await tx.query('INSERT INTO jobs_serial_groups (job_id, serial_group) SELECT * FROM unnest($1::int[], $2::text[])', [serial.jobIds, serial.names]);
    }

    // config pins: set/replace from `resources[].version`; config pins no longer in the config go
    const pins: { resource_id: number; version: Record<string, string> }[] = [];
    const unpinned: number[] = [];
    for (const r of resources) {
      const rid = resourceIds.get(r.name ?? '');
      if (rid === undefined) continue;
      if (isStringMap(r.version)) pins.push({ resource_id: rid, version: r.version });
      else unpinned.push(rid);
    }
    if (pins.length > 0) {
      await tx.query(
        `INSERT INTO resource_pins (resource_id, version, comment_text, config)
         SELECT x.resource_id, x.version, '', true FROM jsonb_to_recordset($1::jsonb) AS x(resource_id integer, version jsonb)
         ON CONFLICT (resource_id) DO UPDATE SET version = EXCLUDED.version, comment_text = '', config = true,
           pinned_at = CASE WHEN resource_pins.version = EXCLUDED.version AND resource_pins.config
                            THEN resource_pins.pinned_at ELSE now() END`,
        [JSON.stringify(pins)],
      );
    }
    if (unpinned.length > 0) await tx.query('DELETE FROM resource_pins WHERE resource_id = ANY($1::int[]) AND config', [unpinned]);

    await tx.query('UPDATE jobs SET schedule_requested = now() WHERE pipeline_id = $1', [pid]);
    return { created, version: version!, pipelineId: pid };
  });
}

// ------------------------------------------------------------------------------ read

export async function getPipeline(db: Queryable, ref: PipelineRef): Promise<PipelineRecord | undefined> {
  const row = await findPipelineRow(db, ref);
  return row ? toRecord(row) : undefined;
}

export async function getPipelineById(db: Queryable, id: number): Promise<PipelineRecord | undefined> {
  const r = await db.query<PipelineRow>(
    `SELECT ${PIPELINE_COLUMNS} FROM pipelines p JOIN teams t ON t.id = p.team_id WHERE p.id = $1`,
    [id],
  );
  const row = r.rows[0];
  return row ? toRecord(row) : undefined;
}

export async function listPipelines(db: Queryable, team?: string): Promise<PipelineRecord[]> {
  const r = await db.query<PipelineRow>(
    `SELECT ${PIPELINE_COLUMNS} FROM pipelines p JOIN teams t ON t.id = p.team_id
      WHERE $1::text IS NULL OR t.name = $1 ORDER BY t.name, p.ordering, p.secondary_ordering, p.id`,
    [team ?? null],
  );
  return r.rows.map(toRecord);
}

/** The config exactly as saved, with its version; undefined when there is no such pipeline. */
export async function getPipelineConfig(db: Queryable, ref: PipelineRef): Promise<StoredPipelineConfig | undefined> {
  const iv = instanceVarsOf(ref);
  const r = await db.query<{ id: number; version: number; config: string; archived: boolean }>(
    `SELECT p.id, p.version, p.config::text AS config, p.archived FROM pipelines p JOIN teams t ON t.id = p.team_id
      WHERE t.name = $1 AND p.name = $2
        AND ((p.instance_vars IS NULL AND $3::jsonb IS NULL) OR p.instance_vars = $3::jsonb)`,
    [ref.team, ref.name, iv === null ? null : JSON.stringify(iv)],
  );
  const row = r.rows[0];
  if (!row) return undefined;
  return { pipelineId: row.id, version: row.version, config: JSON.parse(row.config) as PipelineConfig, archived: row.archived };
}

// ------------------------------------------------------------------------------ lifecycle

async function mustFind(tx: Queryable, ref: PipelineRef): Promise<PipelineRow> {
  const row = await findPipelineRow(tx, ref, true);
  if (!row) throw new NotFoundError(`pipeline ${describe(ref)} not found`);
  return row;
}

export async function pausePipeline(db: Queryable, ref: PipelineRef, by?: string): Promise<void> {
  await db.transaction(async (tx) => {
    const row = await mustFind(tx, ref);
    await tx.query(`UPDATE pipelines SET paused = true, paused_by = $2, paused_at = now() WHERE id = $1`, [row.id, by ?? null]);
  });
}

/** Unpauses and requests scheduling of every job (archived pipelines cannot be unpaused). */
export async function unpausePipeline(db: Queryable, ref: PipelineRef): Promise<void> {
  await db.transaction(async (tx) => {
    const row = await mustFind(tx, ref);
    if (row.archived) throw new ConflictError(`pipeline '${describeName(ref)}' is archived; set it again to unarchive it`);
    await tx.query(`UPDATE pipelines SET paused = false, paused_by = NULL, paused_at = NULL WHERE id = $1`, [row.id]);
    await tx.query('UPDATE jobs SET schedule_requested = now() WHERE pipeline_id = $1', [row.id]);
  });
}

/**
 * Archives (`fly archive-pipeline`): paused and archived, so the scanner checks none of its
 * resources, the scheduler schedules none of its jobs, and it cannot be unpaused or triggered;
 * saving its config again unarchives it, still paused. The config is kept (Concourse clears it),
 * so get-pipeline still shows it. Its jobs are due for scheduling: their pending builds are
 * aborted.
 */
export async function archivePipeline(db: Queryable, ref: PipelineRef, by?: string): Promise<void> {
  await db.transaction(async (tx) => {
    const row = await mustFind(tx, ref);
    if (row.archived) return;
    await tx.query(
      `UPDATE pipelines SET archived = true, paused = true, last_updated = now(),
              paused_by = CASE WHEN paused THEN paused_by ELSE $2 END,
              paused_at = CASE WHEN paused THEN paused_at ELSE now() END
        WHERE id = $1`,
      [row.id, by ?? null],
    );
    await tx.query('UPDATE jobs SET schedule_requested = clock_timestamp() WHERE pipeline_id = $1', [row.id]);
    await archiveChildPipelines(tx, { pipelineId: row.id });
  });
}

/**
 * Orders a team's pipelines (`PUT /teams/:team/pipelines/ordering`): the named ones first, in the
 * given order (every instance of a name together), the rest after them in their previous order.
 * Returns the names the team has no pipeline of; when there are any, nothing changes.
 */
export async function orderPipelines(db: Queryable, team: string, names: readonly string[]): Promise<{ unknown: string[] }> {
  return db.transaction(async (tx) => {
    const tid = await teamId(tx, team);
    // the team's pipelines locked in their current order, so concurrent orderings apply one after the other
    const r = await tx.query<{ id: number; name: string }>(
      'SELECT id, name FROM pipelines WHERE team_id = $1 ORDER BY ordering, id FOR UPDATE',
      [tid],
    );
    const known = new Set(r.rows.map((row) => row.name));
    const unknown = [...new Set(names.filter((n) => !known.has(n)))];
    if (unknown.length > 0) return { unknown };
    const first = [...new Set(names)];
    const rest = [...new Set(r.rows.map((row) => row.name))].filter((n) => !first.includes(n));
    for (const [i, name] of [...first, ...rest].entries()) {
      await tx.query('UPDATE pipelines SET ordering = $3 WHERE team_id = $1 AND name = $2', [tid, name, i + 1]);
    }
    return { unknown: [] };
  });
}

/**
 * Orders the instances of one group (pipelines of one name) as `instanceVars` lists them
 * (Concourse's team.OrderPipelinesWithinGroup: secondary_ordering 1, 2, ...; the instances not
 * listed after them, in their order). An instance that does not exist changes nothing and is returned.
 */
export async function orderPipelinesWithinGroup(db: Queryable, team: string, group: string, instanceVars: readonly Record<string, unknown>[]): Promise<{ unknown?: Record<string, unknown> }> {
  return db.transaction(async (tx) => {
    const tid = await teamId(tx, team);
    // the group's rows locked, so concurrent orderings apply one after the other
    await tx.query('SELECT id FROM pipelines WHERE team_id = $1 AND name = $2 ORDER BY id FOR UPDATE', [tid, group]);
    const listed: number[] = [];
    for (const [i, vars] of instanceVars.entries()) {
      const iv = Object.keys(vars).length > 0 ? JSON.stringify(vars) : null;
      const r = await tx.query<{ id: number }>('UPDATE pipelines SET secondary_ordering = $4 WHERE team_id = $1 AND name = $2 AND instance_vars IS NOT DISTINCT FROM $3::jsonb RETURNING id', [tid, group, iv, i + 1]);
      if (r.rows.length === 0) throw new UnknownInstance(vars);
      listed.push(...r.rows.map((row) => row.id));
    }
    // the instances not named come after them, in their order
    await tx.query(
      `UPDATE pipelines p SET secondary_ordering = $3 + o.rank
         FROM (SELECT id, row_number() OVER (ORDER BY secondary_ordering, id) AS rank FROM pipelines
                WHERE team_id = $1 AND name = $2 AND NOT (id = ANY($4::int[]))) o
        WHERE p.id = o.id`,
      [tid, group, instanceVars.length, listed],
    );
    return {};
  }).catch((err: unknown) => {
    if (err instanceof UnknownInstance) return { unknown: err.vars };
    throw err;
  });
}

/** Rolls the ordering back: one instance named was not found. */
class UnknownInstance extends Error {
  constructor(readonly vars: Record<string, unknown>) {
    super('unknown instance');
  }
}

export async function renamePipeline(db: Queryable, ref: PipelineRef, newName: string): Promise<void> {
  if (!newName) throw new InvalidConfigError('the new pipeline name is empty');
  await db.transaction(async (tx) => {
    const row = await mustFind(tx, ref);
    try {
      await tx.transaction((sp) => sp.query('UPDATE pipelines SET name = $2 WHERE id = $1', [row.id, newName]));
    } catch (err) {
      if (pgErrorCode(err) === '23505') throw new ConflictError(`pipeline ${ref.team}/${newName} already exists`);
      throw err;
    }
  });
}

/** Deletes the pipeline and everything of it (jobs, resources, builds, versions of its resources). */
export async function deletePipeline(db: Queryable, ref: PipelineRef): Promise<void> {
  await db.transaction(async (tx) => {
    const row = await mustFind(tx, ref);
    await archiveChildPipelines(tx, { pipelineId: row.id });
    await tx.query('DELETE FROM pipelines WHERE id = $1', [row.id]);
  });
}
