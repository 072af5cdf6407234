import { test } from 'node:test';
import assert from 'node:assert/strict';
import { InvalidConfigError, NotFoundError, StaleConfigVersionError, ConflictError } from '../../src/db/errors.ts';
import {
  deletePipeline,
  getPipeline,
  getPipelineConfig,
  pausePipeline,
  renamePipeline,
  savePipeline,
  unpausePipeline,
} from '../../src/db/pipelines.ts';
import { findOrCreateResourceConfig, findOrCreateScope, listVersions, saveVersions, setResourceScope } from '../../src/db/versions.ts';
import type { PipelineConfig } from '../../src/config/index.ts';
import { useTestDatabase } from '../support/db.ts';

const t = useTestDatabase();

const cfg = (c: unknown): PipelineConfig => c as PipelineConfig;

const base = cfg({
  resources: [
    { name: 'repo', type: 'git', source: { uri: 'https://example.com/repo.git' }, check_every: '5m' },
    { name: 'image', type: 'registry-image', source: { repository: 'busybox' }, version: { digest: 'sha256:abc' } },
    { name: 'out', type: 'mock', source: {} },
  ],
  jobs: [
    { name: 'unit', serial: true, plan: [{ get: 'repo', trigger: true }, { task: 't', file: 'repo/t.yml' }] },
    { name: 'itest', plan: [{ get: 'repo', trigger: true, passed: ['unit'] }, { get: 'image' }] },
    {
      name: 'ship',
      serial_groups: ['deploys'],
      plan: [{ get: 'repo', passed: ['unit', 'itest'] }, { put: 'out', params: { x: 1 } }],
    },
  ],
});

async function ids(table: 'jobs' | 'resources', pipelineId: number): Promise<Map<string, { id: number; active: boolean }>> {
  const { db } = t;
  const r = await db.query<{ id: number; name: string; active: boolean }>(`SELECT id, name, active FROM ${table} WHERE pipeline_id = $1`, [
    pipelineId,
  ]);
  return new Map(r.rows.map((x) => [x.name, { id: x.id, active: x.active }]));
}

async function snapshot(pipelineId: number): Promise<unknown> {
  const { db } = t;
  const tables = {
    pipelines: `SELECT * FROM pipelines WHERE id = ${pipelineId}`,
    jobs: `SELECT * FROM jobs WHERE pipeline_id = ${pipelineId} ORDER BY id`,
    resources: `SELECT * FROM resources WHERE pipeline_id = ${pipelineId} ORDER BY id`,
    resource_types: `SELECT * FROM resource_types WHERE pipeline_id = ${pipelineId} ORDER BY id`,
    job_inputs: `SELECT ji.* FROM job_inputs ji JOIN jobs j ON j.id = ji.job_id WHERE j.pipeline_id = ${pipelineId} ORDER BY ji.id`,
    job_outputs: `SELECT o.* FROM job_outputs o JOIN jobs j ON j.id = o.job_id WHERE j.pipeline_id = ${pipelineId} ORDER BY 1, 2`,
    serial: `SELECT g.* FROM jobs_serial_groups g JOIN jobs j ON j.id = g.job_id WHERE j.pipeline_id = ${pipelineId} ORDER BY 1, 2`,
    pins: `SELECT p.* FROM resource_pins p JOIN resources r ON r.id = p.resource_id WHERE r.pipeline_id = ${pipelineId} ORDER BY 1`,
  };
  const out: Record<string, unknown> = {};
  for (const [k, q] of Object.entries(tables)) out[k] = (await db.query(q)).rows;
  return out;
}

