// The adapter over CoreV1Api.readNamespacedSecret, on a fake API: data decoded, 404 as "no such
// Secret", 403 naming the namespace and the permission, 429/5xx retried, other failures named;
// no message carries a Secret's content.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ApiException, type V1Secret } from '@kubernetes/client-node';
import { KubernetesSecretReader, type SecretsApi } from '../../src/creds/kubernetes-api.ts';
import { CredentialsForbiddenError, CredentialsReadError } from '../../src/creds/kubernetes.ts';

const FAST = { attempts: 3, baseDelayMs: 1, maxDelayMs: 2 };
const ref = { namespace: 'concourse-main', name: 'api-token' };
const b64 = (s: string): string => Buffer.from(s, 'utf8').toString('base64');

function status(code: number, message: string): ApiException<string> {
  return new ApiException(code, `HTTP-Code: ${code}`, JSON.stringify({ kind: 'Status', apiVersion: 'v1', status: 'Failure', message, code }), {});
}

/** Answers each call with the next outcome (an error is thrown); records the requests. */
function fakeApi(outcomes: (V1Secret | Error)[]): SecretsApi & { calls: { name: string; namespace: string }[] } {
  const calls: { name: string; namespace: string }[] = [];
  return {
    calls,
    async readNamespacedSecret(param) {
      calls.push(param);
      const next = outcomes.shift();
      if (!next) throw new Error('no more outcomes');
      if (next instanceof Error) throw next;
      return next;
    },
  };
}

test('a Secret is read by namespace and name, its data decoded', async () => {
  const api = fakeApi([{ metadata: { name: 'api-token' }, data: { value: b64('tok-123'), 'ünïcode': b64('välue') } }, { metadata: { name: 'x' } }]);
  const reader = new KubernetesSecretReader(api, FAST);
  assert.deepEqual(await reader.read(ref), { value: 'tok-123', 'ünïcode': 'välue' });
  assert.deepEqual(await reader.read({ namespace: 'concourse-ops', name: 'x' }), {});
  assert.deepEqual(api.calls, [ref, { namespace: 'concourse-ops', name: 'x' }]);
});

test('404 is "no such Secret", asked once', async () => {
  const api = fakeApi([status(404, 'secrets "api-token" not found')]);
  assert.equal(await new KubernetesSecretReader(api, FAST).read(ref), undefined);
  assert.equal(api.calls.length, 1);
});

test('403 names the namespace and the missing permission, not retried', async () => {
  const api = fakeApi([status(403, 'secrets "api-token" is forbidden: User "system:serviceaccount:jetway:jetway" cannot get resource "secrets" in API group "" in the namespace "concourse-main"')]);
  await assert.rejects(new KubernetesSecretReader(api, FAST).read(ref), (err: unknown) => {
    assert.ok(err instanceof CredentialsForbiddenError);
    assert.match(err.message, /^the Kubernetes API refused 'get' on 'secrets' in namespace 'concourse-main' \(reading Secret 'api-token' for a \(\(var\)\)\)/);
    assert.match(err.message, /grant Jetway's service account 'get' on secrets in that namespace \(see deploy\/optional\/kubernetes-credentials\.yaml\)/);
    assert.match(err.message, /cannot get resource "secrets"/);
    return true;
  });
  assert.equal(api.calls.length, 1);
});

test('429 and 5xx are retried; a lasting failure names the Secret, the namespace and the status', async () => {
  const ok = fakeApi([status(429, 'slow down'), status(500, 'etcdserver: request timed out'), { data: { value: b64('after-retries') } }]);
  assert.deepEqual(await new KubernetesSecretReader(ok, FAST).read(ref), { value: 'after-retries' });
  assert.equal(ok.calls.length, 3);

  const down = fakeApi([status(503, 'unavailable'), status(503, 'unavailable'), status(503, 'still unavailable')]);
  await assert.rejects(new KubernetesSecretReader(down, FAST).read(ref), (err: unknown) => {
    assert.ok(err instanceof CredentialsReadError);
    assert.equal(err.message, "reading Secret 'api-token' in namespace 'concourse-main' for a ((var)) failed (HTTP 503): still unavailable");
    return true;
  });
  assert.equal(down.calls.length, 3);

  const bad = fakeApi([status(400, 'bad request')]);
  await assert.rejects(new KubernetesSecretReader(bad, FAST).read(ref), /failed \(HTTP 400\): bad request/);
  assert.equal(bad.calls.length, 1);
});

test('a connection failure is retried, then named; an unreadable answer never quotes it', async () => {
  const refused = (): Error => Object.assign(new Error('request to https://10.0.0.1/api/v1/namespaces/concourse-main/secrets/api-token failed, reason: connect ECONNREFUSED 10.0.0.1:443'), { code: 'ECONNREFUSED' });
  const api = fakeApi([refused(), refused(), refused()]);
  await assert.rejects(new KubernetesSecretReader(api, FAST).read(ref), /reading Secret 'api-token' in namespace 'concourse-main' for a \(\(var\)\) failed: .*ECONNREFUSED/);
  assert.equal(api.calls.length, 3);

  const garbled = fakeApi([new SyntaxError('Unexpected token, "{"data":{"value":"c2VjcmV0"}" is not valid JSON')]);
  await assert.rejects(new KubernetesSecretReader(garbled, FAST).read(ref), (err: unknown) => {
    assert.equal((err as Error).message, "reading Secret 'api-token' in namespace 'concourse-main' for a ((var)) failed: the API server's answer could not be read");
    return true;
  });
});

test('an aborted build stops waiting: no backoff sat out, no further attempt', async () => {
  const api = fakeApi([status(503, 'unavailable'), status(503, 'unavailable')]);
  const controller = new AbortController();
  // a backoff far longer than the test would wait
  const reading = new KubernetesSecretReader(api, { attempts: 8, baseDelayMs: 600_000, maxDelayMs: 600_000 }).read(ref, controller.signal);
  await new Promise((r) => setImmediate(r));
  controller.abort(new Error('build aborted'));
  await assert.rejects(reading, /build aborted|aborted/);
  assert.equal(api.calls.length, 1);
});
