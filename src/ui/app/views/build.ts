// A build: its status and times, and its event stream rendered as Concourse's build page does,
// one collapsible section per step of the plan with the step's status and log, errors in red;
// it follows a running build live (and resumes the stream where it broke). Abort and rerun. A
// pending build shows why it waits (its preparation, as Concourse's build page). A job's build
// has tabs for the job's other builds (h and l go to the previous and next); each log line's time
// shows on demand (the "timestamps" toggle, or t; remembered in the browser). The job page shows
// its latest build with the same view (`embedded`: its tabs switch the build in place).
import type { Build, BuildPreparation } from '../../../api/wire.ts';
import { ApiError } from '../api.ts';
import { BuildView, expandedByDefault, stepTitle, type BuildViewChange, type StepView } from '../build-view.ts';
import type { AnsiSegment } from '../ansi.ts';
import { h, timeElement } from '../dom.ts';
import { pipelineRef } from '../pipelines.ts';
import { pipelineApiPath, routeHash, type PipelineRef } from '../routes.ts';
import { isFinished, statusClass } from '../status.ts';
import { buildDuration, formatDuration } from '../time.ts';
import { button, describeError, pipelineCrumbs, Region, type Crumb, type ViewContext } from '../view.ts';

const POLL_MS = 2000;
const TABS_POLL_MS = 5000;

interface StepElements {
  root: HTMLElement;
  toggle: HTMLButtonElement;
  status: HTMLElement;
  duration: HTMLElement;
  body: HTMLElement;
  details: HTMLElement;
  log: HTMLPreElement;
  /** the time of each log line, beside it */
  times: HTMLPreElement;
  errors: HTMLElement;
}

export interface BuildViewOptions {
  /** shown inside another page (the job's): no title of its own; a tab calls select instead of leaving */
  embedded?: { select(id: number): void };
}

const TIMES_KEY = 'jetway.build.timestamps';

