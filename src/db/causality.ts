// Resource causality (Concourse 7.x+, atc/db/resource.go Causality): from one version of a
// resource, the builds it led to (downstream: it went in, their outputs went into more builds…)
// or came from (upstream: the build that put it, that build's inputs' builds…), with the jobs,
// resources and versions between them. Bounded as Concourse bounds it: a history too large to
// draw is refused (CausalityTooLargeError), not computed for minutes.
import type { Queryable } from './database.ts';
import { DbError } from './errors.ts';

export type CausalityDirection = 'downstream' | 'upstream';

/** Concourse's limits: builds in the walk, and input/output rows read for them. */
export const CAUSALITY_MAX_BUILDS = 5000;
export const CAUSALITY_MAX_EDGES = 25000;

export class CausalityTooLargeError extends DbError {
  constructor(readonly what: 'builds' | 'versions') {
    super(`the causality has more than ${what === 'builds' ? CAUSALITY_MAX_BUILDS : CAUSALITY_MAX_EDGES} ${what === 'builds' ? 'builds' : 'build inputs and outputs'}`);
  }
}

export interface CausalityJob {
  id: number;
  name: string;
  build_ids?: number[];
}
export interface CausalityBuild {
  id: number;
  name: string;
  job_id: number;
  status: string;
  resource_version_ids?: number[];
}
export interface CausalityResource {
  id: number;
  name: string;
  version_ids?: number[];
}
export interface CausalityResourceVersion {
  id: number;
  resource_id: number;
  version: Record<string, string>;
  build_ids?: number[];
}
/** atc.Causality, as the API sends it. */
export interface Causality {
  jobs: CausalityJob[];
  builds: CausalityBuild[];
  resources: CausalityResource[];
  resource_versions: CausalityResourceVersion[];
}

/**
 * The builds reachable from the version ($1 resource, $2 digests): downstream follows
 * version → builds it was an input of → their outputs → builds those were inputs of…; upstream
 * the other way. Versions of the starting resource itself are not followed again (Concourse's
 * rule, so a resource that is both put and got does not pull in its whole history).
 */
function walk(direction: CausalityDirection): string {
  const [first, then] = direction === 'downstream'
    ? ['build_resource_config_version_inputs', 'build_resource_config_version_outputs']
    : ['build_resource_config_version_outputs', 'build_resource_config_version_inputs'];
  return `WITH RECURSIVE build_ids AS (
      SELECT DISTINCT s.build_id FROM ${first} s WHERE s.resource_id = $1 AND s.version_digest = ANY($2::text[])
    UNION
      SELECT n.build_id FROM build_ids bi
        JOIN ${then} e ON e.build_id = bi.build_id
        JOIN ${first} n ON n.resource_id = e.resource_id AND n.version_digest = e.version_digest
       WHERE n.resource_id <> $1
  )`;
}

/**
 * The causality of a version (by its digests: sha256, and md5 for old rows), in one
 * transaction-free read (both queries see committed builds; a build finishing between them only
 * adds edges to builds that are not shown, which are dropped).
 */
export async function resourceCausality(
  db: Queryable,
  resourceId: number,
  digests: readonly string[],
  direction: CausalityDirection,
): Promise<Causality> {
  const cte = walk(direction);
  const b = await db.query<{ id: number; name: string; status: string; job_id: number; job_name: string }>(
    `${cte} SELECT b.id, b.name, b.status, j.id AS job_id, j.name AS job_name
       FROM build_ids bi JOIN builds b ON b.id = bi.build_id JOIN jobs j ON j.id = b.job_id
      ORDER BY b.id LIMIT ${CAUSALITY_MAX_BUILDS + 1}`,
    [resourceId, digests],
  );
  if (b.rows.length > CAUSALITY_MAX_BUILDS) throw new CausalityTooLargeError('builds');
  const builds = new Map<number, CausalityBuild>();
  const jobs = new Map<number, CausalityJob>();
  for (const row of b.rows) {
    builds.set(row.id, { id: row.id, name: row.name, job_id: row.job_id, status: row.status });
    const job = jobs.get(row.job_id) ?? { id: row.job_id, name: row.job_name };
    (job.build_ids ??= []).push(row.id);
    jobs.set(row.job_id, job);
  }

  const e = await db.query<{ resource_id: number; version_id: number; resource_name: string; version: Record<string, string>; build_id: number; kind: 'input' | 'output' }>(
    `${cte}
     SELECT r.id AS resource_id, v.id AS version_id, r.name AS resource_name, v.version, io.build_id, io.kind
       FROM (SELECT i.build_id, i.resource_id, i.version_digest, 'input' AS kind FROM build_resource_config_version_inputs i JOIN build_ids bi ON bi.build_id = i.build_id
             UNION ALL
             SELECT o.build_id, o.resource_id, o.version_digest, 'output' AS kind FROM build_resource_config_version_outputs o JOIN build_ids bi ON bi.build_id = o.build_id) io
       JOIN resources r ON r.id = io.resource_id
       JOIN resource_config_versions v ON v.resource_config_scope_id = r.resource_config_scope_id
                                      AND io.version_digest IN (v.version_sha256, v.version_md5)
      ORDER BY io.build_id, r.id, v.id
      LIMIT ${CAUSALITY_MAX_EDGES + 1}`,
    [resourceId, digests],
  );
  if (e.rows.length > CAUSALITY_MAX_EDGES) throw new CausalityTooLargeError('versions');

  // Downstream, a version hangs under the build that output it and builds under the versions
  // they took in; upstream the reverse. Only resources reached through such a chain are shown
  // (the starting one is the root): a job's other inputs are not part of the version's story.
  const reached = new Set<number>([resourceId]);
  const resources = new Map<number, CausalityResource>();
  const versions = new Map<string, CausalityResourceVersion>();
  const addUnique = (list: number[] | undefined, id: number): number[] => (list?.includes(id) ? list : [...(list ?? []), id]);
  for (const row of e.rows) {
    const build = builds.get(row.build_id);
    if (!build) continue;
    const resource = resources.get(row.resource_id) ?? { id: row.resource_id, name: row.resource_name };
    resource.version_ids = addUnique(resource.version_ids, row.version_id);
    resources.set(row.resource_id, resource);
    const key = `${row.resource_id}/${row.version_id}`;
    const version = versions.get(key) ?? { id: row.version_id, resource_id: row.resource_id, version: row.version };
    versions.set(key, version);
    const buildIsChild = (row.kind === 'input') === (direction === 'downstream');
    if (buildIsChild) version.build_ids = addUnique(version.build_ids, build.id);
    else {
      build.resource_version_ids = addUnique(build.resource_version_ids, version.id);
      reached.add(row.resource_id);
    }
  }
  const dropped = new Set([...versions.values()].filter((v) => !reached.has(v.resource_id)).map((v) => v.id));
  for (const build of builds.values()) {
    // an emptied list is left out, as Go's omitempty leaves it out
    const kept = build.resource_version_ids?.filter((id) => !dropped.has(id)) ?? [];
    if (kept.length > 0) build.resource_version_ids = kept;
    else delete build.resource_version_ids;
  }
  // by id: Concourse's order is a Go map's (none); a stable one makes the answer comparable
  const byId = <T extends { id: number }>(xs: Iterable<T>): T[] => [...xs].sort((a, b) => a.id - b.id);
  return {
    jobs: byId(jobs.values()),
    builds: byId(builds.values()),
    resources: byId([...resources.values()].filter((r) => reached.has(r.id))),
    resource_versions: byId([...versions.values()].filter((v) => reached.has(v.resource_id))),
  };
}
