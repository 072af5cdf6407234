// The checker (lidar): periodic scanning, manual and webhook checks, checks for the scheduler.
export * from './policy.ts';
export * from './checker.ts';
export * from './store.ts';
