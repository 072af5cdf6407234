// The build and job stores against the real database: manual trigger, rerun, lifecycle,
// events, outputs, pagination.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ConflictError, NotFoundError } from '../../src/db/errors.ts';
import {
  abortBuild,
  buildEvents,
  createManualBuild,
  createOneOffBuild,
  createRerun,
  finishBuild,
  getBuild,
  getBuildPlans,
  listJobBuilds,
  saveBuildEvent,
  saveBuildEvents,
  saveBuildOutput,
  startBuild,
} from '../../src/db/builds.ts';
import { getJob, listJobs, pauseJob, scheduleBuild, unpauseJob } from '../../src/db/jobs.ts';
import { maxInFlightDecision } from '../../src/scheduler/decisions.ts';
import type { BuildEvent } from '../../src/model/build-events.ts';
import { useTestDatabase } from '../support/db.ts';
import { cfg, check, digestOf, must, settle, setupPipeline } from '../support/sched-support.ts';

const t = useTestDatabase();

const simple = (job: Record<string, unknown> = {}) =>
  cfg({
    resources: [
      { name: 'repo', type: 'mock', source: {} },
      { name: 'out', type: 'mock', source: {} },
    ],
    jobs: [
      { name: 'j', plan: [{ get: 'repo', trigger: true }, { put: 'out' }], ...job },
      { name: 'down', plan: [{ get: 'repo', passed: ['j'] }] },
    ],
  });

const log = (n: number): BuildEvent => ({
  event: 'log',
  version: '5.1',
  data: { time: 0, origin: { id: 'x', source: 'stdout' }, payload: `line ${n}` },
});

test('manual trigger: pending, manually triggered, named by the job build sequence; refused when disabled', async () => {
  const { db } = t;
  const f = await setupPipeline(db, simple());
  const j = must(f.jobs, 'j');
  const b1 = await createManualBuild(db, j, { createdBy: 'alice' });
  const b2 = await createManualBuild(db, j);
  assert.equal(b1.name, '1');
  assert.equal(b2.name, '2');
  assert.equal(b1.status, 'pending');
  assert.equal(b1.manuallyTriggered, true);
  assert.equal(b1.createdBy, 'alice');
  assert.equal(b1.jobName, 'j');
  assert.equal((await getJob(db, j))?.nextBuildId, b1.id);

  assert.equal((await db.query<{ s: string }>('SELECT schedule_requested > last_scheduled AS s FROM jobs WHERE id = $1', [j])).rows[0]?.s, true, 'scheduling requested');

  // refused: nothing written (no build, the job's sequence unchanged)
  const refusedWith = async (jobId: number, match: (err: unknown) => boolean): Promise<void> => {
    const before = await db.query('SELECT build_number_seq FROM jobs WHERE id = $1', [jobId]);
    const builds = await db.query('SELECT count(*)::int AS n FROM builds WHERE job_id = $1', [jobId]);
    await assert.rejects(createManualBuild(db, jobId), match);
    assert.deepEqual((await db.query('SELECT build_number_seq FROM jobs WHERE id = $1', [jobId])).rows, before.rows);
    assert.deepEqual((await db.query('SELECT count(*)::int AS n FROM builds WHERE job_id = $1', [jobId])).rows, builds.rows);
  };
  const g = await setupPipeline(db, simple({ disable_manual_trigger: true }));
  await refusedWith(must(g.jobs, 'j'), (err) => err instanceof ConflictError && err.message === 'job j has manual triggering disabled');
  const h = await setupPipeline(db, simple());
  await db.query('UPDATE pipelines SET archived = true WHERE id = $1', [h.pipelineId]);
  await refusedWith(must(h.jobs, 'j'), (err) => err instanceof ConflictError && err.message === 'job j belongs to an archived pipeline');
  await assert.rejects(createManualBuild(db, 987_654), (err: unknown) => err instanceof NotFoundError && err.message === 'job 987654 not found');
});

