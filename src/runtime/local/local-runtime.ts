// The local runtime, Jetway's embedded default: every step runs as host processes in a working
// directory of its own, with inputs copied in and outputs moved out as volumes (directories) that
// outlive the step. There is no image: tasks run on the host, resource types as Node processes.
//
// Isolation from the web node and between teams (issue 16, finding 4; docs/security.md,
// "Runtimes"): when the web node is root, every process runs as its team's own host user
// (team-ids.ts), in a working directory and a HOME of mode 0700 that it owns, with an environment
// built from nothing (never the web node's). The directories above them are root's and
// traverse-only (0711), so a team's processes reach its own work, task caches, volumes and kept
// resource caches by their paths (each 0700, the team's), list nothing, and reach no other team's.
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { constants as osConstants } from 'node:os';
import { chmod, cp, lchown, lstat, mkdir, readdir, rename, rm, symlink } from 'node:fs/promises';
import { dirname, join, resolve, sep } from 'node:path';
import type { Artifact } from '../../model/artifact.ts';
import { resourceScript } from './resource-script.ts';
import type { CachedResource, Container, ContainerSpec, ProcessIO, ProcessSpec, Runtime } from '../runtime.ts';
import { findCachedResource, pruneCachedResources, saveCachedResource } from './resource-caches.ts';
import { clearTaskCaches, taskCacheEntry, taskCacheKeyDir } from '../task-caches.ts';
import { teamBuildUser } from './team-ids.ts';

/** The unprivileged user builds run as (see build-user.ts). */
export interface BuildUser {
  name: string;
  uid: number;
  gid: number;
}

export interface LocalRuntimeOptions {
  /** where containers, volumes and task caches live */
  root: string;
  /** how long a cancelled process gets between SIGTERM and SIGKILL */
  killGraceMs?: number;
  /** one user every process runs as (needs a root web node); absent: the web node's own user */
  user?: BuildUser;
  /** each team's processes run as its own host user (team-ids.ts; needs a root web node); wins over `user` */
  teamUsers?: boolean;
  /** the operator's proxies in every process's env, under the step's own (proxy.ts's proxyEnv) */
  proxyEnv?: Record<string, string>;
}

/** The PATH of every process: the system's, and the directory of the node that runs resource scripts. */
export function buildPath(): string {
  const dirs = ['/usr/local/sbin', '/usr/local/bin', '/usr/sbin', '/usr/bin', '/sbin', '/bin'];
  const nodeDir = dirname(process.execPath);
  return (dirs.includes(nodeDir) ? dirs : [...dirs, nodeDir]).join(':');
}

/** Directories the build user may pass through by name but not list (root's; 0700 without a build user). */
async function traverseOnly(dir: string, user: BuildUser | undefined): Promise<void> {
  await mkdir(dir, { recursive: true });
  await chmod(dir, user ? 0o711 : 0o700);
}

/**
 * Gives a tree to the build user: lchown, never following a symlink (an input's link to
 * /etc/shadow must not hand the file over), never descending into a linked directory. Children
 * first, the top last, so nothing below is reachable while still root's; setuid and setgid bits
 * go (a copied input must never be a root setuid binary the build user can run).
 */
export async function chownTree(path: string, user: BuildUser): Promise<void> {
  const st = await lstat(path);
  if (st.isDirectory()) {
    for (const entry of await readdir(path, { withFileTypes: true })) await chownTree(join(path, entry.name), user);
  }
  if (st.isSymbolicLink()) {
    if (st.uid !== user.uid || st.gid !== user.gid) await lchown(path, user.uid, user.gid);
    return;
  }
  if (!st.isDirectory() && (st.mode & 0o6000) !== 0) await chmod(path, st.mode & 0o1777);
  if (st.uid !== user.uid || st.gid !== user.gid) await lchown(path, user.uid, user.gid);
}

export class LocalRuntime implements Runtime {
  readonly name = 'local';
  readonly runsImages = false;

  private prepared: Promise<void> | undefined;

  constructor(private readonly opts: LocalRuntimeOptions) {}

  get user(): BuildUser | undefined {
    return this.opts.user;
  }

  /** The user a step's processes run as: its team's, the one build user, or none (the web node's own). */
  userOf(teamId: number | undefined): BuildUser | undefined {
    return this.opts.teamUsers ? teamBuildUser(teamId) : this.opts.user;
  }

  /** Whether processes run as users other than the web node's. */
  private get switchesUsers(): BuildUser | undefined {
    return this.opts.teamUsers ? teamBuildUser(undefined) : this.opts.user;
  }

