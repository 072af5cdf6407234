// The simulated API server through @kubernetes/client-node only (KubeConfig.loadFromFile,
// CoreV1Api, Watch), with the fake kubelet (apiserver/fake-kubelet.ts) and no registry.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ApiException, CoreV1Api, KubeConfig, PatchStrategy, setHeaderOptions, Watch, type V1Pod } from '@kubernetes/client-node';
import { startCluster, type Cluster } from './cluster.ts';
import { FakeKubelet } from './apiserver/fake-kubelet.ts';
import { readAuditFile } from './apiserver/audit.ts';

let cluster: Cluster;
let kubelet: FakeKubelet;
let kc: KubeConfig;
let api: CoreV1Api;
let dir: string;

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'kube-sim-apiserver-'));
  kubelet = new FakeKubelet();
  cluster = await startCluster({ stateDir: dir, registry: false, kubeletFactory: () => kubelet, historyLimit: 500 });
  kc = new KubeConfig();
  kc.loadFromFile(cluster.kubeconfigPath);
  api = kc.makeApiClient(CoreV1Api);
});

after(async () => {
  await cluster?.stop();
  rmSync(dir, { recursive: true, force: true });
});

function pod(name: string, labels: Record<string, string> = {}, extra: Partial<V1Pod['spec']> = {}): V1Pod {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, labels },
    spec: { containers: [{ name: 'main', image: 'busybox:1.36', command: ['sh', '-c', 'sleep 3600'] }], ...extra },
  };
}

/** The error a client-node call fails with: an ApiException carrying the Status body. */
async function apiError(p: Promise<unknown>): Promise<{ code: number; body: Record<string, unknown>; headers: Record<string, string> }> {
  try {
    await p;
  } catch (err) {
    assert.ok(err instanceof ApiException, `expected an ApiException, got ${String(err)}`);
    const e = err as ApiException<unknown>;
    const body = typeof e.body === 'string' ? (JSON.parse(e.body) as Record<string, unknown>) : (e.body as Record<string, unknown>);
    return { code: e.code, body, headers: e.headers };
  }
  assert.fail('expected the call to fail');
}

