// Schedule(job) and the build starter against the real database.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { adoptInputsAndPipes, buildEvents, buildInputs, createManualBuild, finishBuild, getBuild } from '../../src/db/builds.ts';
import { getJob, jobsToSchedule, pauseJob, toAlgorithmInputs, unpauseJob } from '../../src/db/jobs.ts';
import { PostgresVersionsStore } from '../../src/db/algorithm-store.ts';
import { computeInputs } from '../../src/scheduler/algorithm/index.ts';
import { tryStartPendingBuildsForJob } from '../../src/scheduler/build-starter.ts';
import { ConflictError } from '../../src/db/errors.ts';
import { archivePipeline, getPipelineById, pausePipeline, savePipeline, unpausePipeline } from '../../src/db/pipelines.ts';
import { buildPreparation } from '../../src/scheduler/preparation.ts';
import { useTestDatabase } from '../support/db.ts';
import { cfg, check, digestOf, inputsOf, jobBuilds, must, settle, setupPipeline, testLogger } from '../support/sched-support.ts';

const t = useTestDatabase();

const task = { task: 't', config: { platform: 'linux', run: { path: 'true' } } };

test('trigger with first occurrence: a version triggers once; a version used before never triggers again', async () => {
  const { db } = t;
  const f = await setupPipeline(
    db,
    cfg({ resources: [{ name: 'repo', type: 'mock', source: {} }], jobs: [{ name: 'j', plan: [{ get: 'repo', trigger: true }, task] }] }),
  );
  const j = must(f.jobs, 'j');
  await check(db, f, 'repo', 'a');
  await settle(db, f);
  await settle(db, f);
  assert.equal((await jobBuilds(db, j)).length, 1);
  assert.equal((await getJob(db, j))?.hasNewInputs, false);

  await check(db, f, 'repo', 'b');
  await settle(db, f);
  assert.equal((await jobBuilds(db, j)).length, 2);

  // disabling b makes a the latest again: it was used before, so no build
  const bId = (
    await db.query<{ id: number }>(`SELECT id FROM resource_config_versions WHERE resource_config_scope_id = $1 AND version->>'v' = 'b'`, [
      must(f.scopes, 'repo'),
    ])
  ).rows[0]!.id;
  await db.query(
    `INSERT INTO resource_disabled_versions (resource_id, version_digest)
     SELECT $1, version_sha256 FROM resource_config_versions WHERE id = $2`,
    [must(f.resources, 'repo'), bId],
  );
  await db.query('UPDATE jobs SET schedule_requested = now() WHERE id = $1', [j]);
  await settle(db, f);
  assert.equal((await jobBuilds(db, j)).length, 2);
});

test('a non-trigger input does not create builds, but sets has_new_inputs', async () => {
  const { db } = t;
  const f = await setupPipeline(
    db,
    cfg({ resources: [{ name: 'repo', type: 'mock', source: {} }], jobs: [{ name: 'j', plan: [{ get: 'repo' }, task] }] }),
  );
  await check(db, f, 'repo', 'a');
  await settle(db, f);
  assert.equal((await jobBuilds(db, must(f.jobs, 'j'))).length, 0);
  assert.equal((await getJob(db, must(f.jobs, 'j')))?.hasNewInputs, true);
});

test('serial: a second build waits while one runs; pending builds are not duplicated', async () => {
  const { db } = t;
  const f = await setupPipeline(
    db,
    cfg({
      resources: [{ name: 'repo', type: 'mock', source: {} }],
      jobs: [{ name: 'j', serial: true, plan: [{ get: 'repo', trigger: true }, task] }],
    }),
  );
  const j = must(f.jobs, 'j');
  await check(db, f, 'repo', 'a');
  await f.scheduler.tick();
  const [first] = f.tracker.take();
  assert.ok(first);
  await check(db, f, 'repo', 'b');
  let results = await f.scheduler.tick();
  assert.deepEqual(results[0]?.outcomes.at(-1), { build: results[0]?.outcomes.at(-1)?.build, outcome: 'not-scheduled', reason: 'max-in-flight' });
  assert.equal(results[0]?.needsRetry, true);
  await check(db, f, 'repo', 'c');
  results = await f.scheduler.tick();
  assert.equal(f.tracker.take().length, 0);
  const builds = await jobBuilds(db, j);
  assert.deepEqual(
    builds.map((b) => b.status),
    ['started', 'pending'],
    'one pending build, however many new versions',
  );
  assert.equal((await getJob(db, j))?.maxInFlightReached, true);
  const prep = await buildPreparation(db, builds[1]!.id);
  assert.equal(prep.max_running_builds, 'blocking');

  // the running build finishes: the pending one starts, with the latest version
  await finishBuild(db, first, 'succeeded');
  await f.scheduler.tick();
  const [second] = f.tracker.take();
  assert.equal(second, builds[1]!.id);
  assert.deepEqual(await inputsOf(db, second), { repo: 'c' });
  assert.equal((await getJob(db, j))?.maxInFlightReached, false);
});

