// Concourse's end-to-end behaviours that depend on containers (issue 19), as its testflight suite
// checks them, on the local runtime's runc containers through a whole in-process node: pipelines
// from shared/fixtures/pipelines/testflight where the fixture is there, else the pipeline that
// Concourse's test sets (its file named on each test). Each asserts what the build saw.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { parse } from 'yaml';
import { startTestNode, type TestNode } from '../support/node.ts';
import { PIPELINE_FIXTURES } from '../support/shared.ts';
import { ContainerRuntime } from '../../src/runtime/local/containers/container-runtime.ts';
import { skipContainers } from './support.ts';

const skip = await skipContainers();
if (skip) console.log(`# skipped: Concourse's container fixtures need runc as root: ${skip}`);

const fixture = (name: string): string => readFileSync(join(PIPELINE_FIXTURES, 'testflight', name), 'utf8');
const MOCK_IMAGE = { type: 'mock', source: { mirror_self: true } };

let node: TestNode;
let runtime: ContainerRuntime | undefined;
/** an HTTP server on the host's loopback: what a task on the host network reaches and a hermetic one does not */
let web: Server;
let webPort = 0;
/** a forward proxy recording the URLs asked of it */
let proxy: Server;
let proxyPort = 0;
const proxied: string[] = [];

before(async () => {
  if (skip) return;
  web = createServer((_req, res) => res.end('reached-the-host\n'));
  proxy = createServer((req, res) => {
    proxied.push(req.url ?? '');
    res.end('answered-by-the-proxy\n');
  });
  await new Promise<void>((r) => web.listen(0, '127.0.0.1', r));
  await new Promise<void>((r) => proxy.listen(0, '127.0.0.1', r));
  webPort = (web.address() as { port: number }).port;
  proxyPort = (proxy.address() as { port: number }).port;
  node = await startTestNode({
    runtime: (root) =>
      (runtime = new ContainerRuntime({
        root,
        killGraceMs: 500,
        failedRetentionMs: 0,
        // as `jetway web --local-http-proxy … --local-no-proxy 127.0.0.1` gives every step
        proxyEnv: { http_proxy: `http://127.0.0.1:${proxyPort}`, no_proxy: '127.0.0.1,localhost' },
      })),
  });
});
after(async () => {
  if (skip) return;
  await node.stop();
  await runtime?.close();
  for (const s of [web, proxy]) {
    s.closeAllConnections();
    s.close();
  }
});

async function runJob(pipeline: string, job: string, vars: Record<string, unknown> = {}) {
  const id = await node.setPipeline(`${pipeline}-${randomUUID().slice(0, 8)}`, pipeline.endsWith('.yml') ? fixture(pipeline) : pipeline, vars);
  const build = await node.trigger(id, job);
  return { id, build, logs: await node.logs(build.id) };
}
const yaml = (o: unknown): string => JSON.stringify(o);
const taskJob = (name: string, task: Record<string, unknown>): string => yaml({ jobs: [{ name, plan: [{ task: 't', ...task }] }] });

// testflight/container_limits_test.go
test('container_limits: the job runs with its limits, and the container has them (1 GB of memory)', { skip }, async () => {
  const { build, logs } = await runJob('container_limits.yml', 'container-limits-job');
  assert.equal(build.status, 'succeeded', logs);
  assert.match(logs, /^hello$/m);
  const limited = await runJob(
    taskJob('limits', {
      config: {
        platform: 'linux',
        image_resource: MOCK_IMAGE,
        container_limits: { cpu: 512, memory: '1GB' },
        run: { path: 'sh', args: ['-c', 'cat /sys/fs/cgroup/memory/memory.limit_in_bytes 2>/dev/null || cat /sys/fs/cgroup/memory.max'] },
      },
    }),
    'limits',
  );
  assert.equal(limited.build.status, 'succeeded', limited.logs);
  assert.match(limited.logs, /^1073741824$/m);
});

// testflight/devices_test.go
const fuse = { platform: 'linux', image_resource: MOCK_IMAGE, run: { path: 'ls', args: ['/dev/fuse'] } };
test('devices: /dev/fuse only in a privileged container', { skip }, async () => {
  const privileged = await runJob(taskJob('check-fuse-privileged', { privileged: true, config: fuse }), 'check-fuse-privileged');
  assert.equal(privileged.build.status, 'succeeded', privileged.logs);
  const unprivileged = await runJob(taskJob('check-fuse-unprivileged', { config: fuse }), 'check-fuse-unprivileged');
  assert.equal(unprivileged.build.status, 'failed', unprivileged.logs);
  assert.match(unprivileged.logs, /No such file or directory/);
});

// testflight/container_hermetic_test.go (Concourse's containerd runtime: no network for a hermetic task)
test('hermetic: a hermetic task cannot reach the network; the same task without it can', { skip }, async () => {
  const script = `cat /proc/net/dev | grep -c : ; wget -q -T 5 -t 1 -O- http://127.0.0.1:${webPort}/`;
  const task = { config: { platform: 'linux', image_resource: MOCK_IMAGE, run: { path: 'sh', args: ['-ec', script] } } };
  const hermetic = await runJob(taskJob('container-hermetic-job', { hermetic: true, ...task }), 'container-hermetic-job');
  assert.equal(hermetic.build.status, 'failed', hermetic.logs);
  assert.match(hermetic.logs, /^1$/m, 'loopback only');
  assert.doesNotMatch(hermetic.logs, /reached-the-host/);
  const open = await runJob(taskJob('open-job', task), 'open-job');
  assert.equal(open.build.status, 'succeeded', open.logs);
  assert.match(open.logs, /reached-the-host/);
});

