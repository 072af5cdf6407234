// What an in-memory check (src/model/in-memory-check.ts, migration 0021) records: the resource's
// latest one (started, then how it ended), and a failed one as a completed check build with its
// events, as any failed check reads. The checker's port (src/checker/store.ts) reaches these.
import type { BuildEvent, BuildStatus } from '../model/build-events.ts';
import type { InMemoryCheck } from '../model/in-memory-check.ts';
import { publicPlan } from '../model/public-plan.ts';
import { saveBuildEvents, type BuildRecord } from './builds.ts';
import type { Queryable } from './database.ts';
import { pruneCheckBuilds } from './resources.ts';

/**
 * Starts the resource's in-memory check: an id from the builds' sequence, recorded on the
 * resource as started. Undefined when the check is no longer the one the scan queued — the
 * resource's config changed since (`config`, as the scan read it: the pipeline was set again), it
 * left its pipeline's config, or its pipeline was paused or archived — or when its newest check
 * failed less than `intervalMs` ago (a failed check waits its interval, as the checker's check
 * builds do): a failed check build newer than the resource's last in-memory check that ended
 * within the interval.
 */
export async function startInMemoryCheck(db: Queryable, resourceId: number, config: unknown, intervalMs: number): Promise<{ id: number; createTime: Date } | undefined> {
  const r = await db.query<{ id: number; start: Date }>(
    `UPDATE resources r SET in_memory_check_id = nextval(pg_get_serial_sequence('builds', 'id')), in_memory_check_status = 'started',
            in_memory_check_start = now(), in_memory_check_end = NULL
      WHERE r.id = $1 AND r.active AND r.config = $3::jsonb
        AND EXISTS (SELECT 1 FROM pipelines p WHERE p.id = r.pipeline_id AND NOT p.paused AND NOT p.archived)
        AND NOT EXISTS (SELECT 1 FROM (SELECT b.id, b.status, b.end_time FROM builds b WHERE b.resource_id = r.id AND b.completed ORDER BY b.id DESC LIMIT 1) f
                         WHERE f.status <> 'succeeded' AND f.id > coalesce(r.in_memory_check_id, 0)
                           AND f.end_time > now() - ($2::bigint * interval '1 millisecond'))
      RETURNING r.in_memory_check_id AS id, r.in_memory_check_start AS start`,
    [resourceId, intervalMs, JSON.stringify(config)],
  );
  const row = r.rows[0];
  return row ? { id: row.id, createTime: row.start } : undefined;
}

/**
 * How the resource's in-memory check `id` ended; `null`: it was handed to a check build, which is
 * its record (the resource's is cleared). Nothing changes when a newer check replaced it.
 */
export async function finishInMemoryCheck(db: Queryable, resourceId: number, id: number, status: BuildStatus | null): Promise<void> {
  await db.query(
    status === null
      ? `UPDATE resources SET in_memory_check_id = NULL, in_memory_check_status = NULL, in_memory_check_start = NULL, in_memory_check_end = NULL
          WHERE id = $1 AND in_memory_check_id = $2`
      : `UPDATE resources SET in_memory_check_status = $3, in_memory_check_end = now() WHERE id = $1 AND in_memory_check_id = $2`,
    status === null ? [resourceId, id] : [resourceId, id, status],
  );
}

/**
 * An in-memory check that did not succeed, kept as a completed check build of its id with its
 * events between `status` started and its end, in one transaction; the resource's record of it
 * cleared (the build is its record); periodic check builds of the resource beyond `keep` pruned.
 * The resource's scope is not due again before `intervalMs`: a check that failed before it
 * reached the scope (an undefined ((var))) set no next check time there, and the scan would
 * otherwise find the resource due every time (the failure's own guard in startInMemoryCheck
 * still answers, at a statement a scan).
 */
