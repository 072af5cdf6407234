// The pending reasons in the API's JSON: the job's pending_reason and a build's, with a failing
// check's error for the team, and without its text for a reader outside the team (a public
// pipeline read without logging in: check errors stay with the team, as Concourse keeps them).
import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { createStartedBuild, finishBuild, saveBuildEvent } from '../../src/db/builds.ts';
import { saveNextInputMapping } from '../../src/db/jobs.ts';
import { buildEvent } from '../../src/model/build-events.ts';
import type { Plan } from '../../src/model/plan.ts';
import { LATEST_VERSION_NOT_FOUND } from '../../src/scheduler/algorithm/types.ts';
import { startApi, type TestApi } from './helpers.ts';

const PIPELINE = 'resources:\n- name: repo\n  type: mock\n  source: {}\njobs:\n- name: unit\n  public: true\n  plan: [{get: repo, trigger: true}]\n';
const base = '/api/v1/teams/main/pipelines/demo';
let api: TestApi;

before(async () => {
  api = await startApi();
  const put = await api.app.inject({ method: 'PUT', url: `${base}/config`, headers: { ...api.auth(), 'content-type': 'application/x-yaml' }, payload: PIPELINE });
  assert.equal(put.statusCode, 201, put.body);
  for (const action of ['unpause', 'expose']) {
    assert.equal((await api.app.inject({ method: 'PUT', url: `${base}/${action}`, headers: api.auth() })).statusCode, 200);
  }
  const db = api.t.db;
  const ids = (await db.query<{ job: number; resource: number; pipeline: number; team: number }>(
    `SELECT j.id AS job, r.id AS resource, p.id AS pipeline, p.team_id AS team
       FROM jobs j JOIN pipelines p ON p.id = j.pipeline_id JOIN resources r ON r.pipeline_id = p.id`,
  )).rows[0]!;
  // the resource's check failed on an undefined var; the scheduler found no version for the input
  const check = await createStartedBuild(db, { teamId: ids.team, pipelineId: ids.pipeline, resourceId: ids.resource, plan: { id: 'c' } as unknown as Plan });
  await saveBuildEvent(db, check.id, buildEvent('error', { message: 'undefined vars: secret_branch', origin: { id: 'c' }, time: 1 }));
  await finishBuild(db, check.id, 'errored');
  await saveNextInputMapping(db, ids.job, { ok: false, hasNext: false, mapping: { repo: { resolveError: LATEST_VERSION_NOT_FOUND } } });
});
after(async () => {
  await api.close();
});

test("the team reads the job's reason with the check's error", async () => {
  const res = await api.app.inject({ method: 'GET', url: `${base}/jobs/unit`, headers: api.auth() });
  assert.equal(res.statusCode, 200, res.body);
  assert.equal((res.json() as { pending_reason?: string }).pending_reason, 'input repo: resource repo has no versions (its check is failing: undefined vars: secret_branch)');
});

test("a public pipeline's reader without a login reads the reason without the check's error", async () => {
  const res = await api.app.inject({ method: 'GET', url: `${base}/jobs/unit` });
  assert.equal(res.statusCode, 200, res.body);
  assert.equal((res.json() as { pending_reason?: string }).pending_reason, 'input repo: resource repo has no versions (its check is failing)');
  assert.ok(!res.body.includes('secret_branch'));
});

test("a pending build's JSON and preparation say the same, the error for the team only", async () => {
  const trigger = await api.app.inject({ method: 'POST', url: `${base}/jobs/unit/builds`, headers: api.auth() });
  assert.equal(trigger.statusCode, 200, trigger.body);
  const id = (trigger.json() as { id: number }).id;
  const team = (await api.app.inject({ method: 'GET', url: `/api/v1/builds/${id}`, headers: api.auth() })).json() as { pending_reason?: string };
  // a manual build first waits for a check of its input (no scheduler runs here)
  assert.equal(team.pending_reason, 'waiting for a check of repo (input repo); its check is failing: undefined vars: secret_branch');
  const anonymous = await api.app.inject({ method: 'GET', url: `/api/v1/builds/${id}/preparation` });
  assert.equal(anonymous.statusCode, 200, anonymous.body);
  assert.deepEqual((anonymous.json() as { reasons: string[] }).reasons, ['waiting for a check of repo (input repo); its check is failing']);
  const list = await api.app.inject({ method: 'GET', url: `${base}/jobs/unit/builds` });
  assert.ok(!list.body.includes('secret_branch'), list.body);
  assert.match(list.body, /"pending_reason":"waiting for a check of repo \(input repo\); its check is failing"/);
  // the job (alone and listed: its builds read as summaries) says its pending next build's reason
  for (const url of [`${base}/jobs/unit`, `${base}/jobs`]) {
    const body = (await api.app.inject({ method: 'GET', url, headers: api.auth() })).json() as { name: string; pending_reason?: string; next_build?: { id: number } };
    const job = Array.isArray(body) ? (body as (typeof body)[]).find((j) => j.name === 'unit')! : body;
    assert.equal(job.next_build?.id, id, url);
    assert.equal(job.pending_reason, 'waiting for a check of repo (input repo); its check is failing: undefined vars: secret_branch', url);
  }
});
