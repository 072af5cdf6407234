// A pipeline's versions DB as Concourse dumps it for debugging input resolution
// (GET .../versions-db; atc/db/pipeline.go's LoadDebugVersionsDB, atc.DebugVersionsDB): the
// versions of its resources, the builds' inputs and outputs (a succeeded build's inputs count as
// its outputs too), reruns, jobs and resources, by id. Disabled versions are left out, as there.
// Bounded: a section past MAX_ROWS is refused rather than held in memory whole.
import type { Queryable, Row } from './database.ts';

export const VERSIONS_DB_MAX_ROWS = 200_000;

export interface DebugResourceVersion {
  VersionID: number;
  ResourceID: number;
  CheckOrder: number;
  ScopeID: number;
}
export interface DebugVersionsDB {
  Jobs: { Name: string; ID: number }[];
  Resources: { Name: string; ID: number; ScopeID: number | null }[];
  ResourceVersions: DebugResourceVersion[];
  BuildOutputs: (DebugResourceVersion & { BuildID: number; JobID: number })[];
  BuildInputs: (DebugResourceVersion & { BuildID: number; JobID: number; InputName: string })[];
  BuildReruns: { BuildID: number; JobID: number; RerunOf: number }[];
}

export class VersionsDbTooLarge extends Error {
  constructor(readonly section: string) {
    super(`the versions DB's ${section} has more than ${VERSIONS_DB_MAX_ROWS} rows: too large to serve`);
  }
}

const NOT_DISABLED = 'NOT EXISTS (SELECT 1 FROM resource_disabled_versions d WHERE d.resource_id = r.id AND d.version_digest IN (v.version_sha256, v.version_md5))';
const SAME_VERSION = "(v.version_sha256 = x.version_digest OR v.version_md5 = x.version_digest) AND v.resource_config_scope_id = r.resource_config_scope_id";

export async function loadVersionsDb(db: Queryable, pipelineId: number): Promise<DebugVersionsDB> {
  const limit = VERSIONS_DB_MAX_ROWS + 1;
  const rows = async <T extends Row>(section: string, sql: string): Promise<T[]> => {
    const r = await db.query<T>(`${sql} LIMIT ${limit}`, [pipelineId]);
    if (r.rows.length > VERSIONS_DB_MAX_ROWS) throw new VersionsDbTooLarge(section);
    return r.rows;
  };
  type V = Row & { vid: number; check_order: number; rid: number; scope: number; build_id: number; job_id: number };
  const outputs = await rows<V>(
    'BuildOutputs',
    `SELECT v.id AS vid, v.check_order, r.id AS rid, v.resource_config_scope_id AS scope, x.build_id, b.job_id
       FROM build_resource_config_version_outputs x JOIN builds b ON b.id = x.build_id JOIN resources r ON r.id = x.resource_id
       JOIN resource_config_versions v ON ${SAME_VERSION}
      WHERE b.status = 'succeeded' AND r.pipeline_id = $1 AND r.active AND ${NOT_DISABLED} ORDER BY x.build_id, r.id, v.id`,
  );
  const inputs = await rows<V & { name: string; succeeded: boolean }>(
    'BuildInputs',
    `SELECT v.id AS vid, v.check_order, r.id AS rid, v.resource_config_scope_id AS scope, x.build_id, x.name, b.job_id, b.status = 'succeeded' AS succeeded
       FROM build_resource_config_version_inputs x JOIN builds b ON b.id = x.build_id JOIN resources r ON r.id = x.resource_id
       JOIN resource_config_versions v ON ${SAME_VERSION}
      WHERE r.pipeline_id = $1 AND r.active AND ${NOT_DISABLED} ORDER BY x.build_id, x.name, v.id`,
  );
  const versions = await rows<Row & { vid: number; check_order: number; rid: number; scope: number }>(
    'ResourceVersions',
    `SELECT v.id AS vid, v.check_order, r.id AS rid, v.resource_config_scope_id AS scope
       FROM resource_config_versions v JOIN resources r ON r.resource_config_scope_id = v.resource_config_scope_id
      WHERE r.pipeline_id = $1 AND r.active AND ${NOT_DISABLED} ORDER BY r.id, v.check_order, v.id`,
  );
  const reruns = await rows<Row & { job_id: number; id: number; rerun_of: number }>(
    'BuildReruns',
    'SELECT j.id AS job_id, b.id, b.rerun_of FROM builds b JOIN jobs j ON j.id = b.job_id WHERE j.active AND b.pipeline_id = $1 AND b.rerun_of IS NOT NULL ORDER BY b.id',
  );
  const jobs = await rows<Row & { name: string; id: number }>('Jobs', 'SELECT name, id FROM jobs WHERE pipeline_id = $1 AND active ORDER BY id');
  const resources = await rows<Row & { name: string; id: number; scope: number | null }>(
    'Resources',
    'SELECT name, id, resource_config_scope_id AS scope FROM resources WHERE pipeline_id = $1 AND active ORDER BY id',
  );
  const version = (r: { vid: number; check_order: number; rid: number; scope: number }): DebugResourceVersion => ({ VersionID: r.vid, ResourceID: r.rid, CheckOrder: r.check_order, ScopeID: r.scope });
  return {
    Jobs: jobs.map((j) => ({ Name: j.name, ID: j.id })),
    Resources: resources.map((r) => ({ Name: r.name, ID: r.id, ScopeID: r.scope })),
    ResourceVersions: versions.map(version),
    BuildOutputs: [
      ...outputs.map((o) => ({ ...version(o), BuildID: o.build_id, JobID: o.job_id })),
      // a succeeded build's inputs are its implicit outputs
      ...inputs.filter((i) => i.succeeded).map((i) => ({ ...version(i), BuildID: i.build_id, JobID: i.job_id })),
    ],
    BuildInputs: inputs.map((i) => ({ ...version(i), BuildID: i.build_id, JobID: i.job_id, InputName: i.name })),
    BuildReruns: reruns.map((r) => ({ BuildID: r.id, JobID: r.job_id, RerunOf: r.rerun_of })),
  };
}
