// `jetway enable-resource-version` / `disable-resource-version`: the newest version matching -v
// is used (enabled) or skipped (disabled) by the scheduler.
import type { Command } from 'commander';
import { usageError, type CliIO } from '../io.ts';
import { addTargetOption, connect, enc, pipelinePath, run, splitFlag, collect } from '../client/common.ts';
import { findVersion, parseVersionPairs } from '../client/versions.ts';

export function registerVersionToggle(program: Command, io: CliIO, action: 'enable' | 'disable'): void {
  addTargetOption(program.command(`${action}-resource-version`))
    .description(action === 'enable' ? 'Enable a version of a resource' : 'Disable a version of a resource (builds will not use it)')
    .option('-r, --resource <pipeline/resource>', 'resource')
    .option('-v, --version <key:value>', 'the version: key:value pairs (repeatable; the newest version containing them)', collect, [])
    .action(async (opts: { target?: string; resource?: string; version: string[] }) => {
      const [pipeline, resource] = splitFlag(opts.resource, '-r, --resource', 'resource');
      const partial = parseVersionPairs(opts.version, '-v, --version');
      if (Object.keys(partial).length === 0) throw usageError('error: required option -v, --version <key:value> not specified');
      const { client, team } = connect(opts);
      await run(async () => {
        const v = await findVersion(client, team, pipeline, resource, partial);
        await client.request('PUT', pipelinePath(team, pipeline, `/resources/${enc(resource)}/versions/${v.id}/${action}`));
        io.stdout(`${action}d '${resource}' with version ${JSON.stringify(v.version)}\n`);
      });
    });
}

export function registerEnableResourceVersion(program: Command, io: CliIO): void {
  registerVersionToggle(program, io, 'enable');
}
