// A pipeline: its graph (graph-view.ts: jobs and resources joined by how versions flow, as
// Concourse draws it), group tabs that filter it (in the address: `?group=`, shift-click adds a
// group), pausing and unpausing; below the graph its resources with their checks. An instanced
// pipeline's page is that instance's: its vars go with every request and link.
import type { Job, Pipeline, Resource } from '../../../api/wire.ts';
import { h } from '../dom.ts';
import { PipelineGraph } from '../graph-view.ts';
import { formatInstanceVars } from '../pipelines.ts';
import { pipelineApiPath, routeHash, type PipelineRef } from '../routes.ts';
import { checkFailing } from '../status.ts';
import { formatAgo } from '../time.ts';
import { button, pipelineCrumbs, Region, type ViewContext } from '../view.ts';

const POLL_MS = 4000;

/** The jobs the selected groups show (all without a selection or a known group). */
export function jobsInGroups<J extends Pick<Job, 'groups'>>(jobs: readonly J[], selected: readonly string[]): J[] {
  return selected.length === 0 ? [...jobs] : jobs.filter((j) => j.groups.some((g) => selected.includes(g)));
}

export function pipelineView(ctx: ViewContext, ref: PipelineRef, selectedGroups: readonly string[] = []): void {
  const name = ref.pipeline;
  const vars = formatInstanceVars(ref.vars);
  ctx.title(pipelineCrumbs(ref));
  const header = new Region(h('div', { class: 'page-header' }));
  const groups = new Region(h('nav', { class: 'groups', 'aria-label': 'groups' }));
  const graph = new PipelineGraph();
  const empty = h('p', { class: 'empty', hidden: true }, 'This pipeline has no jobs.');
  const resources = new Region(h('div', { class: 'resource-list' }));
  ctx.content.replaceChildren(
    header.element,
    groups.element,
    h('section', { class: 'pipeline-graph', 'aria-label': 'jobs and resources' }, graph.element, empty),
    h('section', { 'aria-label': 'resources' }, h('h2', null, 'Resources'), resources.element),
  );
  ctx.onKey((key) => {
    if (key === '+' || key === '=') graph.zoomBy(1.25);
    else if (key === '-') graph.zoomBy(0.8);
    else if (key === '0') graph.fit();
    else return false;
    return true;
  });

  const render = (pipeline: Pipeline, jobs: Job[], res: Resource[]): void => {
    header.update([pipeline.paused, pipeline.public], () => [
      h(
        'h1',
        null,
        name,
        vars ? h('span', { class: 'muted instance-vars', 'data-instance-vars': true }, ` ${vars}`) : null,
        pipeline.paused ? h('span', { class: 'badge status-paused' }, 'paused') : null,
        pipeline.public ? h('span', { class: 'badge', title: 'readable without logging in (jetway expose-pipeline)' }, 'public') : null,
      ),
      ctx.api.loggedIn
        ? button(pipeline.paused ? 'unpause pipeline' : 'pause pipeline', (b) =>
            void ctx.action(b, async () => {
              await ctx.api.send('PUT', pipelineApiPath(ref, pipeline.paused ? '/unpause' : '/pause'));
              await refresh();
            }),
          )
        : null,
    ]);
    const tabs = (pipeline.groups ?? []).map((g) => g.name);
    const selected = selectedGroups.filter((g) => tabs.includes(g));
    groups.update([tabs, selected], () =>
      tabs.length === 0
        ? null
        : [undefined, ...tabs].map((g) => {
            const on = g === undefined ? selected.length === 0 : selected.includes(g);
            const a = h(
              'a',
              { class: `tab${on ? ' selected' : ''}`, href: routeHash({ page: 'pipeline', ...ref, ...(g !== undefined ? { groups: [g] } : {}) }), 'aria-current': on ? 'true' : undefined, 'data-group': g ?? '' },
              g ?? 'all',
            );
            // shift-click adds the group to (or takes it from) those shown, as on Concourse
            a.addEventListener('click', (e) => {
              if (!e.shiftKey || g === undefined) return;
              e.preventDefault();
              const next = selected.includes(g) ? selected.filter((x) => x !== g) : [...selected, g];
              location.hash = routeHash({ page: 'pipeline', ...ref, ...(next.length > 0 ? { groups: next } : {}) });
            });
            return a;
          }),
    );
    const shown = jobsInGroups(jobs, selected);
    empty.hidden = shown.length > 0;
    if (shown.length === 0 && jobs.length > 0) empty.textContent = 'No jobs in the groups selected.';
    graph.update(ref, shown, res);
    const minute = Math.floor(Date.now() / 60_000);
    resources.update([res, minute], () =>
      res.length === 0
        ? h('p', { class: 'muted' }, 'no resources')
        : h(
            'ul',
            null,
            res.map((r) => {
              const failing = checkFailing(r);
              return h(
                'li',
                { class: failing ? 'status-failed' : undefined, 'data-resource-row': r.name, 'data-check': failing ? 'failing' : undefined },
                h('a', { href: routeHash({ page: 'resource', ...ref, resource: r.name }) }, r.name),
                ' ',
                h('span', { class: 'muted' }, r.type),
                r.pinned_version ? h('span', { class: 'badge pinned' }, 'pinned') : null,
                failing ? h('span', { class: 'badge status-failed' }, 'check failing') : null,
                h('span', { class: 'muted small' }, r.last_checked ? ` checked ${formatAgo(r.last_checked, Date.now())}` : failing ? '' : ' not checked yet'),
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
