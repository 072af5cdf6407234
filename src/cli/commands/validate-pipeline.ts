// `jetway validate-pipeline`: fly's validate-pipeline, with every problem located in the file.
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import type { Command } from 'commander';
import { parse as parseYaml, stringify as toYaml } from 'yaml';
import { CliExit, usageError, type CliIO } from '../io.ts';
import { BASE_RESOURCE_TYPES, formatDiagnostic, loadPipeline, mergeVars, parseStringVar, parseYamlVar, type Vars } from '../../config/index.ts';
import { collect } from '../client/common.ts';


/** A file a flag names; a missing one is said so, with the flag and the folder it was looked for in. */
export function readText(path: string, flag = '-c'): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw usageError(`error: ${flag} ${path}: no such file (looked in ${dirname(resolve(path))}); create it or give the right path`);
    if (code === 'EISDIR') throw usageError(`error: ${flag} ${path}: is a directory, not a file`);
    throw usageError(`error: ${flag} ${path}: cannot read it: ${err instanceof Error ? err.message : String(err)}`);
  }
}

export type VarOptions = { loadVarsFrom: string[]; var: string[]; yamlVar: string[] };

/** Builds the static vars from -l/-y/-v; any malformed flag or file is a usage error. */
export function varsFromFlags(opts: VarOptions): Vars {
  const files = opts.loadVarsFrom.map((path) => {
    const text = readText(path, '-l');
    let value: unknown;
    try {
      value = parseYaml(text);
    } catch (err) {
      throw usageError(`error: ${path} is not valid YAML: ${err instanceof Error ? err.message : String(err)}`);
    }
    if (value === null || value === undefined) return {};
    if (typeof value !== 'object' || Array.isArray(value)) throw usageError(`error: ${path} must be a YAML mapping of vars`);
    return value as Vars;
  });
  const strings = opts.var.map((flag) => {
    const kv = parseStringVar(flag);
    if (!kv) throw usageError(`error: malformed -v '${flag}': expected name=value`);
    return kv;
  });
  const yaml = opts.yamlVar.map((flag) => {
    const kv = parseYamlVar(flag);
    if (!kv) throw usageError(`error: malformed -y '${flag}': expected name=<yaml value>`);
    return kv;
  });
  return mergeVars({ files, strings, yaml });
}

type Options = VarOptions & { config?: string; strict?: boolean; output?: string | true; baseResourceType: string[] };

export function registerValidatePipeline(program: Command, io: CliIO): void {
  program
    .command('validate-pipeline')
    .description('Validate a pipeline config: exit 0 when valid, 1 when invalid, 2 on a usage error')
    .option('-c, --config <file>', 'pipeline configuration file')
    .option('-l, --load-vars-from <file>', 'YAML file of vars (repeatable; later files win)', collect, [])
    .option('-v, --var <name=value>', 'string var (repeatable; wins over -l)', collect, [])
    .option('-y, --yaml-var <name=yaml>', 'typed YAML var (repeatable; wins over -l)', collect, [])
    .option('-s, --strict', 'fail on warnings, and every var left unresolved is an error (fly: "Fail on warnings")')
    .option(
      '--base-resource-type <name>',
      "a base resource type your web node adds (jetway web --base-resource-type NAME=IMAGE), known besides Concourse's (repeatable)",
      collect,
      [],
    )
    // fly's -o is a switch (print the templated pipeline); `-o json` / `-o text` pick the report's format
    .option('-o, --output [format]', 'alone: print the pipeline with its vars filled in (as fly); or the report format: text or json')
    .action((opts: Options) => {
      if (!opts.config) throw usageError('error: required option -c, --config <file> not specified');
      const output = opts.output ?? 'text';
      if (output !== true && output !== 'text' && output !== 'json') throw usageError(`error: unknown output format '${output}' (expected text or json, or -o alone for the pipeline)`);
      const vars = varsFromFlags(opts);
      const text = readText(opts.config);
      for (const t of opts.baseResourceType) {
        if (!/^[a-z0-9][a-z0-9._-]*$/i.test(t)) throw usageError(`error: --base-resource-type '${t}': expected a type name (the NAME of the web node's NAME=IMAGE)`);
      }
      const baseResourceTypes = opts.baseResourceType.length > 0 ? [...BASE_RESOURCE_TYPES, ...opts.baseResourceType] : undefined;
      // without --strict, unknown keys are warnings, as fly's lenient decode drops them (validatepipelinehelpers/validate.go)
      const result = loadPipeline(text, { file: opts.config, vars, strict: opts.strict === true, unknownFieldsAsWarnings: opts.strict !== true, ...(baseResourceTypes ? { baseResourceTypes } : {}) });
      // fly/commands/internal/validatepipelinehelpers/validate.go: with --strict, warnings fail too
      const valid = result.errors.length === 0 && !(opts.strict === true && result.warnings.length > 0);
      if (output === 'json') {
        io.stdout(`${JSON.stringify({ valid, errors: result.errors, warnings: result.warnings }, null, 2)}\n`);
      } else {
        const diagnostics = [...result.errors, ...result.warnings].map((d) => `${formatDiagnostic(d)}\n`).join('');
        const counts = `${result.errors.length} error(s), ${result.warnings.length} warning(s)`;
        if (output === true && valid && result.config) {
          // the pipeline goes to stdout for the next command in a pipe; its warnings to stderr
          io.stderr(diagnostics);
          io.stdout(toYaml(result.config));
        } else {
          io.stdout(diagnostics);
          io.stdout(valid ? `looks good (${counts})\n` : `${opts.config} is invalid: ${counts}${result.errors.length === 0 ? ' (--strict fails on warnings)' : ''}\n`);
        }
      }
      if (!valid) throw new CliExit(1);
    });
}
