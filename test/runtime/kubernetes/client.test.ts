// The adapter's pure parts: retries of 429/5xx with Retry-After, 403 messages naming the
// permission, exec exit codes from the status channel (a pod's state: pod-status.test.ts).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ApiException, KubeConfig } from '@kubernetes/client-node';
import { KubeClient, errorStatus, retryWaitMs } from '../../../src/runtime/kubernetes/client.ts';
import { exitCodeOf } from '../../../src/runtime/kubernetes/exec.ts';

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
