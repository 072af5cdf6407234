// Finding 5 of issue 16 (set-pipeline must not block the web node): a pipeline config is parsed
// and validated in a worker thread (src/config/off-thread.ts), so other requests are answered
// while it is. The test holds the worker at a gate once its load has started, and sees
// /api/v1/info answered and the PUT still pending: on the event loop, the load would either have
// finished or be holding every other request. Ordering, not timing.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { PipelineLoader } from '../../src/config/off-thread.ts';
import { PIPELINE_LIMITS } from '../../src/config/validate.ts';
import { startTenants, type Tenants } from './tenants.ts';

const yaml = { 'content-type': 'application/x-yaml' };
const gate = new SharedArrayBuffer(8);
const cells = new Int32Array(gate);
const loader = new PipelineLoader({ gate, timeoutMs: 120_000 });
const impatient = new PipelineLoader({ gate, timeoutMs: 1_000 });

let t: Tenants;
let slow: Tenants;
before(async () => {
  t = await startTenants({ pipelineLoader: loader });
  slow = await startTenants({ pipelineLoader: impatient });
});
after(async () => {
  await loader.close();
  await impatient.close();
  await slow?.close();
  await t?.close();
});

async function until(condition: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 1_200 && !condition(); i++) await new Promise((r) => setTimeout(r, 50));
  assert.ok(condition(), `waited 60 s for ${what}`);
}

test('while a large config is being validated, the web node answers other requests', { timeout: 180_000 }, async () => {
  // as many jobs as a pipeline may have, within the 1 MiB limit
  let config = 'resources:\n- name: r\n  type: mock\n  source: {}\njobs:\n';
  for (let i = 0; i < PIPELINE_LIMITS.jobs; i++) config += `- name: j${i}\n  plan:\n  - get: r\n    trigger: true\n`;
  const order: string[] = [];
  Atomics.store(cells, 0, 0);
  Atomics.store(cells, 1, 0);
  const put = t.as('alice', 'PUT', '/api/v1/teams/a/pipelines/big/config', config, yaml).then((res) => {
    order.push('config saved');
    return res;
  });
  await until(() => Atomics.load(cells, 1) === 1, 'the worker to start validating');
  order.push('validation started');

  const info = await t.as('bob', 'GET', '/api/v1/info');
  assert.equal(info.statusCode, 200, info.body);
  const pipelines = await t.as('bob', 'GET', '/api/v1/teams/b/pipelines');
  assert.equal(pipelines.statusCode, 200, pipelines.body);
  order.push('other requests answered');

  Atomics.store(cells, 0, 1);
  Atomics.notify(cells, 0);
  const res = await put;
  assert.equal(res.statusCode, 201, res.body);
  assert.deepEqual(order, ['validation started', 'other requests answered', 'config saved']);
  const jobs = await t.api.t.db.query<{ n: number }>(`SELECT count(*)::int AS n FROM jobs j JOIN pipelines p ON p.id = j.pipeline_id WHERE p.name = 'big'`);
  assert.equal(jobs.rows[0]?.n, PIPELINE_LIMITS.jobs);
});

test('a validation that takes longer than its limit is a 400 saying so, and saves nothing', { timeout: 120_000 }, async () => {
  Atomics.store(cells, 0, 0); // the gate stays closed: the load never finishes
  const res = await slow.as('alice', 'PUT', '/api/v1/teams/a/pipelines/stuck/config', 'jobs: [{name: a, plan: []}]\n', yaml);
  assert.equal(res.statusCode, 400, res.body);
  assert.deepEqual(res.json<{ code: string; errors: string[] }>().errors, ['validating the pipeline took longer than 1 s']);
  assert.equal(res.json<{ code: string }>().code, 'JW_INVALID_CONFIG');
  const rows = await slow.api.t.db.query(`SELECT 1 FROM pipelines WHERE name = 'stuck'`);
  assert.equal(rows.rowCount, 0);
  Atomics.store(cells, 0, 1);
  Atomics.notify(cells, 0);
});
