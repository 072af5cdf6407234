// Loads the `db` section of an algorithm case (docs/concourse-semantics.md §0) into a migrated Jetway
// database with the ids the case gives: team/pipeline scaffolding, jobs, resources with a config
// and scope each (has_scope=false: no scope), versions, disabled versions, builds, build
// inputs/outputs, successful_build_outputs and build pipes.
import type { Queryable } from '../../../src/db/database.ts';
import { caseResourceId, caseVersion, type CaseDb } from './cases.ts';
import { versionDigest } from '../../../src/model/version.ts';

/** Inserts rows given as JSON objects in one statement (jsonb_to_recordset). */
async function insertRows(
  db: Queryable,
  table: string,
  columns: Record<string, string>,
  rows: Record<string, unknown>[],
  suffix = '',
): Promise<void> {
  if (rows.length === 0) return;
  const names = Object.keys(columns);
  const defs = names.map((n) => `${n} ${columns[n]}`).join(', ');
  await db.query(
    `INSERT INTO ${table} (${names.join(', ')})
     SELECT ${names.join(', ')} FROM jsonb_to_recordset($1::jsonb) AS t(${defs}) ${suffix}`,
    [JSON.stringify(rows)],
  );
}

export async function loadCaseDb(db: Queryable, caseDb: CaseDb): Promise<void> {
  const jobId = (name: string): number => {
    const id = caseDb.jobs[name];
    if (id === undefined) throw new Error(`unknown job ${name}`);
    return id;
  };
  const resourceId = (name: string): number => caseResourceId(caseDb, name);
  const digest = (name: string): string => versionDigest(caseVersion(name));

  await db.transaction(async (tx) => {
    const team = await tx.query<{ id: number }>(`SELECT id FROM teams WHERE name = 'main'`);
    const teamId = team.rows[0]?.id;
    if (teamId === undefined) throw new Error('no main team');
    const pipeline = await tx.query<{ id: number }>(
      `INSERT INTO pipelines (team_id, name, config) VALUES ($1, 'algorithm-case', '{}') RETURNING id`,
      [teamId],
    );
    const pipelineId = pipeline.rows[0]?.id;

    await insertRows(
      tx,
      'jobs',
      { id: 'int', pipeline_id: 'int', name: 'text' },
      Object.entries(caseDb.jobs).map(([name, id]) => ({ id, pipeline_id: pipelineId, name })),
    );
    await insertRows(
      tx,
      'resources',
      { id: 'int', pipeline_id: 'int', name: 'text', type: 'text' },
      Object.entries(caseDb.resources).map(([name, r]) => ({ id: r.id, pipeline_id: pipelineId, name, type: 'mock' })),
    );

    const base = await tx.query<{ id: number }>(
      `INSERT INTO base_resource_types (name) VALUES ('mock')
       ON CONFLICT (name) DO UPDATE SET name = EXCLUDED.name RETURNING id`,
    );
    const baseId = base.rows[0]?.id;
    let versionIds = 0;
    for (const [name, r] of Object.entries(caseDb.resources)) {
      if (!r.has_scope) continue;
      const config = await tx.query<{ id: number }>(
        `INSERT INTO resource_configs (base_resource_type_id, source_hash) VALUES ($1, $2) RETURNING id`,
        [baseId, `algorithm-case-${r.id}`],
      );
      const configId = config.rows[0]?.id;
      const scope = await tx.query<{ id: number }>(
        `INSERT INTO resource_config_scopes (resource_config_id, resource_id) VALUES ($1, $2) RETURNING id`,
        [configId, r.id],
      );
      const scopeId = scope.rows[0]?.id;
      await tx.query(`UPDATE resources SET resource_config_id = $1, resource_config_scope_id = $2 WHERE id = $3`, [
        configId,
        scopeId,
        r.id,
      ]);
      // listed order = insertion order = ascending ids: ties in check_order break as in memory
      const versions = caseDb.versions[name] ?? [];
      await insertRows(
        tx,
        'resource_config_versions',
        { id: 'int', resource_config_scope_id: 'int', version: 'jsonb', version_sha256: 'text', check_order: 'int' },
        versions.map((v) => ({
          id: ++versionIds,
          resource_config_scope_id: scopeId,
          version: caseVersion(v.version),
          version_sha256: digest(v.version),
          check_order: v.check_order,
        })),
      );
      await insertRows(
        tx,
        'resource_disabled_versions',
        { resource_id: 'int', version_digest: 'text' },
        versions.filter((v) => v.disabled).map((v) => ({ resource_id: r.id, version_digest: digest(v.version) })),
        'ON CONFLICT DO NOTHING',
      );
    }

    await insertRows(
      tx,
      'builds',
      { id: 'int', name: 'text', job_id: 'int', pipeline_id: 'int', team_id: 'int', status: 'text', rerun_of: 'int', completed: 'boolean' },
      caseDb.builds.map((b) => ({
        id: b.id,
        name: String(b.id),
        job_id: jobId(b.job),
        pipeline_id: pipelineId,
        team_id: teamId,
        status: b.status,
        rerun_of: b.rerun_of,
        completed: !['pending', 'started'].includes(b.status),
      })),
    );
    await insertRows(
      tx,
      'build_resource_config_version_inputs',
      { build_id: 'int', resource_id: 'int', version_digest: 'text', name: 'text' },
      caseDb.build_inputs.map((i) => ({
        build_id: i.build_id,
        resource_id: resourceId(i.resource),
        version_digest: digest(i.version),
        name: i.name,
      })),
      'ON CONFLICT DO NOTHING',
    );
    await insertRows(
      tx,
      'build_resource_config_version_outputs',
      { build_id: 'int', resource_id: 'int', version_digest: 'text', name: 'text' },
      caseDb.build_outputs.map((o) => ({
        build_id: o.build_id,
        resource_id: resourceId(o.resource),
        version_digest: digest(o.version),
        name: o.resource,
      })),
      'ON CONFLICT DO NOTHING',
    );
    await insertRows(
      tx,
      'successful_build_outputs',
      { build_id: 'int', job_id: 'int', rerun_of: 'int', outputs: 'jsonb' },
      caseDb.successful_build_outputs.map((row) => {
        const outputs: Record<string, string[]> = {};
        for (const o of row.outputs) (outputs[String(resourceId(o.resource))] ??= []).push(digest(o.version));
        return { build_id: row.build_id, job_id: jobId(row.job), rerun_of: row.rerun_of, outputs };
      }),
    );
    await insertRows(
      tx,
      'build_pipes',
      { from_build_id: 'int', to_build_id: 'int' },
      caseDb.build_pipes.map((p) => ({ from_build_id: p.from_build_id, to_build_id: p.to_build_id })),
      'ON CONFLICT DO NOTHING',
    );
  });
}

