// `jetway resource-versions`: a resource's versions, newest first (following the API's pages).
import type { Command } from 'commander';
import { usageError, type CliIO } from '../io.ts';
import { addOutputOptions, addTargetOption, connect, enc, formatTable, pipelinePath, printJson, run, splitFlag, wantsJson, yesNo } from '../client/common.ts';
import { presentVersion } from './resources.ts';
import type { ResourceVersion } from '../../api/wire.ts';

export function registerResourceVersions(program: Command, io: CliIO): void {
  addOutputOptions(addTargetOption(program.command('resource-versions')))
    .description('List the versions of a resource, newest first')
    .option('-r, --resource <pipeline/resource>', 'resource')
    .option('-c, --count <n>', 'how many versions', '50')
    .action(async (opts: { target?: string; resource?: string; count: string; output?: string; json?: boolean }) => {
      const [pipeline, resource] = splitFlag(opts.resource, '-r, --resource', 'resource');
      if (!/^\d+$/.test(opts.count) || Number(opts.count) < 1) throw usageError(`error: -c must be a positive number (got '${opts.count}')`);
      const count = Number(opts.count);
      const json = wantsJson(opts);
      const { client, team } = connect(opts);
      await run(async () => {
        const versions: ResourceVersion[] = [];
        let path: string | undefined = pipelinePath(team, pipeline, `/resources/${enc(resource)}/versions?limit=${Math.min(count, 500)}`);
        while (path && versions.length < count) {
          const res = await client.request('GET', path);
          versions.push(...res.json<ResourceVersion[]>());
          // the link is absolute on the server's external URL (as Concourse's): follow its path on this target
          const next = /<([^>]+)>; rel="next"/.exec(res.headers.get('link') ?? '')?.[1];
          path = next === undefined ? undefined : pathOfLink(next);
        }
        const shown = versions.slice(0, count);
        if (json) return printJson(io, shown);
        // fly/commands/resource_versions.go
        const rows = shown.map((v) => [String(v.id), presentVersion(v.version), yesNo(v.enabled)]);
        io.stdout(formatTable(['id', 'version', 'enabled'], rows));
      });
    });
}

/** The path and query of a Link header's URL (absolute or not). */
export function pathOfLink(link: string): string {
  const url = new URL(link, 'http://link.invalid');
  return `${url.pathname}${url.search}`;
}
