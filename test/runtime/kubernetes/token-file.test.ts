// The in-cluster service account token is re-read as soon as the kubelet rotates it
// (src/runtime/kubernetes/token-file.ts), against the test cluster's API server, which checks a
// bound token's expiry as the real one does. The files are laid out as the kubelet's projected
// volume lays them out (`..data` a link to a timestamped directory, swapped atomically).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rename, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AuthorizationV1Api, KubeConfig } from '@kubernetes/client-node';
import { startCluster, type Cluster } from '../../kube-sim/cluster.ts';
import { loadKubeConfig } from '../../../src/runtime/kubernetes/client.ts';

const ACCOUNT_DIR = 'var/run/secrets/kubernetes.io/serviceaccount';
let cluster: Cluster;
let dir: string;
let generation = 0;
const saved = { host: process.env.KUBERNETES_SERVICE_HOST, port: process.env.KUBERNETES_SERVICE_PORT };

/** Writes the account's files as a new timestamped directory and swaps `..data` to it. */
async function project(token: string): Promise<void> {
  const account = join(dir, ACCOUNT_DIR);
  const data = join(account, `..${++generation}`);
  await mkdir(data, { recursive: true });
  await writeFile(join(data, 'token'), token);
  await writeFile(join(data, 'ca.crt'), cluster.caCert);
  await writeFile(join(data, 'namespace'), 'jetway');
  await symlink(`..${generation}`, join(account, '..data_tmp'));
  await rename(join(account, '..data_tmp'), join(account, '..data'));
  if (generation === 1) for (const f of ['token', 'ca.crt', 'namespace']) await symlink(`..data/${f}`, join(account, f));
}

const issue = (seconds: number): string => cluster.apiServer.serviceAccountTokens.issue('jetway', 'jetway', { expirationSeconds: seconds }).token;
/** A request any authenticated user may make: 201 with the token, 401 without a valid one. */
async function ask(kc: KubeConfig): Promise<string> {
  try {
    await kc.makeApiClient(AuthorizationV1Api).createSelfSubjectAccessReview({ body: { spec: { resourceAttributes: { verb: 'list', resource: 'pods', namespace: 'jetway' } } } });
    return 'ok';
  } catch (err) {
    return `refused ${String((err as { code?: number }).code)}`;
  }
}

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'jw-token-file-'));
  cluster = await startCluster({ stateDir: join(dir, 'cluster'), registry: false, kubeletFactory: null });
  for (const [path, body] of [
    ['/api/v1/namespaces', { metadata: { name: 'jetway' } }],
    ['/api/v1/namespaces/jetway/serviceaccounts', { metadata: { name: 'jetway' } }],
  ] as const) {
    const res = await cluster.request(path, { method: 'POST', body });
    assert.equal(res.status, 201, res.text);
  }
  const url = new URL(cluster.server);
  process.env.KUBERNETES_SERVICE_HOST = url.hostname;
  process.env.KUBERNETES_SERVICE_PORT = url.port;
});
after(async () => {
  for (const [k, v] of [['KUBERNETES_SERVICE_HOST', saved.host], ['KUBERNETES_SERVICE_PORT', saved.port]] as const) {
    if (v === undefined) delete process.env[k];
    else process.env[k] = v;
  }
  await cluster?.stop();
  await rm(dir, { recursive: true, force: true });
});

test("a rotated service account token is used at once: the web node's requests go on after the old one expires", async () => {
  const first = issue(2);
  await project(first);
  const kc = loadKubeConfig({ kind: 'in-cluster', root: dir });
  // client-node's own file authenticator, for comparison: it keeps a token read for a minute
  const stock = new KubeConfig();
  stock.loadFromCluster(dir);
  assert.equal(await ask(kc), 'ok');
  assert.equal(await ask(stock), 'ok');

  await project(issue(3600));
  // wait for the first token to expire (the API server says when: no fixed sleep decides the test)
  const expired = new KubeConfig();
  expired.loadFromOptions({ clusters: [{ name: 'c', server: cluster.server, caData: Buffer.from(cluster.caCert).toString('base64') }], users: [{ name: 'u', token: first }], contexts: [{ name: 'x', cluster: 'c', user: 'u' }], currentContext: 'x' });
  for (let i = 0; i < 100 && (await ask(expired)) === 'ok'; i++) await new Promise((r) => setTimeout(r, 100));
  assert.equal(await ask(expired), 'refused 401', 'the first token has expired');

  assert.equal(await ask(kc), 'ok', 'the rotated token is read and used');
  assert.equal(await ask(stock), 'refused 401', "client-node's authenticator still sends the expired token (what Jetway's replaces)");
});

test('a token file that is gone or empty fails the request, naming the file', async () => {
  const kc = loadKubeConfig({ kind: 'in-cluster', root: dir });
  await project('');
  await assert.rejects(kc.makeApiClient(AuthorizationV1Api).createSelfSubjectAccessReview({ body: { spec: {} } }), /the service account token .*serviceaccount\/token is empty/);
  await rm(join(dir, ACCOUNT_DIR, 'token'));
  await assert.rejects(kc.makeApiClient(AuthorizationV1Api).createSelfSubjectAccessReview({ body: { spec: {} } }), /cannot read the service account token .*serviceaccount\/token: ENOENT/);
});
