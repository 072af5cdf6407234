// The local runtime's containers (issue 19; docs/local-containers.md): every step runs in an OCI
// container under runc, from its image's root file system, instead of as host processes.
//
// - A task runs in its image (the rootfs its image_resource's get fetched: the overlay's shared,
//   read-only lower layer) with the image's env and user; run.user, run.dir, privileged and
//   container_limits apply. A step without an image (a built-in resource type's check/get/put, a
//   task with none) runs in the base image: the host's tools read-only, Jetway's resource scripts
//   mounted, nothing else of the host.
// - The step's working directory is a host directory bind-mounted at /tmp/build/<id> (inputs
//   copied in, outputs moved out as volumes, as the process runtime does), and task caches are
//   bind mounts of their cache directories.
// - Its own PID, mount, IPC and UTS namespaces (the host's network unless isolated): the web node's
//   files, processes and env are out of sight, and so are other builds' and other teams' files.
// - Its team's user namespace (unprivileged steps): the container's ids are the team's range of
//   host ids (team-ids.ts), so a process escaping its namespaces still owns nothing of another
//   team's or of the web node. Image files get the team's ids once per (image, team) (shiftedImage).
// - A failed step's container is kept for `jetway intercept` (as pods on Kubernetes), then removed.
// - A web node that is not root runs them rootless (rootless.ts, userns.ts): in a user namespace
//   of its own, each container's root its uid and 1..65535 its team's slice of its subordinate
//   ids; no privileged steps, no limits, and file operations on containers' files in the namespace.
import { randomUUID } from 'node:crypto';
import { chmod, chown, lchown, lstat, mkdir, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, posix, resolve, sep } from 'node:path';
import type { Readable } from 'node:stream';
import type { Artifact } from '../../../model/artifact.ts';
import { resourceCommand } from '../../../resources/command.ts';
import { packagePath } from '../../../package.ts';
import type { CachedResource, Container, ContainerSpec, InterceptableContainer, InterceptIO, ProcessIO, ProcessSpec, Runtime } from '../../runtime.ts';
import { resourceScript } from '../resource-script.ts';
import { findCachedResource, pruneCachedResources, saveCachedResource } from '../resource-caches.ts';
import { ContainerGoneError } from '../../runtime.ts';
import { clearTaskCaches, taskCacheEntry, taskCacheKeyDir } from '../../task-caches.ts';
import { chownTree } from '../local-runtime.ts';
import { shiftedId, teamIdRange } from '../team-ids.ts';
import { envMap, ociSpec, parsePasswd, processEnv, resolveUser, type BindMount, type HostDevice, type IdRange, type SpecOptions } from './oci-spec.ts';
import { mirrorsHost, mountOverlay, mountsUnder, prepareBaseImage, pruneShiftedImages, readInsideRoot, shiftedImage, unmountOverlay, type BaseImage } from './rootfs.ts';
import { ContainerStartError, DEFAULT_RUNC, Runc } from './runc.ts';
import { containerIdMappings, holderId, holderMapArgs, rootlessRefusal, teamSlice, type IdBlock } from '../rootless.ts';
import { HOST, HolderNamespace, runIn, type CommandPlace } from './userns.ts';

export interface ContainerRuntimeOptions {
  /** where containers, volumes, caches and runc's state live (root's, 0700) */
  root: string;
  /** the runc binary (default /usr/sbin/runc) */
  runc?: string;
  /** `--local-network=isolated`: a private network namespace per container (loopback only) */
  isolatedNetwork?: boolean;
  /** how long a cancelled process gets between SIGTERM and SIGKILL */
  killGraceMs?: number;
  /** how long a failed step's container is kept for intercept (0: removed at once): --local-failed-container-retention */
  failedRetentionMs?: number;
  /**
   * The operator's proxies (--local-http-proxy, ...; proxy.ts's proxyEnv) in every container's
   * env, over the image's and under the step's own, as Concourse's worker gives its containers.
   */
  proxyEnv?: Record<string, string>;
  /** the web node is not root: rootless containers with these subordinate ids (rootless.ts) */
  rootless?: RootlessOptions;
}