test('max_in_flight: 2 runs two at a time', async () => {
  const { db } = t;
  const f = await setupPipeline(
    db,
    cfg({
      resources: [{ name: 'repo', type: 'mock', source: {} }],
      jobs: [{ name: 'j', max_in_flight: 2, plan: [{ get: 'repo', trigger: true }, task] }],
    }),
  );
  const j = must(f.jobs, 'j');
  await check(db, f, 'repo', 'a');
  await f.scheduler.tick();
  await check(db, f, 'repo', 'b');
  await f.scheduler.tick();
  await check(db, f, 'repo', 'c');
  await f.scheduler.tick();
  assert.equal(f.tracker.take().length, 2);
  assert.deepEqual(
    (await jobBuilds(db, j)).map((b) => b.status),
    ['started', 'started', 'pending'],
  );
});

test('serial_groups: builds of jobs sharing a group run one at a time, the oldest pending across the group first', async () => {
  const { db } = t;
  const f = await setupPipeline(
    db,
    cfg({
      resources: [
        { name: 'ra', type: 'mock', source: {} },
        { name: 'rb', type: 'mock', source: {} },
      ],
      jobs: [
        { name: 'a', serial_groups: ['g'], plan: [{ get: 'ra', trigger: true }, task] },
        { name: 'b', serial_groups: ['g', 'other'], plan: [{ get: 'rb', trigger: true }, task] },
      ],
    }),
  );
  const a = must(f.jobs, 'a');
  const b = must(f.jobs, 'b');
  await check(db, f, 'ra', 'a1');
  await f.scheduler.tick();
  const [a1] = f.tracker.take();
  assert.ok(a1);
  // b gets a pending build, then a gets another one: b's is older
  await check(db, f, 'rb', 'b1');
  await f.scheduler.tick();
  await check(db, f, 'ra', 'a2');
  await f.scheduler.tick();
  assert.equal(f.tracker.take().length, 0, 'the group is busy');
  const bPending = (await jobBuilds(db, b))[0]!;
  const aPending = (await jobBuilds(db, a))[1]!;
  assert.ok(bPending.id < aPending.id);
  const prep = await buildPreparation(db, bPending.id);
  assert.equal(prep.max_running_builds, 'blocking');

  await finishBuild(db, a1, 'succeeded');
  await f.scheduler.tick();
  assert.deepEqual(f.tracker.take(), [bPending.id], "b's older pending build goes first, a's waits");
  assert.equal(await getBuild(db, aPending.id).then((x) => x?.status), 'pending');
  await finishBuild(db, bPending.id, 'succeeded');
  await f.scheduler.tick();
  assert.deepEqual(f.tracker.take(), [aPending.id]);
});

test('paused job and paused pipeline: pending builds wait; unpausing starts them', async () => {
  const { db } = t;
  const f = await setupPipeline(
    db,
    cfg({ resources: [{ name: 'repo', type: 'mock', source: {} }], jobs: [{ name: 'j', plan: [{ get: 'repo', trigger: true }, task] }] }),
  );
  const j = must(f.jobs, 'j');
  await pauseJob(db, j);
  await check(db, f, 'repo', 'a');
  await settle(db, f);
  assert.equal((await jobBuilds(db, j)).length, 0, 'a paused job resolves no inputs and creates no builds');
  const manual = await createManualBuild(db, j);
  await settle(db, f);
  assert.equal(await getBuild(db, manual.id).then((b) => b?.status), 'pending');
  assert.equal((await buildPreparation(db, manual.id)).paused_job, 'blocking');

  // a paused pipeline
  const name = (await db.query<{ name: string }>('SELECT name FROM pipelines WHERE id = $1', [f.pipelineId])).rows[0]!.name;
  await pausePipeline(db, { team: 'main', name });
  await unpauseJob(db, j);
  await settle(db, f);
  assert.equal(await getBuild(db, manual.id).then((b) => b?.status), 'pending');
  assert.equal((await buildPreparation(db, manual.id)).paused_pipeline, 'blocking');

  await unpausePipeline(db, { team: 'main', name });
  await settle(db, f);
  assert.equal(await getBuild(db, manual.id).then((b) => b?.status), 'succeeded');
});