export async function recordInMemoryCheckBuild(
  db: Queryable,
  check: InMemoryCheck,
  status: BuildStatus,
  events: readonly BuildEvent[],
  { keep, intervalMs }: { keep: number; intervalMs: number | undefined },
): Promise<void> {
  await db.transaction(async (tx) => {
    const r = await tx.query<{ end_time: Date }>(
      `INSERT INTO builds (id, name, team_id, pipeline_id, resource_id, status, completed, manually_triggered, scheduled, inputs_ready,
                           plan, public_plan, schema, create_time, start_time, end_time)
       VALUES ($1, 'check', $2, $3, $4, $5, true, false, true, true, $6::jsonb, $7::jsonb, 'jetway.v1', $8, $8, now())
       RETURNING end_time`,
      [check.id, check.teamId, check.pipelineId, check.resourceId, status, JSON.stringify(check.plan), JSON.stringify(publicPlan(check.plan)), check.createTime],
    );
    const end = Math.floor(r.rows[0]!.end_time.getTime() / 1000);
    const statusEvent = (s: BuildStatus, time: number): BuildEvent => ({ event: 'status', version: '1.0', data: { status: s, time } });
    await saveBuildEvents(tx, check.id, [statusEvent('started', Math.floor(check.createTime.getTime() / 1000)), ...events, statusEvent(status, end)].map((event) => ({ event })));
    await finishInMemoryCheck(tx, check.resourceId, check.id, null);
    await pruneCheckBuilds(tx, { resourceId: check.resourceId }, keep);
    if (intervalMs !== undefined) {
      await tx.query(
        `UPDATE resource_config_scopes s SET next_check_time = now() + ($2::bigint * interval '1 millisecond')
          WHERE s.id = (SELECT resource_config_scope_id FROM resources WHERE id = $1)
            AND (s.next_check_time IS NULL OR s.next_check_time < now() + ($2::bigint * interval '1 millisecond'))`,
        [check.resourceId, intervalMs],
      );
    }
  });
}

/**
 * A resource's latest check (of `r`, its scope `s`): the newest of the scope's last check build,
 * the resource's own newest check build (one that failed before it reached a scope, an undefined
 * ((var)) in the source, is the resource's latest check too) and its in-memory check (migration
 * 0021: no build row). Columns: id, name, status, start_time, end_time, completed.
 */
export const LAST_CHECK = `SELECT * FROM (
    (SELECT cb.id, cb.name, cb.status, cb.start_time, cb.end_time, cb.completed FROM builds cb
      WHERE cb.id = ANY (ARRAY[s.last_check_build_id, (SELECT max(rb.id) FROM builds rb WHERE rb.resource_id = r.id)])
      ORDER BY cb.id DESC LIMIT 1)
    UNION ALL
    SELECT r.in_memory_check_id, 'check', r.in_memory_check_status, r.in_memory_check_start, r.in_memory_check_end, r.in_memory_check_status <> 'started'
     WHERE r.in_memory_check_id IS NOT NULL) lc
  ORDER BY lc.id DESC LIMIT 1`;

/**
 * The build an in-memory check is, as the API shows it (Concourse's inMemoryCheckBuildForApi):
 * the resource's latest in-memory check of that id; undefined when there is none (an older one
 * is forgotten, as its scope keeps only how the latest ended).
 */
export async function getInMemoryCheckBuild(db: Queryable, id: number): Promise<BuildRecord | undefined> {
  const r = await db.query<{
    resource_id: number;
    pipeline_id: number;
    pipeline_name: string;
    instance_vars: Record<string, unknown> | null;
    team_id: number;
    team_name: string;
    status: BuildStatus;
    start: Date;
    end: Date | null;
  }>(
    `SELECT r.id AS resource_id, p.id AS pipeline_id, p.name AS pipeline_name, p.instance_vars, t.id AS team_id, t.name AS team_name,
            r.in_memory_check_status AS status, r.in_memory_check_start AS start, r.in_memory_check_end AS "end"
       FROM resources r JOIN pipelines p ON p.id = r.pipeline_id JOIN teams t ON t.id = p.team_id
      WHERE r.in_memory_check_id = $1`,
    [id],
  );
  const row = r.rows[0];
  if (!row) return undefined;
  return {
    id,
    name: 'check',
    teamId: row.team_id,
    teamName: row.team_name,
    jobId: null,
    jobName: null,
    pipelineId: row.pipeline_id,
    pipelineName: row.pipeline_name,
    pipelineInstanceVars: row.instance_vars,
    resourceId: row.resource_id,
    resourceTypeId: null,
    status: row.status,
    manuallyTriggered: false,
    scheduled: true,
    inputsReady: true,
    rerunOf: null,
    rerunOfName: null,
    rerunNumber: 0,
    aborted: row.status === 'aborted',
    completed: row.status !== 'started',
    createTime: row.start,
    startTime: row.start,
    endTime: row.end,
    reapTime: null,
    createdBy: null,
    comment: '',
    containersCreated: {},
  };
}