export interface RootlessOptions {
  subuid: IdBlock;
  subgid: IdBlock;
  /** teams 1..teams have a slice of their own */
  teams: number;
}

/** Kept as long as a failed pod on Kubernetes (src/runtime/kubernetes/config.ts's default). */
export const DEFAULT_FAILED_CONTAINER_RETENTION_MS = 60 * 60_000;

/** What a step's image gives its container. */
interface ImageRoot {
  /** the overlay's read-only layers, top first */
  lower: string[];
  /** where the image's own files (passwd, group) are read */
  files: string;
  mounts: BindMount[];
  env: Record<string, string>;
  /** the image's USER, if any */
  user?: string;
  /** true for the base image (built-in types, tasks without an image) */
  base: boolean;
}

export class ContainerRuntime implements Runtime {
  readonly name = 'local';
  readonly runsImages = false;
  /** tasks get their image fetched (as an artifact) and run in it */
  readonly appliesImages = true;
  readonly runc: Runc;
  private prepared: Promise<BaseImage> | undefined;
  readonly containers = new Map<string, RuncContainer>();
  /** shifted image copies being made (one per image and team at a time) */
  private readonly shifting = new Map<string, Promise<string>>();

  /** a rootless web node's holder namespace (started by prepare) */
  private holder: HolderNamespace | undefined;

  constructor(readonly opts: ContainerRuntimeOptions) {
    this.runc = new Runc(opts.runc ?? DEFAULT_RUNC, join(opts.root, 'runc'), {
      // runc's place is known once prepare has started the holder
      wrap: (command, args) => this.place.wrap(command, args),
      get mountinfo(): string {
        throw new Error('not used');
      },
    });
  }

  /** Where mounts, runc and operations on containers' files run: the host, or the rootless holder namespace. */
  get place(): CommandPlace {
    if (!this.opts.rootless) return HOST;
    if (!this.holder) throw new Error('the rootless containers runtime is not prepared');
    return this.holder;
  }

  /**
   * The root's folders (0700: builds reach theirs through mounts only; the root and containers/
   * 0711: runc's init, already in a team's user namespace, passes through them to the container's
   * root file system) and the base image; what a crash left is removed first.
   */
  private prepare(): Promise<BaseImage> {
    this.prepared ??= (async () => {
      for (const dir of ['', 'containers', 'volumes', 'task-caches', 'runc', 'images']) await mkdir(join(this.opts.root, dir), { recursive: true, mode: 0o700 });
      // rootless: runc's init is the container's root, the web node's uid, which owns every folder
      if (this.opts.rootless) this.holder = await HolderNamespace.start(holderMapArgs(this.opts.rootless));
      else for (const dir of ['', 'containers']) await chmod(join(this.opts.root, dir), 0o711);
      // and every folder above the root (a mkdtemp's 0700, /root): traverse-only for the teams' ids
      for (let d = dirname(resolve(this.opts.root)); !this.opts.rootless; d = dirname(d)) {
        const st = await lstat(d);
        if ((st.mode & 0o001) === 0) await chmod(d, (st.mode & 0o7777) | 0o001);
        if (dirname(d) === d) break;
      }
      await this.removeLeftovers();
      const base = await prepareBaseImage(join(this.opts.root, 'base'));
      // the base image is made anew at each start (the host's tools may have changed): so are its teams' copies
      await pruneShiftedImages(join(this.opts.root, 'images'), Number.POSITIVE_INFINITY, (source) => source.startsWith(join(this.opts.root, 'base') + sep));
      return base;
    })();
    return this.prepared;
  }

  /** Containers and mounts a previous web node left (it died): deleted, unmounted, removed. */
  private async removeLeftovers(): Promise<void> {
    for (const c of await this.runc.list()) await this.runc.delete(c.id);
    const dir = join(this.opts.root, 'containers');
    for (const mount of (await mountsUnder(dir, this.place)).reverse()) await unmountOverlay(dirname(mount), this.place);
    if ((await mountsUnder(dir, this.place)).length === 0) await this.removeTree(dir);
    await mkdir(dir, { recursive: true, mode: 0o700 });
    if (!this.opts.rootless) await chmod(dir, 0o711);
  }

