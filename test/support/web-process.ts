// Waiting for a `jetway web` child process to serve: one loop for every test that starts a real
// web node, generous enough for a loaded CI machine (starting Node, migrating, listening can take
// tens of seconds when the tests run several files at once), and failing with what went wrong.
import type { ChildProcess } from 'node:child_process';

export interface WaitForHealthOptions {
  /** the process serving `url`: its exit ends the wait at once */
  child?: ChildProcess;
  /** what the process printed, for the error message */
  output?: () => string;
  timeoutMs?: number;
}

/** Resolves once `GET {url}/api/v1/health` answers 2xx; throws when the child exits or time runs out. */
export async function waitForHealth(url: string, opts: WaitForHealthOptions = {}): Promise<void> {
  const timeoutMs = opts.timeoutMs ?? 90_000;
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await fetch(`${url}/api/v1/health`).then((r) => r.ok, () => false)) return;
    const said = opts.output ? `:\n${opts.output()}` : '';
    if (opts.child && opts.child.exitCode !== null) throw new Error(`jetway web exited with ${opts.child.exitCode} before serving ${url}${said}`);
    if (Date.now() > deadline) throw new Error(`jetway web did not answer ${url}/api/v1/health within ${timeoutMs / 1000} s${said}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
