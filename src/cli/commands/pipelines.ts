// `jetway pipelines`: the team's pipelines as a table, or JSON, in the team's order; archived
// ones only with --include-archived.
import type { Command } from 'commander';
import type { CliIO } from '../io.ts';
import { addOutputOptions, addTargetOption, connect, enc, formatTable, goTimeString, printJson, run, wantsJson, yesNo } from '../client/common.ts';
import { refString } from '../client/pipeline-ref.ts';
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
        // fly/commands/pipelines.go: id, name, [team], paused, public, [archived], last updated
        const headers = ['id', 'name', ...(opts.all ? ['team'] : []), 'paused', 'public', ...(opts.includeArchived ? ['archived'] : []), 'last updated'];
        const rows = pipelines.map((p) => [
          String(p.id),
          refString({ name: p.name, instanceVars: p.instance_vars }),
          ...(opts.all ? [p.team_name] : []),
          yesNo(p.paused),
          yesNo(p.public),
          ...(opts.includeArchived ? [yesNo(p.archived)] : []),
          goTimeString(p.last_updated),
        ]);
        io.stdout(formatTable(headers, rows));
      });
    });
}
