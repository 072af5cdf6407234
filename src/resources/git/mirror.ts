// The git type's check inside the web node (src/resources/in-process.ts): no clone per check.
//
// 1. One ls-remote-class request (`git ls-remote` of the refs the check depends on: the branch,
//    or the heads and tags for tag_filter) with the source's credentials. When those refs, the
//    source and the given version are what an earlier check saw, its answer is the answer
//    (commits are immutable), and nothing more runs.
// 2. Otherwise the source's bare mirror in the web node's data dir is fetched (only what is new
//    travels) and the script's own version logic (checkRepository) reads it: paths,
//    ignore_paths, [ci skip], version_depth, tag filters and `version` ordering stay exact.
//
// Bounds: mirrors are few (the least recently used go beyond `maxMirrors`) and small (a fetch
// growing past `maxMirrorBytes` is stopped, the mirror removed, and the source's checks return to
// containers); remembered answers are bounded in number. A mirror is keyed by a salted hash of
// the uri, the mode, the branch and the credentials: a source never reads another source's
// mirror (another team's credentials fetched it), and no name on disk reveals a secret.
// Credentials travel as in the script: askpass and GIT_CONFIG_* (git.ts), never in argv.
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, readFile, readdir, rm, stat, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Version } from '../../model/version.ts';
import { toVersion } from '../fields.ts';
import { ResourceError, type CheckRequest, type ResourceContext } from '../protocol.ts';
import { withGit, type GitSession, type GitSessionLimits } from './git.ts';
import { checkRepository, isTagMode, parseSource, type GitSource } from './index.ts';

export interface GitMirrorOptions {
  /** where the mirrors live (the web node's data dir, `git-mirrors/`) */
  dir: string;
  /** mirrors kept on disk; the least recently used go first (default 200) */
  maxMirrors?: number;
  /** the size one mirror may reach (default 512 MiB) */
  maxMirrorBytes?: number;
  /** answers remembered for unchanged refs (default 20,000) */
  maxRemembered?: number;
  git: GitSessionLimits;
}

/** The source cannot be checked in the web node after all (its repository is too large): a container checks it. */
export class MirrorDeclined extends Error {}

interface Remembered {
  refs: string;
  versions: Version[];
}

/** What ls-remote said: the refs' digest, and the branch HEAD names (undefined: an empty repository). */
interface RemoteRefs {
  digest: string;
  headBranch: string | undefined;
}

export class GitMirrors {
  private readonly maxMirrors: number;
  private readonly maxMirrorBytes: number;
  private readonly maxRemembered: number;
  private readonly remembered = new Map<string, Remembered>();
  private readonly locks = new Map<string, Promise<unknown>>();
  private readonly inUse = new Set<string>();
  private salt: Promise<Buffer> | undefined;

  constructor(private readonly opts: GitMirrorOptions) {
    this.maxMirrors = opts.maxMirrors ?? 200;
    this.maxMirrorBytes = opts.maxMirrorBytes ?? 512 * 2 ** 20;
    this.maxRemembered = opts.maxRemembered ?? 20_000;
  }

  async check(req: CheckRequest, ctx: ResourceContext): Promise<Version[]> {
    const src = parseSource(req.source);
    const ref = req.version ? toVersion(req.version).ref : undefined;
    const salt = await this.saltBytes();
    const answerKey = hash(salt, JSON.stringify(req.source), ref ?? '');
    return withGit(
      src.creds,
      ctx.stderr,
      ctx.signal,
      async (git) => {
        const remote = await lsRemote(git, src);
        const known = this.remembered.get(answerKey);
        if (known && known.refs === remote.digest) {
          // most recently used last: the oldest answers are forgotten first
          this.remembered.delete(answerKey);
          this.remembered.set(answerKey, known);
          return known.versions.map((v) => ({ ...v }));
        }
        if (remote.headBranch === undefined) {
          git.log('the repository has no commits yet\n');
          return [];
        }
        const mirrorKey = hash(salt, src.uri, isTagMode(src) ? 'tags' : 'branch', src.branch ?? '', JSON.stringify(src.creds));
        const versions = await this.locked(mirrorKey, () => this.checkMirror(git, mirrorKey, src, remote.headBranch!, ref, ctx.signal));
        this.remember(answerKey, { refs: remote.digest, versions });
        return versions.map((v) => ({ ...v }));
      },
      this.opts.git,
    );
  }

