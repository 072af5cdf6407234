// Build scheduling: the scheduling loop, the build starter, the preparation view.
export * from './interfaces.ts';
export * from './decisions.ts';
export * from './build-starter.ts';
export * from './scheduler.ts';
export * from './preparation.ts';
