// The checker: selection rules and intervals (pure tables), check plans, and the scanner,
// manual, webhook and scheduler-requested checks against the real database.
import { facts } from './fake-store.ts';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PostgresCheckerStore } from '../../src/db/checks.ts';
import { buildEvents, finishBuild, getBuild, getBuildPlans } from '../../src/db/builds.ts';
import { ConflictError } from '../../src/db/errors.ts';
import { archivePipeline, getPipelineById } from '../../src/db/pipelines.ts';
import type { CheckFacts } from '../../src/db/resources.ts';
import {
  Checker,
  UnauthorizedError,
  formatDuration,
  resourceCheckInterval,
  resourceCheckPlan,
  resourceTypeCheckInterval,
  scanDecision,
  scannerSelects,
} from '../../src/checker/index.ts';
import { useTestDatabase } from '../support/db.ts';
import { cfg, must, RecordingTracker, setupPipeline } from '../support/sched-support.ts';

const t = useTestDatabase();


const selectionRules: [string, Partial<CheckFacts>, boolean][] = [
  ['trigger input', { triggerInput: true }, true],
  ['unused resource', {}, false],
  ['non-trigger, checked, has versions', { nonTriggerInput: true }, false],
  ['non-trigger, never checked', { nonTriggerInput: true, checked: false, lastCheckSucceeded: false }, true],
  ['non-trigger, last check failed', { nonTriggerInput: true, lastCheckSucceeded: false }, true],
  ['put-only, never checked', { putOnly: true, checked: false, lastCheckSucceeded: false }, true],
  ['put-only, checked fine', { putOnly: true }, false],
  ['non-trigger, no versions', { nonTriggerInput: true, hasVersions: false }, true],
  ['non-trigger, pin not found', { nonTriggerInput: true, pinned: true, pinFound: false }, true],
  ['non-trigger, pin found', { nonTriggerInput: true, pinned: true, pinFound: true }, false],
  ['only a passed input, never checked', { checked: false, lastCheckSucceeded: false }, false],
];
for (const [name, over, want] of selectionRules) {
  test(`scanner selection rules: ${name}`, () => {
    assert.equal(scannerSelects(facts(over)), want, name);
  });
}

test('scan decisions', () => {
  const every = resourceCheckInterval({});
  assert.equal(scanDecision(facts({ triggerInput: true }), every), 'check');
  assert.equal(scanDecision(facts({ triggerInput: true, intervalElapsed: false }), every), 'interval-not-elapsed');
  assert.equal(scanDecision(facts({ triggerInput: true }), resourceCheckInterval({ check_every: 'never' })), 'never');
  assert.equal(scanDecision(facts({}), every), 'not-selected');
});

test('check intervals', () => {
  assert.deepEqual(resourceCheckInterval({}), { never: false, ms: 60_000, text: '1m' });
  assert.deepEqual(resourceCheckInterval({ check_every: '30s' }), { never: false, ms: 30_000, text: '30s' });
  assert.deepEqual(resourceCheckInterval({ check_every: 'never' }), { never: true });
  assert.deepEqual(resourceCheckInterval({ webhook_token: 'x' }, { resourceMs: 60_000, webhookMs: 600_000, resourceTypeMs: 60_000 }), {
    never: false,
    ms: 600_000,
    text: '10m',
  });
  assert.deepEqual(resourceCheckInterval({ webhook_token: 'x', check_every: '5s' }).never, false);
  assert.equal((resourceCheckInterval({ webhook_token: 'x', check_every: '5s' }) as { ms: number }).ms, 5000);
  assert.deepEqual(resourceTypeCheckInterval({}), { never: false, ms: 60_000, text: '1m' });
  assert.equal(formatDuration(5_400_000), '1h30m');
  assert.equal(formatDuration(250), '250ms');
});

