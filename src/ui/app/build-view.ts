// The build page's model, as Concourse's build view shows a build: one section per step of the
// build's plan (get/put/task/check/set_pipeline/load_var), named from the public plan
// (`GET /builds/:id/plan`), each with its status, times, log output and errors, filled in from the
// build's events as they arrive. Pure (no DOM): the page applies events one at a time and redraws
// what each one changed; tests feed a plan and events and read the steps.
import type { BuildStatus, EventEnvelope, MetadataField } from '../../api/wire.ts';
import { AnsiParser, type AnsiSegment } from './ansi.ts';
import { isBuildStatus, isFinished } from './status.ts';

export const STEP_KINDS = ['get', 'put', 'task', 'check', 'set_pipeline', 'load_var', 'run', 'artifact_input', 'artifact_output'] as const;
export type StepKind = (typeof STEP_KINDS)[number];

export type StepStatus = 'pending' | 'running' | 'succeeded' | 'failed' | 'errored' | 'interrupted';

export interface StepView {
  /** the plan id events name as their origin */
  id: string;
  /** 'build': events of the build as a whole, or of no step of the plan */
  kind: StepKind | 'build';
  name: string;
  /** nesting: hooks, image steps, retry attempts and across combinations sit one level deeper */
  depth: number;
  /** what the step runs as, shown before it: "on_failure", "ensure", "image", "attempt 2", "across 1/3" */
  label?: string;
  /** shown only once it has events: later retry attempts and image steps may never run */
  conditional: boolean;
  status: StepStatus;
  /** the log with escape sequences removed */
  log: string;
  /** the log as styled segments (ANSI colours) */
  segments: AnsiSegment[];
  /** when each line of the log began (unix seconds of the event that brought its first text) */
  lineTimes: number[];
  errors: string[];
  exitStatus?: number;
  version?: Record<string, string>;
  metadata?: MetadataField[];
  startTime?: number;
  finishTime?: number;
  hasEvents: boolean;
}

export type BuildViewChange =
  /** text was added to a step's log */
  | { type: 'log'; step: StepView; segments: AnsiSegment[] }
  /** a step's status, errors, version or times changed */
  | { type: 'step'; step: StepView }
  /** steps were added (across combinations, image steps, the build's own section) */
  | { type: 'structure' }
  | { type: 'status'; status: BuildStatus };

type Json = Record<string, unknown>;

const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);
const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);
const num = (v: unknown): number | undefined => (typeof v === 'number' && Number.isFinite(v) ? v : undefined);

const HOOKS = ['on_success', 'on_failure', 'on_abort', 'on_error', 'ensure'] as const;

/** The id of the section for events that belong to no step. */
export const BUILD_STEP_ID = '(build)';

/** The leaf step a plan node is, if it is one. */
function leafOf(node: Json): { kind: StepKind; body: Json } | undefined {
  for (const kind of STEP_KINDS) {
    const body = node[kind];
    if (isObject(body)) return { kind, body };
  }
  return undefined;
}

/** A step's name: its own, else the resource's, a run step's message, else its kind (artifact steps have none). */
function nameOf(kind: StepKind, body: Json): string {
  return str(body.name) ?? str(body.resource) ?? str(body.message) ?? kind;
}

/** The plans of a step's image (a custom type's or an image_resource's check and get). */
function imagePlans(body: Json): unknown[] {
  return [body.image_check_plan, body.image_get_plan].filter(isObject);
}

export class BuildView {
  status: BuildStatus | undefined;
  /** the steps in plan order (conditional ones included; see visibleSteps) */
  steps: StepView[] = [];
  private readonly byId = new Map<string, StepView>();
  /** compound plan nodes (do, in_parallel, hooks, timeout, ...): their leaf steps */
  private readonly compound = new Map<string, string[]>();
  private readonly parsers = new Map<string, AnsiParser>();
  /** whether a step's log ends with a newline (its next text starts a line) */
  private readonly lineStart = new Map<string, boolean>();
  /** plans that events added under a step: image steps planned at run time, across combinations */
  private readonly extra = new Map<string, { plans: unknown[]; label: (i: number, n: number) => string }>();
  private readonly rootId: string | undefined;
  /** an across step's var names (its public plan's), by its plan id */
  private readonly acrossNames = new Map<string, string[]>();