test('creating a pipeline stores it paused with its jobs, resources, inputs, outputs, serial groups and config pins', async () => {
  const { db } = t;
  const r = await savePipeline(db, { team: 'main', name: 'create', config: base });
  assert.equal(r.created, true);
  assert.ok(r.version > 0);
  const p = await getPipeline(db, { team: 'main', name: 'create' });
  assert.equal(p?.id, r.pipelineId);
  assert.equal(p?.paused, true);
  assert.equal(p?.version, r.version);

  const jobs = await ids('jobs', r.pipelineId);
  const resources = await ids('resources', r.pipelineId);
  assert.deepEqual([...jobs.keys()].sort(), ['itest', 'ship', 'unit']);
  assert.deepEqual([...resources.keys()].sort(), ['image', 'out', 'repo']);

  const inputs = await db.query<{ job: string; name: string; resource: string; passed: string | null; trigger: boolean; version: unknown }>(
    `SELECT j.name AS job, ji.name, r.name AS resource, pj.name AS passed, ji.trigger, ji.version
       FROM job_inputs ji JOIN jobs j ON j.id = ji.job_id JOIN resources r ON r.id = ji.resource_id
       LEFT JOIN jobs pj ON pj.id = ji.passed_job_id
      WHERE j.pipeline_id = $1 ORDER BY j.name, ji.name, pj.name NULLS FIRST`,
    [r.pipelineId],
  );
  assert.deepEqual(inputs.rows, [
    { job: 'itest', name: 'image', resource: 'image', passed: null, trigger: false, version: 'latest' },
    { job: 'itest', name: 'repo', resource: 'repo', passed: 'unit', trigger: true, version: 'latest' },
    { job: 'ship', name: 'repo', resource: 'repo', passed: 'itest', trigger: false, version: 'latest' },
    { job: 'ship', name: 'repo', resource: 'repo', passed: 'unit', trigger: false, version: 'latest' },
    { job: 'unit', name: 'repo', resource: 'repo', passed: null, trigger: true, version: 'latest' },
  ]);
  const outputs = await db.query(
    `SELECT j.name AS job, o.name, r.name AS resource FROM job_outputs o JOIN jobs j ON j.id = o.job_id
       JOIN resources r ON r.id = o.resource_id WHERE j.pipeline_id = $1`,
    [r.pipelineId],
  );
  assert.deepEqual(outputs.rows, [{ job: 'ship', name: 'out', resource: 'out' }]);
  const groups = await db.query(
    `SELECT j.name AS job, g.serial_group FROM jobs_serial_groups g JOIN jobs j ON j.id = g.job_id
      WHERE j.pipeline_id = $1 ORDER BY 1`,
    [r.pipelineId],
  );
  assert.deepEqual(groups.rows, [
    { job: 'ship', serial_group: 'deploys' },
    { job: 'unit', serial_group: 'unit' },
  ]);
  const mif = await db.query(`SELECT name, max_in_flight FROM jobs WHERE pipeline_id = $1 ORDER BY name`, [r.pipelineId]);
  assert.deepEqual(mif.rows, [
    { name: 'itest', max_in_flight: 0 },
    { name: 'ship', max_in_flight: 1 },
    { name: 'unit', max_in_flight: 1 },
  ]);
  const pins = await db.query(`SELECT resource_id, version, config FROM resource_pins WHERE resource_id = $1`, [resources.get('image')?.id]);
  assert.deepEqual(pins.rows, [{ resource_id: resources.get('image')?.id, version: { digest: 'sha256:abc' }, config: true }]);
  const due = await db.query(`SELECT count(*)::int AS n FROM jobs WHERE pipeline_id = $1 AND schedule_requested > last_scheduled`, [
    r.pipelineId,
  ]);
  assert.equal(due.rows[0]?.n, 3, 'every job gets scheduling requested');
});

test('updating keeps ids, bumps the version, accepts the current expectedVersion, and requests scheduling', async () => {
  const { db } = t;
  const first = await savePipeline(db, { team: 'main', name: 'update', config: base });
  const before = await ids('jobs', first.pipelineId);
  await db.query(`UPDATE jobs SET schedule_requested = 'epoch', last_scheduled = now() WHERE pipeline_id = $1`, [first.pipelineId]);
  await unpausePipeline(db, { team: 'main', name: 'update' });

  const changed = cfg({ ...base, resources: base.resources?.map((r) => (r.name === 'image' ? { ...r, version: undefined } : r)) });
  const second = await savePipeline(db, { team: 'main', name: 'update', config: changed, expectedVersion: first.version });
  assert.equal(second.created, false);
  assert.equal(second.pipelineId, first.pipelineId);
  assert.ok(second.version > first.version);
  assert.deepEqual(await ids('jobs', first.pipelineId), before);
  assert.equal((await getPipeline(db, { team: 'main', name: 'update' }))?.paused, false, 'an update does not re-pause');
  assert.equal((await db.query('SELECT 1 FROM resource_pins WHERE resource_id IN (SELECT id FROM resources WHERE pipeline_id = $1)', [first.pipelineId])).rowCount, 0, 'the config pin is gone with the config');
  const due = await db.query(`SELECT count(*)::int AS n FROM jobs WHERE pipeline_id = $1 AND active AND schedule_requested > last_scheduled`, [
    first.pipelineId,
  ]);
  assert.equal(due.rows[0]?.n, 3, 'saving requests scheduling of every job');
  const stored = await getPipelineConfig(db, { team: 'main', name: 'update' });
  assert.equal(stored?.version, second.version);
  assert.deepEqual(stored?.config, JSON.parse(JSON.stringify(changed)));
});

