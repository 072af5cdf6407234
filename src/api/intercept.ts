// `jetway intercept` on the web node: `GET /api/v1/builds/:id/containers` (a build's containers a
// command can run in) and the WebSocket `GET /api/v1/builds/:id/intercept?step=&type=&command=`
// (`command` repeated: the argv; none: the runtime's shell), framed as intercept-protocol.ts says.
//
// The WebSocket is served by `ws` on the HTTP server's `upgrade` event (fastify's routes never
// see an upgrade): the bearer token of the upgrade request's Authorization header, the build,
// the team and the container are checked before the 101, so every refusal is a plain HTTP answer
// with the API's JSON error body (401, 403, 404, 400, 501) the client can show.
import { STATUS_CODES, type IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { PassThrough } from 'node:stream';
import type { FastifyInstance } from 'fastify';
import { WebSocketServer, WebSocket, type RawData } from 'ws';
import { getBuild } from '../db/builds.ts';
import { buildsWithContainers } from './queries.ts';
import type { InterceptableContainer, StepType } from '../runtime/runtime.ts';
import { errorText } from '../log.ts';
import { ApiError, badRequest, bodyOf, notFound } from './errors.ts';
import { hasNul, unsafeNameProblem } from './names.ts';
import { LineDiscipline, onlcr } from './hijack-tty.ts';
import { assertTeam, idParam, type ApiServerOptions } from './context.ts';
import type { Role } from './roles.ts';
import {
  CHANNEL,
  containerJson,
  ContainerChoiceError,
  decodeFrame,
  encodeFrame,
  noRuntimeContainersMessage,
  selectContainer,
  statusFrame,
} from './intercept-protocol.ts';
import type { FastifyRequest } from 'fastify';

const INTERCEPT_PATH = /^\/api\/v1\/builds\/([^/]+)\/intercept$/;
/** Concourse's hijack (atc/api/containerserver/hijack.go), what a stock `fly intercept` opens. */
const HIJACK_PATH = /^\/api\/v1\/teams\/([^/]+)\/containers\/([^/]+)\/hijack$/;

/**
 * The team's container of this handle (a running build's, or a failed step's kept one), after
 * the team check (a member, as Concourse's hijack): 404 when the team has none of that handle.
 */
async function teamContainer(opts: ApiServerOptions, req: Pick<FastifyRequest, 'user' | 'method' | 'url'>, team: string, handle: string): Promise<{ buildId: number; container: InterceptableContainer }> {
  assertTeam(req as FastifyRequest, team, 'member');
  const runtime = opts.runtime;
  if (!runtime?.interceptableContainers || !runtime.intercept) throw new ApiError('JW_INTERCEPT_UNSUPPORTED', `container ${handle} cannot be hijacked: ${runtime ? `the ${runtime.name} runtime keeps no containers` : 'this server runs no steps'}`);
  for (const build of await buildsWithContainers(opts.db, runtime, team)) {
    const found = (await runtime.interceptableContainers(build.id).catch(() => [])).find((c) => c.handle === handle);
    if (found) return { buildId: build.id, container: found };
  }
  throw notFound('JW_CONTAINER_NOT_FOUND', `container ${handle} in team ${team}`);
}

/**
 * The build's interceptable containers, after the build and team checks (501: the runtime keeps
 * none): listing them needs a viewer, running a command in one a member (as Concourse's hijack).
 */
async function containersOf(opts: ApiServerOptions, req: Pick<FastifyRequest, 'user' | 'method' | 'url'>, rawId: string, needed: Role): Promise<{ buildId: number; list: InterceptableContainer[] }> {
  const buildId = idParam(rawId, 'build id');
  const build = await getBuild(opts.db, buildId);
  if (!build) throw notFound('JW_BUILD_NOT_FOUND', `build ${buildId}`);
  assertTeam(req as FastifyRequest, build.teamName, needed);
  const runtime = opts.runtime;
  if (!runtime?.interceptableContainers || !runtime.intercept) throw new ApiError('JW_INTERCEPT_UNSUPPORTED', noRuntimeContainersMessage(buildId, runtime?.name));
  return { buildId, list: await runtime.interceptableContainers(buildId) };
}

export function registerInterceptRoutes(app: FastifyInstance, opts: ApiServerOptions): void {
  app.get<{ Params: { id: string } }>('/builds/:id/containers', async (req) => {
    const { list } = await containersOf(opts, req, req.params.id, 'viewer');
    return list.map(containerJson);
  });
  // the hijack route is a WebSocket (attachInterceptWebSocket serves its upgrade); a plain GET says so
  app.get('/teams/:team/containers/:id/hijack', async () => {
    throw badRequest('this is a WebSocket: open it with an upgrade (fly intercept, or any WebSocket client speaking atc.HijackProcessSpec)');
  });
}

/** Serves the intercept WebSocket on the fastify instance's HTTP server. */
export function attachInterceptWebSocket(app: FastifyInstance, opts: ApiServerOptions): void {
  const wss = new WebSocketServer({ noServer: true, maxPayload: 1024 * 1024 });
  const sessions = new Set<AbortController>();
  const logger = opts.logger.child({ component: 'intercept' });

  app.server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    socket.on('error', () => undefined);
    void upgrade(req, socket, head).catch((err: unknown) => {
      if (err instanceof ApiError) refuse(socket, err);
      else if (err instanceof ContainerChoiceError) refuse(socket, new ApiError(err.code, err.message));
      else {
        logger.warn({ err }, 'intercept refused');
        refuse(socket, new ApiError('JW_INTERNAL_ERROR', `intercept failed: ${errorText(err)}`));
      }
    });
  });
  app.addHook('onClose', async () => {
    for (const s of sessions) s.abort(new Error('the web node is stopping'));
    for (const client of wss.clients) client.terminate();
    await new Promise<void>((resolve) => wss.close(() => resolve()));
  });

  async function upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://jetway');
    const m = INTERCEPT_PATH.exec(url.pathname);
    const hijack = m ? undefined : HIJACK_PATH.exec(url.pathname);
    if (!m?.[1] && !(hijack?.[1] && hijack[2])) throw new ApiError('JW_ROUTE_NOT_FOUND', `no WebSocket route ${url.pathname}`);
    const header = req.headers.authorization;
    if (!header) throw new ApiError('JW_UNAUTHORIZED', 'not authorized: log in first (jetway login), then send "Authorization: Bearer <token>"');
    const token = /^bearer\s+(\S+)$/i.exec(header)?.[1];
    if (!token) throw new ApiError('JW_UNAUTHORIZED', 'not authorized: the Authorization header must be "Bearer <token>"');
    const user = await opts.auth.authenticate(opts.db, token, opts.lookups);
    if ('refused' in user) throw new ApiError('JW_UNAUTHORIZED', `not authorized: ${user.refused}`);
    if (hijack?.[1] && hijack[2]) {
      const team = pathName(hijack[1], 'team_name');
      const handle = pathName(hijack[2], 'id');
      const { buildId, container } = await teamContainer(opts, { user, method: 'GET', url: url.pathname }, team, handle);
      wss.handleUpgrade(req, socket, head, (ws) => {
        logger.info({ user: user.name, build: buildId, step: container.step, type: container.type, container: container.name }, 'hijack session');
        hijackSession(ws, container);
      });
      return;
    }
    if (!m?.[1]) return;
    // the same checks as the REST routes' parameters (server.ts checkPathParams, idParam), before the build is looked up
    const { id, step, type, handle, command } = interceptParams(m[1], url.searchParams);
    const { buildId, list } = await containersOf(opts, { user, method: 'GET', url: url.pathname }, id, 'member');
    const container = selectContainer(buildId, list, step, type, handle, opts.runtime?.name, opts.runtime?.failedContainerRetentionMs);
    wss.handleUpgrade(req, socket, head, (ws) => {
      // an audit line: who ran what program where; its arguments may carry a token the user typed
      logger.info({ user: user.name, build: buildId, step: container.step, type: container.type, container: container.name, program: command[0] ?? 'sh' }, 'intercept session');
      session(ws, container, command);
    });
  }

  /**
   * Concourse's hijack protocol (atc/hijack_payload.go): JSON text messages; the client's first is
   * the process (HijackProcessSpec: path, args), then its input (HijackInput: stdin as base64,
   * closed); the server sends HijackOutput (stdout/stderr as base64, then exit_status or error).
   * Run through the same runtime intercept as Jetway's own protocol.
   */
  function hijackSession(ws: WebSocket, container: InterceptableContainer): void {
    const runtime = opts.runtime;
    const stdin = new PassThrough();
    const controller = new AbortController();
    sessions.add(controller);
    const send = (out: Record<string, unknown>): void => {
      if (ws.readyState === WebSocket.OPEN) ws.send(JSON.stringify(out));
    };
    const end = (): void => {
      sessions.delete(controller);
      if (ws.readyState === WebSocket.OPEN) ws.close(1000);
    };
    let started = false;
    // the spec asked for a TTY (fly's stdout is a terminal, its stdin raw): cooked mode here (hijack-tty.ts)
    let tty: LineDiscipline | undefined;
    const output = (c: Buffer): string => (tty ? onlcr(c) : c).toString('base64');
    ws.on('message', (data: RawData) => {
      let message: Record<string, unknown>;
      try {
        message = JSON.parse(toBuffer(data).toString('utf8')) as Record<string, unknown>;
      } catch {
        send({ error: 'malformed message: not JSON' });
        end();
        return;
      }
      if (!started) {
        started = true;
        let command: string[];
        try {
          command = hijackCommand(message);
        } catch (err) {
          send({ error: errorText(err) });
          end();
          return;
        }
        if (typeof message.tty === 'object' && message.tty !== null) tty = new LineDiscipline();
        const intercept = runtime?.intercept?.bind(runtime);
        if (!intercept) {
          send({ error: 'the runtime cannot intercept' });
          end();
          return;
        }
        // fly's own shell (bash) missing: say so as Concourse does, and fly retries with sh
        const probe = shellProbe(command);
        const missing = probe ? probeMissing(intercept, container.handle, probe, controller.signal) : Promise.resolve(false);
        const run = missing.then(async (notFound) => {
          if (notFound) {
            send({ executable_not_found: true });
            send({ error: `exec: "${command[0]}": executable file not found in $PATH` });
            return;
          }
          const { exitStatus } = await intercept(container.handle, command, { stdin, stdout: (c) => send({ stdout: output(c) }), stderr: (c) => send({ stderr: output(c) }) }, controller.signal);
          send({ exit_status: exitStatus });
        });
        run.then(
          () => undefined,
          (err: unknown) => send({ error: errorText(err) }),
        ).finally(end);
        return;
      }
      if (typeof message.stdin === 'string' && !stdin.writableEnded) {
        const bytes = Buffer.from(message.stdin, 'base64');
        if (!tty) stdin.write(bytes);
        else {
          const typed = tty.input(bytes);
          if (typed.echo.length > 0) send({ stdout: typed.echo.toString('base64') });
          if (typed.toProcess.length > 0) stdin.write(typed.toProcess);
          if (typed.eof) stdin.end();
        }
      }
      if (message.closed === true) stdin.end();
    });
    ws.on('close', () => {
      stdin.end();
      controller.abort(new Error('the client closed the session'));
    });
    ws.on('error', () => undefined);
  }

  function session(ws: WebSocket, container: InterceptableContainer, command: string[]): void {
    const runtime = opts.runtime;
    const stdin = new PassThrough();
    const controller = new AbortController();
    sessions.add(controller);
    const send = (data: Buffer): void => {
      if (ws.readyState === WebSocket.OPEN) ws.send(data);
    };
    ws.on('message', (data: RawData) => {
      const frame = decodeFrame(toBuffer(data));
      if (!frame) return;
      if (frame.channel === CHANNEL.stdin) {
        if (!stdin.writableEnded) stdin.write(frame.payload);
      } else if (frame.channel === CHANNEL.close && frame.payload[0] === CHANNEL.stdin) {
        stdin.end();
      }
    });
    ws.on('close', () => {
      stdin.end();
      controller.abort(new Error('the client closed the session'));
    });
    ws.on('error', () => undefined);
    const run = runtime?.intercept
      ? runtime.intercept(container.handle, command, { stdin, stdout: (c) => send(encodeFrame(CHANNEL.stdout, c)), stderr: (c) => send(encodeFrame(CHANNEL.stderr, c)) }, controller.signal)
      : Promise.reject(new Error('the runtime cannot intercept'));
    run
      .then(
        ({ exitStatus }) => send(statusFrame({ exit_status: exitStatus })),
        (err: unknown) => send(statusFrame({ error: errorText(err) })),
      )
      .finally(() => {
        sessions.delete(controller);
        if (ws.readyState === WebSocket.OPEN) ws.close(1000);
      });
  }
}