/** Tables loadCaseDb writes; all must be empty after clearCaseDb. */
const CASE_TABLES = [
  'pipelines',
  'jobs',
  'resources',
  'resource_configs',
  'resource_config_scopes',
  'resource_config_versions',
  'resource_disabled_versions',
  'builds',
  'build_resource_config_version_inputs',
  'build_resource_config_version_outputs',
  'successful_build_outputs',
  'build_pipes',
];

/**
 * Removes what loadCaseDb inserted, so one database can serve case after case (much cheaper than
 * a new database per case). Deleting the pipelines cascades to jobs, resources, scopes, versions,
 * builds and their inputs/outputs/pipes; resource configs are deleted explicitly. Checks that
 * every table it loads is empty afterwards.
 */
export async function clearCaseDb(db: Queryable): Promise<void> {
  await db.transaction(async (tx) => {
    await tx.query('DELETE FROM pipelines');
    await tx.query('DELETE FROM resource_configs');
    const counts = await tx.query<{ t: string; n: number }>(
      CASE_TABLES.map((t) => `SELECT '${t}' AS t, count(*)::int AS n FROM ${t}`).join(' UNION ALL '),
    );
    const left = counts.rows.filter((r) => r.n > 0).map((r) => `${r.t} (${r.n})`);
    if (left.length > 0) throw new Error(`clearing the case database left rows in ${left.join(', ')}`);
  });
}
