// The test images: kube-sim:push-image (a busybox image with files, pushed, its digest printed
// last) and the resource-type images (Node, the bundled resource code, /opt/resource scripts)
// running in real containers through the simulated kubelet.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import type { V1Pod } from '@kubernetes/client-node';
import { RegistryClient } from '../../src/images/registry-client.ts';
import { startRegistry, type TestRegistry } from '../support/registry.ts';
import type { Kubelet } from './contract.ts';
import { imageSize, pushImage } from './images/build.ts';
import { buildResourceTypeImage, resourceRepository } from './images/resource-types.ts';
import { createKubelet } from './kubelet/index.ts';
import { MemoryClusterStore } from './kubelet/memory-store.ts';

const USER = { username: 'pusher', password: 'pw' };
let registry: TestRegistry;
let stateDir: string;
let store: MemoryClusterStore;
let kubelet: Kubelet;
const client = new RegistryClient();

function runScript(script: string, args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const path = fileURLToPath(new URL(`./images/${script}`, import.meta.url));
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', path, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
  });
}

async function readAll(stream: Readable): Promise<string> {
  let out = '';
  for await (const chunk of stream) out += Buffer.isBuffer(chunk) ? chunk.toString('utf8') : String(chunk);
  return out;
}

async function exec(pod: string, command: string[], stdin?: string): Promise<{ exitCode: number; stdout: string; stderr: string }> {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  const out = readAll(stdout);
  const err = readAll(stderr);
  const { exitCode } = await kubelet.exec('default', pod, undefined, command, { ...(stdin !== undefined ? { stdin: Readable.from([stdin]) } : {}), stdout, stderr, tty: false });
  stdout.end();
  stderr.end();
  return { exitCode, stdout: await out, stderr: await err };
}

function podOf(name: string, image: string, command: string[]): V1Pod {
  return {
    metadata: { name, namespace: 'default' },
    spec: { restartPolicy: 'Never', terminationGracePeriodSeconds: 0, imagePullSecrets: [{ name: 'push' }], containers: [{ name: 'main', image, command }] },
  };
}

before(async () => {
  registry = await startRegistry({ htpasswd: USER });
  stateDir = mkdtempSync(join(tmpdir(), 'kube-sim-images-'));
  store = new MemoryClusterStore();
  store.putSecret({
    metadata: { name: 'push', namespace: 'default' },
    type: 'kubernetes.io/dockerconfigjson',
    data: { '.dockerconfigjson': Buffer.from(JSON.stringify({ auths: { [registry.host]: USER } })).toString('base64') },
  });
  kubelet = createKubelet({ stateDir });
  kubelet.start(store);
});

after(async () => {
  await kubelet?.stop();
  await registry?.stop();
  if (stateDir) rmSync(stateDir, { recursive: true, force: true });
});

