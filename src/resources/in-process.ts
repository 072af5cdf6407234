// Checks of the built-in types inside the web node, without a process or a pod (issue 23;
// docs/in-process-checks.md). The check step asks here first (src/engine/steps/check.ts) for a
// base type whose image is Jetway's own; a custom type, or a source this module declines, keeps
// its container.
//
// The same `check` code the scripts run (src/resources/<type>), on the same request: the request
// goes through JSON and the protocol's checks as the script's stdin would (cli.ts), so both
// answer the same versions in the same order and fail with the same messages (table tests:
// test/resources/in-process.test.ts). The difference is where it runs: in the web node, as its
// user, with its disk and network. So every amount is bounded (time, versions, log bytes, git
// output, mirrors), and a source that could reach the web node's own disk or run a program of
// the source's choosing is declined and checked in a container instead (inProcessRefusal).
import { join } from 'node:path';
import type { Version } from '../model/version.ts';
import { isObject, toVersion } from './fields.ts';
import { GitMirrors, MirrorDeclined } from './git/mirror.ts';
import { mockResource } from './mock/index.ts';
import { ResourceError, type CheckRequest, type JsonObject, type LogSink, type ResourceContext } from './protocol.ts';
import registryImageResource from './registry-image/index.ts';
import { timeResource } from './time/index.ts';

/** The built-in types that can check in the web node. */
export const IN_PROCESS_TYPES = ['git', 'mock', 'registry-image', 'time'] as const;

export interface InProcessLimits {
  /** the longest one check may take (default 5 min); a longer one fails, as a timed-out script does */
  timeoutMs: number;
  /** the most versions one check may answer (default 10,000) */
  maxVersions: number;
  /** the most bytes the answer may take as JSON (default 4 MiB) */
  maxResponseBytes: number;
  /** log bytes kept per check (default 64 KiB); the rest is cut with a note */
  maxLogBytes: number;
  /** the most bytes one git command may print (default 16 MiB) */
  maxGitOutputBytes: number;
  /** git mirrors kept (default 200) and the size of each (default 512 MiB) */
  maxGitMirrors: number;
  maxGitMirrorBytes: number;
}

export const DEFAULT_IN_PROCESS_LIMITS: Readonly<InProcessLimits> = Object.freeze({
  timeoutMs: 5 * 60_000,
  maxVersions: 10_000,
  maxResponseBytes: 4 * 2 ** 20,
  maxLogBytes: 64 * 1024,
  maxGitOutputBytes: 16 * 2 ** 20,
  maxGitMirrors: 200,
  maxGitMirrorBytes: 512 * 2 ** 20,
});

export interface InProcessCheckOptions {
  /** the types checked in the web node (default all of IN_PROCESS_TYPES) */
  types?: readonly string[];
  /** where git mirrors live (`<data dir>/git-mirrors`); without it git checks keep their containers */
  gitMirrorDir?: string;
  /**
   * Lets a git `uri` name a local repository (a path, file://). Off by default: the web node's
   * disk holds its database credentials and every team's data, and a local path in a pipeline
   * would read it. Tests and benchmarks on one machine turn it on.
   */
  allowLocalGit?: boolean;
  limits?: Partial<InProcessLimits>;
}

/** What the check step passes: the script's environment, its log, its signal. */
export interface InProcessContext {
  env: Record<string, string | undefined>;
  stderr: LogSink;
  signal: AbortSignal;
  privileged?: boolean;
  now?: () => Date;
}

/** The source is to be checked in a container after all (found only while checking: a repository too large). */
export class InProcessDeclined extends Error {
  override readonly name = 'InProcessDeclined';
}

/** The transports an in-process git check may use: never `file` (the web node's disk) nor `ext` (a command). */
const REMOTE_GIT_PROTOCOLS = 'https:http:ssh:git';

/**
 * source.git_config names an in-process check accepts (compared lower-case). Others stay in
 * containers: core.sshCommand, core.fsmonitor, credential.helper=!cmd, url.*.insteadOf and
 * friends run programs or read files of the web node.
 */