  private remember(key: string, value: Remembered): void {
    this.remembered.delete(key);
    this.remembered.set(key, value);
    while (this.remembered.size > this.maxRemembered) this.remembered.delete(this.remembered.keys().next().value!);
  }

  private async checkMirror(git: GitSession, key: string, src: GitSource, headBranch: string, ref: string | undefined, signal: AbortSignal): Promise<Version[]> {
    const dir = join(this.opts.dir, key);
    this.inUse.add(key);
    try {
      const fresh = !(await exists(join(dir, 'HEAD')));
      if (fresh) {
        await mkdir(this.opts.dir, { recursive: true, mode: 0o700 });
        await git.run(['init', '--bare', '--quiet', dir]);
        await this.evict();
      }
      const refspecs = isTagMode(src) ? ['+refs/heads/*:refs/heads/*', '+refs/tags/*:refs/tags/*'] : [`+refs/heads/${headBranch}:refs/heads/${headBranch}`];
      try {
        await this.fetchBounded(git, dir, src.uri, refspecs, signal);
      } catch (err) {
        // a half-fetched or refused mirror is not kept: the next check starts over
        await rm(dir, { recursive: true, force: true });
        throw err;
      }
      await git.run(['symbolic-ref', 'HEAD', `refs/heads/${headBranch}`], { cwd: dir });
      const now = new Date();
      await utimes(dir, now, now).catch(() => undefined);
      return await checkRepository(git, dir, src, ref);
    } finally {
      this.inUse.delete(key);
    }
  }

  /** `git fetch`, stopped when the mirror's packs grow past the bound. */
  private async fetchBounded(git: GitSession, dir: string, uri: string, refspecs: string[], signal: AbortSignal): Promise<void> {
    let tooLarge = false;
    const stop = new AbortController();
    const watch = setInterval(() => {
      void packBytes(dir).then((bytes) => {
        if (bytes > this.maxMirrorBytes && !tooLarge) {
          tooLarge = true;
          stop.abort();
        }
      });
    }, 250);
    try {
      await git.run(['fetch', '--quiet', '--prune', '--no-tags', '--', uri, ...refspecs], { cwd: dir, log: true, signal: stop.signal });
    } catch (err) {
      if (tooLarge && !signal.aborted) throw new MirrorDeclined(`the repository is larger than ${Math.round(this.maxMirrorBytes / 2 ** 20)} MiB`);
      throw err;
    } finally {
      clearInterval(watch);
    }
    // a small fetch is unpacked into loose objects: count them all
    if ((await mirrorBytes(git, dir)) > this.maxMirrorBytes) throw new MirrorDeclined(`the repository is larger than ${Math.round(this.maxMirrorBytes / 2 ** 20)} MiB`);
  }

  /** Removes the least recently used mirrors beyond the bound (not those in use). */
  private async evict(): Promise<void> {
    const names = (await readdir(this.opts.dir).catch(() => [] as string[])).filter((n) => /^[0-9a-f]{64}$/.test(n));
    if (names.length <= this.maxMirrors) return;
    const aged = await Promise.all(names.map(async (n) => ({ n, t: (await stat(join(this.opts.dir, n)).catch(() => undefined))?.mtimeMs ?? 0 })));
    aged.sort((a, b) => a.t - b.t);
    for (const { n } of aged.slice(0, names.length - this.maxMirrors)) {
      if (!this.inUse.has(n)) await rm(join(this.opts.dir, n), { recursive: true, force: true });
    }
  }

