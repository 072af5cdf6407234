// image_resolution: `native-images.yml` (../shared/fixtures/pipelines/jetway) on the Kubernetes
// test cluster (kube-sim) with the `realistic` latency profile, once on the native image paths
// (the default) and once on the full path (`--kubernetes-native-images=false`), each over a first
// build and a later build (team/app:v1 moves to a new digest and source-code gets a new version),
// as test/cluster/native-images.test.ts drives it. Each run gets a fresh cluster, registry and
// node (the setup, image pushes included, is not timed; the latency profile is switched on after it).
//  - pods_total: pods created for the pipeline (`create pods` in the API server's audit log)
//  - image_pods: those labelled `jetway.dev/purpose=image` (checks and gets of images)
//  - ci_image_bytes: the compressed layer bytes of the images Jetway's own get pods fetched through
//    the registry-image resource: the image gets (`purpose=image`) and the get steps of the
//    resources the tasks run as `image:` (app-image, tool-image), read from the registry's
//    manifests. Not counted: source-code (a mock resource, not an image) and app-image-content
//    (`fetch_artifact`: the pipeline asks for the bytes on both paths). Kubelet pulls are not CI bytes.
//  - wall_ms: from the trigger (the periodic check pass; the later round's manual checks) to both
//    jobs' builds finished.
import { startTestNode } from '../test/support/node.ts';
import { resourceRepository } from '../test/kube-sim/images/resource-types.ts';
import {
  FIXTURE,
  assertSucceeded,
  creds,
  describePods,
  jobBuilds,
  podCreates,
  settleJobs,
  startNativeImagesEnv,
  type NativeImagesEnv,
  type PodCreate,
} from '../test/cluster/native-images-support.ts';
import type { KubernetesRuntime } from '../src/runtime/kubernetes/kubernetes-runtime.ts';
import { median, spread, type BenchContext, type BenchResult } from './harness.ts';

type Round = {
  pods_total: number;
  image_pods: number;
  // image_pods split: checks of an image's versions, and gets that download one
  image_check_pods: number;
  image_get_pods: number;
  ci_image_bytes: number;
  wall_ms: number;
};
// type aliases (not interfaces): they fit BenchValue's index signature
type PathFigures = {
  first: Round;
  later: Round;
};

/** The compressed layer bytes of repository@digest in the fixture's registry. */
async function layerBytes(ni: NativeImagesEnv, path: string, digest: string): Promise<number> {
  const manifest = await ni.client.getManifest({ registry: ni.priv.host, path, reference: digest }, creds);
  const body = JSON.parse(manifest.body.toString('utf8')) as { layers?: { size: number }[]; manifests?: unknown[] };
  if (!body.layers) throw new Error(`${path}@${digest}: not an image manifest (${manifest.mediaType})`);
  return body.layers.reduce((n, l) => n + l.size, 0);
}

/** The image each of Jetway's image-fetching get pods downloaded, by its step label; undefined for gets that fetch no CI image. */
function fetchedImage(ni: NativeImagesEnv, pod: PodCreate, appDigest: string): { path: string; digest: string } | undefined {
  const step = pod.labels['jetway.dev/step'] ?? '';
  const image = pod.labels['jetway.dev/purpose'] === 'image';
  if (!image && (step === 'source-code' || step === 'app-image-content')) return undefined;
  switch (step) {
    case 'app-image':
    case 'image': // the inspect task's image_resource: team/app:v1
      return { path: 'team/app', digest: appDigest };
    case 'tool-image':
    case 'package':
      return { path: 'team/tool', digest: ni.digests.tool };
    case 'oci-artifact':
      return { path: resourceRepository('registry-image'), digest: ni.digests.registryImageType };
    case 'wrapped-mock':
      return { path: resourceRepository('mock'), digest: ni.digests.mockType };
  }
  throw new Error(`image_resolution: a get pod of unknown image ${step}: ${describePods([pod])}`);
}

async function roundFigures(ni: NativeImagesEnv, pods: PodCreate[], appDigest: string, wallMs: number): Promise<Round> {
  let bytes = 0;
  for (const pod of pods.filter((p) => p.labels['jetway.dev/type'] === 'get')) {
    const fetched = fetchedImage(ni, pod, appDigest);
    if (fetched) bytes += await layerBytes(ni, fetched.path, fetched.digest);
  }
  const image = pods.filter((p) => p.labels['jetway.dev/purpose'] === 'image');
  return {
    pods_total: pods.length,
    image_pods: image.length,
    image_check_pods: image.filter((p) => p.labels['jetway.dev/type'] === 'check').length,
    image_get_pods: image.filter((p) => p.labels['jetway.dev/type'] === 'get').length,
    ci_image_bytes: bytes,
    wall_ms: wallMs,
  };
}

