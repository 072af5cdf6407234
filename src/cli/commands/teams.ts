// `jetway teams`: the teams you can see; with --details, each role's users and groups (of the
// teams whose auth you may see: those you own, or all as an admin).
import type { Command } from 'commander';
import type { CliIO } from '../io.ts';
import { addOutputOptions, addTargetOption, connect, formatTable, printJson, run, sortByFirstCell, wantsJson } from '../client/common.ts';
import type { Team } from '../../api/wire.ts';

export function registerTeams(program: Command, io: CliIO): void {
  addOutputOptions(addTargetOption(program.command('teams')))
    .description('List the teams you can see')
    .option('-d, --details', "each role's users and groups (of the teams you own)")
    .action(async (opts: { target?: string; details?: boolean; output?: string; json?: boolean }) => {
      const json = wantsJson(opts);
      const { client } = connect(opts);
      await run(async () => {
        const teams = await client.get<Team[]>('/api/v1/teams');
        if (json) return printJson(io, teams);
        // fly/commands/teams.go: rows sorted by their first cell
        if (!opts.details) return io.stdout(formatTable(['name'], sortByFirstCell(teams.map((t) => [t.name]))));
        // a row per role the team's auth configures; a team whose auth you may not see has none
        const rows = teams.flatMap((t) =>
          Object.entries(t.auth ?? {}).map(([role, auth]) => {
            const users = auth.users ?? [];
            const groups = auth.groups ?? [];
            const usersCell = users.length > 0 ? users.join(',') : groups.length > 0 ? 'none' : 'all';
            return [`${t.name}/${role}`, usersCell, groups.length > 0 ? groups.join(',') : 'none'];
          }),
        );
        io.stdout(formatTable(['name/role', 'users', 'groups'], sortByFirstCell(rows)));
      });
    });
}
