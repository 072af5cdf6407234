// `jetway pause-pipeline`: pauses a pipeline.
import type { Command } from 'commander';
import type { CliIO } from '../io.ts';
import { addTargetOption, connect, pipelinePath, requireOption, run } from '../client/common.ts';

export function registerPausePipeline(program: Command, io: CliIO): void {
  addTargetOption(program.command('pause-pipeline'))
    .description('Pause a pipeline (no new builds are scheduled)')
    .option('-p, --pipeline <name>', 'pipeline')
    .action(async (opts: { target?: string; pipeline?: string }) => {
      const pipeline = requireOption(opts.pipeline, '-p, --pipeline <name>');
      const { client, team } = connect(opts);
      await run(async () => {
        await client.request('PUT', `${pipelinePath(team, pipeline)}/pause`);
        io.stdout(`paused '${pipeline}'\n`);
      });
    });
}