async function runOnce(nativeImages: boolean): Promise<PathFigures> {
  const ni = await startNativeImagesEnv();
  let runtime: KubernetesRuntime | undefined;
  const node = await startTestNode({ runtime: (root) => (runtime = ni.env.runtime(root)), nativeImages });
  try {
    const pipeline = nativeImages ? 'native' : 'full';
    const id = await node.setPipeline(pipeline, FIXTURE, ni.vars());
    const labels = { 'jetway.dev/pipeline': pipeline };
    ni.env.cluster.setLatency('realistic');

    // first builds: the periodic check pass triggers `build`; `ship` follows through `passed`
    let started = Date.now();
    await node.checker.scan();
    await node.engine.idle();
    await settleJobs(node, id, { build: 1, ship: 1 });
    const firstMs = Date.now() - started;
    const firstPods = podCreates(ni.env, labels);

    // later builds: team/app:v1 moves (pushed before the clock starts), a manual check finds it,
    // source-code gets a new version; `build` and `ship` run again
    await ni.pushApp2();
    started = Date.now();
    await node.checkResource(id, 'app-image');
    await node.waitForBuild((await node.checker.checkResource(id, 'source-code', { from: { version: 'second' }, shallow: true })).id);
    await settleJobs(node, id, { build: 2, ship: 2 });
    const laterMs = Date.now() - started;
    const laterPods = podCreates(ni.env, labels).slice(firstPods.length);
    await assertSucceeded(node, [...(await jobBuilds(node, id, 'build')), ...(await jobBuilds(node, id, 'ship'))]);

    return {
      first: await roundFigures(ni, firstPods, ni.digests.app, firstMs),
      later: await roundFigures(ni, laterPods, ni.digests.app2, laterMs),
    };
  } finally {
    await runtime?.close().catch(() => undefined);
    await node.stop().catch(() => undefined);
    await ni.stop().catch(() => undefined);
  }
}

const medianRound = (rs: Round[]): Round => ({
  pods_total: median(rs.map((r) => r.pods_total)),
  image_pods: median(rs.map((r) => r.image_pods)),
  image_check_pods: median(rs.map((r) => r.image_check_pods)),
  image_get_pods: median(rs.map((r) => r.image_get_pods)),
  ci_image_bytes: median(rs.map((r) => r.ci_image_bytes)),
  wall_ms: Math.round(median(rs.map((r) => r.wall_ms))),
});

export async function benchImageResolution(ctx: BenchContext): Promise<BenchResult> {
  const runs = ctx.quick ? 1 : 3;
  const samples: Record<'native' | 'full', PathFigures[]> = { native: [], full: [] };
  for (let i = 0; i < runs; i++) {
    for (const path of ['native', 'full'] as const) {
      ctx.progress(`image_resolution: ${path} path, run ${i + 1} of ${runs} (fresh test cluster, realistic latency)`);
      samples[path].push(await runOnce(path === 'native'));
    }
  }
  const fig = (path: 'native' | 'full'): PathFigures => ({ first: medianRound(samples[path].map((s) => s.first)), later: medianRound(samples[path].map((s) => s.later)) });
  const native = fig('native');
  const full = fig('full');
  const ratio = (a: number, b: number): number => Math.round((a / b) * 1000) / 1000;
  const wall_ratio = { first: ratio(native.first.wall_ms, full.first.wall_ms), later: ratio(native.later.wall_ms, full.later.wall_ms) };
  // pod counts and bytes are the same every run; wall times vary: their spread over the runs, in percent
  const wallNoise = (path: 'native' | 'full', round: 'first' | 'later'): number => spread(samples[path].map((s) => s[round].wall_ms)).pct;
  const wall_ms_spread_pct = {
    native: { first: wallNoise('native', 'first'), later: wallNoise('native', 'later') },
    full: { first: wallNoise('full', 'first'), later: wallNoise('full', 'later') },
  };

  const rows: [string, Round][] = [
    ['native first', native.first],
    ['native later', native.later],
    ['full   first', full.first],
    ['full   later', full.later],
  ];
  const table = [
    `  ${runs === 1 ? 'one run each (--quick)' : `median of ${runs} runs each`}`,
    '  path/build    pods  image_pods (check/get)  ci_image_bytes   wall_ms',
    ...rows.map(
      ([name, r]) =>
        `  ${name}  ${String(r.pods_total).padStart(5)}  ${String(r.image_pods).padStart(10)} ${`(${r.image_check_pods}/${r.image_get_pods})`.padStart(11)}  ${String(r.ci_image_bytes).padStart(14)}  ${String(r.wall_ms).padStart(8)}`,
    ),
    `  wall_ratio (native / full): first ${wall_ratio.first}, later ${wall_ratio.later}`,
    runs > 1
      ? `  wall_ms spread over the runs: native first ±${wall_ms_spread_pct.native.first}%, later ±${wall_ms_spread_pct.native.later}%; full first ±${wall_ms_spread_pct.full.first}%, later ±${wall_ms_spread_pct.full.later}%`
      : '  (one run: no spread)',
  ].join('\n');
  return {
    key: 'image_resolution',
    title: 'native-images.yml on the Kubernetes test cluster (realistic latency): native vs full image path',
    value: { native, full, wall_ratio, wall_ms_spread_pct, runs },
    unit: '',
    table,
  };
}