test('a stale expectedVersion is refused, names both versions, and changes nothing', async () => {
  const { db } = t;
  const first = await savePipeline(db, { team: 'main', name: 'stale', config: base });
  const second = await savePipeline(db, { team: 'main', name: 'stale', config: base, expectedVersion: first.version });
  const before = await snapshot(first.pipelineId);
  const other = cfg({ resources: [{ name: 'x', type: 'mock' }], jobs: [{ name: 'only', plan: [{ get: 'x' }] }] });
  await assert.rejects(savePipeline(db, { team: 'main', name: 'stale', config: other, expectedVersion: first.version }), (err: unknown) => {
    assert.ok(err instanceof StaleConfigVersionError);
    assert.ok(err.message.includes(String(first.version)), err.message);
    assert.ok(err.message.includes(String(second.version)), err.message);
    assert.equal(err.expectedVersion, first.version);
    assert.equal(err.currentVersion, second.version);
    return true;
  });
  assert.deepEqual(await snapshot(first.pipelineId), before);
  // expecting a new pipeline (0) when it exists is stale too; expecting an existing one when there is none as well
  await assert.rejects(savePipeline(db, { team: 'main', name: 'stale', config: other, expectedVersion: 0 }), StaleConfigVersionError);
  await assert.rejects(savePipeline(db, { team: 'main', name: 'nope', config: other, expectedVersion: 5 }), StaleConfigVersionError);
  assert.equal(await getPipeline(db, { team: 'main', name: 'nope' }), undefined);
});

test('a save that fails half-way changes nothing', async () => {
  const { db } = t;
  const first = await savePipeline(db, { team: 'main', name: 'atomic', config: base });
  const before = await snapshot(first.pipelineId);
  const broken = cfg({
    resources: [...(base.resources ?? []), { name: 'new-one', type: 'mock' }],
    jobs: [...(base.jobs ?? []), { name: 'bad', plan: [{ get: 'missing-resource' }] }],
  });
  await assert.rejects(savePipeline(db, { team: 'main', name: 'atomic', config: broken }), InvalidConfigError);
  assert.deepEqual(await snapshot(first.pipelineId), before);
  await assert.rejects(savePipeline(db, { team: 'main', name: 'atomic-new', config: broken }), InvalidConfigError);
  assert.equal(await getPipeline(db, { team: 'main', name: 'atomic-new' }), undefined, 'no half-created pipeline');
  await assert.rejects(savePipeline(db, { team: 'nobody', name: 'x', config: base }), NotFoundError);
});

test('old_name renames keep ids and version history; removed things become inactive and come back with their history', async () => {
  const { db } = t;
  const first = await savePipeline(db, { team: 'main', name: 'renames', config: base });
  const res1 = await ids('resources', first.pipelineId);
  const jobs1 = await ids('jobs', first.pipelineId);
  const repoId = res1.get('repo')!.id;
  const rc = await findOrCreateResourceConfig(db, { baseType: 'git' }, { uri: 'https://example.com/repo.git' });
  const scope = await findOrCreateScope(db, rc.id, repoId);
  await setResourceScope(db, repoId, scope);
  await saveVersions(db, scope.id, [{ version: { ref: 'a' } }, { version: { ref: 'b' } }]);
  const build = await db.query<{ id: number }>(
    `INSERT INTO builds (name, job_id, pipeline_id, team_id, status) SELECT '1', $1, $2, team_id, 'succeeded' FROM pipelines WHERE id = $2 RETURNING id`,
    [jobs1.get('unit')!.id, first.pipelineId],
  );

  const renamed = cfg({
    resources: [
      { name: 'source', old_name: 'repo', type: 'git', source: { uri: 'https://example.com/repo.git' } },
      { name: 'out', type: 'mock', source: {} },
    ],
    jobs: [
      { name: 'test', old_name: 'unit', plan: [{ get: 'source', trigger: true }] },
      { name: 'ship', plan: [{ get: 'source', passed: ['test'] }, { put: 'out' }] },
    ],
  });
  await savePipeline(db, { team: 'main', name: 'renames', config: renamed });
  const res2 = await ids('resources', first.pipelineId);
  const jobs2 = await ids('jobs', first.pipelineId);
  assert.deepEqual(res2.get('source'), { id: repoId, active: true });
  assert.equal(res2.has('repo'), false);
  assert.deepEqual(res2.get('image'), { id: res1.get('image')!.id, active: false }, 'removed resource is inactive, not deleted');
  assert.deepEqual(jobs2.get('test'), { id: jobs1.get('unit')!.id, active: true });
  assert.deepEqual(jobs2.get('itest'), { id: jobs1.get('itest')!.id, active: false });
  assert.deepEqual(
    (await listVersions(db, scope.id)).map((v) => v.version),
    [{ ref: 'b' }, { ref: 'a' }],
    'the renamed resource keeps its versions',
  );
  const b = await db.query<{ job_id: number }>('SELECT job_id FROM builds WHERE id = $1', [build.rows[0]!.id]);
  assert.equal(b.rows[0]?.job_id, jobs1.get('unit')!.id, 'the renamed job keeps its builds');
  const inputs = await db.query(`SELECT count(*)::int AS n FROM job_inputs WHERE job_id = $1`, [jobs1.get('itest')!.id]);
  assert.equal(inputs.rows[0]?.n, 0, 'an inactive job has no inputs');

  // re-adding brings back the same rows, active
  await savePipeline(db, { team: 'main', name: 'renames', config: cfg({ ...renamed, resources: [...(renamed.resources ?? []), base.resources![1]!], jobs: [...(renamed.jobs ?? []), { name: 'itest', plan: [{ get: 'image' }] }] }) });
  const res3 = await ids('resources', first.pipelineId);
  const jobs3 = await ids('jobs', first.pipelineId);
  assert.deepEqual(res3.get('image'), { id: res1.get('image')!.id, active: true });
  assert.deepEqual(jobs3.get('itest'), { id: jobs1.get('itest')!.id, active: true });
});