async function waitFor<T>(fn: () => Promise<T | undefined> | T | undefined, what: string, timeoutMs = 5000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v !== undefined) return v;
    if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('kube-sim API server: pods', () => {
  it('creates a pod with server-set metadata and defaults, and gets it back', async () => {
    const created = await api.createNamespacedPod({ namespace: 'default', body: pod('defaults') });
    assert.match(created.metadata?.uid ?? '', /^[0-9a-f-]{36}$/);
    assert.match(created.metadata?.resourceVersion ?? '', /^\d+$/);
    assert.ok(created.metadata?.creationTimestamp instanceof Date);
    assert.equal(created.metadata?.namespace, 'default');
    assert.equal(created.status?.phase, 'Pending');
    assert.equal(created.spec?.restartPolicy, 'Always');
    assert.equal(created.spec?.serviceAccountName, 'default');
    assert.equal(created.spec?.terminationGracePeriodSeconds, 30);
    assert.equal(created.spec?.containers[0]?.imagePullPolicy, 'IfNotPresent');
    const got = await api.readNamespacedPod({ namespace: 'default', name: 'defaults' });
    assert.equal(got.metadata?.uid, created.metadata?.uid);
    // the fake kubelet binds and starts it through the ClusterStore
    const running = await waitFor(async () => {
      const p = await api.readNamespacedPod({ namespace: 'default', name: 'defaults' });
      return p.status?.phase === 'Running' ? p : undefined;
    }, 'the pod to run');
    assert.equal(running.spec?.nodeName, 'kube-sim-node');
    assert.ok(running.status?.conditions?.some((c) => c.type === 'PodScheduled' && c.status === 'True'));
  });

  it('refuses an invalid pod with 422 Invalid naming the field', async () => {
    const bad = pod('bad-pod');
    bad.spec!.containers = [{ name: 'main' } as never];
    const e = await apiError(api.createNamespacedPod({ namespace: 'default', body: bad }));
    assert.equal(e.code, 422);
    assert.equal(e.body.kind, 'Status');
    assert.equal(e.body.reason, 'Invalid');
    assert.match(String(e.body.message), /^Pod "bad-pod" is invalid: spec\.containers\[0\]\.image: Required value/);
    const causes = (e.body.details as { causes: { field: string; reason: string }[] }).causes;
    assert.deepEqual(causes.map((c) => [c.field, c.reason]), [['spec.containers[0].image', 'FieldValueRequired']]);

    const badName = await apiError(api.createNamespacedPod({ namespace: 'default', body: pod('Bad_Name') }));
    assert.equal(badName.code, 422);
    assert.equal((badName.body.details as { causes: { field: string }[] }).causes[0]?.field, 'metadata.name');

    const badLabel = await apiError(api.createNamespacedPod({ namespace: 'default', body: pod('bad-label', { 'a/b/c': 'x' }) }));
    assert.equal(badLabel.code, 422);
    assert.equal((badLabel.body.details as { causes: { field: string }[] }).causes[0]?.field, 'metadata.labels');

    const badPolicy = await apiError(api.createNamespacedPod({ namespace: 'default', body: pod('bad-policy', {}, { restartPolicy: 'Sometimes' }) }));
    assert.equal(badPolicy.code, 422);
    assert.match(String(badPolicy.body.message), /spec\.restartPolicy: Unsupported value: "Sometimes"/);

    const badMount = pod('bad-mount');
    badMount.spec!.containers[0]!.volumeMounts = [{ name: 'work', mountPath: '/work' }];
    const m = await apiError(api.createNamespacedPod({ namespace: 'default', body: badMount }));
    assert.equal(m.code, 422);
    assert.match(String(m.body.message), /spec\.containers\[0\]\.volumeMounts\[0\]\.name: Not found: "work"/);
    // nothing was stored
    assert.equal((await api.listNamespacedPod({ namespace: 'default', fieldSelector: 'metadata.name=bad-pod' })).items.length, 0);
  });

  it('answers 404 NotFound and 409 AlreadyExists as Status objects', async () => {
    const nf = await apiError(api.readNamespacedPod({ namespace: 'default', name: 'nope' }));
    assert.equal(nf.code, 404);
    assert.deepEqual(
      { kind: nf.body.kind, apiVersion: nf.body.apiVersion, status: nf.body.status, reason: nf.body.reason, message: nf.body.message, code: nf.body.code },
      { kind: 'Status', apiVersion: 'v1', status: 'Failure', reason: 'NotFound', message: 'pods "nope" not found', code: 404 },
    );
    await api.createNamespacedPod({ namespace: 'default', body: pod('twice') });
    const ae = await apiError(api.createNamespacedPod({ namespace: 'default', body: pod('twice') }));
    assert.equal(ae.code, 409);
    assert.equal(ae.body.reason, 'AlreadyExists');
    assert.equal(ae.body.message, 'pods "twice" already exists');
    const ns = await apiError(api.createNamespacedPod({ namespace: 'no-such-ns', body: pod('x') }));
    assert.equal(ns.code, 404);
    assert.equal(ns.body.message, 'namespaces "no-such-ns" not found');
  });

  it('replaces with optimistic concurrency: a stale resourceVersion is 409 Conflict', async () => {
    await api.createNamespacedSecret({ namespace: 'default', body: { metadata: { name: 'cas' }, stringData: { a: '1' } } });
    const s = await api.readNamespacedSecret({ namespace: 'default', name: 'cas' });
    const stale = s.metadata?.resourceVersion;
    s.data = { a: Buffer.from('2').toString('base64') };
    await api.replaceNamespacedSecret({ namespace: 'default', name: 'cas', body: s });
    s.metadata!.resourceVersion = stale;
    const c = await apiError(api.replaceNamespacedSecret({ namespace: 'default', name: 'cas', body: s }));
    assert.equal(c.code, 409);
    assert.equal(c.body.reason, 'Conflict');
    assert.match(String(c.body.message), /the object has been modified/);
  });

  it('lists with label selectors (=, !=, in, notin, exists, !exists) and field selectors', async () => {
    const ns = (await api.createNamespace({ body: { metadata: { name: 'selectors' } } })).metadata?.name ?? '';
    await api.createNamespacedPod({ namespace: ns, body: pod('a', { app: 'web', tier: 'front' }) });
    await api.createNamespacedPod({ namespace: ns, body: pod('b', { app: 'web', tier: 'back' }) });
    await api.createNamespacedPod({ namespace: ns, body: pod('c', { app: 'db' }) });
    const names = async (labelSelector?: string, fieldSelector?: string): Promise<string[]> =>
      (await api.listNamespacedPod({ namespace: ns, ...(labelSelector ? { labelSelector } : {}), ...(fieldSelector ? { fieldSelector } : {}) })).items.map((p) => p.metadata?.name ?? '').sort();
    assert.deepEqual(await names('app=web'), ['a', 'b']);
    assert.deepEqual(await names('app==web,tier!=back'), ['a']);
    assert.deepEqual(await names('tier in (front, back)'), ['a', 'b']);
    assert.deepEqual(await names('app notin (web)'), ['c']);
    assert.deepEqual(await names('tier'), ['a', 'b']);
    assert.deepEqual(await names('!tier'), ['c']);
    assert.deepEqual(await names(undefined, 'metadata.name=b'), ['b']);
    assert.deepEqual(await names(undefined, 'metadata.name!=b'), ['a', 'c']);
    assert.deepEqual(await names('app=web', 'metadata.namespace=selectors,metadata.name!=a'), ['b']);
    await waitFor(async () => ((await names(undefined, 'spec.nodeName=kube-sim-node')).length === 3 ? true : undefined), 'pods bound');
    await waitFor(async () => ((await names(undefined, 'status.phase=Running')).length === 3 ? true : undefined), 'pods running');
    const all = await api.listPodForAllNamespaces({ labelSelector: 'app=db' });
    assert.deepEqual(all.items.map((p) => `${p.metadata?.namespace}/${p.metadata?.name}`), ['selectors/c']);
    const bad = await apiError(api.listNamespacedPod({ namespace: ns, fieldSelector: 'spec.image=x' }));
    assert.equal(bad.code, 400);
    const list = await api.listNamespacedPod({ namespace: ns, limit: 2 });
    assert.equal(list.items.length, 2);
    assert.ok(list.metadata?._continue);
    const rest = await api.listNamespacedPod({ namespace: ns, limit: 2, _continue: list.metadata?._continue });
    assert.deepEqual(rest.items.map((p) => p.metadata?.name), ['c']);
  });

  it('deletes with grace: deletionTimestamp first, removal when the kubelet confirms; unbound pods go at once', async () => {
    kubelet.finalizeDeletions = false;
    try {
      await api.createNamespacedPod({ namespace: 'default', body: pod('graceful') });
      await waitFor(async () => ((await api.readNamespacedPod({ namespace: 'default', name: 'graceful' })).status?.phase === 'Running' ? true : undefined), 'running');
      const before = Date.now();
      const deleted = await api.deleteNamespacedPod({ namespace: 'default', name: 'graceful', gracePeriodSeconds: 20 });
      assert.equal(deleted.metadata?.deletionGracePeriodSeconds, 20);
      const ts = deleted.metadata?.deletionTimestamp;
      assert.ok(ts instanceof Date);
      assert.ok(ts.getTime() >= Math.floor(before / 1000) * 1000 + 19_000, 'deletionTimestamp is now + grace');
      // still there, terminating
      const still = await api.readNamespacedPod({ namespace: 'default', name: 'graceful' });
      assert.ok(still.metadata?.deletionTimestamp);
      // the kubelet confirms
      cluster.apiServer.clusterStore.finalizePodDeletion('default', 'graceful');
      const gone = await apiError(api.readNamespacedPod({ namespace: 'default', name: 'graceful' }));
      assert.equal(gone.code, 404);
    } finally {
      kubelet.finalizeDeletions = true;
    }
    // a pod never bound is removed at once
    const unbound = await startCluster({ stateDir: join(dir, 'nokubelet'), registry: false, kubeletFactory: null });
    try {
      const kc2 = new KubeConfig();
      kc2.loadFromFile(unbound.kubeconfigPath);
      const api2 = kc2.makeApiClient(CoreV1Api);
      await api2.createNamespacedPod({ namespace: 'default', body: pod('pending') });
      await api2.deleteNamespacedPod({ namespace: 'default', name: 'pending' });
      assert.equal((await apiError(api2.readNamespacedPod({ namespace: 'default', name: 'pending' }))).code, 404);
    } finally {
      await unbound.stop();
    }
  });

  it('serves pods/status (read and replace)', async () => {
    await api.createNamespacedPod({ namespace: 'default', body: pod('status-sub') });
    const p = await waitFor(async () => {
      const x = await api.readNamespacedPodStatus({ namespace: 'default', name: 'status-sub' });
      return x.status?.phase === 'Running' ? x : undefined;
    }, 'running');
    p.status = { ...p.status, message: 'hello from a test' };
    const updated = await api.replaceNamespacedPodStatus({ namespace: 'default', name: 'status-sub', body: p });
    assert.equal(updated.status?.message, 'hello from a test');
    const patched = await api.patchNamespacedPod(
      { namespace: 'default', name: 'status-sub', body: { metadata: { labels: { patched: 'yes' } } } },
      setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
    );
    assert.equal(patched.metadata?.labels?.patched, 'yes');
  });
});