  async createContainer(spec: ContainerSpec, signal: AbortSignal): Promise<Container> {
    const base = await this.prepare();
    const id = containerId(spec.handle);
    const dir = join(this.opts.root, 'containers', id);
    const rootless = this.opts.rootless;
    // rootless: a step it cannot run, or a team without ids, fails before anything is made
    const slice = rootless ? this.rootlessSlice(spec, rootless) : undefined;
    await this.removeTree(dir);
    await mkdir(dir, { recursive: true, mode: 0o700 });
    if (!rootless) await chmod(dir, 0o711);
    try {
      signal.throwIfAborted();
      // a privileged step is root on the host (documented): no user namespace; rootless: no range, a slice
      const range = spec.privileged || rootless ? undefined : teamIdRange(spec.metadata.teamId);
      const image = await this.imageRoot(spec, base, range);
      const userSpec = spec.user ?? image.user;
      const user = await this.resolveUserIn(image.files, userSpec, spec.user !== undefined ? 'run.user' : "the image's user");
      // the process's ids on the host: its team's range; rootless: in the holder namespace, where files are chowned
      const owner =
        slice !== undefined
          ? { name: '', uid: holderId(user.uid, slice), gid: holderId(user.gid, slice) }
          : range
            ? { name: '', uid: shiftedId(user.uid, range), gid: shiftedId(user.gid, range) }
            : { name: '', uid: user.uid, gid: user.gid };
      const buildDir = join(dir, 'build');
      await mkdir(buildDir, { mode: 0o755 });
      for (const input of spec.inputs) {
        signal.throwIfAborted();
        if (input.artifact.kind !== 'volume') throw new Error(`input '${input.name}' is an image reference (${input.artifact.reference}); the local runtime needs its content`);
        const target = inside(buildDir, input.path);
        await mkdir(dirname(target), { recursive: true });
        // a copy, so a step changing its inputs never changes another step's view of them; with its
        // owners, as Concourse passes a volume to a root step as it is (what a nonroot step wrote stays its)
        await runIn(this.place, 'cp', ['-R', '-P', '--preserve=mode,ownership,timestamps', '-T', '--', input.artifact.path, target]);
      }
      for (const output of spec.outputs) await mkdir(inside(buildDir, output.path), { recursive: true });
      const workDir = `/tmp/build/${id.replace(/[^a-f0-9]/g, '').slice(0, 8) || 'step'}`;
      const mounts: BindMount[] = [...image.mounts, { source: buildDir, destination: workDir }];
      for (const cache of spec.caches ?? []) {
        const cacheDir = taskCacheEntry(this.opts.root, cache.key, cache.path);
        await mkdir(taskCacheKeyDir(this.opts.root, cache.key), { recursive: true, mode: 0o700 });
        await mkdir(cacheDir, { recursive: true, mode: 0o700 });
        if (owner.uid !== 0 && (rootless || (await lstat(cacheDir)).uid !== owner.uid)) await this.chownTree(cacheDir, owner);
        await mkdir(inside(buildDir, cache.path), { recursive: true });
        mounts.push({ source: cacheDir, destination: posix.join(workDir, posix.normalize(`/${cache.path}`)) });
      }
      // a user other than root owns its work (as Concourse's containers give it); in a user namespace, its host ids.
      // Root gets its inputs as they are, but for ids its namespace cannot map (then its own), and owns their tops
      if (user.uid !== 0) await this.chownTree(buildDir, owner);
      else if (range) {
        await mapTreeIds(buildDir, (id) => (id >= range.hostId && id < range.hostId + range.size ? id : owner.uid));
        for (const top of [buildDir, ...spec.inputs.map((i) => inside(buildDir, i.path)), ...spec.outputs.map((o) => inside(buildDir, o.path))]) await lchown(top, owner.uid, owner.gid);
      } else if (spec.privileged && !rootless) {
        // no user namespace: what the team's other steps wrote as its shifted ids is seen as their ids
        const team = teamIdRange(spec.metadata.teamId);
        await mapTreeIds(buildDir, (id) => (id >= team.hostId && id < team.hostId + team.size ? id - team.hostId : id));
      }
      // name resolution on the host's network (the image's own files stay its own otherwise)
      if (!image.base && !isolatedNetwork(this.opts, spec)) {
        for (const f of ['/etc/resolv.conf', '/etc/hosts']) if (existsSync(f)) mounts.push({ source: f, destination: f, readonly: true });
      }
      signal.throwIfAborted();
      {
        // the overlay's root directory is its upper layer's: the container's root owns it, with the
        // image's mode (0700 would keep a non-root user of a privileged or rootless step out of `/`)
        const upper = join(dir, 'upper');
        await mkdir(upper, { recursive: true });
        await chmod(upper, ((await lstat(image.lower[0] as string)).mode & 0o7777) | 0o700);
        if (range) await chown(upper, range.hostId, range.hostId);
      }
      await mountOverlay(dir, image.lower, this.place);
      const container = new RuncContainer(this, spec, id, dir, buildDir, workDir, mounts, image, user, range, slice);
      this.containers.set(spec.handle, container);
      return container;
    } catch (err) {
      await unmountOverlay(dir, this.place).catch(() => undefined);
      await this.removeTree(dir);
      throw err;
    }
  }

