// `jetway expose-pipeline`: makes a pipeline public (visible without logging in).
import type { Command } from 'commander';
import type { CliIO } from '../io.ts';
import { addTargetOption, connect, pipelinePath, requireOption, run } from '../client/common.ts';

export function registerExposePipeline(program: Command, io: CliIO): void {
  addTargetOption(program.command('expose-pipeline'))
    .description('Make a pipeline publicly viewable')
    .option('-p, --pipeline <name>', 'pipeline')
    .action(async (opts: { target?: string; pipeline?: string }) => {
      const pipeline = requireOption(opts.pipeline, '-p, --pipeline <name>');
      const { client, team } = connect(opts);
      await run(async () => {
        await client.request('PUT', `${pipelinePath(team, pipeline)}/expose`);
        io.stdout(`exposed '${pipeline}'\n`);
      });
    });
}
