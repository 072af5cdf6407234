// The pending reasons the API gives (Build.pending_reason, Job.pending_reason) with the command
// that lifts a pause, as fly users would type it.
import type { ApiClient } from './http.ts';
import type { Build } from '../../api/wire.ts';

/** Appends `(unpause it: jetway unpause-… )` to the pause reasons of the pipeline and job. */
export function withUnpauseHints(reason: string, target: string, pipeline: string, job?: string): string {
  const t = target ? ` -t ${target}` : '';
  let out = reason.replace(`the pipeline ${pipeline} is paused`, (m) => `${m} (unpause it: jetway unpause-pipeline${t} -p ${pipeline})`);
  if (job !== undefined) out = out.replace(`the job ${pipeline}/${job} is paused`, (m) => `${m} (unpause it: jetway unpause-job${t} -j ${pipeline}/${job})`);
  return out;
}

/** A pause or an archive: said at once (a wait for a check or the scheduler is said only if it lasts). */
export const heldByPause = (reason: string | undefined): boolean => reason !== undefined && /^the (pipeline|job) \S+ is (paused|archived)/.test(reason);

/**
 * While `until` is unsettled, asks every `everyMs` why the build is still pending and calls `say`
 * with each reason not said before (not `alreadySaid`): a check that runs and fails again flips the
 * reason back and forth, said once each. Errors are ignored: the event stream reports the build.
 */
export async function reportPending(
  client: ApiClient,
  buildId: number,
  until: Promise<unknown>,
  say: (reason: string) => void,
  opts: { everyMs?: number; alreadySaid?: string } = {},
): Promise<void> {
  let done = false;
  // settled either way (a rejection is the caller's to handle, not this loop's)
  const wake = until.then(
    () => undefined,
    () => undefined,
  );
  void wake.then(() => {
    done = true;
  });
  const said = new Set(opts.alreadySaid !== undefined ? [opts.alreadySaid] : []);
  let timer: NodeJS.Timeout | undefined;
  while (!done) {
    await Promise.race([wake, new Promise<void>((resolve) => (timer = setTimeout(resolve, opts.everyMs ?? 5000)))]);
    clearTimeout(timer);
    if (done) break;
    const build = await client.get<Build>(`/api/v1/builds/${buildId}`).catch(() => undefined);
    if (done || !build) continue;
    if (build.status !== 'pending') break;
    if (build.pending_reason && !said.has(build.pending_reason)) {
      said.add(build.pending_reason);
      say(build.pending_reason);
    }
  }
}
