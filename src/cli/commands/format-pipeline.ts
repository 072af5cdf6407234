// `jetway format-pipeline`: print (or --write) the canonical form of a pipeline, as fly does.
import { writeFileSync } from 'node:fs';
import type { Command } from 'commander';
import { CliExit, usageError, type CliIO } from '../io.ts';
import { formatDiagnostic, formatPipeline } from '../../config/index.ts';
import { readText } from './validate-pipeline.ts';

export function registerFormatPipeline(program: Command, io: CliIO): void {
  program
    .command('format-pipeline')
    .description('Print a pipeline config in canonical form (keys in schema order, comments dropped)')
    .option('-c, --config <file>', 'pipeline configuration file')
    .option('-w, --write', 'rewrite the file in place instead of printing it')
    .action((opts: { config?: string; write?: boolean }) => {
      if (!opts.config) throw usageError('error: required option -c, --config <file> not specified');
      const result = formatPipeline(readText(opts.config), opts.config);
      if (result.text === undefined) {
        for (const d of result.errors) io.stderr(`${formatDiagnostic(d)}\n`);
        throw new CliExit(1);
      }
      if (opts.write) writeFileSync(opts.config, result.text);
      else io.stdout(result.text);
    });
}
