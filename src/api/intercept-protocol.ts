// The wire format of `GET /api/v1/builds/:id/intercept` (a WebSocket) and the choice of a build's
// container, shared by the web node and the CLI. Pure: no I/O.
//
// Every WebSocket message is binary: one channel byte, then the payload (as Kubernetes' exec
// channel protocols):
//   0 stdin   client → server   bytes for the command's stdin
//   1 stdout  server → client   bytes the command wrote to stdout
//   2 stderr  server → client   bytes the command wrote to stderr
//   3 status  server → client   JSON, the last message: {"exit_status": n} or {"error": "..."}
// 255 close   client → server   payload [0]: the client's stdin ended (the command sees EOF)
// The server closes the socket (1000) after the status message.
import { formatDuration } from '../checker/policy.ts';
import type { InterceptableContainer } from '../runtime/runtime.ts';
import type { Container } from './wire.ts';

export const CHANNEL = { stdin: 0, stdout: 1, stderr: 2, status: 3, close: 255 } as const;

/** The end of a session: the command's exit status, or why there is none. */
export type InterceptStatus = { exit_status: number } | { error: string };

export function encodeFrame(channel: number, payload: Buffer | string = Buffer.alloc(0)): Buffer {
  const body = typeof payload === 'string' ? Buffer.from(payload, 'utf8') : payload;
  const out = Buffer.allocUnsafe(body.length + 1);
  out[0] = channel;
  body.copy(out, 1);
  return out;
}

/** A message's channel and payload (undefined for an empty message). */
export function decodeFrame(message: Buffer): { channel: number; payload: Buffer } | undefined {
  if (message.length === 0) return undefined;
  return { channel: message[0] ?? 0, payload: message.subarray(1) };
}

/** The message that closes the client's stdin. */
export const closeStdinFrame = (): Buffer => encodeFrame(CHANNEL.close, Buffer.from([CHANNEL.stdin]));

export const statusFrame = (status: InterceptStatus): Buffer => encodeFrame(CHANNEL.status, JSON.stringify(status));

/** A status payload; malformed JSON is an error status naming it. */
export function parseStatus(payload: Buffer): InterceptStatus {
  try {
    const v = JSON.parse(payload.toString('utf8')) as Record<string, unknown>;
    if (typeof v.exit_status === 'number' && Number.isInteger(v.exit_status)) return { exit_status: v.exit_status };
    if (typeof v.error === 'string') return { error: v.error };
  } catch {
    // below
  }
  return { error: `malformed status message: ${payload.toString('utf8').slice(0, 200)}` };
}

/** One container as `GET /api/v1/builds/:id/containers` lists it. */
export function containerJson(c: InterceptableContainer): Container {
  return {
    handle: c.handle,
    step: c.step,
    type: c.type,
    state: c.state,
    ...(c.purpose ? { purpose: c.purpose } : {}),
    name: c.name,
    work_dir: c.workDir,
    ...(c.createdAt ? { created_at: c.createdAt } : {}),
  };
}

/**
 * How long failed steps' containers are kept, named per runtime: Kubernetes keeps the pod for
 * --kubernetes-failed-pod-retention, the local containers runtime the container for
 * --local-failed-container-retention (its value when known; docs/local-containers.md).
 */
function kept(runtime: string | undefined, retentionMs: number | undefined): string {
  const setting =
    runtime === 'kubernetes'
      ? '--kubernetes-failed-pod-retention'
      : runtime === 'local'
        ? retentionMs !== undefined
          ? `${formatDuration(retentionMs)} (--local-failed-container-retention)`
          : '--local-failed-container-retention'
        : "the runtime's retention";
  return `steps that succeeded are deleted at once, failed ones kept for ${setting}`;
}

/** Why a runtime without containers cannot be intercepted. */
export function noRuntimeContainersMessage(buildId: number, runtime: string | undefined): string {
  if (runtime === 'local') {
    return `build ${buildId} has no containers to intercept: the local runtime keeps none (its steps are host processes, gone when they end); intercept needs jetway web --local-runtime containers or --runtime kubernetes`;
  }
  return `build ${buildId} has no containers to intercept: ${runtime ? `the ${runtime} runtime keeps none` : 'this server runs no steps'}`;
}

function noContainersMessage(buildId: number, runtime?: string, retentionMs?: number): string {
  return `build ${buildId} has no containers (running or kept after a failure): ${kept(runtime, retentionMs)}`;
}

function describe(c: Pick<InterceptableContainer, 'step' | 'type' | 'state' | 'purpose'>): string {
  return `${c.step} (${c.type}${c.purpose ? ', image' : ''}, ${c.state})`;
}

export class ContainerChoiceError extends Error {
  constructor(
    readonly statusCode: 400 | 404,
    message: string,
  ) {
    super(message);
  }

  /** The API's error code (src/api/errors.ts). */
  get code(): 'JW_CONTAINER_AMBIGUOUS' | 'JW_CONTAINER_NOT_FOUND' {
    return this.statusCode === 400 ? 'JW_CONTAINER_AMBIGUOUS' : 'JW_CONTAINER_NOT_FOUND';
  }
}

/**
 * The container of a build to intercept: the one of `step` (and `type`), else the only one.
 * Several of one step (attempts, a step's image check): a running one first, then the newest.
 */
export function selectContainer(
  buildId: number,
  list: readonly InterceptableContainer[],
  step?: string,
  type?: string,
  handle?: string,
  runtime?: string,
  /** how long the runtime keeps a failed step's container, when it says (Runtime.failedContainerRetentionMs) */
  retentionMs?: number,
): InterceptableContainer {
  if (list.length === 0) throw new ContainerChoiceError(404, noContainersMessage(buildId, runtime, retentionMs));
  // fly's hijack --handle: one container by its handle, among this build's only
  if (handle !== undefined && handle !== '') {
    const found = list.find((c) => c.handle === handle && (step === undefined || step === '' || c.step === step) && (type === undefined || type === '' || c.type === type));
    if (!found) throw new ContainerChoiceError(404, `build ${buildId} has no container ${handle} (running or kept after a failure): it has ${list.map(describe).join(', ')}`);
    return found;
  }
  if (step === undefined || step === '') {
    const steps = new Set(list.map((c) => `${c.step}\u0000${c.type}`));
    if (steps.size > 1) {
      throw new ContainerChoiceError(400, `build ${buildId} has several containers: ${list.map(describe).join(', ')}; choose one with step=<name>`);
    }
    return pick(list);
  }
  const matches = list.filter((c) => c.step === step && (type === undefined || type === '' || c.type === type));
  if (matches.length === 0) {
    const what = type ? `${type} step '${step}'` : `step '${step}'`;
    throw new ContainerChoiceError(404, `build ${buildId} has no container for ${what} (running or kept after a failure): ${kept(runtime, retentionMs)}; it has ${list.map(describe).join(', ')}`);
  }
  return pick(matches);
}

function pick(list: readonly InterceptableContainer[]): InterceptableContainer {
  const running = list.filter((c) => c.state === 'running');
  const pool = running.length > 0 ? running : list;
  return [...pool].sort((a, b) => (b.createdAt ?? '').localeCompare(a.createdAt ?? ''))[0]!;
}
