// Containers run for real with runc: one OCI bundle per container instance, its rootfs an
// overlay of the image's unpacked rootfs (read-only lower dir shared by every container of the
// image) and a per-container upper dir; where overlayfs cannot be mounted the image rootfs is
// copied (`cp -a`). `runc run` runs in the foreground, so its exit status is the container's
// (128 + signal when killed) and its stdio are the container's (captured into a CRI-format log
// file); runc's own errors go to a JSON log (`--log`), which tells a start failure (StartError)
// from a process that exited 1. Namespaces: pid, ipc, uts, mount; NOT network: containers share
// the host's network, as `hostNetwork: true` pods do (a simulation choice, documented in
// kubelet/README.md). The container is "running" once runc has created it and deleted its exec
// FIFO (the user process was exec'd).
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync, type WriteStream } from 'node:fs';
import { join } from 'node:path';
import type { Readable, Writable } from 'node:stream';
import { ociSpec } from '../../../src/runtime/local/containers/oci-spec.ts';
import { DEFAULT_RUNC, runcErrors } from '../../../src/runtime/local/containers/runc.ts';

export const RUNC = process.env.KUBE_SIM_RUNC ?? DEFAULT_RUNC;

export interface Mount {
  source: string;
  destination: string;
  readonly?: boolean;
}

export interface ContainerConfig {
  id: string;
  bundle: string;
  /** The image's unpacked rootfs (never written to). */
  imageRootfs: string;
  args: string[];
  env: string[];
  cwd: string;
  uid: number;
  gid: number;
  additionalGids?: number[];
  hostname: string;
  mounts: Mount[];
  readonlyRootfs?: boolean;
  privileged?: boolean;
  /** securityContext.capabilities (names with or without CAP_; `ALL`), applied over the default set */
  capabilities?: { add?: string[]; drop?: string[] };
  /** securityContext.allowPrivilegeEscalation: false */
  noNewPrivileges?: boolean;
  /** bytes (resources.limits.memory) */
  memoryLimit?: number;
}

export interface ExitInfo {
  exitCode: number;
  /** runc's message when the process could not be started (StartError). */
  startError?: string;
  startedAt?: Date;
  finishedAt: Date;
}

/**
 * The container's config.json: the local container runtime's OCI spec (src/runtime/local/containers/
 * oci-spec.ts, shared so the two runc users agree) with Kubernetes' securityContext: capabilities
 * over containerd's default set (the same as Docker's), no_new_privs, a read-only root, and no
 * seccomp filter (Kubernetes' default, Unconfined; seccompProfile is not applied here).
 */
export function containerSpec(c: ContainerConfig): Record<string, unknown> {
  return ociSpec({
    process: { args: c.args, env: c.env, cwd: c.cwd, uid: c.uid, gid: c.gid, ...(c.additionalGids ? { additionalGids: c.additionalGids } : {}) },
    rootfs: join(c.bundle, 'rootfs'),
    hostname: c.hostname,
    mounts: c.mounts,
    privileged: c.privileged ?? false,
    // no network namespace: pods share the node's network (kubelet/README.md)
    isolatedNetwork: false,
    ...(c.memoryLimit ? { limits: { memory: c.memoryLimit } } : {}),
    ...(c.capabilities ? { capabilities: c.capabilities } : {}),
    ...(c.noNewPrivileges ? { noNewPrivileges: true } : {}),
    ...(c.readonlyRootfs ? { readonlyRootfs: true } : {}),
    seccomp: false,
  });
}

function run(command: string, args: string[]): Promise<{ code: number; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(command, args, { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', (err) => resolve({ code: -1, stderr: err.message }));
    child.on('close', (code) => resolve({ code: code ?? -1, stderr }));
  });
}

/** A CRI log file: `<RFC3339Nano> <stdout|stderr> <F|P> <text>` per line. */
export class CriLogWriter {
  private readonly out: WriteStream;
  private readonly partial = { stdout: '', stderr: '' };
  constructor(readonly path: string) {
    this.out = createWriteStream(path, { flags: 'a' });
  }

  write(stream: 'stdout' | 'stderr', chunk: Buffer): void {
    const text = this.partial[stream] + chunk.toString('utf8');
    const lines = text.split('\n');
    this.partial[stream] = lines.pop() ?? '';
    for (const line of lines) this.out.write(`${new Date().toISOString()} ${stream} F ${line}\n`);
    // a long partial line is flushed as P (as containerd does at 16 KiB)
    if (this.partial[stream].length >= 16384) {
      this.out.write(`${new Date().toISOString()} ${stream} P ${this.partial[stream]}\n`);
      this.partial[stream] = '';
    }
  }

