// `jetway order-pipelines`: puts the named pipelines first, in the order given (the rest keep
// their order after them), or orders every pipeline of the team alphabetically.
import type { Command } from 'commander';
import { usageError, type CliIO } from '../io.ts';
import { addTargetOption, connect, enc, run, collect, requireOption } from '../client/common.ts';
import { parseInstanceVars, refString } from '../client/pipeline-ref.ts';
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

/**
 * `jetway order-instanced-pipelines -g GROUP -p KEY:VALUE[,...] ...`: the group's instances in
 * the order given (fly/commands/ordering_instanced_pipeline.go; the API's
 * PUT .../pipelines/GROUP/ordering). Instances not named keep their place after them.
 */
export function registerOrderInstancedPipelines(program: Command, io: CliIO): void {
  addTargetOption(program.command('order-instanced-pipelines'))
    .description('Order the instanced pipelines of a group: the ones named first, in that order')
    .option('-g, --group <name>', 'name of the instance group')
    .option('-p, --pipeline <key:value,...>', 'instance vars of a pipeline of the group (repeatable; first comes first)', collect, [])
    .option('--team <name>', "the group's team, if not the target's")
    .action(async (opts: { target?: string; group?: string; pipeline: string[]; team?: string }) => {
      const group = requireOption(opts.group, '-g, --group <name>');
      if (opts.pipeline.length === 0) throw usageError('error: required option -p, --pipeline <key:value,...> not specified');
      const list = opts.pipeline.map((p) => {
        try {
          return parseInstanceVars(p);
        } catch (err) {
          throw usageError(`error: -p, --pipeline '${p}': ${err instanceof Error ? err.message : String(err)}`);
        }
      });
      const { client, team: targetTeam } = connect(opts);
      const team = opts.team ?? targetTeam;
      await run(async () => {
        await client.request('PUT', `/api/v1/teams/${enc(team)}/pipelines/${enc(group)}/ordering`, { body: JSON.stringify(list) });
        io.stdout(`ordered instanced pipelines:\n${list.map((vars) => `  - ${refString({ name: group, instanceVars: vars })}\n`).join('')}`);
      });
    });
}