const STEP_TYPES: ReadonlySet<string> = new Set<StepType>(['check', 'get', 'put', 'task']);

/** The most arguments, and bytes in all, an intercept command may have. */
export const MAX_INTERCEPT_ARGS = 1_000;
export const MAX_INTERCEPT_COMMAND_BYTES = 64 * 1024;

/**
 * The intercept WebSocket's parameters, checked as the REST routes check theirs: the build id a
 * number in range, `step` and `type` given at most once and safe as names (no `/`, `..` or
 * control characters), the command without NUL bytes and bounded. A 400 names the parameter.
 */
export function interceptParams(rawId: string, query: URLSearchParams): { id: string; step?: string; type?: string; handle?: string; command: string[] } {
  let id: string;
  try {
    id = decodeURIComponent(rawId);
  } catch {
    throw badRequest(`path parameter id: ${JSON.stringify(rawId)} is not a valid URL component`);
  }
  const idProblem = unsafeNameProblem(id);
  if (idProblem) throw badRequest(`path parameter id: ${JSON.stringify(id)} ${idProblem}`);
  idParam(id, 'build id');
  const single = (name: string): string | undefined => {
    const values = query.getAll(name);
    if (values.length > 1) throw badRequest(`query parameter ${name} is given ${values.length} times; give it once`);
    const value = values[0];
    if (value === undefined || value === '') return undefined;
    const problem = unsafeNameProblem(value);
    if (problem) throw badRequest(`query parameter ${name}: ${JSON.stringify(value)} ${problem}`);
    return value;
  };
  const step = single('step');
  const type = single('type');
  const handle = single('handle');
  if (type !== undefined && !STEP_TYPES.has(type)) throw badRequest(`query parameter type: ${JSON.stringify(type)} is not a step type (${[...STEP_TYPES].join(', ')})`);
  const command = query.getAll('command');
  if (command.length > MAX_INTERCEPT_ARGS) throw badRequest(`query parameter command: at most ${MAX_INTERCEPT_ARGS} arguments (got ${command.length})`);
  if (command.reduce((n, a) => n + Buffer.byteLength(a), 0) > MAX_INTERCEPT_COMMAND_BYTES) throw badRequest(`query parameter command: at most ${MAX_INTERCEPT_COMMAND_BYTES} bytes in all`);
  const nul = command.findIndex(hasNul);
  if (nul >= 0) throw badRequest(`query parameter command: argument ${nul + 1} contains a NUL byte`);
  return { id, ...(step !== undefined ? { step } : {}), ...(type !== undefined ? { type } : {}), ...(handle !== undefined ? { handle } : {}), command };
}

