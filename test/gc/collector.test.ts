import { silentLogger } from '../../src/log.ts';
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile, access } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PostgresGcStore } from '../../src/db/gc.ts';
import { Collector } from '../../src/gc/collector.ts';
import { useTestDatabase } from '../support/db.ts';

const tdb = useTestDatabase();
let dir: string;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'jw-gc-'));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

const quiet = silentLogger;
const exists = (p: string) => access(p).then(() => true, () => false);

test('artifacts of finished builds go after the grace period, with their files; running builds keep theirs', async () => {
  const { db } = tdb;
  const build = async (completed: boolean, endedMinutesAgo: number) =>
    (
      await db.query<{ id: number }>(
        `INSERT INTO builds (name, team_id, status, completed, end_time) VALUES ('one-off', 1, $1, $2, now() - ($3::int * interval '1 minute')) RETURNING id`,
        [completed ? 'succeeded' : 'started', completed, endedMinutesAgo],
      )
    ).rows[0]!.id;
  const artifact = async (buildId: number | null, name: string, createdMinutesAgo = 0) => {
    const location = join(dir, `${name}.tgz`);
    await writeFile(location, 'x');
    await db.query(`INSERT INTO artifacts (name, build_id, location, created_at) VALUES ($1, $2, $3, now() - ($4::int * interval '1 minute'))`, [name, buildId, location, createdMinutesAgo]);
    return location;
  };
  const old = await artifact(await build(true, 120), 'old-output');
  const fresh = await artifact(await build(true, 1), 'fresh-output');
  const running = await artifact(await build(false, 0), 'running-input');
  const abandoned = await artifact(null, 'abandoned-upload', 120);
  const waiting = await artifact(null, 'new-upload', 1);

  const result = await new Collector(new PostgresGcStore(db), { logger: quiet }).collect();
  assert.equal(result.artifacts, 2);
  assert.deepEqual(
    await Promise.all([old, fresh, running, abandoned, waiting].map(exists)),
    [false, true, true, false, true],
  );
  const left = await db.query<{ name: string }>('SELECT name FROM artifacts ORDER BY name');
  assert.deepEqual(left.rows.map((r) => r.name), ['fresh-output', 'new-upload', 'running-input']);
});

test('expired tokens are removed', async () => {
  await tdb.db.query(`INSERT INTO access_tokens (token_sha256, username, expires_at) VALUES ('a', 'u', now() - interval '1 hour'), ('b', 'u', now() + interval '1 hour')`);
  const result = await new Collector(new PostgresGcStore(tdb.db), { logger: quiet }).collect();
  assert.equal(result.tokens, 1);
  assert.deepEqual((await tdb.db.query<{ token_sha256: string }>('SELECT token_sha256 FROM access_tokens')).rows, [{ token_sha256: 'b' }]);
});

test("a job's build_log_retention reaps the events of older builds; the builds stay, with a reap_time", async () => {
  const { db } = tdb;
  const { savePipeline } = await import('../../src/db/pipelines.ts');
  const { createManualBuild, saveBuildEvent, finishBuild, buildEvents } = await import('../../src/db/builds.ts');
  const { findJob } = await import('../../src/db/jobs.ts');
  const { buildEvent } = await import('../../src/model/build-events.ts');
  const config = {
    jobs: [
      { name: 'kept-three', build_log_retention: { builds: 3, minimum_succeeded_builds: 1 }, plan: [{ task: 't', config: { platform: 'linux', run: { path: 'true' } } }] },
      { name: 'keeps-all', plan: [{ task: 't', config: { platform: 'linux', run: { path: 'true' } } }] },
    ],
  };
  const saved = await savePipeline(db, { team: 'main', name: 'retention', config: config as never });
  const ids: Record<string, number[]> = { 'kept-three': [], 'keeps-all': [] };
  for (const jobName of Object.keys(ids)) {
    const job = await findJob(db, saved.pipelineId, jobName);
    // oldest first: succeeded, then four failures
    for (const status of ['succeeded', 'failed', 'failed', 'failed', 'failed'] as const) {
      const build = await createManualBuild(db, job!.id);
      await saveBuildEvent(db, build.id, buildEvent('log', { time: 1, origin: { id: 'x' }, payload: `log of ${build.id}\n` }));
      await finishBuild(db, build.id, status);
      ids[jobName]!.push(build.id);
    }
  }
  const result = await new Collector(new PostgresGcStore(db), { logger: quiet }).collect();
  const [s1, f2, f3, f4, f5] = ids['kept-three']!;
  // the newest three are f5, f4, f3; the one success (s1) is kept in place of f3
  assert.equal(result.buildLogs, 2);
  for (const id of [s1!, f4!, f5!]) assert.ok((await buildEvents(db, id)).length > 0, `build ${id} keeps its log`);
  for (const id of [f2!, f3!]) assert.equal((await buildEvents(db, id)).length, 0, `build ${id} lost its log`);
  const reaped = await db.query<{ id: number }>('SELECT id FROM builds WHERE reap_time IS NOT NULL ORDER BY id');
  assert.deepEqual(reaped.rows.map((r) => Number(r.id)), [f2, f3]);
  for (const id of ids['keeps-all']!) assert.ok((await buildEvents(db, id)).length > 0);
  // a second pass finds nothing more to do
  assert.equal((await new Collector(new PostgresGcStore(db), { logger: quiet }).collect()).buildLogs, 0);
});
