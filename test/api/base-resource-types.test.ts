// Set-pipeline knows the web node's base resource types: Concourse's and those its operator added
// with --base-resource-type (ApiServerOptions.baseResourceTypes); `jetway set-pipeline` leaves the
// judgement to the server (its local check does not know them).
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { BASE_RESOURCE_TYPES } from '../../src/config/index.ts';
import { jetway, startCliServer, PASSWORD, type CliServer } from '../cli/client-support.ts';
import { startApi, type TestApi } from './helpers.ts';

const GCS = 'resources:\n- name: bucket\n  type: gcs\n  source: {}\njobs:\n- name: j\n  plan: [{get: bucket}]\n';

const servers: (TestApi | CliServer)[] = [];
after(async () => {
  for (const s of servers) await s.close();
});

async function put(api: TestApi, name: string): Promise<{ statusCode: number; body: string }> {
  return api.app.inject({
    method: 'PUT',
    url: `/api/v1/teams/main/pipelines/${name}/config`,
    headers: { ...api.auth(), 'content-type': 'application/x-yaml' },
    payload: GCS,
  });
}

test('a web node with --base-resource-type gcs accepts a resource of type gcs', async () => {
  const api = await startApi({ baseResourceTypes: [...BASE_RESOURCE_TYPES, 'gcs'] });
  servers.push(api);
  const res = await put(api, 'uses-gcs');
  assert.equal(res.statusCode, 201, res.body);
  const row = await api.t.db.query<{ type: string }>(`SELECT type FROM resources WHERE name = 'bucket'`);
  assert.deepEqual(row.rows, [{ type: 'gcs' }]);
});

test('a web node without it refuses the type, naming what it knows, and saves nothing', async () => {
  const api = await startApi({ baseResourceTypes: [...BASE_RESOURCE_TYPES, 's3-compatible'] });
  servers.push(api);
  const res = await put(api, 'uses-gcs');
  assert.equal(res.statusCode, 400, res.body);
  const body = JSON.parse(res.body) as { errors: string[] };
  assert.equal(body.errors.length, 1, res.body);
  assert.match(
    body.errors[0] ?? '',
    /resources\.bucket\.type: unknown resource type 'gcs': not a base type \(Concourse's: .*git.*; added with --base-resource-type: s3-compatible\) nor declared in resource_types$/,
  );
  const rows = await api.t.db.query(`SELECT 1 FROM pipelines WHERE name = 'uses-gcs'`);
  assert.equal(rows.rowCount, 0);
});

test("jetway set-pipeline sends a type it does not know to the web node, which judges it", async () => {
  const s = await startCliServer({ baseResourceTypes: [...BASE_RESOURCE_TYPES, 'gcs'] });
  servers.push(s);
  assert.equal((await jetway('login', '-t', 'ci', '-c', s.url, '-u', 'admin', '-p', PASSWORD)).code, 0);
  const file = join(s.dir, 'gcs.yml');
  writeFileSync(file, GCS);
  const ok = await jetway('set-pipeline', '-t', 'ci', '-p', 'uses-gcs', '-c', file, '-n');
  assert.equal(ok.code, 0, ok.err);
  const bad = join(s.dir, 'typo.yml');
  writeFileSync(bad, GCS.replace('type: gcs', 'type: gcss'));
  const refused = await jetway('set-pipeline', '-t', 'ci', '-p', 'typo', '-c', bad, '-n');
  assert.equal(refused.code, 1);
  assert.match(refused.err, /unknown resource type 'gcss': not a base type \(Concourse's: .*; added with --base-resource-type: gcs\)/);
});
