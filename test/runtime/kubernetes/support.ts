// The Kubernetes runtime on the kube-sim test cluster: a cluster (zero latency, real registry,
// runc containers), the helper image (`jetway/helper`, a busybox image: its busybox has no
// chpst) and Jetway's resource types as images, pushed once, and runtimes configured for them.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CoreV1Api, KubeConfig } from '@kubernetes/client-node';
import { randomBytes } from 'node:crypto';
import type { RegistryCredentials } from '../../../src/images/registry-client.ts';
import { clusterTarget, type ClusterTarget } from '../../cluster/target.ts';
import { startCluster, type Cluster } from '../../kube-sim/cluster.ts';
import { assembleImage, buildBusyboxImage, buildLayer, DEFAULT_PATH, fileEntries, pushImage, type BuiltImage } from '../../kube-sim/images/build.ts';
import { buildResourceTypeImage, resourceRepository, type ResourceTypeName } from '../../kube-sim/images/resource-types.ts';
import { RegistryClient } from '../../../src/images/registry-client.ts';
import { kubernetesRuntimeConfig, type KubernetesRuntimeOptions as FlagOptions } from '../../../src/runtime/kubernetes/config.ts';
import { KubernetesRuntime } from '../../../src/runtime/kubernetes/kubernetes-runtime.ts';

const PRINTENV = `#!/bin/sh
[ $# -eq 0 ] && exec env
s=0
for n in "$@"; do
  if eval "[ -n \\"\\\${$n+x}\\" ]"; then eval "printf '%s\\n' \\"\\$$n\\""; else s=1; fi
done
exit $s
`;

export interface KubeEnv {
  cluster: Cluster;
  registry: string;
  helperImage: string;
  /** the --base-resource-type flags for the pushed resource types */
  baseResourceTypes: string[];
  /** the resource-type images as pushed (`jetway/<type>-resource:stable`), to push elsewhere too */
  resourceTypeImages: Partial<Record<ResourceTypeName, BuiltImage>>;
  /** the flags of a runtime for this cluster (more flags merged over them) */
  flags(extra?: FlagOptions): FlagOptions;
  /** a runtime on this cluster, its web-node directory under `root` */
  runtime(root: string, extra?: FlagOptions, killGraceMs?: number): KubernetesRuntime;
  kubeConfig(): KubeConfig;
  stop(): Promise<void>;
}

/** The images a cluster's runtime needs, pushed to `registry` (HOST[:PORT][/PREFIX]). */
async function pushTestImages(registry: string, types: ResourceTypeName[], credentials?: RegistryCredentials) {
  const slash = registry.indexOf('/');
  const host = slash < 0 ? registry : registry.slice(0, slash);
  const prefix = slash < 0 ? '' : `${registry.slice(slash + 1)}/`;
  const client = new RegistryClient({ userAgent: 'jetway-kubernetes-tests' });
  const helper = await buildBusyboxImage();
  await pushImage(client, { registry: host, path: `${prefix}jetway/helper` }, 'test', helper, credentials);
  const baseResourceTypes: string[] = [];
  const resourceTypeImages: Partial<Record<ResourceTypeName, BuiltImage>> = {};
  for (const type of types) {
    const built = await buildResourceTypeImage(type);
    // Concourse's resource images are full distributions; the fixtures use printenv, which the
    // test images' busybox lacks: a small stand-in.
    const image = assembleImage([...built.layers, await buildLayer(fileEntries({ '/usr/bin/printenv': PRINTENV }, 0o755))], { env: [DEFAULT_PATH], cmd: ['sh'] });
    await pushImage(client, { registry: host, path: `${prefix}${resourceRepository(type)}` }, 'stable', image, credentials);
    resourceTypeImages[type] = image;
    baseResourceTypes.push(`${type}=${registry}/${resourceRepository(type)}:stable`);
  }
  return { helperImage: `${registry}/jetway/helper:test`, baseResourceTypes, resourceTypeImages };
}

