// The Kubernetes runtime on the kube-sim test cluster: a cluster (zero latency, real registry,
// runc containers), the helper image (`jetway/helper`, a busybox image: its busybox has no
// chpst) and Jetway's resource types as images, pushed once, and runtimes configured for them.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KubeConfig } from '@kubernetes/client-node';
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

export async function startKubeEnv(types: ResourceTypeName[] = ['mock']): Promise<KubeEnv> {
  const stateDir = await mkdtemp(join(tmpdir(), 'jw-kube-'));
  const cluster = await startCluster({ stateDir, latency: 'zero' });
  try {
    const registry = cluster.registry!.host;
    const client = new RegistryClient({ userAgent: 'jetway-kubernetes-tests' });
    const helper = await buildBusyboxImage();
    await pushImage(client, { registry, path: 'jetway/helper' }, 'test', helper);
    const baseResourceTypes: string[] = [];
    const resourceTypeImages: Partial<Record<ResourceTypeName, BuiltImage>> = {};
    for (const type of types) {
      const built = await buildResourceTypeImage(type);
      // Concourse's resource images are full distributions; the fixtures use printenv, which the
      // test images' busybox lacks: a small stand-in.
      const image = assembleImage([...built.layers, await buildLayer(fileEntries({ '/usr/bin/printenv': PRINTENV }, 0o755))], { env: [DEFAULT_PATH], cmd: ['sh'] });
      await pushImage(client, { registry, path: resourceRepository(type) }, 'stable', image);
      resourceTypeImages[type] = image;
      baseResourceTypes.push(`${type}=${registry}/${resourceRepository(type)}:stable`);
    }
    const helperImage = `${registry}/jetway/helper:test`;
    const flags = (extra: FlagOptions = {}): FlagOptions => ({
      kubernetesKubeconfig: cluster.kubeconfigPath,
      kubernetesHelperImage: helperImage,
      kubernetesFailedPodRetention: '0s',
      kubernetesImagePullGrace: '2s',
      kubernetesPodStartupTimeout: '60s',
      ...extra,
      baseResourceType: [...baseResourceTypes, ...(extra.baseResourceType ?? [])],
    });
    const kubeConfig = (): KubeConfig => {
      const kc = new KubeConfig();
      kc.loadFromFile(cluster.kubeconfigPath);
      return kc;
    };
    return {
      cluster,
      registry,
      helperImage,
      baseResourceTypes,
      resourceTypeImages,
      flags,
      runtime: (root, extra, killGraceMs = 2_000) =>
        new KubernetesRuntime({ config: kubernetesRuntimeConfig(flags(extra)), root: join(root, 'kubernetes'), killGraceMs, retry: { attempts: 12, baseDelayMs: 50, maxDelayMs: 1_000 } }),
      kubeConfig,
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
