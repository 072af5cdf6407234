// What src/scheduler/pending-reasons.ts needs to say why a pending build does not start: the
// state of the inputs' resources now (versions, the latest check and its error), the passed jobs'
// successes, and the builds holding the job's max-in-flight or serial groups. Read-only.
import type { Queryable } from './database.ts';
import { LAST_CHECK } from './in-memory-checks.ts';
import type { Version } from '../model/version.ts';

export interface InputResourceState {
  resourceId: number;
  hasVersions: boolean;
  hasEnabledVersions: boolean;
  /** The latest check: the scope's, or the resource's own when newer (as the resource view). */
  checkBuildStatus: string | null;
  /** The last `error` event of that check build. */
  checkError: string | null;
  /** While a check runs: the error of the latest finished one, when it failed. */
  previousCheckError: string | null;
  /** The scope's last check, when no check build is recorded. */
  scopeChecked: boolean;
  scopeCheckSucceeded: boolean;
}

/** The check and version state of resources, by id. */
export async function inputResourceStates(db: Queryable, resourceIds: readonly number[]): Promise<Map<number, InputResourceState>> {
  const out = new Map<number, InputResourceState>();
  if (resourceIds.length === 0) return out;
  const r = await db.query<{
    id: number;
    has_versions: boolean;
    has_enabled: boolean;
    build_status: string | null;
    error: string | null;
    previous_error: string | null;
    scope_checked: boolean | null;
    scope_succeeded: boolean | null;
  }>(
    `SELECT r.id,
            EXISTS (SELECT 1 FROM resource_config_versions v WHERE v.resource_config_scope_id = r.resource_config_scope_id) AS has_versions,
            EXISTS (SELECT 1 FROM resource_config_versions v WHERE v.resource_config_scope_id = r.resource_config_scope_id
                       AND NOT EXISTS (SELECT 1 FROM resource_disabled_versions d
                                        WHERE d.resource_id = r.id AND d.version_digest IN (v.version_sha256, v.version_md5))) AS has_enabled,
            b.status AS build_status,
            (SELECT e.payload->>'message' FROM build_events e
              WHERE e.build_id = b.id AND e.type = 'error' ORDER BY e.event_id DESC LIMIT 1) AS error,
            CASE WHEN NOT b.completed THEN
              (SELECT CASE WHEN pb.status <> 'succeeded' THEN coalesce(e.payload->>'message', 'the check build ' || pb.status) END FROM builds pb
                 LEFT JOIN LATERAL (SELECT payload FROM build_events e WHERE e.build_id = pb.id AND e.type = 'error'
                                     ORDER BY e.event_id DESC LIMIT 1) e ON true
                WHERE (pb.resource_id = r.id OR pb.id = s.last_check_build_id) AND pb.completed AND pb.id < b.id
                  -- not one an in-memory check (no build row) succeeded after
                  AND NOT (coalesce(s.last_check_succeeded, false) AND coalesce(s.last_check_end_time > pb.end_time, false))
                ORDER BY pb.id DESC LIMIT 1)
            END AS previous_error,
            s.last_check_end_time IS NOT NULL AS scope_checked, s.last_check_succeeded AS scope_succeeded
       FROM resources r
       LEFT JOIN resource_config_scopes s ON s.id = r.resource_config_scope_id
       LEFT JOIN LATERAL (${LAST_CHECK}) b ON true
      WHERE r.id = ANY($1::int[])`,
    [[...resourceIds]],
  );
  for (const row of r.rows) {
    out.set(row.id, {
      resourceId: row.id,
      hasVersions: row.has_versions,
      hasEnabledVersions: row.has_enabled,
      checkBuildStatus: row.build_status,
      checkError: row.error,
      previousCheckError: row.previous_error,
      scopeChecked: row.scope_checked === true,
      scopeCheckSucceeded: row.scope_succeeded === true,
    });
  }
  return out;
}

/** Whether a version containing `pin` is in the resource's current scope (disabled or not), as the algorithm's find. */
export async function pinnedVersionExists(db: Queryable, resourceId: number, pin: Version): Promise<boolean> {
  const r = await db.query<{ found: boolean }>(
    `SELECT EXISTS (SELECT 1 FROM resource_config_versions v
        WHERE v.resource_config_scope_id = (SELECT resource_config_scope_id FROM resources WHERE id = $1)
          AND v.version @> $2::jsonb) AS found`,
    [resourceId, JSON.stringify(pin)],
  );
  return r.rows[0]?.found === true;
}

/** Jobs by id: name and whether some build of it succeeded. */
export async function jobSuccesses(db: Queryable, jobIds: readonly number[]): Promise<Map<number, { name: string; succeeded: boolean }>> {
  const out = new Map<number, { name: string; succeeded: boolean }>();
  if (jobIds.length === 0) return out;
  const r = await db.query<{ id: number; name: string; succeeded: boolean }>(
    `SELECT j.id, j.name, EXISTS (SELECT 1 FROM builds b WHERE b.job_id = j.id AND b.status = 'succeeded') AS succeeded
       FROM jobs j WHERE j.id = ANY($1::int[])`,
    [[...jobIds]],
  );
  for (const row of r.rows) out.set(row.id, { name: row.name, succeeded: row.succeeded });
  return out;
}

export interface SerialGroupState {
  /** Scheduled, unfinished builds of the jobs sharing a group with the job (its own included), oldest first. */
  running: { id: number; job: string; name: string }[];
  /** The pending build the scheduler takes first among those jobs (as scheduleBuild orders them). */
  firstPending: { id: number; job: string; name: string } | undefined;
}

/**
 * The builds in the job's max-in-flight groups: its serial groups, or the implicit one named after
 * the job; the same sets scheduleBuild (src/db/jobs.ts) counts, read without its locks.
 */
export async function serialGroupState(db: Queryable, jobId: number): Promise<SerialGroupState> {
  const members = `SELECT g.job_id FROM jobs_serial_groups g JOIN jobs gj ON gj.id = g.job_id
                    WHERE gj.pipeline_id = (SELECT pipeline_id FROM jobs WHERE id = $1)
                      AND g.serial_group IN (SELECT serial_group FROM jobs_serial_groups WHERE job_id = $1)
                   UNION SELECT $1`;
  const running = await db.query<{ id: number; job: string; name: string }>(
    `SELECT b.id, j.name AS job, b.name FROM builds b JOIN jobs j ON j.id = b.job_id
      WHERE b.job_id IN (${members}) AND b.scheduled AND NOT b.completed ORDER BY b.id`,
    [jobId],
  );
  const first = await db.query<{ id: number; job: string; name: string }>(
    `SELECT b.id, bj.name AS job, b.name FROM builds b JOIN jobs bj ON bj.id = b.job_id JOIN pipelines p ON p.id = bj.pipeline_id
      WHERE b.job_id IN (${members}) AND b.status = 'pending' AND NOT b.aborted
        AND bj.inputs_determined AND NOT bj.paused AND NOT p.paused
      ORDER BY coalesce(b.rerun_of, b.id) ASC, b.id ASC LIMIT 1`,
    [jobId],
  );
  return { running: running.rows, firstPending: first.rows[0] };
}
