// `jetway quickstart`: the main job on embedded defaults. Starts a web node (embedded Postgres,
// local runtime), then does what a new user would type: log in, set the example pipeline,
// unpause it, trigger its first job and watch the build. The server keeps running afterwards
// (unless --exit) with its URL and credentials printed.
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { packagePath, packageRoot } from '../../package.ts';
import { Command, Option } from 'commander';
import { pino } from 'pino';
import { CliExit, usageError, type CliIO } from '../io.ts';
import { startWebNode } from '../../web/web-node.ts';
import { stopEmbeddedPostgresOnlyWhenClosed } from '../../db/embedded.ts';
import { defaultJetwayDir, FlagError, parsePort } from '../../web/options.ts';
import { ApiClient } from '../client/http.ts';
import { getTarget } from '../client/targets.ts';
import type { Job } from '../../api/wire.ts';

const EXAMPLE = packagePath('examples', 'hello.yml');
const TARGET = 'quickstart';
/** How long --exit waits for the builds the first one triggers downstream. */
const DOWNSTREAM_WAIT_MS = 120_000;

/**
 * With --exit: the builds that the first one triggers (hello/ship after hello/unit) are waited
 * for, so the server never stops under a running build (a first dashboard with an aborted job).
 * Returns the jobs whose newest build was started after `since`, once none is pending or running.
 */
async function waitForDownstream(pipeline: string, first: string): Promise<string[]> {
  const client = ApiClient.forTarget(TARGET, getTarget(TARGET));
  const path = `/api/v1/teams/main/pipelines/${encodeURIComponent(pipeline)}/jobs`;
  const deadline = Date.now() + DOWNSTREAM_WAIT_MS;
  for (;;) {
    const jobs = await client.get<Job[]>(path);
    const busy = jobs.some((j) => j.next_build);
    // a job downstream of the first (passed: [first]) that has not run yet will be scheduled
    const waiting = jobs.filter((j) => j.name !== first && !j.finished_build && !j.paused && j.inputs.some((i) => (i.passed ?? []).includes(first) && i.trigger));
    if ((!busy && waiting.length === 0) || Date.now() > deadline) {
      return jobs.filter((j) => j.name !== first && j.finished_build).map((j) => j.name);
    }
    await new Promise((r) => setTimeout(r, 250));
  }
}

interface QuickstartFlags {
  port: string;
  dataDir: string;
  pipeline: string;
  exit?: boolean;
}

/** The quickstart user's password, generated once and kept (0600) so re-runs can log in again. */
function quickstartCredentials(dataDir: string): { username: string; password: string } {
  const file = join(dataDir, 'quickstart-credentials.json');
  if (existsSync(file)) return JSON.parse(readFileSync(file, 'utf8')) as { username: string; password: string };
  const creds = { username: 'admin', password: randomBytes(12).toString('base64url') };
  mkdirSync(dataDir, { recursive: true });
  writeFileSync(file, JSON.stringify(creds), { mode: 0o600 });
  return creds;
}

/** `runCli` is the CLI itself (injected: the quickstart types its commands as a user would). */
export function registerQuickstart(program: Command, io: CliIO, runCli: (argv: string[], io: CliIO) => Promise<number>): void {
  program
    .command('quickstart')
    .description('Start Jetway on embedded defaults, set the example pipeline, run it and watch the build')
    .addOption(new Option('--port <port>', 'port of the web node').default('8080'))
    .addOption(new Option('--data-dir <dir>', 'where Jetway keeps its data').default(defaultJetwayDir()).env('JETWAY_DATA_DIR'))
    .option('--pipeline <file>', 'the pipeline to set', EXAMPLE)
    .option('--exit', 'stop the server after the build instead of leaving it running')
    .action(async (flags: QuickstartFlags) => {
      let port: number;
      try {
        port = parsePort(flags.port);
      } catch (err) {
        throw usageError(`error: ${err instanceof FlagError ? err.message : String(err)}`);
      }
      const pipelineFile = resolve(flags.pipeline);
      if (!existsSync(pipelineFile)) throw usageError(`error: --pipeline: no such file ${pipelineFile}`);
      const dataDir = resolve(flags.dataDir);
      const creds = quickstartCredentials(dataDir);
      mkdirSync(dataDir, { recursive: true });
      const logFile = join(dataDir, 'web.log');
      const logger = pino({ name: 'jetway', level: 'info' }, pino.destination({ dest: logFile, sync: true, mkdir: true }));

      io.stdout(`starting Jetway (embedded Postgres and local runtime in ${dataDir}; logs in ${logFile})\n`);
      // this command stops the web node (and its embedded Postgres) itself on SIGINT/SIGTERM
      stopEmbeddedPostgresOnlyWhenClosed();
      const node = await startWebNode({
        dataDir,
        port,
        bindIp: '127.0.0.1',
        localUsers: [`${creds.username}:${creds.password}`],
        runtime: 'local',
        logger,
      });

      // What a user would type, through the same commands.
      const jetway = async (...argv: string[]): Promise<number> => {
        io.stdout(`\n$ jetway ${argv.map((a) => (a === creds.password ? '********' : a)).join(' ')}\n`);
        return runCli(argv, io);
      };
      let code = 0;
      try {
        const steps: string[][] = [
          ['login', '-t', TARGET, '-c', node.url, '-u', creds.username, '-p', creds.password],
          ['set-pipeline', '-t', TARGET, '-p', 'hello', '-c', pipelineFile, '-n'],
          ['unpause-pipeline', '-t', TARGET, '-p', 'hello'],
          ['trigger-job', '-t', TARGET, '-j', 'hello/unit', '-w'],
        ];
        for (const argv of steps) {
          code = await jetway(...argv);
          if (code !== 0) break;
        }
        if (code === 0 && flags.exit) {
          io.stdout('\nwaiting for the builds it triggered before stopping…\n');
          for (const job of await waitForDownstream('hello', 'unit')) {
            const watched = await jetway('watch', '-t', TARGET, '-j', `hello/${job}`);
            if (watched !== 0) code = watched;
          }
        }
      } catch (err) {
        await node.stop();
        throw err;
      }
      if (flags.exit) {
        await node.stop();
        if (code !== 0) throw new CliExit(code);
        return;
      }
      io.stdout(
        [
          '',
          `Jetway is running at ${node.url}`,
          `  web UI:   ${node.url}/ (log in as the user below)`,
          `  user:     ${creds.username}`,
          `  password: ${creds.password}`,
          `  target:   ${TARGET} (saved in ~/.jetwayrc), e.g. \`npx jetway -t ${TARGET} builds\` in ${packageRoot()}`,
          `            (anywhere: ${join(packageRoot(), 'bin', 'jetway.js')} -t ${TARGET} builds)`,
          'Press Ctrl-C to stop.',
          '',
        ].join('\n'),
      );
      await new Promise<void>((done) => {
        const stop = (): void => {
          process.off('SIGINT', stop);
          process.off('SIGTERM', stop);
          io.stdout('\nstopping Jetway…\n');
          void node.stop().finally(done);
        };
        process.on('SIGINT', stop);
        process.on('SIGTERM', stop);
      });
      if (code !== 0) throw new CliExit(code);
    });
}
