import type { Command } from 'commander';
import type { CliIO } from '../io.ts';

/** Every CLI command registers itself here; one file per command in this folder. */
export function registerCommands(_program: Command, _io: CliIO): void {}
