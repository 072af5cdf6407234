// Fixtures for the scheduler and checker tests: a pipeline saved through savePipeline, scopes
// for its resources, simulated checks (saveVersions), a recording build tracker and check
// requester, and a driver that runs the scheduler tick by tick.
import type { Logger } from '../../src/log.ts';
import type { PipelineConfig } from '../../src/config/index.ts';
import { finishBuild, getBuild, type BuildStatus } from '../../src/db/builds.ts';
import type { Database } from '../../src/db/database.ts';
import { savePipeline, unpausePipeline } from '../../src/db/pipelines.ts';
import { findOrCreateResourceConfig, findOrCreateScope, saveVersions, setResourceScope } from '../../src/db/versions.ts';
import { versionDigest } from '../../src/model/version.ts';
import type { Version } from '../../src/model/version.ts';
import type { BuildTracker, CheckRequest, CheckRequester } from '../../src/scheduler/interfaces.ts';
import { Scheduler } from '../../src/scheduler/scheduler.ts';

export const cfg = (c: unknown): PipelineConfig => c as PipelineConfig;

export class RecordingTracker implements BuildTracker {
  readonly tracked: number[] = [];
  private cursor = 0;
  track(buildId: number): void {
    this.tracked.push(buildId);
  }
  /** Builds tracked since the last call. */
  take(): number[] {
    const out = this.tracked.slice(this.cursor);
    this.cursor = this.tracked.length;
    return out;
  }
}

/**
 * Records the checks the scheduler asks for. With `auto` (the default) it also "runs" them at
 * once, finding nothing new: the scope's check end time becomes now and its next check is in
 * an hour.
 */
export class RecordingChecks implements CheckRequester {
  readonly requests: CheckRequest[] = [];
  auto = true;
  constructor(private readonly db: Database) {}
  async requestChecks(requests: readonly CheckRequest[]): Promise<void> {
    this.requests.push(...requests);
    if (!this.auto) return;
    for (const r of requests) {
      await this.db.query(
        `UPDATE resource_config_scopes SET last_check_end_time = now(), last_check_succeeded = true,
                next_check_time = now() + interval '1 hour'
          WHERE id = (SELECT resource_config_scope_id FROM resources WHERE id = $1)`,
        [r.resourceId],
      );
    }
  }
}

export interface Fixture {
  pipelineId: number;
  jobs: Map<string, number>;
  resources: Map<string, number>;
  scopes: Map<string, number>;
  tracker: RecordingTracker;
  checks: RecordingChecks;
  scheduler: Scheduler;
}

let counter = 0;

const log =
  (level: string) =>
  (obj: object, msg?: string): void => {
    // errors are logged as Error objects, whose fields JSON.stringify skips
    const text = JSON.stringify(obj, (_key, value: unknown) => (value instanceof Error ? (value.stack ?? value.message) : value));
    if (process.env.JETWAY_TEST_DEBUG || level === 'error') console.error(level, msg, text);
  };
/** Errors always shown (a failing scheduler must not be silent in tests); the rest with JETWAY_TEST_DEBUG=1. */
export const testLogger: Logger = { debug: log('debug'), info: log('info'), warn: log('warn'), error: log('error'), child: () => testLogger };


/**
 * Saves and unpauses a pipeline, gives each resource a scope (as a check would), with
 * next_check_time in the future so non-trigger inputs count as recently checked.
 */