  /** A rootless step's slice of ids, or its refusal (privileged, limits, a team without ids) as the step's error. */
  private rootlessSlice(spec: ContainerSpec, rootless: RootlessOptions): number {
    const refusal = rootlessRefusal(spec);
    if (refusal) throw new Error(refusal);
    const slice = teamSlice(spec.metadata.teamId, rootless);
    if (!slice.ok) throw new Error(slice.message);
    return slice.slice;
  }

  /** Gives a tree to a container's user (rootless: ids of the holder namespace, chowned there). */
  private async chownTree(path: string, owner: { name: string; uid: number; gid: number }): Promise<void> {
    if (this.opts.rootless) await runIn(this.place, 'chown', ['-R', '-h', `${owner.uid}:${owner.gid}`, '--', path]);
    else await chownTree(path, owner);
  }

  /**
   * Removes a tree. Rootless, files a container's other users wrote are their subordinate ids',
   * which the web node can remove only in its namespace.
   */
  async removeTree(path: string): Promise<void> {
    try {
      await rm(path, { recursive: true, force: true });
    } catch (err) {
      if (!this.opts.rootless || !this.holder) throw err;
      await runIn(this.holder, 'rm', ['-rf', '--', path]);
    }
  }

  /** Moves a tree (a step's output to a volume); rootless, one a subordinate id owns is moved in the namespace. */
  async moveTree(from: string, to: string): Promise<void> {
    try {
      await rename(from, to);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (!this.opts.rootless || !this.holder || (code !== 'EACCES' && code !== 'EPERM')) throw err;
      await runIn(this.holder, 'mv', ['-T', '--', from, to]);
    }
  }

  /** An image's rootfs with the team's ids (once per image and team), or as it is without a user namespace. */
  private forTeam(rootfs: string, range: IdRange | undefined): Promise<string> {
    // rootless: an image's files are the web node's (its root) or its team slice's, as the team's get left them
    if (!range) return Promise.resolve(rootfs);
    const key = `${rootfs}\0${range.hostId}`;
    let made = this.shifting.get(key);
    if (!made) {
      made = shiftedImage(join(this.opts.root, 'images'), rootfs, range).finally(() => this.shifting.delete(key));
      this.shifting.set(key, made);
    }
    return made;
  }

