// `jetway teams`: the teams you can see; with --details, each role's users (the teams you own).
import type { Command } from 'commander';
import type { CliIO } from '../io.ts';
import { addOutputOptions, addTargetOption, connect, formatTable, printJson, run, wantsJson } from '../client/common.ts';
import { ROLES } from '../../api/roles.ts';
import type { Team } from '../../api/wire.ts';

export function registerTeams(program: Command, io: CliIO): void {
  addOutputOptions(addTargetOption(program.command('teams')))
    .description('List the teams you can see')
    .option('-d, --details', "each role's users (of the teams you own)")
    .action(async (opts: { target?: string; details?: boolean; output?: string; json?: boolean }) => {
      const json = wantsJson(opts);
      const { client } = connect(opts);
      await run(async () => {
        const teams = await client.get<Team[]>('/api/v1/teams');
        if (json) return printJson(io, teams);
        if (!opts.details) return io.stdout(formatTable(['name'], teams.map((t) => [t.name])));
        const roleUsers = (t: Team, role: (typeof ROLES)[number]): string => (t.auth ? t.auth[role]?.users?.join(',') || 'none' : 'hidden');
        io.stdout(formatTable(['name', ...ROLES.map((r) => `${r} users`)], teams.map((t) => [t.name, ...ROLES.map((r) => roleUsers(t, r))])));
      });
    });
}