describe('kube-sim:push-image', () => {
  it('builds a busybox image with the given files, pushes it and prints its digest last; the image runs', async () => {
    const result = await runScript('push-image.ts', ['--registry', registry.host, '--creds', 'pusher:pw', '--repo', 'demo/app', '--tag', 'v1', '--file', '/etc/greeting=hello world', '--file', '/data/eq=a=b']);
    assert.equal(result.code, 0, result.stderr);
    const digest = result.stdout.trim().split('\n').pop();
    assert.match(digest ?? '', /^sha256:[0-9a-f]{64}$/);
    const resolved = await client.resolveDigest({ registry: registry.host, path: 'demo/app', reference: 'v1' }, USER);
    assert.equal(resolved.digest, digest);
    store.createPod(podOf('cli-image', `${registry.host}/demo/app@${digest}`, ['sh', '-c', 'cat /etc/greeting; echo; cat /data/eq; echo; ls /bin/sh /bin/tar']));
    const done = await store.waitForPod('default', 'cli-image', (p) => p?.status?.phase === 'Succeeded' || p?.status?.phase === 'Failed');
    assert.equal(done?.status?.phase, 'Succeeded', JSON.stringify(done?.status?.containerStatuses));
    assert.equal(await readAll(kubelet.logs('default', 'cli-image', undefined, {})), 'hello world\na=b\n/bin/sh\n/bin/tar\n');
  });

  it('exits 2 naming the bad flag', async () => {
    for (const [args, flag] of [
      [['--registry', registry.host, '--repo', 'x', '--tag', 'v1', '--nope', 'y'], '--nope'],
      [['--registry', registry.host, '--repo', 'x'], '--tag'],
      [['--registry', registry.host, '--repo', 'x', '--tag', 'v1', '--file', 'relative=1'], '--file'],
      [['--registry', 'not a host', '--repo', 'x', '--tag', 'v1'], '--registry'],
      [['--registry', registry.host, '--repo', 'x', '--tag', 'v1', '--creds', 'nocolon'], '--creds'],
    ] as const) {
      const result = await runScript('push-image.ts', [...args]);
      assert.equal(result.code, 2, `${args.join(' ')}: ${result.stderr}`);
      assert.ok(result.stderr.includes(flag), result.stderr);
    }
  });
});

describe('resource-type images', () => {
  it('the mock resource image runs /opt/resource/check with JSON on stdin and prints versions; in writes files', async () => {
    const image = await buildResourceTypeImage('mock');
    assert.ok(imageSize(image) < 80 * 1024 * 1024, `${imageSize(image)} bytes`);
    const digest = await pushImage(client, { registry: registry.host, path: resourceRepository('mock') }, 'stable', image, USER);
    store.createPod(podOf('mock-check', `${registry.host}/${resourceRepository('mock')}@${digest}`, ['sleep', '3600']));
    await store.waitForPod('default', 'mock-check', (p) => p?.status?.containerStatuses?.[0]?.state?.running !== undefined, 20_000);
    const check = await exec('mock-check', ['/opt/resource/check'], JSON.stringify({ source: { initial_version: 'v1' }, version: null }));
    assert.equal(check.exitCode, 0, check.stderr);
    assert.deepEqual(JSON.parse(check.stdout), [{ version: 'v1' }]);
    const get = await exec('mock-check', ['/opt/resource/in', '/tmp/out'], JSON.stringify({ source: { create_files: { 'a.txt': 'from mock' } }, version: { version: 'v2' } }));
    assert.equal(get.exitCode, 0, get.stderr);
    assert.deepEqual(JSON.parse(get.stdout).version, { version: 'v2' });
    const cat = await exec('mock-check', ['cat', '/tmp/out/a.txt']);
    assert.equal(cat.stdout, 'from mock');
    const bad = await exec('mock-check', ['/opt/resource/check'], 'not json');
    assert.equal(bad.exitCode, 1);
    assert.match(bad.stderr, /invalid payload/);
  });

  it('the git resource image brings a working git', async () => {
    const image = await buildResourceTypeImage('git');
    const digest = await pushImage(client, { registry: registry.host, path: resourceRepository('git') }, 'stable', image, USER);
    store.createPod(
      podOf('git-works', `${registry.host}/${resourceRepository('git')}@${digest}`, [
        'sh',
        '-c',
        'set -e; git --version; cd /tmp; git init -q -b main repo; cd repo; echo x > f; git -c user.name=a -c user.email=a@b add f; git -c user.name=a -c user.email=a@b commit -qm one; git clone -q file:///tmp/repo /tmp/clone; cat /tmp/clone/f; test -x /opt/resource/check',
      ]),
    );
    const done = await store.waitForPod('default', 'git-works', (p) => p?.status?.phase === 'Succeeded' || p?.status?.phase === 'Failed', 20_000);
    const logs = await readAll(kubelet.logs('default', 'git-works', undefined, {}));
    assert.equal(done?.status?.phase, 'Succeeded', logs);
    assert.match(logs, /^git version .*\nx\n$/);
  });
});
