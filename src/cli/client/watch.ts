// Following a build's events (fly watch / trigger-job -w): logs to stdout, step errors to
// stderr, the final status; the exit code as fly computes it (§7.1): the exit status of the
// last finish-task, or if that is 0 and the build did not succeed, 1 failed / 2 errored / 3 aborted.
import type { CliIO } from '../io.ts';
import type { ApiClient } from './http.ts';

const TERMINAL: Record<string, number> = { succeeded: 0, failed: 1, errored: 2, aborted: 3 };

export async function watchBuild(client: ApiClient, buildId: number, io: CliIO): Promise<number> {
  let lastExit = 0;
  let status: string | undefined;
  let atLineStart = true;
  await client.streamEvents(buildId, (_id, e) => {
    const d = e.data;
    switch (e.event) {
      case 'log': {
        const text = String(d.payload ?? '');
        io.stdout(text);
        if (text.length > 0) atLineStart = text.endsWith('\n');
        break;
      }
      case 'error':
        io.stderr(`${atLineStart ? '' : '\n'}${String(d.message ?? '')}\n`);
        atLineStart = true;
        break;
      case 'finish-task':
        if (typeof d.exit_status === 'number') lastExit = d.exit_status;
        break;
      case 'status': {
        const s = String(d.status ?? '');
        if (s in TERMINAL) {
          status = s;
          return true;
        }
        break;
      }
    }
    return false;
  });
  if (!atLineStart) io.stdout('\n');
  if (status === undefined) {
    // the stream ended (event: end) without a terminal status event in what we saw: ask
    const build = await client.get<{ status: string }>(`/api/v1/builds/${buildId}`);
    status = build.status;
  }
  io.stdout(`${status}\n`);
  if (lastExit !== 0) return lastExit;
  return TERMINAL[status] ?? 1;
}