  async close(): Promise<void> {
    for (const stream of ['stdout', 'stderr'] as const) {
      if (this.partial[stream]) this.out.write(`${new Date().toISOString()} ${stream} P ${this.partial[stream]}\n`);
      this.partial[stream] = '';
    }
    await new Promise<void>((resolve) => this.out.end(() => resolve()));
  }
}

/** One container instance: bundle, runc process, log. */
export class RuncContainer {
  private child: ChildProcess | undefined;
  private exitPromise: Promise<ExitInfo> | undefined;
  private overlay = false;
  startedAt: Date | undefined;
  exited: ExitInfo | undefined;

  constructor(
    readonly runcRoot: string,
    readonly config: ContainerConfig,
    readonly logFile: string,
  ) {}

  get id(): string {
    return this.config.id;
  }

  get running(): boolean {
    return this.startedAt !== undefined && this.exited === undefined;
  }

  /** Prepares the bundle (rootfs overlay, config.json). */
  async prepare(): Promise<void> {
    const { bundle, imageRootfs } = this.config;
    rmSync(bundle, { recursive: true, force: true });
    const rootfs = join(bundle, 'rootfs');
    for (const d of ['rootfs', 'upper', 'work']) mkdirSync(join(bundle, d), { recursive: true });
    const mounted = await run('mount', ['-t', 'overlay', 'overlay', '-o', `lowerdir=${imageRootfs},upperdir=${join(bundle, 'upper')},workdir=${join(bundle, 'work')}`, rootfs]);
    if (mounted.code === 0) this.overlay = true;
    else {
      const copied = await run('cp', ['-a', `${imageRootfs}/.`, rootfs]);
      if (copied.code !== 0) throw new Error(`cannot prepare the rootfs of ${this.id}: ${copied.stderr.trim()}`);
    }
    // the working directory must exist (containerd creates it too)
    const cwd = join(rootfs, this.config.cwd);
    if (!cwd.startsWith(rootfs)) throw new Error(`working directory ${this.config.cwd} leaves the rootfs`);
    try {
      mkdirSync(cwd, { recursive: true });
    } catch {
      // a symbolic link on the way, or a file: runc reports it
    }
    writeFileSync(join(bundle, 'config.json'), JSON.stringify(containerSpec(this.config), null, 1));
  }

