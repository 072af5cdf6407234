// `jetway hide-pipeline`: makes a pipeline private again (only the team sees it).
import type { Command } from 'commander';
import type { CliIO } from '../io.ts';
import { addTargetOption, connect, pipelinePath, requireOption, run } from '../client/common.ts';

export function registerHidePipeline(program: Command, io: CliIO): void {
  addTargetOption(program.command('hide-pipeline'))
    .description('Hide a pipeline from the public')
    .option('-p, --pipeline <name>', 'pipeline')
    .action(async (opts: { target?: string; pipeline?: string }) => {
      const pipeline = requireOption(opts.pipeline, '-p, --pipeline <name>');
      const { client, team } = connect(opts);
      await run(async () => {
        await client.request('PUT', `${pipelinePath(team, pipeline)}/hide`);
        io.stdout(`hid '${pipeline}'\n`);
      });
    });
}
