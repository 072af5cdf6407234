// A job: its latest build as the build page shows it (log included, with tabs for the earlier
// builds that switch it in place, as Concourse's), its builds, newest first, with status and
// times; trigger a build (and follow it on the build page, as Concourse does), pause and unpause
// the job; why it will not run, when it will not.
import type { Build, Job } from '../../../api/wire.ts';
import { h, timeElement } from '../dom.ts';
import { pipelineApiPath, routeHash, type PipelineRef } from '../routes.ts';
import { jobStatus, statusClass, statusLabel } from '../status.ts';
import { buildDuration } from '../time.ts';
import { button, pipelineCrumbs, Region, ViewContext } from '../view.ts';
import { buildView } from './build.ts';

const POLL_MS = 3000;

export function jobView(ctx: ViewContext, pipeline: PipelineRef, name: string): void {
  /** the API path of the job or of something in it (`/builds`), the instance vars in its query */
  const path = (sub = '', params: Record<string, string> = {}): string => pipelineApiPath(pipeline, `/jobs/${encodeURIComponent(name)}${sub}`, params);
  ctx.title([...pipelineCrumbs(pipeline), { label: name }]);
  const header = new Region(h('div', { class: 'page-header' }));
  const inputs = new Region(h('div', { class: 'job-inputs' }));
  const builds = new Region(h('div', { class: 'builds' }));
  const shown = h('section', { class: 'job-build', 'aria-label': 'build shown', 'data-job-build': true });
  ctx.content.replaceChildren(header.element, inputs.element, shown, h('h2', null, 'Builds'), builds.element);

  // the build shown below the header: the latest, until the user picks one of the tabs
  let picked: number | undefined;
  let showing: { id: number; ctx: ViewContext } | undefined;
  const show = (id: number): void => {
    if (showing?.id === id) return;
    showing?.ctx.dispose();
    const child = new ViewContext(ctx.api, shown, () => undefined);
    showing = { id, ctx: child };
    buildView(child, id, { embedded: { select: (target) => ((picked = target), show(target)) } });
  };
  ctx.signal.addEventListener('abort', () => showing?.ctx.dispose(), { once: true });
  ctx.onKey((key, e) => {
    if (key === 'T') {
      header.element.querySelector<HTMLButtonElement>('[data-action="trigger"]')?.click();
      return true;
    }
    // the build shown takes the rest (t, h, l, A)
    return showing?.ctx.keyHandlers.some((handle) => handle(key, e)) ?? false;
  });

  const refresh = ctx.poll(POLL_MS, async () => {
    const [job, list] = await Promise.all([ctx.api.get<Job>(path(), ctx.signal), ctx.api.get<Build[]>(path('/builds', { limit: '50' }), ctx.signal)]);
    const s = jobStatus(job);
    header.update([job.paused, s, job.disable_manual_trigger, job.pending_reason], () => [
      h('h1', null, name, ' ', h('span', { class: `badge ${statusClass(s)}` }, statusLabel(s))),
      h(
        'div',
        { class: 'actions' },
        !ctx.api.loggedIn ? null : button(
          'trigger build',
          (b) =>
            void ctx.action(b, async () => {
              const build = await ctx.api.send<Build>('POST', path('/builds'));
              if (build) location.hash = routeHash({ page: 'build', id: build.id });
            }),
          { 'data-action': 'trigger', ...(job.disable_manual_trigger ? { disabled: true, title: 'manual triggering is disabled for this job' } : {}) },
        ),
        !ctx.api.loggedIn
          ? null
          : button(job.paused ? 'unpause job' : 'pause job', (b) =>
              void ctx.action(b, async () => {
                await ctx.api.send('PUT', path(job.paused ? '/unpause' : '/pause'));
                await refresh();
              }),
            ),
      ),
      // why the job will not run now (its pending build waits, a pause, an input without versions)
      job.pending_reason ? h('p', { class: 'notice', 'data-pending-reason': true }, 'Not running: ', job.pending_reason) : null,
    ]);
    inputs.update(job.inputs, () =>
      job.inputs.length === 0
        ? null
        : h(
            'p',
            { class: 'muted' },
            'inputs: ',
            job.inputs.map((i, n) => [
              n > 0 ? ', ' : '',
              h('a', { href: routeHash({ page: 'resource', ...pipeline, resource: i.resource }) }, i.name),
              i.passed && i.passed.length > 0 ? ` (passed ${i.passed.join(', ')})` : '',
            ]),
          ),
    );
    const latest = list[0];
    if (latest && picked === undefined) show(latest.id);
    const running = list.some((b) => b.status === 'started');
    builds.update([list, running ? Math.floor(Date.now() / 5000) : 0], () =>
      list.length === 0
        ? h('p', { class: 'empty' }, 'No builds yet.')
        : h(
            'table',
            { class: 'build-table' },
            h('thead', null, h('tr', null, ['build', 'status', 'started', 'ended', 'duration', 'by'].map((c) => h('th', { scope: 'col' }, c)))),
            h(
              'tbody',
              null,
              list.map((b) =>
                h(
                  'tr',
                  { 'data-build': b.name },
                  h('td', null, h('a', { href: routeHash({ page: 'build', id: b.id }) }, `#${b.name}`)),
                  h('td', null, h('span', { class: `badge ${statusClass(b.status)}` }, b.status)),
                  h('td', null, timeElement(b.start_time)),
                  h('td', null, timeElement(b.end_time)),
                  h('td', null, buildDuration(b, Date.now()) ?? ''),
                  h('td', null, b.created_by ?? ''),
                ),
              ),
            ),
          ),
    );
  });
}
