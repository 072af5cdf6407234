// Task caches on the web node's disk: the layout both runtimes share, and clearing a key's caches
// (or one path's) with a real count, on the Kubernetes runtime's tarballs (the local runtime's
// directories: test/runtime/local).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { KubeConfig } from '@kubernetes/client-node';
import { clearTaskCaches, taskCacheEntry, taskCacheKey, taskCacheKeyDir } from '../../src/runtime/task-caches.ts';
import { cacheTarball } from '../../src/runtime/kubernetes/artifacts.ts';
import { kubernetesRuntimeConfig } from '../../src/runtime/kubernetes/config.ts';
import { KubernetesRuntime } from '../../src/runtime/kubernetes/kubernetes-runtime.ts';

let root: string;
before(async () => {
  root = await mkdtemp(join(tmpdir(), 'jw-task-caches-'));
});
after(async () => {
  await rm(root, { recursive: true, force: true });
});

async function put(file: string, content = 'x'): Promise<void> {
  await mkdir(dirname(file), { recursive: true });
  await writeFile(file, content);
}

test('the key of a job\'s task step; each key has a directory of its own, one entry per cache path', () => {
  assert.equal(taskCacheKey(7, 'unit', 'test'), '7/unit/test');
  assert.equal(taskCacheKey('one-off', 42, 'run'), 'one-off/42/run');
  const entry = taskCacheEntry(root, '7/unit/test', 'node_modules');
  assert.equal(dirname(entry), taskCacheKeyDir(root, '7/unit/test'));
  assert.notEqual(taskCacheKeyDir(root, '7/unit/test'), taskCacheKeyDir(root, '7/unit/lint'));
  assert.notEqual(entry, taskCacheEntry(root, '7/unit/test', 'other'));
});

test('the Kubernetes runtime clears the tarballs its pods saved: a save in progress is removed, not counted', async () => {
  const kc = new KubeConfig();
  kc.loadFromOptions({
    clusters: [{ name: 'c', server: 'http://127.0.0.1:1', skipTLSVerify: true }],
    users: [{ name: 'u', token: 't' }],
    contexts: [{ name: 'x', cluster: 'c', user: 'u', namespace: 'ci' }],
    currentContext: 'x',
  });
  const k8sRoot = join(root, 'kubernetes');
  const runtime = new KubernetesRuntime({ config: kubernetesRuntimeConfig({}), root: k8sRoot, kubeConfig: kc });
  const key = taskCacheKey(1, 'unit', 'test');
  await put(cacheTarball(k8sRoot, key, 'a'));
  await put(cacheTarball(k8sRoot, key, 'b'));
  await put(`${cacheTarball(k8sRoot, key, 'c')}.0b6f-partial.partial`);
  await put(cacheTarball(k8sRoot, taskCacheKey(1, 'unit', 'lint'), 'a'));

  assert.equal(await runtime.clearTaskCache(key, 'a'), 1);
  assert.equal(existsSync(cacheTarball(k8sRoot, key, 'a')), false);
  assert.equal(existsSync(cacheTarball(k8sRoot, key, 'b')), true);
  assert.equal(await runtime.clearTaskCache(key, 'a'), 0);
  assert.equal(await runtime.clearTaskCache(key), 1, 'b; not the partial save of c');
  assert.equal(existsSync(taskCacheKeyDir(k8sRoot, key)), false);
  assert.equal(await runtime.clearTaskCache(key), 0);
  assert.equal(existsSync(cacheTarball(k8sRoot, taskCacheKey(1, 'unit', 'lint'), 'a')), true, 'another step\'s cache stays');
  assert.deepEqual(
    (await readdir(join(k8sRoot, 'task-caches'))).filter((n) => n.startsWith('.clearing-')),
    [],
    'nothing is left aside',
  );
});

test('clearing without a directory of caches is 0, and a key\'s directory gone leaves the others', async () => {
  const dir = join(root, 'local');
  assert.equal(await clearTaskCaches(dir, 'k', undefined), 0);
  assert.equal(await clearTaskCaches(dir, 'k', 'p'), 0);
  await mkdir(taskCacheEntry(dir, 'k', 'p'), { recursive: true });
  await mkdir(taskCacheEntry(dir, 'k2', 'p'), { recursive: true });
  assert.equal(await clearTaskCaches(dir, 'k', undefined), 1);
  assert.equal(existsSync(taskCacheEntry(dir, 'k2', 'p')), true);
});
