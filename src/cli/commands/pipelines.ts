// `jetway pipelines`: the team's pipelines as a table, or JSON, in the team's order; archived
// ones only with --include-archived.
import type { Command } from 'commander';
import type { CliIO } from '../io.ts';
import { addOutputOptions, addTargetOption, connect, enc, formatTable, formatTime, printJson, run, wantsJson, yesNo } from '../client/common.ts';
import type { Pipeline } from '../../api/wire.ts';

export function registerPipelines(program: Command, io: CliIO): void {
  addOutputOptions(addTargetOption(program.command('pipelines')))
    .description('List pipelines')
    .option('-a, --all', 'pipelines of every team you can see')
    // long only, as fly's: -a is --all
    .option('--include-archived', 'archived pipelines too')
    .action(async (opts: { target?: string; all?: boolean; includeArchived?: boolean; output?: string; json?: boolean }) => {
      const json = wantsJson(opts);
      const { client, team } = connect(opts);
      await run(async () => {
        const path = opts.all ? '/api/v1/pipelines' : `/api/v1/teams/${enc(team)}/pipelines`;
        const pipelines = await client.get<Pipeline[]>(opts.includeArchived ? `${path}?include_archived=true` : path);
        if (json) return printJson(io, pipelines);
        const headers = ['name', 'paused', 'public', 'last updated'];
        if (opts.all) headers.splice(1, 0, 'team');
        if (opts.includeArchived) headers.splice(-1, 0, 'archived');
        const rows = pipelines.map((p) => {
          const name = p.instance_vars ? `${p.name}/${JSON.stringify(p.instance_vars)}` : p.name;
          const cells = [name, yesNo(p.paused), yesNo(p.public), formatTime(p.last_updated)];
          if (opts.all) cells.splice(1, 0, p.team_name);
          if (opts.includeArchived) cells.splice(-1, 0, yesNo(p.archived));
          return cells;
        });
        io.stdout(formatTable(headers, rows));
      });
    });
}
