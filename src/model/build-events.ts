// Build events (docs/concourse-semantics.md §7.1). The envelope and data shapes follow Concourse's so that
// fly-like clients and the UI read them the same way.
import type { Plan } from './plan.ts';
import type { MetadataField, Version } from './version.ts';

export type BuildStatus = 'pending' | 'started' | 'succeeded' | 'failed' | 'errored' | 'aborted';

export interface Origin {
  id: string;
  source?: 'stdout' | 'stderr';
}

export interface TaskEventConfig {
  platform?: string;
  image?: string;
  run: { path: string; args?: string[]; dir?: string };
  inputs?: { name: string; path: string }[];
}

/** Every event type with its data; `time` is unix seconds. */
export interface BuildEventData {
  status: { status: BuildStatus; time: number };
  log: { time: number; origin: Origin; payload: string };
  error: { time: number; origin: Origin; message: string };
  'initialize-task': { time: number; origin: Origin; config: TaskEventConfig; message?: string };
  'start-task': { time: number; origin: Origin; config: TaskEventConfig };
  'finish-task': { time: number; origin: Origin; exit_status: number };
  'initialize-get': { time: number; origin: Origin; resolved_without_pod?: boolean };
  'start-get': { time: number; origin: Origin };
  'finish-get': {
    time: number;
    origin: Origin;
    exit_status: number;
    version?: Version;
    metadata?: MetadataField[];
    resolved_without_pod?: boolean;
  };
  'initialize-put': { time: number; origin: Origin };
  'start-put': { time: number; origin: Origin };
  'finish-put': { time: number; origin: Origin; exit_status: number; version?: Version; metadata?: MetadataField[] };
  'initialize-check': { time: number; origin: Origin; name: string };
  initialize: { time: number; origin: Origin };
  start: { time: number; origin: Origin };
  finish: { time: number; origin: Origin; succeeded: boolean };
  'selected-worker': { time: number; origin: Origin; selected_worker: string };
  'image-check': { time: number; origin: Origin; plan: Plan; resolved_without_pod?: boolean };
  'image-get': { time: number; origin: Origin; plan: Plan; resolved_without_pod?: boolean };
  'set-pipeline-changed': { origin: Origin; changed: boolean };
  /** Concourse's: each combination's public plan and the values of the across vars, in the vars' order. */
  'across-substeps': { time: number; origin: Origin; substeps: { step: Plan; values: unknown[] }[] };
}

export type BuildEventType = keyof BuildEventData;

export const EVENT_VERSIONS: Record<BuildEventType, string> = {
  status: '1.0',
  log: '5.1',
  error: '4.1',
  'initialize-task': '4.0',
  'start-task': '5.0',
  'finish-task': '4.0',
  'initialize-get': '2.0',
  'start-get': '1.0',
  'finish-get': '5.1',
  'initialize-put': '2.0',
  'start-put': '1.0',
  'finish-put': '5.1',
  'initialize-check': '1.0',
  initialize: '1.0',
  start: '1.0',
  finish: '1.0',
  'selected-worker': '1.0',
  'image-check': '1.1',
  'image-get': '1.1',
  'set-pipeline-changed': '1.0',
  'across-substeps': '1.0',
};

export type BuildEvent = {
  [K in BuildEventType]: { event: K; version: string; data: BuildEventData[K] };
}[BuildEventType];

export function buildEvent<K extends BuildEventType>(event: K, data: BuildEventData[K]): BuildEvent {
  return { event, version: EVENT_VERSIONS[event], data } as BuildEvent;
}

export function unixNow(): number {
  return Math.floor(Date.now() / 1000);
}
