// GET .../pipelines/:p/versions-db: the data input resolution works on, in Concourse's
// atc.DebugVersionsDB shape (atc/api/pipelineserver/get_versions_db.go, atc/db/pipeline.go's
// LoadDebugVersionsDB), from builds a real engine ran.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startApi, type TestApi } from './helpers.ts';
import { startTenants, type Tenants } from '../security/tenants.ts';
import { startTestNode, type TestNode } from '../support/node.ts';

let node: TestNode;
let api: TestApi;
let tenants: Tenants;
before(async () => {
  node = await startTestNode();
  api = await startApi({}, node.tdb);
  // alice and bob: members of teams a and b only (the same database)
  tenants = await startTenants({}, node.tdb);
});
after(async () => {
  await tenants.close();
  await api.close();
  await node.stop();
});

const PIPELINE = `
resources:
- name: repo
  type: mock
  source: {initial_version: v1}
jobs:
- name: unit
  plan:
  - get: repo
- name: ship
  plan:
  - get: repo
    passed: [unit]
`;

test("the versions DB: jobs, resources, versions, a build's inputs and (a succeeded build's) implicit outputs, by id", async () => {
  const id = await node.setPipeline('vdb', PIPELINE);
  await node.checkResource(id, 'repo');
  const unit = await node.trigger(id, 'unit');
  assert.equal(unit.status, 'succeeded', await node.logs(unit.id));
  const res = await api.app.inject({ url: '/api/v1/teams/main/pipelines/vdb/versions-db', headers: api.auth() });
  assert.equal(res.statusCode, 200, res.body);
  const vdb = res.json() as Record<string, unknown[]>;
  assert.deepEqual(Object.keys(vdb).sort(), ['BuildInputs', 'BuildOutputs', 'BuildReruns', 'Jobs', 'ResourceVersions', 'Resources']);
  const jobs = vdb.Jobs as { Name: string; ID: number }[];
  assert.deepEqual(jobs.map((j) => j.Name), ['unit', 'ship']);
  const resources = vdb.Resources as { Name: string; ID: number; ScopeID: number | null }[];
  assert.equal(resources.length, 1);
  assert.equal(resources[0]?.Name, 'repo');
  assert.equal(typeof resources[0]?.ScopeID, 'number');
  const versions = vdb.ResourceVersions as { VersionID: number; ResourceID: number; CheckOrder: number; ScopeID: number }[];
  assert.equal(versions.length, 1);
  const v = versions[0]!;
  assert.deepEqual(Object.keys(v).sort(), ['CheckOrder', 'ResourceID', 'ScopeID', 'VersionID']);
  assert.equal(v.ResourceID, resources[0]?.ID);
  const unitId = jobs.find((j) => j.Name === 'unit')?.ID;
  assert.deepEqual(vdb.BuildInputs, [{ ...v, BuildID: unit.id, JobID: unitId, InputName: 'repo' }]);
  // the succeeded build's input is its implicit output (what `passed: [unit]` resolves from)
  assert.deepEqual(vdb.BuildOutputs, [{ ...v, BuildID: unit.id, JobID: unitId }]);
  assert.deepEqual(vdb.BuildReruns, []);
});

test('the versions DB of a pipeline that does not exist is 404; of another team, refused', async () => {
  const missing = await api.app.inject({ url: '/api/v1/teams/main/pipelines/nope/versions-db', headers: api.auth() });
  assert.equal(missing.statusCode, 404);
  const other = await tenants.as('bob', 'GET', '/api/v1/teams/main/pipelines/vdb/versions-db');
  assert.equal(other.statusCode, 403, other.body);
  assert.doesNotMatch(other.body, /ResourceVersions/);
});
