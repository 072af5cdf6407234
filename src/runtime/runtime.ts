// The one small interface both runtimes implement: create a container for a step with its inputs,
// run processes in it with separate stdin/stdout/stderr, hand out its outputs, destroy it.
// "Container" is the runtime's word for where a step runs: a pod on Kubernetes, a working
// directory with host processes on the local runtime.
import type { Readable } from 'node:stream';
import type { Artifact } from '../model/artifact.ts';
import type { MetadataField, Version } from '../model/version.ts';

/**
 * The registry credentials that resolved an image, handed to the kubelet as a short-lived pull
 * secret (docs/image-features.md, decision 10): one credential source feeds both the resolver and the pod.
 */
export interface PullCredentials {
  /** registry host as written, with its port */
  registry: string;
  username: string;
  password: string;
}

export type StepType = 'check' | 'get' | 'put' | 'task';

/** What a step's container runs on. */
export type ContainerImage =
  | { kind: 'base-type'; type: string }
  | { kind: 'reference'; reference: string; pullCredentials?: PullCredentials }
  | { kind: 'artifact'; artifact: Artifact }
  | { kind: 'none' };

export interface ContainerMetadata {
  type: StepType;
  pipeline?: string;
  job?: string;
  build?: string;
  buildId?: number;
  step?: string;
  planId?: string;
  team?: string;
  /** the team's id: the local runtime runs each team's steps as host ids of its own (docs/local-containers.md, "Teams") */
  teamId?: number;
  /** set when the container exists only to resolve or fetch an image */
  purpose?: 'image';
}

export interface ContainerSpec {
  handle: string;
  metadata: ContainerMetadata;
  image: ContainerImage;
  privileged?: boolean;
  /**
   * A task's `hermetic: true`: a network namespace of its own with loopback only, whatever the
   * runtime's default network (Concourse's containerd runtime; the local containers runtime).
   */
  hermetic?: boolean;
  /** Concourse's container_limits: cpu in shares (1024 = one CPU), memory in bytes; 0 is none */
  limits?: { cpu?: number; memory?: number };
  /**
   * The user the step's process runs as (a task's run.user), known when the container is made:
   * on Kubernetes a numeric user becomes the pod's runAsUser; the process's own `user` must match.
   */
  user?: string;
  /** artifacts placed in the working directory at `path` (relative) before anything runs */
  inputs: { name: string; path: string; artifact: Artifact }[];
  /** directories created empty in the working directory, readable afterwards as artifacts */
  outputs: { name: string; path: string }[];
  /** task caches: directories kept between builds of the same job and step */
  caches?: { path: string; key: string }[];
  env?: Record<string, string>;
  /**
   * Env whose values may be credentials (a task's params, ((vars)) interpolated): the process
   * gets them like `env` (they win over it), but a runtime keeps the values out of anything
   * readable without access to secrets (on Kubernetes: out of the pod spec).
   */
  secretEnv?: Record<string, string>;
  /**
   * The process outlives the web node (Runtime.reattaches): it runs detached from the connection
   * that started it, its output kept where a later web node can read it again (a task's process,
   * a get's, put's or check's resource script).
   */
  reattachable?: boolean;
}

export interface ProcessSpec {
  path: string;
  args?: string[];
  /** relative to the container's working directory */
  dir?: string;
  env?: Record<string, string>;
  user?: string;
}

export interface ProcessIO {
  stdin?: string | Buffer;
  /**
   * A chunk of the process's output. A re-attachable process (ContainerSpec.reattachable) gives
   * whole lines with their byte offset in the stream: the same bytes always come as the same
   * chunk at the same offset, however often the output is read again after a re-attach.
   */
  stdout(chunk: Buffer, offset?: number): void;
  stderr(chunk: Buffer, offset?: number): void;
  /**
   * stdout is the process's result (a resource script's JSON), not a log. A re-attachable process
   * keeps it in a file of its container and gives it in one chunk (no offset) once it exited 0,
   * at most `maxBytes` + 1 bytes of it (more tells the reader it was above the bound); its
   * stdin (the request) is kept where only its container's user reads it, never in the spec.
   */
  result?: { maxBytes: number };
}

export interface Container {
  readonly handle: string;
  /** the absolute working directory processes start in (the artifact root) */
  readonly workDir: string;
  /** runs a process to completion; a cancelled signal kills it and rejects with the signal's reason */
  run(process: ProcessSpec, io: ProcessIO, signal: AbortSignal): Promise<{ exitStatus: number }>;
  /** the artifact produced at an output (or input) path after the process ran */
  artifact(path: string): Promise<Artifact>;
  /** how this container's resource type script runs (its image's `/opt/resource/<script>`) */
  resourceScript(script: 'check' | 'in' | 'out'): ProcessSpec;
  destroy(): Promise<void>;
}

