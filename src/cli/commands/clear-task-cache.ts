// `jetway clear-task-cache`: removes the caches of a job's task step (or only the one of a cache
// path), after confirmation (or -n), as fly's.
import type { Command } from 'commander';
import { CliExit, type CliIO } from '../io.ts';
import { addTargetOption, confirm, connect, enc, pipelinePath, requireOption, run, splitFlag } from '../client/common.ts';
import type { ClearCacheResponse } from '../../api/wire.ts';
import { refString } from '../client/pipeline-ref.ts';

type Options = { target?: string; job?: string; step?: string; cachePath?: string; nonInteractive?: boolean };

export function registerClearTaskCache(program: Command, io: CliIO): void {
  addTargetOption(program.command('clear-task-cache'))
    .description("Clear the caches of a job's task step")
    .option('-j, --job <pipeline/job>', 'job')
    .option('-s, --step <name>', 'the task step')
    .option('-c, --cache-path <path>', 'only the cache of this path (as the task config names it)')
    .option('-n, --non-interactive', 'clear without asking')
    .action(async (opts: Options) => {
      const [pipeline, job] = splitFlag(opts.job, '-j, --job', 'job');
      const step = requireOption(opts.step, '-s, --step <name>');
      const { client, team } = connect(opts);
      const at = opts.cachePath ? `, at \`${opts.cachePath}\`` : '';
      io.stdout(`!!! this will remove the task cache(s) for \`${refString(pipeline)}/${job}\`, task step \`${step}\`${at}\n\n`);
      if (!opts.nonInteractive && !(await confirm(io, 'are you sure?'))) throw new CliExit(1, 'bailing out');
      await run(async () => {
        const query = opts.cachePath ? `?${new URLSearchParams({ cache_path: opts.cachePath }).toString()}` : '';
        const res = await client.request('DELETE', pipelinePath(team, pipeline, `/jobs/${enc(job)}/tasks/${enc(step)}/cache${query}`));
        io.stdout(`${res.json<ClearCacheResponse>().caches_removed} caches removed\n`);
      });
    });
}
