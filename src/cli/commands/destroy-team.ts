// `jetway destroy-team`: destroys a team with its pipelines and builds (admins), after the
// team's name is typed again (as fly asks), or --non-interactive.
import type { Command } from 'commander';
import { CliExit, type CliIO } from '../io.ts';
import { addTargetOption, connect, enc, readLine, requireOption, run } from '../client/common.ts';

export function registerDestroyTeam(program: Command, io: CliIO): void {
  addTargetOption(program.command('destroy-team'))
    .description('Destroy a team and all of its data (pipelines, builds)')
    .option('-n, --team-name <name>', 'the team')
    .option('--non-interactive', 'destroy without asking')
    .action(async (opts: { target?: string; teamName?: string; nonInteractive?: boolean }) => {
      const team = requireOption(opts.teamName, '-n, --team-name <name>');
      const { client } = connect(opts);
      io.stdout(`!!! this will remove all data for team \`${team}\`\n\n`);
      if (!opts.nonInteractive) {
        io.stdout('please type the team name to continue: ');
        if ((await readLine()).trim() !== team) throw new CliExit(1, 'incorrect team name; bailing out');
      }
      await run(async () => {
        await client.request('DELETE', `/api/v1/teams/${enc(team)}`);
        io.stdout(`\`${team}\` deleted\n`);
      });
    });
}