  /** Starts the container; resolves once its process runs, or once it failed to start. */
  async start(): Promise<void> {
    const log = new CriLogWriter(this.logFile);
    const runcLog = join(this.config.bundle, 'runc.log.json');
    const child = spawn(RUNC, ['--root', this.runcRoot, '--log', runcLog, '--log-format', 'json', 'run', '--bundle', this.config.bundle, this.id], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.child = child;
    child.stdout?.on('data', (d: Buffer) => log.write('stdout', d));
    child.stderr?.on('data', (d: Buffer) => log.write('stderr', d));
    this.exitPromise = new Promise<ExitInfo>((resolve) => {
      let spawnError: string | undefined;
      child.on('error', (err) => (spawnError = `cannot run ${RUNC}: ${err.message}`));
      child.on('close', (code, signal) => {
        void (async () => {
          await log.close();
          const errors = await runcErrors(runcLog);
          const startError = spawnError ?? (errors.length > 0 ? errors.join('; ') : undefined);
          if (startError !== undefined) writeFileSync(this.logFile, ''); // what runc printed is not the container's output
          const exitCode = startError !== undefined ? 128 : code ?? 128 + (signal === 'SIGKILL' ? 9 : 15);
          this.exited = { exitCode, ...(startError !== undefined ? { startError } : {}), ...(this.startedAt ? { startedAt: this.startedAt } : {}), finishedAt: new Date() };
          resolve(this.exited);
        })();
      });
    });
    // running = runc created the container and removed its exec FIFO (the process was exec'd)
    const stateDir = join(this.runcRoot, this.id);
    for (;;) {
      if (this.exited || this.child.exitCode !== null) break;
      if (existsSync(join(stateDir, 'state.json')) && !existsSync(join(stateDir, 'exec.fifo'))) {
        this.startedAt = new Date();
        break;
      }
      await new Promise((r) => setTimeout(r, 3));
    }
    if (!this.startedAt) {
      await this.exitPromise;
      // a process that ran and exited before we looked: it started
      if (this.exited && this.exited.startError === undefined) {
        this.startedAt = this.exited.finishedAt;
        this.exited.startedAt = this.startedAt;
      }
    }
  }

  wait(): Promise<ExitInfo> {
    if (!this.exitPromise) throw new Error(`container ${this.id} was not started`);
    return this.exitPromise;
  }

  /** Sends a signal to the container's init process (`runc kill`). */
  async kill(signal: 'SIGTERM' | 'SIGKILL'): Promise<void> {
    if (!this.child || this.exited) return;
    const result = await run(RUNC, ['--root', this.runcRoot, 'kill', this.id, signal.slice(3)]);
    if (result.code !== 0 && !this.exited && this.child.exitCode === null) {
      // not created yet, or already gone: signal runc itself (it forwards signals to the container)
      this.child.kill(signal);
    }
  }

  /** Runs a process in the running container (`runc exec`: the container's env, cwd and user). */
  async exec(command: string[], io: { stdin?: Readable; stdout: Writable; stderr: Writable; signal?: AbortSignal }): Promise<number> {
    const tag = process.hrtime.bigint();
    const execLog = join(this.config.bundle, `exec-${tag}.json`);
    const pidFile = join(this.config.bundle, `exec-${tag}.pid`);
    const child = spawn(RUNC, ['--root', this.runcRoot, '--log', execLog, '--log-format', 'json', 'exec', '--pid-file', pidFile, this.id, ...command], {
      stdio: [io.stdin ? 'pipe' : 'ignore', 'pipe', 'pipe'],
    });
    let stderrText = '';
    if (io.stdin && child.stdin) {
      const stdin = child.stdin;
      stdin.on('error', () => undefined); // the process may exit without reading
      io.stdin.pipe(stdin);
    }
    child.stdout?.on('data', (d: Buffer) => io.stdout.write(d));
    child.stderr?.on('data', (d: Buffer) => {
      stderrText += d.toString();
      io.stderr.write(d);
    });
    // the client went away: kill the exec'd process (by its host pid; runc cannot forward SIGKILL).
    // On a loaded machine runc may not have written the pid file yet: wait for it (up to 10 s)
    // rather than fall back to a SIGTERM the process could outlive or trap.
    const onAbort = (tries = 200): void => {
      try {
        // a pid file being written may still be empty: pid 0 would signal our own process group
        const pid = Number(readFileSync(pidFile, 'utf8').trim());
        if (!Number.isInteger(pid) || pid <= 0) throw new Error('no pid yet');
        process.kill(pid, 'SIGKILL');
      } catch {
        if (tries > 0 && child.exitCode === null && child.signalCode === null) setTimeout(() => onAbort(tries - 1), 50);
        else child.kill('SIGTERM');
      }
    };
    if (io.signal?.aborted) onAbort();
    const abortListener = (): void => onAbort();
    if (!io.signal?.aborted) io.signal?.addEventListener('abort', abortListener, { once: true });
    const code = await new Promise<number>((resolve) => {
      child.on('error', () => resolve(126));
      child.on('close', (c, signal) => resolve(c ?? 128 + (signal === 'SIGKILL' ? 9 : 15)));
    });
    io.signal?.removeEventListener('abort', abortListener);
    if (io.stdin) io.stdin.unpipe(child.stdin ?? undefined);
    const errors = await runcErrors(execLog);
    rmSync(execLog, { force: true });
    rmSync(pidFile, { force: true });
    if (errors.length > 0) {
      if (!stderrText.includes('exec failed')) io.stderr.write(`OCI runtime exec failed: ${errors.join('; ')}\n`);
      return errors.some((e) => /not found|no such file/.test(e)) ? 127 : 126;
    }
    return code;
  }

  /** Unmounts and removes the bundle (after the container exited). */
  async cleanup(): Promise<void> {
    if (this.child && !this.exited) await this.wait();
    await run(RUNC, ['--root', this.runcRoot, 'delete', '--force', this.id]);
    if (this.overlay) {
      const rootfs = join(this.config.bundle, 'rootfs');
      let result = await run('umount', [rootfs]);
      if (result.code !== 0) result = await run('umount', ['-l', rootfs]);
      this.overlay = false;
    }
    rmSync(this.config.bundle, { recursive: true, force: true });
  }
}
