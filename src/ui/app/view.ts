// What a page gets while it is shown: the API, its place in the layout, and polling and
// streaming that stop by themselves when the user goes to another page.
import { ApiError, type Api } from './api.ts';
import { append, h, type Children } from './dom.ts';
import { formatInstanceVars } from './pipelines.ts';
import { routeHash, type PipelineRef } from './routes.ts';

export interface Crumb {
  label: string;
  /** shown after the label, muted: an instanced pipeline's vars */
  detail?: string;
  href?: string;
}

/** The crumbs of a pipeline's pages: its team, then the pipeline (with its instance vars), linked. */
export function pipelineCrumbs(ref: PipelineRef): Crumb[] {
  const vars = formatInstanceVars(ref.vars);
  return [{ label: ref.team }, { label: ref.pipeline, ...(vars ? { detail: vars } : {}), href: routeHash({ page: 'pipeline', ...ref }) }];
}

/** A crumb as plain text (the document title). */
export function crumbText(c: Crumb): string {
  return c.detail ? `${c.label} (${c.detail})` : c.label;
}

export class ViewContext {
  private readonly controller = new AbortController();
  private readonly timers = new Set<ReturnType<typeof setTimeout>>();
  private readonly banner: HTMLElement;
  /** the page's content */
  readonly content: HTMLElement;

  constructor(
    readonly api: Api,
    private readonly main: HTMLElement,
    private readonly setHeader: (crumbs: Crumb[]) => void,
  ) {
    this.banner = h('div', { class: 'banner', role: 'alert', hidden: true });
    this.content = h('div', { class: 'page' });
    main.replaceChildren(this.banner, this.content);
  }

  /** Aborted when the user leaves the page: pending requests and streams end with it. */
  get signal(): AbortSignal {
    return this.controller.signal;
  }

  get active(): boolean {
    return !this.controller.signal.aborted;
  }

  /** The page's keyboard shortcuts: a handler returns true when it used the key. */
  readonly keyHandlers: ((key: string, event: KeyboardEvent) => boolean)[] = [];

  /** Adds a keyboard shortcut handler for as long as the page is shown (main.ts calls them first). */
  onKey(handler: (key: string, event: KeyboardEvent) => boolean): void {
    this.keyHandlers.push(handler);
  }

  dispose(): void {
    this.keyHandlers.length = 0;
    this.controller.abort();
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
  }

  /** The page title (document title and breadcrumbs). */
  title(crumbs: Crumb[]): void {
    document.title = [...crumbs.map(crumbText).reverse(), 'Jetway'].join(' - ');
    this.setHeader(crumbs);
  }

  /** Where the problem shown came from: a refresh's is cleared by the next good refresh, an action's stays until the next action. */
  private problemFrom: 'refresh' | 'action' | undefined;

  /** Shows a problem above the page (undefined hides it). */
  problem(message: string | undefined, from: 'refresh' | 'action' = 'refresh'): void {
    this.problemFrom = message === undefined ? undefined : from;
    this.banner.hidden = message === undefined;
    this.banner.textContent = message ?? '';
  }

  /** Hides the problem shown, if it came from there. */
  private clearProblem(from: 'refresh' | 'action'): void {
    if (this.problemFrom === from) this.problem(undefined);
  }

  /** Waits ms (ends early, without error, when the page is left). */
  sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      if (!this.active) return resolve();
      const t = setTimeout(() => {
        this.timers.delete(t);
        resolve();
      }, ms);
      this.timers.add(t);
      this.signal.addEventListener('abort', () => resolve(), { once: true });
    });
  }

  /**
   * Runs fn now and then every ms while the page is shown; a failure shows in the banner and
   * the next round tries again. Returns a function that runs it at once (after an action).
   */
  poll(ms: number, fn: () => Promise<void>): () => Promise<void> {
    let timer: ReturnType<typeof setTimeout> | undefined;
    let running: Promise<void> | undefined;
    const round = async (): Promise<void> => {
      if (!this.active) return;
      if (timer !== undefined) {
        clearTimeout(timer);
        this.timers.delete(timer);
      }
      try {
        await fn();
        // a refresh that works clears a refresh's problem, never a failed action's
        if (this.active) this.clearProblem('refresh');
      } catch (err) {
        if (this.active && !(err instanceof ApiError && err.status === 401) && this.problemFrom !== 'action') this.problem(describeError(err));
      }
      if (!this.active) return;
      timer = setTimeout(() => void (running = round()), ms);
      this.timers.add(timer);
    };
    running = round();
    return async () => {
      await running;
      await (running = round());
    };
  }

  /** Runs a user's action (a button): its failure shows in the banner until the next action; the button is disabled meanwhile. */
  async action(button: HTMLButtonElement | undefined, fn: () => Promise<void>): Promise<void> {
    if (button) button.disabled = true;
    try {
      await fn();
      if (this.active) this.clearProblem('action');
    } catch (err) {
      if (this.active && !(err instanceof ApiError && err.status === 401)) this.problem(describeError(err), 'action');
    } finally {
      if (button) button.disabled = false;
    }
  }
}

export function describeError(err: unknown): string {
  if (err instanceof ApiError) return `${err.message} (HTTP ${err.status})`;
  if (err instanceof TypeError) return `cannot reach the Jetway server (${err.message}); retrying`;
  return err instanceof Error ? err.message : String(err);
}

/** Re-renders a region only when the data behind it changed, so focus and selection survive polling. */
export class Region {
  private key = '';
  constructor(readonly element: HTMLElement) {}

  update(data: unknown, render: () => Children): void {
    const key = JSON.stringify(data);
    if (key === this.key) return;
    this.key = key;
    this.element.replaceChildren();
    append(this.element, render());
  }
}

/** A button (type=button) with a click action. */
export function button(label: string, onClick: (b: HTMLButtonElement) => void, attrs: Record<string, string | boolean | undefined> = {}): HTMLButtonElement {
  const b = h('button', { type: 'button', ...attrs }, label);
  b.addEventListener('click', () => onClick(b));
  return b;
}
