// The adapter's pure parts: retries of 429/5xx with Retry-After, 403 messages naming the
// permission, exec exit codes from the status channel (a pod's state: pod-status.test.ts); and
// its connections: kept alive across requests, the CA still verified.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ApiException, KubeConfig } from '@kubernetes/client-node';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KubeClient, errorStatus, loadKubeConfig, retryWaitMs } from '../../../src/runtime/kubernetes/client.ts';
import { exitCodeOf } from '../../../src/runtime/kubernetes/exec.ts';
import { makeClusterPki } from '../../kube-sim/apiserver/tls.ts';

function client(observer?: { kubernetesRequest(verb: string, resource: string, outcome: string): void }): KubeClient {
  const kc = new KubeConfig();
  kc.loadFromOptions({
    clusters: [{ name: 'c', server: 'http://127.0.0.1:1', skipTLSVerify: true }],
    users: [{ name: 'u', token: 't' }],
    contexts: [{ name: 'x', cluster: 'c', user: 'u', namespace: 'ci' }],
    currentContext: 'x',
  });
  return new KubeClient(kc, 'ci', { attempts: 5, baseDelayMs: 1, maxDelayMs: 50 }, observer);
}

test('429 and 5xx are retried (Retry-After honoured up to the cap); other errors are not', async () => {
  let calls = 0;
  const value = await client().call({ verb: 'create', resource: 'pods' }, async () => {
    calls++;
    if (calls === 1) throw new ApiException(429, 'Too Many Requests', { message: 'slow down' }, { 'retry-after': '0' });
    if (calls === 2) throw new ApiException(503, 'Unavailable', { message: 'etcd' }, {});
    return 'ok';
  });
  assert.equal(value, 'ok');
  assert.equal(calls, 3);
  // the wait: the backoff, Retry-After when longer (header or a Status body's retryAfterSeconds), never over the cap
  const policy = { attempts: 5, baseDelayMs: 100, maxDelayMs: 5000 };
  assert.equal(retryWaitMs(new ApiException(429, 'Too Many Requests', {}, { 'retry-after': '0' }), 100, policy), 100);
  assert.equal(retryWaitMs(new ApiException(429, 'Too Many Requests', {}, { 'retry-after': '2' }), 100, policy), 2000);
  assert.equal(retryWaitMs(new ApiException(429, 'Too Many Requests', {}, { 'retry-after': '60' }), 100, policy), 5000);
  assert.equal(retryWaitMs(new ApiException(503, 'Unavailable', JSON.stringify({ details: { retryAfterSeconds: 3 } }), {}), 100, policy), 3000);
  assert.equal(retryWaitMs(new Error('reset'), 400, policy), 400);
  let notRetried = 0;
  await assert.rejects(
    client().call({ verb: 'get', resource: 'pods' }, async () => {
      notRetried++;
      throw new ApiException(404, 'Not Found', { message: 'pods "x" not found' }, {});
    }),
    /get pods in namespace 'ci' failed \(HTTP 404\): pods "x" not found/,
  );
  assert.equal(notRetried, 1);
});

test('every attempt is told to the observer (metrics): ok, the status, or connection', async () => {
  const seen: string[] = [];
  const c = client({ kubernetesRequest: (verb, resource, outcome) => seen.push(`${verb} ${resource} ${outcome}`) });
  let calls = 0;
  await c.call({ verb: 'create', resource: 'pods' }, async () => {
    calls++;
    if (calls === 1) throw new ApiException(429, 'Too Many Requests', { message: 'slow down' }, { 'retry-after': '0' });
    if (calls === 2) throw Object.assign(new Error('reset'), { code: 'ECONNRESET' });
    return 'ok';
  });
  await assert.rejects(c.call({ verb: 'delete', resource: 'secrets' }, async () => Promise.reject(new ApiException(403, 'Forbidden', { message: 'no' }, {}))));
  assert.deepEqual(seen, ['create pods 429', 'create pods connection', 'create pods ok', 'delete secrets 403']);
});

test('a 403 names the verb, the resource and the namespace', async () => {
  await assert.rejects(
    client().call({ verb: 'create', resource: 'pods/exec' }, async () => {
      throw new ApiException(403, 'Forbidden', { message: 'pods "p" is forbidden: User "x" cannot create resource "pods/exec"' }, {});
    }),
    (err: Error) => /refused 'create' on 'pods\/exec' in namespace 'ci'/.test(err.message) && /deploy\/rbac\.yaml/.test(err.message),
  );
  assert.equal(errorStatus({ message: 'Unexpected server response: 429' }), 429);
});

test('exit codes come from the exec status', () => {
  assert.equal(exitCodeOf({ status: 'Success' }), 0);
  assert.equal(exitCodeOf({ status: 'Failure', reason: 'NonZeroExitCode', details: { causes: [{ reason: 'ExitCode', message: '3' }] } }), 3);
  assert.throws(() => exitCodeOf({ status: 'Failure', message: 'container not found' }), /exec failed: container not found/);
});

