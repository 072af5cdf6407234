// `jetway pipelines`: the team's pipelines as a table, or JSON.
import type { Command } from 'commander';
import type { CliIO } from '../io.ts';
import { addOutputOptions, addTargetOption, connect, enc, formatTable, formatTime, printJson, run, wantsJson, yesNo } from '../client/common.ts';

type Pipeline = { name: string; team_name: string; paused: boolean; public: boolean; archived: boolean; last_updated?: number; instance_vars?: unknown };

export function registerPipelines(program: Command, io: CliIO): void {
  addOutputOptions(addTargetOption(program.command('pipelines')))
    .description('List pipelines')
    .option('-a, --all', 'pipelines of every team you can see')
    .action(async (opts: { target?: string; all?: boolean; output?: string; json?: boolean }) => {
      const json = wantsJson(opts);
      const { client, team } = connect(opts);
      await run(async () => {
        const pipelines = await client.get<Pipeline[]>(opts.all ? '/api/v1/pipelines' : `/api/v1/teams/${enc(team)}/pipelines`);
        if (json) return printJson(io, pipelines);
        const headers = opts.all ? ['name', 'team', 'paused', 'public', 'last updated'] : ['name', 'paused', 'public', 'last updated'];
        const rows = pipelines.map((p) => {
          const name = p.instance_vars ? `${p.name}/${JSON.stringify(p.instance_vars)}` : p.name;
          const cells = [name, yesNo(p.paused), yesNo(p.public), formatTime(p.last_updated)];
          if (opts.all) cells.splice(1, 0, p.team_name);
          return cells;
        });
        io.stdout(formatTable(headers, rows));
      });
    });
}
