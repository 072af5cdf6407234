// The build the engine runs, read in one statement with its plan and its pipeline's config
// (src/db/engine-store.ts buildToRun(): the engine asks nothing more before its first step).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createManualBuild, createOneOffBuild, startBuild } from '../../src/db/builds.ts';
import { PostgresEngineStore } from '../../src/db/engine-store.ts';
import { savePipeline } from '../../src/db/pipelines.ts';
import type { PipelineConfig } from '../../src/config/index.ts';
import type { Plan } from '../../src/model/plan.ts';
import { useTestDatabase } from '../support/db.ts';

const t = useTestDatabase();

const config: PipelineConfig = {
  resource_types: [{ name: 't', type: 'mock', source: { k: 'v' } }],
  jobs: [{ name: 'j', plan: [{ task: 'x', config: { platform: 'linux', run: { path: 'true' } } }] }],
};
const plan = { id: 'p1', task: { name: 'x', config: { platform: 'linux', run: { path: 'true' } } } } as unknown as Plan;

test('a job build: its record, the plan it started with and its pipeline config, in one statement', async () => {
  const { db } = t;
  const { pipelineId } = await savePipeline(db, { team: 'main', name: 'run', config });
  const jobId = (await db.query<{ id: number }>('SELECT id FROM jobs WHERE pipeline_id = $1', [pipelineId])).rows[0]!.id;
  const pending = await createManualBuild(db, jobId);
  let statements = 0;
  const store = new PostgresEngineStore({ ...db, query: (text: string, values?: readonly unknown[]) => (statements++, db.query(text, values)) } as typeof db);
  const before = await store.buildToRun(pending.id);
  assert.equal(before?.plan, undefined, 'a pending build has no plan yet');
  assert.ok(await startBuild(db, pending.id, plan));
  const run = await store.buildToRun(pending.id);
  assert.equal(statements, 2);
  assert.equal(run?.build.id, pending.id);
  assert.equal(run?.build.jobName, 'j');
  assert.equal(run?.build.pipelineName, 'run');
  assert.equal(run?.build.teamName, 'main');
  assert.deepEqual(run?.plan, plan);
  assert.deepEqual(run?.pipelineConfig?.resource_types, config.resource_types);
  assert.equal(await store.buildToRun(999_999), undefined);
});

test('a one-off build: no pipeline config', async () => {
  const { db } = t;
  const oneOff = await createOneOffBuild(db, 1, plan);
  const run = await new PostgresEngineStore(db).buildToRun(oneOff.id);
  assert.deepEqual(run?.plan, plan);
  assert.equal(run?.pipelineConfig, undefined);
});
