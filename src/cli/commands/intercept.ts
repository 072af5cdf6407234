// `jetway intercept` (fly intercept / hijack): runs a command (default: a shell) in a build's step
// container, running or kept after a failure: -b <id>, or -j <pipeline/job> for the job's current
// (else latest) build; -s picks the step when the build has several containers. Stdin, stdout and
// stderr are streamed over the API's WebSocket (src/api/intercept-protocol.ts); the exit status is
// the command's.
import type { Command } from 'commander';
import WebSocket from 'ws';
import { CliExit, usageError, type CliIO } from '../io.ts';
import { addTargetOption, connect, enc, formatTable, pipelinePath, run, splitFlag } from '../client/common.ts';
import { ApiRequestError, serverMessage, type ApiClient } from '../client/http.ts';
import {
  CHANNEL,
  closeStdinFrame,
  decodeFrame,
  encodeFrame,
  parseStatus,
  type InterceptStatus,
} from '../../api/intercept-protocol.ts';
import type { Build, Container, Job, TeamContainer } from '../../api/wire.ts';
import { refString } from '../client/pipeline-ref.ts';

interface InterceptOptions {
  target?: string;
  build?: string;
  job?: string;
  step?: string;
  stepType?: string;
  handle?: string;
}

const HELP = `
The command runs in the step's work dir, through the busybox Jetway puts in every step pod, so
images without a shell work (a command the image lacks that busybox has, like cat or ls, runs as
busybox's). Without a command: busybox sh.

No terminal in this version: the command's side has no pseudo-terminal (no prompt, no job
control, full-screen programs do not work), and your terminal stays in line mode (typing is
echoed and edited locally and sent line by line; Ctrl-D ends the command's stdin; Ctrl-C ends the
session without signalling the command: a shell ends with its stdin, a command that does not read
it runs on until it ends or its pod goes).

Containers exist while their step runs, and after a failure for --kubernetes-failed-pod-retention
(1h by default) on Kubernetes, for 1h with local containers (--local-runtime containers); steps
that succeeded are deleted at once. The local runtime's host processes keep none.

Examples:
  jetway intercept -t ci -b 42 -s unit
  jetway intercept -t ci -j main/unit -s unit -- cat output/report.txt
  echo 'ls -la' | jetway intercept -t ci -b 42 -s unit`;

export function registerIntercept(program: Command, io: CliIO): void {
  addTargetOption(program.command('intercept'))
    .alias('hijack')
    .description("Run a command (default: a shell) in a build's step container")
    .argument('[command...]', 'the command and its arguments, after --')
    .option('-b, --build <id>', 'build id (or, with -j, the build name)')
    .option('-j, --job <pipeline/job>', "the job's running build, else its latest finished one")
    .option('-s, --step <name>', 'the step (needed when the build has several containers)')
    .option('--step-type <type>', 'the step type (task, get, put, check) when names repeat')
    // fly's hijack --handle: a container of `jetway containers`, its build found from it
    .option('--handle <handle>', 'the container (a handle from jetway containers), instead of -b/-j')
    .addHelpText('after', HELP)
    .action(async (command: string[], opts: InterceptOptions) => {
      if (!opts.build && !opts.job && !opts.handle) throw usageError('error: give -b <build id>, -j <pipeline/job> or --handle <handle>');
      const { client, team } = connect(opts);
      let code = 0;
      await run(async () => {
        if (opts.handle) {
          const c = await client.get<TeamContainer>(`/api/v1/teams/${enc(team)}/containers/${enc(opts.handle)}`);
          if (c.build_id === undefined) throw new CliExit(1, `error: container ${opts.handle} belongs to no build`);
          code = await interceptSession(client, c.build_id, { handle: opts.handle, command }, io);
          return;
        }
        const id = await buildId(client, team, opts);
        let step = opts.step;
        let type = opts.stepType;
        if (!step) {
          const list = await client.get<Container[]>(`/api/v1/builds/${id}/containers`);
          const distinct = new Set(list.map((c) => `${c.step}\u0000${c.type}`));
          if (distinct.size > 1) {
            io.stdout(formatTable(['step', 'type', 'state', 'container'], list.map((c) => [c.step, c.type + (c.purpose ? ' (image)' : ''), c.state, c.name])));
            throw new CliExit(1, `error: build ${id} has several containers: choose one with -s STEP (and --step-type TYPE when names repeat)`);
          }
          // none: the session is refused by the server, whose message names its runtime's
          // retention setting (src/api/intercept-protocol.ts selectContainer); the CLI cannot know it
          if (list.length > 0) {
            step = list[0]!.step;
            type ??= list[0]!.type;
          }
        }
        if (io.stdin?.isTTY && command.length === 0) {
          io.stderr('(no terminal in the container: no prompt; type commands, Ctrl-D to end)\n');
        }
        code = await interceptSession(client, id, { step, ...(type ? { type } : {}), command }, io);
      });
      if (code !== 0) throw new CliExit(code);
    });
}

