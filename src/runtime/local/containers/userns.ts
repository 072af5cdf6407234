// The user and mount namespace a rootless web node's containers live in (issue 19;
// docs/local-containers.md, "Rootless"; the ids: src/runtime/local/rootless.ts). A user that is
// not root can neither mount an overlay on the host nor chown files to its subordinate ids; in a
// user namespace of its own it can (overlay mounts in a user namespace: Linux 5.11). So the web
// node keeps one such namespace for its lifetime, the "holder": `unshare` maps its uid to the
// namespace's root and its subordinate ids to 1..count (through newuidmap/newgidmap), with a
// private mount namespace, and waits on a pipe from the web node (the namespace goes when the web
// node does). Every mount, runc command and file operation on containers' files then runs in it
// through `nsenter` (the namespace's owner may enter it), where runc is root of a user namespace:
// it nests each container's own user namespace (the team's slice) and, lacking the host's cgroups,
// manages none.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** Where commands run: the host (a root web node) or the holder namespace. */
export interface CommandPlace {
  /** the command and arguments that run `command args` there */
  wrap(command: string, args: string[]): { command: string; args: string[] };
  /** the mountinfo of the place's mount namespace */
  mountinfo: string;
}

export const HOST: CommandPlace = {
  wrap: (command, args) => ({ command, args }),
  mountinfo: '/proc/self/mountinfo',
};

/** Runs a command in a place; rejects with its stderr. */
export async function runIn(place: CommandPlace, command: string, args: string[]): Promise<{ stdout: string; stderr: string }> {
  const w = place.wrap(command, args);
  return run(w.command, w.args, { maxBuffer: 16 << 20 });
}

export class HolderNamespace implements CommandPlace {
  private constructor(
    private readonly child: ChildProcess,
    readonly pid: number,
  ) {}

  /** Starts the holder (`unshare` with `mapArgs`); rejects with unshare's reason when it cannot. */
  static start(mapArgs: string[]): Promise<HolderNamespace> {
    return new Promise((resolve, reject) => {
      // `cat` holds the namespace until the web node's end of its stdin closes
      const child = spawn('unshare', [...mapArgs, '--mount', '--propagation', 'private', '--', 'sh', '-c', 'echo ready; exec cat >/dev/null'], {
        stdio: ['pipe', 'pipe', 'pipe'],
      });
      let stderr = '';
      let settled = false;
      child.stderr.on('data', (c: Buffer) => {
        if (stderr.length < 4096) stderr += c.toString();
      });
      child.stdout.on('data', (c: Buffer) => {
        if (settled || !c.toString().includes('ready')) return;
        settled = true;
        // the web node may exit with it running (it ends then, its stdin closed)
        child.stdout.destroy();
        child.stderr.destroy();
        (child.stdin as unknown as { unref?: () => void }).unref?.();
        child.unref();
        resolve(new HolderNamespace(child, child.pid as number));
      });
      child.on('error', (err) => {
        if (settled) return;
        settled = true;
        reject(new Error(`cannot make the rootless containers' user namespace: ${err.message}`));
      });
      child.on('exit', (code) => {
        if (settled) return;
        settled = true;
        reject(new Error(`cannot make the rootless containers' user namespace: unshare exited ${String(code)}: ${stderr.trim().split('\n').pop() ?? ''}`));
      });
    });
  }

  get mountinfo(): string {
    return `/proc/${this.pid}/mountinfo`;
  }

  wrap(command: string, args: string[]): { command: string; args: string[] } {
    // --user makes the command the namespace's root (uid and gid 0, no supplementary groups)
    return { command: 'nsenter', args: [`--target=${this.pid}`, '--user', '--mount', '--', command, ...args] };
  }

  /** Ends the namespace (its mounts go with it). */
  stop(): void {
    this.child.stdin?.end();
  }
}
