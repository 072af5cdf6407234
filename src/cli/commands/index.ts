import type { Command } from 'commander';
import type { CliIO } from '../io.ts';
import { registerValidatePipeline } from './validate-pipeline.ts';
import { registerFormatPipeline } from './format-pipeline.ts';
import { registerMigrate } from './migrate.ts';
import { registerLogin } from './login.ts';
import { registerSetPipeline } from './set-pipeline.ts';
import { registerGetPipeline } from './get-pipeline.ts';
import { registerPipelines } from './pipelines.ts';
import { registerPausePipeline } from './pause-pipeline.ts';
import { registerUnpausePipeline } from './unpause-pipeline.ts';
import { registerDestroyPipeline } from './destroy-pipeline.ts';
import { registerRenamePipeline } from './rename-pipeline.ts';
import { registerResources } from './resources.ts';
import { registerResourceVersions } from './resource-versions.ts';
import { registerJobs } from './jobs.ts';
import { registerBuilds } from './builds.ts';
import { registerTriggerJob } from './trigger-job.ts';
import { registerWatch } from './watch.ts';
import { registerAbortBuild } from './abort-build.ts';

/** Every CLI command registers itself here; one file per command in this folder. */
export function registerCommands(program: Command, io: CliIO): void {
  registerValidatePipeline(program, io);
  registerFormatPipeline(program, io);
  registerMigrate(program, io);
  registerLogin(program, io);
  registerSetPipeline(program, io);
  registerGetPipeline(program, io);
  registerPipelines(program, io);
  registerPausePipeline(program, io);
  registerUnpausePipeline(program, io);
  registerDestroyPipeline(program, io);
  registerRenamePipeline(program, io);
  registerResources(program, io);
  registerResourceVersions(program, io);
  registerJobs(program, io);
  registerBuilds(program, io);
  registerTriggerJob(program, io);
  registerWatch(program, io);
  registerAbortBuild(program, io);
}