test('the check plan: defaults ⊕ source, tags, timeout, from, interval, and the custom type checked inside', () => {
  const plan = resourceCheckPlan(
    { name: 'r', type: 'my', source: { a: '1' }, tags: ['t'], check_timeout: '5m' },
    [{ name: 'my', type: 'registry-image', source: { repository: 'x/my' }, defaults: { d: 'x', a: '0' } }],
    { interval: resourceCheckInterval({}), from: { v: '3' }, skipInterval: true, shallow: false },
  );
  assert.ok('check' in plan);
  const check = plan.check;
  assert.deepEqual(check.source, { d: 'x', a: '1' });
  assert.deepEqual(check.tags, ['t']);
  assert.equal(check.timeout, '5m');
  assert.deepEqual(check.from_version, { v: '3' });
  assert.equal(check.interval, '1m');
  assert.equal(check.skip_interval, true);
  assert.equal(check.resource, 'r');
  assert.equal(check.image.base_type, 'registry-image');
  const nested = check.image.check_plan;
  assert.ok(nested && 'check' in nested);
  assert.equal(nested.check.resource_type, 'my');
  assert.equal(nested.check.skip_interval, true, 'not shallow: nested checks skip the interval too');

  const shallow = resourceCheckPlan({ name: 'r', type: 'my' }, [{ name: 'my', type: 'registry-image', source: {} }], {
    interval: resourceCheckInterval({}),
    skipInterval: true,
    shallow: true,
  });
  assert.ok('check' in shallow);
  const nestedShallow = shallow.check.image.check_plan;
  assert.ok(nestedShallow && 'check' in nestedShallow);
  assert.equal(nestedShallow.check.skip_interval, undefined);
  assert.equal(shallow.check.timeout, '1h');
});

const pipeline = cfg({
  resources: [
    { name: 'trig', type: 'mock', source: {} },
    { name: 'lazy', type: 'mock', source: {} },
    { name: 'never', type: 'mock', source: {}, check_every: 'never' },
    { name: 'hook', type: 'mock', source: {}, webhook_token: 's3cret' },
    { name: 'unused', type: 'mock', source: {} },
  ],
  jobs: [
    {
      name: 'j',
      plan: [{ get: 'trig', trigger: true }, { get: 'lazy' }, { get: 'never', trigger: true }, { get: 'hook', trigger: true }],
    },
  ],
});

async function setup(): Promise<{ f: Awaited<ReturnType<typeof setupPipeline>>; checker: Checker; tracker: RecordingTracker }> {
  const { db } = t;
  const f = await setupPipeline(db, pipeline, { scopes: false });
  const tracker = new RecordingTracker();
  const checker = new Checker(new PostgresCheckerStore(db), { tracker, keepPeriodicBuilds: 2 });
  return { f, checker, tracker };
}

test('scanner: checks trigger inputs and never-checked resources, skips never and unused, one running check per resource', async () => {
  const { db } = t;
  const { f, checker, tracker } = await setup();
  const id = (name: string): number => must(f.resources, name);
  const results = await checker.scan();
  const decided = Object.fromEntries(
    [...f.resources.entries()].map(([name, rid]) => [name, results.find((r) => r.resourceId === rid)?.decision]),
  );
  assert.deepEqual(decided, { trig: 'check', lazy: 'check', never: 'never', hook: 'check', unused: 'not-selected' });
  assert.equal(tracker.tracked.length, 3);

  const trigBuild = await getBuild(db, results.find((r) => r.resourceId === id('trig'))!.buildId!);
  assert.equal(trigBuild?.name, 'check');
  assert.equal(trigBuild?.status, 'started');
  assert.equal(trigBuild?.resourceId, id('trig'));
  assert.equal(trigBuild?.manuallyTriggered, false);
  const plans = await getBuildPlans(db, trigBuild!.id);
  assert.ok(plans?.plan && 'check' in plans.plan);
  assert.equal(plans.plan.check.name, 'trig');
  assert.equal((await buildEvents(db, trigBuild!.id))[0]?.event.event, 'status');

  // still running: no second check
  const again = await checker.scan();
  assert.equal(again.find((r) => r.resourceId === id('trig'))?.decision, 'running');
  assert.equal(tracker.tracked.length, 3);

  // the checks finish (the engine would also record the scope's times)
  for (const b of tracker.tracked) await finishBuild(db, b, 'succeeded');
  await checker.scan();
  assert.equal(tracker.tracked.length, 6, 'no scope interval recorded yet: checked again');
});

