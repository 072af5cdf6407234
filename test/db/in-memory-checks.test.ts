// In-memory checks in Postgres (src/db/in-memory-checks.ts, migration 0021): the resource's
// record of its latest one, what the resource views and a waiting build's reasons read of it,
// a failed one kept as a check build with its events, and the API's build of one.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildEvents, createStartedBuild, finishBuild, getBuild, saveBuildEvent } from '../../src/db/builds.ts';
import { finishInMemoryCheck, getInMemoryCheckBuild, recordInMemoryCheckBuild, startInMemoryCheck } from '../../src/db/in-memory-checks.ts';
import { inputResourceStates } from '../../src/db/pending-facts.ts';
import { findResourceView } from '../../src/db/views.ts';
import { buildEvent } from '../../src/model/build-events.ts';
import type { InMemoryCheck } from '../../src/model/in-memory-check.ts';
import type { Plan } from '../../src/model/plan.ts';
import { useTestDatabase } from '../support/db.ts';
import { cfg, must, setupPipeline, type Fixture } from '../support/sched-support.ts';

const t = useTestDatabase();
const MINUTE = 60_000;
const plan = { id: 'c', check: { name: 'repo', type: 'mock', source: {}, resource: 'repo' } } as unknown as Plan;

async function fixture(): Promise<{ f: Fixture; resourceId: number; teamId: number }> {
  const f = await setupPipeline(t.db, cfg({ resources: [{ name: 'repo', type: 'mock', source: {} }], jobs: [] }));
  const teamId = (await t.db.query<{ id: number }>(`SELECT id FROM teams WHERE name = 'main'`)).rows[0]!.id;
  return { f, resourceId: must(f.resources, 'repo'), teamId };
}

/** Starts an in-memory check with the resource's config as a scan reads it now. */
async function start(resourceId: number): Promise<{ id: number; createTime: Date } | undefined> {
  const config = (await t.db.query<{ config: unknown }>('SELECT config FROM resources WHERE id = $1', [resourceId])).rows[0]!.config;
  return startInMemoryCheck(t.db, resourceId, config, MINUTE);
}

async function failedCheckBuild(f: Fixture, teamId: number, resourceId: number, message: string): Promise<number> {
  const b = await createStartedBuild(t.db, { teamId, pipelineId: f.pipelineId, resourceId, plan });
  await saveBuildEvent(t.db, b.id, buildEvent('error', { message, origin: { id: 'c' }, time: 1 }));
  await finishBuild(t.db, b.id, 'errored');
  return b.id;
}

test("a started in-memory check is the resource's latest check: an id after every check build, shown started then succeeded", async () => {
  const { f, resourceId, teamId } = await fixture();
  const older = await failedCheckBuild(f, teamId, resourceId, 'boom');
  await t.db.query(`UPDATE builds SET end_time = now() - interval '2 minutes' WHERE id = $1`, [older]);
  const started = await start(resourceId);
  assert.ok(started && started.id > older, 'an id from the builds’ sequence, after the older check build');
  assert.deepEqual((await findResourceView(t.db, f.pipelineId, 'repo'))?.lastCheckBuild?.status, 'started');
  assert.equal((await findResourceView(t.db, f.pipelineId, 'repo'))?.lastCheckBuild?.id, started.id);
  await finishInMemoryCheck(t.db, resourceId, started.id, 'succeeded');
  const view = await findResourceView(t.db, f.pipelineId, 'repo');
  assert.deepEqual([view?.lastCheckBuild?.id, view?.lastCheckBuild?.name, view?.lastCheckBuild?.status], [started.id, 'check', 'succeeded']);
  assert.ok(view?.lastCheckBuild?.endTime instanceof Date);
  assert.equal(await getBuild(t.db, started.id), undefined, 'no build row');
  const api = await getInMemoryCheckBuild(t.db, started.id);
  assert.deepEqual([api?.name, api?.status, api?.completed, api?.resourceId, api?.pipelineId, api?.teamName], ['check', 'succeeded', true, resourceId, f.pipelineId, 'main']);
  assert.equal(await getInMemoryCheckBuild(t.db, older), undefined, 'a check build is not an in-memory one');
});

test('a check whose newest failure is younger than its interval does not start; one older does', async () => {
  const { f, resourceId, teamId } = await fixture();
  const failed = await failedCheckBuild(f, teamId, resourceId, 'boom');
  assert.equal(await start(resourceId), undefined);
  await t.db.query(`UPDATE builds SET end_time = now() - interval '2 minutes' WHERE id = $1`, [failed]);
  assert.ok(await start(resourceId));
});

