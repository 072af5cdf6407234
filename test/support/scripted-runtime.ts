// A Runtime (src/runtime/runtime.ts) for the steps' unit tests, as Concourse's exec tests use a
// fake worker: every container gets a real temporary work directory (so artifacts are real
// directories), every ContainerSpec is recorded, and processes run by the test's script instead of
// a program: resource scripts (`check`/`in`/`out`, recognised by `resourceScript`'s path) by the
// `resource` handler with the parsed stdin request, anything else (a task) by the `task` handler.
// Each run records what the script received (request, args, env) for assertions.
// With `reattaches`, it stands for a runtime whose processes outlive the web node (Kubernetes):
// `leave` puts a container a previous web node made, its process running, under a handle, and
// `reattachContainer` finds it; following that process records it in `followed`, not in `runs`.
import { cpSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve, sep } from 'node:path';
import type { Artifact } from '../../src/model/artifact.ts';
import type { Container, ContainerSpec, ProcessIO, ProcessSpec, Runtime } from '../../src/runtime/runtime.ts';

export type ResourceScriptName = 'check' | 'in' | 'out';

/** Where `resourceScript` says the scripts are, as in a resource type's image. */
export const RESOURCE_SCRIPT_DIR = '/opt/resource';

export interface ScriptResult {
  exitStatus: number;
  /** printed as JSON on stdout */
  response?: unknown;
  stderr?: string;
  /** written, before the response, under the directory the script is given (`in`/`out`), else the work dir */
  files?: Record<string, string>;
  /** symlinks made next to the files (path -> target, as given): a hostile `in` script's */
  symlinks?: Record<string, string>;
}

export interface TaskResult {
  exitStatus: number;
  stdout?: string;
  stderr?: string;
  /** written under the work dir (e.g. `result/file` in an output) */
  files?: Record<string, string>;
}

export type ResourceHandler = (spec: ContainerSpec, script: ResourceScriptName, request: unknown, workDir: string) => ScriptResult | Promise<ScriptResult>;
/** `signal` is the process's: a handler that waits must give up when it aborts. */
export type TaskHandler = (spec: ContainerSpec, process: ProcessSpec, workDir: string, signal: AbortSignal) => TaskResult | Promise<TaskResult>;

export interface ScriptedRuntimeOptions {
  /** the runtime's name (`selected-worker`) */
  name?: string;
  /** whether containers boot from images (the native image paths need it) */
  runsImages?: boolean;
  resource?: ResourceHandler;
  task?: TaskHandler;
  /** processes outlive the web node: steps get stable handles and are re-attached (journal.ts) */
  reattaches?: boolean;
}

/** What a process a previous web node left running prints when it is followed: a resource script's or a task's result. */
export type LeftProcess = ScriptResult | TaskResult;

export interface ProcessRun {
  handle: string;
  container: ContainerSpec;
  workDir: string;
  process: ProcessSpec;
  /** what the process saw: the container's env, its secret env, the process's env */
  env: Record<string, string>;
  /** set for resource scripts */
  script?: ResourceScriptName;
  /** the parsed stdin (a resource script's request) */
  request?: unknown;
  exitStatus?: number;
}

export class ScriptedRuntime implements Runtime {
  readonly name: string;
  readonly runsImages: boolean;
  /** the root of every container's work dir */
  readonly root: string;
  private readonly recorded = { containers: [] as ContainerSpec[], runs: [] as ProcessRun[], destroyed: [] as string[] };
  /** every ContainerSpec, in creation order */
  readonly containers: readonly ContainerSpec[] = this.recorded.containers;
  readonly runs: readonly ProcessRun[] = this.recorded.runs;
  /** handles of destroyed containers, in order */
  readonly destroyed: readonly string[] = this.recorded.destroyed;
  /** handles of containers re-attached and whose left process was followed, in order */
  readonly followed: string[] = [];
  readonly reattaches?: boolean;
  private readonly left = new Map<string, LeftProcess>();

  constructor(private readonly options: ScriptedRuntimeOptions = {}) {
    this.name = options.name ?? 'scripted';
    this.runsImages = options.runsImages ?? false;
    this.root = mkdtempSync(join(tmpdir(), 'jw-scripted-'));
    if (options.reattaches) this.reattaches = true;
  }

  /** A container a previous web node made under `handle`, its process running: it prints `result` when followed. */
  leave(handle: string, result: LeftProcess): void {
    this.left.set(handle, result);
  }

  async reattachContainer(spec: ContainerSpec, signal: AbortSignal): Promise<Container | undefined> {
    signal.throwIfAborted();
    const left = this.left.get(spec.handle);
    if (!left) return undefined;
    this.left.delete(spec.handle);
    const workDir = join(this.root, spec.handle);
    mkdirSync(workDir, { recursive: true });
    for (const output of spec.outputs) mkdirSync(inside(workDir, output.path), { recursive: true });
    return new ScriptedContainer(spec, workDir, this.options, this.recorded.runs, this.recorded.destroyed, { result: left, followed: this.followed });
  }

  async createContainer(spec: ContainerSpec, signal: AbortSignal): Promise<Container> {
    signal.throwIfAborted();
    this.recorded.containers.push(spec);
    const workDir = join(this.root, spec.handle);
    mkdirSync(workDir, { recursive: true });
    // inputs are copies, as the local runtime makes them; an image reference has no content to place
    for (const input of spec.inputs) {
      if (input.artifact.kind !== 'volume') continue;
      const target = inside(workDir, input.path);
      mkdirSync(dirname(target), { recursive: true });
      cpSync(input.artifact.path, target, { recursive: true });
    }
    for (const output of spec.outputs) mkdirSync(inside(workDir, output.path), { recursive: true });
    for (const cache of spec.caches ?? []) mkdirSync(inside(workDir, cache.path), { recursive: true });
    return new ScriptedContainer(spec, workDir, this.options, this.recorded.runs, this.recorded.destroyed);
  }