test('scanner: the interval of the scope (next_check_time) is respected unless manual; lazy inputs are left to the build starter', async () => {
  const { db } = t;
  const { f, checker, tracker } = await setup();
  const scopeFor = async (name: string): Promise<number> => {
    const r = await db.query<{ id: number }>(
      `INSERT INTO resource_configs (base_resource_type_id, source_hash)
       VALUES ((SELECT id FROM base_resource_types WHERE name = 'mock'), md5(random()::text)) RETURNING id`,
    );
    const s = await db.query<{ id: number }>(
      `INSERT INTO resource_config_scopes (resource_config_id, resource_id, last_check_end_time, last_check_succeeded, next_check_time)
       VALUES ($1, $2, now(), true, now() + interval '1 minute') RETURNING id`,
      [r.rows[0]!.id, must(f.resources, name)],
    );
    await db.query(
      `INSERT INTO resource_config_versions (resource_config_scope_id, version, version_sha256, check_order) VALUES ($1, '{"v":"1"}', md5(random()::text), 1)`,
      [s.rows[0]!.id],
    );
    // a recorded check build, so the resource counts as checked
    const b = await db.query<{ id: number }>(
      `INSERT INTO builds (name, team_id, pipeline_id, resource_id, status, completed) VALUES ('check', 1, $1, $2, 'succeeded', true) RETURNING id`,
      [f.pipelineId, must(f.resources, name)],
    );
    await db.query('UPDATE resource_config_scopes SET last_check_build_id = $2 WHERE id = $1', [s.rows[0]!.id, b.rows[0]!.id]);
    await db.query('UPDATE resources SET resource_config_scope_id = $2, resource_config_id = $3 WHERE id = $1', [
      must(f.resources, name),
      s.rows[0]!.id,
      r.rows[0]!.id,
    ]);
    return s.rows[0]!.id;
  };
  await db.query(`INSERT INTO base_resource_types (name) VALUES ('mock') ON CONFLICT DO NOTHING`);
  const trigScope = await scopeFor('trig');
  await scopeFor('lazy');
  const results = await checker.scan();
  const decision = (name: string) => results.find((r) => r.resourceId === must(f.resources, name))?.decision;
  assert.equal(decision('trig'), 'interval-not-elapsed');
  assert.equal(decision('lazy'), 'not-selected', 'a checked non-trigger input with versions is checked lazily');

  // manual: the interval and a running check do not matter
  const manual = await checker.checkResource(f.pipelineId, 'trig', { from: { v: '1' }, createdBy: 'bob' });
  assert.equal(manual.manuallyTriggered, true);
  assert.equal(manual.createdBy, 'bob');
  const manual2 = await checker.checkResource(f.pipelineId, 'trig');
  assert.notEqual(manual2.id, manual.id);
  const plan = (await getBuildPlans(db, manual.id))?.plan;
  assert.ok(plan && 'check' in plan);
  assert.equal(plan.check.skip_interval, true);
  assert.deepEqual(plan.check.from_version, { v: '1' });
  assert.equal(tracker.tracked.length, 3, 'hook (never checked) + two manual checks');

  // the interval elapses: a periodic check again
  await db.query(`UPDATE resource_config_scopes SET next_check_time = now() - interval '1 second' WHERE id = $1`, [trigScope]);
  for (const b of tracker.tracked) await finishBuild(db, b, 'succeeded');
  const later = await checker.scan();
  assert.equal(later.find((r) => r.resourceId === must(f.resources, 'trig'))?.decision, 'check');
});

test('webhook: the right token creates a manual check; a wrong or missing token is unauthorized', async () => {
  const { f, checker, tracker } = await setup();
  const b = await checker.checkWebhook(f.pipelineId, 'hook', 's3cret');
  assert.equal(b.resourceId, must(f.resources, 'hook'));
  assert.equal(b.manuallyTriggered, true);
  assert.deepEqual(tracker.tracked, [b.id]);
  await assert.rejects(checker.checkWebhook(f.pipelineId, 'hook', 'nope'), UnauthorizedError);
  await assert.rejects(checker.checkWebhook(f.pipelineId, 'trig', ''), UnauthorizedError);
});