  constructor(private readonly plan: unknown) {
    this.rootId = isObject(plan) ? str(plan.id) : undefined;
    this.rebuild();
  }

  /** The steps to show: conditional ones only once something happened in them. */
  visibleSteps(): StepView[] {
    return this.steps.filter((s) => !s.conditional || s.hasEvents);
  }

  step(id: string): StepView | undefined {
    return this.byId.get(id);
  }

  /** Recomputes the step order from the plan, keeping the steps seen so far. */
  private rebuild(): void {
    const order: StepView[] = [];
    const build = this.byId.get(BUILD_STEP_ID);
    if (build) order.push(build);
    const walk = (node: unknown, depth: number, label: string | undefined, conditional: boolean): string[] => {
      if (Array.isArray(node)) return node.flatMap((n) => walk(n, depth, label, conditional));
      if (!isObject(node)) return [];
      const id = str(node.id);
      const leaf = leafOf(node);
      if (leaf && id !== undefined) {
        let step = this.byId.get(id);
        if (!step) {
          step = newStep(id, leaf.kind, nameOf(leaf.kind, leaf.body), depth, conditional, label);
          this.byId.set(id, step);
        }
        order.push(step);
        const below = imagePlans(leaf.body).flatMap((p) => walk(p, depth + 1, 'image', true));
        return [id, ...below, ...this.walkExtra(id, depth, walk)];
      }
      let leaves: string[];
      if (Array.isArray(node.do)) leaves = walk(node.do, depth, label, conditional);
      else if (isObject(node.in_parallel)) leaves = walk(node.in_parallel.steps, depth, label, conditional);
      else if (Array.isArray(node.retry)) {
        const attempts = node.retry;
        leaves = attempts.flatMap((attempt, i) =>
          attempts.length > 1 ? walk(attempt, depth + 1, `attempt ${i + 1}`, conditional || i > 0) : walk(attempt, depth, label, conditional),
        );
      } else if (isObject(node.across)) {
        if (id !== undefined && Array.isArray(node.across.vars)) this.acrossNames.set(id, node.across.vars.map((v) => (isObject(v) ? (str(v.name) ?? '') : '')));
        leaves = id !== undefined ? this.walkExtra(id, depth, walk) : [];
      } else {
        const hook = HOOKS.find((h) => isObject(node[h]));
        const wrapped = node.try ?? node.timeout ?? (hook ? node[hook] : undefined);
        if (!isObject(wrapped)) return [];
        leaves = walk(wrapped.step, depth, label, conditional);
        // a hook's step runs only in some outcomes: shown once it does
        if (hook) leaves.push(...walk(wrapped[hook], depth + 1, hook, true));
      }
      if (id !== undefined) this.compound.set(id, leaves);
      return leaves;
    };
    walk(this.plan, 0, undefined, false);
    this.steps = order;
  }

  private walkExtra(id: string, depth: number, walk: (n: unknown, d: number, l: string | undefined, c: boolean) => string[]): string[] {
    const extra = this.extra.get(id);
    if (!extra) return [];
    return extra.plans.flatMap((p, i) => walk(p, depth + 1, extra.label(i, extra.plans.length), false));
  }