function toBuffer(data: RawData): Buffer {
  if (Buffer.isBuffer(data)) return data;
  if (Array.isArray(data)) return Buffer.concat(data);
  return Buffer.from(data);
}

/** Answers an upgrade request with an HTTP error and the API's JSON body, then closes. */
function refuse(socket: Duplex, err: ApiError): void {
  if (socket.destroyed) return;
  const status = err.statusCode;
  const body = JSON.stringify(bodyOf(err));
  socket.end(
    `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? 'Error'}\r\n` +
      'Connection: close\r\nContent-Type: application/json; charset=utf-8\r\n' +
      `Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
  );
}

/** A path segment of the hijack route, decoded and checked as the REST routes check names. */
function pathName(raw: string, what: string): string {
  let value: string;
  try {
    value = decodeURIComponent(raw);
  } catch {
    throw badRequest(`path parameter ${what}: ${JSON.stringify(raw)} is not a valid URL component`);
  }
  const problem = unsafeNameProblem(value);
  if (problem) throw badRequest(`path parameter ${what}: ${JSON.stringify(value)} ${problem}`);
  return value;
}

/**
 * The probe run before a hijack of fly's default shell: fly's `intercept` without a command sends
 * `bash` and, told executable_not_found (atc/api/containerserver/hijack.go), retries with `sh`
 * (fly/commands/hijack.go); Jetway's runtimes report a missing program only as the shell's exit
 * 127, so a busybox or alpine image would end the session instead. Only `bash` alone is probed:
 * it is what fly falls back from, and no busybox applet (the Kubernetes runtime runs applets a
 * container lacks), so "missing" cannot be wrong. The probe prints `found` or `missing`; any other
 * answer (no sh to run it) decides nothing and the command runs as asked.
 */
export function shellProbe(command: readonly string[]): string[] | undefined {
  if (command.length !== 1 || command[0] !== 'bash') return undefined;
  return ['sh', '-c', 'if command -v "$1" >/dev/null 2>&1; then echo found; else echo missing; fi', 'sh', 'bash'];
}

/** What a probe's stdout says: true only for exactly `missing`. */
export function probeSaysMissing(stdout: string): boolean {
  return stdout.trim() === 'missing';
}

async function probeMissing(
  intercept: NonNullable<NonNullable<ApiServerOptions['runtime']>['intercept']>,
  handle: string,
  probe: string[],
  signal: AbortSignal,
): Promise<boolean> {
  let out = '';
  const stdin = new PassThrough();
  stdin.end();
  try {
    const { exitStatus } = await intercept(handle, probe, { stdin, stdout: (c) => {
        if (out.length < 64) out += c.toString('utf8');
      }, stderr: () => undefined }, signal);
    return exitStatus === 0 && probeSaysMissing(out);
  } catch (err) {
    if (signal.aborted) throw err;
    // the probe could not run: the command runs as asked, and says itself what is wrong
    return false;
  }
}

/** A HijackProcessSpec's argv (path, then args), bounded and checked as an intercept command is. */
export function hijackCommand(spec: Record<string, unknown>): string[] {
  const path = spec.path;
  const args = spec.args ?? [];
  if (typeof path !== 'string' || path === '') throw new Error('the process spec has no path');
  if (!Array.isArray(args) || args.some((a) => typeof a !== 'string')) throw new Error('the process spec\'s args are not a list of strings');
  const command = [path, ...(args as string[])];
  if (command.length > MAX_INTERCEPT_ARGS) throw new Error(`the process spec has more than ${MAX_INTERCEPT_ARGS} arguments`);
  if (command.reduce((n, a) => n + Buffer.byteLength(a), 0) > MAX_INTERCEPT_COMMAND_BYTES) throw new Error(`the process spec's command is more than ${MAX_INTERCEPT_COMMAND_BYTES} bytes`);
  if (command.some(hasNul)) throw new Error('the process spec\'s command contains a NUL byte');
  return command;
}
