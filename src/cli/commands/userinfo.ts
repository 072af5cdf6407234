// `jetway userinfo`: the logged-in user and their team/role pairs (GET /api/v1/user), as fly's
// table, or the server's JSON as it came.
import type { Command } from 'commander';
import type { CliIO } from '../io.ts';
import { addOutputOptions, addTargetOption, connect, formatTable, printJson, run, wantsJson, yesNo } from '../client/common.ts';
import type { UserInfo } from '../../api/wire.ts';

export function registerUserinfo(program: Command, io: CliIO): void {
  addOutputOptions(addTargetOption(program.command('userinfo')))
    .description('Show the logged-in user and their teams and roles')
    .action(async (opts: { target?: string; output?: string; json?: boolean }) => {
      const json = wantsJson(opts);
      const { client } = connect(opts);
      await run(async () => {
        const user = await client.get<UserInfo>('/api/v1/user');
        if (json) return printJson(io, user);
        const teamRoles = Object.entries(user.teams)
          .flatMap(([team, roles]) => roles.map((role) => `${team}/${role}`))
          .sort();
        io.stdout(formatTable(['username', 'team/role', 'admin'], [[user.user_name, teamRoles.join(',') || 'none', yesNo(user.is_admin)]]));
      });
    });
}
