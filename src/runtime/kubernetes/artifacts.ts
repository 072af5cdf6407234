// Artifacts of the Kubernetes runtime stay directories on the web node (as on the local runtime):
// an output is exec'd out of the pod's `jetway-artifacts` sidecar as a tar stream and unpacked
// into a volume directory of the build; an input is packed from its directory and streamed into
// the sidecar. Task caches are one tarball per cache key and path (laid out as task-caches.ts
// says), restored before the process and saved after it.
import { randomUUID } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, rename, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { finished } from 'node:stream/promises';
import * as tar from 'tar';
import type { KubeClient } from './client.ts';
import { startExec } from './exec.ts';
import type { ExecCommand } from './pod-spec.ts';
import { taskCacheEntry } from '../task-caches.ts';

/** Where a build's volumes live on the web node. */
export function buildVolumesDir(root: string, buildId: number | undefined): string {
  return join(root, 'volumes', buildId === undefined ? 'unowned' : `build-${buildId}`);
}

export const CACHE_TARBALL_SUFFIX = '.tar';

/** The tarball of a task cache. */
export function cacheTarball(root: string, key: string, path: string): string {
  return `${taskCacheEntry(root, key, path)}${CACHE_TARBALL_SUFFIX}`;
}

function tail(chunks: Buffer[]): string {
  return Buffer.concat(chunks).toString('utf8').trim().slice(-2000);
}

/** Streams a directory of the web node into the pod (an input). */
export async function streamDirIn(client: KubeClient, pod: string, cmd: ExecCommand, dir: string, what: string, signal?: AbortSignal): Promise<void> {
  const pack = tar.c({ cwd: dir, portable: true }, ['.']);
  await streamIn(client, pod, cmd, Readable.from(pack), what, signal);
}

/** Streams a tarball of the web node into the pod (a cache restore). */
export async function streamFileIn(client: KubeClient, pod: string, cmd: ExecCommand, file: string, what: string, signal?: AbortSignal): Promise<void> {
  await streamIn(client, pod, cmd, createReadStream(file), what, signal);
}

async function streamIn(client: KubeClient, pod: string, cmd: ExecCommand, stdin: Readable, what: string, signal?: AbortSignal): Promise<void> {
  const err: Buffer[] = [];
  const handle = await startExec(client, pod, cmd, { stdin, stderr: (c) => err.push(c) }, signal);
  const code = await handle.done;
  if (code !== 0) throw new Error(`streaming ${what} into pod ${pod} failed (tar exit ${code}): ${tail(err)}`);
}

/** Streams a directory out of the pod into a new directory `target` of the web node (an output). */
export async function streamOutToDir(client: KubeClient, pod: string, cmd: ExecCommand, target: string, what: string, signal?: AbortSignal): Promise<void> {
  await mkdir(target, { recursive: true });
  const unpack = tar.x({ cwd: target, preserveOwner: false, strict: false });
  let unpackError: unknown;
  unpack.on('error', (e: unknown) => (unpackError ??= e));
  const err: Buffer[] = [];
  const handle = await startExec(client, pod, cmd, { stdout: unpack, stderr: (c) => err.push(c) }, signal);
  let code: number;
  try {
    code = await handle.done;
  } finally {
    unpack.end();
  }
  await new Promise<void>((resolve) => {
    if ((unpack as unknown as { emittedEnd?: boolean }).emittedEnd) resolve();
    unpack.on('close', resolve);
    unpack.on('finish', resolve);
    unpack.on('end', resolve);
    unpack.on('error', () => resolve());
  });
  if (code !== 0) throw new Error(`streaming ${what} out of pod ${pod} failed (tar exit ${code}): ${tail(err)}`);
  if (unpackError) throw new Error(`unpacking ${what} from pod ${pod} failed: ${unpackError instanceof Error ? unpackError.message : String(unpackError)}`);
}

/** Streams a directory out of the pod into a tarball (a cache save): written aside, then renamed. */
export async function streamOutToFile(client: KubeClient, pod: string, cmd: ExecCommand, file: string, what: string, signal?: AbortSignal): Promise<void> {
  await mkdir(join(file, '..'), { recursive: true });
  const partial = `${file}.${randomUUID()}.partial`;
  const out = createWriteStream(partial);
  const err: Buffer[] = [];
  try {
    const handle = await startExec(client, pod, cmd, { stdout: out, stderr: (c) => err.push(c) }, signal);
    const code = await handle.done;
    out.end();
    await finished(out);
    if (code !== 0) throw new Error(`saving ${what} out of pod ${pod} failed (tar exit ${code}): ${tail(err)}`);
    await rename(partial, file);
  } catch (e) {
    out.destroy();
    await rm(partial, { force: true });
    throw e;
  }
}

export async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch {
    return false;
  }
}
