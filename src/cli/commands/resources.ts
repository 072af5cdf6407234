// `jetway resources`: a pipeline's resources.
import type { Command } from 'commander';
import type { CliIO } from '../io.ts';
import { addOutputOptions, addTargetOption, connect, formatTable, formatTime, pipelinePath, printJson, requireOption, run, wantsJson } from '../client/common.ts';
import type { Resource } from '../../api/wire.ts';

export function registerResources(program: Command, io: CliIO): void {
  addOutputOptions(addTargetOption(program.command('resources')))
    .description("List a pipeline's resources")
    .option('-p, --pipeline <name>', 'pipeline')
    .action(async (opts: { target?: string; pipeline?: string; output?: string; json?: boolean }) => {
      const pipeline = requireOption(opts.pipeline, '-p, --pipeline <name>');
      const json = wantsJson(opts);
      const { client, team } = connect(opts);
      await run(async () => {
        const resources = await client.get<Resource[]>(`${pipelinePath(team, pipeline)}/resources`);
        if (json) return printJson(io, resources);
        const rows = resources.map((r) => [
          r.name,
          r.type,
          r.pinned_version ? Object.entries(r.pinned_version).map(([k, v]) => `${k}:${v}`).join(',') : 'n/a',
          r.build?.status ?? (r.last_checked ? 'ok' : 'n/a'),
          formatTime(r.last_checked),
        ]);
        io.stdout(formatTable(['name', 'type', 'pinned', 'check status', 'last checked'], rows));
      });
    });
}