// Projected service-account tokens expire (an hour; the kubelet rewrites the file before then), so
// an in-cluster web node must read the file again, not keep the token it started with
// (docs/kubernetes-runtime.md, "Running Jetway in a cluster"). client-node's `tokenFile` user does,
// as client-go does: at most a minute after the file changes.
test('in-cluster: the user reads the service account token file, not a token copied at start', () => {
  const saved = { host: process.env.KUBERNETES_SERVICE_HOST, port: process.env.KUBERNETES_SERVICE_PORT };
  process.env.KUBERNETES_SERVICE_HOST = '10.0.0.1';
  process.env.KUBERNETES_SERVICE_PORT = '443';
  try {
    const kc = loadKubeConfig({ kind: 'in-cluster' });
    assert.equal(kc.getCurrentCluster()?.server, 'https://10.0.0.1:443');
    const user = kc.getCurrentUser();
    assert.equal(user?.token, undefined);
    // Jetway's authenticator, which re-reads a rotated token at once (token-file.test.ts)
    assert.deepEqual(user?.authProvider, { name: 'jetway-token-file', config: { path: '/var/run/secrets/kubernetes.io/serviceaccount/token' } });
  } finally {
    for (const [name, value] of [['KUBERNETES_SERVICE_HOST', saved.host], ['KUBERNETES_SERVICE_PORT', saved.port]] as const) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
  }
});

test('in-cluster: a rotated token file is sent from a minute after the last read on', async (t) => {
  const prefix = mkdtempSync(join(tmpdir(), 'jetway-sa-'));
  t.after(() => rmSync(prefix, { recursive: true, force: true }));
  const dir = join(prefix, 'var/run/secrets/kubernetes.io/serviceaccount');
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'ca.crt'), '');
  writeFileSync(join(dir, 'token'), 'first');
  t.mock.timers.enable({ apis: ['Date'], now: Date.parse('2026-12-03T07:00:00Z') });
  const kc = new KubeConfig();
  // the same user loadKubeConfig's in-cluster case gets (the test above), its files under `prefix`
  kc.loadFromCluster(prefix);
  const bearer = async (): Promise<unknown> => {
    const opts: { headers?: Record<string, string> } = {};
    await kc.applyToHTTPSOptions(opts);
    return opts.headers?.Authorization;
  };
  assert.equal(await bearer(), 'Bearer first');
  writeFileSync(join(dir, 'token'), 'second');
  t.mock.timers.tick(59_000);
  assert.equal(await bearer(), 'Bearer first', 'read again at most once a minute, as client-go');
  t.mock.timers.tick(2_000);
  assert.equal(await bearer(), 'Bearer second');
});

test('requests share a kept-alive TLS connection (client-node 1.x would open one per request), verified against the cluster CA', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'jetway-kube-tls-'));
  const pki = makeClusterPki(dir);
  let connections = 0;
  const paths: string[] = [];
  const server = createHttpsServer({ cert: pki.serverCert, key: pki.serverKey }, (req, res) => {
    paths.push(`${req.method} ${req.url} ${req.headers.authorization}`);
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p', namespace: 'ci' } }));
  });
  server.on('secureConnection', () => connections++);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  try {
    const port = (server.address() as AddressInfo).port;
    const kc = new KubeConfig();
    kc.loadFromOptions({
      clusters: [{ name: 'c', server: `https://127.0.0.1:${port}`, caData: Buffer.from(pki.caCert).toString('base64') }],
      users: [{ name: 'u', token: 'tok' }],
      contexts: [{ name: 'x', cluster: 'c', user: 'u', namespace: 'ci' }],
      currentContext: 'x',
    });
    const c = new KubeClient(kc, 'ci');
    for (let i = 0; i < 3; i++) {
      const pod = await c.core.readNamespacedPod({ name: 'p', namespace: 'ci' });
      assert.equal(pod.metadata?.name, 'p');
    }
    assert.deepEqual(paths, Array(3).fill('GET /api/v1/namespaces/ci/pods/p Bearer tok'));
    assert.equal(connections, 1, 'one TLS connection for the three requests');

    // a server certificate the kubeconfig's CA did not sign is still refused
    const other = makeClusterPki(join(dir, 'other'));
    const wrong = new KubeConfig();
    wrong.loadFromOptions({
      clusters: [{ name: 'c', server: `https://127.0.0.1:${port}`, caData: Buffer.from(other.caCert).toString('base64') }],
      users: [{ name: 'u', token: 'tok' }],
      contexts: [{ name: 'x', cluster: 'c', user: 'u', namespace: 'ci' }],
      currentContext: 'x',
    });
    await assert.rejects(new KubeClient(wrong, 'ci').core.readNamespacedPod({ name: 'p', namespace: 'ci' }), /certificate/);
    assert.equal(paths.length, 3);
  } finally {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
    rmSync(dir, { recursive: true, force: true });
  }
});
