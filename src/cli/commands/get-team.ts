// `jetway get-team -n TEAM` (fly's `gt`): a team's auth, one row per role with its users and
// groups, as fly prints it (fly/commands/get_team.go: `team/role`, `users`, `groups`, `none`
// for an empty list). Only the team's owners and admins see its auth (GET /api/v1/teams/:team).
import type { Command } from 'commander';
import { CliExit, type CliIO } from '../io.ts';
import { addOutputOptions, addTargetOption, connect, enc, formatTable, printJson, run, wantsJson } from '../client/common.ts';
import { ROLES } from '../../api/roles.ts';
import type { Team } from '../../api/wire.ts';

export function registerGetTeam(program: Command, io: CliIO): void {
  addOutputOptions(addTargetOption(program.command('get-team')))
    .description("Show a team's auth: each role's users and groups")
    .requiredOption('-n, --team-name <team>', 'the team')
    .action(async (opts: { target?: string; teamName: string; output?: string; json?: boolean }) => {
      const json = wantsJson(opts);
      const { client } = connect(opts);
      await run(async () => {
        const team = await client.get<Team>(`/api/v1/teams/${enc(opts.teamName)}`);
        if (json) return printJson(io, team);
        if (!team.auth) throw new CliExit(1, `error: the auth of team ${team.name} is shown to its owners and admins only`);
        const auth = team.auth;
        const cell = (list: string[] | undefined): string => (list && list.length > 0 ? list.join(',') : 'none');
        const rows = ROLES.filter((role) => auth[role] !== undefined).map((role) => [`${team.name}/${role}`, cell(auth[role]?.users), cell(auth[role]?.groups)]);
        io.stdout(formatTable(['name/role', 'users', 'groups'], rows));
      });
    });
}
