// `jetway watch`: follows a build's output: -b <id>, or the current build of -j <pipeline/job>.
import type { Command } from 'commander';
import { CliExit, usageError, type CliIO } from '../io.ts';
import { addTargetOption, connect, enc, pipelinePath, run, splitFlag } from '../client/common.ts';
import { watchBuild } from '../client/watch.ts';
import type { Build, Job } from '../../api/wire.ts';
import { refString } from '../client/pipeline-ref.ts';

export function registerWatch(program: Command, io: CliIO): void {
  addTargetOption(program.command('watch'))
    .description("Stream a build's output")
    .option('-b, --build <id>', 'build id (or, with -j, the build name)')
    .option('-j, --job <pipeline/job>', "the job's running build, else its latest finished one")
    .option('--timestamps', "start each output line with its event's local time (HH:MM:SS)")
    .action(async (opts: { target?: string; build?: string; job?: string; timestamps?: boolean }) => {
      if (!opts.build && !opts.job) throw usageError('error: give -b <build id> or -j <pipeline/job>');
      const { client, team } = connect(opts);
      let code = 0;
      await run(async () => {
        let id: number;
        if (opts.job) {
          const [pipeline, job] = splitFlag(opts.job, '-j, --job', 'job');
          const base = (rest = ''): string => pipelinePath(team, pipeline, `/jobs/${enc(job)}${rest}`);
          if (opts.build) {
            id = (await client.get<Build>(base(`/builds/${enc(opts.build)}`))).id;
          } else {
            const j = await client.get<Job>(base());
            const b = j.next_build ?? j.finished_build;
            if (!b) throw new CliExit(1, `error: job ${refString(pipeline)}/${job} has no builds`);
            id = b.id;
          }
        } else {
          if (!/^\d+$/.test(opts.build ?? '')) throw usageError(`error: -b must be a build id (got '${opts.build}')`);
          id = Number(opts.build);
        }
        code = await watchBuild(client, id, io, { timestamps: opts.timestamps === true });
      });
      if (code !== 0) throw new CliExit(code);
    });
}
