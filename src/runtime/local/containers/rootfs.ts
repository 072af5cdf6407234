// A container's root file system on the local container runtime: an overlay whose lower layer is
// the image's unpacked rootfs (shared by every container of the image, never written) and whose
// upper layer is the container's own. Files of an image are read through `readInsideRoot`, which
// resolves symbolic links inside the rootfs: an image is untrusted, and its /etc/passwd may well
// be a link to the host's /etc/shadow.
import { execFile } from 'node:child_process';
import { lstat, mkdir, readFile, readlink, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { existsSync, lstatSync, readlinkSync } from 'node:fs';
import { dirname, join, posix } from 'node:path';
import { promisify } from 'node:util';

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

/** Mounts the overlay of `lower` (read-only layers, top first) + the container's upper layer at `<dir>/rootfs`. */
export async function mountOverlay(dir: string, lower: string | string[]): Promise<string> {
  const rootfs = join(dir, 'rootfs');
  const layers = Array.isArray(lower) ? lower : [lower];
  for (const d of ['rootfs', 'upper', 'work']) await mkdir(join(dir, d), { recursive: true, mode: 0o700 });
  // overlay options are comma-separated: a lower dir with a comma or colon in its path cannot be named
  for (const path of [...layers, dir]) if (/[,:\\]/.test(path)) throw new Error(`the path ${path} cannot be mounted as an overlay layer (it holds ',' ':' or '\\')`);
  try {
    await run('mount', ['-t', 'overlay', 'overlay', '-o', `lowerdir=${layers.join(':')},upperdir=${join(dir, 'upper')},workdir=${join(dir, 'work')}`, rootfs]);
  } catch (err) {
    throw new Error(`cannot mount the container's root file system (overlay): ${commandError(err)}`);
  }
  return rootfs;
}

/** Unmounts `<dir>/rootfs` if mounted (lazily: a process still exiting must not keep it). */
export async function unmountOverlay(dir: string): Promise<void> {
  const rootfs = join(dir, 'rootfs');
  if (!existsSync(rootfs)) return;
  if (!(await isMountPoint(rootfs))) return;
  try {
    await run('umount', [rootfs]);
  } catch {
    await run('umount', ['-l', rootfs]).catch(() => undefined);
  }
}

/** Whether `path` is a mount point (per /proc/self/mountinfo). */
export async function isMountPoint(path: string): Promise<boolean> {
  const info = await readFile('/proc/self/mountinfo', 'utf8');
  return info.split('\n').some((line) => unescapeMount(line.split(' ')[4] ?? '') === path);
}

/** Every mount point at or under `prefix` (mountinfo order: parents first). */
export async function mountsUnder(prefix: string): Promise<string[]> {
  const info = await readFile('/proc/self/mountinfo', 'utf8');
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
