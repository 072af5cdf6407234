// `jetway set-pipeline`: validates the config locally (vars from -v/-y/-l interpolated here;
// unknown ((vars)) stay for the server's credential lookup at runtime), shows a diff against
// the server's config, asks for confirmation unless -n, and saves it with the config version
// it was based on (a concurrent change makes the save fail instead of being overwritten).
import type { Command } from 'commander';
import { CliExit, usageError, type CliIO } from '../io.ts';
import { formatDiagnostic, loadPipeline, stringifyPipeline, type PipelineConfig } from '../../config/index.ts';
import { readText, varsFromFlags, type VarOptions } from './validate-pipeline.ts';
import { addTargetOption, confirm, connect, pipelinePath, requireOption, run, collect } from '../client/common.ts';
import { ApiRequestError } from '../client/http.ts';
import { diffLines, formatDiff, hasChanges } from '../../config/diff.ts';
import type { ConfigResponse, Pipeline, SaveConfigResponse } from '../../api/wire.ts';
import { instanceVarsFromFlags, refString, type PipelineRef } from '../client/pipeline-ref.ts';

/** The web UI's query for an instanced pipeline (fly's PipelineRef.WebQueryParams: `vars.KEY=JSON`). */
function webVarsQuery(instanceVars: Record<string, unknown> | undefined): string {
  if (!instanceVars) return '';
  return `?${Object.entries(instanceVars)
    .map(([k, v]) => `vars.${encodeURIComponent(k)}=${encodeURIComponent(JSON.stringify(v))}`)
    .join('&')}`;
}

