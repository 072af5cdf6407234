// `jetway destroy-pipeline`: deletes a pipeline and all its data, after confirmation (or -n).
import type { Command } from 'commander';
import { CliExit, type CliIO } from '../io.ts';
import { addTargetOption, confirm, connect, pipelinePath, run } from '../client/common.ts';
import { parsePipelineFlag, refString } from '../client/pipeline-ref.ts';

export function registerDestroyPipeline(program: Command, io: CliIO): void {
  addTargetOption(program.command('destroy-pipeline'))
    .description('Destroy a pipeline and all of its data (builds, versions)')
    .option('-p, --pipeline <name>', 'pipeline')
    .option('-n, --non-interactive', 'destroy without asking')
    .action(async (opts: { target?: string; pipeline?: string; nonInteractive?: boolean }) => {
      const ref = parsePipelineFlag(opts.pipeline);
      const pipeline = refString(ref);
      const { client, team } = connect(opts);
      io.stdout(`!!! this will remove all data for pipeline \`${pipeline}\`\n\n`);
      if (!opts.nonInteractive && !(await confirm(io, 'are you sure?'))) throw new CliExit(1, 'bailing out');
      await run(async () => {
        const res = await client.request('DELETE', pipelinePath(team, ref), { accept: (s) => s === 204 || s === 404 });
        // as fly: destroying what is not there is not a failure
        io.stdout(res.status === 404 ? `\`${pipeline}\` does not exist\n` : `\`${pipeline}\` deleted\n`);
      });
    });
}