  /** The step an event's origin names: a leaf; for a compound node its running (or last active) leaf; else the build's section. */
  private stepFor(origin: unknown, changes: BuildViewChange[]): StepView {
    const id = isObject(origin) ? str(origin.id) : undefined;
    if (id !== undefined) {
      const leaf = this.byId.get(id);
      if (leaf && leaf.kind !== 'build') return leaf;
      const leaves = id !== this.rootId ? this.compound.get(id) : undefined;
      if (leaves && leaves.length > 0) {
        const steps = leaves.map((l) => this.byId.get(l)).filter((s): s is StepView => s !== undefined);
        const chosen = steps.find((s) => s.status === 'running') ?? steps.filter((s) => s.hasEvents).at(-1) ?? steps[0];
        if (chosen) return chosen;
      }
    }
    let build = this.byId.get(BUILD_STEP_ID);
    if (!build) {
      build = newStep(BUILD_STEP_ID, 'build', 'build', 0, true, undefined);
      this.byId.set(BUILD_STEP_ID, build);
      this.rebuild();
      changes.push({ type: 'structure' });
    }
    return build;
  }

  /** Applies one event; says what changed. */
  apply(e: EventEnvelope): BuildViewChange[] {
    const changes: BuildViewChange[] = [];
    const d = isObject(e.data) ? e.data : {};
    if (e.event === 'status') {
      const status = d.status;
      if (isBuildStatus(status)) changes.push(...this.setStatus(status));
      return changes;
    }
    if (e.event === 'across-substeps' || e.event === 'image-check' || e.event === 'image-get') {
      const id = isObject(d.origin) ? str(d.origin.id) : undefined;
      if (id === undefined) return changes;
      const entry = this.extra.get(id) ?? { plans: [], label: e.event === 'across-substeps' ? (i: number, n: number) => `across ${i + 1}/${n}` : () => 'image' };
      if (e.event === 'across-substeps') {
        // Concourse's (and Jetway's) substeps are {step, values}; an older event's are plans
        const substeps = Array.isArray(d.substeps) ? d.substeps : [];
        entry.plans = substeps.map((x) => (isObject(x) && isObject(x.step) ? x.step : x));
        const values = substeps.map((x) => (isObject(x) && Array.isArray(x.values) ? x.values : undefined));
        const names = this.acrossNames.get(id) ?? [];
        entry.label = (i, n) => acrossLabel(i, n, names, values[i]);
      }
      else if (isObject(d.plan) && !this.byId.has(str(d.plan.id) ?? '')) entry.plans.push(d.plan);
      else return changes; // the image steps are in the plan already
      this.extra.set(id, entry);
      this.rebuild();
      changes.push({ type: 'structure' });
      return changes;
    }
    const step = this.stepFor(d.origin, changes);
    const wasVisible = !step.conditional || step.hasEvents;
    step.hasEvents = true;
    if (!wasVisible) changes.push({ type: 'structure' });
    const time = num(d.time);
    const start = (): void => {
      if (step.status === 'pending') step.status = 'running';
      if (step.startTime === undefined && time !== undefined) step.startTime = time;
    };
    switch (e.event) {
      case 'log': {
        start();
        const segments = this.append(step, str(d.payload) ?? '', time);
        if (segments.length > 0) changes.push({ type: 'log', step, segments });
        return changes;
      }
      case 'error':
        step.errors.push(str(d.message) ?? 'error');
        step.status = 'errored';
        if (time !== undefined) step.finishTime = time;
        break;
      case 'initialize-task':
        // its `message` (the local runtime's note that task images are not applied) also comes
        // as a log line of the step: shown once, from the log
        start();
        break;
      case 'finish-get':
      case 'finish-put':
      case 'finish-task': {
        const exit = num(d.exit_status);
        if (exit !== undefined) step.exitStatus = exit;
        if (step.status !== 'errored') step.status = exit === 0 ? 'succeeded' : 'failed';
        if (isObject(d.version)) step.version = stringRecord(d.version);
        if (Array.isArray(d.metadata)) step.metadata = metadataOf(d.metadata);
        if (time !== undefined) step.finishTime = time;
        break;
      }
      case 'finish':
        if (step.status !== 'errored') step.status = d.succeeded === true ? 'succeeded' : 'failed';
        if (time !== undefined) step.finishTime = time;
        break;
      default:
        // initialize-*, start-*, selected-worker, set-pipeline-changed: the step is under way
        start();
    }
    changes.push({ type: 'step', step });
    return changes;
  }