/** A word as a shell reads it back (single-quoted when it holds anything but plain characters). */
const shellWord = (w: string): string => (/^[A-Za-z0-9_./:,@=-]+$/.test(w) ? w : `'${w.replace(/'/g, `'\\''`)}'`);


type Options = VarOptions & {
  target?: string;
  pipeline?: string;
  config?: string;
  nonInteractive?: boolean;
  checkCreds?: boolean;
  team?: string;
  instanceVar: string[];
};

export function registerSetPipeline(program: Command, io: CliIO): void {
  addTargetOption(program.command('set-pipeline'))
    .description('Create or update a pipeline')
    .option('-p, --pipeline <name>', 'pipeline')
    .option('-c, --config <file>', 'pipeline configuration file')
    .option('-l, --load-vars-from <file>', 'YAML file of vars (repeatable; later files win)', collect, [])
    .option('-v, --var <name=value>', 'string var (repeatable; wins over -l)', collect, [])
    .option('-y, --yaml-var <name=yaml>', 'typed YAML var (repeatable; wins over -l)', collect, [])
    .option('-n, --non-interactive', 'apply without asking')
    .option('-i, --instance-var <name=yaml>', 'an instance var of the pipeline (repeatable; fly\'s; also a var of its config)', collect, [])
    .option('--check-creds', 'have the server check that every remaining ((var)) can be resolved')
    // fly's TeamFlag (fly/commands/internal/flaghelpers/team_flag.go): the server decides whether the user may
    .option('--team <name>', "the pipeline's team, if not the target's")
    .action(async (opts: Options) => {
      if (opts.team !== undefined && (opts.team === '' || /[/\\]|\.\./.test(opts.team) || [...opts.team].some((c) => c.charCodeAt(0) < 0x20))) throw usageError(`--team: '${opts.team}' is not a team name`);
      const pipeline = requireOption(opts.pipeline, '-p, --pipeline <name>');
      const file = requireOption(opts.config, '-c, --config <file>');
      if (pipeline.includes('/')) throw usageError(`error: pipeline name '${pipeline}' must not contain '/'`);
      const instanceVars = instanceVarsFromFlags(opts.instanceVar);
      // as fly does, the instance vars are vars of the config too, over the -l files
      const vars = { ...varsFromFlags(opts), ...instanceVars };
      const ref: PipelineRef = { name: pipeline, ...(instanceVars ? { instanceVars } : {}) };
      const shown = refString(ref);
      const text = readText(file);
      // the web node knows its own base resource types (--base-resource-type): it judges unknown ones
      const loaded = loadPipeline(text, { file, vars, typesCheckedByServer: true });
      for (const w of loaded.warnings) io.stderr(`${formatDiagnostic(w)}\n`);
      if (loaded.errors.length > 0 || !loaded.config) {
        for (const e of loaded.errors) io.stderr(`${formatDiagnostic(e)}\n`);
        throw new CliExit(1, `error: ${file} is invalid: ${loaded.errors.length} error(s); nothing was sent`);
      }
      const newText = stringifyPipeline(loaded.config);
      const { client, team: targetTeam, target, name } = connect(opts);
      const team = opts.team ?? targetTeam;
      const path = pipelinePath(team, ref);

      await run(async () => {
        const current = await client.request('GET', pipelinePath(team, ref, '/config'), { accept: (s) => s === 200 || s === 404 });
        let version = 0;
        let oldText = '';
        if (current.status === 200) {
          version = Number(current.headers.get('x-concourse-config-version') ?? '0');
          oldText = stringifyPipeline(current.json<ConfigResponse<PipelineConfig>>().config);
        }
        const diff = diffLines(oldText, newText);
        if (current.status === 200 && !hasChanges(diff)) {
          io.stdout('no changes to apply\n');
          return;
        }
        // an archived pipeline's config is not served (404, as Concourse's): it is set as a new one,
        // with version 0, and setting it is how it is unarchived
        const archived = current.status === 404 && (await archivedPipeline(client, path));
        if (archived) io.stdout(`pipeline ${shown} is archived: setting it again unarchives it (it stays paused)\n`);
        io.stdout(current.status === 404 && !archived ? `creating pipeline ${shown}:\n` : `changes to pipeline ${shown}:\n`);
        io.stdout(formatDiff(diff));
        if (!opts.nonInteractive && !(await confirm(io, '\napply configuration?'))) {
          throw new CliExit(1, 'bailing out');
        }
        let res;
        try {
          res = await client.request('PUT', pipelinePath(team, ref, `/config${opts.checkCreds ? '?check_creds=true' : ''}`), {
            body: newText,
            contentType: 'application/x-yaml',
            headers: { 'X-Concourse-Config-Version': String(version) },
          });
        } catch (err) {
          if (err instanceof ApiRequestError && err.status === 409) {
            throw new CliExit(1, `error: ${err.message}\n(the pipeline changed while you were setting it: run set-pipeline again)`);
          }
          throw err;
        }
        const { warnings } = res.json<SaveConfigResponse>();
        for (const w of warnings ?? []) io.stderr(`warning (${w.type}): ${w.message}\n`);
        // the pipeline's page in the web UI, as fly points at Concourse's (hash routes: src/ui/app/routes.ts)
        const url = `${target.api.replace(/\/+$/, '')}/#/teams/${encodeURIComponent(team)}/pipelines/${encodeURIComponent(pipeline)}${webVarsQuery(instanceVars)}`;
        if (res.status === 201) {
          io.stdout(`pipeline created!\nyou can view your pipeline here: ${url}\n\n`);
          io.stdout(`the pipeline is currently paused. to unpause, run:\n  jetway unpause-pipeline -t ${name} -p ${shellWord(shown)}${team !== targetTeam ? ` (with a target logged in to team ${team})` : ''}\n`);
        } else {
          io.stdout(`configuration updated\n`);
        }
      });
    });
}

/** Whether the pipeline exists and is archived (a missing one is not). */
async function archivedPipeline(client: ReturnType<typeof connect>['client'], path: string): Promise<boolean> {
  const res = await client.request('GET', path, { accept: (s) => s === 200 || s === 404 });
  return res.status === 200 && res.json<Pipeline>().archived;
}
