// The pending reasons read from a real database after real scheduling passes
// (src/scheduler/preparation.ts over src/db/pending-facts.ts): what the API and the CLI show.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createManualBuild, createStartedBuild, finishBuild, getBuild, saveBuildEvent } from '../../src/db/builds.ts';
import { getJob } from '../../src/db/jobs.ts';
import { buildEvent } from '../../src/model/build-events.ts';
import type { Plan } from '../../src/model/plan.ts';
import { buildPreparation, jobPendingReason, pendingReasonsOfBuilds } from '../../src/scheduler/preparation.ts';
import { useTestDatabase } from '../support/db.ts';
import { cfg, check, must, settle, setupPipeline, type Fixture } from '../support/sched-support.ts';

const t = useTestDatabase();

const task = { task: 't', config: { platform: 'linux', run: { path: 'true' } } };

async function reasonOfBuild(id: number): Promise<string | undefined> {
  const b = await getBuild(t.db, id);
  return (await pendingReasonsOfBuilds(t.db, [b!])).get(id);
}

async function reasonOfJob(f: Fixture, name: string): Promise<string | undefined> {
  const job = (await getJob(t.db, must(f.jobs, name)))!;
  const next = job.nextBuildId === null ? null : ((await getBuild(t.db, job.nextBuildId)) ?? null);
  return jobPendingReason(t.db, job, next);
}

/** Scheduling passes until the build leaves pending (a manual build first waits for its checks), at most five. */
async function tickUntilStarted(f: Fixture, id: number): Promise<void> {
  for (let i = 0; i < 5 && (await getBuild(t.db, id))?.status === 'pending'; i++) await f.scheduler.tick();
}

/** A check build of the resource that errored with `message`. */
async function failingCheck(f: Fixture, resource: string, message: string): Promise<void> {
  const team = (await t.db.query<{ id: number }>(`SELECT id FROM teams WHERE name = 'main'`)).rows[0]!.id;
  const b = await createStartedBuild(t.db, {
    teamId: team,
    pipelineId: f.pipelineId,
    resourceId: must(f.resources, resource),
    plan: { id: 'c', check: { name: resource } } as unknown as Plan,
  });
  await saveBuildEvent(t.db, b.id, buildEvent('error', { message: `${message}\n`, origin: { id: 'c' }, time: 1 }));
  await finishBuild(t.db, b.id, 'errored');
}

test('no versions and a failing check: the job and its pending build name the input and the check error', async () => {
  const f = await setupPipeline(
    t.db,
    cfg({ resources: [{ name: 'repo', type: 'mock', source: {} }], jobs: [{ name: 'j', plan: [{ get: 'repo', trigger: true }, task] }] }),
  );
  await failingCheck(f, 'repo', 'undefined vars: branch');
  await settle(t.db, f);
  assert.equal(await reasonOfJob(f, 'j'), 'input repo: resource repo has no versions (its check is failing: undefined vars: branch)');
  const manual = await createManualBuild(t.db, must(f.jobs, 'j'));
  await settle(t.db, f);
  assert.equal((await getBuild(t.db, manual.id))?.status, 'pending');
  assert.equal(await reasonOfBuild(manual.id), 'input repo: resource repo has no versions (its check is failing: undefined vars: branch)');
  const prep = await buildPreparation(t.db, manual.id);
  assert.deepEqual(prep.missing_input_reasons, { repo: 'resource repo has no versions (its check is failing: undefined vars: branch)' });
  assert.equal(prep.inputs_satisfied, 'blocking');
  // the check the build asked for failed too (the fixture's checks mark the scope checked: a
  // success after a failure would make that failure stale), and the next runs: the reason keeps the last one's error
  await failingCheck(f, 'repo', 'undefined vars: branch');
  const team = (await t.db.query<{ id: number }>(`SELECT id FROM teams WHERE name = 'main'`)).rows[0]!.id;
  await createStartedBuild(t.db, { teamId: team, pipelineId: f.pipelineId, resourceId: must(f.resources, 'repo'), plan: { id: 'c2' } as unknown as Plan });
  assert.equal(await reasonOfJob(f, 'j'), 'input repo: resource repo has no versions (a check is running; the last one failed: undefined vars: branch)');
});

test('every version disabled', async () => {
  const f = await setupPipeline(
    t.db,
    cfg({ resources: [{ name: 'repo', type: 'mock', source: {} }], jobs: [{ name: 'j', plan: [{ get: 'repo', trigger: true }, task] }] }),
  );
  await check(t.db, f, 'repo', 'a');
  await t.db.query(
    `INSERT INTO resource_disabled_versions (resource_id, version_digest)
     SELECT $1, version_sha256 FROM resource_config_versions WHERE resource_config_scope_id = $2`,
    [must(f.resources, 'repo'), must(f.scopes, 'repo')],
  );
  await settle(t.db, f);
  assert.equal(await reasonOfJob(f, 'j'), 'input repo: every version of resource repo is disabled');
});