test('rerun: named <name>.<n>, rerun_of the original (also when rerunning a rerun), copies the inputs; refused when disabled', async () => {
  const { db } = t;
  const f = await setupPipeline(db, simple());
  const j = must(f.jobs, 'j');
  await check(db, f, 'repo', 'r1');
  await settle(db, f);
  await check(db, f, 'repo', 'r2');
  await settle(db, f);
  const [first] = (await listJobBuilds(db, j)).builds.slice(-1);
  assert.ok(first);
  assert.equal(first.name, '1');

  const rerun1 = await createRerun(db, first.id);
  assert.equal(rerun1.name, '1.1');
  assert.equal(rerun1.rerunOf, first.id);
  assert.equal(rerun1.rerunOfName, '1');
  const rerun2 = await createRerun(db, rerun1.id);
  assert.equal(rerun2.name, '1.2');
  assert.equal(rerun2.rerunOf, first.id, "a rerun of a rerun is a rerun of the original");
  assert.equal(rerun2.rerunNumber, 2);

  // the starter gives the rerun the original's inputs (r1), not the latest (r2)
  await settle(db, f);
  const inputs = await db.query<{ version_digest: string; first_occurrence: boolean }>(
    'SELECT version_digest, first_occurrence FROM build_resource_config_version_inputs WHERE build_id = $1',
    [rerun1.id],
  );
  assert.deepEqual(inputs.rows, [{ version_digest: digestOf('r1'), first_occurrence: false }]);
  assert.equal((await getBuild(db, rerun1.id))?.status, 'succeeded');

  // a pending build never determined its inputs: nothing to rerun
  await pauseJob(db, j);
  const pending = await createManualBuild(db, j);
  await assert.rejects(createRerun(db, pending.id), ConflictError);
  await unpauseJob(db, j);

  const g = await setupPipeline(db, simple({ disable_reruns: true }));
  await check(db, g, 'repo', 'x');
  await settle(db, g);
  const b = (await listJobBuilds(db, must(g.jobs, 'j'))).builds[0]!;
  await assert.rejects(createRerun(db, b.id), (err: unknown) => err instanceof ConflictError && /rerun/.test(err.message));
});

test('finishBuild: successful_build_outputs lists outputs before inputs, downstream scheduling requested, job pointers', async () => {
  const { db } = t;
  const f = await setupPipeline(db, simple());
  const j = must(f.jobs, 'j');
  const down = must(f.jobs, 'down');
  const repo = must(f.resources, 'repo');
  const out = must(f.resources, 'out');
  await check(db, f, 'repo', 'a1');
  await check(db, f, 'out', 'o0');
  await f.scheduler.tick();
  const [buildId] = f.tracker.take();
  assert.ok(buildId);
  assert.equal((await getBuild(db, buildId))?.status, 'started');
  const plans = await getBuildPlans(db, buildId);
  assert.ok(plans?.plan && plans.publicPlan);

  // the put produced o1 of `out`, and (say) the build also used a version of out as an input
  await saveBuildOutput(db, buildId, out, { v: 'o1' }, 'out');
  await db.query(
    `INSERT INTO build_resource_config_version_inputs (build_id, resource_id, version_digest, name) VALUES ($1, $2, $3, 'extra')`,
    [buildId, out, digestOf('o0')],
  );
  await db.query('UPDATE jobs SET last_scheduled = schedule_requested WHERE id = $1', [down]);

  assert.equal(await finishBuild(db, buildId, 'succeeded'), true);
  assert.equal(await finishBuild(db, buildId, 'failed'), false, 'finishing twice does nothing');
  const sbo = await db.query<{ outputs: Record<string, string[]> }>('SELECT outputs FROM successful_build_outputs WHERE build_id = $1', [buildId]);
  assert.deepEqual(sbo.rows[0]?.outputs, { [String(out)]: [digestOf('o1'), digestOf('o0')], [String(repo)]: [digestOf('a1')] });
  const due = await db.query('SELECT 1 FROM jobs WHERE id = $1 AND schedule_requested > last_scheduled', [down]);
  assert.equal(due.rowCount, 1, 'downstream job scheduling requested');
  const job = await getJob(db, j);
  assert.equal(job?.latestCompletedBuildId, buildId);
  assert.equal(job?.transitionBuildId, buildId);
  assert.equal(job?.nextBuildId, null);
  const events = await buildEvents(db, buildId);
  assert.deepEqual(
    events.filter((e) => e.event.event === 'status').map((e) => (e.event.data as { status: string }).status),
    ['started', 'succeeded'],
  );

  // a failed build: no successful outputs; transition moves
  const b2 = await createManualBuild(db, j);
  await db.query(`UPDATE builds SET status = 'started', scheduled = true WHERE id = $1`, [b2.id]);
  await finishBuild(db, b2.id, 'failed');
  assert.equal((await db.query('SELECT 1 FROM successful_build_outputs WHERE build_id = $1', [b2.id])).rowCount, 0);
  const after = await getJob(db, j);
  assert.equal(after?.transitionBuildId, b2.id);
  const b3 = await createManualBuild(db, j);
  await finishBuild(db, b3.id, 'failed');
  assert.equal((await getJob(db, j))?.transitionBuildId, b2.id, 'same status: the transition stays');
  const [summary] = (await listJobs(db, f.pipelineId)).filter((x) => x.id === j);
  assert.equal(summary?.finishedBuild?.id, b3.id);
});

