// `jetway resources`: a pipeline's resources, with the state of each one's latest check and,
// under the table, why a failing check failed.
import type { Command } from 'commander';
import type { CliIO } from '../io.ts';
import { addOutputOptions, addTargetOption, connect, formatTable, pipelinePath, printJson, run, wantsJson } from '../client/common.ts';
import type { ApiClient } from '../client/http.ts';
import type { Resource } from '../../api/wire.ts';
import { parsePipelineFlag, refString } from '../client/pipeline-ref.ts';

const FAILING = new Set(['failed', 'errored']);

/** `k:v,k:v` sorted, as fly shows a version (fly/ui/present.go PresentVersion). */
export function presentVersion(version: Record<string, unknown>): string {
  return Object.entries(version)
    .map(([k, v]) => `${k}:${String(v)}`)
    .sort((a, b) => (a < b ? -1 : a > b ? 1 : 0))
    .join(',');
}

/** The last error a finished build reported (its `error` events), if any. */
export async function buildError(client: ApiClient, buildId: number): Promise<string | undefined> {
  let message: string | undefined;
  await client.streamEvents(buildId, (_id, e) => {
    if (e.event === 'error' && typeof e.data.message === 'string') message = e.data.message.trim();
  });
  return message;
}

export function registerResources(program: Command, io: CliIO): void {
  addOutputOptions(addTargetOption(program.command('resources')))
    .description("List a pipeline's resources")
    .option('-p, --pipeline <name>', 'pipeline')
    .action(async (opts: { target?: string; pipeline?: string; output?: string; json?: boolean }) => {
      const ref = parsePipelineFlag(opts.pipeline);
      const pipeline = refString(ref);
      const json = wantsJson(opts);
      const { client, team, name: target } = connect(opts);
      await run(async () => {
        const resources = await client.get<Resource[]>(pipelinePath(team, ref, `/resources`));
        if (json) return printJson(io, resources);
        // fly/commands/resources.go; when each was last checked is in --json (last_checked)
        const rows = resources.map((r) => [r.name, r.type, r.pinned_version ? presentVersion(r.pinned_version) : 'n/a', r.build?.status ?? 'n/a']);
        io.stdout(formatTable(['name', 'type', 'pinned', 'check status'], rows));
        for (const r of resources) {
          if (!r.build || !FAILING.has(r.build.status)) continue;
          const error = (await buildError(client, r.build.id).catch(() => undefined)) ?? 'see the build';
          const t = target ? ` -t ${target}` : '';
          io.stdout(`\n${r.name}: check ${r.build.status} (build ${r.build.id}): ${error}\n  check again: jetway check-resource${t} -r ${pipeline}/${r.name}\n`);
        }
      });
    });
}
