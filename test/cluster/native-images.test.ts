// The native image paths (issues 9 and 10) end to end on the kube-sim test cluster, with the
// shipped fixture `native-images.yml` as is: custom types one and two levels deep, `produces`, a
// private registry (htpasswd), an image passed between jobs, `fetch_artifact: true`. What ran
// where is read from the API server's audit log (every pod created, with its spec and labels) and
// from the database (versions, resource caches, containers_created).
//
// Registries: the cluster's own (open) registry holds the helper image and the base resource
// types (`--base-resource-type registry-image=…/jetway/registry-image-resource:stable`, mock
// likewise); the pipeline's `((registry))` is a second registry WITH htpasswd auth holding the
// four images the fixture names, so every pod running one of them needs the build's pull secret.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, connect, type Server, type Socket } from 'node:net';
import { CoreV1Api } from '@kubernetes/client-node';
import { startTestNode, type TestNode } from '../support/node.ts';
import { freePort, type TestRegistry } from '../support/registry.ts';
import type { KubeEnv } from '../runtime/kubernetes/support.ts';
import { buildBusyboxImage } from '../kube-sim/images/build.ts';
import { resourceRepository } from '../kube-sim/images/resource-types.ts';
import { getBuild } from '../../src/db/builds.ts';
import { Metrics } from '../../src/metrics/metrics.ts';
import type { KubernetesRuntime } from '../../src/runtime/kubernetes/kubernetes-runtime.ts';
import {
  FIXTURE,
  assertSucceeded,
  allBuildIds,
  buildInputs,
  checkBuilds,
  creds,
  describePods,
  planNames,
  imageEvents,
  jobBuilds,
  podCreates as podCreatesIn,
  settleJobs,
  startNativeImagesEnv,
  stepGets,
  stepImage,
  waitFor,
  type NativeImagesEnv,
  type PodCreate,
} from './native-images-support.ts';

let shared: NativeImagesEnv;
let env: KubeEnv;
let priv: TestRegistry;
let node: TestNode;
const metrics = new Metrics();
let runtime: KubernetesRuntime;
const runtimes: KubernetesRuntime[] = [];
const nodes: TestNode[] = [];
let digests: NativeImagesEnv['digests'];
let push: NativeImagesEnv['push'];

before(async () => {
  shared = await startNativeImagesEnv();
  ({ env, priv, digests, push } = shared);
  node = await startTestNode({ runtime: (root) => (runtime = env.runtime(root)), metrics });
  runtimes.push(runtime);
  nodes.push(node);
});
after(async () => {
  for (const r of runtimes) await r.close().catch(() => undefined);
  for (const n of nodes) await n.stop().catch(() => undefined);
  await shared?.stop();
});

const vars = (): Record<string, string> => shared.vars();
const podCreates = (labels: Record<string, string>): PodCreate[] => podCreatesIn(env, labels);

// ---------------------------------------------------------------- the fixture, native

