// `jetway builds`: recent builds (of the team, a pipeline, or a job).
import type { Command } from 'commander';
import { usageError, type CliIO } from '../io.ts';
import {
  addOutputOptions,
  addTargetOption,
  connect,
  enc,
  formatTable,
  formatTime,
  pipelinePath,
  printJson,
  run,
  splitFlag,
  wantsJson,
} from '../client/common.ts';
import { withUnpauseHints } from '../client/pending.ts';
import type { Build } from '../../api/wire.ts';

/** `2 (image 0)`: the containers (pods) a build created, and how many only for images. */
export function containersColumn(counts: Build['containers_created'] | undefined): string {
  const total = (group: Record<string, number> | undefined): number => Object.values(group ?? {}).reduce((a, b) => a + b, 0);
  const all = Object.values(counts ?? {}).reduce((a, g) => a + total(g), 0);
  return `${all} (image ${total(counts?.image)})`;
}

function duration(b: Build): string {
  if (b.start_time === undefined) return 'n/a';
  const end = b.end_time ?? Math.floor(Date.now() / 1000);
  const s = Math.max(0, end - b.start_time);
  return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s${b.end_time === undefined ? '+' : ''}`;
}

export function registerBuilds(program: Command, io: CliIO): void {
  addOutputOptions(addTargetOption(program.command('builds')))
    .description('List builds, newest first')
    .option('-j, --job <pipeline/job>', 'builds of one job')
    .option('-p, --pipeline <name>', 'builds of one pipeline')
    .option('-c, --count <n>', 'how many', '50')
    .action(async (opts: { target?: string; job?: string; pipeline?: string; count: string; output?: string; json?: boolean }) => {
      if (!/^\d+$/.test(opts.count) || Number(opts.count) < 1) throw usageError(`error: -c must be a positive number (got '${opts.count}')`);
      if (opts.job && opts.pipeline) throw usageError('error: give either -j or -p, not both');
      const json = wantsJson(opts);
      const { client, team, name: target } = connect(opts);
      let path = `/api/v1/teams/${enc(team)}/builds`;
      if (opts.job) {
        const [p, j] = splitFlag(opts.job, '-j, --job', 'job');
        path = `${pipelinePath(team, p)}/jobs/${enc(j)}/builds`;
      } else if (opts.pipeline) {
        path = `${pipelinePath(team, opts.pipeline)}/builds`;
      }
      await run(async () => {
        const builds = await client.get<Build[]>(`${path}?limit=${Number(opts.count)}`);
        if (json) return printJson(io, builds);
        const rows = builds.map((b) => [
          String(b.id),
          b.job_name ? `${b.pipeline_name ?? ''}/${b.job_name}` : 'one-off',
          b.name,
          b.status,
          formatTime(b.start_time),
          formatTime(b.end_time),
          duration(b),
          containersColumn(b.containers_created),
          b.created_by ?? '',
        ]);
        io.stdout(formatTable(['id', 'pipeline/job', 'build', 'status', 'start', 'end', 'duration', 'containers', 'created by'], rows));
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
