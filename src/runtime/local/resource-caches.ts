// Resource cache volumes of the local runtime (both kinds: processes and containers), as
// Concourse's resource cache reuse (docs/local-containers.md, "Resource caches"): a get's volume
// is kept under `<root>/resource-caches/<cache id>` once its `in` succeeded, and a later get of
// the same resource cache (same resource config, version and params) is served from it without
// running `in`. A cached volume is never written: a task copies its inputs, a container mounts an
// image's rootfs as its overlay's read-only lower layer. So N tasks on one image share one
// unpacked copy of it.
//
// Kept per team (`resource-caches/team-<id>/<cache id>`): Concourse shares a worker's resource
// cache volumes across teams (atc/db/volume_repository.go's FindResourceCacheVolume looks them up
// for any team), which is safe there because a volume reaches a container only through its
// worker's API. Here a kept volume is a host directory: a fetched type's scripts run from it (the
// processes runtime) and an image's files have the team's ids (the containers runtime), so each
// team gets its own, owned by its ids with mode 0700, out of other teams' reach.
import { randomBytes } from 'node:crypto';
import { chown, mkdir, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Artifact } from '../../model/artifact.ts';
import type { CachedResource } from '../runtime.ts';

/** A team's folder of kept caches (`undefined`: the runtime keeps no teams apart, as its tests). */
function scopeDir(root: string, teamId: number | undefined): string {
  if (teamId === undefined) return join(root, 'resource-caches');
  if (!Number.isSafeInteger(teamId) || teamId < 0) throw new Error(`invalid team id ${teamId}`);
  return join(root, 'resource-caches', `team-${teamId}`);
}

function cacheDir(root: string, cacheId: number, teamId: number | undefined): string {
  if (!Number.isSafeInteger(cacheId) || cacheId < 0) throw new Error(`invalid resource cache id ${cacheId}`);
  return join(scopeDir(root, teamId), String(cacheId));
}

/** Who owns a team's folder of kept caches, and its mode. */
export interface CacheOwner {
  uid: number;
  gid: number;
}

/** The cached get of a resource cache (of the team), if one was kept. */
export async function findCachedResource(root: string, cacheId: number, teamId?: number): Promise<CachedResource | undefined> {
  const dir = cacheDir(root, cacheId, teamId);
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
export async function saveCachedResource(
  root: string,
  cacheId: number,
  artifact: Artifact,
  result: Omit<CachedResource, 'artifact'>,
  mode = 0o700,
  teamId?: number,
  owner?: CacheOwner,
): Promise<Artifact> {
  if (artifact.kind !== 'volume') return artifact;
  const dir = cacheDir(root, cacheId, teamId);
  await mkdir(join(root, 'resource-caches'), { recursive: true, mode });
  if (teamId !== undefined) {
    // the team's folder: its own ids, 0700 (another team's processes cannot pass through it)
    const team = scopeDir(root, teamId);
    await mkdir(team, { recursive: true, mode: 0o700 });
    if (owner) await chown(team, owner.uid, owner.gid);
  }
  // random, not the time: gets of one new version by many jobs finish in the same millisecond
  const partial = `${dir}.${SAVER}.${randomBytes(6).toString('hex')}`;
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

/**
 * This process among those that used the data dir, in its saves' partial folders: a pid would not
 * do, a web node in a container is pid 1 at every start.
 */
export const SAVER = randomBytes(4).toString('hex');
/** `<cache id>.<saver>.<random>`: a save in flight, or one a killed process left. */
const PARTIAL = /^\d+\.([0-9a-f]+)\.[0-9a-f]+$/;

/**
 * Removes kept resource caches whose ids are not in `keep` (the database's), and the partial
 * folders of saves another process began (one killed in the middle: the data dir has one web node
 * at a time), at most `max` of them per call (GC runs again next interval); how many went. Every
 * team's folder is looked at.
 */
export async function pruneCachedResources(root: string, keep: Set<number> | ((cacheId: number) => boolean), max = Number.POSITIVE_INFINITY): Promise<number> {
  const kept = typeof keep === 'function' ? keep : (id: number): boolean => keep.has(id);
  let removed = 0;
  const top = join(root, 'resource-caches');
  const dirs = [top];
  for (const entry of await readdir(top).catch(() => [] as string[])) if (/^team-\d+$/.test(entry)) dirs.push(join(top, entry));
  for (const dir of dirs) {
    for (const entry of await readdir(dir).catch(() => [] as string[])) {
      if (removed >= max) return removed;
      const partial = PARTIAL.exec(entry);
      // a partial folder goes when another process left it; a kept cache when the database has it no more
      const doomed = partial ? partial[1] !== SAVER : /^\d+$/.test(entry) && !kept(Number(entry));
      if (!doomed) continue;
      await rm(join(dir, entry), { recursive: true, force: true });
      removed++;
    }
  }
  return removed;
}