test('a pinned version that is not among the versions', async () => {
  const f = await setupPipeline(
    t.db,
    cfg({
      resources: [{ name: 'repo', type: 'mock', source: {}, version: { v: 'gone' } }],
      jobs: [{ name: 'j', plan: [{ get: 'repo', trigger: true }, task] }],
    }),
  );
  await check(t.db, f, 'repo', 'a');
  await settle(t.db, f);
  assert.equal(await reasonOfJob(f, 'j'), 'input repo: pinned version v:gone of resource repo is not among its versions');
});

test('passed: the upstream job never succeeded, then no common version', async () => {
  const f = await setupPipeline(
    t.db,
    cfg({
      resources: [{ name: 'repo', type: 'mock', source: {} }],
      jobs: [
        { name: 'up', plan: [{ get: 'repo' }, task] },
        { name: 'down', plan: [{ get: 'repo', trigger: true, passed: ['up'] }, task] },
      ],
    }),
  );
  await check(t.db, f, 'repo', 'a');
  await settle(t.db, f);
  assert.equal(await reasonOfJob(f, 'down'), 'input repo: passed: no build of up has succeeded yet');
  assert.equal(await reasonOfJob(f, 'up'), undefined, 'up can run: nothing to say');
});

test('a serial job: the pending build names the running build that holds it; the job JSON says the same', async () => {
  const f = await setupPipeline(
    t.db,
    cfg({ resources: [{ name: 'repo', type: 'mock', source: {} }], jobs: [{ name: 'j', serial: true, plan: [{ get: 'repo' }, task] }] }),
  );
  await check(t.db, f, 'repo', 'a');
  const first = await createManualBuild(t.db, must(f.jobs, 'j'));
  await tickUntilStarted(f, first.id);
  assert.equal((await getBuild(t.db, first.id))?.status, 'started');
  const second = await createManualBuild(t.db, must(f.jobs, 'j'));
  await tickUntilStarted(f, second.id);
  assert.equal((await getBuild(t.db, second.id))?.status, 'pending');
  assert.equal(await reasonOfBuild(second.id), `max-in-flight 1 reached: build j #${first.name} holds it`);
  assert.equal(await reasonOfJob(f, 'j'), `max-in-flight 1 reached: build j #${first.name} holds it`);
  assert.equal((await buildPreparation(t.db, second.id)).max_running_builds, 'blocking');
  await finishBuild(t.db, first.id, 'succeeded');
  await settle(t.db, f);
  assert.equal((await getBuild(t.db, second.id))?.status, 'succeeded');
});

test('a serial group across jobs names the other job\'s build', async () => {
  const f = await setupPipeline(
    t.db,
    cfg({
      resources: [{ name: 'repo', type: 'mock', source: {} }],
      jobs: [
        { name: 'a', serial_groups: ['deploy'], plan: [{ get: 'repo' }, task] },
        { name: 'b', serial_groups: ['deploy'], plan: [{ get: 'repo' }, task] },
      ],
    }),
  );
  await check(t.db, f, 'repo', 'a');
  const running = await createManualBuild(t.db, must(f.jobs, 'a'));
  await tickUntilStarted(f, running.id);
  assert.equal((await getBuild(t.db, running.id))?.status, 'started');
  const waiting = await createManualBuild(t.db, must(f.jobs, 'b'));
  await tickUntilStarted(f, waiting.id);
  assert.equal(await reasonOfBuild(waiting.id), `serial group deploy full: build a #${running.name} holds it`);
});

test('a build of a paused pipeline, then archived', async () => {
  const f = await setupPipeline(
    t.db,
    cfg({ resources: [{ name: 'repo', type: 'mock', source: {} }], jobs: [{ name: 'j', plan: [{ get: 'repo' }, task] }] }),
  );
  await check(t.db, f, 'repo', 'a');
  await t.db.query('UPDATE pipelines SET paused = true WHERE id = $1', [f.pipelineId]);
  const b = await createManualBuild(t.db, must(f.jobs, 'j'));
  await f.scheduler.tick();
  const name = (await t.db.query<{ name: string }>('SELECT name FROM pipelines WHERE id = $1', [f.pipelineId])).rows[0]!.name;
  assert.equal(await reasonOfBuild(b.id), `the pipeline ${name} is paused`);
  await t.db.query('UPDATE pipelines SET archived = true WHERE id = $1', [f.pipelineId]);
  assert.equal(await reasonOfJob(f, 'j'), `the pipeline ${name} is archived (set it again to unarchive it)`);
});