async function buildId(client: ApiClient, team: string, opts: InterceptOptions): Promise<number> {
  if (opts.job) {
    const [pipeline, job] = splitFlag(opts.job, '-j, --job', 'job');
    const base = (rest = ''): string => pipelinePath(team, pipeline, `/jobs/${enc(job)}${rest}`);
    if (opts.build) return (await client.get<Build>(base(`/builds/${enc(opts.build)}`))).id;
    const j = await client.get<Job>(base());
    const b = j.next_build ?? j.finished_build;
    if (!b) throw new CliExit(1, `error: job ${refString(pipeline)}/${job} has no builds`);
    return b.id;
  }
  if (!/^\d+$/.test(opts.build ?? '')) throw usageError(`error: -b must be a build id unless -j is given (got '${opts.build}')`);
  return Number(opts.build);
}

/** The intercept WebSocket's URL (http → ws, https → wss). */
export function interceptUrl(baseUrl: string, buildId: number, q: { step?: string; type?: string; handle?: string; command: string[] }): string {
  const url = new URL(`${baseUrl.replace(/\/+$/, '')}/api/v1/builds/${buildId}/intercept`);
  url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
  if (q.step) url.searchParams.set('step', q.step);
  if (q.type) url.searchParams.set('type', q.type);
  if (q.handle) url.searchParams.set('handle', q.handle);
  for (const arg of q.command) url.searchParams.append('command', arg);
  return url.toString();
}

/** One session: stdin relayed, stdout/stderr written, resolves with the command's exit status. */
function interceptSession(client: ApiClient, buildId: number, q: { step?: string; type?: string; handle?: string; command: string[] }, io: CliIO): Promise<number> {
  const out = io.stdoutBytes ?? ((c: Buffer) => io.stdout(c.toString('utf8')));
  const err = io.stderrBytes ?? ((c: Buffer) => io.stderr(c.toString('utf8')));
  const input = io.stdin;
  return new Promise<number>((resolve, reject) => {
    const ws = new WebSocket(interceptUrl(client.baseUrl, buildId, q), { headers: client.token ? { authorization: `Bearer ${client.token}` } : {} });
    let status: InterceptStatus | undefined;
    let settled = false;
    const onData = (chunk: Buffer | string): void => {
      if (ws.readyState !== WebSocket.OPEN) return;
      ws.send(encodeFrame(CHANNEL.stdin, Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk)), () => {
        if (ws.bufferedAmount < 256 * 1024) input?.resume();
      });
      if (ws.bufferedAmount >= 1024 * 1024) input?.pause(); // the server is slower than stdin
    };
    const onEnd = (): void => {
      if (ws.readyState === WebSocket.OPEN) ws.send(closeStdinFrame());
    };
    const cleanup = (): void => {
      input?.removeListener('data', onData);
      input?.removeListener('end', onEnd);
      input?.pause();
    };
    const finish = (fn: () => void): void => {
      if (settled) return;
      settled = true;
      cleanup();
      fn();
    };
    ws.on('open', () => {
      if (!input) {
        ws.send(closeStdinFrame());
        return;
      }
      input.on('data', onData);
      input.once('end', onEnd);
      input.resume();
    });
    ws.on('message', (data: WebSocket.RawData) => {
      const buf = Buffer.isBuffer(data) ? data : Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data);
      const frame = decodeFrame(buf);
      if (!frame) return;
      if (frame.channel === CHANNEL.stdout) out(frame.payload);
      else if (frame.channel === CHANNEL.stderr) err(frame.payload);
      else if (frame.channel === CHANNEL.status) status = parseStatus(frame.payload);
    });
    ws.on('close', () => {
      finish(() => {
        if (!status) reject(new CliExit(1, 'error: the intercept session ended without an exit status (the connection closed)'));
        else if ('error' in status) reject(new CliExit(1, `error: ${status.error}`));
        else resolve(status.exit_status);
      });
    });
    ws.on('unexpected-response', (_req, res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => {
        finish(() => {
          let message = serverMessage(body);
          if (res.statusCode === 401 && client.targetName) message += `\n(log in again: jetway login -t ${client.targetName})`;
          reject(new ApiRequestError(res.statusCode ?? 0, message));
        });
        ws.terminate();
      });
    });
    ws.on('error', (e: Error) => {
      finish(() => reject(new CliExit(1, `error: could not reach the Jetway server at ${client.baseUrl}: ${(e as NodeJS.ErrnoException).code ?? e.message}`)));
    });
  });
}