test('build events: per-build ids in order, never interleaved wrongly under concurrent writers', async () => {
  const { db } = t;
  const b = await createOneOffBuild(db, 1, { id: '1', do: [] });
  const writers = 8;
  const perWriter = 25;
  await Promise.all(
    Array.from({ length: writers }, async (_, w) => {
      for (let i = 0; i < perWriter; i++) await saveBuildEvent(db, b.id, log(w * 1000 + i));
    }),
  );
  const events = await buildEvents(db, b.id);
  // event 0 is `status: started` of the one-off build
  assert.equal(events.length, writers * perWriter + 1);
  assert.deepEqual(
    events.map((e) => e.eventId),
    events.map((_, i) => i),
  );
  for (let w = 0; w < writers; w++) {
    const mine = events
      .map((e) => (e.event.event === 'log' ? Number(e.event.data.payload.split(' ')[1]) : -1))
      .filter((n) => n >= w * 1000 && n < (w + 1) * 1000);
    assert.deepEqual(
      mine,
      Array.from({ length: perWriter }, (_, i) => w * 1000 + i),
      `writer ${w}'s events in its order`,
    );
  }
  assert.equal((await buildEvents(db, b.id, 190)).length, writers * perWriter + 1 - 190);
});

test('build events in batches (one statement each): ids in order across concurrent batch and single writers', async () => {
  const { db } = t;
  const b = await createOneOffBuild(db, 1, { id: '1', do: [] });
  const writers = 6;
  await Promise.all(
    Array.from({ length: writers }, async (_, w) => {
      for (let k = 0; k < 5; k++) {
        // even writers send batches of 10, odd ones single events: the two paths share the lock
        if (w % 2 === 0) await saveBuildEvents(db, b.id, Array.from({ length: 10 }, (_, i) => ({ event: log(w * 1000 + k * 10 + i) })));
        else for (let i = 0; i < 10; i++) await saveBuildEvent(db, b.id, log(w * 1000 + k * 10 + i));
      }
    }),
  );
  const events = await buildEvents(db, b.id);
  assert.equal(events.length, writers * 50 + 1);
  assert.deepEqual(events.map((e) => e.eventId), events.map((_, i) => i), 'no gap, no collision');
  for (let w = 0; w < writers; w++) {
    const mine = events.map((e) => (e.event.event === 'log' ? Number(e.event.data.payload.split(' ')[1]) : -1)).filter((n) => n >= w * 1000 && n < (w + 1) * 1000);
    assert.deepEqual(mine, Array.from({ length: 50 }, (_, i) => w * 1000 + i), `writer ${w}'s events in its order`);
  }
});

test('build events in a batch: a writer key saved already returns its id and is not saved twice; the ids come back in order', async () => {
  const { db } = t;
  const b = await createOneOffBuild(db, 1, { id: '1', do: [] });
  const first = await saveBuildEvents(db, b.id, [
    { event: log(1), writerKey: 'w:0' },
    { event: log(2), writerKey: 'w:1' },
  ]);
  assert.deepEqual(first, [1, 2]);
  // the same batch again (its commit went through unseen), with one more event
  const again = await saveBuildEvents(db, b.id, [
    { event: log(1), writerKey: 'w:0' },
    { event: log(2), writerKey: 'w:1' },
    { event: log(3), writerKey: 'w:2' },
  ]);
  assert.deepEqual(again, [1, 2, 3]);
  const events = await buildEvents(db, b.id);
  assert.deepEqual(events.map((e) => (e.event.event === 'log' ? e.event.data.payload : e.event.event)), ['status', 'line 1', 'line 2', 'line 3']);
});

