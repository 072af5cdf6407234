// Resource cache volumes of the local runtime (both kinds: processes and containers), as
// Concourse's resource cache reuse (docs/local-containers.md, "Resource caches"): a get's volume
// is kept under `<root>/resource-caches/<cache id>` once its `in` succeeded, and a later get of
// the same resource cache (same resource config, version and params) is served from it without
// running `in`. A cached volume is never written: a task copies its inputs, a container mounts an
// image's rootfs as its overlay's read-only lower layer. So N tasks on one image share one
// unpacked copy of it.
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Artifact } from '../../model/artifact.ts';
import type { CachedResource } from '../runtime.ts';

function cacheDir(root: string, cacheId: number): string {
  if (!Number.isSafeInteger(cacheId) || cacheId < 0) throw new Error(`invalid resource cache id ${cacheId}`);
  return join(root, 'resource-caches', String(cacheId));
}

/** The cached get of a resource cache, if one was kept. */
export async function findCachedResource(root: string, cacheId: number): Promise<CachedResource | undefined> {
  const dir = cacheDir(root, cacheId);
  try {
    const saved = JSON.parse(await readFile(join(dir, 'result.json'), 'utf8')) as Omit<CachedResource, 'artifact'>;
    return { ...saved, artifact: { kind: 'volume', path: join(dir, 'volume') } };
  } catch {
    return undefined;
  }
}

/**
 * Keeps a successful get's volume as the resource cache's (moved, not copied) and returns the
 * artifact the build goes on with. When another get kept one first, the build keeps its own.
 */
export async function saveCachedResource(root: string, cacheId: number, artifact: Artifact, result: Omit<CachedResource, 'artifact'>, mode = 0o700): Promise<Artifact> {
  if (artifact.kind !== 'volume') return artifact;
  const dir = cacheDir(root, cacheId);
  await mkdir(join(root, 'resource-caches'), { recursive: true, mode });
  const partial = `${dir}.${process.pid}.${Date.now()}`;
  await mkdir(partial, { mode });
  try {
    await rename(artifact.path, join(partial, 'volume'));
    // result.json last: a cache without it is not one (a crash in between leaves nothing usable)
    await writeFile(join(partial, 'result.json'), JSON.stringify(result), { mode: 0o600 });
    await rename(partial, dir);
  } catch (err) {
    // another get of the same cache was first (the target exists): give the volume back to the build
    await rename(join(partial, 'volume'), artifact.path).catch(() => undefined);
    await rm(partial, { recursive: true, force: true });
    if ((err as NodeJS.ErrnoException).code === 'ENOTEMPTY' || (err as NodeJS.ErrnoException).code === 'EEXIST') return artifact;
    throw err;
  }
  return { kind: 'volume', path: join(dir, 'volume'), ...(artifact.handle ? { handle: artifact.handle } : {}) };
}

/** Removes kept resource caches whose ids are not in `keep` (the database's); how many went. */
export async function pruneCachedResources(root: string, keep: Set<number>): Promise<number> {
  const { readdir } = await import('node:fs/promises');
  let removed = 0;
  let entries: string[];
  try {
    entries = await readdir(join(root, 'resource-caches'));
  } catch {
    return 0;
  }
  for (const entry of entries) {
    const id = Number(entry);
    if (!/^\d+$/.test(entry) || keep.has(id)) continue;
    await rm(join(root, 'resource-caches', entry), { recursive: true, force: true });
    removed++;
  }
  return removed;
}
