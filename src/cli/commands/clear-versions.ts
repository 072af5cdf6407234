// `jetway clear-versions`: deletes the version history of a resource or a resource type, after
// confirmation (or -n), as fly's. The history is its scope's: resource types of the same type and
// source share one, so the prompt names what else loses it. Checks find the versions again.
import type { Command } from 'commander';
import { CliExit, usageError, type CliIO } from '../io.ts';
import { addTargetOption, confirm, connect, enc, pipelinePath, run, splitFlag } from '../client/common.ts';
import type { ClearVersionsResponse, ResourceIdentifier, ResourcesAndTypes } from '../../api/wire.ts';
import { refString } from '../client/pipeline-ref.ts';

type Options = { target?: string; resource?: string; resourceType?: string; nonInteractive?: boolean };

export function registerClearVersions(program: Command, io: CliIO): void {
  addTargetOption(program.command('clear-versions'))
    .description('Clear the version history of a resource or a resource type')
    .option('--resource <pipeline/resource>', 'resource')
    .option('--resource-type <pipeline/resource-type>', 'resource type')
    .option('-n, --non-interactive', 'clear without asking')
    .action(async (opts: Options) => {
      if (opts.resource === undefined && opts.resourceType === undefined) {
        throw usageError('error: give one of --resource <pipeline/resource> or --resource-type <pipeline/resource-type>');
      }
      if (opts.resource !== undefined && opts.resourceType !== undefined) {
        throw usageError('error: give only one of --resource and --resource-type');
      }
      const kind = opts.resourceType !== undefined ? 'resource type' : 'resource';
      const [pipeline, name] =
        kind === 'resource type' ? splitFlag(opts.resourceType, '--resource-type', 'resource-type') : splitFlag(opts.resource, '--resource', 'resource');
      const { client, team } = connect(opts);
      const base = (rest = ''): string => pipelinePath(team, pipeline, `/${kind === 'resource type' ? 'resource-types' : 'resources'}/${enc(name)}${rest}`);
      await run(async () => {
        const shared = await client.get<ResourcesAndTypes>(base(`/shared`));
        const isSelf = (s: ResourceIdentifier, k: string): boolean => k === kind && s.team_name === team && s.pipeline_name === pipeline.name && s.name === name;
        const others = [
          ...shared.resources.filter((s) => !isSelf(s, 'resource')).map((s) => `- ${s.team_name}/${s.pipeline_name}/${s.name} (resource)\n`),
          ...shared.resource_types.filter((s) => !isSelf(s, 'resource type')).map((s) => `- ${s.team_name}/${s.pipeline_name}/${s.name} (resource type)\n`),
        ];
        const hidden = shared.other_teams ?? 0;
        if (hidden > 0) others.push(`- ${hidden} more in teams you are not a member of\n`);
        io.stdout(
          others.length === 0
            ? `!!! this will clear the version history of ${kind} \`${refString(pipeline)}/${name}\`\n\n`
            : `!!! this will clear the version history of ${kind} \`${refString(pipeline)}/${name}\`, which it shares with:\n${others.join('')}\n`,
        );
        if (!opts.nonInteractive && !(await confirm(io, 'are you sure?'))) throw new CliExit(1, 'bailing out');
        const res = await client.request('DELETE', base(`/versions`));
        io.stdout(`${res.json<ClearVersionsResponse>().versions_removed} versions removed\n`);
      });
    });
}