const SAFE_GIT_CONFIG = [/^http\.extraheader$/, /^http\..+\.extraheader$/, /^http\.sslverify$/, /^http\.version$/, /^http\.lowspeedlimit$/, /^http\.lowspeedtime$/];

/** Whether a git uri names a remote repository (a URL of a network transport, or scp-like `host:path`). */
export function gitUriIsRemote(uri: string): boolean {
  const u = uri.trim();
  const scheme = /^([a-z][a-z0-9+.-]*):\/\//i.exec(u)?.[1]?.toLowerCase();
  if (scheme !== undefined) return ['https', 'http', 'ssh', 'git', 'git+ssh', 'ssh+git'].includes(scheme);
  // scp-like: a colon before any slash, and not a transport helper (`ext::`, `fd::`)
  const colon = u.indexOf(':');
  const slash = u.indexOf('/');
  if (colon <= 0 || (slash >= 0 && slash < colon)) return false;
  return !u.includes('::');
}

/**
 * Why a check of `type` with `source` runs in a container rather than in the web node, or
 * undefined when the web node checks it. Pure; a table test covers each row.
 */
export function inProcessRefusal(type: string, source: unknown, opts: Pick<InProcessCheckOptions, 'types' | 'gitMirrorDir' | 'allowLocalGit'>): string | undefined {
  const types = opts.types ?? IN_PROCESS_TYPES;
  if (!types.includes(type) || !(IN_PROCESS_TYPES as readonly string[]).includes(type)) return `the ${type} type is not checked in the web node`;
  if (type !== 'git') return undefined;
  if (opts.gitMirrorDir === undefined) return 'git checks need a directory for their mirrors';
  const s = isObject(source) ? source : {};
  // an invalid uri fails in the check itself, with the script's message
  if (typeof s.uri === 'string' && s.uri.trim() !== '' && !gitUriIsRemote(s.uri) && !opts.allowLocalGit) {
    return 'source.uri names a local repository: checked in a container, as the build user, not with the web node’s disk';
  }
  if (s.tag_regex !== undefined && s.tag_regex !== null && s.tag_regex !== '') {
    return 'source.tag_regex is a regular expression the web node would run on the repository’s tags: checked in a container';
  }
  if (Array.isArray(s.git_config)) {
    for (const entry of s.git_config) {
      const name = isObject(entry) && typeof entry.name === 'string' ? entry.name.toLowerCase() : '';
      if (!SAFE_GIT_CONFIG.some((re) => re.test(name))) return `source.git_config sets ${name || 'an unnamed entry'}: checked in a container`;
    }
  }
  return undefined;
}

/**
 * The request as the script reads it from stdin (cli.ts): through JSON (so what the script
 * could not receive, it does not receive here either), `source` an object, `version` a map of strings.
 */
export function checkRequestOf(payload: unknown): CheckRequest {
  const parsed = JSON.parse(JSON.stringify(payload ?? {})) as unknown;
  if (!isObject(parsed)) throw new ResourceError('invalid payload: expected a JSON object');
  const field = (key: string): JsonObject | undefined => {
    const v = parsed[key];
    if (v === undefined || v === null) return undefined;
    if (!isObject(v)) throw new ResourceError(`invalid payload: "${key}" must be an object`);
    return v;
  };
  const source = field('source') ?? {};
  const version = field('version');
  return { source, ...(version ? { version: toVersion(version) } : {}) };
}

/** A log sink that keeps the first `max` bytes and notes the cut once. */
function boundedLog(sink: LogSink, max: number): LogSink {
  let written = 0;
  let cut = false;
  return {
    write(chunk: string) {
      if (cut) return true;
      const room = max - written;
      if (chunk.length <= room) {
        written += chunk.length;
        return sink.write(chunk);
      }
      cut = true;
      if (room > 0) sink.write(chunk.slice(0, room));
      return sink.write(`\n(the check's log was cut at ${max} bytes)\n`);
    },
  };
}

export class InProcessChecks {
  readonly limits: InProcessLimits;
  private readonly git: GitMirrors | undefined;
  /** sources found unfit while checking (a repository too large), by their JSON: back to containers */
  private readonly declined = new Map<string, string>();

