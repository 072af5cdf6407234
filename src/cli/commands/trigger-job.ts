// `jetway trigger-job`: starts a new build of a job; -w follows it (exit code as fly watch).
import type { Command } from 'commander';
import { CliExit, type CliIO } from '../io.ts';
import { addTargetOption, connect, enc, pipelinePath, run, splitFlag } from '../client/common.ts';
import { watchBuild } from '../client/watch.ts';
import type { Build, Job, Pipeline } from '../../api/wire.ts';

export function registerTriggerJob(program: Command, io: CliIO): void {
  addTargetOption(program.command('trigger-job'))
    .description('Trigger a job')
    .option('-j, --job <pipeline/job>', 'job')
    .option('-w, --watch', 'follow the build and exit with its result')
    .action(async (opts: { target?: string; job?: string; watch?: boolean }) => {
      const [pipeline, job] = splitFlag(opts.job, '-j, --job', 'job');
      const { client, team, name } = connect(opts);
      let code = 0;
      await run(async () => {
        const build = (await client.request('POST', `${pipelinePath(team, pipeline)}/jobs/${enc(job)}/builds`)).json<Build>();
        io.stdout(`started ${pipeline}/${job} #${build.name}\n`);
        if (opts.watch) {
          // a paused pipeline or job starts no build: say so instead of waiting in silence
          const [p, j] = await Promise.all([
            client.request('GET', pipelinePath(team, pipeline)).then((r) => r.json<Pipeline>()),
            client.request('GET', `${pipelinePath(team, pipeline)}/jobs/${enc(job)}`).then((r) => r.json<Job>()),
          ]);
          const paused = pausedReason(p, j, name, pipeline, job);
          if (paused) io.stderr(`${pipeline}/${job} #${build.name} stays pending: ${paused}\n`);
          code = await watchBuild(client, build.id, io);
        }
      });
      if (code !== 0) throw new CliExit(code);
    });
}

/** Why a new build of the job cannot start (paused pipeline or job) and the command that unpauses it. */
export function pausedReason(p: Pipeline, j: Job, target: string, pipeline: string, job: string): string | undefined {
  const t = target ? ` -t ${target}` : '';
  if (p.paused) return `the pipeline ${pipeline} is paused (unpause it: jetway unpause-pipeline${t} -p ${pipeline})`;
  if (j.paused) return `the job ${pipeline}/${job} is paused (unpause it: jetway unpause-job${t} -j ${pipeline}/${job})`;
  return undefined;
}