  /** The root and its shared folders: root's, traverse-only for build users (once). */
  private prepare(): Promise<void> {
    this.prepared ??= (async () => {
      for (const dir of [this.opts.root, join(this.opts.root, 'containers'), join(this.opts.root, 'volumes'), join(this.opts.root, 'task-caches'), join(this.opts.root, 'resource-caches')]) {
        await traverseOnly(dir, this.switchesUsers);
      }
    })();
    return this.prepared;
  }

  async createContainer(spec: ContainerSpec, signal: AbortSignal): Promise<Container> {
    await this.prepare();
    const user = this.userOf(spec.metadata.teamId);
    const workDir = join(this.opts.root, 'containers', safeName(spec.handle));
    const home = homeOf(workDir);
    await rm(workDir, { recursive: true, force: true });
    await rm(home, { recursive: true, force: true });
    await mkdir(workDir, { mode: 0o700 });
    await mkdir(home, { mode: 0o700 });
    for (const input of spec.inputs) {
      signal.throwIfAborted();
      const target = inside(workDir, input.path);
      if (input.artifact.kind !== 'volume') {
        throw new Error(`input '${input.name}' is an image reference (${input.artifact.reference}); the local runtime needs its content`);
      }
      await mkdir(dirname(target), { recursive: true });
      // A copy, so a step changing its inputs never changes another step's view of them.
      await cp(input.artifact.path, target, { recursive: true, verbatimSymlinks: true, force: true });
    }
    for (const output of spec.outputs) await mkdir(inside(workDir, output.path), { recursive: true });
    for (const cache of spec.caches ?? []) {
      const dir = taskCacheEntry(this.opts.root, cache.key, cache.path);
      await traverseOnly(taskCacheKeyDir(this.opts.root, cache.key), user);
      await mkdir(dir, { recursive: true, mode: 0o700 });
      // a cache made before builds had their own user (or by root) becomes the build user's once
      if (user && (await lstat(dir)).uid !== user.uid) await chownTree(dir, user);
      const target = inside(workDir, cache.path);
      await mkdir(dirname(target), { recursive: true });
      await rm(target, { recursive: true, force: true });
      await symlink(dir, target, 'dir');
    }
    if (user) {
      await chownTree(workDir, user);
      await chownTree(home, user);
    }
    const volumes = this.volumesDir(spec.metadata.buildId);
    await mkdir(volumes, { recursive: true, mode: 0o700 });
    // a build's volumes are its team's (a fetched type's scripts run from one): 0700, its user's
    if (user) {
      await chmod(volumes, 0o700);
      await lchown(volumes, user.uid, user.gid);
    }
    return new LocalContainer(spec, workDir, home, volumes, this.opts.killGraceMs ?? 10_000, user, this.opts.proxyEnv);
  }

  /** Volumes are kept per build, so a finished build's are removed in one go. */
  private volumesDir(buildId: number | undefined): string {
    return join(this.opts.root, 'volumes', buildId === undefined ? 'unowned' : `build-${buildId}`);
  }

  /** A team's kept get (per team with team users: resource-caches.ts says why). */
  cachedResource(cacheId: number, teamId?: number): Promise<CachedResource | undefined> {
    return findCachedResource(this.opts.root, cacheId, this.opts.teamUsers ? (teamId ?? 0) : undefined);
  }

  /** A team's processes reach its kept volumes by their paths (a fetched type's scripts run from them): its folder is its own, 0700. */
  async keepResourceCache(cacheId: number, artifact: Artifact, result: Omit<CachedResource, 'artifact'>, teamId?: number): Promise<Artifact> {
    await this.prepare();
    const owner = this.opts.teamUsers ? teamBuildUser(teamId) : undefined;
    return saveCachedResource(this.opts.root, cacheId, artifact, result, this.switchesUsers ? 0o711 : 0o700, this.opts.teamUsers ? (teamId ?? 0) : undefined, owner);
  }

  /** Kept volumes of resource caches the database no longer has (GC's KeptResourceCacheCollector), every team's. */
  pruneResourceCaches(keep: (cacheId: number) => boolean, max: number): Promise<number> {
    return pruneCachedResources(this.opts.root, keep, max);
  }

  async releaseBuild(buildId: number): Promise<void> {
    await rm(this.volumesDir(buildId), { recursive: true, force: true });
  }

  clearTaskCache(key: string, path?: string): Promise<number> {
    return clearTaskCaches(this.opts.root, key, path);
  }
}

class LocalContainer implements Container {
  private readonly running = new Set<number>();
  private readonly exported = new Map<string, Artifact>();