test('abort: a pending build is finished aborted by the starter; force finishes directly; startBuild refuses aborted builds', async () => {
  const { db } = t;
  const f = await setupPipeline(db, simple());
  const j = must(f.jobs, 'j');
  await pauseJob(db, j);
  const p = await createManualBuild(db, j);
  const aborted = await abortBuild(db, p.id);
  assert.equal(aborted.build.aborted, true);
  assert.equal(aborted.build.status, 'pending');
  assert.equal(await startBuild(db, p.id, { id: '1', do: [] }), false);
  await f.scheduler.tick();
  assert.equal((await getBuild(db, p.id))?.status, 'aborted');

  const q = await createManualBuild(db, j);
  const forced = await abortBuild(db, q.id, { force: true });
  assert.equal(forced.finished, true);
  assert.equal(forced.build.status, 'aborted');
});

test('job builds are listed newest first with from/to/limit pages', async () => {
  const { db } = t;
  const f = await setupPipeline(db, simple());
  const j = must(f.jobs, 'j');
  await pauseJob(db, j);
  const ids: number[] = [];
  for (let i = 0; i < 7; i++) ids.push((await createManualBuild(db, j)).id);
  const first = await listJobBuilds(db, j, { limit: 3 });
  assert.deepEqual(
    first.builds.map((b) => b.name),
    ['7', '6', '5'],
  );
  assert.equal(first.previous, undefined);
  assert.deepEqual(first.next, { to: ids[4]! - 1, limit: 3 });
  const second = await listJobBuilds(db, j, first.next);
  assert.deepEqual(
    second.builds.map((b) => b.name),
    ['4', '3', '2'],
  );
  assert.deepEqual(second.previous, { from: ids[4]!, limit: 3 });
  const back = await listJobBuilds(db, j, second.previous);
  assert.deepEqual(
    back.builds.map((b) => b.name),
    ['7', '6', '5'],
  );
  const last = await listJobBuilds(db, j, second.next);
  assert.deepEqual(
    last.builds.map((b) => b.name),
    ['1'],
  );
  assert.equal(last.next, undefined);
});

test('ScheduleBuild of a job without max_in_flight: one statement; scheduled, paused, already scheduled, missing; a stale max_in_flight_reached cleared', async () => {
  const { db } = t;
  const f = await setupPipeline(db, simple());
  const j = must(f.jobs, 'j');
  const b = await createManualBuild(db, j);
  await db.query('UPDATE jobs SET max_in_flight_reached = true WHERE id = $1', [j]); // left from when it was serial
  let statements = 0;
  const counted = { ...db, query: (text: string, values?: readonly unknown[]) => (statements++, db.query(text, values)) } as typeof db;
  assert.deepEqual(await scheduleBuild(counted, j, b.id, maxInFlightDecision), { scheduled: true, paused: false, maxInFlightReached: false });
  assert.equal(statements, 1);
  assert.equal((await getBuild(db, b.id))?.scheduled, true);
  assert.equal((await getJob(db, j))?.maxInFlightReached, false);
  assert.deepEqual(await scheduleBuild(db, j, b.id, maxInFlightDecision), { scheduled: true, paused: false, maxInFlightReached: false }, 'already scheduled');

  const c = await createManualBuild(db, j);
  await pauseJob(db, j);
  assert.deepEqual(await scheduleBuild(db, j, c.id, maxInFlightDecision), { scheduled: false, paused: true, maxInFlightReached: false });
  await unpauseJob(db, j);
  await db.query('UPDATE pipelines SET paused = true WHERE id = $1', [f.pipelineId]);
  assert.deepEqual(await scheduleBuild(db, j, c.id, maxInFlightDecision), { scheduled: false, paused: true, maxInFlightReached: false });
  assert.equal((await getBuild(db, c.id))?.scheduled, false, 'a paused job schedules nothing');
  await assert.rejects(scheduleBuild(db, 987_654, c.id, maxInFlightDecision), NotFoundError);
});