  constructor(private readonly opts: InProcessCheckOptions = {}) {
    this.limits = { ...DEFAULT_IN_PROCESS_LIMITS, ...opts.limits };
    this.git =
      opts.gitMirrorDir === undefined
        ? undefined
        : new GitMirrors({
            dir: opts.gitMirrorDir,
            maxMirrors: this.limits.maxGitMirrors,
            maxMirrorBytes: this.limits.maxGitMirrorBytes,
            git: { allowProtocols: opts.allowLocalGit ? `${REMOTE_GIT_PROTOCOLS}:file` : REMOTE_GIT_PROTOCOLS, maxOutputBytes: this.limits.maxGitOutputBytes },
          });
  }

  /** With the web node's data dir: git mirrors under `<dataDir>/git-mirrors`. */
  static inDataDir(dataDir: string, opts: Omit<InProcessCheckOptions, 'gitMirrorDir'> = {}): InProcessChecks {
    return new InProcessChecks({ ...opts, gitMirrorDir: join(dataDir, 'git-mirrors') });
  }

  /** Whether a check of the base type `type` with `source` runs here (else in a container). */
  accepts(type: string, source: unknown): boolean {
    if (inProcessRefusal(type, source, this.opts) !== undefined) return false;
    return !(type === 'git' && this.declined.has(JSON.stringify(source)));
  }

  /**
   * The versions a check finds, as the type's script would print them; a ResourceError (the
   * script's message) when it fails; InProcessDeclined when a container must check it after all.
   */
  async check(type: string, payload: { source: unknown; version?: Version | undefined }, ctx: InProcessContext): Promise<Version[]> {
    const req = checkRequestOf(payload);
    // one controller and one timer per check, both gone when it ends (thousands run a minute)
    const stop = new AbortController();
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      stop.abort();
    }, this.limits.timeoutMs);
    const onAbort = (): void => stop.abort();
    if (ctx.signal.aborted) stop.abort();
    else ctx.signal.addEventListener('abort', onAbort, { once: true });
    const rctx: ResourceContext = {
      env: ctx.env,
      stderr: boundedLog(ctx.stderr, this.limits.maxLogBytes),
      signal: stop.signal,
      privileged: ctx.privileged === true,
      ...(ctx.now ? { now: ctx.now } : {}),
    };
    let versions: unknown;
    try {
      versions = await this.run(type, req, rctx);
    } catch (err) {
      if (timedOut && !ctx.signal.aborted) throw new ResourceError(`the check took longer than ${Math.round(this.limits.timeoutMs / 1000)} s in the web node: stopped`);
      if (err instanceof MirrorDeclined) {
        this.declined.set(JSON.stringify(payload.source), err.message);
        if (this.declined.size > 10_000) this.declined.delete(this.declined.keys().next().value!);
        throw new InProcessDeclined(err.message);
      }
      throw err;
    } finally {
      clearTimeout(timer);
      ctx.signal.removeEventListener('abort', onAbort);
    }
    if (!Array.isArray(versions)) throw new ResourceError('the check did not answer a list of versions');
    if (versions.length > this.limits.maxVersions) throw new ResourceError(`the check found ${versions.length} versions, more than the ${this.limits.maxVersions} one check may save`);
    const json = JSON.stringify(versions);
    if (Buffer.byteLength(json) > this.limits.maxResponseBytes) throw new ResourceError(`the check's versions take more than ${this.limits.maxResponseBytes} bytes`);
    // as the engine reads a script's stdout: through JSON
    return JSON.parse(json) as Version[];
  }

  private run(type: string, req: CheckRequest, ctx: ResourceContext): Promise<Version[]> {
    switch (type) {
      case 'mock':
        return mockResource.check(req, ctx);
      case 'time':
        return timeResource.check(req, ctx);
      case 'registry-image':
        return registryImageResource.check(req, ctx);
      case 'git':
        if (!this.git) throw new InProcessDeclined('git checks need a directory for their mirrors');
        return this.git.check(req, ctx);
      default:
        throw new InProcessDeclined(`the ${type} type is not checked in the web node`);
    }
  }
}
