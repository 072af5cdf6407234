// The simulated kubelet against its in-memory store, a real registry (Debian docker-registry) and
// real containers (runc).
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import type { V1Container, V1ContainerStatus, V1Pod } from '@kubernetes/client-node';
import { RegistryClient, type FetchLike } from '../../src/images/registry-client.ts';
import { MEDIA_TYPES } from '../../src/images/oci.ts';
import { startRegistry, type TestRegistry } from '../support/registry.ts';
import { KubeletError, type Kubelet } from './contract.ts';
import { assembleImage, buildBusyboxImage, buildLayer, busyboxLayer, fileEntries, pushImage } from './images/build.ts';
import { createKubelet } from './kubelet/index.ts';
import { MemoryClusterStore } from './kubelet/memory-store.ts';

const USER = { username: 'ci', password: 's3cret' };
let open: TestRegistry;
let priv: TestRegistry;
let stateDir: string;
let store: MemoryClusterStore;
let kubelet: Kubelet;
let kubelets: Kubelet[] = [];
const dirs: string[] = [];
const client = new RegistryClient();
let plainDigest: string;
let podCount = 0;

function pod(containers: Partial<V1Container>[], extra: Partial<V1Pod['spec']> = {}, name = `p${++podCount}`): V1Pod {
  return {
    metadata: { name, namespace: 'default' },
    spec: { restartPolicy: 'Never', ...extra, containers: containers.map((c, i) => ({ name: `c${i}`, image: `${open.host}/test/plain:v1`, ...c })) } as V1Pod['spec'],
  };
}

function phase(p: V1Pod | undefined): string | undefined {
  return p?.status?.phase;
}

async function readAll(stream: Readable): Promise<string> {
  let out = '';
  for await (const chunk of stream) out += Buffer.isBuffer(chunk) ? chunk.toString('utf8') : String(chunk);
  return out;
}

function status(p: V1Pod | undefined, name = 'c0'): V1ContainerStatus | undefined {
  return [...(p?.status?.containerStatuses ?? []), ...(p?.status?.initContainerStatuses ?? [])].find((s) => s.name === name);
}

async function finished(name: string, timeoutMs = 15_000): Promise<V1Pod> {
  const p = await store.waitForPod('default', name, (x) => phase(x) === 'Succeeded' || phase(x) === 'Failed', timeoutMs);
  assert.ok(p);
  return p;
}

function dockerConfigSecret(name: string, host: string, creds: { username: string; password: string }, viaAuth = false) {
  const entry = viaAuth ? { auth: Buffer.from(`${creds.username}:${creds.password}`).toString('base64') } : { username: creds.username, password: creds.password };
  return {
    metadata: { name, namespace: 'default' },
    type: 'kubernetes.io/dockerconfigjson',
    data: { '.dockerconfigjson': Buffer.from(JSON.stringify({ auths: { [`http://${host}`]: entry } })).toString('base64') },
  };
}

before(async () => {
  [open, priv] = await Promise.all([startRegistry(), startRegistry({ htpasswd: USER })]);
  const plain = await buildBusyboxImage({ '/etc/only-in-image': 'hello from the image\n' }, { env: ['PATH=/usr/bin:/bin', 'FROM_IMAGE=image', 'OVERRIDE=image'], workingDir: '/work/dir' });
  plainDigest = await pushImage(client, { registry: open.host, path: 'test/plain' }, 'v1', plain);
  const privateImage = await buildBusyboxImage({ '/etc/secret-file': 'private content\n' });
  await pushImage(client, { registry: priv.host, path: 'team/private' }, 'v1', privateImage, USER);
  const ep = assembleImage([await busyboxLayer()], { entrypoint: ['echo', 'entry'], cmd: ['from-cmd'] });
  await pushImage(client, { registry: open.host, path: 'test/entrypoint' }, 'v1', ep);
  stateDir = mkdtempSync(join(tmpdir(), 'kube-sim-kubelet-'));
  store = new MemoryClusterStore();
  kubelet = createKubelet({ stateDir, imagePullBackOff: { initialMs: 400, maxMs: 800 }, errImagePullMs: 150, crashLoopBackOff: { initialMs: 200, maxMs: 400 } });
  kubelet.start(store);
  kubelets.push(kubelet);
});