test('periodic check builds are pruned to the newest few; manual ones are kept', async () => {
  const { db } = t;
  const { f, checker, tracker } = await setup();
  const trig = must(f.resources, 'trig');
  for (let i = 0; i < 5; i++) {
    const r = await checker.tryCreateCheck(trig);
    assert.equal(r.created, true);
    for (const b of tracker.take()) await finishBuild(db, b, 'succeeded');
  }
  await checker.checkResource(f.pipelineId, 'trig');
  const rows = await db.query<{ manually_triggered: boolean; completed: boolean }>(
    'SELECT manually_triggered, completed FROM builds WHERE resource_id = $1 ORDER BY id',
    [trig],
  );
  assert.deepEqual(
    rows.rows.map((r) => `${r.manually_triggered ? 'manual' : 'periodic'}:${r.completed ? 'done' : 'running'}`),
    ['periodic:done', 'periodic:done', 'manual:running'],
  );
});

test('requestChecks (for the build starter): a running check created since the build serves it; otherwise one is created', async () => {
  const { db } = t;
  const { f, checker, tracker } = await setup();
  const trig = must(f.resources, 'trig');
  const pending = await db.query<{ id: number }>(
    `INSERT INTO builds (name, job_id, pipeline_id, team_id, status, manually_triggered) VALUES ('99', $1, $2, 1, 'pending', true) RETURNING id`,
    [must(f.jobs, 'j'), f.pipelineId],
  );
  const buildId = pending.rows[0]!.id;
  await checker.requestChecks([{ resourceId: trig, manual: true, forBuildId: buildId }]);
  await checker.requestChecks([{ resourceId: trig, manual: true, forBuildId: buildId }]);
  assert.equal(tracker.tracked.length, 1, 'the second request found the first check running');
  const plan = (await getBuildPlans(db, tracker.tracked[0]!))?.plan;
  assert.ok(plan && 'check' in plan);
  assert.equal(plan.check.skip_interval, true);
  // a check_every: never resource is still checked for a waiting build
  await checker.requestChecks([{ resourceId: must(f.resources, 'never'), manual: false, forBuildId: buildId }]);
  assert.equal(tracker.tracked.length, 2);
});

test('an archived pipeline is not checked: not by the scanner, nor manually, by webhook or for the build starter', async () => {
  const { db } = t;
  const { f, checker, tracker } = await setup();
  // archived but not paused (the scan also skips paused pipelines): the archived rule alone decides
  await db.query('UPDATE pipelines SET archived = true, paused = false WHERE id = $1', [f.pipelineId]);
  const results = await checker.scan();
  const mine = new Set(f.resources.values());
  assert.deepEqual(results.filter((r) => mine.has(r.resourceId)), [], 'its resources are not even candidates');
  assert.deepEqual(tracker.tracked, []);

  const p = await getPipelineById(db, f.pipelineId);
  await archivePipeline(db, { team: 'main', name: p!.name });
  assert.deepEqual(await checker.tryCreateCheck(must(f.resources, 'trig')), { created: false, reason: 'archived' });
  await assert.rejects(checker.checkResource(f.pipelineId, 'trig'), (err: unknown) => {
    assert.ok(err instanceof ConflictError);
    assert.match(err.message, /^resource trig belongs to an archived pipeline and is not checked/);
    return true;
  });
  await assert.rejects(checker.checkWebhook(f.pipelineId, 'hook', 's3cret'), ConflictError);
  const pending = await db.query<{ id: number }>(
    `INSERT INTO builds (name, job_id, pipeline_id, team_id, status, manually_triggered) VALUES ('98', $1, $2, 1, 'pending', true) RETURNING id`,
    [must(f.jobs, 'j'), f.pipelineId],
  );
  await checker.requestChecks([{ resourceId: must(f.resources, 'trig'), manual: true, forBuildId: pending.rows[0]!.id }]);
  assert.deepEqual(tracker.tracked, [], 'no check build was created');
});