describe('kube-sim API server: watch', () => {
  it('delivers ADDED, MODIFIED and DELETED after a resourceVersion, filtered by labels', async () => {
    const start = await api.listNamespacedPod({ namespace: 'default' });
    const rv = start.metadata?.resourceVersion ?? '';
    const events: [string, string, string][] = [];
    const w = new Watch(kc);
    const done = new Promise<unknown>((resolve) => {
      void w
        .watch('/api/v1/namespaces/default/pods', { resourceVersion: rv, labelSelector: 'watch=me' }, (type: string, obj: V1Pod) => {
          events.push([type, obj.metadata?.name ?? '', obj.kind ?? '']);
        }, resolve)
        .then((c) => controllers.push(c));
    });
    const controllers: AbortController[] = [];
    await api.createNamespacedPod({ namespace: 'default', body: pod('watched', { watch: 'me' }) });
    await api.createNamespacedPod({ namespace: 'default', body: pod('unwatched', { watch: 'not-me' }) });
    await waitFor(() => (events.some((e) => e[0] === 'MODIFIED') ? true : undefined), 'MODIFIED (bound by the kubelet)');
    await api.deleteNamespacedPod({ namespace: 'default', name: 'watched' });
    await waitFor(() => (events.some((e) => e[0] === 'DELETED') ? true : undefined), 'DELETED');
    assert.deepEqual(events[0], ['ADDED', 'watched', 'Pod']);
    assert.ok(events.every((e) => e[1] === 'watched'));
    assert.equal(events[events.length - 1]?.[0], 'DELETED');
    controllers[0]?.abort();
    await done;
  });

  it('answers a watch from a compacted resourceVersion with a 410 Expired ERROR event', async () => {
    const old = (await api.listNamespacedPod({ namespace: 'default' })).metadata?.resourceVersion ?? '';
    await api.createNamespacedConfigMap({ namespace: 'default', body: { metadata: { name: 'bump' }, data: { a: 'b' } } });
    cluster.faults.compact();
    const got: [string, Record<string, unknown>][] = [];
    const err = await new Promise<unknown>((resolve) => {
      void new Watch(kc).watch('/api/v1/namespaces/default/pods', { resourceVersion: old }, (type: string, obj: Record<string, unknown>) => got.push([type, obj]), resolve);
    });
    assert.equal(err, null, 'the server ends the stream');
    assert.equal(got.length, 1);
    assert.equal(got[0]?.[0], 'ERROR');
    assert.equal(got[0]?.[1].code, 410);
    assert.equal(got[0]?.[1].reason, 'Expired');
    assert.match(String(got[0]?.[1].message), /^too old resource version: \d+ \(\d+\)$/);
  });

  it('a dropped watch closes the stream', async () => {
    const w = new Watch(kc);
    const done = new Promise<unknown>((resolve) => {
      void w.watch('/api/v1/namespaces/default/pods', {}, () => undefined, resolve);
    });
    await waitFor(() => (cluster.apiServer.openWatches() > 0 ? true : undefined), 'the watch to open');
    assert.ok(cluster.faults.dropWatches() >= 1);
    // the watch's done callback runs only when the stream closed
    await done;
    assert.equal(cluster.apiServer.openWatches(), 0);
  });
});