test('native-images.yml on Kubernetes: first and later builds, no get pod for any image, no check pod for any registry-image, tasks run from repository@digest', async () => {
  const pipeline = 'native';
  const id = await node.setPipeline(pipeline, FIXTURE, vars());
  const inPipeline = { 'jetway.dev/pipeline': pipeline };
  const registryImageTypeRef = `${priv.host}/jetway/registry-image-resource@${digests.registryImageType}`;
  const mockTypeRef = `${priv.host}/jetway/mock-resource@${digests.mockType}`;

  // ---- first builds: a periodic check pass (source-code, app-image, tool-image), `build`
  // triggers, `ship` follows through `passed`
  await node.checker.scan();
  await node.engine.idle();
  const [check1] = await checkBuilds(node, id, 'source-code');
  assert.equal(check1?.status, 'succeeded', await node.logs(check1!.id));
  for (const resource of ['app-image', 'tool-image']) {
    const [c] = await checkBuilds(node, id, resource);
    assert.equal(c?.status, 'succeeded', `${resource}: ${await node.logs(c!.id)}`);
  }
  await settleJobs(node, id, { build: 1, ship: 1 });
  const round1Pods = podCreates(inPipeline);
  await assertSucceeded(node, [...(await jobBuilds(node, id, 'build')), ...(await jobBuilds(node, id, 'ship'))]);

  // a job's image records are kept for its latest successful build only (Concourse's rule): read them now
  const imageRecords = new Map<number, string[]>();
  const readImageRecords = async (): Promise<void> => {
    for (const b of await jobBuilds(node, id, 'ship')) {
      const r = await node.tdb.db.query<{ version: Record<string, string> }>(
        'SELECT c.version FROM build_image_resource_caches b JOIN resource_caches c ON c.id = b.resource_cache_id WHERE b.build_id = $1',
        [b.id],
      );
      if (r.rows.length > 0) imageRecords.set(b.id, r.rows.map((row) => row.version.digest ?? ''));
    }
  };
  await readImageRecords();

  // ---- later builds: team/app:v1 moves to a new digest (a manual check finds it, natively), a
  // new source-code version -> `build` again, and `ship` through `passed` with the new digest
  const app2 = (digests.app2 = await push('team/app', 'v1', await buildBusyboxImage({ '/etc/app-release': 'app release v1.1\n' })));
  const appCheck = await node.checkResource(id, 'app-image');
  assert.equal(appCheck.status, 'succeeded', await node.logs(appCheck.id));
  // `jetway check-resource --shallow`: the resource only (a deep manual check re-checks its type
  // chain on purpose, as fly's does)
  const check2 = await node.waitForBuild((await node.checker.checkResource(id, 'source-code', { from: { version: 'second' }, shallow: true })).id);
  assert.equal(check2.status, 'succeeded', await node.logs(check2.id));
  await settleJobs(node, id, { build: 2, ship: 2 });
  await readImageRecords();
  const builds = await jobBuilds(node, id, 'build');
  const ships = await jobBuilds(node, id, 'ship');
  assert.equal(builds.length, 2);
  assert.equal(ships.length, 2);
  await assertSucceeded(node, [...builds, ...ships]);
  const allPods = podCreates(inPipeline);
  const round2Pods = allPods.slice(round1Pods.length);
  const pods = describePods(allPods);

  // 1. no get pod for any image or image resource; fetch_artifact: exactly one get pod per ship build
  const getPods = allPods.filter((p) => p.labels['jetway.dev/type'] === 'get');
  assert.deepEqual([...new Set(getPods.map((p) => p.labels['jetway.dev/step']))].sort(), ['app-image-content', 'source-code'], pods);
  assert.equal(getPods.filter((p) => p.labels['jetway.dev/purpose'] === 'image').length, 0, pods);
  for (const ship of ships) {
    const content = getPods.filter((p) => p.labels['jetway.dev/build-id'] === String(ship.id) && p.labels['jetway.dev/step'] === 'app-image-content');
    assert.equal(content.length, 1, pods);
    const logs = await node.logs(ship.id);
    // the inspect task lists the downloaded files and reads the digest
    assert.match(logs, /image\.tar/, logs);
  }
  // source-code (wrapped-mock: not an image) is fetched by a pod in each `build`, with its image by reference
  for (const b of builds) {
    const sc = getPods.filter((p) => p.labels['jetway.dev/build-id'] === String(b.id));
    assert.equal(sc.length, 1, pods);
    assert.equal(stepImage(sc[0]!), mockTypeRef, pods);
  }

  // 2. no check pod for any registry-image; only the cold check of the `produces` type
  const checkPods = allPods.filter((p) => p.labels['jetway.dev/type'] === 'check');
  const checkSteps = [...new Set(checkPods.map((p) => p.labels['jetway.dev/step']))].sort();
  for (const step of checkSteps) assert.ok(['source-code', 'tool-image', 'wrapped-mock'].includes(step ?? ''), `check pod of ${step}:\n${pods}`);
  // the checks that run the oci-artifact type (the produces type's own check) cost pods the first time only
  const ociChecks = (list: PodCreate[]): PodCreate[] => list.filter((p) => p.labels['jetway.dev/type'] === 'check' && stepImage(p) === registryImageTypeRef);
  // round 1: wrapped-mock's cold history (an image check) and tool-image's first check (its type is oci-artifact)
  assert.deepEqual(
    ociChecks(round1Pods).map((p) => [p.labels['jetway.dev/step'], p.labels['jetway.dev/purpose'] ?? 'step']).sort(),
    [
      ['tool-image', 'step'],
      ['wrapped-mock', 'image'],
    ],
    pods,
  );
  assert.equal(ociChecks(round2Pods).length, 0, `no check pod of the produces type while fresh:\n${describePods(round2Pods)}`);
  // every check pod that is not a source-code check runs the produces type's image
  for (const p of checkPods.filter((c) => c.labels['jetway.dev/step'] !== 'source-code')) assert.equal(stepImage(p), registryImageTypeRef, pods);

  // 3. every task pod runs repository@digest of the version the build recorded
  const appDigests = [digests.app, app2];
  for (const [i, b] of builds.entries()) {
    const inputs = await buildInputs(node, b.id);
    assert.equal(inputs['app-image']?.digest, appDigests[i]);
    assert.deepEqual(await stepGets(node, b.id, ['source-code', 'app-image']), [
      ['source-code', i === 0 ? 'first' : 'second', false],
      ['app-image', appDigests[i], true],
    ]);
    const tasks = allPods.filter((p) => p.labels['jetway.dev/build-id'] === String(b.id) && p.labels['jetway.dev/type'] === 'task');
    assert.deepEqual(tasks.map(stepImage), [`${priv.host}/team/app@${inputs['app-image']!.digest}`]);
    // source-code's image (wrapped-mock) announced as Concourse does, every level of the type
    // chain: wrapped-mock's check is not native (oci-artifact runs it), its get is a reference;
    // oci-artifact's own image, for wrapped-mock's check and for its cache chain, is native
    assert.deepEqual(await imageEvents(node, b.id), [
      ['source-code', 'image-check', false],
      ['source-code', 'image-get', true],
      ['wrapped-mock', 'image-check', true], // oci-artifact's image, for wrapped-mock's check
      ['wrapped-mock', 'image-get', true],
      ['wrapped-mock', 'image-check', true], // and as the parent of wrapped-mock's image cache
      ['wrapped-mock', 'image-get', true],
    ]);
    assert.match(await node.logs(b.id), i === 0 ? /app release v1\n/ : /app release v1\.1\n/);
  }
  for (const [i, s] of ships.entries()) {
    const inputs = await buildInputs(node, s.id);
    // 4. ship's app-image digest is build's, passed between jobs with no get pod
    const upstream = await buildInputs(node, builds[i]!.id);
    assert.equal(inputs['app-image']?.digest, upstream['app-image']?.digest);
    assert.equal(inputs['app-image']?.digest, appDigests[i]);
    assert.equal(inputs['tool-image']?.digest, digests.tool);
    // app-image and tool-image without a pod; app-image-content downloaded
    assert.deepEqual(await stepGets(node, s.id, ['app-image', 'tool-image', 'app-image-content']), [
      ['app-image', appDigests[i], true],
      ['tool-image', digests.tool, true],
      ['app-image-content', appDigests[i], false],
    ]);
    const tasks = allPods.filter((p) => p.labels['jetway.dev/build-id'] === String(s.id) && p.labels['jetway.dev/type'] === 'task');
    // inspect's image_resource: the version the build recorded as its image (team/app; the other
    // record is the oci-artifact type's image, which tool-image's get resolved)
    const recorded = imageRecords.get(s.id) ?? [];
    assert.deepEqual(recorded.filter((d) => d !== digests.registryImageType).length, 1, JSON.stringify(recorded));
    const inspectDigest = recorded.find((d) => d !== digests.registryImageType);
    assert.ok(inspectDigest && appDigests.includes(inspectDigest), JSON.stringify(recorded));
    const byStep = Object.fromEntries(tasks.map((p) => [p.labels['jetway.dev/step'], stepImage(p)]));
    assert.deepEqual(byStep, { package: `${priv.host}/team/tool@${inputs['tool-image']!.digest}`, inspect: `${priv.host}/team/app@${inspectDigest}` });
    const logs = await node.logs(s.id);
    assert.match(logs, /tool release v2/);
    // inspect read the downloaded digest: the upstream one
    assert.ok(logs.includes(appDigests[i]!), logs);
    // the events of the short-circuited gets are marked
    const names = await planNames(node, s.id);
    const marked = (await node.events(s.id)).flatMap((e) => (e.event === 'initialize-get' && e.data.resolved_without_pod === true ? [names.get(e.data.origin.id)] : []));
    // tool-image's type's image (oci-artifact) and the inspect task's image (`image`) are short-circuited gets too
    assert.deepEqual(marked, ['app-image', 'tool-image', 'oci-artifact', 'image']);
    // docs/image-features.md, decision 4: the image events of tool-image's type (oci-artifact, resolved for the cache
    // chain) and of the inspect task's image_resource stay, all marked (a native check; a get
    // replaced by the reference)
    assert.deepEqual(await imageEvents(node, s.id), [
      ['tool-image', 'image-check', true],
      ['tool-image', 'image-get', true],
      ['inspect', 'image-check', true],
      ['inspect', 'image-get', true],
    ]);
  }

  // 5. the resource cache chain of wrapped-mock: source-code's cache -> wrapped-mock's image cache -> oci-artifact's image cache -> registry-image
  const chain = await node.tdb.db.query<{ depth: number; base: string | null; version: Record<string, string> }>(
    `WITH RECURSIVE chain(cache_id, depth, base, version) AS (
       SELECT rc.id, 0, NULL::text, rc.version FROM resource_caches rc WHERE rc.version = '{"version":"second"}'::jsonb
       UNION ALL
       SELECT parent.id, chain.depth + 1, brt.name, parent.version
         FROM chain JOIN resource_caches c ON c.id = chain.cache_id
         JOIN resource_configs cfg ON cfg.id = c.resource_config_id
         LEFT JOIN resource_caches parent ON parent.id = cfg.resource_cache_id
         LEFT JOIN base_resource_types brt ON brt.id = cfg.base_resource_type_id
        WHERE chain.cache_id IS NOT NULL)
     SELECT depth, base, version FROM chain ORDER BY depth`,
  );
  assert.deepEqual(
    chain.rows.map((r) => [r.depth, r.base, r.version?.digest ?? r.version?.version ?? null]),
    [
      [0, null, 'second'],
      [1, null, digests.mockType],
      [2, null, digests.registryImageType],
      [3, 'registry-image', null],
    ],
    JSON.stringify(chain.rows),
  );

  // 6. containers_created: no image pod for registry images
  for (const b of [...builds, ...ships]) {
    const fresh = (await getBuild(node.tdb.db, b.id))!;
    assert.equal(fresh.containersCreated.image?.get ?? 0, 0, JSON.stringify(fresh.containersCreated));
    assert.equal(fresh.containersCreated.image?.check ?? 0, 0, JSON.stringify(fresh.containersCreated));
  }
  assert.deepEqual((await getBuild(node.tdb.db, builds[0]!.id))!.containersCreated, { step: { get: 1, task: 1 } });
  assert.deepEqual((await getBuild(node.tdb.db, ships[0]!.id))!.containersCreated, { step: { get: 1, task: 2 } });
  assert.deepEqual((await getBuild(node.tdb.db, check1!.id))!.containersCreated, { image: { check: 1 }, step: { check: 1 } });
  assert.deepEqual((await getBuild(node.tdb.db, check2.id))!.containersCreated, { step: { check: 1 } });

  // 7. per-build pull secrets: private images pulled with the build's secret, deleted after; no password anywhere else
  const api = env.kubeConfig().makeApiClient(CoreV1Api);
  const privatePods = allPods.filter((p) => stepImage(p)?.startsWith(priv.host));
  assert.ok(privatePods.length > 0);
  for (const p of privatePods) {
    const buildId = p.labels['jetway.dev/build-id'];
    const secret = p.spec.imagePullSecrets?.map((s) => s.name).find((n) => n?.startsWith(`jetway-pull-${buildId}-`));
    assert.ok(secret, `pod of ${p.labels['jetway.dev/step']} (build ${buildId}) has no pull secret of its build: ${JSON.stringify(p.spec.imagePullSecrets)}`);
    await assert.rejects(api.readNamespacedSecret({ name: secret, namespace: 'default' }), (err: { code?: number }) => err.code === 404);
    assert.ok(env.cluster.audit.count({ verb: 'delete', resource: 'secrets', name: secret }) >= 1, secret);
  }
  for (const buildId of await allBuildIds(node, id)) {
    assert.ok(!JSON.stringify(await node.events(buildId)).includes(creds.password), `build ${buildId} events carry the password`);
  }
  const leaks = env.cluster.audit.events().filter((e) => e.objectRef?.resource !== 'secrets' && JSON.stringify(e.requestObject ?? {}).includes(creds.password));
  assert.deepEqual(leaks.map((e) => `${e.verb} ${e.objectRef?.resource}`), []);
  // the metrics say the same: every image resolved natively
  const scraped = (await metrics.scrape()).body;
  assert.match(scraped, /^jetway_images_resolved_total\{how="native"\} [1-9]/m);
  assert.doesNotMatch(scraped, /jetway_images_resolved_total\{how="containers"\}/);
});

