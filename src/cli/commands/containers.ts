// `jetway containers` (fly's `containers`): the containers of the team's running builds, as the
// runtime lists them for intercept (runc containers on the local runtime, pods on Kubernetes;
// GET /api/v1/teams/:team/containers, team-scoped).
import type { Command } from 'commander';
import type { CliIO } from '../io.ts';
import type { TeamContainer } from '../../api/wire.ts';
import { addOutputOptions, addTargetOption, connect, formatTable, printJson, run, wantsJson } from '../client/common.ts';

export function registerContainers(program: Command, io: CliIO): void {
  addOutputOptions(addTargetOption(program.command('containers')))
    .description("List the containers of your team's running builds")
    .action(async (opts: { target?: string; output?: string; json?: boolean }) => {
      const json = wantsJson(opts);
      const { client, team } = connect(opts);
      await run(async () => {
        const containers = await client.get<TeamContainer[]>(`/api/v1/teams/${encodeURIComponent(team)}/containers`);
        if (json) return printJson(io, containers);
        const rows = containers.map((c) => [
          c.id,
          c.build_id !== undefined ? `${c.build_id}${c.build_name ? ` (#${c.build_name})` : ''}` : 'none',
          c.pipeline_name ? `${c.pipeline_name}/${c.job_name ?? ''}` : 'one-off',
          c.step_name ?? '',
          c.type ?? '',
          c.state ?? '',
        ]);
        io.stdout(formatTable(['handle', 'build', 'pipeline/job', 'step', 'type', 'state'], rows));
      });
    });
}