  /** The runs of resource script `script`, in order. */
  scriptRuns(script: ResourceScriptName): ProcessRun[] {
    return this.recorded.runs.filter((r) => r.script === script);
  }

  /** Removes every work dir (the test's `after`). */
  cleanup(): void {
    rmSync(this.root, { recursive: true, force: true });
  }
}

class ScriptedContainer implements Container {
  constructor(
    private readonly spec: ContainerSpec,
    readonly workDir: string,
    private readonly options: ScriptedRuntimeOptions,
    private readonly runs: ProcessRun[],
    private readonly destroyed: string[],
    private readonly left?: { result: LeftProcess; followed: string[] },
  ) {}

  get handle(): string {
    return this.spec.handle;
  }

  resourceScript(script: ResourceScriptName): ProcessSpec {
    return { path: `${RESOURCE_SCRIPT_DIR}/${script}` };
  }

  async run(process: ProcessSpec, io: ProcessIO, signal: AbortSignal): Promise<{ exitStatus: number }> {
    signal.throwIfAborted();
    if (this.left) return this.follow(this.left.result, io);
    const script = resourceScriptOf(process);
    const stdin = io.stdin === undefined ? undefined : io.stdin.toString();
    const run: ProcessRun = {
      handle: this.spec.handle,
      container: this.spec,
      workDir: this.workDir,
      process,
      env: { ...this.spec.env, ...this.spec.secretEnv, ...process.env },
      ...(script ? { script } : {}),
      ...(stdin !== undefined && stdin !== '' ? { request: JSON.parse(stdin) as unknown } : {}),
    };
    this.runs.push(run);
    const result = await abortable(signal, async () => {
      if (script) {
        const handler = this.options.resource;
        if (!handler) throw new Error(`the scripted runtime has no resource script for '${script}' (${this.spec.metadata.type} ${this.spec.metadata.step ?? ''})`);
        const r = await handler(this.spec, script, run.request, this.workDir);
        // `in` and `out` are given their directory as the first argument
        const dir = process.args?.[0] ?? this.workDir;
        writeFiles(dir, r.files);
        for (const [path, target] of Object.entries(r.symlinks ?? {})) {
          mkdirSync(dirname(inside(dir, path)), { recursive: true });
          symlinkSync(target, inside(dir, path));
        }
        return { exitStatus: r.exitStatus, stderr: r.stderr, stdout: r.response === undefined ? undefined : JSON.stringify(r.response) };
      }
      const handler = this.options.task;
      if (!handler) throw new Error(`the scripted runtime has no task script for ${process.path} (${this.spec.metadata.step ?? ''})`);
      const r = await handler(this.spec, process, this.workDir, signal);
      writeFiles(this.workDir, r.files);
      return { exitStatus: r.exitStatus, stderr: r.stderr, stdout: r.stdout };
    });
    if (result.stderr) io.stderr(Buffer.from(result.stderr));
    if (result.stdout) io.stdout(Buffer.from(result.stdout));
    run.exitStatus = result.exitStatus;
    return { exitStatus: result.exitStatus };
  }

  /** A left process followed: its stderr (from offset 0), then its stdout, as a re-attached process gives them. */
  private follow(left: LeftProcess, io: ProcessIO): { exitStatus: number } {
    this.left!.followed.push(this.spec.handle);
    writeFiles(this.workDir, left.files);
    if (left.stderr) io.stderr(Buffer.from(left.stderr), 0);
    const stdout = 'response' in left ? (left.response === undefined ? undefined : JSON.stringify(left.response)) : (left as TaskResult).stdout;
    if (stdout && left.exitStatus === 0) io.stdout(Buffer.from(stdout), io.result ? undefined : 0);
    return { exitStatus: left.exitStatus };
  }

  async artifact(path: string): Promise<Artifact> {
    const dir = inside(this.workDir, path);
    mkdirSync(dir, { recursive: true });
    return { kind: 'volume', path: dir, handle: this.spec.handle };
  }

  async destroy(): Promise<void> {
    // the work dir stays: artifacts handed out live in it (the runtime's cleanup removes it)
    this.destroyed.push(this.spec.handle);
  }
}

function resourceScriptOf(process: ProcessSpec): ResourceScriptName | undefined {
  const prefix = `${RESOURCE_SCRIPT_DIR}/`;
  if (!process.path.startsWith(prefix)) return undefined;
  const name = process.path.slice(prefix.length);
  return name === 'check' || name === 'in' || name === 'out' ? name : undefined;
}

function writeFiles(dir: string, files: Record<string, string> | undefined): void {
  for (const [path, content] of Object.entries(files ?? {})) {
    const target = inside(dir, path);
    mkdirSync(dirname(target), { recursive: true });
    writeFileSync(target, content);
  }
}

/** Runs `work`, rejecting with the signal's reason as soon as it aborts (a killed process). */
function abortable<T>(signal: AbortSignal, work: () => Promise<T>): Promise<T> {
  return new Promise<T>((resolvePromise, reject) => {
    const onAbort = (): void => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    work().then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        if (signal.aborted) reject(signal.reason);
        else resolvePromise(value);
      },
      (err: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(err);
      },
    );
  });
}

/** A path inside a directory; `..` escapes are refused as the real runtimes refuse them. */
function inside(root: string, path: string): string {
  const target = resolve(root, path);
  if (target !== resolve(root) && !target.startsWith(resolve(root) + sep)) throw new Error(`path '${path}' leaves the step's working directory`);
  return target;
}
