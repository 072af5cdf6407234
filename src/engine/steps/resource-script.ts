// Runs one resource script (check, in, out) in a container per the resource protocol
// (docs/concourse-semantics.md §2): the request as JSON on stdin, the response as JSON on stdout, logs on
// stderr streamed as log events. A non-zero exit fails the step; unparsable stdout is an error.
import type { Container } from '../../runtime/runtime.ts';
import type { StepContext } from '../exec.ts';
import { logStream, type StepDeps } from './deps.ts';

export type ScriptOutcome<T> = { ok: true; exitStatus: 0; response: T } | { ok: false; exitStatus: number };

export class ResourceProtocolError extends Error {}

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
  // the script's logs, redacted across chunk boundaries (docs/security.md "Builds")
  const stderr = logStream(ctx, deps, planId, 'stderr');
  let exitStatus: number;
  try {
    ({ exitStatus } = await container.run(
      { ...spec, args: [...(spec.args ?? []), ...args] },
      { stdin: JSON.stringify(request), stdout: (c) => stdout.push(c), stderr: stderr.write },
      ctx.signal,
    ));
  } finally {
    stderr.end();
  }
  if (exitStatus !== 0) return { ok: false, exitStatus };
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
