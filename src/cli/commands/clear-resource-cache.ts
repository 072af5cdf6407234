// `jetway clear-resource-cache`: removes a resource's caches (only those of one version with -v),
// so its next gets fetch again, after confirmation (or -n), as fly's.
import type { Command } from 'commander';
import { CliExit, type CliIO } from '../io.ts';
import { addTargetOption, confirm, connect, enc, pipelinePath, run, splitFlag, collect } from '../client/common.ts';
import type { ClearCacheResponse } from '../../api/wire.ts';
import { parseVersionPairs } from '../client/versions.ts';
import { refString } from '../client/pipeline-ref.ts';

type Options = { target?: string; resource?: string; version: string[]; nonInteractive?: boolean };

export function registerClearResourceCache(program: Command, io: CliIO): void {
  addTargetOption(program.command('clear-resource-cache'))
    .description("Clear a resource's caches")
    .option('-r, --resource <pipeline/resource>', 'resource')
    .option('-v, --version <key:value>', 'only the caches of this version: its key:value pairs (repeatable; the whole version)', collect, [])
    .option('-n, --non-interactive', 'clear without asking')
    .action(async (opts: Options) => {
      const [pipeline, resource] = splitFlag(opts.resource, '-r, --resource', 'resource');
      const version = parseVersionPairs(opts.version, '-v, --version');
      const { client, team } = connect(opts);
      const given = Object.keys(version).length > 0;
      io.stdout(`!!! this will remove the resource cache(s) for \`${refString(pipeline)}/${resource}\`${given ? ` with version: \`${JSON.stringify(version)}\`` : ''}\n\n`);
      if (!opts.nonInteractive && !(await confirm(io, 'are you sure?'))) throw new CliExit(1, 'bailing out');
      await run(async () => {
        const query = given ? `?${new URLSearchParams({ version: JSON.stringify(version) }).toString()}` : '';
        const res = await client.request('DELETE', pipelinePath(team, pipeline, `/resources/${enc(resource)}/cache${query}`));
        io.stdout(`${res.json<ClearCacheResponse>().caches_removed} caches removed\n`);
      });
    });
}
