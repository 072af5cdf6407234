// `jetway check-resource`: checks a resource now (from a version with --from), prints the check
// build and follows it unless --async; exits with the check's result.
import type { Command } from 'commander';
import { CliExit, type CliIO } from '../io.ts';
import { addTargetOption, connect, enc, pipelinePath, run, splitFlag, collect } from '../client/common.ts';
import { watchBuild } from '../client/watch.ts';
import { parseVersionPairs } from '../client/versions.ts';
import type { Build } from '../../api/wire.ts';
import { refString } from '../client/pipeline-ref.ts';

type Options = { target?: string; resource?: string; from: string[]; shallow?: boolean; async?: boolean; watch?: boolean };

/** Registers check-resource (`-r pipeline/resource`) or check-resource-type (`-r pipeline/type`). */
export function registerCheckCommand(program: Command, io: CliIO, kind: 'resource' | 'resource-type'): void {
  const what = kind === 'resource' ? 'resource' : 'type';
  addTargetOption(program.command(`check-${kind}`))
    .description(kind === 'resource' ? 'Check a resource for new versions' : 'Check a resource type for new versions')
    .option(`-r, --${kind} <pipeline/${what}>`, kind === 'resource' ? 'resource' : 'resource type')
    .option('-f, --from <key:value>', 'check from this version (repeatable; the fields of one version)', collect, [])
    .option('--shallow', 'do not check the resource types it depends on unless their interval elapsed')
    .option('-a, --async', 'return once the check has started')
    .option('-w, --watch', 'follow the check build (the default)')
    .action(async (opts: Options & { resourceType?: string }) => {
      const flag = kind === 'resource' ? opts.resource : opts.resourceType;
      const [pipeline, name] = splitFlag(flag, `-r, --${kind}`, what);
      const from = parseVersionPairs(opts.from, '--from');
      const { client, team } = connect(opts);
      let code = 0;
      await run(async () => {
        const path = pipelinePath(team, pipeline, `/${kind === 'resource' ? 'resources' : 'resource-types'}/${enc(name)}/check`);
        const body: Record<string, unknown> = {};
        if (Object.keys(from).length > 0) body.from = from;
        if (opts.shallow) body.shallow = true;
        const build = (await client.request('POST', path, { body })).json<Build>();
        io.stdout(`checking ${refString(pipeline)}/${name} in build ${build.id}\n`);
        if (opts.async) return;
        code = await watchBuild(client, build.id, io);
      });
      if (code !== 0) throw new CliExit(code);
    });
}

export function registerCheckResource(program: Command, io: CliIO): void {
  registerCheckCommand(program, io, 'resource');
}
