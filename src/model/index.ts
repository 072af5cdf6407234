// Jetway's shared model, at the bottom of every layer (as Concourse's `atc` package): what a
// version, a plan, a build event, an artifact and a resolved input are. It imports nothing of
// Jetway; everything else points down to it.
export * from './version.ts';
export * from './plan.ts';
export * from './public-plan.ts';
export * from './build-events.ts';
export * from './artifact.ts';
export * from './inputs.ts';
export * from './resource-config.ts';
export * from './in-memory-check.ts';