describe('kube-sim API server: secrets, service accounts, events, namespaces', () => {
  const dockerconfig = (auths: unknown): string => Buffer.from(JSON.stringify({ auths })).toString('base64');

  it('validates kubernetes.io/dockerconfigjson secrets', async () => {
    const ok = await api.createNamespacedSecret({
      namespace: 'default',
      body: { metadata: { name: 'pull' }, type: 'kubernetes.io/dockerconfigjson', data: { '.dockerconfigjson': dockerconfig({ 'reg:5000': { auth: 'dTpw' } }) } },
    });
    assert.equal(ok.type, 'kubernetes.io/dockerconfigjson');
    const missing = await apiError(api.createNamespacedSecret({ namespace: 'default', body: { metadata: { name: 'pull2' }, type: 'kubernetes.io/dockerconfigjson', data: { other: 'eA==' } } }));
    assert.equal(missing.code, 422);
    assert.equal((missing.body.details as { causes: { field: string }[] }).causes[0]?.field, 'data[.dockerconfigjson]');
    const notJson = await apiError(
      api.createNamespacedSecret({ namespace: 'default', body: { metadata: { name: 'pull3' }, type: 'kubernetes.io/dockerconfigjson', data: { '.dockerconfigjson': Buffer.from('{nope').toString('base64') } } }),
    );
    assert.equal(notJson.code, 422);
    assert.match(String(notJson.body.message), /data\[\.dockerconfigjson\]: Invalid value: "<secret contents redacted>"/);
    const typeChange = await api.readNamespacedSecret({ namespace: 'default', name: 'pull' });
    typeChange.type = 'Opaque';
    assert.equal((await apiError(api.replaceNamespacedSecret({ namespace: 'default', name: 'pull', body: typeChange }))).code, 422);
  });

  it('has a default service account per namespace; its imagePullSecrets are readable and fill pods', async () => {
    await api.createNamespace({ body: { metadata: { name: 'team-a' } } });
    const sa = await api.readNamespacedServiceAccount({ namespace: 'team-a', name: 'default' });
    assert.equal(sa.metadata?.name, 'default');
    await api.createNamespacedServiceAccount({ namespace: 'team-a', body: { metadata: { name: 'builder' }, imagePullSecrets: [{ name: 'regcred' }] } });
    const builder = await api.readNamespacedServiceAccount({ namespace: 'team-a', name: 'builder' });
    assert.deepEqual(builder.imagePullSecrets?.map((r) => r.name), ['regcred']);
    const p = await api.createNamespacedPod({ namespace: 'team-a', body: pod('uses-sa', {}, { serviceAccountName: 'builder' }) });
    assert.deepEqual(p.spec?.imagePullSecrets?.map((r) => r.name), ['regcred']);
    const noSa = await apiError(api.createNamespacedPod({ namespace: 'team-a', body: pod('no-sa', {}, { serviceAccountName: 'ghost' }) }));
    assert.equal(noSa.code, 403);
    assert.match(String(noSa.body.message), /error looking up service account team-a\/ghost: serviceaccount "ghost" not found/);
  });

  it('lists and creates events (the kubelet records them too)', async () => {
    await api.createNamespacedEvent({
      namespace: 'default',
      body: { metadata: { name: 'e1' }, involvedObject: { kind: 'Pod', name: 'defaults', namespace: 'default' }, reason: 'Testing', message: 'hi' },
    });
    const mine = await api.listNamespacedEvent({ namespace: 'default', fieldSelector: 'reason=Testing' });
    assert.deepEqual(mine.items.map((e) => e.message), ['hi']);
    const scheduled = await api.listNamespacedEvent({ namespace: 'default', fieldSelector: 'involvedObject.name=defaults,reason=Scheduled' });
    assert.equal(scheduled.items.length, 1);
    assert.match(scheduled.items[0]?.message ?? '', /Successfully assigned default\/defaults to kube-sim-node/);
  });

  it('deletes a namespace: Terminating, then gone with its content', async () => {
    await api.createNamespace({ body: { metadata: { name: 'doomed' } } });
    await api.createNamespacedPod({ namespace: 'doomed', body: pod('p') });
    await api.deleteNamespace({ name: 'doomed' });
    await waitFor(async () => {
      try {
        await api.readNamespace({ name: 'doomed' });
        return undefined;
      } catch (err) {
        return err instanceof ApiException && err.code === 404 ? true : undefined;
      }
    }, 'the namespace to go');
    assert.equal((await apiError(api.deleteNamespace({ name: 'default' }))).code, 403);
  });
});

