// Finding 5 of issue 16 (pipeline size): a small config whose `passed` globs expand to a pair
// of jobs per match froze the web node for minutes; such configs are refused before validation
// with a 400 naming the limit, large bodies with a 413, and a big valid pipeline saves its
// passed constraints in one statement per input. Speed goals are in `npm run bench`
// (validate_ms); the timeout here only stops the old code from hanging the suite.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { PIPELINE_LIMITS } from '../../src/config/validate.ts';
import { startTenants, type Tenants } from './tenants.ts';

let t: Tenants;
before(async () => {
  t = await startTenants();
});
after(async () => t?.close());

const yaml = { 'content-type': 'application/x-yaml' };

function jobs(n: number, passed: (i: number) => string | undefined, name = (i: number) => `j${i}`): string {
  let y = 'resources:\n- name: r\n  type: mock\n  source: {}\njobs:\n';
  for (let i = 0; i < n; i++) {
    const p = passed(i);
    y += `- name: ${name(i)}\n  plan:\n  - get: r\n${p ? `    passed: [${JSON.stringify(p)}]\n` : ''}`;
  }
  return y;
}

test('the 48 KB config of the review (800 jobs, passed: ["j*"]) is refused before validation', { timeout: 60_000 }, async () => {
  const config = jobs(800, (i) => (i > 0 ? 'j*' : undefined));
  assert.ok(config.length < 48 * 1024);
  const res = await t.as('alice', 'PUT', '/api/v1/teams/a/pipelines/glob/config', config, yaml);
  assert.equal(res.statusCode, 400, res.body);
  assert.deepEqual(res.json<{ errors: string[]; code: string }>().errors, [
    `line 6, column 1: jobs: the jobs' passed constraints name more than ${PIPELINE_LIMITS.passedPairs} upstream jobs in all (globs expanded): narrow the globs`,
  ]);
});

test('too many jobs is a 400 naming the limit', async () => {
  const res = await t.as('alice', 'PUT', '/api/v1/teams/a/pipelines/many/config', jobs(PIPELINE_LIMITS.jobs + 1, () => undefined), yaml);
  assert.equal(res.statusCode, 400, res.body);
  assert.match(res.json<{ errors: string[] }>().errors.join('\n'), new RegExp(`jobs: ${PIPELINE_LIMITS.jobs + 1} jobs: a pipeline may have at most ${PIPELINE_LIMITS.jobs}`));
});

test('a config larger than the limit is a 413 saying the limit', async () => {
  const res = await t.as('alice', 'PUT', '/api/v1/teams/a/pipelines/big/config', `# ${'x'.repeat(1024 * 1024)}\n${jobs(1, () => undefined)}`, yaml);
  assert.equal(res.statusCode, 413, res.body);
  assert.deepEqual(res.json(), { error: "the request body is larger than the server's limit of 1048576 bytes (1 MiB)", code: 'JW_BODY_TOO_LARGE' });
});

test('a 300-job pipeline with glob passed saves every pair', async () => {
  const config = jobs(300, (i) => (i >= 10 ? 'build-*' : undefined), (i) => (i < 10 ? `build-${i}` : `test-${i}`));
  const res = await t.as('alice', 'PUT', '/api/v1/teams/a/pipelines/fan/config', config, yaml);
  assert.equal(res.statusCode, 201, res.body);
  const rows = await t.api.t.db.query<{ n: number; passed: number }>(
    `SELECT count(*)::int AS n, count(passed_job_id)::int AS passed FROM job_inputs i JOIN jobs j ON j.id = i.job_id JOIN pipelines p ON p.id = j.pipeline_id WHERE p.name = 'fan'`,
  );
  assert.deepEqual(rows.rows[0], { n: 10 + 290 * 10, passed: 290 * 10 });
});
