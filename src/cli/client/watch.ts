// Following a build's events (fly watch / trigger-job -w / execute / check-resource): step
// headers as fly prints them (`initializing`, `selected worker: …`, `running <path> <args>` for
// tasks, `fetching <name>` / `pushing <name>` for get and put, `initializing check: <name>`),
// the log payloads as they come, step errors on stderr, the final status; colour only on a
// terminal. The exit code as fly computes it (docs/concourse-semantics.md §7.1): the exit status of the last finish-task,
// or if that is 0 and the build did not succeed, 1 failed / 2 errored / 3 aborted.
import { processIO, type CliIO } from '../io.ts';
import type { Build, EventEnvelope, PublicBuildPlan } from '../../api/wire.ts';
import type { ApiClient } from './http.ts';
import { TimestampedIO } from './timestamps.ts';

const TERMINAL: Record<string, number> = { succeeded: 0, failed: 1, errored: 2, aborted: 3 };

const ANSI = {
  bold: '\x1b[1m',
  reset: '\x1b[0m',
  green: '\x1b[32m',
  red: '\x1b[31m',
  magenta: '\x1b[35m',
  yellow: '\x1b[33m',
} as const;

const STATUS_COLOUR: Record<string, string> = {
  succeeded: ANSI.green,
  failed: ANSI.red,
  errored: ANSI.magenta,
  aborted: ANSI.yellow,
};

export interface WatchOptions {
  /** ANSI colour (default: when writing to the process's stdout and it is a terminal, unless NO_COLOR). */
  color?: boolean;
  /** Each output line starts with its event's local time (`fly watch --timestamps`; timestamps.ts). */
  timestamps?: boolean;
}

export function defaultColor(io: CliIO): boolean {
  return io === processIO && process.stdout.isTTY === true && process.env.NO_COLOR === undefined;
}

type StepInfo = { kind: string; name: string };

const STEP_KINDS = ['get', 'put', 'check', 'task', 'set_pipeline', 'load_var', 'run', 'artifact_input', 'artifact_output'] as const;

/** Plan id → the step it names, for every leaf step in a (public) plan, image sub-plans included. */
export function stepNames(plan: unknown, out = new Map<string, StepInfo>()): Map<string, StepInfo> {
  if (Array.isArray(plan)) {
    for (const p of plan) stepNames(p, out);
    return out;
  }
  if (typeof plan !== 'object' || plan === null) return out;
  const node = plan as Record<string, unknown>;
  if (typeof node.id === 'string') {
    for (const kind of STEP_KINDS) {
      const step = node[kind];
      if (typeof step === 'object' && step !== null) {
        const s = step as Record<string, unknown>;
        const name = typeof s.name === 'string' ? s.name : typeof s.resource === 'string' ? s.resource : kind;
        out.set(node.id, { kind, name });
      }
    }
  }
  for (const child of Object.values(node)) if (typeof child === 'object' && child !== null) stepNames(child, out);
  return out;
}

/** Renders events as fly does; returns true once a terminal status arrived. */
export class BuildRenderer {
  lastExit = 0;
  status: string | undefined;
  private atLineStart = true;
  private names: Map<string, StepInfo> | undefined;
  private namesLoaded = false;

  constructor(
    private readonly io: CliIO,
    private readonly color: boolean,
    /** Loads the build's public plan (for step names), or undefined when there is none yet. */
    private readonly loadPlan: () => Promise<unknown>,
  ) {}

  private paint(colour: string, text: string): string {
    return this.color ? `${colour}${text}${ANSI.reset}` : text;
  }

  /** A whole line; a log line left open on stdout is ended first (on stdout, where it is). */
  private line(text: string, stream: 'stdout' | 'stderr' = 'stdout'): void {
    if (!this.atLineStart) this.io.stdout('\n');
    this.atLineStart = true;
    this.io[stream](`${text}\n`);
  }

