// `jetway execute`: runs a task file once on the server with local directories as its inputs
// (uploaded as tarballs), follows the build, and downloads its outputs into local directories.
//
// The one-off plan (fly's shape): the uploads come in as `artifact_input` steps, then the task
// with its config inline; with outputs, an `ensure` saves each as an `artifact_output`, so
// outputs come back even when the task fails. The exit code is fly's: the task's exit status,
// else 1 failed / 2 errored / 3 aborted. Ctrl-C aborts the build.
import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { createWriteStream, existsSync, statSync } from 'node:fs';
import { mkdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { promisify } from 'node:util';
import type { Command } from 'commander';
import * as tar from 'tar';
import { formatDiagnostic, loadTaskConfig, type TaskConfig } from '../../config/index.ts';
import { CliExit, usageError, type CliIO } from '../io.ts';
import { addTargetOption, connect, pipelinePath, run, collect } from '../client/common.ts';
import type { ApiClient } from '../client/http.ts';
import { watchBuild } from '../client/watch.ts';
import type { Artifact, Build, NextBuildInput } from '../../api/wire.ts';
import { parseJobFlag } from '../client/pipeline-ref.ts';
import { readText, varsFromFlags, type VarOptions } from './validate-pipeline.ts';

type Options = VarOptions & {
  target?: string;
  config?: string;
  input: string[];
  output: string[];
  privileged?: boolean;
  inputsFrom?: string;
  includeIgnored?: boolean;
};

export type JsonPlan = Record<string, unknown>;

const execFileAsync = promisify(execFile);

/** `name=path` pairs → a map; a repeated name or a pair without `=` is a usage error. */
export function parseMappings(pairs: readonly string[], flag: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const pair of pairs) {
    const i = pair.indexOf('=');
    if (i <= 0 || i === pair.length - 1) throw usageError(`error: ${flag} must be name=path (got '${pair}')`);
    const name = pair.slice(0, i);
    if (out.has(name)) throw usageError(`error: ${flag} ${name} is given twice`);
    out.set(name, pair.slice(i + 1));
  }
  return out;
}

/**
 * The local directory of each task input: the -i mappings; with none, the current directory
 * for a task with exactly one input (as fly does). Unknown names and missing required inputs
 * are usage errors.
 */
export function resolveInputs(config: TaskConfig, given: Map<string, string>, cwd: string, fromJob: ReadonlySet<string> = new Set()): Map<string, string> {
  const inputs = (config.inputs ?? []).filter((i): i is typeof i & { name: string } => typeof i.name === 'string' && i.name !== '');
  const names = new Set(inputs.map((i) => i.name));
  for (const name of given.keys()) {
    if (!names.has(name)) throw usageError(`error: unknown input '${name}' (the task's inputs: ${[...names].join(', ') || 'none'})`);
  }
  const out = new Map<string, string>();
  if (given.size === 0 && inputs.length === 1 && !fromJob.has(inputs[0]!.name)) {
    out.set(inputs[0]!.name, cwd);
    return out;
  }
  for (const input of inputs) {
    const path = given.get(input.name);
    if (path !== undefined) out.set(input.name, resolve(cwd, path));
    else if (!input.optional && !fromJob.has(input.name)) throw usageError(`error: missing required input '${input.name}': pass -i ${input.name}=<directory>`);
  }
  return out;
}

/** The one-off plan for the task, its uploaded inputs (artifact ids) and the outputs to bring back. */
export function oneOffPlan(config: TaskConfig, inputs: Map<string, number>, outputs: readonly string[], privileged = false, gets: readonly JobInputGet[] = []): JsonPlan {
  let next = 1;
  const id = () => (next++).toString(16);
  const inputSteps = [
    ...[...inputs].map(([name, artifactId]) => ({ id: id(), artifact_input: { artifact_id: artifactId, name } })),
    // -j: the job's latest inputs, fetched in the pipeline (the server plans each get as the job does)
    ...gets.map((g) => ({ id: id(), get: { name: g.name, resource: g.resource, version: g.version } })),
  ];
  const task = { id: id(), task: { name: 'one-off', config, ...(privileged ? { privileged: true } : {}) } };
  const main = { id: id(), do: [...(inputSteps.length > 0 ? [{ id: id(), in_parallel: { steps: inputSteps } }] : []), task] };
  if (outputs.length === 0) return main;
  const save = { id: id(), in_parallel: { steps: outputs.map((name) => ({ id: id(), artifact_output: { name } })) } };
  return { id: id(), ensure: { step: main, ensure: save } };
}

