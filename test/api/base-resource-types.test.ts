// Set-pipeline knows the web node's base resource types: Concourse's and those its operator added
// with --base-resource-type (ApiServerOptions.baseResourceTypes); `jetway set-pipeline` leaves the
// judgement to the server (its local check does not know them).
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { freePort } from '../../src/db/embedded.ts';
import { startWebNode, type WebNode } from '../../src/web/web-node.ts';
import { kubernetesFlags } from '../../src/cli/commands/web.ts';
import { createTestDatabase } from '../support/db.ts';
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

// The flags' whole path: `jetway web --runtime kubernetes --base-resource-type gcs=IMAGE` as
// web.ts's kubernetesFlags reads them, into a web node (web-node.ts gives its API the types), and
// `jetway set-pipeline` against it. The cluster is never asked: the pipeline is set paused, so
// nothing checks it, and the kubeconfig names a port nothing listens on.
test('a web node started with --base-resource-type gcs=IMAGE (the flags as jetway web reads them) accepts type gcs from jetway set-pipeline; a typo is refused naming gcs', async () => {
  const tdb = await createTestDatabase();
  const dir = await mkdtemp(join(tmpdir(), 'jw-base-types-'));
  const savedHome = process.env.HOME;
  process.env.HOME = dir;
  let node: WebNode | undefined;
  try {
    const kubeconfig = join(dir, 'kubeconfig');
    writeFileSync(
      kubeconfig,
      'apiVersion: v1\nkind: Config\ncurrent-context: c\nclusters: [{name: k, cluster: {server: "https://127.0.0.1:1"}}]\nusers: [{name: u, user: {token: t}}]\ncontexts: [{name: c, context: {cluster: k, user: u, namespace: ci}}]\n',
    );
    const flags = { port: '0', bindIp: '127.0.0.1', dataDir: join(dir, 'data'), addLocalUser: [], mainTeamLocalUser: [], logLevel: 'info' };
    const kubernetes = kubernetesFlags({ ...flags, runtime: 'kubernetes', baseResourceType: ['gcs=example/gcs-resource:1'], kubernetesKubeconfig: kubeconfig });
    assert.ok(kubernetes);
    node = await startWebNode({
      port: await freePort(),
      bindIp: '127.0.0.1',
      dataDir: join(dir, 'data'),
      postgresUrl: tdb.url,
      localUsers: ['admin:pw-base-types'],
      runtime: 'kubernetes',
      kubernetes,
      logger: pino({ level: 'silent' }),
    });
    assert.equal((await jetway('login', '-t', 'k8s', '-c', node.url.replace('localhost', '127.0.0.1'), '-u', 'admin', '-p', 'pw-base-types')).code, 0);
    const file = join(dir, 'gcs.yml');
    writeFileSync(file, GCS);
    const ok = await jetway('set-pipeline', '-t', 'k8s', '-p', 'uses-gcs', '-c', file, '-n');
    assert.equal(ok.code, 0, ok.err);
    assert.match(ok.out, /pipeline created!/);
    const saved = await tdb.db.query<{ type: string }>(`SELECT r.type FROM resources r JOIN pipelines p ON p.id = r.pipeline_id WHERE p.name = 'uses-gcs'`);
    assert.deepEqual(saved.rows, [{ type: 'gcs' }]);
    const typo = join(dir, 'typo.yml');
    writeFileSync(typo, GCS.replace('type: gcs', 'type: gsc'));
    const refused = await jetway('set-pipeline', '-t', 'k8s', '-p', 'typo', '-c', typo, '-n');
    assert.equal(refused.code, 1);
    assert.match(refused.err, /unknown resource type 'gsc': not a base type \(Concourse's: .*; added with --base-resource-type: .*\bgcs\b.*\) nor declared in resource_types/);
    // offline, the same file needs the type named, and the message says how
    const offline = await jetway('validate-pipeline', '-c', file);
    assert.equal(offline.code, 1);
    assert.match(offline.out, /unknown resource type 'gcs': .*jetway web --base-resource-type gcs=IMAGE\), validate with --base-resource-type gcs/);
    assert.equal((await jetway('validate-pipeline', '-c', file, '--base-resource-type', 'gcs')).code, 0);
  } finally {
    await node?.stop();
    process.env.HOME = savedHome;
    await tdb.drop();
    await rm(dir, { recursive: true, force: true });
  }
});
