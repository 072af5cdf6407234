// `jetway order-pipelines`: puts the named pipelines first, in the order given (the rest keep
// their order after them), or orders every pipeline of the team alphabetically.
import type { Command } from 'commander';
import { usageError, type CliIO } from '../io.ts';
import { addTargetOption, connect, enc, run, collect } from '../client/common.ts';
import type { Pipeline } from '../../api/wire.ts';


export function registerOrderPipelines(program: Command, io: CliIO): void {
  addTargetOption(program.command('order-pipelines'))
    .description('Order pipelines: the ones named first, in that order')
    .option('-p, --pipeline <name>', 'pipeline to order (repeatable; first comes first)', collect, [])
    .option('-a, --alphabetical', 'order all pipelines alphabetically')
    .action(async (opts: { target?: string; pipeline: string[]; alphabetical?: boolean }) => {
      if (opts.pipeline.length === 0 && !opts.alphabetical) {
        throw usageError('error: required option -p, --pipeline <name> (or -a, --alphabetical) not specified');
      }
      if (opts.pipeline.length > 0 && opts.alphabetical) {
        throw usageError('error: -p, --pipeline and -a, --alphabetical cannot be used together');
      }
      const { client, team } = connect(opts);
      const path = `/api/v1/teams/${enc(team)}/pipelines`;
      await run(async () => {
        let names = opts.pipeline;
        if (opts.alphabetical) {
          // archived pipelines too: they come back in their place when set again
          const all = await client.get<Pipeline[]>(`${path}?include_archived=true`);
          names = [...new Set(all.map((p) => p.name))].sort();
        }
        await client.request('PUT', `${path}/ordering`, { body: JSON.stringify(names) });
        io.stdout(`ordered pipelines:\n${names.map((n) => `  - ${n}\n`).join('')}`);
      });
    });
}
