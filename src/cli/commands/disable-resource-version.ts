// `jetway disable-resource-version` (see enable-resource-version).
import type { Command } from 'commander';
import type { CliIO } from '../io.ts';
import { registerVersionToggle } from './enable-resource-version.ts';

export function registerDisableResourceVersion(program: Command, io: CliIO): void {
  registerVersionToggle(program, io, 'disable');
}
