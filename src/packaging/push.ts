// Builds the image set and pushes it: what `jetway images push` does, without the flags.
import { parseRepository } from '../images/reference.ts';
import { RegistryClient, type RegistryCredentials } from '../images/registry-client.ts';
import { JETWAY_VERSION } from '../version.ts';
import { ALL_IMAGES, buildImages, ImageBuildError, type ImageName, type NodeSource } from './images.ts';
import { defaultCacheDir, NODE_DISTRIBUTION, nodeBinary } from './node-dist.ts';
import { imageSize, pushImage } from './oci-build.ts';

export interface PushedImage {
  name: string;
  repository: string;
  tag: string;
  digest: string;
  reference: string;
  size: number;
}

export interface PushImageSetOptions {
  /** `host[:port][/prefix]` */
  registry: string;
  tag: string;
  credentials?: RegistryCredentials;
  insecure?: boolean;
  busyboxPath: string;
  allowMissingApplets?: readonly string[];
  /** image names (ALL_IMAGES); empty or absent: all */
  only?: readonly string[];
  cacheDir?: string;
  /** the Node of the images (default: the pinned LTS from the npm registry) */
  node?: NodeSource;
  progress?: (line: string) => void;
  /** called as each image is pushed */
  pushed?: (image: PushedImage) => void;
}

/** The pinned Node LTS (src/packaging/node-dist.ts), fetched into cacheDir. */
export function pinnedNode(cacheDir: string, progress?: (line: string) => void): NodeSource {
  return { version: `v${NODE_DISTRIBUTION.version}`, binary: () => nodeBinary(NODE_DISTRIBUTION, cacheDir, progress) };
}

/** The names in `only`, checked against ALL_IMAGES (an unknown one throws, naming it and the known ones). */
export function selectImages(only: readonly string[] = []): ImageName[] {
  if (only.length === 0) return [...ALL_IMAGES];
  const unknown = only.filter((n) => !(ALL_IMAGES as readonly string[]).includes(n));
  if (unknown.length > 0) throw new ImageBuildError(`--only ${unknown.join(', ')}: not an image (known: ${ALL_IMAGES.join(', ')})`);
  return ALL_IMAGES.filter((n) => only.includes(n));
}

export async function pushImageSet(options: PushImageSetOptions): Promise<PushedImage[]> {
  const progress = options.progress ?? (() => {});
  const which = selectImages(options.only);
  const node = options.node ?? pinnedNode(options.cacheDir ?? defaultCacheDir(), progress);
  const client = new RegistryClient({ userAgent: `jetway/${JETWAY_VERSION} images-push` });
  const built = await buildImages({ busyboxPath: options.busyboxPath, allowMissingApplets: options.allowMissingApplets ?? [], node, progress }, which);
  const out: PushedImage[] = [];
  for (const [i, entry] of built.entries()) {
    const repository = `${options.registry}/${entry.repository}`;
    const { registry, path } = parseRepository(repository);
    const size = imageSize(entry.image);
    progress(`pushing ${repository}:${options.tag} (${(size / 1024 / 1024).toFixed(1)} MiB)`);
    const digest = await pushImage(client, { registry, path, ...(options.insecure ? { insecure: true } : {}) }, options.tag, entry.image, options.credentials);
    const name = which[i] ?? entry.repository;
    const image: PushedImage = { name, repository, tag: options.tag, digest, reference: `${repository}@${digest}`, size };
    options.pushed?.(image);
    out.push(image);
  }
  return out;
}
