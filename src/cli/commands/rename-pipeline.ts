// `jetway rename-pipeline`: renames a pipeline (its history stays).
import type { Command } from 'commander';
import type { CliIO } from '../io.ts';
import { addTargetOption, connect, pipelinePath, requireOption, run } from '../client/common.ts';
import type { SaveConfigResponse } from '../../api/wire.ts';

export function registerRenamePipeline(program: Command, io: CliIO): void {
  addTargetOption(program.command('rename-pipeline'))
    .description('Rename a pipeline')
    .option('-o, --old-name <name>', 'the pipeline to rename')
    .option('-n, --new-name <name>', 'its new name')
    .action(async (opts: { target?: string; oldName?: string; newName?: string }) => {
      const oldName = requireOption(opts.oldName, '-o, --old-name <name>');
      const newName = requireOption(opts.newName, '-n, --new-name <name>');
      const { client, team } = connect(opts);
      await run(async () => {
        const res = await client.request('PUT', pipelinePath(team, oldName, `/rename`), { body: { name: newName } });
        for (const w of res.json<Partial<SaveConfigResponse>>().warnings ?? []) {
          io.stderr(`warning (${w.type}): ${w.message}\n`);
        }
        io.stdout(`pipeline successfully renamed to '${newName}'\n`);
      });
    });
}