  private async nameOf(origin: unknown, fallback: string): Promise<string> {
    const id = typeof origin === 'object' && origin !== null ? (origin as { id?: unknown }).id : undefined;
    if (typeof id !== 'string') return fallback;
    if (!this.names?.has(id) && !this.namesLoaded) {
      this.namesLoaded = true;
      try {
        this.names = stepNames(await this.loadPlan());
      } catch {
        this.names = new Map();
      }
    }
    return this.names?.get(id)?.name ?? fallback;
  }

  async render(e: EventEnvelope): Promise<boolean> {
    const d = e.data;
    switch (e.event) {
      case 'log': {
        const text = String(d.payload ?? '');
        this.io.stdout(text);
        if (text.length > 0) this.atLineStart = text.endsWith('\n');
        break;
      }
      case 'error':
        this.line(this.paint(ANSI.red, String(d.message ?? '')), 'stderr');
        break;
      case 'selected-worker':
        this.line(`${this.paint(ANSI.bold, 'selected worker:')} ${String(d.selected_worker ?? '')}`);
        break;
      case 'initialize-task':
        this.line(this.paint(ANSI.bold, 'initializing'));
        break;
      case 'start-task': {
        const run = (d.config as { run?: { path?: unknown; args?: unknown } } | undefined)?.run;
        const argv = [String(run?.path ?? ''), ...(Array.isArray(run?.args) ? run.args.map(String) : [])].join(' ');
        this.line(this.paint(ANSI.bold, `running ${argv}`));
        break;
      }
      case 'finish-task':
        if (typeof d.exit_status === 'number') this.lastExit = d.exit_status;
        break;
      case 'initialize-get':
        this.line(this.paint(ANSI.bold, `fetching ${await this.nameOf(d.origin, 'resource')}`));
        break;
      case 'initialize-put':
        this.line(this.paint(ANSI.bold, `pushing ${await this.nameOf(d.origin, 'resource')}`));
        break;
      case 'finish-put':
        if (d.version && typeof d.version === 'object') {
          this.line(`${this.paint(ANSI.bold, 'created version:')} ${formatVersion(d.version as Record<string, unknown>)}`);
        }
        break;
      case 'initialize-check':
        this.line(this.paint(ANSI.bold, `initializing check: ${String(d.name ?? (await this.nameOf(d.origin, 'resource')))}`));
        break;
      case 'status': {
        const s = String(d.status ?? '');
        if (s in TERMINAL) {
          this.status = s;
          return true;
        }
        break;
      }
    }
    return false;
  }

  /** The final status line and the exit code. */
  finish(status: string): number {
    if (!this.atLineStart) this.io.stdout('\n');
    this.atLineStart = true;
    this.io.stdout(`${this.paint(STATUS_COLOUR[status] ?? '', status)}\n`);
    if (this.lastExit !== 0) return this.lastExit;
    return TERMINAL[status] ?? 1;
  }
}

export function formatVersion(v: Record<string, unknown>): string {
  return Object.entries(v)
    .map(([k, val]) => `${k}:${String(val)}`)
    .join(', ');
}

export async function watchBuild(client: ApiClient, buildId: number, io: CliIO, opts: WatchOptions = {}): Promise<number> {
  const color = opts.color ?? defaultColor(io);
  const stamped = opts.timestamps ? new TimestampedIO(io) : undefined;
  const renderer = new BuildRenderer(stamped ?? io, color, async () => {
    const res = await client.request('GET', `/api/v1/builds/${buildId}/plan`, { accept: (s) => s === 200 || s === 404 });
    return res.status === 200 ? res.json<PublicBuildPlan>().plan : undefined;
  });
  await client.streamEvents(buildId, (_id, e) => {
    stamped?.setTime(typeof e.data.time === 'number' ? e.data.time : undefined);
    return renderer.render(e);
  });
  let status = renderer.status;
  if (status === undefined) {
    // the stream ended (event: end) without a terminal status event in what we saw: ask
    const build = await client.get<Build>(`/api/v1/builds/${buildId}`);
    status = build.status;
  }
  stamped?.setTime(undefined);
  return renderer.finish(status);
}
