// `jetway get-pipeline`: the pipeline's config as saved (YAML, or JSON with --output json).
import type { Command } from 'commander';
import type { CliIO } from '../io.ts';
import { stringifyPipeline, type PipelineConfig } from '../../config/index.ts';
import { addTargetOption, connect, pipelinePath, printJson, run, wantsJson } from '../client/common.ts';
import type { ConfigResponse } from '../../api/wire.ts';
import { parsePipelineFlag } from '../client/pipeline-ref.ts';

export function registerGetPipeline(program: Command, io: CliIO): void {
  addTargetOption(program.command('get-pipeline'))
    .description("Print a pipeline's current config")
    .option('-p, --pipeline <name>', 'pipeline')
    .option('-o, --output <format>', 'yaml or json', 'yaml')
    .option('-j, --json', 'same as --output json')
    .action(async (opts: { target?: string; pipeline?: string; output?: string; json?: boolean }) => {
      const ref = parsePipelineFlag(opts.pipeline);
      const json = wantsJson(opts, ['yaml', 'json']);
      const { client, team } = connect(opts);
      await run(async () => {
        const res = await client.request('GET', pipelinePath(team, ref, `/config`));
        const { config } = res.json<ConfigResponse<PipelineConfig>>();
        if (json) printJson(io, config);
        else io.stdout(stringifyPipeline(config));
      });
    });
}