  constructor(
    private readonly spec: ContainerSpec,
    readonly workDir: string,
    private readonly home: string,
    private readonly volumesDir: string,
    private readonly killGraceMs: number,
    private readonly user: BuildUser | undefined,
    private readonly proxyEnv: Record<string, string> = {},
  ) {}

  get handle(): string {
    return this.spec.handle;
  }

  resourceScript(script: 'check' | 'in' | 'out'): ProcessSpec {
    // a fetched resource type image: its rootfs on the host carries the scripts (e.g. mock's mirror_self)
    return resourceScript(this.spec.image, script, ({ artifact }) => {
      if (artifact.kind !== 'volume') throw new Error(`the local runtime cannot run resource scripts from the image ${artifact.reference}`);
      return join(artifact.path, 'rootfs');
    });
  }

  run(proc: ProcessSpec, io: ProcessIO, signal: AbortSignal): Promise<{ exitStatus: number }> {
    return new Promise((resolvePromise, reject) => {
      if (signal.aborted) {
        reject(signal.reason);
        return;
      }
      const child = spawn(proc.path, proc.args ?? [], {
        cwd: proc.dir ? inside(this.workDir, proc.dir) : this.workDir,
        // built from nothing: the web node's own env (its credentials) never reaches a build
        env: {
          PATH: buildPath(),
          HOME: this.home,
          ...(this.user ? { USER: this.user.name, LOGNAME: this.user.name } : {}),
          ...this.proxyEnv,
          ...this.spec.env,
          ...this.spec.secretEnv,
          ...proc.env,
        },
        ...(this.user ? { uid: this.user.uid, gid: this.user.gid } : {}),
        // its own process group, so cancelling kills whatever it started too
        detached: true,
        stdio: ['pipe', 'pipe', 'pipe'],
      });
      const pid = child.pid;
      if (pid !== undefined) this.running.add(pid);
      let killTimer: NodeJS.Timeout | undefined;
      const cancel = (): void => {
        killGroup(pid, 'SIGTERM');
        killTimer = setTimeout(() => killGroup(pid, 'SIGKILL'), this.killGraceMs);
      };
      signal.addEventListener('abort', cancel, { once: true });
      child.stdout.on('data', (chunk: Buffer) => io.stdout(chunk));
      child.stderr.on('data', (chunk: Buffer) => io.stderr(chunk));
      child.stdin.on('error', () => {}); // a process may exit without reading its stdin
      child.stdin.end(io.stdin ?? '');
      child.on('error', (err) => {
        signal.removeEventListener('abort', cancel);
        if (pid !== undefined) this.running.delete(pid);
        const code = (err as NodeJS.ErrnoException).code;
        reject(new Error(code === 'ENOENT' ? `executable not found: ${proc.path}` : `cannot start ${proc.path}: ${err.message}`));
      });
      child.on('close', (code, sig) => {
        signal.removeEventListener('abort', cancel);
        if (killTimer) clearTimeout(killTimer);
        if (pid !== undefined) this.running.delete(pid);
        if (signal.aborted) {
          reject(signal.reason);
          return;
        }
        const signalNumber = sig ? (osConstants.signals[sig] ?? 0) : 0;
        resolvePromise({ exitStatus: code ?? 128 + signalNumber });
      });
    });
  }

  /** Moves the directory out of the working directory into a volume of its own, once. */
  async artifact(path: string): Promise<Artifact> {
    const known = this.exported.get(path);
    if (known) return known;
    const volume = join(this.volumesDir, randomUUID());
    await mkdir(this.volumesDir, { recursive: true });
    await rename(inside(this.workDir, path), volume);
    const artifact: Artifact = { kind: 'volume', path: volume, handle: this.handle };
    this.exported.set(path, artifact);
    return artifact;
  }

  async destroy(): Promise<void> {
    for (const pid of this.running) killGroup(pid, 'SIGKILL');
    await rm(this.workDir, { recursive: true, force: true });
    await rm(this.home, { recursive: true, force: true });
  }
}

function killGroup(pid: number | undefined, sig: NodeJS.Signals): void {
  if (pid === undefined) return;
  try {
    process.kill(-pid, sig);
  } catch {
    // already gone
  }
}

/** Resolves a relative path inside a directory, refusing `..` escapes. */
function inside(root: string, path: string): string {
  const target = resolve(root, path);
  if (target !== resolve(root) && !target.startsWith(resolve(root) + sep)) {
    throw new Error(`path '${path}' leaves the step's working directory`);
  }
  return target;
}

/** A container's HOME: beside its working directory, so no output or input can hold it. */
function homeOf(workDir: string): string {
  return `${workDir}.home`;
}

function safeName(handle: string): string {
  return handle.replace(/[^A-Za-z0-9._-]/g, '_');
}
