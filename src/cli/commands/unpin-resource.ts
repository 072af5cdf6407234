// `jetway unpin-resource`: removes a resource's pin (a pin in the pipeline config stays).
import type { Command } from 'commander';
import type { CliIO } from '../io.ts';
import { addTargetOption, connect, enc, pipelinePath, run, splitFlag } from '../client/common.ts';

export function registerUnpinResource(program: Command, io: CliIO): void {
  addTargetOption(program.command('unpin-resource'))
    .description('Unpin a resource')
    .option('-r, --resource <pipeline/resource>', 'resource')
    .action(async (opts: { target?: string; resource?: string }) => {
      const [pipeline, resource] = splitFlag(opts.resource, '-r, --resource', 'resource');
      const { client, team } = connect(opts);
      await run(async () => {
        await client.request('PUT', pipelinePath(team, pipeline, `/resources/${enc(resource)}/unpin`));
        io.stdout(`unpinned '${resource}'\n`);
      });
    });
}
