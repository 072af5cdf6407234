// `jetway builds`: recent builds (of the team, a pipeline, or a job).
import type { Command } from 'commander';
import { usageError, type CliIO } from '../io.ts';
import {
  addOutputOptions,
  addTargetOption,
  connect,
  enc,
  flyBuildTime,
  formatTable,
  goDuration,
  pipelinePath,
  printJson,
  run,
  splitFlag,
  wantsJson,
} from '../client/common.ts';
import { withUnpauseHints } from '../client/pending.ts';
import { pathOfLink } from './resource-versions.ts';
import type { Build } from '../../api/wire.ts';
import { parsePipelineFlag, refString } from '../client/pipeline-ref.ts';

/**
 * fly's name cell (fly/commands/builds.go displayBuilds): the pipeline (with its instance vars),
 * job or checked resource, and build name, joined by '/'; a one-off build shows its name alone.
 */
export function buildNameCell(b: Build): string {
  const names: string[] = [];
  if (b.pipeline_name) names.push(refString({ name: b.pipeline_name, instanceVars: b.pipeline_instance_vars }));
  if (b.job_name) names.push(b.job_name);
  if (b.resource_name) names.push(b.resource_name);
  names.push(b.name);
  return names.join('/');
}

/** fly's start, end and duration cells (populateTimeCells): `n/a` for what has not happened, `+` while running. */
export function timeCells(b: Build, now = Date.now()): [string, string, string] {
  const start = b.start_time ?? 0;
  const end = b.end_time ?? 0;
  const startCell = start === 0 ? 'n/a' : flyBuildTime(start);
  const endCell = end === 0 ? 'n/a' : flyBuildTime(end);
  let durationCell = end === 0 ? `${goDuration((Math.floor(now / 1000) - start) * 1000)}+` : goDuration((end - start) * 1000);
  if (start === 0) durationCell = 'n/a';
  return [startCell, endCell, durationCell];
}

/** fly's input layout for --since/--until (fly/commands/builds.go inputTimeLayout), in local time. */
const TIME_LAYOUT = 'yyyy-mm-dd HH:mm:ss';

/** `2024-01-31 13:04:05` (local time) → unix seconds; undefined when it is not that layout or no such time. */
export function parseLocalTime(text: string): number | undefined {
  const m = /^(\d{4})-(\d{2})-(\d{2}) (\d{2}):(\d{2}):(\d{2})$/.exec(text);
  if (!m) return undefined;
  const [y, mo, d, h, mi, sec] = m.slice(1).map(Number) as [number, number, number, number, number, number];
  const date = new Date(y, mo - 1, d, h, mi, sec);
  // Date rolls 2024-02-31 over to March: refuse what is not a real time
  if (date.getFullYear() !== y || date.getMonth() !== mo - 1 || date.getDate() !== d || date.getHours() !== h || date.getMinutes() !== mi) return undefined;
  return Math.floor(date.getTime() / 1000);
}

/** Pages followed at most for --since/--until (of 100 builds each). */
const MAX_PAGES = 100;

export function registerBuilds(program: Command, io: CliIO): void {
  addOutputOptions(addTargetOption(program.command('builds')))
    .description('List builds, newest first')
    .option('-j, --job <pipeline/job>', 'builds of one job')
    .option('-p, --pipeline <name>', 'builds of one pipeline')
    .option('-c, --count <n>', 'how many', '50')
    .option('--since <time>', `builds that started at or after this local time, '${TIME_LAYOUT}'`)
    .option('--until <time>', `builds that started at or before this local time, '${TIME_LAYOUT}'`)
    .action(async (opts: { target?: string; job?: string; pipeline?: string; count: string; since?: string; until?: string; output?: string; json?: boolean }) => {
      if (!/^\d+$/.test(opts.count) || Number(opts.count) < 1) throw usageError(`error: -c must be a positive number (got '${opts.count}')`);
      if (opts.job && opts.pipeline) throw usageError('error: give either -j or -p, not both');
      const since = opts.since === undefined ? undefined : parseLocalTime(opts.since);
      const until = opts.until === undefined ? undefined : parseLocalTime(opts.until);
      if (opts.since !== undefined && since === undefined) throw usageError(`error: --since must be a time in the format '${TIME_LAYOUT}' (got '${opts.since}')`);
      if (opts.until !== undefined && until === undefined) throw usageError(`error: --until must be a time in the format '${TIME_LAYOUT}' (got '${opts.until}')`);
      if (since !== undefined && until !== undefined && since > until) throw usageError('error: --since is after --until');
      const json = wantsJson(opts);
      const { client, team, name: target } = connect(opts);
      let path = `/api/v1/teams/${enc(team)}/builds`;
      if (opts.job) {
        const [p, j] = splitFlag(opts.job, '-j, --job', 'job');
        path = pipelinePath(team, p, `/jobs/${enc(j)}/builds`);
      } else if (opts.pipeline) {
        path = pipelinePath(team, parsePipelineFlag(opts.pipeline), `/builds`);
      }
      await run(async () => {
        const count = Number(opts.count);
        const builds: Build[] = [];
        // an instanced pipeline's path has its vars in the query already
        const query = (q: string): string => `${path}${path.includes('?') ? '&' : '?'}${q}`;
        if (since === undefined && until === undefined) builds.push(...(await client.get<Build[]>(query(`limit=${count}`))));
        else {
          // newest first by id, which follows start times: page back until builds start before --since
          let next: string | undefined = query('limit=100');
          for (let pages = 0; next && pages < MAX_PAGES && builds.length < count; pages++) {
            const res = await client.request('GET', next);
            const page = res.json<Build[]>();
            for (const b of page) {
              if (b.start_time === undefined) continue; // pending: not started in any range
              if ((since === undefined || b.start_time >= since) && (until === undefined || b.start_time <= until)) builds.push(b);
            }
            const oldest = page.at(-1)?.start_time;
            if (since !== undefined && oldest !== undefined && oldest < since) break;
            const link = /<([^>]+)>; rel="next"/.exec(res.headers.get('link') ?? '')?.[1];
            next = link === undefined ? undefined : pathOfLink(link);
          }
          builds.splice(count);
        }
        if (json) return printJson(io, builds);
        // fly/commands/builds.go: the containers a build created are in --json (containers_created)
        const rows = builds.map((b) => [String(b.id), buildNameCell(b), b.status, ...timeCells(b), b.team_name, b.created_by ?? 'system']);
        io.stdout(formatTable(['id', 'name', 'status', 'start', 'end', 'duration', 'team', 'created by'], rows));
        // why each pending build waits (the API's reason, with the command that lifts a pause)
        const waiting = builds.filter((b) => b.status === 'pending' && b.pending_reason);
        if (waiting.length > 0) io.stdout('\n');
        for (const b of waiting) {
          const reason = withUnpauseHints(b.pending_reason!, target, b.pipeline_name ?? '', b.job_name);
          io.stdout(`${b.pipeline_name ?? ''}/${b.job_name ?? ''} #${b.name} pending: ${reason}\n`);
        }
      });
    });
}
