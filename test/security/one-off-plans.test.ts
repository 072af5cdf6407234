// Finding 2 of issue 16: a one-off plan is checked as strictly as a pipeline (templates
// included), every artifact it names must be the caller's team's, and an upload stays its
// team's even after another team's build claimed it.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tar from 'tar';
import { PostgresEngineStore } from '../../src/db/engine-store.ts';
import { checkPlan, PLAN_LIMITS } from '../../src/api/plan-check.ts';
import { startTenants, type Tenants } from './tenants.ts';

let t: Tenants;
let dir: string;
const tracked: number[] = [];

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'jw-sec-plans-'));
  t = await startTenants({ artifactsDir: join(dir, 'store'), engine: { abortBuild: () => undefined, track: (id) => void tracked.push(id) } });
});
after(async () => {
  await t?.close();
  rmSync(dir, { recursive: true, force: true });
});

async function tarball(): Promise<Buffer> {
  const src = mkdtempSync(join(dir, 'src-'));
  const chunks: Buffer[] = [];
  for await (const chunk of tar.c({ gzip: true, cwd: src, portable: true }, ['.'])) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

async function uploadAs(user: 'alice' | 'bob', team: string): Promise<number> {
  const res = await t.as(user, 'POST', `/api/v1/teams/${team}/artifacts`, await tarball(), { 'content-type': 'application/gzip' });
  assert.equal(res.statusCode, 201, res.body);
  return res.json<{ id: number }>().id;
}

const TASK = { name: 'one-off', config: { platform: 'linux', inputs: [{ name: 'src' }], run: { path: 'ls', args: ['src'] } } };
const acrossPlan = (artifactId: number) => ({
  id: 'root',
  across: {
    vars: [{ name: 'x', values: [1] }],
    substep_template: JSON.stringify({ id: 't', do: [{ id: 'in', artifact_input: { artifact_id: artifactId, name: 'src' } }, { id: 'task', task: TASK }] }),
  },
});

test("a member of team b cannot name team a's upload in an across template", async () => {
  const secret = await uploadAs('alice', 'a');
  const res = await t.as('bob', 'POST', '/api/v1/teams/b/builds', acrossPlan(secret));
  assert.equal(res.statusCode, 400, res.body);
  assert.deepEqual(res.json(), {
    errors: [`body.across.substep_template.do[0].artifact_input.artifact_id: artifact ${secret} not found in team b`],
    code: 'JW_INVALID_PLAN',
  });
  assert.deepEqual(tracked, [], 'no build was handed to the engine');
  // the same plan with bob's own upload runs
  const own = await uploadAs('bob', 'b');
  const ok = await t.as('bob', 'POST', '/api/v1/teams/b/builds', acrossPlan(own));
  assert.equal(ok.statusCode, 201, ok.body);
});

test("an upload of team a claimed by a build of team b is still not downloadable under team b's URL", async () => {
  const secret = await uploadAs('alice', 'a');
  const own = await uploadAs('bob', 'b');
  const res = await t.as('bob', 'POST', '/api/v1/teams/b/builds', acrossPlan(own));
  assert.equal(res.statusCode, 201, res.body);
  // what the engine's artifact_input step did before plans were checked: it claims by id
  await new PostgresEngineStore(t.api.t.db).claimUploadedArtifact(secret, res.json<{ id: number }>().id);
  const stolen = await t.as('bob', 'GET', `/api/v1/teams/b/artifacts/${secret}`);
  assert.equal(stolen.statusCode, 404);
  assert.deepEqual(stolen.json(), { error: `artifact ${secret} of team b not found`, code: 'JW_ARTIFACT_NOT_FOUND' });
  const owner = await t.as('alice', 'GET', `/api/v1/teams/a/artifacts/${secret}`);
  assert.equal(owner.statusCode, 200, 'the owning team still reads it');
  const listed = await t.as('bob', 'GET', `/api/v1/teams/b/artifacts/${own}`);
  assert.equal(listed.statusCode, 200, 'bob reads his own upload');
});

test('one-off plans are checked as strictly as a pipeline: shape, names, templates', () => {
  const errs = (plan: unknown) => checkPlan(plan).errors;
  assert.deepEqual(errs({ id: 'a', task: { name: 't', config: { platform: 'linux', run: { path: 'true' } }, bogus: 1 } }), ['body.task: unknown fields: bogus']);
  assert.deepEqual(errs({ id: 'a', task: { name: 't', config: { run: { path: 'true' } } } }), ["body.task.config: missing 'platform'"]);
  assert.deepEqual(errs({ id: 'a', task: { name: 't', config: { platform: 'linux', run: { path: 1 } } } }), ['body.task.config.run.path: Invalid input: expected string, received number']);
  assert.deepEqual(errs({ id: 'a', artifact_input: { name: '../../etc', artifact_id: 1 } }), [`body.artifact_input.name: "../../etc" must not contain '/' or '\\'`]);
  assert.deepEqual(errs({ id: 'a', artifact_input: { name: 'src', artifact_id: 1e20 } }), [
    `body.artifact_input.artifact_id: required: a positive integer (the id POST /teams/:team/artifacts returned), at most ${PLAN_LIMITS.maxId}`,
  ]);
  assert.deepEqual(errs({ id: 'a', across: { vars: [{ name: 'x', values: [1] }], substep_template: '{"id": "t", "task": ' } }), [
    `body.across.substep_template: is not valid JSON: ${(() => {
      try {
        JSON.parse('{"id": "t", "task": ');
      } catch (e) {
        return (e as Error).message;
      }
      return '';
    })()}`,
  ]);
  assert.deepEqual(errs({ id: 'a', across: { vars: [{ name: 'x', values: [1] }], substep_template: JSON.stringify({ id: 't', load_var: { name: 'v' } }) } }), [
    'body.across.substep_template.load_var.file: required: a value',
  ]);
  assert.deepEqual(errs({ id: 'a', in_parallel: { steps: [], limit: 1e300 } }), [`body.in_parallel.limit: must be an integer from 0 to ${PLAN_LIMITS.maxCount}`]);
  assert.deepEqual(errs({ id: 'a', artifact_output: { name: 'o\u0000ut' } }), ['body.artifact_output.name: must not contain a NUL character']);
});

test('deeply nested plans, templates in templates, and many steps are refused with a 400, not a crash', async () => {
  // written as text: JSON.stringify itself overflows the stack on this
  const levels = 20_000;
  const deep = `${'{"id":"n","try":{"step":'.repeat(levels)}{"id":"leaf","artifact_output":{"name":"o"}}${'}}'.repeat(levels)}`;
  const res = await t.as('bob', 'POST', '/api/v1/teams/b/builds', deep, { 'content-type': 'application/json' });
  assert.equal(res.statusCode, 400, res.body);
  assert.equal(res.json<{ code: string }>().code, 'JW_INVALID_PLAN');
  assert.match(res.json<{ errors: string[] }>().errors[0] ?? '', /^body(\.try\.step)*: nested more than 256 levels deep$/);

  // plan depth counts through templates: 2 across levels, then 70 try levels inside the inner one
  let inner: unknown = { id: 'leaf', artifact_output: { name: 'o' } };
  for (let i = 0; i < 70; i++) inner = { id: `n${i}`, try: { step: inner } };
  const across = (sub: unknown) => ({ id: 'x', across: { vars: [{ name: 'x', values: [1] }], substep_template: JSON.stringify(sub) } });
  const nested = checkPlan(across(across(inner))).errors;
  assert.equal(nested.length, 1);
  assert.match(nested[0] ?? '', /plans are nested more than 64 levels deep$/);

  const wide = { id: 'w', do: Array.from({ length: PLAN_LIMITS.maxNodes + 5 }, (_, i) => ({ id: `s${i}`, artifact_output: { name: 'o' } })) };
  assert.deepEqual(checkPlan(wide).errors, [`body.do[${PLAN_LIMITS.maxNodes - 1}]: the plan has more than ${PLAN_LIMITS.maxNodes} steps`]);
  assert.deepEqual(tracked.length, 2, 'only the two good plans of the tests above reached the engine');
});

// CreatePipelineBuild (POST .../pipelines/:p/builds): the pipeline's team's members only, and
// its uploads only; nothing is created otherwise
test("a member of team b cannot create a build in team a's pipeline, nor use team a's upload in its own", async () => {
  const config = 'resources:\n- name: repo\n  type: mock\njobs:\n- name: unit\n  plan:\n  - get: repo\n';
  for (const [user, team] of [
    ['alice', 'a'],
    ['bob', 'b'],
  ] as const) {
    const set = await t.as(user, 'PUT', `/api/v1/teams/${team}/pipelines/p/config`, config, { 'content-type': 'application/x-yaml' });
    assert.ok(set.statusCode === 200 || set.statusCode === 201, set.body);
  }
  const before = tracked.length;
  const plan = { id: '1', get: { name: 'repo', resource: 'repo', version: { version: 'v1' } } };
  const other = await t.as('bob', 'POST', '/api/v1/teams/a/pipelines/p/builds', plan);
  assert.equal(other.statusCode, 403, other.body);
  const ofA = await uploadAs('alice', 'a');
  const own = await t.as('bob', 'POST', '/api/v1/teams/b/pipelines/p/builds', { id: '1', do: [{ id: '2', artifact_input: { artifact_id: ofA, name: 'src' } }, { id: '3', task: TASK }] });
  assert.equal(own.statusCode, 400, own.body);
  assert.match(own.body, new RegExp(`artifact ${ofA} not found in team b`));
  assert.equal(tracked.length, before, 'no build was started');
  const fine = await t.as('alice', 'POST', '/api/v1/teams/a/pipelines/p/builds', plan);
  assert.equal(fine.statusCode, 201, fine.body);
});
