// A container's root file system on the local container runtime: an overlay whose lower layer is
// the image's unpacked rootfs (shared by every container of the image, never written) and whose
// upper layer is the container's own. Files of an image are read through `readInsideRoot`, which
// resolves symbolic links inside the rootfs: an image is untrusted, and its /etc/passwd may well
// be a link to the host's /etc/shadow.
import { execFile } from 'node:child_process';
import { createHash, randomUUID } from 'node:crypto';
import { chmod, lchown, lstat, mkdir, readdir, readFile, readlink, rename, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { existsSync, lstatSync, readlinkSync } from 'node:fs';
import { dirname, join, posix } from 'node:path';
import { promisify } from 'node:util';
import { shiftedId } from '../team-ids.ts';
import type { IdRange } from './oci-spec.ts';
import { HOST, runIn, type CommandPlace } from './userns.ts';

const run = promisify(execFile);

const MAX_LINKS = 40;

/**
 * The host path of `path` (absolute, in the container's view) inside `root`, with every symbolic
 * link on the way resolved inside `root` (an absolute target means the root's; `..` stops at it).
 */
export function resolveInsideRoot(root: string, path: string): string {
  let parts = path.split('/').filter((p) => p !== '' && p !== '.');
  const done: string[] = [];
  let links = 0;
  while (parts.length > 0) {
    const part = parts.shift() as string;
    if (part === '..') {
      done.pop();
      continue;
    }
    const host = join(root, ...done, part);
    let st;
    try {
      st = lstatSync(host);
    } catch {
      done.push(part, ...parts);
      return join(root, ...done);
    }
    if (!st.isSymbolicLink()) {
      done.push(part);
      continue;
    }
    if (++links > MAX_LINKS) throw new Error(`too many symbolic links in ${path}`);
    const target = readlinkSync(host);
    if (target.startsWith('/')) done.length = 0;
    parts = [...target.split('/').filter((p) => p !== '' && p !== '.'), ...parts];
  }
  return join(root, ...done);
}

/** A text file of the image (undefined when missing), read safely (at most `max` bytes). */
export async function readInsideRoot(root: string, path: string, max = 4 << 20): Promise<string | undefined> {
  const host = resolveInsideRoot(root, path);
  try {
    const st = await lstat(host);
    if (!st.isFile()) return undefined;
    if (st.size > max) throw new Error(`${path} in the image is larger than ${max} bytes`);
    return await readFile(host, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT' || (err as NodeJS.ErrnoException).code === 'ENOTDIR') return undefined;
    throw err;
  }
}

/**
 * Mounts the overlay of `lower` (read-only layers, top first) + the container's upper layer at
 * `<dir>/rootfs`, in `place`'s mount namespace (a rootless web node's holder namespace: there the
 * overlay keeps its whiteouts and opaque directories in user.* attributes, `userxattr`).
 */
export async function mountOverlay(dir: string, lower: string | string[], place: CommandPlace = HOST): Promise<string> {
  const rootfs = join(dir, 'rootfs');
  const layers = Array.isArray(lower) ? lower : [lower];
  for (const d of ['rootfs', 'upper', 'work']) await mkdir(join(dir, d), { recursive: true, mode: 0o700 });
  // overlay options are comma-separated: a lower dir with a comma or colon in its path cannot be named
  for (const path of [...layers, dir]) if (/[,:\\]/.test(path)) throw new Error(`the path ${path} cannot be mounted as an overlay layer (it holds ',' ':' or '\\')`);
  try {
    const extra = place === HOST ? '' : ',userxattr';
    await runIn(place, 'mount', ['-t', 'overlay', 'overlay', '-o', `lowerdir=${layers.join(':')},upperdir=${join(dir, 'upper')},workdir=${join(dir, 'work')}${extra}`, rootfs]);
  } catch (err) {
    throw new Error(`cannot mount the container's root file system (overlay): ${commandError(err)}`);
  }
  return rootfs;
}

/** Unmounts `<dir>/rootfs` if mounted (lazily: a process still exiting must not keep it). */
export async function unmountOverlay(dir: string, place: CommandPlace = HOST): Promise<void> {
  const rootfs = join(dir, 'rootfs');
  if (!existsSync(rootfs)) return;
  if (!(await isMountPoint(rootfs, place))) return;
  try {
    await runIn(place, 'umount', [rootfs]);
  } catch {
    await runIn(place, 'umount', ['-l', rootfs]).catch(() => undefined);
  }
}

/** Whether `path` is a mount point (per the place's mountinfo). */
export async function isMountPoint(path: string, place: CommandPlace = HOST): Promise<boolean> {
  const info = await readFile(place.mountinfo, 'utf8');
  return info.split('\n').some((line) => unescapeMount(line.split(' ')[4] ?? '') === path);
}

/** Every mount point at or under `prefix` (mountinfo order: parents first). */
export async function mountsUnder(prefix: string, place: CommandPlace = HOST): Promise<string[]> {
  const info = await readFile(place.mountinfo, 'utf8');
  return info
    .split('\n')
    .map((line) => unescapeMount(line.split(' ')[4] ?? ''))
    .filter((p) => p === prefix || p.startsWith(`${prefix}/`));
}

function unescapeMount(s: string): string {
  return s.replace(/\\([0-7]{3})/g, (_m, o: string) => String.fromCharCode(Number.parseInt(o, 8)));
}

function commandError(err: unknown): string {
  const e = err as { stderr?: string; message?: string };
  return (e.stderr ?? '').trim() || e.message || String(err);
}

/**
 * Whether an image's rootfs mirrors the host (mock's `mirror_self`, as the process runtime makes
 * it: `/usr -> /usr`, `/etc -> /etc`, ...): its system directories are then the base image's
 * (the host's tools, read-only), laid over it.
 */
export async function mirrorsHost(rootfs: string): Promise<boolean> {
  for (const name of ['usr', 'bin', 'etc']) {
    try {
      if ((await readlink(join(rootfs, name))) === `/${name}`) return true;
    } catch {
      // not a link
    }
  }
  return false;
}

/** Host directories the built-in types' base image lends read-only (the tools their scripts call: node, git, ...). */
export const HOST_TOOL_DIRS = ['/usr', '/bin', '/sbin', '/lib', '/lib32', '/lib64', '/libx32'];
/** Host files and directories of /etc the tools need (certificates, name resolution, users); never /etc as a whole. */
export const HOST_ETC_ENTRIES = ['/etc/ssl', '/etc/ca-certificates', '/etc/pki', '/etc/alternatives', '/etc/resolv.conf', '/etc/hosts', '/etc/nsswitch.conf', '/etc/passwd', '/etc/group', '/etc/gitconfig', '/etc/ld.so.cache', '/etc/localtime'];

export interface BaseImage {
  /** the skeleton rootfs (overlay lower layer) */
  rootfs: string;
  /** read-only bind mounts of the host's tools */
  mounts: { source: string; destination: string; readonly: true }[];
}

/**
 * The base image of the built-in resource types (and of a task without an image): an empty
 * skeleton whose /usr, /lib, ... are the host's, read-only, and whose /etc holds only what tools
 * need. Symbolic links of the host (a merged /usr: /bin -> usr/bin) are made as links. Nothing of
 * the web node (its data directory, its home, its /proc) is in it; Jetway's resource scripts are
 * mounted by the runtime (only the files they run).
 */
export async function prepareBaseImage(dir: string): Promise<BaseImage> {
  const rootfs = join(dir, 'rootfs');
  const mounts: BaseImage['mounts'] = [];
  await rm(dir, { recursive: true, force: true });
  for (const d of ['etc', 'tmp', 'root', 'opt', 'var/tmp', 'proc', 'dev', 'sys']) await mkdir(join(rootfs, d), { recursive: true, mode: 0o755 });
  await run('chmod', ['1777', join(rootfs, 'tmp'), join(rootfs, 'var/tmp')]);
  await run('chmod', ['0700', join(rootfs, 'root')]);
  for (const entry of [...HOST_TOOL_DIRS, ...HOST_ETC_ENTRIES]) {
    let st;
    try {
      st = await lstat(entry);
    } catch {
      continue;
    }
    const target = join(rootfs, entry);
    await mkdir(dirname(target), { recursive: true });
    if (st.isSymbolicLink()) {
      const link = await readlink(entry);
      // a link inside the tools (/bin -> usr/bin) is kept; one leaving them is followed by a bind
      if (!link.startsWith('/') || posix.normalize(link).startsWith('/usr/') || posix.normalize(link) === '/usr') {
        await symlink(link, target);
        continue;
      }
    }
    const real = await stat(entry).catch(() => undefined);
    if (!real) continue; // a dangling link
    if (real.isDirectory()) await mkdir(target, { recursive: true });
    else await writeFile(target, '');
    mounts.push({ source: entry, destination: entry, readonly: true });
  }
  return { rootfs, mounts };
}

/**
 * Gives every file of a tree the team's ids (team-ids.ts's `shiftedId`), in place: each inode once (hard links
 * share one), never through a symbolic link (lchown), setuid/setgid bits put back after the chown
 * cleared them. Whiteouts (0/0 character devices) are files like any other. File capabilities
 * (security.capability: a `ping` with cap_net_raw) are cleared by the kernel on chown: they are
 * read before (`getcap -r`) and set again after (`setcap`, as the web node's root: a v2 entry,
 * which applies in the team's user namespace too, the kernel finding its root among the
 * namespace's ancestors). Without getcap (libcap2-bin) they are lost, as before.
 */
export async function shiftOwnership(path: string, range: IdRange): Promise<number> {
  const seen = new Set<string>();
  const files = new Set<string>();
  // before any chown clears them
  const capabilities = await getcapLines(path);
  let count = 0;
  const visit = async (p: string): Promise<void> => {
    const st = await lstat(p);
    if (st.isDirectory()) {
      for (const entry of await readdir(p)) await visit(join(p, entry));
    }
    if (st.isFile()) files.add(p);
    if (st.nlink > 1 && !st.isDirectory()) {
      const key = `${st.dev}:${st.ino}`;
      if (seen.has(key)) return;
      seen.add(key);
    }
    const uid = shiftedId(st.uid, range);
    const gid = shiftedId(st.gid, range);
    if (uid === st.uid && gid === st.gid) return;
    await lchown(p, uid, gid);
    count++;
    if (!st.isSymbolicLink() && (st.mode & 0o6000) !== 0) await chmod(p, st.mode & 0o7777);
  };
  await visit(path);
  for (const { file, caps } of parseGetcap(capabilities, files)) await run('setcap', [caps, file]);
  return count;
}

/** `getcap -r`'s lines for a tree (the files with capabilities); none without getcap. */
async function getcapLines(root: string): Promise<string[]> {
  try {
    const { stdout } = await run('getcap', ['-r', root], { maxBuffer: 64 << 20 });
    return stdout.split('\n').filter((l) => l !== '');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw new Error(`cannot read the image's file capabilities (getcap): ${commandError(err)}`);
  }
}

/** A capability text as getcap prints it (cap_to_text): clauses such as `cap_net_raw=ep`, `cap_a,cap_b+eip`, `=ep`. */
const CAP_CLAUSE = '(?:(?:cap_[a-z_]+|all|\\d+)(?:,(?:cap_[a-z_]+|all|\\d+))*)?(?:[=+-][eip]*)+';
const CAP_TEXT = new RegExp(`^${CAP_CLAUSE}(?: ${CAP_CLAUSE})*$`);

/**
 * getcap's `<path> <capabilities>` lines, each matched to a regular file the walk found (`files`):
 * an image is untrusted, and a file name may hold a space or a line break, so a line counts only
 * when it starts with a known file's full path and the rest is a capability text (the longest such
 * path). setcap then only ever writes files of the copy, never a path a name made up.
 */
export function parseGetcap(lines: readonly string[], files: ReadonlySet<string>): { file: string; caps: string }[] {
  const out: { file: string; caps: string }[] = [];
  for (const line of lines) {
    for (let i = line.lastIndexOf(' '); i > 0; i = line.lastIndexOf(' ', i - 1)) {
      const file = line.slice(0, i);
      const caps = line.slice(i + 1);
      if (files.has(file) && CAP_TEXT.test(caps)) {
        out.push({ file, caps });
        break;
      }
    }
  }
  return out;
}

/**
 * The root file system a team's containers use for an image (runc 1.1 has no id-mapped mounts,
 * so an overlay's lower layer must already carry the team's ids): the image's own when its files
 * are the team's (its get ran in the team's containers), else a copy under `cacheDir` made once
 * per (image, team) with every id shifted into the team's range (hard links, setuid bits and
 * whiteouts kept: `cp -a`, then `shiftOwnership`). The copy records its source, so GC can remove
 * it once the source is gone (`pruneShiftedImages`).
 */
export async function shiftedImage(cacheDir: string, rootfs: string, range: IdRange): Promise<string> {
  const st = await lstat(rootfs);
  if (st.uid >= range.hostId && st.uid < range.hostId + range.size) return rootfs;
  const key = `${createHash('sha256').update(rootfs).digest('hex').slice(0, 32)}-${range.hostId}`;
  const target = join(cacheDir, key);
  if (existsSync(join(target, 'source'))) return join(target, 'rootfs');
  await mkdir(cacheDir, { recursive: true, mode: 0o700 });
  const partial = `${target}.partial-${randomUUID()}`;
  await mkdir(partial, { mode: 0o700 });
  try {
    await run('cp', ['-a', '--', rootfs, join(partial, 'rootfs')]);
    await shiftOwnership(join(partial, 'rootfs'), range);
    // `source` last: a copy without it is not one (a crash in between leaves nothing used)
    await writeFile(join(partial, 'source'), rootfs, { mode: 0o600 });
    await rename(partial, target);
  } catch (err) {
    await rm(partial, { recursive: true, force: true });
    // another container made it first
    if (existsSync(join(target, 'source'))) return join(target, 'rootfs');
    throw new Error(`cannot give the image's files to the team's ids: ${commandError(err)}`);
  }
  return join(target, 'rootfs');
}

/** Removes shifted copies whose source image is gone or that `stale` says are (and copies a crash left half made); how many went. */
export async function pruneShiftedImages(cacheDir: string, max = Number.POSITIVE_INFINITY, stale: (source: string) => boolean = () => false): Promise<number> {
  let removed = 0;
  for (const entry of await readdir(cacheDir).catch(() => [] as string[])) {
    if (removed >= max) break;
    const dir = join(cacheDir, entry);
    const source = await readFile(join(dir, 'source'), 'utf8').catch(() => undefined);
    if (source !== undefined && existsSync(source) && !stale(source)) continue;
    if (source === undefined && !entry.includes('.partial-')) continue;
    if (source === undefined && Date.now() - (await lstat(dir)).mtimeMs < 60 * 60_000) continue; // maybe still being made
    await rm(dir, { recursive: true, force: true });
    removed++;
  }
  return removed;
}
