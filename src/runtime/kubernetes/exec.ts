// One command through the exec API (client-node's Exec, WebSocket, v5.channel.k8s.io so stdin
// can be closed while stdout is still read): stdin, stdout and stderr apart, the exit code from
// the status channel. A refused connection (429, 5xx) is retried like any request.
import { PassThrough, Readable, Writable } from 'node:stream';
import { Exec, type V1Status } from '@kubernetes/client-node';
import type { KubeClient } from './client.ts';
import type { ExecCommand } from './pod-spec.ts';

/** Where output goes that may be large (an artifact's tar stream): it says when it is full. */
export interface OutputStream {
  write(chunk: Buffer): boolean;
  once(event: 'drain' | 'error' | 'close', listener: () => void): unknown;
  removeListener(event: 'drain' | 'error' | 'close', listener: () => void): unknown;
}

export interface ExecIO {
  /** a buffer, a stream (piped), or nothing (stdin closed at once) */
  stdin?: string | Buffer | Readable;
  /** a function (small output), or a stream: while a stream is full the connection is paused (backpressure) */
  stdout?: ((chunk: Buffer) => void) | OutputStream;
  stderr?: ((chunk: Buffer) => void) | OutputStream;
}

/** The part of the exec WebSocket that backpressure needs (ws pauses reading from the socket). */
interface Pausable {
  pause(): void;
  resume(): void;
}

export interface ExecHandle {
  /** the exit code (or rejects: the connection failed, the kubelet refused, or it was closed) */
  done: Promise<number>;
  /** closes the connection (the command goes on in the pod unless signalled) */
  close(): void;
}

/** An exec that ended without a status (the connection dropped, the container went away). */
export class ExecInterrupted extends Error {
  override name = 'ExecInterrupted';
}

/** The exit code of an exec's final status. */
export function exitCodeOf(status: V1Status): number {
  if (status.status === 'Success') return 0;
  if (status.reason === 'NonZeroExitCode') {
    const cause = status.details?.causes?.find((c) => c.reason === 'ExitCode');
    const code = Number(cause?.message);
    if (Number.isInteger(code)) return code;
  }
  throw new Error(`exec failed: ${status.message ?? status.reason ?? JSON.stringify(status)}`);
}

/**
 * The Writable client-node writes a channel into. client-node ignores write()'s return value, so
 * a full target stream pauses the WebSocket itself until the target drains; otherwise a large
 * output would pile up in memory faster than it is unpacked or written.
 */
export function outputSink(target: ExecIO['stdout'], connection: { socket?: Pausable }): Writable {
  let paused = false;
  return new Writable({
    write(chunk: Buffer, _encoding, callback) {
      try {
        if (typeof target === 'function') target(Buffer.from(chunk));
        else if (target && !target.write(Buffer.from(chunk)) && !paused && connection.socket) {
          const socket = connection.socket;
          paused = true;
          socket.pause();
          // a target that failed or closed never drains: the exec must still end
          const events = ['drain', 'error', 'close'] as const;
          const resume = (): void => {
            for (const event of events) target.removeListener(event, resume);
            paused = false;
            socket.resume();
          };
          for (const event of events) target.once(event, resume);
        }
        callback();
      } catch (err) {
        callback(err instanceof Error ? err : new Error(String(err)));
      }
    },
  });
}

/** Starts `cmd` in the pod; the connection is retried on 429/5xx before it opens. */
export async function startExec(client: KubeClient, pod: string, cmd: ExecCommand, io: ExecIO, signal?: AbortSignal): Promise<ExecHandle> {
  const exec = new Exec(client.kc);
  let resolveStatus!: (status: V1Status) => void;
  const statusPromise = new Promise<V1Status>((resolve) => (resolveStatus = resolve));
  const connection: { socket?: Pausable } = {};
  const stdout = outputSink(io.stdout, connection);
  const stderr = outputSink(io.stderr, connection);
  // The stdin stream is created per attempt: a failed attempt must not consume it.
  const ws = await client.call(
    { verb: 'create', resource: 'pods/exec' },
    async () => {
      const stdin = new PassThrough();
      const socket = await exec.exec(client.namespace, pod, cmd.container, cmd.command, stdout, stderr, stdin, false, (s) => resolveStatus(s));
      connection.socket = socket;
      return { socket, stdin };
    },
    signal,
  );
  const { socket, stdin } = ws;
  const input = io.stdin;
  if (input instanceof Readable) {
    input.on('error', () => stdin.end());
    input.pipe(stdin);
  } else {
    stdin.end(input ?? '');
  }
  const done = new Promise<number>((resolve, reject) => {
    let settled = false;
    void statusPromise.then((status) => {
      if (settled) return;
      settled = true;
      try {
        resolve(exitCodeOf(status));
      } catch (err) {
        reject(err instanceof Error ? err : new Error(String(err)));
      }
    });
    socket.on('close', () => {
      // the status message arrives before the close; give its handler a turn
      setImmediate(() => {
        if (settled) return;
        settled = true;
        reject(new ExecInterrupted(`the exec in pod ${pod} (container ${cmd.container}) ended without an exit status`));
      });
    });
    socket.on('error', (err: unknown) => {
      if (settled) return;
      settled = true;
      reject(new ExecInterrupted(`the exec in pod ${pod} failed: ${err instanceof Error ? err.message : String(err)}`));
    });
  });
  return {
    done,
    close: () => {
      try {
        socket.close();
      } catch {
        // already closed
      }
    },
  };
}

/** Runs a command to completion; resolves with the exit code and the collected stdout/stderr (small commands). */
export async function execCollect(client: KubeClient, pod: string, cmd: ExecCommand, stdin?: string | Buffer | Readable, signal?: AbortSignal): Promise<{ exitCode: number; stdout: string; stderr: string }> {
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  const handle = await startExec(client, pod, cmd, { ...(stdin !== undefined ? { stdin } : {}), stdout: (c) => out.push(c), stderr: (c) => err.push(c) }, signal);
  const exitCode = await handle.done;
  return { exitCode, stdout: Buffer.concat(out).toString('utf8'), stderr: Buffer.concat(err).toString('utf8') };
}