test('two renames that swap names work', async () => {
  const { db } = t;
  const c = cfg({ resources: [{ name: 'a', type: 'mock' }, { name: 'b', type: 'mock' }], jobs: [] });
  const r = await savePipeline(db, { team: 'main', name: 'swap', config: c });
  const before = await ids('resources', r.pipelineId);
  await savePipeline(db, {
    team: 'main',
    name: 'swap',
    config: cfg({ resources: [{ name: 'a', old_name: 'b', type: 'mock' }, { name: 'b', old_name: 'a', type: 'mock' }], jobs: [] }),
  });
  const after = await ids('resources', r.pipelineId);
  assert.equal(after.get('a')?.id, before.get('b')?.id);
  assert.equal(after.get('b')?.id, before.get('a')?.id);
});

test('pause, unpause, rename and delete', async () => {
  const { db } = t;
  const r = await savePipeline(db, { team: 'main', name: 'life', config: base });
  const ref = { team: 'main', name: 'life' };
  await unpausePipeline(db, ref);
  assert.equal((await getPipeline(db, ref))?.paused, false);
  await pausePipeline(db, ref, 'admin');
  assert.equal((await getPipeline(db, ref))?.paused, true);

  await savePipeline(db, { team: 'main', name: 'other', config: base });
  await assert.rejects(renamePipeline(db, ref, 'other'), ConflictError);
  await renamePipeline(db, ref, 'life2');
  assert.equal(await getPipeline(db, ref), undefined);
  assert.equal((await getPipeline(db, { team: 'main', name: 'life2' }))?.id, r.pipelineId);

  await deletePipeline(db, { team: 'main', name: 'life2' });
  assert.equal(await getPipeline(db, { team: 'main', name: 'life2' }), undefined);
  assert.equal((await db.query('SELECT 1 FROM jobs WHERE pipeline_id = $1', [r.pipelineId])).rowCount, 0);
  await assert.rejects(deletePipeline(db, { team: 'main', name: 'life2' }), NotFoundError);
  await assert.rejects(pausePipeline(db, { team: 'main', name: 'life2' }), NotFoundError);
});

test('instanced pipelines are distinct from the plain one of the same name', async () => {
  const { db } = t;
  const plain = await savePipeline(db, { team: 'main', name: 'inst', config: base });
  const a = await savePipeline(db, { team: 'main', name: 'inst', instanceVars: { branch: 'a' }, config: base });
  const b = await savePipeline(db, { team: 'main', name: 'inst', instanceVars: { branch: 'b' }, config: base });
  assert.equal(new Set([plain.pipelineId, a.pipelineId, b.pipelineId]).size, 3);
  const again = await savePipeline(db, { team: 'main', name: 'inst', instanceVars: { branch: 'a' }, config: base });
  assert.equal(again.pipelineId, a.pipelineId);
  assert.equal(again.created, false);
});

test('concurrent saves with the same expectedVersion: exactly one wins', async () => {
  const { db } = t;
  const first = await savePipeline(db, { team: 'main', name: 'race', config: base });
  const results = await Promise.allSettled(
    [0, 1, 2, 3].map(() => savePipeline(db, { team: 'main', name: 'race', config: base, expectedVersion: first.version })),
  );
  assert.equal(results.filter((x) => x.status === 'fulfilled').length, 1);
  for (const x of results) if (x.status === 'rejected') assert.ok(x.reason instanceof StaleConfigVersionError);
  // and concurrent creates of one new pipeline make one pipeline
  const created = await Promise.all([0, 1, 2].map(() => savePipeline(db, { team: 'main', name: 'race-new', config: base })));
  assert.equal(new Set(created.map((c) => c.pipelineId)).size, 1);
  assert.equal(created.filter((c) => c.created).length, 1);
});
