// `jetway rename-team`: renames a team (admins); its pipelines and builds follow.
import type { Command } from 'commander';
import type { CliIO } from '../io.ts';
import { addTargetOption, connect, enc, requireOption, run } from '../client/common.ts';
import type { RenameTeamResponse } from '../../api/wire.ts';

export function registerRenameTeam(program: Command, io: CliIO): void {
  addTargetOption(program.command('rename-team'))
    .description('Rename a team')
    .option('-o, --old-name <name>', 'the team')
    .option('-n, --new-name <name>', 'its new name')
    .action(async (opts: { target?: string; oldName?: string; newName?: string }) => {
      const from = requireOption(opts.oldName, '-o, --old-name <name>');
      const to = requireOption(opts.newName, '-n, --new-name <name>');
      const { client } = connect(opts);
      await run(async () => {
        const res = await client.request('PUT', `/api/v1/teams/${enc(from)}/rename`, { body: { name: to } });
        for (const w of res.json<Partial<RenameTeamResponse>>().warnings ?? []) io.stderr(`WARNING: ${w}\n`);
        io.stdout(`team successfully renamed to ${to}\n`);
      });
    });
}