// ---------------------------------------------------------------- the fixture, switch off

test('--kubernetes-native-images=false: the same pipeline succeeds through check + get pods', async () => {
  let fullRuntime: KubernetesRuntime | undefined;
  const fullMetrics = new Metrics();
  const full = await startTestNode({ runtime: (root) => (fullRuntime = env.runtime(root)), nativeImages: false, metrics: fullMetrics });
  nodes.push(full);
  runtimes.push(fullRuntime!);
  const pipeline = 'full-path';
  const id = await full.setPipeline(pipeline, FIXTURE, vars());
  await full.checker.scan();
  await full.engine.idle();
  await settleJobs(full, id, { build: 1, ship: 1 });
  const builds = [...(await jobBuilds(full, id, 'build')), ...(await jobBuilds(full, id, 'ship'))];
  await assertSucceeded(full, builds);
  const pods = podCreates({ 'jetway.dev/pipeline': pipeline });
  const text = describePods(pods);
  const steps = (type: string, purpose?: string): string[] =>
    [...new Set(pods.filter((p) => p.labels['jetway.dev/type'] === type && (purpose === undefined || p.labels['jetway.dev/purpose'] === purpose)).map((p) => p.labels['jetway.dev/step'] ?? ''))].sort();
  // images fetched by check + get pods; registry-image resources checked and fetched in pods
  assert.ok(steps('get', 'image').length > 0, text);
  assert.ok(steps('check', 'image').length > 0, text);
  assert.ok(steps('check').includes('app-image'), text);
  for (const step of ['app-image', 'tool-image', 'app-image-content', 'source-code']) assert.ok(steps('get').includes(step), `${step}:\n${text}`);
  const [build, ship] = builds;
  // the builds count the image pods they created
  assert.ok((build!.containersCreated.image?.get ?? 0) > 0, JSON.stringify(build!.containersCreated));
  assert.ok((ship!.containersCreated.image?.get ?? 0) > 0, JSON.stringify(ship!.containersCreated));
  // the image events of tool-image's type and of the inspect task are not marked: pods served them
  assert.deepEqual(await imageEvents(full, ship!.id), [
    ['tool-image', 'image-check', false],
    ['tool-image', 'image-get', false],
    ['inspect', 'image-check', false],
    ['inspect', 'image-get', false],
  ]);
  for (const buildId of await allBuildIds(full, id)) assert.ok(!JSON.stringify(await full.events(buildId)).includes(creds.password), `build ${buildId}`);
  const scraped = (await fullMetrics.scrape()).body;
  assert.match(scraped, /^jetway_images_resolved_total\{how="containers"\} [1-9]/m);
  assert.doesNotMatch(scraped, /jetway_images_resolved_total\{how="native"\}/);
  assert.match(scraped, /^jetway_containers_created_total\{runtime="kubernetes",type="get",purpose="image"\} [1-9]/m);
  const task = pods.find((p) => p.labels['jetway.dev/build-id'] === String(build!.id) && p.labels['jetway.dev/type'] === 'task');
  assert.equal(stepImage(task!), `${priv.host}/team/app@${(await buildInputs(full, build!.id))['app-image']?.digest}`);
  assert.match(await full.logs(build!.id), /app release v1/);
});