/** A task input fetched from the job's inputs (`-j`): the pipeline's resource at the version. */
export interface JobInputGet {
  name: string;
  resource: string;
  version: Record<string, string>;
}

/**
 * fly's `--inputs-from` (fly/commands/execute.go, executehelpers/inputs.go): each task input not
 * uploaded with -i comes from the job's input of that name at the version it would use now.
 */
export function inputsFromJob(config: TaskConfig, uploaded: ReadonlySet<string>, jobInputs: readonly NextBuildInput[]): JobInputGet[] {
  const out: JobInputGet[] = [];
  for (const input of config.inputs ?? []) {
    if (typeof input.name !== 'string' || uploaded.has(input.name)) continue;
    const from = jobInputs.find((j) => j.name === input.name);
    if (!from?.version) continue;
    out.push({ name: input.name, resource: from.resource, version: from.version as Record<string, string> });
  }
  return out;
}

/** fly execute: a task param set in the environment takes the environment's value. */
function paramsFromEnv(config: TaskConfig, env: NodeJS.ProcessEnv): TaskConfig {
  const params = config.params as Record<string, unknown> | undefined;
  if (!params) return config;
  const out: Record<string, unknown> = { ...params };
  for (const key of Object.keys(out)) if (env[key] !== undefined) out[key] = env[key];
  return { ...config, params: out } as TaskConfig;
}

/**
 * The paths of `dir` an input uploads, as fly's (fly/commands/internal/executehelpers/uploads.go):
 * in a git work tree, its tracked files that still exist and its untracked files that
 * `.gitignore` does not exclude (so no `.git`, no build output); anywhere else, or with
 * `--include-ignored`, everything (`.`).
 */
export function uploadSelection(listing: { tracked: string[]; deleted: string[]; untracked: string[] } | undefined): string[] {
  if (!listing) return ['.'];
  const deleted = new Set(listing.deleted);
  return [...new Set([...listing.tracked.filter((f) => !deleted.has(f)), ...listing.untracked])];
}

/** `git ls-files` in `dir`: undefined when it is not in a git work tree (or git is missing). */
async function gitListing(dir: string): Promise<{ tracked: string[]; deleted: string[]; untracked: string[] } | undefined> {
  const ls = async (...flags: string[]): Promise<string[]> => {
    const { stdout } = await execFileAsync('git', ['ls-files', '-z', ...flags], { cwd: dir, maxBuffer: 256 * 1024 * 1024, encoding: 'buffer' });
    return stdout.toString('utf8').split('\0').filter((f) => f !== '');
  };
  try {
    return { tracked: await ls(), deleted: await ls('--deleted'), untracked: await ls('--others', '--exclude-standard') };
  } catch {
    return undefined;
  }
}

async function uploadDirectory(client: ApiClient, team: string, dir: string, includeIgnored: boolean): Promise<number> {
  const files = uploadSelection(includeIgnored ? undefined : await gitListing(dir));
  // an empty selection (a work tree of ignored files only) is an empty archive
  const pack = files.length > 0 ? tar.c({ gzip: true, cwd: dir, portable: true }, files) : tar.c({ gzip: true, cwd: dir, portable: true, filter: () => false }, ['.']);
  const res = await client.upload(`/api/v1/teams/${encodeURIComponent(team)}/artifacts`, Readable.from(pack), 'application/gzip');
  return res.json<Artifact>().id;
}

async function downloadInto(client: ApiClient, team: string, artifactId: number, dest: string): Promise<void> {
  const file = join(tmpdir(), `jetway-output-${randomUUID()}.tgz`);
  try {
    await pipeline(await client.download(`/api/v1/teams/${encodeURIComponent(team)}/artifacts/${artifactId}`), createWriteStream(file));
    await mkdir(dest, { recursive: true });
    await tar.x({ file, cwd: dest });
  } finally {
    await rm(file, { force: true });
  }
}

