// Jetway's built-in resource types as images for the test cluster: the product's images
// (src/packaging/images.ts, what `jetway images push` builds), with the Node that runs the tests
// (stripped of debug info when `strip` is there) instead of the pinned LTS the product fetches, so
// tests need no download.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildImages, type NodeSource, type ResourceTypeName } from '../../../src/packaging/images.ts';
import type { BuiltImage } from '../../../src/packaging/oci-build.ts';
import { BUSYBOX_PATH } from './build.ts';

export { RESOURCE_TYPES, resourceRepository, type ResourceTypeName } from '../../../src/packaging/images.ts';

let hostBinary: Promise<Buffer> | undefined;

/** The Node running the tests, as an image's Node. */
export const HOST_NODE: NodeSource = {
  version: process.version,
  binary: () =>
    (hostBinary ??= (async () => {
      const tmp = mkdtempSync(join(tmpdir(), 'kube-sim-node-'));
      try {
        execFileSync('strip', ['--strip-debug', '-o', join(tmp, 'node'), process.execPath], { stdio: 'ignore' });
        return readFileSync(join(tmp, 'node'));
      } catch {
        return readFileSync(process.execPath);
      } finally {
        rmSync(tmp, { recursive: true, force: true });
      }
    })()),
};

const cache = new Map<ResourceTypeName, Promise<BuiltImage>>();

/** The image of one resource type (built once per process). */
export function buildResourceTypeImage(type: ResourceTypeName): Promise<BuiltImage> {
  let p = cache.get(type);
  if (!p) {
    p = buildImages({ busyboxPath: BUSYBOX_PATH, node: HOST_NODE }, [type]).then((set) => {
      const image = set[0]?.image;
      if (!image) throw new Error(`no image built for ${type}`);
      return image;
    });
    cache.set(type, p);
  }
  return p;
}