  /** The lower layer, mounts and env of a step's image. */
  private async imageRoot(spec: ContainerSpec, base: BaseImage, range: IdRange | undefined): Promise<ImageRoot> {
    const image = spec.image;
    if (image.kind === 'base-type' || image.kind === 'none') {
      return { lower: [await this.forTeam(base.rootfs, range)], files: '/', mounts: [...base.mounts, ...(image.kind === 'base-type' ? resourceScriptMounts(image.type) : [])], env: {}, base: true };
    }
    if (image.kind === 'reference') throw new Error(`the local runtime cannot pull the image ${image.reference} by reference: it runs images fetched by their resource's get`);
    if (image.artifact.kind !== 'volume') throw new Error(`the image ${image.artifact.reference} was not fetched: the local runtime needs its root file system`);
    const rootfs = join(image.artifact.path, 'rootfs');
    let st;
    try {
      st = await lstat(rootfs);
    } catch {
      throw new Error('the fetched image has no rootfs/ directory: a task image must be fetched in the rootfs format (registry-image format: rootfs)');
    }
    if (!st.isDirectory()) throw new Error('the fetched image has no rootfs/ directory');
    const meta = await readFile(join(image.artifact.path, 'metadata.json'), 'utf8').then(
      (t) => JSON.parse(t) as { env?: unknown; user?: unknown },
      () => ({}) as { env?: unknown; user?: unknown },
    );
    const hostMirror = await mirrorsHost(rootfs);
    const teamRootfs = await this.forTeam(rootfs, range);
    return {
      lower: hostMirror ? [await this.forTeam(base.rootfs, range), teamRootfs] : [teamRootfs],
      files: hostMirror ? '/' : rootfs,
      // a host mirror's scripts (mock's /opt/resource/*) run Jetway's resources bundle by its host path
      mounts: hostMirror ? [...base.mounts, ...resourceScriptMounts('mock')] : [],
      env: envMap(Array.isArray(meta.env) ? meta.env : []),
      ...(typeof meta.user === 'string' && meta.user !== '' ? { user: meta.user } : {}),
      base: false,
    };
  }

  /** A user of the image (name or number, with a group), or root; an unknown name fails the step. */
  private async resolveUserIn(rootfs: string, spec: string | undefined, what: string): Promise<{ uid: number; gid: number; additionalGids: number[] }> {
    if (spec === undefined || spec === '') return { uid: 0, gid: 0, additionalGids: [] };
    const db = parsePasswd((await readInsideRoot(rootfs, '/etc/passwd')) ?? '', (await readInsideRoot(rootfs, '/etc/group')) ?? '');
    const user = resolveUser(spec, db);
    if (!user.ok) throw new Error(`${what} '${spec}': ${user.message}`);
    return user;
  }

  private volumesDir(buildId: number | undefined): string {
    return join(this.opts.root, 'volumes', buildId === undefined ? 'unowned' : `build-${buildId}`);
  }

  async newVolume(buildId: number | undefined): Promise<string> {
    const dir = this.volumesDir(buildId);
    await mkdir(dir, { recursive: true, mode: 0o700 });
    return join(dir, randomUUID());
  }

  /** A team's kept get: per team, as its files carry the team's ids (resource-caches.ts). */
  cachedResource(cacheId: number, teamId?: number): Promise<CachedResource | undefined> {
    return findCachedResource(this.opts.root, cacheId, teamId ?? 0);
  }

  keepResourceCache(cacheId: number, artifact: Artifact, result: Omit<CachedResource, 'artifact'>, teamId?: number): Promise<Artifact> {
    return saveCachedResource(this.opts.root, cacheId, artifact, result, 0o700, teamId ?? 0);
  }

  /**
   * Kept volumes of resource caches the database no longer has (GC's KeptResourceCacheCollector),
   * every team's, then the teams' copies of images whose source went with them.
   */
  async pruneResourceCaches(keep: (cacheId: number) => boolean, max: number): Promise<number> {
    const removed = await pruneCachedResources(this.opts.root, keep, max);
    if (removed > 0) await pruneShiftedImages(join(this.opts.root, 'images'), max);
    return removed;
  }

  async releaseBuild(buildId: number): Promise<void> {
    await this.removeTree(this.volumesDir(buildId));
  }

  clearTaskCache(key: string, path?: string): Promise<number> {
    return clearTaskCaches(this.opts.root, key, path);
  }

  interceptableContainers(buildId: number): Promise<InterceptableContainer[]> {
    const out: InterceptableContainer[] = [];
    for (const c of this.containers.values()) {
      if (c.spec.metadata.buildId !== buildId || c.state === 'gone') continue;
      out.push(c.describe());
    }
    return Promise.resolve(out);
  }

  containerBuildIds(): Promise<number[]> {
    const ids = new Set<number>();
    for (const c of this.containers.values()) if (c.state !== 'gone' && c.spec.metadata.buildId !== undefined) ids.add(c.spec.metadata.buildId);
    return Promise.resolve([...ids]);
  }