export function registerExecute(program: Command, io: CliIO): void {
  addTargetOption(program.command('execute'))
    .description('Run a task once on the server with local inputs, and download its outputs')
    .option('-c, --config <file>', 'the task config file')
    .option('-i, --input <name=path>', 'a local directory as the task input name (repeatable)', collect, [])
    .option('-o, --output <name=path>', 'download the task output name into a local directory (repeatable)', collect, [])
    .option('-l, --load-vars-from <file>', 'YAML file of vars for the task config (repeatable)', collect, [])
    .option('-v, --var <name=value>', 'string var (repeatable)', collect, [])
    .option('-y, --yaml-var <name=yaml>', 'typed YAML var (repeatable)', collect, [])
    .option('-p, --privileged', 'run the task privileged')
    .option('--include-ignored', 'upload the files .gitignore excludes too (by default, an input in a git work tree is its tracked and unignored files, as fly uploads it)')
    .option('-j, --inputs-from <pipeline/job>', "the inputs not given with -i come from the job's inputs, at the versions it would use, fetched in its pipeline")
    .action(async (opts: Options) => {
      if (!opts.config) throw usageError('error: required option -c, --config <file> not specified');
      const file = opts.config;
      const vars = varsFromFlags(opts);
      const loaded = loadTaskConfig(readText(file), { file, vars });
      for (const w of loaded.warnings) io.stderr(`${formatDiagnostic(w)}\n`);
      if (loaded.errors.length > 0 || !loaded.config) {
        for (const e of loaded.errors) io.stderr(`${formatDiagnostic(e)}\n`);
        throw new CliExit(1, `error: ${file} is invalid: ${loaded.errors.length} error(s)`);
      }
      const config = paramsFromEnv(loaded.config, process.env);
      const fromJob = opts.inputsFrom !== undefined ? parseJobFlag(opts.inputsFrom, '-j, --inputs-from', 'job') : undefined;
      const given = parseMappings(opts.input, '-i, --input');
      const { client, team, target } = connect(opts);
      // -j: the job's inputs now (GET .../jobs/:job/inputs), for the task inputs not given
      let gets: JobInputGet[] = [];
      if (fromJob) {
        const [ref, job] = fromJob;
        await run(async () => {
          const jobInputs = await client.get<NextBuildInput[]>(pipelinePath(team, ref, `/jobs/${encodeURIComponent(job)}/inputs`));
          gets = inputsFromJob(config, new Set(given.keys()), jobInputs);
        });
      }
      const inputs = resolveInputs(config, given, process.cwd(), new Set(gets.map((g) => g.name)));
      for (const [name, dir] of inputs) {
        if (!existsSync(dir) || !statSync(dir).isDirectory()) throw usageError(`error: input '${name}': ${dir} is not a directory`);
      }
      const outputs = parseMappings(opts.output, '-o, --output');
      const outputNames = new Set((config.outputs ?? []).map((o) => o.name));
      for (const name of outputs.keys()) {
        if (!outputNames.has(name)) throw usageError(`error: unknown output '${name}' (the task's outputs: ${[...outputNames].join(', ') || 'none'})`);
      }

      let code = 0;
      await run(async () => {
        const uploaded = new Map<string, number>();
        for (const [name, dir] of inputs) {
          io.stderr(`uploading ${name}...`);
          uploaded.set(name, await uploadDirectory(client, team, dir, opts.includeIgnored === true));
          io.stderr(' done\n');
        }
        const plan = oneOffPlan(config, uploaded, [...outputs.keys()], opts.privileged === true, gets);
        // -j: a build of the job's pipeline (CreatePipelineBuild): its resources and ((vars)) are the pipeline's
        const url = fromJob ? pipelinePath(team, fromJob[0], '/builds') : `/api/v1/teams/${encodeURIComponent(team)}/builds`;
        const build = (await client.request('POST', url, { body: plan })).json<Build>();
        io.stderr(`executing build ${build.id} at ${target.api.replace(/\/+$/, '')}/#/builds/${build.id}\n`);
        // as fly: Ctrl-C aborts the one-off build (its outputs are still saved), a second one
        // stops waiting
        let interrupted = false;
        const onInterrupt = (): void => {
          if (interrupted) process.exit(130);
          interrupted = true;
          io.stderr(`\ninterrupted: aborting build ${build.id} (Ctrl-C again to stop waiting)\n`);
          client.request('PUT', `/api/v1/builds/${build.id}/abort`).catch((err: unknown) => io.stderr(`could not abort build ${build.id}: ${err instanceof Error ? err.message : String(err)}\n`));
        };
        process.on('SIGINT', onInterrupt);
        try {
          code = await watchBuild(client, build.id, io);
        } finally {
          process.off('SIGINT', onInterrupt);
        }
        if (outputs.size === 0) return;
        const artifacts = await client.get<Artifact[]>(`/api/v1/builds/${build.id}/artifacts`);
        for (const [name, dest] of outputs) {
          const a = artifacts.filter((x) => x.name === name).at(-1);
          if (!a) {
            io.stderr(`output '${name}' was not saved by the build; nothing downloaded\n`);
            if (code === 0) code = 1;
            continue;
          }
          io.stderr(`downloading ${name} to ${dest}...`);
          await downloadInto(client, team, a.id, resolve(process.cwd(), dest));
          io.stderr(' done\n');
        }
      });
      if (code !== 0) throw new CliExit(code);
    });
}
