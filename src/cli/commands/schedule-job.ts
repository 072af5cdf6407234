// `jetway schedule-job -j PIPELINE/JOB` (fly's `schedule-job`, fly/commands/schedule_job.go):
// asks the scheduler to run for the job now (PUT .../jobs/:job/schedule), as a recovery command
// when a build seems stuck pending.
import type { Command } from 'commander';
import type { CliIO } from '../io.ts';
import { addTargetOption, connect, enc, pipelinePath, run, splitFlag } from '../client/common.ts';

export function registerScheduleJob(program: Command, io: CliIO): void {
  addTargetOption(program.command('schedule-job'))
    .description('Request the scheduler to run for a job')
    .option('-j, --job <pipeline/job>', 'the job to schedule')
    .action(async (opts: { target?: string; job?: string }) => {
      const [pipeline, job] = splitFlag(opts.job, '-j, --job', 'job');
      const { client, team } = connect(opts);
      await run(async () => {
        await client.request('PUT', pipelinePath(team, pipeline, `/jobs/${enc(job)}/schedule`));
        io.stdout(`scheduled '${job}'\n`);
      });
    });
}
