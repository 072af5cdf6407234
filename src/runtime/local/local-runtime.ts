// The local runtime, Jetway's embedded default: every step runs as host processes in a working
// directory of its own, with inputs copied in and outputs moved out as volumes (directories) that
// outlive the step. There is no image: tasks run on the host, resource types as Node processes.
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { constants as osConstants } from 'node:os';
import { cp, mkdir, rename, rm, symlink } from 'node:fs/promises';
import { dirname, join, resolve, sep } from 'node:path';
import type { Artifact } from '../../model/artifact.ts';
import { resourceCommand } from '../../resources/command.ts';
import type { Container, ContainerSpec, ProcessIO, ProcessSpec, Runtime } from '../runtime.ts';
import { clearTaskCaches, taskCacheEntry } from '../task-caches.ts';

export interface LocalRuntimeOptions {
  /** where containers, volumes and task caches live */
  root: string;
  /** how long a cancelled process gets between SIGTERM and SIGKILL */
  killGraceMs?: number;
}

export class LocalRuntime implements Runtime {
  readonly name = 'local';
  readonly runsImages = false;

  constructor(private readonly opts: LocalRuntimeOptions) {}

  async createContainer(spec: ContainerSpec, signal: AbortSignal): Promise<Container> {
    const workDir = join(this.opts.root, 'containers', safeName(spec.handle));
    await rm(workDir, { recursive: true, force: true });
    await mkdir(workDir, { recursive: true });
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
      await mkdir(dir, { recursive: true });
      const target = inside(workDir, cache.path);
      await mkdir(dirname(target), { recursive: true });
      await rm(target, { recursive: true, force: true });
      await symlink(dir, target, 'dir');
    }
    return new LocalContainer(spec, workDir, this.volumesDir(spec.metadata.buildId), this.opts.killGraceMs ?? 10_000);
  }

  /** Volumes are kept per build, so a finished build's are removed in one go. */
  private volumesDir(buildId: number | undefined): string {
    return join(this.opts.root, 'volumes', buildId === undefined ? 'unowned' : `build-${buildId}`);
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
    private readonly volumesDir: string,
    private readonly killGraceMs: number,
  ) {}

  get handle(): string {
    return this.spec.handle;
  }

  resourceScript(script: 'check' | 'in' | 'out'): ProcessSpec {
    const image = this.spec.image;
    if (image.kind === 'base-type') {
      const { command, args } = resourceCommand(image.type, script);
      return { path: command, args };
    }
    if (image.kind === 'artifact' && image.artifact.kind === 'volume') {
      // A fetched resource type image: its rootfs carries the scripts (e.g. mock's mirror_self).
      return { path: join(image.artifact.path, 'rootfs', 'opt', 'resource', script) };
    }
    throw new Error(`the local runtime cannot run resource scripts from ${image.kind === 'reference' ? `the image ${image.reference}` : 'no image'}`);
  }

  run(proc: ProcessSpec, io: ProcessIO, signal: AbortSignal): Promise<{ exitStatus: number }> {
    return new Promise((resolvePromise, reject) => {
      if (signal.aborted) {
        reject(signal.reason);
        return;
      }
      const child = spawn(proc.path, proc.args ?? [], {
        cwd: proc.dir ? inside(this.workDir, proc.dir) : this.workDir,
        env: { PATH: process.env.PATH ?? '/usr/local/bin:/usr/bin:/bin', HOME: process.env.HOME ?? '/root', ...this.spec.env, ...this.spec.secretEnv, ...proc.env },
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

function safeName(handle: string): string {
  return handle.replace(/[^A-Za-z0-9._-]/g, '_');
}
