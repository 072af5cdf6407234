// `jetway check-resource-type`: checks a resource type now (see check-resource).
import type { Command } from 'commander';
import type { CliIO } from '../io.ts';
import { registerCheckCommand } from './check-resource.ts';

export function registerCheckResourceType(program: Command, io: CliIO): void {
  registerCheckCommand(program, io, 'resource-type');
}
