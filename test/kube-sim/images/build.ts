// OCI images for the test cluster: the product's image assembly (src/packaging, what
// `jetway images push` builds) with the test defaults: the host's static /bin/busybox (Debian's
// busybox-static, which has no chpst) as the base of every test image.
import { busyboxLayer as productBusyboxLayer } from '../../../src/packaging/images.ts';
import { assembleImage, buildLayer, fileEntries, type BuiltImage, type BuiltLayer, type ImageConfigSpec } from '../../../src/packaging/oci-build.ts';

export {
  assembleImage,
  buildLayer,
  DEFAULT_PATH,
  fileEntries,
  imageSize,
  isDynamicElf,
  pushImage,
  type BuiltImage,
  type BuiltLayer,
  type ImageConfigSpec,
} from '../../../src/packaging/oci-build.ts';

export const BUSYBOX_PATH = '/bin/busybox';

let busyboxLayerPromise: Promise<BuiltLayer> | undefined;

/** The busybox base layer (built once per process). */
export function busyboxLayer(): Promise<BuiltLayer> {
  busyboxLayerPromise ??= productBusyboxLayer(BUSYBOX_PATH).then((b) => b.layer);
  return busyboxLayerPromise;
}

/** The busybox base plus a layer of `files` (absolute paths → content), if any. */
export async function buildBusyboxImage(files: Record<string, string | Uint8Array> = {}, spec: ImageConfigSpec = {}): Promise<BuiltImage> {
  const layers = [await busyboxLayer()];
  if (Object.keys(files).length > 0) layers.push(await buildLayer(fileEntries(files)));
  return assembleImage(layers, spec);
}