export function buildView(ctx: ViewContext, id: number, opts: BuildViewOptions = {}): void {
  const title = (crumbs: Crumb[]): void => {
    if (!opts.embedded) ctx.title(crumbs);
  };
  title([{ label: `build ${id}` }]);
  const header = new Region(h('div', { class: 'page-header build-header' }));
  const tabs = new Region(h('nav', { class: 'build-tabs', 'aria-label': 'builds of the job' }));
  let showTimes = localStorage.getItem(TIMES_KEY) === 'true';
  const timesButton = h('button', { type: 'button', class: 'link-button', 'aria-pressed': String(showTimes), title: 'the time of each log line (t)' }, 'timestamps');
  const waiting = h('p', { class: 'muted', 'data-waiting': true }, 'Waiting for the build to start…');
  // a pending build says why it waits, as Concourse's "preparing build" list (GET /builds/:id/preparation)
  const preparation = new Region(h('section', { class: 'build-prep', 'data-build-prep': true, 'aria-live': 'polite' }));
  const stepsEl = h('div', { class: `steps${showTimes ? ' show-times' : ''}`, 'aria-live': 'off' });
  ctx.content.replaceChildren(tabs.element, header.element, h('div', { class: 'build-tools' }, timesButton), waiting, preparation.element, stepsEl);
  /** how many line times each step's column shows */
  const timesShown = new Map<string, number>();
  const toggleTimes = (): void => {
    showTimes = !showTimes;
    localStorage.setItem(TIMES_KEY, String(showTimes));
    timesButton.setAttribute('aria-pressed', String(showTimes));
    stepsEl.classList.toggle('show-times', showTimes);
    if (view) for (const s of view.steps) updateTimes(s);
  };
  timesButton.addEventListener('click', toggleTimes);
  /** the job's builds, newest first, for the tabs and h/l */
  let jobBuilds: Build[] = [];
  const goTo = (target: number): void => {
    if (opts.embedded) opts.embedded.select(target);
    else location.hash = routeHash({ page: 'build', id: target });
  };
  ctx.onKey((key) => {
    if (key === 't') toggleTimes();
    else if (key === 'h' || key === 'l') {
      const i = jobBuilds.findIndex((b) => b.id === id);
      const next = i < 0 ? undefined : jobBuilds[key === 'h' ? i + 1 : i - 1];
      if (!next) return false;
      goTo(next.id);
    } else if (key === 'A' && build && !isFinished(build.status)) header.element.querySelector<HTMLButtonElement>('[data-action="abort"]')?.click();
    else if (key === 'T' && build?.job_name) header.element.querySelector<HTMLButtonElement>('[data-action="trigger"]')?.click();
    else return false;
    return true;
  });

  let build: Build | undefined;
  let view: BuildView | undefined;
  let following = false;
  let ended = false;
  /** the stream has ended and the finished build's record is shown */
  let settled = false;
  const elements = new Map<string, StepElements>();
  /** sections the user opened or closed: their choice wins over the defaults */
  const chosen = new Map<string, boolean>();

  // the running time ticks apart from the rest, so the buttons are not redrawn (and keep focus)
  const durationEl = h('dd', null);
  const renderHeader = (b: Build): void => {
    const finished = isFinished(b.status);
    durationEl.textContent = buildDuration(b, Date.now()) ?? 'n/a';
    header.update(b, () => {
      const crumbs: Crumb[] = [];
      const pipeline = pipelineOfBuild(b);
      if (pipeline) crumbs.push(...pipelineCrumbs(pipeline));
      if (pipeline && b.job_name) crumbs.push({ label: b.job_name, href: routeHash({ page: 'job', ...pipeline, job: b.job_name }) });
      crumbs.push({ label: b.job_name ? `#${b.name}` : `build ${b.id}` });
      title(crumbs);
      const heading = b.job_name ? `${b.job_name} #${b.name}` : `build ${b.id}`;
      return [
        h(opts.embedded ? 'h2' : 'h1', null, heading, ' ', h('span', { class: `badge ${statusClass(b.status)}`, 'data-build-status': b.status }, b.status)),
        h(
          'dl',
          { class: 'build-times' },
          h('dt', null, 'started'),
          h('dd', null, timeElement(b.start_time)),
          h('dt', null, 'finished'),
          h('dd', null, timeElement(b.end_time)),
          h('dt', null, 'duration'),
          durationEl,
          b.created_by ? [h('dt', null, 'by'), h('dd', null, b.created_by)] : null,
          b.rerun_of ? [h('dt', null, 'rerun of'), h('dd', null, h('a', { href: routeHash({ page: 'build', id: b.rerun_of.id }) }, `#${b.rerun_of.name}`))] : null,
        ),
        h(
          'div',
          { class: 'actions' },
          finished || !ctx.api.loggedIn
            ? null
            : button(
                'abort',
                (btn) =>
                  void ctx.action(btn, async () => {
                    await ctx.api.send('PUT', `/builds/${b.id}/abort`);
                    await refresh();
                  }),
                { 'data-action': 'abort' },
              ),
          pipeline && b.job_name && ctx.api.loggedIn
            ? button(
                'trigger new build',
                (btn) =>
                  void ctx.action(btn, async () => {
                    const created = await ctx.api.send<Build>('POST', pipelineApiPath(pipeline, `/jobs/${encodeURIComponent(b.job_name!)}/builds`));
                    if (created) goTo(created.id);
                  }),
                { 'data-action': 'trigger', title: 'trigger a new build of the job (T)' },
              )
            : null,
          finished && ctx.api.loggedIn && pipeline && b.job_name
            ? button('rerun', (btn) =>
                void ctx.action(btn, async () => {
                  const path = pipelineApiPath(pipeline, `/jobs/${encodeURIComponent(b.job_name!)}/builds/${encodeURIComponent(b.name)}`);
                  const rerun = await ctx.api.send<Build>('POST', path);
                  if (rerun) location.hash = routeHash({ page: 'build', id: rerun.id });
                }),
              )
            : null,
        ),
      ];
    });
  };

  const follow = async (): Promise<void> => {
    let plan: unknown = null;
    try {
      plan = (await ctx.api.get<{ plan: unknown }>(`/builds/${id}/plan`, ctx.signal)).plan;
    } catch (err) {
      if (!ctx.active || (err instanceof ApiError && err.status === 401)) return;
      // no plan (a build that errored before it had one): the events still show, as the build's
      if (!(err instanceof ApiError && err.status === 404)) ctx.problem(describeError(err));
    }
    const v = new BuildView(plan);
    view = v;
    waiting.remove();
    renderSteps();
    let lastEventId = -1;
    while (ctx.active) {
      try {
        const done = await ctx.api.streamEvents(
          id,
          lastEventId,
          {
            onEvents: (events) => {
              const atBottom = window.innerHeight + window.scrollY >= document.documentElement.scrollHeight - 48;
              for (const e of events) {
                lastEventId = e.event_id !== undefined ? Number(e.event_id) : lastEventId + 1;
                apply(v.apply(e));
              }
              // keep the newest output in sight while the user has not scrolled up
              if (atBottom && build && !isFinished(build.status)) window.scrollTo(0, document.documentElement.scrollHeight);
            },
          },
          ctx.signal,
        );
        if (done) {
          ended = true;
          break;
        }
      } catch (err) {
        if (!ctx.active || (err instanceof ApiError && err.status === 401)) return;
        ctx.problem(`the build's event stream broke (${describeError(err)}); reconnecting`);
      }
      await ctx.sleep(1000);
    }
    if (ctx.active) await refresh();
  };

  const apply = (changes: BuildViewChange[]): void => {
    for (const c of changes) {
      if (c.type === 'structure') renderSteps();
      else if (c.type === 'step') updateStep(c.step);
      else if (c.type === 'log') {
        appendLog(elementsOf(c.step).log, c.segments);
        updateTimes(c.step);
      }
      else if (c.type === 'status' && build && build.status !== c.status) {
        build = { ...build, status: c.status };
        renderHeader(build);
        if (isFinished(c.status)) void refresh(); // the end time
      }
    }
  };

  const renderSteps = (): void => {
    if (!view) return;
    const steps = view.visibleSteps();
    stepsEl.replaceChildren(...steps.map((s) => elementsOf(s).root));
    if (steps.length === 0) stepsEl.replaceChildren(h('p', { class: 'muted' }, 'This build has no steps.'));
  };

  const isOpen = (step: StepView): boolean => chosen.get(step.id) ?? expandedByDefault(step);

  /** The step's column of line times, brought up to date (only while shown: long logs stay cheap). */
  const updateTimes = (step: StepView): void => {
    const els = elements.get(step.id);
    if (!els || !showTimes) return;
    const from = timesShown.get(step.id) ?? 0;
    const more = step.lineTimes.slice(from).map(formatClock);
    if (more.length === 0) return;
    els.times.append(`${from > 0 ? '\n' : ''}${more.join('\n')}`);
    timesShown.set(step.id, step.lineTimes.length);
  };

  const elementsOf = (step: StepView): StepElements => {
    const known = elements.get(step.id);
    if (known) return known;
    const bodyId = `step-body-${elements.size}`;
    const status = h('span', { class: 'step-status' });
    const duration = h('span', { class: 'step-duration muted' });
    const toggle = h(
      'button',
      { type: 'button', class: 'step-header', 'aria-controls': bodyId, 'aria-expanded': 'false' },
      step.label ? h('span', { class: 'step-label' }, `${step.label}:`) : null,
      h('span', { class: 'step-title' }, stepTitle(step)),
      duration,
      status,
    );
    const details = h('div', { class: 'step-details' });
    const log = h('pre', { class: 'log' });
    const times = h('pre', { class: 'log-times', 'aria-hidden': 'true' });
    const errors = h('div', { class: 'step-errors' });
    const body = h('div', { class: 'step-body', id: bodyId, hidden: true }, details, h('div', { class: 'log-wrap' }, times, log), errors);
    const root = h('section', { class: `step depth-${Math.min(step.depth, 6)}`, 'data-step': stepTitle(step), 'data-step-id': step.id }, toggle, body);
    toggle.addEventListener('click', () => {
      chosen.set(step.id, !isOpen(step));
      updateStep(step);
    });
    const els: StepElements = { root, toggle, status, duration, body, details, log, times, errors };
    elements.set(step.id, els);
    appendLog(log, step.segments);
    updateTimes(step);
    updateStep(step);
    return els;
  };

  const updateStep = (step: StepView): void => {
    const els = elementsOf(step);
    const open = isOpen(step);
    els.root.className = `step depth-${Math.min(step.depth, 6)} step-${step.status}`;
    els.root.setAttribute('data-status', step.status);
    els.toggle.setAttribute('aria-expanded', String(open));
    els.body.hidden = !open;
    els.status.textContent = step.kind === 'build' ? '' : step.status;
    els.duration.textContent =
      step.startTime !== undefined && step.finishTime !== undefined ? formatDuration(step.finishTime - step.startTime) : '';
    const rows: HTMLElement[] = [];
    if (step.version) rows.push(h('tr', null, h('th', { scope: 'row' }, 'version'), h('td', null, formatVersion(step.version))));
    for (const m of step.metadata ?? []) rows.push(h('tr', null, h('th', { scope: 'row' }, m.name), h('td', null, m.value)));
    els.details.replaceChildren(...(rows.length > 0 ? [h('table', { class: 'metadata' }, h('tbody', null, rows))] : []));
    els.errors.replaceChildren(...step.errors.map((e) => h('p', { class: 'step-error', role: 'alert' }, e)));
  };

  const renderPreparation = (p: BuildPreparation): void => {
    preparation.update(p, () => {
      const item = (label: string, status: string, details: Record<string, string> = {}): HTMLElement =>
        h(
          'li',
          { 'data-prep-status': status },
          h('span', { 'aria-hidden': 'true' }, status === 'blocking' ? '… ' : '✓ '),
          label,
          status === 'blocking' ? h('span', { class: 'visually-hidden' }, ' (blocking)') : null,
          Object.keys(details).length > 0
            ? h('ul', { class: 'muted' }, Object.entries(details).map(([name, why]) => h('li', null, `${name} - ${why}`)))
            : null,
        );
      return [
        p.reasons && p.reasons.length > 0
          ? h('p', { class: 'notice', 'data-pending-reason': true }, 'Pending: ', p.reasons.join('; '))
          : null,
        h('h3', null, 'preparing build'),
        h(
          'ul',
          { class: 'prep-status-list' },
          item('checking pipeline is not paused', p.paused_pipeline),
          item('checking job is not paused', p.paused_job),
          Object.entries(p.inputs).map(([name, status]) => item(`discovering any new versions of ${name}`, status)),
          item('waiting for a suitable set of input versions', p.inputs_satisfied, p.missing_input_reasons),
          item('checking max-in-flight is not reached', p.max_running_builds),
        ),
      ];
    });
  };

  // the job's builds as tabs, newest first, the one shown marked
  const renderTabs = (): void => {
    tabs.update([jobBuilds.map((b) => [b.id, b.name, b.status]), id], () =>
      jobBuilds.length <= 1
        ? null
        : jobBuilds.map((b) => {
            const a = h(
              'a',
              { class: `build-tab ${statusClass(b.status)}`, href: routeHash({ page: 'build', id: b.id }), 'aria-current': b.id === id ? 'page' : undefined, 'data-build-tab': b.name, title: `#${b.name}: ${b.status}` },
              b.name,
            );
            if (opts.embedded) {
              a.addEventListener('click', (e) => {
                e.preventDefault();
                opts.embedded?.select(b.id);
              });
            }
            return a;
          }),
    );
  };
  ctx.poll(TABS_POLL_MS, async () => {
    const b = build ?? (await ctx.api.get<Build>(`/builds/${id}`, ctx.signal));
    const pipeline = pipelineOfBuild(b);
    if (!pipeline || !b.job_name) return;
    jobBuilds = await ctx.api.get<Build[]>(pipelineApiPath(pipeline, `/jobs/${encodeURIComponent(b.job_name)}/builds`, { limit: '30' }), ctx.signal);
    renderTabs();
  });

  // last: the first round runs at once and uses everything above
  const refresh = ctx.poll(POLL_MS, async () => {
    if (settled) return; // nothing changes any more
    build = await ctx.api.get<Build>(`/builds/${id}`, ctx.signal);
    renderHeader(build);
    if (build.status === 'pending' && build.job_name) renderPreparation(await ctx.api.get<BuildPreparation>(`/builds/${id}/preparation`, ctx.signal));
    else preparation.update(null, () => null);
    // the stream's own status events lead; the record's status only settles the steps at the end
    if (ended && view) apply(view.setStatus(build.status));
    if (ended && isFinished(build.status)) settled = true;
    if (!following && build.status !== 'pending') {
      following = true;
      void follow();
    }
  });
}

/** The pipeline of a job's or a resource check's build (an instance's with its vars); none for a one-off build. */
function pipelineOfBuild(b: Build): PipelineRef | undefined {
  return b.pipeline_name ? pipelineRef({ team_name: b.team_name, name: b.pipeline_name, instance_vars: b.pipeline_instance_vars }) : undefined;
}

function appendLog(pre: HTMLPreElement, segments: AnsiSegment[]): void {
  for (const s of segments) {
    pre.appendChild(s.classes === '' ? document.createTextNode(s.text) : h('span', { class: s.classes }, s.text));
  }
}

/** A log line's time as the local clock shows it: 14:05:31. */
function formatClock(unixSeconds: number): string {
  const d = new Date(unixSeconds * 1000);
  return [d.getHours(), d.getMinutes(), d.getSeconds()].map((n) => String(n).padStart(2, '0')).join(':');
}

function formatVersion(v: Record<string, string>): string {
  return Object.entries(v)
    .map(([k, x]) => `${k}: ${x}`)
    .join(', ');
}
