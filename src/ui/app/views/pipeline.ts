// A pipeline: its jobs in columns by `passed` depth (as Concourse draws the pipeline), each with
// its inputs and outputs; its resources; group tabs; pausing and unpausing. An instanced
// pipeline's page is that instance's: its vars go with every request and link.
import type { Job, Pipeline, Resource } from '../../../api/wire.ts';
import { h } from '../dom.ts';
import { jobColumns } from '../layout.ts';
import { formatInstanceVars } from '../pipelines.ts';
import { pipelineApiPath, routeHash, type PipelineRef } from '../routes.ts';
import { jobIsRunning, jobStatus, statusClass, statusLabel } from '../status.ts';
import { formatAgo } from '../time.ts';
import { button, pipelineCrumbs, Region, type ViewContext } from '../view.ts';

const POLL_MS = 4000;

export function pipelineView(ctx: ViewContext, ref: PipelineRef): void {
  const name = ref.pipeline;
  const vars = formatInstanceVars(ref.vars);
  ctx.title(pipelineCrumbs(ref));
  const header = new Region(h('div', { class: 'page-header' }));
  const groups = new Region(h('nav', { class: 'groups', 'aria-label': 'groups' }));
  const graph = new Region(h('div', { class: 'pipeline-graph' }));
  const resources = new Region(h('div', { class: 'resource-list' }));
  ctx.content.replaceChildren(
    header.element,
    groups.element,
    h('div', { class: 'pipeline-layout' }, h('section', { 'aria-label': 'jobs' }, graph.element), h('aside', { 'aria-label': 'resources' }, h('h2', null, 'Resources'), resources.element)),
  );
  let group: string | undefined; // the group tab shown; undefined: all jobs

  let last: { pipeline: Pipeline; jobs: Job[]; res: Resource[] } | undefined;
  const render = (pipeline: Pipeline, jobs: Job[], res: Resource[]): void => {
    last = { pipeline, jobs, res };
    header.update(pipeline.paused, () => [
      h(
        'h1',
        null,
        name,
        vars ? h('span', { class: 'muted instance-vars', 'data-instance-vars': true }, ` ${vars}`) : null,
        pipeline.paused ? h('span', { class: 'badge status-paused' }, 'paused') : null,
      ),
      button(pipeline.paused ? 'unpause pipeline' : 'pause pipeline', (b) =>
        void ctx.action(b, async () => {
          await ctx.api.send('PUT', pipelineApiPath(ref, pipeline.paused ? '/unpause' : '/pause'));
          await refresh();
        }),
      ),
    ]);
    const tabs = pipeline.groups ?? [];
    if (group !== undefined && !tabs.some((g) => g.name === group)) group = undefined;
    groups.update([tabs.map((g) => g.name), group], () =>
      tabs.length === 0
        ? null
        : [undefined, ...tabs.map((g) => g.name)].map((g) =>
            button(g ?? 'all', () => {
              group = g;
              if (last) render(last.pipeline, last.jobs, last.res);
            }, { 'aria-pressed': String(g === group), class: 'tab' }),
          ),
    );
    const shown = group === undefined ? jobs : jobs.filter((j) => j.groups.includes(group!));
    graph.update([shown, group], () =>
      shown.length === 0
        ? h('p', { class: 'empty' }, 'This pipeline has no jobs.')
        : h(
            'div',
            { class: 'columns' },
            jobColumns(shown).map((column, i) =>
              h('div', { class: 'column', 'data-column': i, role: 'list', 'aria-label': `column ${i + 1}` }, column.map((j) => jobBox(ref, j))),
            ),
          ),
    );
    const minute = Math.floor(Date.now() / 60_000);
    resources.update([res, minute], () =>
      res.length === 0
        ? h('p', { class: 'muted' }, 'no resources')
        : h(
            'ul',
            null,
            res.map((r) => {
              const failing = r.build && (r.build.status === 'failed' || r.build.status === 'errored');
              return h(
                'li',
                { class: failing ? 'status-failed' : undefined, 'data-resource': r.name },
                h('a', { href: routeHash({ page: 'resource', ...ref, resource: r.name }) }, r.name),
                ' ',
                h('span', { class: 'muted' }, r.type),
                r.pinned_version ? h('span', { class: 'badge' }, 'pinned') : null,
                h('div', { class: 'muted small' }, failing ? 'check failing' : r.last_checked ? `checked ${formatAgo(r.last_checked, Date.now())}` : 'not checked yet'),
              );
            }),
          ),
    );
  };

  // last: the first round runs at once and renders with everything above
  const refresh = ctx.poll(POLL_MS, async () => {
    const [pipeline, jobs, res] = await Promise.all([
      ctx.api.get<Pipeline>(pipelineApiPath(ref), ctx.signal),
      ctx.api.get<Job[]>(pipelineApiPath(ref, '/jobs'), ctx.signal),
      ctx.api.get<Resource[]>(pipelineApiPath(ref, '/resources'), ctx.signal),
    ]);
    render(pipeline, jobs, res);
  });
}

function jobBox(pipeline: PipelineRef, j: Job): HTMLElement {
  const s = jobStatus(j);
  return h(
    'div',
    { class: `job-box ${statusClass(s)}${jobIsRunning(j) ? ' running' : ''}`, role: 'listitem', 'data-job': j.name },
    h('a', { class: 'job-name', href: routeHash({ page: 'job', ...pipeline, job: j.name }) }, j.name),
    h('span', { class: 'visually-hidden' }, `: ${statusLabel(s)}`),
    j.inputs.length > 0
      ? h(
          'ul',
          { class: 'job-io', 'aria-label': 'inputs' },
          j.inputs.map((i) =>
            h(
              'li',
              null,
              h('span', { class: 'io-kind' }, 'get'),
              ' ',
              h('a', { href: routeHash({ page: 'resource', ...pipeline, resource: i.resource }) }, i.name),
              i.trigger ? h('span', { class: 'muted small', title: 'new versions trigger the job' }, ' trigger') : null,
              i.passed && i.passed.length > 0 ? h('span', { class: 'muted small' }, ` passed: ${i.passed.join(', ')}`) : null,
            ),
          ),
        )
      : null,
    j.outputs.length > 0
      ? h(
          'ul',
          { class: 'job-io', 'aria-label': 'outputs' },
          j.outputs.map((o) => h('li', null, h('span', { class: 'io-kind' }, 'put'), ' ', h('a', { href: routeHash({ page: 'resource', ...pipeline, resource: o.resource }) }, o.name))),
        )
      : null,
  );
}
