import type { Command } from 'commander';
import type { CliIO } from '../io.ts';
import { registerValidatePipeline } from './validate-pipeline.ts';
import { registerFormatPipeline } from './format-pipeline.ts';
import { registerMigrate } from './migrate.ts';

/** Every CLI command registers itself here; one file per command in this folder. */
export function registerCommands(program: Command, io: CliIO): void {
  registerValidatePipeline(program, io);
  registerFormatPipeline(program, io);
  registerMigrate(program, io);
}
