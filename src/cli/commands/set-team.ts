// `jetway set-team`: creates a team or replaces its auth (admins; a team's owners for their
// team), from --local-user owners and/or a team config file with roles, after confirmation.
import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { CliExit, usageError, type CliIO } from '../io.ts';
import { addTargetOption, confirm, connect, enc, requireOption, run, collect } from '../client/common.ts';
import { describeTeamAuth, teamAuthFrom } from '../client/team-config.ts';
import type { SetTeamResponse } from '../../api/wire.ts';

export function registerSetTeam(program: Command, io: CliIO): void {
  addTargetOption(program.command('set-team'))
    .description("Create a team or replace its users and roles (owner, member, pipeline-operator, viewer)")
    .option('-n, --team-name <name>', 'the team')
    .option('--local-user <name>', 'a local user who owns the team (repeatable)', collect, [])
    .option('-c, --config <file>', 'a team config file: roles: [{name: <role>, local: {users: [...]}}]')
    .option('--non-interactive', 'apply without asking')
    .action(async (opts: { target?: string; teamName?: string; localUser: string[]; config?: string; nonInteractive?: boolean }) => {
      const team = requireOption(opts.teamName, '-n, --team-name <name>');
      let text: string | undefined;
      if (opts.config !== undefined) {
        try {
          text = readFileSync(opts.config, 'utf8');
        } catch (err) {
          throw usageError(`error: -c, --config: cannot read ${opts.config}: ${err instanceof Error ? err.message : String(err)}`);
        }
      }
      const result = teamAuthFrom(text !== undefined ? { text, file: opts.config ?? '' } : undefined, opts.localUser);
      if (result.errors) throw usageError(result.errors.map((e) => `error: ${e}`).join('\n'));
      const { client } = connect(opts);
      io.stdout(describeTeamAuth(team, result.auth));
      if (!opts.nonInteractive && !(await confirm(io, 'apply team configuration?'))) throw new CliExit(1, 'bailing out');
      await run(async () => {
        const res = await client.request('PUT', `/api/v1/teams/${enc(team)}`, { body: { auth: result.auth } });
        for (const w of res.json<Partial<SetTeamResponse>>().warnings ?? []) io.stderr(`WARNING: ${w}\n`);
        io.stdout(res.status === 201 ? `team created\n` : `team updated\n`);
      });
    });
}
