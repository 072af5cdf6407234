// `jetway pause-pipeline`, `unpause-pipeline`, `expose-pipeline`, `hide-pipeline`: one PUT on the
// pipeline each (Concourse's routes of the same names), so one table registers them.
import type { Command } from 'commander';
import type { CliIO } from '../io.ts';
import { addTargetOption, connect, pipelinePath, run } from '../client/common.ts';
import { parsePipelineFlag, refString } from '../client/pipeline-ref.ts';

const ACTIONS: { command: string; description: string; route: string; done: string }[] = [
  { command: 'pause-pipeline', description: 'Pause a pipeline (no new builds are scheduled)', route: 'pause', done: 'paused' },
  { command: 'unpause-pipeline', description: 'Unpause a pipeline', route: 'unpause', done: 'unpaused' },
  {
    command: 'expose-pipeline',
    // Concourse then shows it to everyone; Jetway's API serves pipelines to logged-in users only
    description: 'Mark a pipeline public (recorded; the API still needs a login to show it)',
    route: 'expose',
    done: 'exposed',
  },
  { command: 'hide-pipeline', description: 'Mark a pipeline private again', route: 'hide', done: 'hid' },
];

export function registerPipelineActions(program: Command, io: CliIO): void {
  for (const action of ACTIONS) {
    addTargetOption(program.command(action.command))
      .description(action.description)
      .option('-p, --pipeline <name>', 'pipeline')
      .action(async (opts: { target?: string; pipeline?: string }) => {
        const ref = parsePipelineFlag(opts.pipeline);
      const pipeline = refString(ref);
        const { client, team } = connect(opts);
        await run(async () => {
          await client.request('PUT', pipelinePath(team, ref, `/${action.route}`));
          io.stdout(`${action.done} '${pipeline}'\n`);
        });
      });
  }
}
