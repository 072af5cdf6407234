// The one small interface both runtimes implement: create a container for a step with its inputs,
// run processes in it with separate stdin/stdout/stderr, hand out its outputs, destroy it.
// "Container" is the runtime's word for where a step runs: a pod on Kubernetes, a working
// directory with host processes on the local runtime.
import type { Artifact } from '../engine/run-state.ts';

/**
 * The registry credentials that resolved an image, handed to the kubelet as a short-lived pull
 * secret (decision 10): one credential source feeds both the resolver and the pod.
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
  /** set when the container exists only to resolve or fetch an image */
  purpose?: 'image';
}

export interface ContainerSpec {
  handle: string;
  metadata: ContainerMetadata;
  image: ContainerImage;
  privileged?: boolean;
  limits?: { cpu?: number; memory?: number };
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
  stdout(chunk: Buffer): void;
  stderr(chunk: Buffer): void;
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
  /** frees what a finished build's containers left behind (its artifact volumes) */
  releaseBuild?(buildId: number): Promise<void>;
}