  /** The build's status (from a status event or the build record); a finished build ends its steps. */
  setStatus(status: BuildStatus): BuildViewChange[] {
    if (this.status === status) return [];
    this.status = status;
    const changes: BuildViewChange[] = [{ type: 'status', status }];
    if (!isFinished(status)) return changes;
    for (const step of this.byId.values()) {
      if (step.status !== 'running' || step.kind === 'build') continue;
      // a step still running when the build ended was cut short (aborted, errored elsewhere)
      step.status = status === 'succeeded' ? 'succeeded' : 'interrupted';
      changes.push({ type: 'step', step });
    }
    return changes;
  }

  private append(step: StepView, payload: string, time: number | undefined): AnsiSegment[] {
    let parser = this.parsers.get(step.id);
    if (!parser) this.parsers.set(step.id, (parser = new AnsiParser()));
    const segments = parser.push(payload);
    // a line begins with the first text after a newline: it gets this event's time
    const text = segments.map((x) => x.text).join('');
    for (let i = 0; i < text.length; ) {
      if (this.lineStart.get(step.id) !== false) {
        step.lineTimes.push(time ?? step.lineTimes.at(-1) ?? 0);
        this.lineStart.set(step.id, false);
      }
      const nl = text.indexOf('\n', i);
      if (nl < 0) break;
      this.lineStart.set(step.id, true);
      i = nl + 1;
    }
    for (const s of segments) {
      step.log += s.text;
      const last = step.segments.at(-1);
      if (last && last.classes === s.classes) last.text += s.text;
      else step.segments.push({ ...s });
    }
    return segments;
  }
}

function newStep(id: string, kind: StepKind | 'build', name: string, depth: number, conditional: boolean, label: string | undefined): StepView {
  return {
    id,
    kind,
    name,
    depth,
    ...(label !== undefined ? { label } : {}),
    conditional,
    status: 'pending',
    log: '',
    segments: [],
    lineTimes: [],
    errors: [],
    hasEvents: false,
  };
}

function stringRecord(v: Json): Record<string, string> {
  return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, typeof x === 'string' ? x : JSON.stringify(x)]));
}

function metadataOf(list: unknown[]): MetadataField[] {
  return list.filter(isObject).map((m) => ({ name: str(m.name) ?? '', value: str(m.value) ?? '' }));
}

/**
 * Whether a step's section starts open, as on Concourse: steps that went wrong, and tasks (their
 * output is what one comes for) once they run; gets and puts stay closed unless they fail.
 */
export function expandedByDefault(step: Pick<StepView, 'kind' | 'status'>): boolean {
  if (step.status === 'failed' || step.status === 'errored' || step.status === 'interrupted') return true;
  if (step.kind === 'build') return true;
  if (step.status === 'pending') return false;
  return step.kind === 'task' || step.kind === 'set_pipeline' || step.kind === 'load_var' || step.kind === 'check';
}

/** The header of a step's section, in Concourse's words: "get: source-code", "task: test". */
export function stepTitle(step: Pick<StepView, 'kind' | 'name'>): string {
  return step.kind === 'build' ? 'build' : `${step.kind}: ${step.name}`;
}

/**
 * An across combination's label: "across 2/4: os=linux, go=1.22" with the values the event gives
 * (JSON for what is not a string), "across 2/4" without.
 */
export function acrossLabel(i: number, n: number, names: readonly string[], values: readonly unknown[] | undefined): string {
  const head = `across ${i + 1}/${n}`;
  if (!values || values.length === 0) return head;
  const pairs = values.map((v, j) => {
    const text = typeof v === 'string' ? v : JSON.stringify(v);
    return names[j] ? `${names[j]}=${text}` : text;
  });
  return `${head}: ${pairs.join(', ')}`;
}
