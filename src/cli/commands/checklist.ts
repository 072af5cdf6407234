// `jetway checklist -p PIPELINE` (fly's `checklist`, fly/commands/checklist.go): a Checkfile for
// the pipeline's jobs, one section per group and the jobs in no group under `misc` (or under
// the pipeline's name when it has no groups), each line `JOB: concourse.check URL TEAM PIPELINE
// JOB`, so checkmake-style tools fed by fly's output work with Jetway's.
import type { Command } from 'commander';
import type { CliIO } from '../io.ts';
import type { PipelineConfig } from '../../config/index.ts';
import type { ConfigResponse } from '../../api/wire.ts';
import { addTargetOption, connect, pipelinePath, run } from '../client/common.ts';
import { parsePipelineFlag, refString } from '../client/pipeline-ref.ts';

/** The Checkfile of a pipeline's config, as fly prints it: groups in order, then the jobs no group names (sorted). */
export function checkfile(team: string, pipeline: string, config: Pick<PipelineConfig, 'jobs' | 'groups'>, url: string): string {
  const groups = config.groups ?? [];
  const section = (name: string, jobs: readonly string[]): string =>
    `#- ${name}\n${jobs.map((job) => `${job}: concourse.check ${url} ${team} ${pipeline} ${job}\n`).join('')}\n`;
  const names = (xs: readonly (string | undefined)[] | undefined): string[] => (xs ?? []).filter((x): x is string => typeof x === 'string');
  const grouped = new Set(groups.flatMap((g) => names(g.jobs)));
  const orphans = names((config.jobs ?? []).map((j) => j.name)).filter((name) => !grouped.has(name)).sort();
  return (
    groups.map((g) => section(g.name ?? '', names(g.jobs))).join('') +
    (orphans.length > 0 ? section(groups.length === 0 ? pipeline : 'misc', orphans) : '')
  );
}

export function registerChecklist(program: Command, io: CliIO): void {
  addTargetOption(program.command('checklist'))
    .description('Print a Checkfile of the given pipeline')
    .option('-p, --pipeline <name>', 'the pipeline from which to generate the Checkfile')
    .option('--team <team>', "the pipeline's team, if not the target's")
    .action(async (opts: { target?: string; pipeline?: string; team?: string }) => {
      const ref = parsePipelineFlag(opts.pipeline);
      const { client, team, target } = connect(opts);
      const owner = opts.team ?? team;
      await run(async () => {
        const { config } = (await client.request('GET', pipelinePath(owner, ref, '/config'))).json<ConfigResponse<PipelineConfig>>();
        io.stdout(checkfile(owner, refString(ref), config, target.api));
      });
    });
}