test('an archived pipeline: no inputs resolved, no builds created, pending builds aborted; set again, it is paused until unpaused', async () => {
  const { db } = t;
  const config = cfg({ resources: [{ name: 'repo', type: 'mock', source: {} }], jobs: [{ name: 'j', plan: [{ get: 'repo', trigger: true }, task] }] });
  const f = await setupPipeline(db, config);
  const j = must(f.jobs, 'j');
  const ref = { team: 'main', name: (await getPipelineById(db, f.pipelineId))!.name };
  const manual = await createManualBuild(db, j);
  await archivePipeline(db, ref);
  // archived but not paused (paused pipelines are skipped too): the archived rule alone decides
  await db.query('UPDATE pipelines SET paused = false WHERE id = $1', [f.pipelineId]);
  await check(db, f, 'repo', 'a');
  await settle(db, f);
  assert.deepEqual(
    (await jobBuilds(db, j)).map((b) => [b.id, b.status]),
    [[manual.id, 'aborted']],
    'the pending build is aborted and the new version triggers nothing',
  );
  assert.deepEqual(f.tracker.tracked, [], 'nothing was started');
  await assert.rejects(createManualBuild(db, j), ConflictError);
  await assert.rejects(unpausePipeline(db, ref), /pipeline '.+' is archived; set it again to unarchive it/);

  await savePipeline(db, { ...ref, config });
  const p = await getPipelineById(db, f.pipelineId);
  assert.deepEqual([p?.archived, p?.paused], [false, true]);
  await settle(db, f);
  assert.equal((await jobBuilds(db, j)).length, 1, 'still paused: nothing scheduled');
  await unpausePipeline(db, ref);
  await settle(db, f);
  assert.deepEqual((await jobBuilds(db, j)).map((b) => b.status), ['aborted', 'succeeded']);
  assert.deepEqual(await inputsOf(db, f.tracker.tracked[0]!), { repo: 'a' });
});

test('an unsatisfiable input keeps the pending build waiting, with the reason in the preparation view', async () => {
  const { db } = t;
  const f = await setupPipeline(
    db,
    cfg({
      resources: [{ name: 'repo', type: 'mock', source: {} }],
      jobs: [
        { name: 'up', plan: [{ get: 'repo' }, task] },
        { name: 'down', plan: [{ get: 'repo', trigger: true, passed: ['up'] }, task] },
      ],
    }),
  );
  const down = must(f.jobs, 'down');
  await check(db, f, 'repo', 'a');
  const manual = await createManualBuild(db, down);
  await settle(db, f);
  assert.equal(await getBuild(db, manual.id).then((b) => b?.status), 'pending');
  assert.equal((await getJob(db, down))?.inputsDetermined, false);
  const prep = await buildPreparation(db, manual.id);
  assert.deepEqual(prep, {
    build_id: manual.id,
    paused_pipeline: 'not_blocking',
    paused_job: 'not_blocking',
    max_running_builds: 'not_blocking',
    inputs: { repo: 'blocking' },
    inputs_satisfied: 'blocking',
    missing_input_reasons: { repo: 'passed: no build of up has succeeded yet' },
    reasons: ['input repo: passed: no build of up has succeeded yet'],
  });
  // no retry while nothing changes
  const due = await db.query('SELECT 1 FROM jobs WHERE id = $1 AND schedule_requested > last_scheduled', [down]);
  assert.equal(due.rowCount, 0);

  // up succeeds with a: down's build starts
  const upBuild = await createManualBuild(db, must(f.jobs, 'up'));
  await settle(db, f);
  assert.equal(await getBuild(db, upBuild.id).then((b) => b?.status), 'succeeded');
  assert.equal(await getBuild(db, manual.id).then((b) => b?.status), 'succeeded');
  assert.deepEqual(await inputsOf(db, manual.id), { repo: 'a' });
});