after(async () => {
  for (const k of kubelets) await k.stop();
  kubelets = [];
  await Promise.all([open?.stop(), priv?.stop()]);
  for (const dir of [stateDir, ...dirs]) if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('kubelet', () => {
  it('schedules a pod, pulls its image, runs it and reports a file only the image has through logs', async () => {
    const p = store.createPod(pod([{ command: ['cat', '/etc/only-in-image'] }]));
    const done = await finished(p.metadata?.name ?? '');
    assert.equal(done.spec?.nodeName, kubelet.nodeName);
    assert.equal(phase(done), 'Succeeded');
    const s = status(done);
    assert.equal(s?.state?.terminated?.exitCode, 0);
    assert.equal(s?.state?.terminated?.reason, 'Completed');
    assert.equal(s?.imageID, `${open.host}/test/plain@${plainDigest}`);
    assert.match(s?.containerID ?? '', /^containerd:\/\//);
    assert.ok(s?.state?.terminated?.startedAt instanceof Date || typeof s?.state?.terminated?.startedAt === 'string');
    const conditions = Object.fromEntries((done.status?.conditions ?? []).map((c) => [c.type, c]));
    assert.equal(conditions.PodScheduled?.status, 'True');
    assert.equal(conditions.Initialized?.status, 'True');
    assert.equal(conditions.Ready?.status, 'False');
    assert.equal(conditions.Ready?.reason, 'PodCompleted');
    assert.equal(await readAll(kubelet.logs('default', p.metadata?.name ?? '', undefined, {})), 'hello from the image\n');
    const reasons = store.events.filter((e) => e.involvedObject.name === p.metadata?.name).map((e) => e.reason);
    for (const r of ['Scheduled', 'Pulling', 'Pulled', 'Created', 'Started']) assert.ok(reasons.includes(r), `event ${r} in ${reasons.join(',')}`);
  });

  it('applies Kubernetes command/args rules, merges env with $(VAR) expansion, uses the image working dir, and records exit codes', async () => {
    const ep = `${open.host}/test/entrypoint:v1`;
    const p = store.createPod(
      pod([
        { image: ep, name: 'defaults' },
        { image: ep, name: 'args', args: ['a1', '$(NAME)'], env: [{ name: 'NAME', value: 'expanded' }] },
        { name: 'env', command: ['sh', '-c', 'echo "$FROM_IMAGE $OVERRIDE $DERIVED $(pwd) $HOSTNAME"; exit 7'], env: [{ name: 'OVERRIDE', value: 'pod' }, { name: 'DERIVED', value: '$(OVERRIDE)-x' }] },
        { name: 'missing', command: ['/no/such/binary'] },
      ]),
    );
    const name = p.metadata?.name ?? '';
    const done = await finished(name);
    assert.equal(phase(done), 'Failed');
    assert.equal(await readAll(kubelet.logs('default', name, 'defaults', {})), 'entry from-cmd\n');
    assert.equal(await readAll(kubelet.logs('default', name, 'args', {})), 'entry a1 expanded\n');
    assert.equal(await readAll(kubelet.logs('default', name, 'env', {})), `image pod pod-x /work/dir ${name}\n`);
    assert.equal(status(done, 'env')?.state?.terminated?.exitCode, 7);
    assert.equal(status(done, 'env')?.state?.terminated?.reason, 'Error');
    const missing = status(done, 'missing')?.state?.terminated;
    assert.equal(missing?.reason, 'StartError');
    assert.equal(missing?.exitCode, 128);
    assert.match(missing?.message ?? '', /no such file or directory/);
    assert.throws(() => kubelet.logs('default', name, undefined, {}), (e: unknown) => e instanceof KubeletError && e.code === 400 && /container name must be specified/.test(e.message));
  });

  it('pulls a private image with the right secret (pod or service account) and fails clearly with a wrong one', async () => {
    store.putSecret(dockerConfigSecret('good', priv.host, USER, true));
    store.putSecret(dockerConfigSecret('bad', priv.host, { username: 'ci', password: 'wrong' }));
    store.putServiceAccount({ metadata: { name: 'builder', namespace: 'default' }, imagePullSecrets: [{ name: 'good' }] });
    const image = `${priv.host}/team/private:v1`;
    const ok = store.createPod(pod([{ image, command: ['cat', '/etc/secret-file'] }], { serviceAccountName: 'builder' }));
    // Always: with IfNotPresent a node that has the image runs it without asking the registry, as a real kubelet does
    const bad = store.createPod(pod([{ image, imagePullPolicy: 'Always', command: ['true'] }], { imagePullSecrets: [{ name: 'bad' }] }));
    const badName = bad.metadata?.name ?? '';
    const pulling = await store.waitForPod('default', badName, (x) => status(x)?.state?.waiting?.reason === 'ErrImagePull');
    assert.match(status(pulling)?.state?.waiting?.message ?? '', /401 Unauthorized/);
    const backOff = await store.waitForPod('default', badName, (x) => status(x)?.state?.waiting?.reason === 'ImagePullBackOff');
    assert.match(status(backOff)?.state?.waiting?.message ?? '', /Back-off pulling image ".*": ErrImagePull: .*401 Unauthorized/);
    assert.equal(phase(backOff), 'Pending');
    // the back-off retries the pull (ErrImagePull again)
    const pullEvents = () => store.events.filter((e) => e.involvedObject.name === badName && e.reason === 'Failed' && /^Failed to pull image/.test(e.message ?? '')).length;
    await store.waitForPod('default', badName, () => pullEvents() >= 2, 5000);
    const done = await finished(ok.metadata?.name ?? '');
    assert.equal(phase(done), 'Succeeded');
    assert.equal(await readAll(kubelet.logs('default', ok.metadata?.name ?? '', undefined, {})), 'private content\n');
    // no credentials at all: 401 as well
    const anon = store.createPod(pod([{ image, imagePullPolicy: 'Always', command: ['true'] }]));
    const anonFailed = await store.waitForPod('default', anon.metadata?.name ?? '', (x) => status(x)?.state?.waiting?.reason === 'ErrImagePull');
    assert.match(status(anonFailed)?.state?.waiting?.message ?? '', /401/);
    store.deletePod('default', badName);
    store.deletePod('default', anon.metadata?.name ?? '');
    await store.waitForPod('default', badName, (x) => x === undefined);
  });

  it('exec streams stdin, stdout and stderr and returns the exit code; exec in a finished container is refused', async () => {
    const p = store.createPod(pod([{ command: ['sleep', '3600'], env: [{ name: 'GREETING', value: 'hi' }], workingDir: '/srv' }], { terminationGracePeriodSeconds: 1 }));
    const name = p.metadata?.name ?? '';
    await store.waitForPod('default', name, (x) => Boolean(status(x)?.state?.running));
    const running = store.getPod('default', name);
    assert.equal(phase(running), 'Running');
    assert.equal(running?.status?.conditions?.find((c) => c.type === 'Ready')?.status, 'True');
    const stdout = new PassThrough();
    const stderr = new PassThrough();
    const outText = readAll(stdout);
    const errText = readAll(stderr);
    const { exitCode } = await kubelet.exec('default', name, 'c0', ['sh', '-c', 'read line; echo "got $line $GREETING $(pwd)"; echo oops >&2; exit 3'], {
      stdin: Readable.from(['input-line\n']),
      stdout,
      stderr,
      tty: false,
    });
    stdout.end();
    stderr.end();
    assert.equal(exitCode, 3);
    assert.equal(await outText, 'got input-line hi /srv\n');
    assert.equal(await errText, 'oops\n');
    const sink = new PassThrough();
    const missing = await kubelet.exec('default', name, undefined, ['/no/such/binary'], { stdout: sink, stderr: sink, tty: false });
    assert.ok(missing.exitCode === 126 || missing.exitCode === 127, `exit ${missing.exitCode}`);
    // the client goes away: the exec'd process is killed
    const gone = new AbortController();
    setTimeout(() => gone.abort(), 200);
    const aborted = await kubelet.exec('default', name, 'c0', ['sleep', '30'], { stdout: sink, stderr: sink, tty: false, signal: gone.signal });
    // killed (137), not a sleep that ran its 30 s out (0)
    assert.equal(aborted.exitCode, 137);
    store.deletePod('default', name);
    await store.waitForPod('default', name, (x) => x === undefined, 10_000);
    await assert.rejects(kubelet.exec('default', name, 'c0', ['true'], { stdout: sink, stderr: sink, tty: false }), (e: unknown) => e instanceof KubeletError && e.code === 404);
    const short = store.createPod(pod([{ command: ['true'] }]));
    await finished(short.metadata?.name ?? '');
    await assert.rejects(kubelet.exec('default', short.metadata?.name ?? '', 'c0', ['true'], { stdout: sink, stderr: sink, tty: false }), (e: unknown) => e instanceof KubeletError && e.code === 400);
  });

  it('runs init containers first, in order, and shares an emptyDir between the pod containers', async () => {
    const mount = [{ name: 'shared', mountPath: '/shared' }];
    const name = 'with-init';
    const image = `${open.host}/test/plain:v1`;
    const withInit = store.createPod({
      metadata: { name, namespace: 'default' },
      spec: {
        restartPolicy: 'Never',
        volumes: [{ name: 'shared', emptyDir: {} }],
        initContainers: [
          { name: 'init-1', image, command: ['sh', '-c', 'echo init-1 >> /shared/order'], volumeMounts: mount },
          { name: 'init-2', image, command: ['sh', '-c', 'sleep 0.2; echo init-2 >> /shared/order'], volumeMounts: mount },
        ],
        containers: [
          { name: 'writer', image, command: ['sh', '-c', 'echo app >> /shared/order; echo from-writer > /shared/msg.tmp; mv /shared/msg.tmp /shared/msg'], volumeMounts: mount },
          { name: 'reader', image, command: ['sh', '-c', 'while [ ! -f /shared/msg ]; do sleep 0.05; done; cat /shared/order /shared/msg'], volumeMounts: mount },
        ],
      },
    });
    const pending = await store.waitForPod('default', name, (x) => status(x, 'init-2')?.state?.running !== undefined);
    assert.equal(phase(pending), 'Pending');
    assert.equal(status(pending, 'init-1')?.state?.terminated?.exitCode, 0);
    assert.equal(status(pending, 'writer')?.state?.waiting?.reason, 'PodInitializing');
    assert.equal(pending?.status?.conditions?.find((c) => c.type === 'Initialized')?.status, 'False');
    const done = await finished(withInit.metadata?.name ?? '');
    assert.equal(phase(done), 'Succeeded');
    assert.equal(await readAll(kubelet.logs('default', name, 'reader', {})), 'init-1\ninit-2\napp\nfrom-writer\n');
    assert.equal(await readAll(kubelet.logs('default', name, 'init-1', {})), '');
  });

  it('a failing init container fails the pod (restartPolicy Never) and the app containers never start', async () => {
    const p = store.createPod({
      metadata: { name: 'init-fails', namespace: 'default' },
      spec: {
        restartPolicy: 'Never',
        initContainers: [{ name: 'boom', image: `${open.host}/test/plain:v1`, command: ['sh', '-c', 'echo no >&2; exit 4'] }],
        containers: [{ name: 'app', image: `${open.host}/test/plain:v1`, command: ['true'] }],
      },
    });
    const done = await finished(p.metadata?.name ?? '');
    assert.equal(phase(done), 'Failed');
    assert.equal(status(done, 'boom')?.state?.terminated?.exitCode, 4);
    assert.equal(status(done, 'app')?.state?.waiting?.reason, 'PodInitializing');
    assert.equal(await readAll(kubelet.logs('default', 'init-fails', 'boom', {})), 'no\n');
  });

  it('follows logs until the container exits, with timestamps and tail', async () => {
    const p = store.createPod(pod([{ command: ['sh', '-c', 'for i in 1 2 3; do echo line-$i; sleep 0.1; done'] }]));
    const name = p.metadata?.name ?? '';
    await store.waitForPod('default', name, (x) => Boolean(status(x)?.state?.running) || phase(x) === 'Succeeded');
    const followed = await readAll(kubelet.logs('default', name, 'c0', { follow: true }));
    assert.equal(followed, 'line-1\nline-2\nline-3\n');
    assert.equal(await readAll(kubelet.logs('default', name, 'c0', { tailLines: 1 })), 'line-3\n');
    assert.match(await readAll(kubelet.logs('default', name, 'c0', { timestamps: true, tailLines: 1 })), /^\d{4}-\d\d-\d\dT[\d:.]+Z line-3\n$/);
  });

  it('deleting a pod kills its processes: SIGTERM, then SIGKILL after the grace period, then the pod is gone', async () => {
    // `ready` once the trap is set, so the SIGTERM cannot come before it (a race under load)
    const trapping = store.createPod(pod([{ command: ['sh', '-c', 'trap "echo got-term; exit 0" TERM; echo ready; while true; do sleep 0.05; done'] }], { terminationGracePeriodSeconds: 30 }));
    const ignoring = store.createPod(pod([{ command: ['sleep', '3600'] }], { terminationGracePeriodSeconds: 1 }));
    const t = trapping.metadata?.name ?? '';
    const i = ignoring.metadata?.name ?? '';
    await store.waitForPod('default', t, (x) => Boolean(status(x)?.state?.running));
    await store.waitForPod('default', i, (x) => Boolean(status(x)?.state?.running));
    const runcIds = () => (JSON.parse(execFileSync('/usr/sbin/runc', ['--root', join(stateDir, 'runc'), 'list', '--format', 'json'], { encoding: 'utf8' }) || '[]') as { id: string }[] | null) ?? [];
    assert.ok(runcIds().length >= 2);
    for (let n = 0; n < 200 && !(await readAll(kubelet.logs('default', t, 'c0', {}))).includes('ready'); n++) await new Promise((r) => setTimeout(r, 25));
    const logs = readAll(kubelet.logs('default', t, 'c0', { follow: true }));
    const started = Date.now();
    store.deletePod('default', t);
    store.deletePod('default', i);
    // the trapping container ends on SIGTERM, long before its 30 s grace period
    await store.waitForPod('default', t, (x) => x === undefined, 20_000);
    assert.equal(await logs, 'ready\ngot-term\n');
    await store.waitForPod('default', i, (x) => x === undefined, 20_000);
    const took = Date.now() - started;
    assert.ok(took >= 900, `the one ignoring SIGTERM is killed only after its 1 s grace period (${took} ms)`);
    assert.ok(!runcIds().some((c) => c.id.includes('-c0-') && (c.id.startsWith((trapping.metadata?.uid ?? 'x').slice(0, 8)) || c.id.startsWith((ignoring.metadata?.uid ?? 'x').slice(0, 8)))));
    assert.ok(store.events.some((e) => e.involvedObject.name === t && e.reason === 'Killing'));
  });

  it('refuses an image whose manifest does not match the digest asked for', async () => {
    const other = await buildBusyboxImage({ '/etc/other': 'x' });
    const otherDigest = await pushImage(client, { registry: open.host, path: 'test/plain' }, 'other', other);
    // a registry (or a man in the middle) that answers a digest request with another manifest
    const lying: FetchLike = (input, init) => fetch(String(input).replace(`/manifests/${encodeURIComponent(plainDigest)}`, `/manifests/${encodeURIComponent(otherDigest)}`), init);
    const dir = mkdtempSync(join(tmpdir(), 'kube-sim-kubelet-lying-'));
    dirs.push(dir);
    const lyingStore = new MemoryClusterStore();
    const k = createKubelet({ stateDir: dir, nodeName: 'lying-node', registryClient: new RegistryClient({ fetch: lying }), imagePullBackOff: { initialMs: 5000 }, errImagePullMs: 5000 });
    kubelets.push(k);
    k.start(lyingStore);
    lyingStore.createPod(pod([{ image: `${open.host}/test/plain@${plainDigest}`, command: ['true'] }], {}, 'pinned'));
    const failed = await lyingStore.waitForPod('default', 'pinned', (x) => status(x)?.state?.waiting?.reason === 'ErrImagePull');
    assert.match(status(failed)?.state?.waiting?.message ?? '', /hashes to sha256:[0-9a-f]{64}, not the digest asked for/);
    assert.deepEqual(k.pullStats().pulls, {});
    // the honest registry serves the pinned image
    const ok = store.createPod(pod([{ image: `${open.host}/test/plain@${plainDigest}`, command: ['cat', '/etc/only-in-image'] }]));
    assert.equal(phase(await finished(ok.metadata?.name ?? '')), 'Succeeded');
    await k.stop();
  });

  it('caches images per node: IfNotPresent does not pull again, Always re-resolves the tag, pulls and bytes are counted', async () => {
    const image = assembleImage([await busyboxLayer(), await buildLayer(fileEntries({ '/etc/cached': 'yes\n' }))]);
    const digest = await pushImage(client, { registry: open.host, path: 'test/cached' }, 'v1', image);
    const id = `${open.host}/test/cached@${digest}`;
    const before = kubelet.pullStats();
    const first = store.createPod(pod([{ image: `${open.host}/test/cached:v1`, imagePullPolicy: 'IfNotPresent', command: ['cat', '/etc/cached'] }]));
    await finished(first.metadata?.name ?? '');
    const afterFirst = kubelet.pullStats();
    assert.equal(afterFirst.pulls[id], 1);
    // the busybox layer is already unpacked in another image, but this image's layers are downloaded: at least its own layer
    assert.ok(afterFirst.bytes - before.bytes >= image.layers[1]!.data.length, `${afterFirst.bytes - before.bytes} bytes`);
    const second = store.createPod(pod([{ image: `${open.host}/test/cached:v1`, imagePullPolicy: 'IfNotPresent', command: ['cat', '/etc/cached'] }]));
    const done = await finished(second.metadata?.name ?? '');
    assert.equal(await readAll(kubelet.logs('default', second.metadata?.name ?? '', undefined, {})), 'yes\n');
    assert.deepEqual(kubelet.pullStats(), afterFirst);
    assert.ok(store.events.some((e) => e.involvedObject.name === done.metadata?.name && e.reason === 'Pulled' && /already present on machine/.test(e.message ?? '')));
    const always = store.createPod(pod([{ image: `${open.host}/test/cached:v1`, imagePullPolicy: 'Always', command: ['true'] }]));
    await finished(always.metadata?.name ?? '');
    const afterAlways = kubelet.pullStats();
    assert.equal(afterAlways.pulls[id], 2);
    assert.ok(afterAlways.bytes - afterFirst.bytes <= image.manifest.length, 'Always re-reads the manifest only');
  });

  it('picks linux/amd64 from a multi-arch index and reports the index digest as imageID', async () => {
    const amd = await buildBusyboxImage({ '/etc/arch': 'amd64\n' });
    const arm = assembleImage([await buildLayer(fileEntries({ '/etc/arch': 'arm64\n' }))]);
    const repo = { registry: open.host, path: 'test/multi' };
    const manifests = [];
    for (const [img, architecture] of [
      [arm, 'arm64'],
      [amd, 'amd64'],
    ] as const) {
      await pushImage(client, repo, img.manifestDigest, img);
      manifests.push({ mediaType: MEDIA_TYPES.ociManifest, digest: img.manifestDigest, size: img.manifest.length, platform: { os: 'linux', architecture } });
    }
    const index = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: MEDIA_TYPES.ociIndex, manifests }));
    const indexDigest = await client.pushManifest({ ...repo, reference: 'v1' }, index, MEDIA_TYPES.ociIndex);
    const p = store.createPod(pod([{ image: `${open.host}/test/multi:v1`, command: ['cat', '/etc/arch'] }]));
    const done = await finished(p.metadata?.name ?? '');
    assert.equal(await readAll(kubelet.logs('default', p.metadata?.name ?? '', undefined, {})), 'amd64\n');
    assert.equal(status(done)?.imageID, `${open.host}/test/multi@${indexDigest}`);
  });

  it('fails the next pull on demand, evicts a running pod, restarts a crashing container with back-off', async () => {
    kubelet.failNextPull('test/plain', 'injected: registry on fire');
    const faulty = store.createPod(pod([{ command: ['true'], imagePullPolicy: 'Always' }]));
    const f = faulty.metadata?.name ?? '';
    const failing = await store.waitForPod('default', f, (x) => status(x)?.state?.waiting?.reason === 'ErrImagePull');
    assert.match(status(failing)?.state?.waiting?.message ?? '', /registry on fire/);
    assert.equal(phase(await finished(f)), 'Succeeded'); // the retry pulls normally

    const victim = store.createPod(pod([{ command: ['sleep', '3600'] }]));
    const v = victim.metadata?.name ?? '';
    await store.waitForPod('default', v, (x) => Boolean(status(x)?.state?.running));
    await kubelet.evict('default', v, 'The node was low on resource: memory.');
    const evicted = store.getPod('default', v);
    assert.equal(phase(evicted), 'Failed');
    assert.equal(evicted?.status?.reason, 'Evicted');
    assert.equal(status(evicted)?.state?.terminated?.exitCode, 137);

    const crashing = store.createPod(pod([{ command: ['sh', '-c', 'echo run; exit 1'] }], { restartPolicy: 'OnFailure' }));
    const c = crashing.metadata?.name ?? '';
    const looping = await store.waitForPod('default', c, (x) => (status(x)?.restartCount ?? 0) >= 2 && status(x)?.state?.waiting?.reason === 'CrashLoopBackOff');
    assert.equal(status(looping)?.lastState?.terminated?.exitCode, 1);
    assert.equal(phase(looping), 'Running');
    assert.equal(await readAll(kubelet.logs('default', c, 'c0', { previous: true })), 'run\n');
    store.deletePod('default', c);
    await store.waitForPod('default', c, (x) => x === undefined);
  });
});
