// What every leaf step needs: the build it belongs to, its store, the runtime, variables, and
// where its records go. Built once per build by the engine.
import { createHash, randomUUID } from 'node:crypto';
import type { Version } from '../../model/version.ts';
import type { ContainerMetadata, Runtime, StepType } from '../../runtime/runtime.ts';
import type { StepStore } from '../store.ts';
import type { InProcessChecks } from '../../resources/in-process.ts';
import { buildEvent, unixNow } from '../../model/build-events.ts';
import type { MetadataField } from '../../model/version.ts';
import type { StepContext } from '../exec.ts';
import { StreamRedactor, type Interpolator, type Redactor } from '../vars.ts';

/** The build a step runs in (names for env vars and container metadata, ids for records). */
export interface BuildInfo {
  id: number;
  name: string;
  teamId: number;
  teamName: string;
  pipelineId?: number;
  pipelineName?: string;
  jobId?: number;
  jobName?: string;
  createTime: Date;
  createdBy?: string;
}

export interface StepDeps {
  store: StepStore;
  runtime: Runtime;
  build: BuildInfo;
  interpolator: Interpolator;
  redactor: Redactor;
  externalUrl: string;
  /** where uploaded and produced artifact tarballs of one-off builds live */
  artifactsDir: string;
  /**
   * Native image paths (Kubernetes only; docs/image-features.md, decisions 1-4, 12): registry-image checks run from the
   * web node, images and image gets resolve to repository@digest without pods.
   */
  nativeImages: boolean;
  /** the pipeline's resource types (`produces` decides which types yield registry images) */
  resourceTypes: readonly { name?: string; type?: string; produces?: string }[];
  /** metrics: how each image was resolved */
  metrics?: { imageResolved(how: 'native' | 'containers'): void };
  /** the built-in types' checks in the web node, without containers (issue 23; absent: every check has a container) */
  inProcessChecks?: InProcessChecks;
  /**
   * Set for an in-memory check (Concourse's in-memory check builds, docs/in-process-checks.md):
   * the build has no record, so a step may not create a container. A check that would need one
   * names why here and stops before it writes anything; the checker then creates a check build.
   */
  inMemory?: { needsContainer?: string };
}

/** The BUILD_* environment of get and put scripts (docs/concourse-semantics.md §2). */
export function buildEnv(deps: StepDeps): Record<string, string> {
  const b = deps.build;
  const env: Record<string, string> = {
    BUILD_ID: String(b.id),
    BUILD_NAME: b.name,
    BUILD_TEAM_NAME: b.teamName,
    ATC_EXTERNAL_URL: deps.externalUrl,
  };
  if (b.jobName) env.BUILD_JOB_NAME = b.jobName;
  if (b.pipelineName) env.BUILD_PIPELINE_NAME = b.pipelineName;
  if (b.pipelineName && b.jobName) {
    env.BUILD_URL = `${deps.externalUrl}/teams/${b.teamName}/pipelines/${b.pipelineName}/jobs/${b.jobName}/builds/${b.name}`;
    env.BUILD_URL_SHORT = `${deps.externalUrl}/builds/${b.id}`;
  } else {
    env.BUILD_URL = `${deps.externalUrl}/builds/${b.id}`;
    env.BUILD_URL_SHORT = env.BUILD_URL;
  }
  return env;
}

/** The container metadata of a build step: what it is and where it belongs (labels on Kubernetes). */
export function stepMetadata(deps: StepDeps, type: StepType, step: string, planId: string, ctx?: StepContext): ContainerMetadata {
  const b = deps.build;
  return {
    type,
    ...(ctx?.purpose ? { purpose: ctx.purpose } : {}),
    step,
    planId,
    buildId: b.id,
    build: b.name,
    team: b.teamName,
    teamId: b.teamId,
    ...(b.pipelineName ? { pipeline: b.pipelineName } : {}),
    ...(b.jobName ? { job: b.jobName } : {}),
  };
}

/** The `in`/`out` response: a version and its metadata. A missing version is a protocol error. */
export function versionResponse(script: 'in' | 'out', response: { version?: unknown; metadata?: MetadataField[] }): { version: Version; metadata: MetadataField[] } {
  const version = response.version;
  if (!version || typeof version !== 'object' || Array.isArray(version)) throw new Error(`resource script '${script}' returned no version`);
  return { version: version as Version, metadata: response.metadata ?? [] };
}

/** A fresh container handle. */
export function newHandle(): string {
  return randomUUID();
}

/**
 * The handle of a re-attachable step's container, the same whenever the build's plan is walked
 * (its build and journal key): a web node taking the build over finds the same pod. UUID-shaped.
 */
export function stableHandle(buildId: number, stepKey: string): string {
  const hex = createHash('sha256').update(`${buildId}\0${stepKey}`).digest('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-8${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}

/**
 * A re-attachable process's output (whole lines at byte offsets, ProcessIO) as `log` events,
 * each saved once under a key of its step and offset, however often it is read again.
 */
export function offsetLogWriter(ctx: StepContext, deps: StepDeps, planId: string, source: 'stdout' | 'stderr'): (chunk: Buffer, offset: number) => void {
  return (chunk, offset) => {
    const payload = deps.redactor.redact(chunk.toString());
    if (payload === '') return;
    void ctx.emit(buildEvent('log', { time: unixNow(), origin: { id: planId, source }, payload }), `log:${ctx.stepKey ?? planId}:${source}:${offset}`);
  };
}

/**
 * Writes whole messages of the step's own as `log` events, redacted one message at a time. A
 * process's output, which arrives in chunks split anywhere, goes through logStream instead.
 */
export function logWriter(ctx: StepContext, deps: StepDeps, planId: string, source: 'stdout' | 'stderr'): (chunk: Buffer | string) => void {
  return (chunk) => {
    const payload = deps.redactor.redact(chunk.toString());
    void ctx.emit(buildEvent('log', { time: unixNow(), origin: { id: planId, source }, payload }));
  };
}

/** One output stream of a process, as `log` events; `end()` once the process is over. */
export interface LogStream {
  write(chunk: Buffer | string): void;
  end(): void;
}

/**
 * A process's stdout or stderr as `log` events, redacted across chunk boundaries: a secret split
 * between two writes is still hidden (StreamRedactor; docs/security.md "Builds").
 */
export function logStream(ctx: StepContext, deps: StepDeps, planId: string, source: 'stdout' | 'stderr'): LogStream {
  const redactor = new StreamRedactor(deps.redactor);
  const emit = (payload: string): void => {
    if (payload !== '') void ctx.emit(buildEvent('log', { time: unixNow(), origin: { id: planId, source }, payload }));
  };
  return { write: (chunk) => emit(redactor.write(chunk)), end: () => emit(redactor.end()) };
}

export async function emitError(ctx: StepContext, planId: string, message: string): Promise<void> {
  // the build's event sink redacts it
  await ctx.emit(buildEvent('error', { time: unixNow(), origin: { id: planId }, message }));
}