// ---------------------------------------------------------------- registry down; non-registry custom types

/** A TCP relay to `target` that can be closed: a registry that goes down. */
async function relay(target: string): Promise<{ host: string; close(): Promise<void> }> {
  const [targetHost, targetPort] = [target.slice(0, target.lastIndexOf(':')), Number(target.slice(target.lastIndexOf(':') + 1))];
  const sockets = new Set<Socket>();
  const server: Server = createServer((client) => {
    const upstream = connect(targetPort, targetHost);
    sockets.add(client).add(upstream);
    client.pipe(upstream).pipe(client);
    const drop = (): void => {
      client.destroy();
      upstream.destroy();
    };
    client.on('error', drop).on('close', drop);
    upstream.on('error', drop).on('close', drop);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return {
    host: `127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

test('a registry-image type whose registry is down fails the build naming the registry, with no pod; a custom type of type mock still works through pods', async () => {
  const flaky = await relay(env.registry);
  const closedPort = await freePort();
  const pipeline = 'registry-down';
  const id = await node.setPipeline(
    pipeline,
    `
resource_types:
- name: flaky-mock
  type: registry-image
  source: {repository: ${flaky.host}/${resourceRepository('mock')}, tag: stable}
  check_every: 1s
- name: closed-mock
  type: registry-image
  source: {repository: 127.0.0.1:${closedPort}/${resourceRepository('mock')}, tag: stable}
- name: anonymous-mock
  type: registry-image
  source: {repository: ${priv.host}/${resourceRepository('mock')}, tag: stable}
- name: custom-mock
  type: mock
  source: {mirror_self: true}
resources:
- name: flaky
  type: flaky-mock
  source: {initial_version: f1}
- name: closed
  type: closed-mock
  source: {initial_version: c1}
- name: via-mock
  type: custom-mock
  source: {initial_version: m1}
- name: anonymous
  type: anonymous-mock
  source: {initial_version: a1}
jobs:
- name: uses-flaky
  plan:
  - get: flaky
    trigger: true
- name: uses-mock
  plan:
  - get: via-mock
- name: uses-closed
  plan:
  - get: closed
- name: uses-anonymous
  plan:
  - get: anonymous
`,
  );
  // a type at a closed port: its resource's check fails naming the registry, with no pod
  const closedCheck = await node.checkResource(id, 'closed');
  assert.notEqual(closedCheck.status, 'succeeded');
  const closedLogs = await node.logs(closedCheck.id);
  assert.ok(closedLogs.includes(`127.0.0.1:${closedPort}`), closedLogs);
  assert.match(closedLogs, /ECONNREFUSED|connect|refused/i, closedLogs);
  assert.equal(env.cluster.audit.count({ verb: 'create', resource: 'pods', labels: { 'jetway.dev/build-id': String(closedCheck.id) } }), 0);

  // a registry that answers with an error status: named with the status, no pod
  const anonymousCheck = await node.checkResource(id, 'anonymous');
  assert.notEqual(anonymousCheck.status, 'succeeded');
  const anonymousLogs = await node.logs(anonymousCheck.id);
  assert.ok(anonymousLogs.includes(priv.host), anonymousLogs);
  assert.match(anonymousLogs, /401|unauthorized/i, anonymousLogs);
  assert.equal(env.cluster.audit.count({ verb: 'create', resource: 'pods', labels: { 'jetway.dev/build-id': String(anonymousCheck.id) } }), 0);

  // the registry is up: flaky is checked (its type natively, the resource in a mock pod)
  await node.checker.checkResource(id, 'flaky');
  await node.engine.idle();
  // the registry goes down; once the type's check is due again, the job's get must re-check it
  await flaky.close();
  await new Promise((r) => setTimeout(r, 1_200));
  await settleJobs(node, id, { 'uses-flaky': 1 });
  const [down] = await jobBuilds(node, id, 'uses-flaky');
  const logs = await node.logs(down!.id);
  assert.notEqual(down!.status, 'succeeded', logs);
  assert.ok(logs.includes(flaky.host), logs);
  assert.match(logs, /ECONNREFUSED|connect|refused/i, logs);
  assert.equal(env.cluster.audit.count({ verb: 'create', resource: 'pods', labels: { 'jetway.dev/build-id': String(down!.id) } }), 0, describePods(podCreates({ 'jetway.dev/pipeline': pipeline })));

  // a non-registry custom type: its image through check + get pods
  const mockBuild = await node.trigger(id, 'uses-mock');
  assert.equal(mockBuild.status, 'succeeded', await node.logs(mockBuild.id));
  const pods = podCreates({ 'jetway.dev/pipeline': pipeline });
  const imagePods = pods.filter((p) => p.labels['jetway.dev/purpose'] === 'image').map((p) => `${p.labels['jetway.dev/type']} ${p.labels['jetway.dev/step']}`);
  assert.ok(imagePods.includes('get custom-mock'), describePods(pods));
  assert.ok(imagePods.includes('check custom-mock'), describePods(pods));
  assert.equal(pods.filter((p) => p.labels['jetway.dev/build-id'] === String(mockBuild.id) && p.labels['jetway.dev/type'] === 'get' && p.labels['jetway.dev/step'] === 'via-mock').length, 1);
  await waitFor('no pods left', () => runtime.watcher.list().filter((p) => !p.metadata?.deletionTimestamp).length === 0);
});
