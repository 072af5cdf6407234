// The resource protocol (docs/concourse-semantics.md §2) as a TypeScript interface. Every built-in resource
// type implements ResourceTypeImpl; src/resources/cli.ts turns one into the check/in/out scripts
// (JSON on stdin, JSON on stdout, logs on stderr), and in-process callers can use it directly.

import type { MetadataField, Version } from '../model/version.ts';


/** Name/value pairs shown in the UI next to a version. */
export type Metadata = MetadataField[];

/** A JSON value as decoded from a request. */
export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };
export type JsonObject = { [key: string]: JsonValue };

export interface CheckRequest {
  source: JsonObject;
  /** The scope's latest version, or the `from` version of a manual check; absent on a first check. */
  version?: Version | null;
}

export interface InRequest {
  source: JsonObject;
  version: Version;
  params?: JsonObject;
}

export interface OutRequest {
  source: JsonObject;
  params?: JsonObject;
}

/** What `in` and `out` answer. */
export interface ResourceResult {
  version: Version;
  metadata: Metadata;
}

/** Where a resource writes its logs: a Node writable stream or anything with the same `write`. */
export interface LogSink {
  write(chunk: string): unknown;
}

export interface ResourceContext {
  /**
   * The environment the script runs with: the BUILD_* variables (BUILD_ID, BUILD_NAME,
   * BUILD_JOB_NAME, BUILD_PIPELINE_NAME, BUILD_TEAM_NAME, ATC_EXTERNAL_URL, ...) and, for a type
   * run from a mirrored image, the image's env (MIRRORED_VERSION).
   */
  env: Record<string, string | undefined>;
  /** Log output (streamed as `log` events). */
  stderr: LogSink;
  /** Aborts long operations (check_delay, git network calls). */
  signal: AbortSignal;
  /** The clock; defaults to the real one. The time type reads it. */
  now?: () => Date;
  /** Whether the step runs privileged (mock writes it to ./privileged). Default false. */
  privileged?: boolean;
}

export interface ResourceTypeImpl {
  readonly name: string;
  check(req: CheckRequest, ctx: ResourceContext): Promise<Version[]>;
  in(req: InRequest, dir: string, ctx: ResourceContext): Promise<ResourceResult>;
  out(req: OutRequest, dir: string, ctx: ResourceContext): Promise<ResourceResult>;
}

/**
 * A failure with a message meant for the user (printed on stderr by the CLI without a stack
 * trace). Messages never contain secrets.
 */
export class ResourceError extends Error {
  override readonly name = 'ResourceError';
}

/** A context with defaults: empty env, logs discarded (or to the given sink), never aborted. */
export function makeContext(partial: Partial<ResourceContext> = {}): ResourceContext {
  return {
    env: partial.env ?? {},
    stderr: partial.stderr ?? { write: () => true },
    signal: partial.signal ?? new AbortController().signal,
    ...(partial.now ? { now: partial.now } : {}),
    ...(partial.privileged !== undefined ? { privileged: partial.privileged } : {}),
  };
}

export function nowOf(ctx: ResourceContext): Date {
  return ctx.now ? ctx.now() : new Date();
}
