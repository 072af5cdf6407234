// Task caches on the web node's disk, as both runtimes keep them: one directory per cache key (a
// job's task step), an entry per cache path in it (the local runtime: a directory; Kubernetes: a
// tarball), so `jetway clear-task-cache` finds and counts a step's caches without knowing the
// paths its task config declares.
import { createHash, randomUUID } from 'node:crypto';
import { readdir, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';

const sha256 = (text: string): string => createHash('sha256').update(text).digest('hex');

/** Builds of one job share the caches of each of its task steps (one-off builds: their own). */
export function taskCacheKey(pipelineId: number | string, job: number | string, step: string): string {
  return `${pipelineId}/${job}/${step}`;
}

function cachesDir(root: string): string {
  return join(root, 'task-caches');
}

/** The directory of a key's caches. */
export function taskCacheKeyDir(root: string, key: string): string {
  return join(cachesDir(root), sha256(key));
}

/** A cache path's entry, without the runtime's suffix (Kubernetes adds `.tar`). */
export function taskCacheEntry(root: string, key: string, path: string): string {
  return join(taskCacheKeyDir(root, key), sha256(path));
}

/**
 * Removes a key's caches, or only the one of `path`, and resolves with how many existed. What
 * goes is renamed aside first, in one step: a failure leaves the caches as they were, and a step
 * starting meanwhile gets a fresh cache rather than one half removed (a step already running
 * loses its cache: the local runtime's link to it dangles). `suffix` tells a saved cache from a
 * save in progress (`<entry>.tar.<uuid>.partial`), which is removed but not counted.
 */
export async function clearTaskCaches(root: string, key: string, path: string | undefined, suffix = ''): Promise<number> {
  const source = path === undefined ? taskCacheKeyDir(root, key) : `${taskCacheEntry(root, key, path)}${suffix}`;
  const aside = join(cachesDir(root), `.clearing-${randomUUID()}`);
  try {
    await rename(source, aside);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return 0;
    throw err;
  }
  let count = 1;
  if (path === undefined) {
    const isCache = (name: string): boolean => name.endsWith(suffix) && /^[0-9a-f]{64}$/.test(name.slice(0, name.length - suffix.length));
    count = (await readdir(aside)).filter(isCache).length;
  }
  // Once aside the caches are gone for every step; a leftover (say, read-only files a task wrote)
  // must not turn a done clear into an error.
  await rm(aside, { recursive: true, force: true }).catch(() => undefined);
  return count;
}
