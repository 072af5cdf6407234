// `jetway jobs`: a pipeline's jobs with their latest and next builds, and why a job will not run.
import type { Command } from 'commander';
import type { CliIO } from '../io.ts';
import { addOutputOptions, addTargetOption, connect, formatTable, pipelinePath, printJson, run, wantsJson, yesNo } from '../client/common.ts';
import { withUnpauseHints } from '../client/pending.ts';
import type { Job } from '../../api/wire.ts';
import { parsePipelineFlag, refString } from '../client/pipeline-ref.ts';

export function registerJobs(program: Command, io: CliIO): void {
  addOutputOptions(addTargetOption(program.command('jobs')))
    .description("List a pipeline's jobs")
    .option('-p, --pipeline <name>', 'pipeline')
    .action(async (opts: { target?: string; pipeline?: string; output?: string; json?: boolean }) => {
      const ref = parsePipelineFlag(opts.pipeline);
      const pipeline = refString(ref);
      const json = wantsJson(opts);
      const { client, team, name: target } = connect(opts);
      await run(async () => {
        const jobs = await client.get<Job[]>(pipelinePath(team, ref, `/jobs`));
        if (json) return printJson(io, jobs);
        const rows = jobs.map((j) => [j.name, yesNo(j.paused), j.finished_build?.status ?? 'n/a', j.next_build?.status ?? 'n/a']);
        io.stdout(formatTable(['name', 'paused', 'status', 'next'], rows));
        // why a job will not run (its pending build waits, or nothing would start): the API's reason
        const held = jobs.filter((j) => j.pending_reason);
        if (held.length > 0) io.stdout('\n');
        for (const j of held) io.stdout(`${j.name}: ${withUnpauseHints(j.pending_reason!, target, pipeline, j.name)}\n`);
      });
    });
}