export interface Runtime {
  readonly name: string;
  createContainer(spec: ContainerSpec, signal: AbortSignal): Promise<Container>;
  /**
   * Whether containers boot from images (Kubernetes: every image is a `repository@digest` the
   * kubelet pulls) rather than running on the host (the local runtime: images are not applied).
   */
  readonly runsImages: boolean;
  /**
   * Whether a task runs in its fetched image (an artifact: rootfs/ + metadata.json) although the
   * runtime does not boot images by reference: the local runtime's containers (docs/local-containers.md).
   */
  readonly appliesImages?: boolean;
  /**
   * Concourse's resource cache reuse: the get kept for a resource cache (same resource config,
   * version and params), served without running `in`. Absent: every get runs `in`. `teamId`: the
   * build's team, for a runtime that keeps resource caches per team (the local one).
   */
  cachedResource?(cacheId: number, teamId?: number): Promise<CachedResource | undefined>;
  /** Keeps a successful get's artifact as its resource cache's; returns the artifact the build goes on with. */
  keepResourceCache?(cacheId: number, artifact: Artifact, result: { version: Version; metadata: MetadataField[] }, teamId?: number): Promise<Artifact>;
  /** frees what a finished build's containers left behind (its artifact volumes) */
  releaseBuild?(buildId: number): Promise<void>;
  /**
   * Removes the task caches of a cache key (`taskCacheKey`: a job's task step), or only the one
   * of cache path `path`; resolves with how many existed (`jetway clear-task-cache`). Absent: the
   * runtime keeps no task caches.
   */
  clearTaskCache?(key: string, path?: string): Promise<number>;
  /**
   * The build's containers a user can run a command in (`jetway intercept`): its running steps'
   * and those kept after a failure. Absent: the runtime keeps no containers (the local runtime).
   */
  interceptableContainers?(buildId: number): Promise<InterceptableContainer[]>;
  /** How long a failed step's container is kept for intercept (the local containers runtime's --local-failed-container-retention). */
  readonly failedContainerRetentionMs?: number;
  /**
   * The builds holding containers (running or kept after a failure), finished builds included:
   * `jetway containers` lists a failed step's kept container after its build ended. Absent: only
   * running builds are asked.
   */
  containerBuildIds?(): Promise<number[]>;
  /**
   * Runs `command` in a container listed by interceptableContainers (by its handle), in its work
   * dir, with stdin/stdout/stderr streamed; resolves with the exit status. An aborted signal ends
   * the session (closes the connection; the command is not signalled). Rejects with
   * ContainerGoneError when the container no longer exists.
   */
  intercept?(handle: string, command: string[], io: InterceptIO, signal: AbortSignal): Promise<{ exitStatus: number }>;
  /**
   * Whether containers and their processes outlive the web node (Kubernetes pods), so that a web
   * node taking a build over can re-attach to them (docs/web-nodes.md "Re-attaching builds").
   */
  readonly reattaches?: boolean;
  /**
   * The container a previous web node made for this spec (same handle), its process left running
   * (or finished meanwhile): `run` then follows that process instead of starting one. Undefined
   * when the container is gone.
   */
  reattachContainer?(spec: ContainerSpec, signal: AbortSignal): Promise<Container | undefined>;
}

/**
 * The reason a build's signal is aborted when its web node stops and hands the build over
 * (SIGTERM): a re-attachable process is left running and its container kept, for the next web
 * node to re-attach; nothing of the step is recorded as ended.
 */
export class ProcessDetached extends Error {
  override name = 'ProcessDetached';
  constructor() {
    super('the web node stopped and handed the build over to another');
  }
}

/** A get kept as its resource cache's volume (resource cache reuse). */
export interface CachedResource {
  artifact: Artifact;
  version: Version;
  metadata: MetadataField[];
}

/** A container of a build one can intercept. */
export interface InterceptableContainer {
  handle: string;
  /** the step's name (a resource's or type's for checks) */
  step: string;
  type: StepType;
  /** `running`: its step is running; `failed`: kept after its step failed */
  state: 'running' | 'failed';
  /** set when the container only resolved or fetched an image */
  purpose?: 'image';
  /** where it runs (Kubernetes: the pod's name) */
  name: string;
  /** the work dir commands start in */
  workDir: string;
  /** ISO time it was created, when known */
  createdAt?: string;
}

export interface InterceptIO {
  /** ends when the client closes its stdin */
  stdin: Readable;
  stdout(chunk: Buffer): void;
  stderr(chunk: Buffer): void;
}

/** The container of an intercept session is gone (never existed, or deleted). */
export class ContainerGoneError extends Error {
  override name = 'ContainerGoneError';
}
