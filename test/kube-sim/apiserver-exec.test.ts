// pods/exec (WebSocket, channel protocols) and pods/log through client-node's Exec and Log,
// routed to the kubelet (the fake one here).
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough, Readable, Writable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { ApiException, CoreV1Api, Exec, KubeConfig, Log, type V1Status } from '@kubernetes/client-node';
import { startCluster, type Cluster } from './cluster.ts';
import { FakeKubelet } from './apiserver/fake-kubelet.ts';
import { ApiServer } from './apiserver/server.ts';

let cluster: Cluster;
let kubelet: FakeKubelet;
let kc: KubeConfig;
let api: CoreV1Api;
let dir: string;

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'kube-sim-exec-'));
  kubelet = new FakeKubelet();
  cluster = await startCluster({ stateDir: dir, registry: false, kubeletFactory: () => kubelet });
  kc = new KubeConfig();
  kc.loadFromFile(cluster.kubeconfigPath);
  api = kc.makeApiClient(CoreV1Api);
  await api.createNamespacedPod({ namespace: 'default', body: { metadata: { name: 'box' }, spec: { containers: [{ name: 'main', image: 'busybox:1.36' }] } } });
  await api.createNamespacedPod({
    namespace: 'default',
    body: { metadata: { name: 'duo' }, spec: { containers: [{ name: 'a', image: 'busybox:1.36' }, { name: 'b', image: 'busybox:1.36' }] } },
  });
  for (;;) {
    const pods = await api.listNamespacedPod({ namespace: 'default', fieldSelector: 'status.phase=Running' });
    if (pods.items.length === 2) break;
    await new Promise((r) => setTimeout(r, 20));
  }
});

after(async () => {
  await cluster?.stop();
  rmSync(dir, { recursive: true, force: true });
});

function collector(): { stream: Writable; text: () => string } {
  const chunks: Buffer[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, cb) {
      chunks.push(Buffer.from(chunk));
      cb();
    },
  });
  return { stream, text: () => Buffer.concat(chunks).toString() };
}

async function runExec(kcToUse: KubeConfig, pod: string, container: string, command: string[], stdin?: Readable): Promise<{ status: V1Status; stdout: string; stderr: string }> {
  const out = collector();
  const err = collector();
  const status = await new Promise<V1Status>((resolve, reject) => {
    new Exec(kcToUse).exec('default', pod, container, command, out.stream, err.stream, stdin ?? null, false, resolve).then(
      (ws) => {
        ws.on('close', () => setTimeout(() => reject(new Error('closed without a status')), 200));
      },
      // the WebSocket library rejects with an ErrorEvent ("Unexpected server response: 404")
      (e: unknown) => reject(new Error(String((e as { message?: unknown }).message ?? e))),
    );
  });
  return { status, stdout: out.text(), stderr: err.text() };
}