// testflight/image_resource_test.go
test("image_resource: the image's rootfs and metadata reach the task, at the version it names", { skip }, async () => {
  const { build, logs } = await runJob(
    taskJob('image', {
      config: {
        platform: 'linux',
        image_resource: { ...MOCK_IMAGE, version: { version: 'hi-im-a-version' } },
        run: { path: 'sh', args: ['-c', 'ls /opt/resource/check; env'] },
      },
    }),
    'image',
  );
  assert.equal(build.status, 'succeeded', logs);
  assert.match(logs, /^\/opt\/resource\/check$/m);
  assert.match(logs, /VERSION=hi-im-a-version/);
});

// testflight/volume_mounting_test.go: inputs and outputs nested in one another
const volumeJobs: [string, RegExp | undefined][] = [
  ['input-under-output', /some-resource/],
  ['input-under-input', /hello\s*world/],
  ['output-with-dot-with-input-within', /bar/],
  ['output-under-input', /hello/],
  ['input-same-output', /hello/],
  ['input-output-same-path-diff-name', undefined],
];
for (const [job, expected] of volumeJobs) {
  test(`volume-mounting: ${job}`, { skip }, async () => {
    const { build, logs } = await runJob('volume-mounting.yml', job);
    assert.equal(build.status, 'succeeded', logs);
    if (expected) assert.match(logs, expected);
  });
}

// http-proxy-task.yml (Concourse's workers give containers their http_proxy; topgun's worker-proxy)
test("http-proxy: a task's wget goes through the proxy the web node gives every step", { skip }, async () => {
  const config = parse(fixture('http-proxy-task.yml')) as Record<string, unknown>;
  const { build, logs } = await runJob(taskJob('proxied', { config }), 'proxied');
  assert.equal(build.status, 'succeeded', logs);
  assert.ok(proxied.some((u) => u.startsWith('http://example.com')), `the proxy was asked for example.com: ${proxied.join(', ')}`);
});

// testflight/volume_mounting_test.go, "Containers with nonroot users have their volume mounts
// chown'd": the behaviours its fixture checks, in a pipeline of ours. The image is mock's
// mirror_self, which on this runtime mirrors the host's users: `nonroot` is a host user
// (scripts/install-test-deps.sh makes one).
const hasNonroot = /^nonroot:/m.test(readFileSync('/etc/passwd', 'utf8'));
const nonrootSkip = skip || (hasNonroot ? false : 'no host user nonroot (scripts/install-test-deps.sh makes it)');
const owned = (user: string, checks: string[]) => ({
  platform: 'linux',
  run: { user, path: 'sh', args: ['-euxc', [`test "$(whoami)" = ${user}`, ...checks].join('\n')] },
});
const chowning = {
  resources: [
    { name: 'image', type: 'mock', source: { mirror_self: true } },
    { name: 'input', type: 'mock', source: { create_files: { 'file.yml': 'foo: bar' } } },
    { name: 'version', type: 'mock', source: { no_initial_version: true } },
  ],
  jobs: [
    ...[false, true].flatMap((privileged) =>
      ['root', 'nonroot'].map((user) => ({
        name: `${user}${privileged ? '-privileged' : ''}`,
        plan: [
          { get: 'image' },
          {
            task: user,
            image: 'image',
            ...(privileged ? { privileged: true } : {}),
            config: {
              ...owned(user, [`test "$(stat -c %U ./empty)" = ${user}`, `test "$(stat -c %U ./image)" = ${user}`, 'echo w > ./empty/file', 'echo w > ./image/file']),
              inputs: [{ name: 'image' }],
              outputs: [{ name: 'empty' }],
            },
          },
        ],
      })),
    ),
    {
      name: 'nonroot-to-root',
      plan: [
        { get: 'image' },
        { task: 'nonroot', image: 'image', config: { ...owned('nonroot', ['echo by-nonroot > ./empty/file']), outputs: [{ name: 'empty' }] } },
        // a root step takes the volume as it is: the directory is root's, the file still nonroot's
        { task: 'root', image: 'image', config: { ...owned('root', ['test "$(stat -c %U ./empty/file)" = nonroot', 'echo by-root >> ./empty/file']), inputs: [{ name: 'empty' }] } },
      ],
    },
    {
      name: 'same-parent-volume',
      plan: [
        { get: 'image' },
        { get: 'input' },
        { task: 'nonroot', image: 'image', config: { ...owned('nonroot', ['test "$(stat -c %U ./input/file.yml)" = nonroot', 'echo n > ./input/file-new']), inputs: [{ name: 'input' }] } },
        // the nonroot step's change was its own copy: the input is root's again, without the file
        { task: 'root', image: 'image', config: { ...owned('root', ['test "$(stat -c %U ./input/file.yml)" = root', 'test ! -e ./input/file-new']), inputs: [{ name: 'input' }] } },
      ],
    },
    {
      name: 'put',
      plan: [
        { get: 'image' },
        { task: 'nonroot', image: 'image', config: { ...owned('nonroot', ['echo written-by-nonroot > ./empty/file']), outputs: [{ name: 'empty' }] } },
        { put: 'version', params: { file: 'empty/file' } },
      ],
    },
  ],
};
for (const job of chowning.jobs.map((j) => j.name)) {
  test(`nonroot chowning: ${job}`, { skip: nonrootSkip }, async () => {
    const { build, logs } = await runJob(yaml(chowning), job);
    assert.equal(build.status, 'succeeded', logs);
    if (job === 'put') assert.match(logs, /written-by-nonroot/);
  });
}