  /** One fetch per mirror at a time (checks of one source, or of sources sharing a mirror, wait their turn). */
  private async locked<T>(key: string, fn: () => Promise<T>): Promise<T> {
    const before = this.locks.get(key) ?? Promise.resolve();
    const run = before.then(fn, fn);
    const tail = run.catch(() => undefined);
    this.locks.set(key, tail);
    try {
      return await run;
    } finally {
      if (this.locks.get(key) === tail) this.locks.delete(key);
    }
  }

  /** A random salt kept beside the mirrors (0600): names on disk reveal neither uri nor credentials. */
  private saltBytes(): Promise<Buffer> {
    this.salt ??= (async () => {
      const file = join(this.opts.dir, 'salt');
      const existing = await readFile(file).catch(() => undefined);
      if (existing && existing.length === 32) return existing;
      await mkdir(this.opts.dir, { recursive: true, mode: 0o700 });
      const salt = randomBytes(32);
      await writeFile(file, salt, { mode: 0o600 });
      return salt;
    })();
    return this.salt;
  }
}

function hash(salt: Buffer, ...parts: string[]): string {
  const h = createHash('sha256').update(salt);
  for (const p of parts) h.update(`${p.length}:${p}`);
  return h.digest('hex');
}

async function exists(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    () => false,
  );
}

/** The mirror's objects, loose and packed (`git count-objects -v`). */
async function mirrorBytes(git: GitSession, dir: string): Promise<number> {
  const out = await git.output(['count-objects', '-v'], { cwd: dir });
  const kib = (key: string): number => Number(new RegExp(`^${key}: (\\d+)$`, 'm').exec(out)?.[1] ?? 0);
  return (kib('size') + kib('size-pack') + kib('size-garbage')) * 1024;
}

/** The packs being written (a fetch's incoming pack grows there). */
async function packBytes(dir: string): Promise<number> {
  const pack = join(dir, 'objects', 'pack');
  const names = await readdir(pack).catch(() => [] as string[]);
  let total = 0;
  for (const n of names) total += (await stat(join(pack, n)).catch(() => undefined))?.size ?? 0;
  return total;
}

/**
 * The refs a check of `src` depends on, in one request: the branch's head (or, without a branch,
 * where the remote's HEAD points), or every head and tag for tag filters.
 */
async function lsRemote(git: GitSession, src: GitSource): Promise<RemoteRefs> {
  const tagMode = isTagMode(src);
  const patterns = tagMode ? ['HEAD', 'refs/heads/*', 'refs/tags/*'] : src.branch ? [`refs/heads/${src.branch}`] : ['HEAD'];
  const out = await git.output(['ls-remote', '--symref', '--', src.uri, ...patterns], { log: false });
  const refs: string[] = [];
  let headTarget: string | undefined;
  let branchFound = false;
  for (const line of out.split('\n')) {
    const [left = '', name = ''] = line.split('\t');
    if (left.startsWith('ref: ')) {
      if (name === 'HEAD') headTarget = left.slice('ref: '.length);
      continue;
    }
    if (!/^[0-9a-f]{40,64}$/.test(left)) continue;
    if (tagMode ? name.startsWith('refs/heads/') || name.startsWith('refs/tags/') : name === (src.branch ? `refs/heads/${src.branch}` : 'HEAD')) {
      refs.push(`${left} ${name}`);
      if (src.branch && name === `refs/heads/${src.branch}`) branchFound = true;
    }
  }
  if (src.branch && !branchFound && tagMode) {
    // the script's clone --branch fails the same way
    throw new ResourceError(`Remote branch ${src.branch} not found in upstream origin`);
  }
  if (src.branch && !tagMode && refs.length === 0) throw new ResourceError(`Remote branch ${src.branch} not found in upstream origin`);
  refs.sort();
  const headBranch = src.branch ?? (headTarget?.startsWith('refs/heads/') ? headTarget.slice('refs/heads/'.length) : undefined);
  const present = src.branch ? true : refs.some((r) => r.endsWith(' HEAD') || r.endsWith(` ${headTarget}`));
  return {
    digest: createHash('sha256').update(`${headTarget ?? ''}\n${refs.join('\n')}`).digest('hex'),
    headBranch: present ? headBranch : undefined,
  };
}