describe('kube-sim API server: auth, faults, latency, audit', () => {
  it('answers 403 Forbidden for a token without the right', async () => {
    const path = cluster.addUser('reader', [{ verbs: ['get', 'list', 'watch'], resources: ['pods'], namespaces: ['default'] }]);
    const rkc = new KubeConfig();
    rkc.loadFromFile(path);
    const rapi = rkc.makeApiClient(CoreV1Api);
    assert.ok((await rapi.listNamespacedPod({ namespace: 'default' })).items.length > 0);
    const e = await apiError(rapi.createNamespacedPod({ namespace: 'y', body: pod('x') }));
    assert.equal(e.code, 403);
    assert.equal(e.body.reason, 'Forbidden');
    assert.equal(e.body.message, 'pods is forbidden: User "reader" cannot create resource "pods" in API group "" in the namespace "y"');
    const s = await apiError(rapi.readNamespacedSecret({ namespace: 'default', name: 'pull' }));
    assert.equal(s.code, 403);
    assert.equal(s.body.message, 'secrets "pull" is forbidden: User "reader" cannot get resource "secrets" in API group "" in the namespace "default"');
  });

  it('answers a configured share of requests 429 with Retry-After', async () => {
    cluster.faults.set({ throttleShare: 1, retryAfterSeconds: 3, verbs: ['list'] });
    try {
      const e = await apiError(api.listNamespacedPod({ namespace: 'default' }));
      assert.equal(e.code, 429);
      assert.equal(e.body.reason, 'TooManyRequests');
      assert.equal(e.headers['retry-after'], '3');
      assert.equal((e.body.details as { retryAfterSeconds: number }).retryAfterSeconds, 3);
      // other verbs are untouched
      await api.readNamespace({ name: 'default' });
      cluster.faults.set({ throttleShare: 0.5, seed: 7 });
      let throttled = 0;
      for (let i = 0; i < 40; i++) {
        try {
          await api.listNamespacedPod({ namespace: 'default' });
        } catch (err) {
          assert.ok(err instanceof ApiException && err.code === 429);
          throttled++;
        }
      }
      assert.ok(throttled > 8 && throttled < 32, `about half throttled, got ${throttled}/40`);
      cluster.faults.set({ throttleShare: 0, errorShare: 1 });
      assert.equal((await apiError(api.listNamespacedPod({ namespace: 'default' }))).code, 500);
    } finally {
      cluster.faults.reset();
    }
    await api.listNamespacedPod({ namespace: 'default' });
  });

  it('evicts a running pod and fails a pull through the kubelet, in-process and over /kube-sim/', async () => {
    await api.createNamespacedPod({ namespace: 'default', body: pod('victim') });
    await waitFor(async () => ((await api.readNamespacedPod({ namespace: 'default', name: 'victim' })).status?.phase === 'Running' ? true : undefined), 'running');
    await cluster.faults.evictPod('default', 'victim', 'The node was low on resource: memory.');
    const evicted = await api.readNamespacedPod({ namespace: 'default', name: 'victim' });
    assert.equal(evicted.status?.phase, 'Failed');
    assert.equal(evicted.status?.reason, 'Evicted');
    assert.deepEqual(kubelet.evictions.at(-1), { namespace: 'default', pod: 'victim', reason: 'The node was low on resource: memory.' });

    const control = async (method: string, path: string, body?: unknown): Promise<{ status: number }> => cluster.request(`/kube-sim/${path}`, { method, ...(body !== undefined ? { body } : {}) });
    assert.equal((await control('POST', 'fail-next-pull', { image: 'team/app', message: 'manifest unknown' })).status, 200);
    assert.deepEqual(kubelet.failedPulls.at(-1), { pattern: 'team/app', message: 'manifest unknown' });
    const set = await control('PUT', 'faults', { throttleShare: 1, verbs: ['get'], resources: ['namespaces'] });
    assert.equal(set.status, 200);
    try {
      assert.equal((await apiError(api.readNamespace({ name: 'default' }))).code, 429);
    } finally {
      assert.equal((await control('DELETE', 'faults')).status, 200);
    }
    await api.readNamespace({ name: 'default' });
    assert.equal((await control('PUT', 'latency', { profile: 'realistic' })).status, 200);
    assert.equal(cluster.latency().schedulingMs, 300);
    cluster.setLatency('zero');
    const denied = await cluster.request('/kube-sim/state', { token: '' });
    assert.equal(denied.status, 401);
  });

  it('makes every request take at least the configured API latency', async () => {
    cluster.setLatency({ apiRequestMs: 120 });
    try {
      const t0 = performance.now();
      await api.readNamespace({ name: 'default' });
      await api.listNamespacedPod({ namespace: 'default' });
      assert.ok(performance.now() - t0 >= 240, 'two requests take at least 2 x 120 ms');
    } finally {
      cluster.setLatency('zero');
    }
  });

  it('writes one audit line per request with verb, objectRef, code and requestObject on create', async () => {
    const before = cluster.audit.count();
    await api.createNamespacedPod({ namespace: 'default', body: pod('audited', { build: '42' }) });
    await api.readNamespacedPod({ namespace: 'default', name: 'audited' });
    await apiError(api.readNamespacedPod({ namespace: 'default', name: 'audit-missing' }));
    await api.listNamespacedPod({ namespace: 'default', labelSelector: 'build=42' });
    const mine = cluster.audit.events().slice(before).filter((e) => e.user.username === 'kube-sim-admin');
    assert.deepEqual(
      mine.map((e) => [e.verb, e.objectRef?.resource, e.objectRef?.namespace, e.objectRef?.name, e.responseStatus.code]),
      [
        ['create', 'pods', 'default', undefined, 201],
        ['get', 'pods', 'default', 'audited', 200],
        ['get', 'pods', 'default', 'audit-missing', 404],
        ['list', 'pods', 'default', undefined, 200],
      ],
    );
    const create = mine[0]!;
    assert.equal(create.kind, 'Event');
    assert.equal(create.apiVersion, 'audit.k8s.io/v1');
    assert.equal(create.stage, 'ResponseComplete');
    assert.equal((create.requestObject as V1Pod).metadata?.name, 'audited');
    assert.equal(cluster.audit.count({ verb: 'create', resource: 'pods', labels: { build: '42' } }), 1);
    assert.ok(Date.parse(create.stageTimestamp) >= Date.parse(create.requestReceivedTimestamp));
    // the file has the same lines
    const fromFile = readAuditFile(join(dir, 'audit.jsonl'), { verb: 'create', resource: 'pods', labels: { build: '42' } });
    assert.equal(fromFile.length, 1);
    assert.equal(fromFile[0]?.auditID, create.auditID);
    assert.ok(readFileSync(join(dir, 'audit.jsonl'), 'utf8').split('\n').filter(Boolean).length >= cluster.audit.count());
  });
});