test('a failed in-memory check becomes a completed check build of its id with its events; the resource record is cleared', async () => {
  const { f, resourceId, teamId } = await fixture();
  const started = (await start(resourceId))!;
  const check: InMemoryCheck = { id: started.id, createTime: started.createTime, teamId, teamName: 'main', pipelineId: f.pipelineId, pipelineName: 'p', resourceId, plan };
  const log = buildEvent('log', { time: 1, origin: { id: 'c', source: 'stderr' }, payload: 'looking\n' });
  const error = buildEvent('error', { time: 1, origin: { id: 'c' }, message: 'no luck' });
  await t.db.query('UPDATE resource_config_scopes SET next_check_time = NULL WHERE id = $1', [must(f.scopes, 'repo')]);
  await recordInMemoryCheckBuild(t.db, check, 'errored', [log, error], { keep: 5, intervalMs: MINUTE });
  const next = (await t.db.query<{ due_in: number }>('SELECT extract(epoch FROM next_check_time - now())::float AS due_in FROM resource_config_scopes WHERE id = $1', [must(f.scopes, 'repo')])).rows[0]!.due_in;
  assert.ok(next > 50 && next <= 60, `the resource's scope is due again in a minute (${next} s)`);
  const b = await getBuild(t.db, started.id);
  assert.deepEqual([b?.name, b?.status, b?.completed, b?.resourceId, b?.manuallyTriggered], ['check', 'errored', true, resourceId, false]);
  assert.deepEqual(
    (await buildEvents(t.db, started.id)).map((e) => (e.event.event === 'status' ? `status:${e.event.data.status}` : e.event.event)),
    ['status:started', 'log', 'error', 'status:errored'],
  );
  const row = (await t.db.query('SELECT in_memory_check_id, in_memory_check_status FROM resources WHERE id = $1', [resourceId])).rows[0];
  assert.deepEqual(row, { in_memory_check_id: null, in_memory_check_status: null });
  const view = await findResourceView(t.db, f.pipelineId, 'repo');
  assert.deepEqual([view?.lastCheckBuild?.id, view?.lastCheckBuild?.status], [started.id, 'errored']);
  const state = (await inputResourceStates(t.db, [resourceId])).get(resourceId);
  assert.deepEqual([state?.checkBuildStatus, state?.checkError], ['errored', 'no luck']);
});

test('a running in-memory check after a failure names that failure, unless a check succeeded since', async () => {
  const { f, resourceId, teamId } = await fixture();
  const failed = await failedCheckBuild(f, teamId, resourceId, 'boom');
  await t.db.query(`UPDATE builds SET end_time = now() - interval '2 minutes' WHERE id = $1`, [failed]);
  // the scope's last check (setupPipeline's) ended before the failure
  await t.db.query(`UPDATE resource_config_scopes SET last_check_end_time = now() - interval '3 minutes' WHERE id = $1`, [must(f.scopes, 'repo')]);
  await start(resourceId);
  let state = (await inputResourceStates(t.db, [resourceId])).get(resourceId);
  assert.deepEqual([state?.checkBuildStatus, state?.previousCheckError], ['started', 'boom']);
  // an in-memory check succeeded after the failure (the scope says so), and another runs now
  await t.db.query(`UPDATE resource_config_scopes SET last_check_end_time = now() - interval '1 minute', last_check_succeeded = true WHERE id = $1`, [must(f.scopes, 'repo')]);
  state = (await inputResourceStates(t.db, [resourceId])).get(resourceId);
  assert.deepEqual([state?.checkBuildStatus, state?.previousCheckError], ['started', null]);
});

test('a queued check whose resource changed, or whose pipeline was paused, since the scan read it does not start', async () => {
  const { f, resourceId } = await fixture();
  const config = (await t.db.query<{ config: Record<string, unknown> }>('SELECT config FROM resources WHERE id = $1', [resourceId])).rows[0]!.config;
  await t.db.query(`UPDATE resources SET config = config || '{"source": {"uri": "changed"}}'::jsonb WHERE id = $1`, [resourceId]);
  assert.equal(await startInMemoryCheck(t.db, resourceId, config, MINUTE), undefined, 'the pipeline was set again');
  const now = (await t.db.query<{ config: unknown }>('SELECT config FROM resources WHERE id = $1', [resourceId])).rows[0]!.config;
  await t.db.query('UPDATE pipelines SET paused = true WHERE id = $1', [f.pipelineId]);
  assert.equal(await startInMemoryCheck(t.db, resourceId, now, MINUTE), undefined, 'paused');
  await t.db.query('UPDATE pipelines SET paused = false WHERE id = $1', [f.pipelineId]);
  assert.ok(await startInMemoryCheck(t.db, resourceId, now, MINUTE), 'as the scan read it, unpaused: it starts');
  const row = (await t.db.query('SELECT in_memory_check_status AS s FROM resources WHERE id = $1', [resourceId])).rows[0];
  assert.deepEqual(row, { s: 'started' });
});