  /** Every container (running or kept), for `jetway containers`. */
  listContainers(): InterceptableContainer[] {
    return [...this.containers.values()].filter((c) => c.state !== 'gone').map((c) => c.describe());
  }

  async intercept(handle: string, command: string[], io: InterceptIO, signal: AbortSignal): Promise<{ exitStatus: number }> {
    const c = this.containers.get(handle);
    if (!c || c.state === 'gone') throw new ContainerGoneError(`container ${handle} is gone`);
    return { exitStatus: await c.intercept(command.length > 0 ? command : ['sh'], io, signal) };
  }

  /** How long a failed step's container is kept (intercept's refusal names it). */
  get failedContainerRetentionMs(): number {
    return this.opts.failedRetentionMs ?? DEFAULT_FAILED_CONTAINER_RETENTION_MS;
  }

  /** Removes every container now (the web node stops). */
  async close(): Promise<void> {
    await Promise.all([...this.containers.values()].map((c) => c.remove()));
    this.holder?.stop();
  }

  /** The web node's capability bounding set (from /proc/self/status), read once. */
  readonly bounding: bigint | undefined = (() => {
    try {
      const m = /^CapBnd:\s*([0-9a-f]+)$/m.exec(readFileSync('/proc/self/status', 'utf8'));
      return m?.[1] ? BigInt(`0x${m[1]}`) : undefined;
    } catch {
      return undefined;
    }
  })();

  /** Host devices a privileged container gets (those present). */
  privilegedDevices(): HostDevice[] {
    const out: HostDevice[] = [];
    for (const path of ['/dev/fuse', '/dev/loop-control', '/dev/net/tun']) {
      try {
        const st = statSync(path);
        if (st.isCharacterDevice()) out.push({ path, type: 'c', major: Math.floor(st.rdev / 256) & 0xfff, minor: (st.rdev & 0xff) | ((st.rdev >> 12) & 0xfff00), fileMode: st.mode & 0o777 });
      } catch {
        // not on this host
      }
    }
    return out;
  }
}

/** Jetway's resource scripts in the base image: the files `resourceCommand` runs, read-only at their own paths. */
function resourceScriptMounts(type: string): BindMount[] {
  const { command, args } = resourceCommand(type, 'check');
  const mounts: BindMount[] = [];
  if (!command.startsWith('/usr/')) mounts.push({ source: command, destination: command, readonly: true });
  if (args[0] && args[0].startsWith('/')) {
    mounts.push({ source: args[0], destination: args[0], readonly: true });
  } else {
    // the sources through tsx (no fresh bundle): the package's code, not its other files
    for (const p of ['package.json', 'src', 'node_modules']) mounts.push({ source: packagePath(p), destination: packagePath(p), readonly: true });
  }
  return mounts;
}

type State = 'idle' | 'running' | 'failed' | 'gone';

class RuncContainer implements Container {
  private readonly exported = new Map<string, Artifact>();
  state: State = 'idle';
  private runs = 0;
  private current: string | undefined;
  private failed = false;
  private retention: NodeJS.Timeout | undefined;
  private readonly createdAt = new Date().toISOString();
  /** called when a process of this container runs (the benchmark's start latency) */
  onStarted: (() => void) | undefined;

  constructor(
    private readonly runtime: ContainerRuntime,
    readonly spec: ContainerSpec,
    private readonly id: string,
    private readonly dir: string,
    private readonly buildDir: string,
    readonly workDir: string,
    private readonly mounts: BindMount[],
    private readonly image: ImageRoot,
    private readonly user: { uid: number; gid: number; additionalGids: number[] },
    /** the team's user namespace (absent: privileged, or rootless) */
    private readonly range: IdRange | undefined,
    /** rootless: the team's slice of the web node's subordinate ids (rootless.ts) */
    private readonly slice?: number,
  ) {}

  get handle(): string {
    return this.spec.handle;
  }

  resourceScript(script: 'check' | 'in' | 'out'): ProcessSpec {
    // a fetched resource type image carries its scripts, at its root inside the container
    return resourceScript(this.spec.image, script, () => '/');
  }