test('a manual build waits for checks of its inputs made since it was created, and requests them', async () => {
  const { db } = t;
  const f = await setupPipeline(
    db,
    cfg({
      resources: [
        { name: 'repo', type: 'mock', source: {} },
        { name: 'up-only', type: 'mock', source: {} },
      ],
      jobs: [
        { name: 'up', plan: [{ get: 'up-only' }, task] },
        { name: 'j', plan: [{ get: 'repo', trigger: true }, { get: 'up-only', passed: ['up'] }, task] },
      ],
    }),
  );
  const j = must(f.jobs, 'j');
  const repo = must(f.resources, 'repo');
  f.checks.auto = false;
  await check(db, f, 'repo', 'a');
  await check(db, f, 'up-only', 'u');
  await createManualBuild(db, must(f.jobs, 'up'));
  // up's manual build: its input (checked before the build was created) needs a check first
  let results = await f.scheduler.tick();
  assert.equal(f.checks.requests.length, 1);
  await db.query('UPDATE resource_config_scopes SET last_check_end_time = now() WHERE id = $1', [must(f.scopes, 'up-only')]);
  await settle(db, f);
  f.checks.requests.length = 0;

  const manual = await createManualBuild(db, j);
  results = await f.scheduler.tick();
  const mine = results.find((r) => r.jobId === j);
  assert.deepEqual(mine?.outcomes, [{ build: manual.id, outcome: 'waiting-for-checks', inputs: ['repo'] }]);
  assert.equal(mine?.needsRetry, true);
  assert.deepEqual(f.checks.requests, [{ resourceId: repo, manual: true, forBuildId: manual.id }]);
  assert.equal(await getBuild(db, manual.id).then((b) => b?.status), 'pending');

  // the check runs (engine): a new version, and the scope's check end time
  await check(db, f, 'repo', 'b');
  await db.query('UPDATE resource_config_scopes SET last_check_end_time = now() WHERE id = $1', [must(f.scopes, 'repo')]);
  await settle(db, f);
  assert.equal(await getBuild(db, manual.id).then((b) => b?.status), 'succeeded');
  assert.deepEqual(await inputsOf(db, manual.id), { repo: 'b', 'up-only': 'u' }, 'a manual build re-runs the algorithm');
});

test('a scheduler build waits for a recent check of its non-trigger inputs', async () => {
  const { db } = t;
  const f = await setupPipeline(
    db,
    cfg({
      resources: [
        { name: 'repo', type: 'mock', source: {} },
        { name: 'lib', type: 'mock', source: {} },
      ],
      jobs: [{ name: 'j', plan: [{ get: 'repo', trigger: true }, { get: 'lib' }, task] }],
    }),
  );
  const j = must(f.jobs, 'j');
  await check(db, f, 'lib', 'l1');
  await db.query(`UPDATE resource_config_scopes SET next_check_time = now() - interval '1 minute' WHERE id = $1`, [must(f.scopes, 'lib')]);
  await check(db, f, 'repo', 'a');
  await f.scheduler.tick();
  assert.deepEqual(f.checks.requests, [{ resourceId: must(f.resources, 'lib'), manual: false, forBuildId: (await jobBuilds(db, j))[0]!.id }]);
  assert.equal(f.tracker.take().length, 0);
  await db.query(`UPDATE resource_config_scopes SET next_check_time = now() + interval '1 minute' WHERE id = $1`, [must(f.scopes, 'lib')]);
  await f.scheduler.tick();
  assert.equal(f.tracker.take().length, 1);
});

test('a planning error finishes the build errored with an error event', async () => {
  const { db } = t;
  const f = await setupPipeline(
    db,
    cfg({
      resources: [{ name: 'repo', type: 'mock', source: {} }],
      jobs: [{ name: 'j', plan: [{ get: 'repo', trigger: true }, { run: 'hello', type: 'x' }] }],
    }),
  );
  await check(db, f, 'repo', 'a');
  await f.scheduler.tick();
  const [b] = await jobBuilds(db, must(f.jobs, 'j'));
  assert.equal(b?.status, 'errored');
  const events = await buildEvents(db, b.id);
  assert.deepEqual(
    events.map((e) => e.event.event),
    ['error', 'status'],
  );
  assert.match((events[0]!.event.data as { message: string }).message, /unknown prototype 'x'/);
});

