// `jetway trigger-job`: starts a new build of a job; -w follows it (exit code as fly watch).
import type { Command } from 'commander';
import { CliExit, type CliIO } from '../io.ts';
import { addTargetOption, connect, enc, pipelinePath, run, splitFlag } from '../client/common.ts';
import { watchBuild } from '../client/watch.ts';
import type { Build } from '../../api/wire.ts';

export function registerTriggerJob(program: Command, io: CliIO): void {
  addTargetOption(program.command('trigger-job'))
    .description('Trigger a job')
    .option('-j, --job <pipeline/job>', 'job')
    .option('-w, --watch', 'follow the build and exit with its result')
    .action(async (opts: { target?: string; job?: string; watch?: boolean }) => {
      const [pipeline, job] = splitFlag(opts.job, '-j, --job', 'job');
      const { client, team } = connect(opts);
      let code = 0;
      await run(async () => {
        const build = (await client.request('POST', `${pipelinePath(team, pipeline)}/jobs/${enc(job)}/builds`)).json<Build>();
        io.stdout(`started ${pipeline}/${job} #${build.name}\n`);
        if (opts.watch) code = await watchBuild(client, build.id, io);
      });
      if (code !== 0) throw new CliExit(code);
    });
}
