// `jetway unpause-job` (see pause-job).
import type { Command } from 'commander';
import type { CliIO } from '../io.ts';
import { registerJobToggle } from './pause-job.ts';

export function registerUnpauseJob(program: Command, io: CliIO): void {
  registerJobToggle(program, io, 'unpause');
}