  private specFor(args: string[], env: string[], cwd: string, user: { uid: number; gid: number; additionalGids: number[] }): SpecOptions {
    return {
      process: { args, env, cwd, uid: user.uid, gid: user.gid, additionalGids: user.additionalGids },
      rootfs: join(this.dir, 'rootfs'),
      hostname: this.id.slice(0, 63),
      mounts: this.mounts,
      privileged: this.spec.privileged === true,
      isolatedNetwork: isolatedNetwork(this.runtime.opts, this.spec),
      ...(this.spec.limits ? { limits: this.spec.limits } : {}),
      cgroupsPath: `/jetway/${this.id}`,
      ...(this.slice !== undefined ? { idMappings: containerIdMappings(this.slice), rootless: true } : {}),
      ...(this.spec.privileged ? { privilegedDevices: this.runtime.privilegedDevices() } : {}),
      ...(this.runtime.bounding !== undefined ? { bounding: this.runtime.bounding } : {}),
      ...(this.range ? { userNamespace: this.range } : {}),
    };
  }

  private env(proc?: ProcessSpec): string[] {
    return processEnv([this.image.env, this.runtime.opts.proxyEnv, this.spec.env, this.spec.secretEnv, proc?.env], this.user.uid === 0 ? '/root' : '/tmp');
  }

  async run(proc: ProcessSpec, io: ProcessIO, signal: AbortSignal): Promise<{ exitStatus: number }> {
    if (this.state === 'gone') throw new Error(`container ${this.handle} was destroyed`);
    const cwd = proc.dir ? posix.join(this.workDir, relativeInside(proc.dir)) : this.workDir;
    const user = proc.user !== undefined && proc.user !== this.spec.user ? await this.resolve(proc.user) : this.user;
    const runId = this.runs === 0 ? this.id : `${this.id}-${this.runs}`;
    this.runs++;
    // the env holds the step's params (maybe secrets): the file is root's, in a root-only folder, and goes once the process ends
    const bundle = await this.bundle(runId, this.specFor([proc.path, ...(proc.args ?? [])], this.env(proc), cwd, user));
    this.state = 'running';
    try {
      // intercept execs into it once its process runs (an exec into a container still being created races its start)
      const exitStatus = await this.runtime.runc.run(runId, bundle, io, signal, this.runtime.opts.killGraceMs ?? 10_000, () => {
        this.current = runId;
        this.onStarted?.();
      });
      if (exitStatus !== 0) this.failed = true;
      return { exitStatus };
    } catch (err) {
      if (err instanceof ContainerStartError) throw new Error(`the container did not start: ${err.message}`);
      throw err;
    } finally {
      this.current = undefined;
      if (this.state === 'running') this.state = 'idle';
      await rm(bundle, { recursive: true, force: true });
    }
  }

  private async resolve(spec: string): Promise<{ uid: number; gid: number; additionalGids: number[] }> {
    const db = parsePasswd((await readInsideRoot(this.image.files, '/etc/passwd')) ?? '', (await readInsideRoot(this.image.files, '/etc/group')) ?? '');
    const user = resolveUser(spec, db);
    if (!user.ok) throw new Error(`run.user '${spec}': ${user.message}`);
    return user;
  }

  async artifact(path: string): Promise<Artifact> {
    const known = this.exported.get(path);
    if (known) return known;
    const volume = await this.runtime.newVolume(this.spec.metadata.buildId);
    await this.runtime.moveTree(inside(this.buildDir, path), volume);
    const artifact: Artifact = { kind: 'volume', path: volume, handle: this.handle };
    this.exported.set(path, artifact);
    return artifact;
  }

  describe(): InterceptableContainer {
    const m = this.spec.metadata;
    return {
      handle: this.handle,
      step: m.step ?? '',
      type: m.type,
      state: this.state === 'failed' ? 'failed' : 'running',
      ...(m.purpose ? { purpose: m.purpose } : {}),
      name: this.id,
      workDir: this.workDir,
      createdAt: this.createdAt,
    };
  }

