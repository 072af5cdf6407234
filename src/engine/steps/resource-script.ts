// Runs one resource script (check, in, out) in a container per the resource protocol
// (docs/concourse-semantics.md §2): the request as JSON on stdin, the response as JSON on stdout, logs on
// stderr streamed as log events. A non-zero exit fails the step; unparsable stdout is an error.
// On a runtime whose processes outlive the web node (Kubernetes), the script runs detached like a
// task's process, so a web node taking the build over re-attaches to it (docs/web-nodes.md,
// "Re-attaching builds"): resourceContainer finds its container again by the step's stable handle.
import type { Container, ContainerSpec } from '../../runtime/runtime.ts';
import type { StepContext } from '../exec.ts';
import { logStream, newHandle, offsetLogWriter, stableHandle, type StepDeps } from './deps.ts';

export type ScriptOutcome<T> = { ok: true; exitStatus: 0; response: T } | { ok: false; exitStatus: number };

export class ResourceProtocolError extends Error {}

/**
 * The most a resource script's result (its JSON on stdout) may hold, on every runtime: a runaway
 * script cannot fill the web node's memory (on Kubernetes the result is read from a file of the
 * pod once the script ended, and no more than this is read).
 */
export const MAX_RESULT_BYTES = 4 * 1024 * 1024;

export async function runResourceScript<T>(
  container: Container,
  script: 'check' | 'in' | 'out',
  request: unknown,
  ctx: StepContext,
  deps: StepDeps,
  planId: string,
  args: string[] = [],
): Promise<ScriptOutcome<T>> {
  const spec = container.resourceScript(script);
  const stdout: Buffer[] = [];
  let stdoutBytes = 0;
  // the script's logs, redacted across chunk boundaries (docs/security.md "Builds"); a re-attachable
  // script's lines come with their offsets, each saved once however often they are read again
  const stderr = logStream(ctx, deps, planId, 'stderr');
  const stderrAt = offsetLogWriter(ctx, deps, planId, 'stderr');
  let exitStatus: number;
  try {
    ({ exitStatus } = await container.run(
      { ...spec, args: [...(spec.args ?? []), ...args] },
      {
        stdin: JSON.stringify(request),
        stdout: (c) => {
          // past the bound nothing more is kept: the result is refused below
          if (stdoutBytes <= MAX_RESULT_BYTES) stdout.push(c);
          stdoutBytes += c.length;
        },
        stderr: (c, offset) => (offset !== undefined ? stderrAt(c, offset) : stderr.write(c)),
        result: { maxBytes: MAX_RESULT_BYTES },
      },
      ctx.signal,
    ));
  } finally {
    stderr.end();
  }
  if (exitStatus !== 0) return { ok: false, exitStatus };
  if (stdoutBytes > MAX_RESULT_BYTES) {
    throw new ResourceProtocolError(`resource script '${script}' printed a result of more than ${MAX_RESULT_BYTES / (1024 * 1024)} MiB, the most Jetway reads`);
  }
  const text = Buffer.concat(stdout).toString('utf8').trim();
  if (text === '') {
    if (script === 'check') return { ok: true, exitStatus: 0, response: [] as T };
    throw new ResourceProtocolError(`resource script '${script}' printed nothing; expected a JSON result`);
  }
  try {
    return { ok: true, exitStatus: 0, response: JSON.parse(text) as T };
  } catch {
    throw new ResourceProtocolError(`resource script '${script}' printed invalid JSON: ${deps.redactor.redact(text.slice(0, 200))}`);
  }
}

/**
 * The container of a get, put or check. On a runtime whose processes outlive the web node its
 * handle is the step's stable one (its build and journal key), so a web node taking the build over
 * finds it again: with `ctx.reattach` (journal.ts) the container a previous node made is returned
 * (its script running, finished, or not started yet), or undefined when it is gone.
 */
export async function resourceContainer(
  spec: Omit<ContainerSpec, 'handle' | 'reattachable'>,
  ctx: StepContext,
  deps: StepDeps,
  opts: { fresh?: boolean } = {},
): Promise<Container | undefined> {
  // An image's check and get (purpose 'image') run inside the step that needs the image, whose
  // key (and so stable handle) is that step's own container's: they get containers of their own
  // and, on takeover, are fetched again (an image fetch is idempotent).
  const image = ctx.purpose === 'image';
  const reattachable = deps.runtime.reattaches === true && ctx.stepKey !== undefined && !image;
  const full: ContainerSpec = {
    ...spec,
    // `fresh`: a check run again after its container was lost (a pod of the stable name may linger, ended)
    handle: reattachable && opts.fresh !== true ? stableHandle(deps.build.id, ctx.stepKey!) : newHandle(),
    ...(reattachable ? { reattachable: true } : {}),
  };
  if (ctx.reattach === true && opts.fresh !== true && !image) return reattachable ? deps.runtime.reattachContainer?.(full, ctx.signal) : undefined;
  await ctx.journaled; // the step's start recorded first
  return deps.runtime.createContainer(full, ctx.signal);
}

/**
 * The context a re-attached step fetches its image with: the image's sub-steps finished before
 * (the journal answers them, silently), and its `image-check`/`image-get` events were emitted by
 * the node that started the step, so they are not emitted twice.
 */
export function withoutImageEvents(ctx: StepContext): StepContext {
  return { ...ctx, emit: (event, key) => (event.event === 'image-check' || event.event === 'image-get' ? Promise.resolve() : ctx.emit(event, key)) };
}

/** The error of a step re-attached after its container was lost: never run a second time. */
export function containerGone(what: string): Error {
  return new Error(`${what} was running when the web node that ran this build stopped, and its container is gone: its result is unknown, so it is not run a second time`);
}
