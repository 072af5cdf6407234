// `jetway rerun-build`: a new build of a job with the inputs of an earlier one (`-b` its name);
// -w follows it (exit code as fly watch).
import type { Command } from 'commander';
import { CliExit, usageError, type CliIO } from '../io.ts';
import { addTargetOption, connect, enc, pipelinePath, run, splitFlag } from '../client/common.ts';
import { watchBuild } from '../client/watch.ts';
import type { Build } from '../../api/wire.ts';
import { refString } from '../client/pipeline-ref.ts';

export function registerRerunBuild(program: Command, io: CliIO): void {
  addTargetOption(program.command('rerun-build'))
    .description("Rerun a build with the same inputs (a new build named '<name>.<n>')")
    .option('-j, --job <pipeline/job>', 'job')
    .option('-b, --build <name>', 'the name of the build to rerun')
    .option('-w, --watch', 'follow the new build and exit with its result')
    .action(async (opts: { target?: string; job?: string; build?: string; watch?: boolean }) => {
      const [pipeline, job] = splitFlag(opts.job, '-j, --job', 'job');
      if (!opts.build) throw usageError('error: required option -b, --build <name> not specified');
      const { client, team } = connect(opts);
      let code = 0;
      await run(async () => {
        const path = pipelinePath(team, pipeline, `/jobs/${enc(job)}/builds/${enc(opts.build ?? '')}`);
        const build = (await client.request('POST', path)).json<Build>();
        io.stdout(`started ${refString(pipeline)}/${job} #${build.name}\n`);
        if (opts.watch) code = await watchBuild(client, build.id, io);
      });
      if (code !== 0) throw new CliExit(code);
    });
}
