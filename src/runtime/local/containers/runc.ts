// Running OCI bundles with runc: on the host (the web node is root) or, for a rootless web node,
// as root of its holder user namespace (userns.ts), where runc nests each container's own. `runc run` stays in the
// foreground, so its stdin/stdout/stderr are the container process's and its exit status is the
// process's (128 + n when a signal ended it); runc's own errors go to a JSON log (`--log`), which
// tells a container that could not start (no such executable, a limit the kernel refused) from a
// process that exited 1.
import { execFile, spawn } from 'node:child_process';
import { access, constants, mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { promisify } from 'node:util';
import { containersMode, holderMapArgs, subordinateIds, type ContainersMode, type HostFacts } from '../rootless.ts';
import { HOST, HolderNamespace, runIn, type CommandPlace } from './userns.ts';

const execFileAsync = promisify(execFile);

export const DEFAULT_RUNC = '/usr/sbin/runc';

/** A container that never ran its process: runc's reason, as one line. */
export class ContainerStartError extends Error {
  override name = 'ContainerStartError';
}

export interface RuncIO {
  stdin?: string | Buffer | Readable;
  stdout(chunk: Buffer): void;
  stderr(chunk: Buffer): void;
}

export class Runc {
  constructor(
    /** the runc binary */
    readonly binary: string,
    /** runc's state directory (`--root`): every container of this runtime, for listing and clean-up */
    readonly stateDir: string,
    /** where runc runs (the host, or a rootless web node's holder namespace) */
    readonly place: CommandPlace = HOST,
  ) {}

  /** The command and arguments that run runc with `args` in its place. */
  private command(args: string[]): { command: string; args: string[] } {
    return this.place.wrap(this.binary, ['--root', this.stateDir, ...args]);
  }

  /**
   * Runs the bundle's process to its end as container `id`. `onStarted` is called once runc has
   * started it. Resolves with its exit status; rejects with ContainerStartError when it never ran.
   */
  run(id: string, bundle: string, io: RuncIO, signal: AbortSignal, killGraceMs: number, onStarted?: () => void): Promise<number> {
    const log = join(bundle, `runc-${id}.log`);
    return new Promise((resolve, reject) => {
      if (signal.aborted) {
        reject(signal.reason);
        return;
      }
      // --no-new-keyring: a session keyring per container is charged to the container's host uid
      // (a team's, docs/local-containers.md), whose kernel quota (200 keys) a team's burst of
      // checks or tasks exhausted ("disk quota exceeded"); the seccomp filter refuses keyctl anyway
      const cmd = this.command(['--log', log, '--log-format', 'json', 'run', '--no-new-keyring', '--bundle', bundle, id]);
      const child = spawn(cmd.command, cmd.args, {
        stdio: ['pipe', 'pipe', 'pipe'],
        // runc forwards the signals it gets to the container; it is not in the web node's group
        detached: true,
      });
      let killTimer: NodeJS.Timeout | undefined;
      let started = false;
      const markStarted = (): void => {
        if (started) return;
        started = true;
        onStarted?.();
      };
      const cancel = (): void => {
        void this.kill(id, 'TERM');
        killTimer = setTimeout(() => void this.kill(id, 'KILL'), killGraceMs);
      };
      signal.addEventListener('abort', cancel, { once: true });
      child.stdout.on('data', (chunk: Buffer) => io.stdout(chunk));
      if (onStarted) void this.waitStarted(id, () => child.exitCode !== null || child.signalCode !== null).then((ok) => ok && markStarted());
      child.stderr.on('data', (chunk: Buffer) => io.stderr(chunk));
      child.stdin.on('error', () => undefined); // a process may exit without reading its stdin
      if (io.stdin === undefined || typeof io.stdin === 'string' || Buffer.isBuffer(io.stdin)) child.stdin.end(io.stdin ?? '');
      else io.stdin.pipe(child.stdin);
      let spawnError: Error | undefined;
      child.on('error', (err) => (spawnError = err));
      child.on('close', (code, sig) => {
        signal.removeEventListener('abort', cancel);
        if (killTimer) clearTimeout(killTimer);
        void (async () => {
          const errors = await runcErrors(log);
          await rm(log, { force: true });
          if (spawnError) return reject(new ContainerStartError(`cannot run ${this.binary}: ${spawnError.message}`));
          if (signal.aborted) return reject(signal.reason);
          if (errors.length > 0) return reject(new ContainerStartError(startReason(errors)));
          resolve(code ?? 128 + (sig === 'SIGKILL' ? 9 : 15));
        })();
      });
    });
  }

  /** Polls runc's state until the container's process was exec'd (its exec FIFO gone); false when it ended first. */
  private async waitStarted(id: string, ended: () => boolean): Promise<boolean> {
    const dir = join(this.stateDir, id);
    for (;;) {
      if (ended()) return false;
      if (existsSync(join(dir, 'state.json')) && !existsSync(join(dir, 'exec.fifo'))) return true;
      await new Promise((r) => setTimeout(r, 2));
    }
  }

  /** Runs a command in a running container (its env, user and cwd unless given); resolves with its exit status. */
  exec(id: string, args: string[], cwd: string | undefined, io: RuncIO, signal: AbortSignal): Promise<number> {
    return new Promise((resolve, reject) => {
      const cmd = this.command(['exec', ...(cwd ? ['--cwd', cwd] : []), id, ...args]);
      const child = spawn(cmd.command, cmd.args, { stdio: ['pipe', 'pipe', 'pipe'] });
      let stderr = '';
      child.stdout.on('data', (c: Buffer) => io.stdout(c));
      child.stderr.on('data', (c: Buffer) => {
        if (stderr.length < 4096) stderr += c.toString();
        io.stderr(c);
      });
      child.stdin.on('error', () => undefined);
      if (io.stdin === undefined || typeof io.stdin === 'string' || Buffer.isBuffer(io.stdin)) child.stdin.end(io.stdin ?? '');
      else io.stdin.pipe(child.stdin);
      // the session ended (the client left): its command goes too
      const onAbort = (): void => void child.kill('SIGKILL');
      signal.addEventListener('abort', onAbort, { once: true });
      child.on('error', (err) => reject(new ContainerStartError(`cannot run ${this.binary}: ${err.message}`)));
      child.on('close', (code, sig) => {
        signal.removeEventListener('abort', onAbort);
        resolve(code ?? 128 + (sig === 'SIGKILL' ? 9 : 15));
      });
    });
  }

  async kill(id: string, sig: 'TERM' | 'KILL'): Promise<void> {
    const all = this.command(['kill', '--all', id, sig]);
    // without cgroups (rootless) runc cannot find every process: its init's end ends its PID namespace
    await execFileAsync(all.command, all.args).catch(async () => {
      const one = this.command(['kill', id, sig]);
      await execFileAsync(one.command, one.args).catch(() => undefined);
    });
  }

  /** Removes a container (killing what runs in it); fine when it is gone already. */
  async delete(id: string): Promise<void> {
    const cmd = this.command(['delete', '--force', id]);
    await execFileAsync(cmd.command, cmd.args).catch(() => undefined);
  }

  /** The ids of the containers runc knows (running or stopped). */
  async list(): Promise<{ id: string; status: string; bundle: string }[]> {
    try {
      const cmd = this.command(['list', '--format', 'json']);
      const { stdout } = await execFileAsync(cmd.command, cmd.args);
      const parsed = JSON.parse(stdout.trim() || '[]') as { id: string; status: string; bundle: string }[] | null;
      return parsed ?? [];
    } catch {
      return [];
    }
  }
}

/** The error messages of runc's JSON log (`--log --log-format json`); none when it has no log. */
export async function runcErrors(log: string): Promise<string[]> {
  let text: string;
  try {
    text = await readFile(log, 'utf8');
  } catch {
    return [];
  }
  const out: string[] = [];
  for (const line of text.split('\n')) {
    if (!line.trim()) continue;
    try {
      const entry = JSON.parse(line) as { level?: string; msg?: string };
      if ((entry.level === 'error' || entry.level === 'fatal') && entry.msg) out.push(entry.msg);
    } catch {
      // not JSON
    }
  }
  return out;
}

/**
 * runc's error as a user reads it: "runc run failed: unable to start container process: exec:
 * "x": executable file not found in $PATH" becomes the part after the last "container process: ".
 */
export function startReason(errors: string[]): string {
  const last = errors[errors.length - 1] ?? 'the container did not start';
  const msg = last.replace(/^runc (run|create) failed: /, '');
  const proc = msg.indexOf('unable to start container process: ');
  return proc >= 0 ? msg.slice(proc + 'unable to start container process: '.length) : msg;
}

/** Which containers this host runs (probed once at start-up): rootful, rootless, or why none. */
export async function probeContainers(binary: string): Promise<ContainersMode> {
  const uid = process.getuid?.() ?? -1;
  const user = userName(uid);
  const facts: HostFacts = {
    platform: process.platform,
    uid,
    user,
    runcPath: binary,
    runc: await access(binary, constants.X_OK).then(
      () => true,
      () => false,
    ),
    newuidmap: await onPath('newuidmap'),
    newgidmap: await onPath('newgidmap'),
  };
  if (uid !== 0 && process.platform === 'linux') {
    const sub = await readFile('/etc/subuid', 'utf8').catch(() => '');
    const subg = await readFile('/etc/subgid', 'utf8').catch(() => '');
    const subuid = subordinateIds(sub, user, uid);
    const subgid = subordinateIds(subg, user, uid);
    if (subuid) facts.subuid = subuid;
    if (subgid) facts.subgid = subgid;
  }
  const mode = containersMode(facts);
  if (mode.mode === 'unusable') return mode;
  try {
    await execFileAsync(binary, ['--version']);
  } catch (err) {
    return { mode: 'unusable', reason: `${binary} --version failed: ${err instanceof Error ? err.message : String(err)}` };
  }
  const unusable = mode.mode === 'rootful' ? await overlayUnusable(HOST) : await rootlessUnusable(mode);
  return unusable === undefined ? mode : { mode: 'unusable', reason: unusable };
}

/** Why containers cannot run here, or undefined when they can (rootful or rootless). */
export async function containersUnusable(binary: string): Promise<string | undefined> {
  const mode = await probeContainers(binary);
  return mode.mode === 'unusable' ? mode.reason : undefined;
}

/** Whether an overlay mounts in `place` (why not, or undefined). */
async function overlayUnusable(place: CommandPlace): Promise<string | undefined> {
  const dir = await mkdtemp(join(tmpdir(), 'jetway-overlay-probe-'));
  try {
    for (const d of ['l', 'u', 'w', 'm']) await mkdir(join(dir, d));
    await runIn(place, 'mount', ['-t', 'overlay', 'overlay', '-o', `lowerdir=${join(dir, 'l')},upperdir=${join(dir, 'u')},workdir=${join(dir, 'w')}${place === HOST ? '' : ',userxattr'}`, join(dir, 'm')]);
    await runIn(place, 'umount', [join(dir, 'm')]);
  } catch (err) {
    const e = err as { stderr?: string; message?: string };
    return `overlay mounts fail here (${(e.stderr ?? e.message ?? '').trim()})`;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
  return undefined;
}

/** Whether the rootless holder namespace can be made and mount an overlay (Linux 5.11). */
async function rootlessUnusable(mode: Extract<ContainersMode, { mode: 'rootless' }>): Promise<string | undefined> {
  let holder: HolderNamespace;
  try {
    holder = await HolderNamespace.start(holderMapArgs(mode));
  } catch (err) {
    return `the web node is not root and cannot make a user namespace with its subordinate ids (${err instanceof Error ? err.message : String(err)})`;
  }
  try {
    const why = await overlayUnusable(holder);
    return why === undefined ? undefined : `the web node is not root and ${why.replace(/^overlay mounts fail here/, 'overlay mounts fail in its user namespace (Linux 5.11 or later allows them)')}`;
  } finally {
    holder.stop();
  }
}

async function onPath(command: string): Promise<boolean> {
  for (const dir of (process.env.PATH ?? '/usr/local/bin:/usr/bin:/bin').split(':')) {
    if (dir === '') continue;
    try {
      await access(join(dir, command), constants.X_OK);
      return true;
    } catch {
      // not here
    }
  }
  return false;
}

/** The web node's user name (for /etc/subuid and messages), or its uid when it has none. */
function userName(uid: number): string {
  try {
    return userInfo().username;
  } catch {
    return String(uid);
  }
}
