// `jetway pause-job` / `unpause-job`: a paused job gets no new builds scheduled.
import type { Command } from 'commander';
import type { CliIO } from '../io.ts';
import { addTargetOption, connect, enc, pipelinePath, run, splitFlag } from '../client/common.ts';

export function registerJobToggle(program: Command, io: CliIO, action: 'pause' | 'unpause'): void {
  addTargetOption(program.command(`${action}-job`))
    .description(action === 'pause' ? 'Pause a job (no new builds are scheduled)' : 'Unpause a job')
    .option('-j, --job <pipeline/job>', 'job')
    .action(async (opts: { target?: string; job?: string }) => {
      const [pipeline, job] = splitFlag(opts.job, '-j, --job', 'job');
      const { client, team } = connect(opts);
      await run(async () => {
        await client.request('PUT', pipelinePath(team, pipeline, `/jobs/${enc(job)}/${action}`));
        io.stdout(`${action}d '${job}'\n`);
      });
    });
}

export function registerPauseJob(program: Command, io: CliIO): void {
  registerJobToggle(program, io, 'pause');
}