test('scheduling a version that vanished from the scope: "chosen version of input X not available"', async () => {
  const { db } = t;
  const f = await setupPipeline(
    db,
    cfg({
      resources: [{ name: 'repo', type: 'mock', source: {} }],
      jobs: [{ name: 'j', serial: true, plan: [{ get: 'repo', trigger: true }, task] }],
    }),
  );
  const j = must(f.jobs, 'j');
  await check(db, f, 'repo', 'a');
  await f.scheduler.tick();
  const [running] = f.tracker.take();
  await check(db, f, 'repo', 'b');
  await f.scheduler.tick();
  // b disappears (e.g. the history was cleared) before the pending build starts
  await db.query(`DELETE FROM resource_config_versions WHERE resource_config_scope_id = $1 AND version->>'v' = 'b'`, [must(f.scopes, 'repo')]);
  const pending = (await jobBuilds(db, j))[1]!;
  const adopted = await adoptInputsAndPipes(db, pending.id, j);
  assert.deepEqual(adopted, { determined: false, unavailableInput: 'repo' });
  assert.deepEqual((await buildPreparation(db, pending.id)).missing_input_reasons, { repo: 'chosen version of input repo not available' });
  await finishBuild(db, running!, 'succeeded');
  await f.scheduler.scheduleJobLocked(j, new Date().toISOString());
  // Schedule recomputes first (a is the latest again, used before): the build adopts a
  assert.equal(await getBuild(db, pending.id).then((b) => b?.status), 'started');
  assert.deepEqual(await inputsOf(db, pending.id), { repo: 'a' });
});

test('adopting a build\'s inputs answers them as buildInputs reads them afterwards (ordered by name)', async () => {
  const { db } = t;
  const f = await setupPipeline(
    db,
    cfg({
      resources: [
        { name: 'zeta', type: 'mock', source: { z: 1 } },
        { name: 'alpha', type: 'mock', source: { a: 1 } },
      ],
      jobs: [{ name: 'j', plan: [{ get: 'zeta' }, { get: 'alpha' }, task] }],
    }),
  );
  const j = must(f.jobs, 'j');
  await check(db, f, 'zeta', 'z1');
  await check(db, f, 'alpha', 'a1');
  await f.scheduler.tick();
  const build = await createManualBuild(db, j);
  const adopted = await adoptInputsAndPipes(db, build.id, j);
  assert.equal(adopted.determined, true);
  const read = await buildInputs(db, build.id);
  assert.deepEqual(read.map((i) => [i.name, i.version]), [['alpha', { v: 'a1' }], ['zeta', { v: 'z1' }]]);
  assert.deepEqual(adopted.determined ? adopted.inputs : undefined, read);
});

test("a manual build's inputs computed again at its start: saved when they differ from the pass's mapping, not written when the same", async () => {
  const { db } = t;
  const f = await setupPipeline(db, cfg({ resources: [{ name: 'repo', type: 'mock', source: {} }], jobs: [{ name: 'j', plan: [{ get: 'repo' }, task] }] }));
  const j = must(f.jobs, 'j');
  await check(db, f, 'repo', 'a');
  await f.scheduler.tick();
  const [due] = await jobsToSchedule(db, [j]);
  const passMapping = await computeInputs(new PostgresVersionsStore(db), j, toAlgorithmInputs(due!.inputs));
  const starter = { db, tracker: f.tracker, checks: f.checks, logger: testLogger };

  // the same as the pass saved: started on a, no mapping written
  const same = await createManualBuild(db, j);
  await db.query('UPDATE resource_config_scopes SET last_check_end_time = now() WHERE id = $1', [must(f.scopes, 'repo')]);
  const writes: string[] = [];
  const counted = { ...db, query: (text: string, values?: readonly unknown[]) => (/next_build_inputs AS n/.test(text) && writes.push(text), db.query(text, values)) } as typeof db;
  const first = await tryStartPendingBuildsForJob({ ...starter, db: counted }, due!.job, due!.inputs, passMapping);
  assert.deepEqual(first.outcomes, [{ build: same.id, outcome: 'started' }]);
  assert.deepEqual(await inputsOf(db, same.id), { repo: 'a' });
  assert.equal(writes.length, 0);

  // b checked after the pass computed its mapping: the start computes b, saves it and adopts it
  const later = await createManualBuild(db, j);
  await check(db, f, 'repo', 'b');
  await db.query('UPDATE resource_config_scopes SET last_check_end_time = now() WHERE id = $1', [must(f.scopes, 'repo')]);
  const second = await tryStartPendingBuildsForJob({ ...starter, db: counted }, due!.job, due!.inputs, passMapping);
  assert.deepEqual(second.outcomes, [{ build: later.id, outcome: 'started' }]);
  assert.deepEqual(await inputsOf(db, later.id), { repo: 'b' });
  assert.equal(writes.length, 1);
  assert.equal((await db.query<{ d: string }>('SELECT version_digest AS d FROM next_build_inputs WHERE job_id = $1', [j])).rows[0]?.d, digestOf('b'));
});
