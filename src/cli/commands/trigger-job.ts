// `jetway trigger-job`: starts a new build of a job; -w follows it (exit code as fly watch).
import type { Command } from 'commander';
import { CliExit, type CliIO } from '../io.ts';
import { addTargetOption, connect, enc, pipelinePath, run, splitFlag } from '../client/common.ts';
import { watchBuild } from '../client/watch.ts';
import { heldByPause, reportPending, withUnpauseHints } from '../client/pending.ts';
import type { Build } from '../../api/wire.ts';
import { refString } from '../client/pipeline-ref.ts';

export function registerTriggerJob(program: Command, io: CliIO): void {
  addTargetOption(program.command('trigger-job'))
    .description('Trigger a job')
    .option('-j, --job <pipeline/job>', 'job')
    .option('-w, --watch', 'follow the build and exit with its result')
    .action(async (opts: { target?: string; job?: string; watch?: boolean }) => {
      const [pipeline, job] = splitFlag(opts.job, '-j, --job', 'job');
      const { client, team, name } = connect(opts);
      let code = 0;
      await run(async () => {
        const build = (await client.request('POST', pipelinePath(team, pipeline, `/jobs/${enc(job)}/builds`))).json<Build>();
        io.stdout(`started ${refString(pipeline)}/${job} #${build.name}\n`);
        if (opts.watch) {
          // a paused pipeline or job starts no build: say so at once instead of waiting in silence;
          // any other wait (checks, inputs, max-in-flight) is said when it lasts
          const prefix = `${refString(pipeline)}/${job} #${build.name}`;
          const hinted = (reason: string): string => withUnpauseHints(reason, name, refString(pipeline), job);
          if (heldByPause(build.pending_reason)) io.stderr(`${prefix} stays pending: ${hinted(build.pending_reason!)}\n`);
          const watching = watchBuild(client, build.id, io);
          const reporting = reportPending(client, build.id, watching, (r) => io.stderr(`${prefix} still pending: ${hinted(r)}\n`), {
            alreadySaid: heldByPause(build.pending_reason) ? build.pending_reason : undefined,
          });
          code = await watching;
          await reporting;
        }
      });
      if (code !== 0) throw new CliExit(code);
    });
}
