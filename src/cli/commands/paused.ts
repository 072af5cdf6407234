// `jetway paused-pipelines` (fly's `pps`) and `jetway paused-jobs -p P` (`pjs`): the paused ones
// only, with who paused them and when where the server knows (fly/commands/paused_pipelines.go,
// paused_jobs.go).
import type { Command } from 'commander';
import type { CliIO } from '../io.ts';
import { addOutputOptions, addTargetOption, connect, enc, formatTable, formatTime, pipelinePath, printJson, run, wantsJson } from '../client/common.ts';
import type { Job, Pipeline } from '../../api/wire.ts';
import { parsePipelineFlag } from '../client/pipeline-ref.ts';

const byWhom = (who: string | undefined): string => who || 'n/a';
const when = (at: number | undefined): string => (at ? formatTime(at) : 'n/a');

export function registerPausedPipelines(program: Command, io: CliIO): void {
  addOutputOptions(addTargetOption(program.command('paused-pipelines')))
    .description('List paused pipelines')
    .option('-a, --all', 'pipelines of every team you can see')
    .action(async (opts: { target?: string; all?: boolean; output?: string; json?: boolean }) => {
      const json = wantsJson(opts);
      const { client, team } = connect(opts);
      await run(async () => {
        const path = opts.all ? '/api/v1/pipelines' : `/api/v1/teams/${enc(team)}/pipelines`;
        const paused = (await client.get<Pipeline[]>(path)).filter((p) => p.paused);
        if (json) return printJson(io, paused);
        const headers = ['id', 'name', ...(opts.all ? ['team'] : []), 'paused', 'paused by', 'paused at'];
        const rows = paused.map((p) => {
          const name = p.instance_vars ? `${p.name}/${JSON.stringify(p.instance_vars)}` : p.name;
          return [String(p.id), name, ...(opts.all ? [p.team_name] : []), 'yes', byWhom(p.paused_by), when(p.paused_at)];
        });
        io.stdout(formatTable(headers, rows));
      });
    });
}

export function registerPausedJobs(program: Command, io: CliIO): void {
  addOutputOptions(addTargetOption(program.command('paused-jobs')))
    .description("List a pipeline's paused jobs")
    .requiredOption('-p, --pipeline <pipeline>', 'the pipeline')
    .option('--team <team>', "the pipeline's team, if not the target's")
    .action(async (opts: { target?: string; pipeline: string; team?: string; output?: string; json?: boolean }) => {
      const json = wantsJson(opts);
      const { client, team } = connect(opts);
      await run(async () => {
        const paused = (await client.get<Job[]>(pipelinePath(opts.team ?? team, parsePipelineFlag(opts.pipeline), `/jobs`))).filter((j) => j.paused);
        if (json) return printJson(io, paused);
        io.stdout(formatTable(['name', 'paused', 'paused by', 'paused at'], paused.map((j) => [j.name, 'yes', 'n/a', 'n/a'])));
      });
    });
}
