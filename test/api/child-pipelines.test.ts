// Pipelines set by a set_pipeline step (Concourse's child pipelines): the pipeline JSON names the
// job and build that set them (atc.Pipeline's parent_job_id / parent_build_id), and they are
// archived, with the pipelines they set in turn, when what set them goes: the setting job is
// removed from its pipeline, or that pipeline is archived or destroyed (Concourse's
// ArchiveAbandonedPipelines, atc/db/pipeline_lifecycle.go; testflight/set_pipeline_test.go).
// A real engine, API and Postgres; an archived pipeline's config is 404 as Concourse's.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startApi, type TestApi } from './helpers.ts';
import { startTestNode, type TestNode } from '../support/node.ts';

let node: TestNode;
let api: TestApi;
before(async () => {
  node = await startTestNode();
  api = await startApi({}, node.tdb);
});
after(async () => {
  await api.close();
  await node.stop();
});

/** A job that writes `pipeline` to o/p.yml and sets it as `name`. */
function setterJob(job: string, name: string, pipeline: string): string {
  return `- name: ${job}
  plan:
  - task: make
    config:
      platform: linux
      outputs: [{name: o}]
      params: {PIPELINE: ${JSON.stringify(pipeline)}}
      run: {path: sh, args: [-c, 'printf "%s" "$PIPELINE" > o/p.yml']}
  - set_pipeline: ${name}
    file: o/p.yml
`;
}

const LEAF = `jobs:
- name: leaf
  plan:
  - task: t
    config: {platform: linux, run: {path: 'true'}}
`;
const KEEP = `- name: keep
  plan:
  - task: t
    config: {platform: linux, run: {path: 'true'}}
`;
// the child sets a grandchild, so archiving goes all the way down
const CHILD = `jobs:\n${setterJob('set-grandchild', 'grandchild', LEAF)}`;
const parent = (child: string, withSetter = true): string => `jobs:\n${KEEP}${withSetter ? setterJob('set-child', child, CHILD) : ''}`;

interface PipelineJson {
  id: number;
  archived: boolean;
  paused: boolean;
  parent_build_id?: number;
  parent_job_id?: number;
}

async function pipeline(name: string): Promise<PipelineJson> {
  const res = await api.app.inject({ url: `/api/v1/teams/main/pipelines/${name}`, headers: api.auth() });
  assert.equal(res.statusCode, 200, res.body);
  return res.json() as PipelineJson;
}

async function jobId(pipelineName: string, job: string): Promise<number> {
  const res = await api.app.inject({ url: `/api/v1/teams/main/pipelines/${pipelineName}/jobs/${job}`, headers: api.auth() });
  return (res.json() as { id: number }).id;
}

/** Sets `parentName` with its setter, runs it and the child's, and returns the pipelines' ids. */
async function family(parentName: string, child: string): Promise<{ parentId: number; childId: number }> {
  const parentId = await node.setPipeline(parentName, parent(child));
  const set = await node.trigger(parentId, 'set-child');
  assert.equal(set.status, 'succeeded', await node.logs(set.id));
  const childId = (await pipeline(child)).id;
  const setGrandchild = await node.trigger(childId, 'set-grandchild');
  assert.equal(setGrandchild.status, 'succeeded', await node.logs(setGrandchild.id));
  const grandchild = await pipeline('grandchild');
  assert.equal(grandchild.archived, false);
  return { parentId, childId };
}

test('a pipeline set by a build names the job and build that set it; one set through the API names none', async () => {
  const parentId = await node.setPipeline('p-shape', parent('c-shape'));
  const set = await node.trigger(parentId, 'set-child');
  assert.equal(set.status, 'succeeded', await node.logs(set.id));
  const child = await pipeline('c-shape');
  assert.deepEqual({ parent_build_id: child.parent_build_id, parent_job_id: child.parent_job_id, archived: child.archived }, {
    parent_build_id: set.id,
    parent_job_id: await jobId('p-shape', 'set-child'),
    archived: false,
  });
  const own = await pipeline('p-shape');
  assert.equal('parent_build_id' in own, false);
  assert.equal('parent_job_id' in own, false);
});

test('removing the job that set a pipeline archives it and what it set; its config is then 404', async () => {
  await family('p-removed', 'c-removed');
  await node.setPipeline('p-removed', parent('c-removed', false));
  assert.equal((await pipeline('c-removed')).archived, true);
  assert.equal((await pipeline('grandchild')).archived, true, 'the grandchild too');
  const config = await api.app.inject({ url: '/api/v1/teams/main/pipelines/c-removed/config', headers: api.auth() });
  assert.equal(config.statusCode, 404);
  assert.equal((await pipeline('p-removed')).archived, false, 'the parent stays');
});

test("archiving a pipeline archives the pipelines its jobs set, all the way down", async () => {
  await family('p-archived', 'c-archived');
  const res = await api.app.inject({ method: 'PUT', url: '/api/v1/teams/main/pipelines/p-archived/archive', headers: api.auth() });
  assert.equal(res.statusCode, 200, res.body);
  assert.deepEqual([(await pipeline('c-archived')).archived, (await pipeline('grandchild')).archived], [true, true]);
});

test('destroying a pipeline archives the pipelines its jobs set (they are kept, as Concourse keeps them)', async () => {
  await family('p-destroyed', 'c-destroyed');
  const res = await api.app.inject({ method: 'DELETE', url: '/api/v1/teams/main/pipelines/p-destroyed', headers: api.auth() });
  assert.equal(res.statusCode, 204, res.body);
  const child = await pipeline('c-destroyed');
  assert.deepEqual({ archived: child.archived, paused: child.paused }, { archived: true, paused: true });
  assert.equal((await pipeline('grandchild')).archived, true);
});

test('a child set again by its parent is unarchived; an unrelated pipeline is never touched', async () => {
  const other = await node.setPipeline('bystander', LEAF);
  await family('p-again', 'c-again');
  await node.setPipeline('p-again', parent('c-again', false));
  assert.equal((await pipeline('c-again')).archived, true);
  const parentId = await node.setPipeline('p-again', parent('c-again'));
  const set = await node.trigger(parentId, 'set-child');
  assert.equal(set.status, 'succeeded', await node.logs(set.id));
  assert.equal((await pipeline('c-again')).archived, false);
  assert.equal((await pipeline('bystander')).archived, false);
  assert.ok(other > 0);
});