  /** A command in the container: `runc exec` while its process runs, else a new process on the same root file system. */
  async intercept(command: string[], io: InterceptIO, signal: AbortSignal): Promise<number> {
    // a process being started is waited for (up to 10 s): the exec goes into it
    for (let i = 0; i < 1000 && this.state === 'running' && !this.current; i++) await new Promise((r) => setTimeout(r, 10));
    const current = this.current;
    const rio = { stdin: io.stdin as Readable, stdout: io.stdout, stderr: io.stderr };
    if (current) return this.runtime.runc.exec(current, command, this.workDir, rio, signal);
    const runId = `${this.id}-i${this.runs++}`;
    const bundle = await this.bundle(runId, this.specFor(command, this.env(), this.workDir, this.user));
    try {
      return await this.runtime.runc.run(runId, bundle, rio, signal, 1000);
    } catch (err) {
      if (err instanceof ContainerStartError) return reportStartError(err, io);
      throw err;
    } finally {
      await rm(bundle, { recursive: true, force: true });
    }
  }

  /** A bundle of one process (config.json, 0600 in a root-only folder) over the container's rootfs. */
  private async bundle(runId: string, options: SpecOptions): Promise<string> {
    const bundle = join(this.dir, 'bundles', runId);
    await mkdir(bundle, { recursive: true, mode: 0o700 });
    await writeFile(join(bundle, 'config.json'), JSON.stringify(ociSpec(options)), { mode: 0o600 });
    return bundle;
  }

  async destroy(): Promise<void> {
    const retention = this.runtime.failedContainerRetentionMs;
    if (this.failed && retention > 0 && this.state !== 'gone') {
      this.state = 'failed';
      this.retention = setTimeout(() => void this.remove(), retention);
      this.retention.unref();
      return;
    }
    await this.remove();
  }

  async remove(): Promise<void> {
    if (this.retention) clearTimeout(this.retention);
    this.state = 'gone';
    this.runtime.containers.delete(this.handle);
    for (let i = 0; i < this.runs; i++) await this.runtime.runc.delete(i === 0 ? this.id : `${this.id}-${i}`);
    for (const c of await this.runtime.runc.list()) if (c.id.startsWith(`${this.id}-i`)) await this.runtime.runc.delete(c.id);
    await unmountOverlay(this.dir, this.runtime.place);
    await this.runtime.removeTree(this.dir);
  }
}

function reportStartError(err: Error, io: InterceptIO): number {
  io.stderr(Buffer.from(`${err.message}\n`));
  return 126;
}

/** A network namespace of its own (loopback only): the operator's --local-network=isolated, or a task's `hermetic: true`. */
function isolatedNetwork(opts: ContainerRuntimeOptions, spec: ContainerSpec): boolean {
  return opts.isolatedNetwork === true || spec.hermetic === true;
}

/** runc's container id: the handle's safe characters. */
function containerId(handle: string): string {
  return handle.replace(/[^A-Za-z0-9_.-]/g, '_').slice(0, 100) || 'step';
}

/** A relative path that stays inside (for run.dir). */
function relativeInside(path: string): string {
  const normalized = posix.normalize(`/${path}`);
  if (posix.isAbsolute(path) || path.split('/').includes('..')) throw new Error(`path '${path}' leaves the step's working directory`);
  return normalized.slice(1);
}

function inside(root: string, path: string): string {
  const target = resolve(root, path);
  if (target !== resolve(root) && !target.startsWith(resolve(root) + sep)) throw new Error(`path '${path}' leaves the step's working directory`);
  return target;
}

/**
 * Re-owns every entry of a tree by `map` (uid and gid alike), leaving those it maps to themselves;
 * set-id bits of what changes owner are dropped.
 */
async function mapTreeIds(path: string, map: (id: number) => number): Promise<void> {
  const st = await lstat(path);
  if (st.isDirectory()) for (const entry of await readdir(path)) await mapTreeIds(join(path, entry), map);
  const uid = map(st.uid);
  const gid = map(st.gid);
  if (uid === st.uid && gid === st.gid) return;
  if (!st.isSymbolicLink() && !st.isDirectory() && (st.mode & 0o6000) !== 0) await chmod(path, st.mode & 0o1777);
  await lchown(path, uid, gid);
}
