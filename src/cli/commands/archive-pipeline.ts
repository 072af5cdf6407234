// `jetway archive-pipeline`: archives a pipeline after confirmation (or -n): paused, hidden from
// listings, not checked or scheduled, until set-pipeline sets it again.
import type { Command } from 'commander';
import { CliExit, type CliIO } from '../io.ts';
import { addTargetOption, confirm, connect, pipelinePath, run } from '../client/common.ts';
import { parsePipelineFlag, refString } from '../client/pipeline-ref.ts';

export function registerArchivePipeline(program: Command, io: CliIO): void {
  addTargetOption(program.command('archive-pipeline'))
    .description('Archive a pipeline (paused and hidden until it is set again; its builds are kept)')
    .option('-p, --pipeline <name>', 'pipeline')
    .option('-n, --non-interactive', 'archive without asking')
    .action(async (opts: { target?: string; pipeline?: string; nonInteractive?: boolean }) => {
      const ref = parsePipelineFlag(opts.pipeline);
      const pipeline = refString(ref);
      const { client, team } = connect(opts);
      if (!opts.nonInteractive && !(await confirm(io, `archive pipeline '${pipeline}'?`))) throw new CliExit(1, 'bailing out');
      await run(async () => {
        await client.request('PUT', pipelinePath(team, ref, `/archive`));
        io.stdout(`archived '${pipeline}'\n`);
      });
    });
}