describe('kube-sim API server: pods/exec over WebSocket', () => {
  it('runs a command through the kubelet and reports Success on the status channel', async () => {
    const r = await runExec(kc, 'box', 'main', ['echo', 'hello', 'world']);
    assert.equal(r.stdout, 'hello world\n');
    assert.equal(r.status.status, 'Success');
    const call = kubelet.execCalls.at(-1);
    assert.deepEqual(call, { namespace: 'default', pod: 'box', container: 'main', command: ['echo', 'hello', 'world'], tty: false });
  });

  it('streams stdin to the command and stdout/stderr back (v5 closes stdin without closing the socket)', async () => {
    const stdin = new PassThrough();
    const p = runExec(kc, 'box', 'main', ['cat'], stdin);
    stdin.write('line one\n');
    stdin.end('line two\n');
    const r = await p;
    assert.equal(r.stdout, 'line one\nline two\n');
    assert.equal(r.status.status, 'Success');
    const warn = await runExec(kc, 'box', 'main', ['warn', 'careful']);
    assert.equal(warn.stderr, 'careful\n');
    assert.equal(warn.stdout, '');
  });

  it('reports a non-zero exit code in details.causes (ExitCode)', async () => {
    const r = await runExec(kc, 'box', 'main', ['exit', '3']);
    assert.equal(r.status.status, 'Failure');
    assert.equal(r.status.reason, 'NonZeroExitCode');
    assert.deepEqual(r.status.details?.causes?.map((c) => [c.reason, c.message]), [['ExitCode', '3']]);
    assert.equal(r.stderr, 'exiting with 3\n');
  });

  it('a kubelet error arrives as a Failure status', async () => {
    const r = await runExec(kc, 'box', 'main', ['no-such-binary']);
    assert.equal(r.status.status, 'Failure');
    assert.match(r.status.message ?? '', /executable file not found/);
  });

  it('refuses exec into a missing pod or container before upgrading', async () => {
    await assert.rejects(runExec(kc, 'ghost', 'main', ['echo']), /Unexpected server response: 404/);
    await assert.rejects(runExec(kc, 'box', 'nope', ['echo']), /Unexpected server response: 400/);
  });

  it('speaks v4.channel.k8s.io when that is all the server offers', async () => {
    const v4 = new ApiServer({ execProtocols: ['v4.channel.k8s.io'] });
    const url = await v4.start();
    const k = new FakeKubelet();
    v4.attachKubelet(k);
    k.start(v4.clusterStore);
    try {
      const kc4 = new KubeConfig();
      kc4.loadFromOptions({
        clusters: [{ name: 'c', server: url, skipTLSVerify: true }],
        users: [{ name: 'u', token: v4.adminToken }],
        contexts: [{ name: 'x', cluster: 'c', user: 'u' }],
        currentContext: 'x',
      });
      const api4 = kc4.makeApiClient(CoreV1Api);
      await api4.createNamespacedPod({ namespace: 'default', body: { metadata: { name: 'box' }, spec: { containers: [{ name: 'main', image: 'x:1' }] } } });
      while ((await api4.readNamespacedPod({ namespace: 'default', name: 'box' })).status?.phase !== 'Running') await new Promise((r) => setTimeout(r, 20));
      const out = collector();
      let connected: Promise<{ protocol: string }> | undefined;
      const status = await new Promise<V1Status>((resolve) => {
        connected = new Exec(kc4).exec('default', 'box', 'main', ['exit', '7'], out.stream, null, null, false, resolve);
      });
      assert.equal((await connected)?.protocol, 'v4.channel.k8s.io');
      assert.deepEqual(status.details?.causes?.map((c) => c.message), ['7']);
    } finally {
      await k.stop();
      await v4.stop();
    }
  });

  it('audits exec as pods/exec and needs create on pods/exec', async () => {
    const ev = await cluster.audit.waitFor({ resource: 'pods', subresource: 'exec', name: 'box' });
    assert.equal(ev.responseStatus.code, 101);
    const path = cluster.addUser('no-exec', [{ verbs: ['get', 'list'], resources: ['pods', 'pods/exec'] }]);
    const limited = new KubeConfig();
    limited.loadFromFile(path);
    await assert.rejects(runExec(limited, 'box', 'main', ['echo']), /Unexpected server response: 403/);
  });
});

describe('kube-sim API server: pods/log', () => {
  it('returns a container log, with tailLines, from the kubelet', async () => {
    for (const l of ['one', 'two', 'three']) kubelet.appendLog('default', 'box', 'main', l);
    const out = collector();
    await new Log(kc).log('default', 'box', 'main', out.stream, { tailLines: 2 });
    await new Promise((r) => out.stream.on('finish', r));
    assert.equal(out.text(), 'two\nthree\n');
    const plain = await api.readNamespacedPodLog({ namespace: 'default', name: 'box', container: 'main' });
    assert.equal(plain, 'one\ntwo\nthree\n');
  });

  it('follows a log until the container exits', async () => {
    kubelet.appendLog('default', 'duo', 'b', 'first');
    const out = collector();
    const finished = new Promise((r) => out.stream.on('finish', r));
    await new Log(kc).log('default', 'duo', 'b', out.stream, { follow: true });
    await new Promise((r) => setTimeout(r, 50));
    kubelet.appendLog('default', 'duo', 'b', 'second');
    kubelet.endLog('default', 'duo', 'b');
    await finished;
    assert.equal(out.text(), 'first\nsecond\n');
  });

  it('needs a container name for a pod with several, as a real server', async () => {
    try {
      await api.readNamespacedPodLog({ namespace: 'default', name: 'duo' });
      assert.fail('expected 400');
    } catch (err) {
      assert.ok(err instanceof ApiException);
      assert.equal(err.code, 400);
      const body = (typeof err.body === 'string' ? JSON.parse(err.body) : err.body) as { message: string };
      assert.equal(body.message, 'a container name must be specified for pod duo, choose one of: [a b]');
    }
  });
});
