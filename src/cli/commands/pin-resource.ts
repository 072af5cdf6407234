// `jetway pin-resource`: pins a resource to the newest version matching -v (a partial version),
// and/or sets the pin's comment (-c).
import type { Command } from 'commander';
import { usageError, type CliIO } from '../io.ts';
import { addTargetOption, connect, enc, pipelinePath, run, splitFlag, collect } from '../client/common.ts';
import { findVersion, parseVersionPairs } from '../client/versions.ts';

type Options = { target?: string; resource?: string; version: string[]; comment?: string };

export function registerPinResource(program: Command, io: CliIO): void {
  addTargetOption(program.command('pin-resource'))
    .description('Pin a resource to a version')
    .option('-r, --resource <pipeline/resource>', 'resource')
    .option('-v, --version <key:value>', 'the version: key:value pairs (repeatable; the newest version containing them)', collect, [])
    .option('-c, --comment <text>', 'a comment on the pin')
    .action(async (opts: Options) => {
      const [pipeline, resource] = splitFlag(opts.resource, '-r, --resource', 'resource');
      const partial = parseVersionPairs(opts.version, '-v, --version');
      if (Object.keys(partial).length === 0 && opts.comment === undefined) {
        throw usageError('error: give -v <key:value> (the version to pin) and/or -c <comment>');
      }
      const { client, team } = connect(opts);
      await run(async () => {
        const base = (rest = ''): string => pipelinePath(team, pipeline, `/resources/${enc(resource)}${rest}`);
        if (Object.keys(partial).length > 0) {
          const v = await findVersion(client, team, pipeline, resource, partial);
          await client.request('PUT', base(`/versions/${v.id}/pin`));
          io.stdout(`pinned '${resource}' with version ${JSON.stringify(v.version)}\n`);
        }
        if (opts.comment !== undefined) {
          await client.request('PUT', base(`/pin_comment`), { body: { pin_comment: opts.comment } });
          io.stdout(`pin comment '${opts.comment}' is saved\n`);
        }
      });
    });
}