export async function setupPipeline(db: Database, config: PipelineConfig, opts: { scopes?: boolean } = {}): Promise<Fixture> {
  const name = `p${++counter}-${Math.random().toString(36).slice(2, 8)}`;
  const saved = await savePipeline(db, { team: 'main', name, config });
  await unpausePipeline(db, { team: 'main', name });
  // tests of a file share the database and run one after another: earlier pipelines rest
  await db.query('UPDATE pipelines SET paused = true WHERE id <> $1', [saved.pipelineId]);
  const jobs = new Map<string, number>();
  for (const row of (await db.query<{ id: number; name: string }>('SELECT id, name FROM jobs WHERE pipeline_id = $1', [saved.pipelineId]))
    .rows) {
    jobs.set(row.name, row.id);
  }
  const resources = new Map<string, number>();
  const scopes = new Map<string, number>();
  for (const row of (
    await db.query<{ id: number; name: string }>('SELECT id, name FROM resources WHERE pipeline_id = $1', [saved.pipelineId])
  ).rows) {
    resources.set(row.name, row.id);
    if (opts.scopes === false) continue;
    const rc = await findOrCreateResourceConfig(db, { baseType: 'mock' }, { pipeline: name, resource: row.name });
    const scope = await findOrCreateScope(db, rc.id, row.id);
    await setResourceScope(db, row.id, scope);
    await db.query(
      `UPDATE resource_config_scopes SET last_check_end_time = now(), last_check_succeeded = true,
              next_check_time = now() + interval '1 hour' WHERE id = $1`,
      [scope.id],
    );
    scopes.set(row.name, scope.id);
  }
  const tracker = new RecordingTracker();
  const checks = new RecordingChecks(db);
  const scheduler = new Scheduler(db, { tracker, checks, logger: testLogger });
  return { pipelineId: saved.pipelineId, jobs, resources, scopes, tracker, checks, scheduler };
}

export function must<K, V>(m: Map<K, V>, k: K): V {
  const v = m.get(k);
  if (v === undefined) throw new Error(`missing ${String(k)}`);
  return v;
}

/** A simulated check finding versions (oldest first). */
export async function check(db: Database, f: Fixture, resource: string, ...versions: string[]): Promise<void> {
  await saveVersions(
    db,
    must(f.scopes, resource),
    versions.map((v) => ({ version: { v } })),
  );
}

export const ver = (v: string): Version => ({ v });
export const digestOf = (v: string): string => versionDigest({ v });

/** The input versions of a build: name → `v`. */
export async function inputsOf(db: Database, buildId: number): Promise<Record<string, string>> {
  const r = await db.query<{ name: string; version: Version }>(
    `SELECT i.name, v.version FROM build_resource_config_version_inputs i
       JOIN resources r ON r.id = i.resource_id
       JOIN resource_config_versions v ON v.resource_config_scope_id = r.resource_config_scope_id AND v.version_sha256 = i.version_digest
      WHERE i.build_id = $1 ORDER BY i.name`,
    [buildId],
  );
  return Object.fromEntries(r.rows.map((row) => [row.name, row.version.v ?? '?']));
}

export async function jobBuilds(db: Database, jobId: number): Promise<{ id: number; name: string; status: BuildStatus }[]> {
  const r = await db.query<{ id: number; name: string; status: BuildStatus }>(
    'SELECT id, name, status FROM builds WHERE job_id = $1 ORDER BY id',
    [jobId],
  );
  return r.rows;
}

export async function statusOf(db: Database, buildId: number): Promise<BuildStatus | undefined> {
  return (await getBuild(db, buildId))?.status;
}

/**
 * Drives the scheduler until nothing is due: each round runs one tick, then "runs" every build
 * started by that tick through `run` (which records outputs and returns the final status) and
 * finishes it. Returns the number of rounds.
 */
export async function settle(
  db: Database,
  f: Fixture,
  run: (buildId: number) => Promise<BuildStatus> = async () => 'succeeded',
  maxRounds = 50,
): Promise<number> {
  let last: unknown;
  for (let round = 1; round <= maxRounds; round++) {
    // other tests' pipelines share the database: only this fixture's jobs count
    const mine = new Set(f.jobs.values());
    const results = (await f.scheduler.tick()).filter((r) => mine.has(r.jobId));
    last = results;
    const started = f.tracker.take();
    for (const id of started) await finishBuild(db, id, await run(id));
    if (results.length === 0 && started.length === 0) return round;
  }
  throw new Error(`the pipeline did not settle in ${maxRounds} rounds: ${JSON.stringify(last)}`);
}