function envFor(kubeconfig: string, pushed: Awaited<ReturnType<typeof pushTestImages>>, registry: string, base: FlagOptions) {
  const flags = (extra: FlagOptions = {}): FlagOptions => ({
    kubernetesKubeconfig: kubeconfig,
    kubernetesHelperImage: pushed.helperImage,
    kubernetesFailedPodRetention: '0s',
    kubernetesImagePullGrace: '2s',
    kubernetesPodStartupTimeout: '60s',
    ...base,
    ...extra,
    baseResourceType: [...pushed.baseResourceTypes, ...(extra.baseResourceType ?? [])],
    kubernetesImagePullSecret: [...(base.kubernetesImagePullSecret ?? []), ...(extra.kubernetesImagePullSecret ?? [])],
  });
  const kubeConfig = (): KubeConfig => {
    const kc = new KubeConfig();
    kc.loadFromFile(kubeconfig);
    return kc;
  };
  return {
    registry,
    helperImage: pushed.helperImage,
    baseResourceTypes: pushed.baseResourceTypes,
    resourceTypeImages: pushed.resourceTypeImages,
    flags,
    runtime: (root: string, extra?: FlagOptions, killGraceMs = 2_000) =>
      new KubernetesRuntime({ config: kubernetesRuntimeConfig(flags(extra)), root: join(root, 'kubernetes'), killGraceMs, retry: { attempts: 12, baseDelayMs: 50, maxDelayMs: 1_000 } }),
    kubeConfig,
  };
}

export async function startKubeEnv(types: ResourceTypeName[] = ['mock']): Promise<KubeEnv> {
  // a suite that calls this needs kube-sim's own handles: given a real cluster, it says it runs here instead
  if (process.env.KUBECONFIG && process.env.JETWAY_TEST_REGISTRY) {
    console.log("# this suite needs the kube-sim test cluster's audit log, faults or pull stats: it runs on a test cluster it starts, not on KUBECONFIG's (docs/kubernetes-runtime.md)");
  }
  const stateDir = await mkdtemp(join(tmpdir(), 'jw-kube-'));
  const cluster = await startCluster({ stateDir, latency: 'zero' });
  try {
    const registry = cluster.registry!.host;
    const pushed = await pushTestImages(registry, types);
    return {
      cluster,
      ...envFor(cluster.kubeconfigPath, pushed, registry, {}),
      stop: async () => {
        await cluster.stop();
        await rm(stateDir, { recursive: true, force: true });
      },
    };
  } catch (err) {
    await cluster.stop();
    await rm(stateDir, { recursive: true, force: true });
    throw err;
  }
}

/** A cluster for suites that need nothing of kube-sim's own (its audit log, faults, pull stats): a real one or kube-sim. */
export type TargetKubeEnv = Omit<KubeEnv, 'cluster'> & {
  target: ClusterTarget;
  /** the kube-sim cluster, undefined on a real one */
  sim: Cluster | undefined;
};

/**
 * The cluster test/cluster/target.ts names from the environment (KUBECONFIG and
 * JETWAY_TEST_REGISTRY: a real cluster, in a namespace of its own, deleted at stop, with a pull
 * Secret when the registry needs a login), else a kube-sim test cluster as startKubeEnv starts it.
 */
export async function startTargetKubeEnv(types: ResourceTypeName[] = ['mock'], target: ClusterTarget = clusterTarget(process.env, randomBytes(3).toString('hex'))): Promise<TargetKubeEnv> {
  if (target.kind === 'kube-sim') {
    const { cluster, ...env } = await startKubeEnv(types);
    return { ...env, target, sim: cluster };
  }
  const kc = new KubeConfig();
  kc.loadFromFile(target.kubeconfig);
  const core = kc.makeApiClient(CoreV1Api);
  await core.createNamespace({ body: { metadata: { name: target.namespace, labels: { 'jetway.dev/e2e': 'true' } } } });
  const stop = async (): Promise<void> => {
    await core.deleteNamespace({ name: target.namespace }).catch(() => undefined);
  };
  try {
    const base: FlagOptions = { kubernetesNamespace: target.namespace };
    if (target.credentials) {
      const host = target.registry.split('/')[0] ?? target.registry;
      const { username, password } = target.credentials;
      const auths = { [host]: { username, password, auth: Buffer.from(`${username}:${password}`).toString('base64') } };
      await core.createNamespacedSecret({
        namespace: target.namespace,
        body: { metadata: { name: 'jetway-e2e-registry' }, type: 'kubernetes.io/dockerconfigjson', data: { '.dockerconfigjson': Buffer.from(JSON.stringify({ auths })).toString('base64') } },
      });
      base.kubernetesImagePullSecret = ['jetway-e2e-registry'];
    }
    const pushed = await pushTestImages(target.registry, types, target.credentials);
    return { ...envFor(target.kubeconfig, pushed, target.registry, base), target, sim: undefined, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}
