// The composed cluster: startCluster (registry + API server + kubelet) and the `kube-sim`
// command, through @kubernetes/client-node and a kubeconfig only.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough, Writable } from 'node:stream';
import { after, describe, it } from 'node:test';
import { CoreV1Api, Exec, KubeConfig, Log, type V1Pod, type V1Status } from '@kubernetes/client-node';
import { RegistryClient } from '../../src/images/registry-client.ts';
import { buildBusyboxImage, pushImage } from './images/build.ts';
import { startCluster } from './cluster.ts';
import { FakeKubelet } from './apiserver/fake-kubelet.ts';
import { readAuditFile } from './apiserver/audit.ts';

const dirs: string[] = [];
function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'kube-sim-cluster-'));
  dirs.push(d);
  return d;
}
after(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

const USER = { username: 'ci', password: 's3cret' };

async function registryUp(host: string): Promise<number | 'down'> {
  try {
    return (await fetch(`http://${host}/v2/`, { signal: AbortSignal.timeout(1000) })).status;
  } catch {
    return 'down';
  }
}

function sink(): { stream: Writable; text: () => string } {
  const chunks: Buffer[] = [];
  return {
    stream: new Writable({
      write(c: Buffer, _e, cb) {
        chunks.push(Buffer.from(c));
        cb();
      },
    }),
    text: () => Buffer.concat(chunks).toString(),
  };
}

async function until<T>(fn: () => Promise<T | undefined>, what: string, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v !== undefined) return v;
    if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('startCluster', () => {
  it('starts a registry with auth and the API server, writes kubeconfig/registry/audit.jsonl, and stops them', async () => {
    const dir = tempDir();
    const cluster = await startCluster({ stateDir: dir, registryAuth: 'ci:s3cret', kubeletFactory: () => new FakeKubelet() });
    let host = '';
    try {
      host = readFileSync(join(dir, 'registry'), 'utf8');
      assert.match(host, /^127\.0\.0\.1:\d+$/);
      assert.equal(host, cluster.registry?.host);
      assert.equal(await registryUp(host), 401, 'the registry wants credentials');
      const authed = await fetch(`http://${host}/v2/`, { headers: { Authorization: `Basic ${Buffer.from('ci:s3cret').toString('base64')}` } });
      assert.equal(authed.status, 200);
      const kc = new KubeConfig();
      kc.loadFromFile(join(dir, 'kubeconfig'));
      assert.equal(kc.getContextObject(kc.getCurrentContext())?.namespace, 'default');
      const api = kc.makeApiClient(CoreV1Api);
      const namespaces = (await api.listNamespace()).items.map((n) => n.metadata?.name).sort();
      assert.deepEqual(namespaces, ['default', 'kube-node-lease', 'kube-public', 'kube-system']);
      const lines = readAuditFile(join(dir, 'audit.jsonl'), { verb: 'list', resource: 'namespaces' });
      assert.equal(lines.length, 1);
      assert.equal(lines[0]?.responseStatus.code, 200);
    } finally {
      await cluster.stop();
    }
    assert.equal(await registryUp(host), 'down');
    assert.ok(!existsSync(join(dir, 'kubelet')), 'the kubelet directory is removed');
    await assert.rejects(fetch(`${cluster.server}/healthz`), 'the API server is down');
  });

  it('runs a pod from a private image with the real kubelet: pull secret, logs, exec, delete', { timeout: 30_000 }, async () => {
    const dir = tempDir();
    const cluster = await startCluster({ stateDir: dir, registryAuth: USER });
    try {
      const host = cluster.registry?.host ?? '';
      const image = await buildBusyboxImage({ '/etc/only-in-image': 'hello from the image\n' });
      await pushImage(new RegistryClient(), { registry: host, path: 'team/app' }, 'v1', image, USER);
      const kc = new KubeConfig();
      kc.loadFromFile(cluster.kubeconfigPath);
      const api = kc.makeApiClient(CoreV1Api);
      const auth = Buffer.from(`${USER.username}:${USER.password}`).toString('base64');
      await api.createNamespacedSecret({
        namespace: 'default',
        body: {
          metadata: { name: 'regcred' },
          type: 'kubernetes.io/dockerconfigjson',
          data: { '.dockerconfigjson': Buffer.from(JSON.stringify({ auths: { [host]: { auth } } })).toString('base64') },
        },
      });
      await api.patchNamespacedServiceAccount({ namespace: 'default', name: 'default', body: [{ op: 'add', path: '/imagePullSecrets', value: [{ name: 'regcred' }] }] });
      const body = (name: string, command: string[]): V1Pod => ({
        metadata: { name },
        spec: { restartPolicy: 'Never', containers: [{ name: 'main', image: `${host}/team/app:v1`, command }] },
      });
      await api.createNamespacedPod({ namespace: 'default', body: body('printer', ['cat', '/etc/only-in-image']) });
      const done = await until(async () => {
        const p = await api.readNamespacedPod({ namespace: 'default', name: 'printer' });
        return p.status?.phase === 'Succeeded' || p.status?.phase === 'Failed' ? p : undefined;
      }, 'the printer pod to finish');
      assert.equal(done.status?.phase, 'Succeeded', JSON.stringify(done.status));
      const log = sink();
      await new Log(kc).log('default', 'printer', 'main', log.stream, {});
      await new Promise((r) => log.stream.on('finish', r));
      assert.equal(log.text(), 'hello from the image\n');

      await api.createNamespacedPod({ namespace: 'default', body: body('shell', ['sleep', '300']) });
      await until(async () => ((await api.readNamespacedPod({ namespace: 'default', name: 'shell' })).status?.phase === 'Running' ? true : undefined), 'the shell pod to run');
      const out = sink();
      const err = sink();
      const stdin = new PassThrough();
      const status = new Promise<V1Status>((resolve) => {
        void new Exec(kc).exec('default', 'shell', 'main', ['sh', '-c', 'cat; echo oops >&2; exit 3'], out.stream, err.stream, stdin, false, resolve);
      });
      stdin.end('piped in\n');
      const s = await status;
      assert.equal(out.text(), 'piped in\n');
      assert.equal(err.text(), 'oops\n');
      assert.deepEqual(s.details?.causes?.map((c) => [c.reason, c.message]), [['ExitCode', '3']]);

      await api.deleteNamespacedPod({ namespace: 'default', name: 'shell', gracePeriodSeconds: 1 });
      await until(async () => ((await api.listNamespacedPod({ namespace: 'default', fieldSelector: 'metadata.name=shell' })).items.length === 0 ? true : undefined), 'the pod to be gone');
      assert.ok(cluster.audit.count({ verb: 'create', resource: 'pods', subresource: 'binding', username: 'system:node:kube-sim-node' }) >= 2);
    } finally {
      await cluster.stop();
    }
  });

  it("gives pods in-cluster configuration: the kubernetes Service's address and the service account's token, CA and namespace", { timeout: 60_000 }, async () => {
    const dir = tempDir();
    const cluster = await startCluster({ stateDir: dir });
    try {
      const host = cluster.registry?.host ?? '';
      await pushImage(new RegistryClient(), { registry: host, path: 'team/sh' }, 'v1', await buildBusyboxImage(), undefined);
      const kc = new KubeConfig();
      kc.loadFromFile(cluster.kubeconfigPath);
      const api = kc.makeApiClient(CoreV1Api);
      await api.createNamespacedServiceAccount({ namespace: 'default', body: { metadata: { name: 'builder' } } });
      const sa = '/var/run/secrets/kubernetes.io/serviceaccount';
      const script = `exec 2>/dev/null; echo "$KUBERNETES_SERVICE_HOST:$KUBERNETES_SERVICE_PORT"; cat ${sa}/namespace; echo; cat ${sa}/token; echo; cat ${sa}/ca.crt; touch ${sa}/x 2>/dev/null || echo read-only`;
      const run = async (name: string, spec: Partial<NonNullable<V1Pod['spec']>>): Promise<string> => {
        await api.createNamespacedPod({ namespace: 'default', body: { metadata: { name }, spec: { restartPolicy: 'Never', containers: [{ name: 'main', image: `${host}/team/sh:v1`, command: ['sh', '-c', script] }], ...spec } } });
        const done = await until(async () => {
          const p = await api.readNamespacedPod({ namespace: 'default', name });
          return p.status?.phase === 'Succeeded' || p.status?.phase === 'Failed' ? p : undefined;
        }, `the ${name} pod to finish`);
        assert.equal(done.status?.phase, 'Succeeded', JSON.stringify(done.status));
        const log = sink();
        await new Log(kc).log('default', name, 'main', log.stream, {});
        await new Promise((r) => log.stream.on('finish', r));
        return log.text();
      };
      const out = await run('in-cluster', { serviceAccountName: 'builder' });
      const [address, namespace, token = '', ...rest] = out.split('\n');
      assert.equal(`https://${address ?? ''}`, cluster.server);
      assert.equal(namespace, 'default');
      assert.equal(rest.join('\n'), `${cluster.caCert.trim()}\nread-only\n`);
      // the token is the service account's: authenticated as it, then refused by RBAC (no grants)
      const refused = await cluster.request('/api/v1/namespaces/default/pods', { token });
      assert.equal(refused.status, 403, refused.text);
      assert.match(refused.text, /User \\"system:serviceaccount:default:builder\\" cannot list/);
      assert.ok(cluster.audit.count({ verb: 'create', resource: 'serviceaccounts', subresource: 'token', username: 'system:node:kube-sim-node' }) >= 1);

      // automountServiceAccountToken: false keeps the address, not the token
      const without = await run('no-token', { serviceAccountName: 'builder', automountServiceAccountToken: false });
      assert.match(without, /^127\.0\.0\.1:\d+\n\n\n/);
    } finally {
      await cluster.stop();
    }
  });
});

describe('the kube-sim command', () => {
  function run(args: string[]): { child: ReturnType<typeof spawn>; stdout: () => string; stderr: () => string; exit: Promise<number | null> } {
    // node itself with tsx's loader, not the tsx command: that one relays a signal to its child and,
    // when the child's acknowledgement takes over 30 ms (a loaded machine), SIGKILLs it and exits 143
    const child = spawn(process.execPath, ['--import', 'tsx', 'test/kube-sim/main.ts', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout?.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr?.on('data', (c: Buffer) => (stderr += c.toString()));
    const exit = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    return { child, stdout: () => stdout, stderr: () => stderr, exit };
  }

  it('prints ready, serves the cluster, and exits 0 on SIGTERM after stopping the registry', { timeout: 180_000 }, async () => {
    const dir = tempDir();
    const p = run(['--state-dir', dir, '--registry-auth', 'ci:s3cret']);
    // loading the TypeScript takes a while on a loaded machine
    await until(async () => (/ready/.test(p.stdout()) ? true : p.child.exitCode !== null ? assert.fail(p.stderr()) : undefined), 'ready', 120_000);
    assert.ok(p.stdout().includes(join(dir, 'kubeconfig')));
    const host = readFileSync(join(dir, 'registry'), 'utf8');
    assert.ok(p.stdout().includes(host));
    assert.equal(await registryUp(host), 401);
    const kc = new KubeConfig();
    kc.loadFromFile(join(dir, 'kubeconfig'));
    const sa = await kc.makeApiClient(CoreV1Api).readNamespacedServiceAccount({ namespace: 'default', name: 'default' });
    assert.equal(sa.metadata?.name, 'default');
    p.child.kill('SIGTERM');
    assert.equal(await p.exit, 0, p.stderr());
    assert.equal(await registryUp(host), 'down');
    assert.equal(readAuditFile(join(dir, 'audit.jsonl'), { resource: 'serviceaccounts', name: 'default' }).length, 1);
  });

  it('exits 2 naming a bad flag', { timeout: 180_000 }, async () => {
    const bad = run(['--state-dir', tempDir(), '--latency', 'fast']);
    const missing = run(['--latency', 'realistic']);
    assert.equal(await bad.exit, 2);
    assert.match(bad.stderr(), /--latency/);
    assert.equal(await missing.exit, 2);
    assert.match(missing.stderr(), /--state-dir is required/);
  });
});
