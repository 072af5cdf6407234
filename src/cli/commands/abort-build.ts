// `jetway abort-build`: aborts a build: -b <id>, or -j <pipeline/job> -b <build name>.
import type { Command } from 'commander';
import { usageError, type CliIO } from '../io.ts';
import { addTargetOption, connect, enc, pipelinePath, run, splitFlag } from '../client/common.ts';
import type { Build } from '../../api/wire.ts';

export function registerAbortBuild(program: Command, io: CliIO): void {
  addTargetOption(program.command('abort-build'))
    .description('Abort a build')
    .option('-b, --build <id|name>', 'build id, or the build name with -j')
    .option('-j, --job <pipeline/job>', 'the job of the named build')
    .action(async (opts: { target?: string; build?: string; job?: string }) => {
      if (!opts.build) throw usageError('error: required option -b, --build not specified');
      const { client, team } = connect(opts);
      await run(async () => {
        let id: number;
        if (opts.job) {
          const [pipeline, job] = splitFlag(opts.job, '-j, --job', 'job');
          id = (await client.get<Build>(pipelinePath(team, pipeline, `/jobs/${enc(job)}/builds/${enc(opts.build ?? '')}`))).id;
        } else {
          if (!/^\d+$/.test(opts.build ?? '')) throw usageError(`error: -b must be a build id unless -j is given (got '${opts.build}')`);
          id = Number(opts.build);
        }
        await client.request('PUT', `/api/v1/builds/${id}/abort`);
        io.stdout('build successfully aborted\n');
      });
    });
}
