// The dashboard: the pipelines of every team of the user, under a heading per team, each as a
// card, its jobs as boxes coloured by their latest build, in the columns of the pipeline page;
// the card's colour is the pipeline's. An instanced pipeline's card is that instance's.
import type { Job, Pipeline } from '../../../api/wire.ts';
import { h } from '../dom.ts';
import { jobColumns } from '../layout.ts';
import { formatInstanceVars, groupByTeam, pipelineRef } from '../pipelines.ts';
import { pipelineApiPath, routeHash } from '../routes.ts';
import { jobIsRunning, jobStatus, pipelineStatus, statusClass, statusLabel } from '../status.ts';
import { formatAgo } from '../time.ts';
import { ApiError } from '../api.ts';
import { describeError, Region, type ViewContext } from '../view.ts';

const POLL_MS = 4000;

export function dashboardView(ctx: ViewContext): void {
  ctx.title([{ label: 'pipelines' }]);
  const teams = new Region(h('div', { class: 'teams' }));
  ctx.content.replaceChildren(h('h1', null, 'Pipelines'), teams.element);
  ctx.poll(POLL_MS, async () => {
    // every team's at once: the API lists the pipelines of all the user's teams
    const pipelines = await ctx.api.get<Pipeline[]>('/pipelines', ctx.signal);
    // one pipeline's failure spoils only its card
    const jobs = await Promise.all(
      pipelines.map((p) =>
        ctx.api
          .get<Job[]>(pipelineApiPath(pipelineRef(p), '/jobs'), ctx.signal)
          .catch((err: unknown) => {
            if (err instanceof ApiError && err.status === 401) throw err;
            return describeError(err);
          }),
      ),
    );
    const minute = Math.floor(Date.now() / 60_000); // the "ago" texts age
    const loaded = new Map(pipelines.map((p, i) => [p, jobs[i] ?? []]));
    teams.update([pipelines, jobs, minute], () =>
      pipelines.length === 0
        ? h('p', { class: 'empty' }, 'No pipelines yet. Set one with: ', h('code', null, `jetway set-pipeline -t <target> -p <name> -c pipeline.yml`))
        : groupByTeam(pipelines).map(({ team, pipelines: list }, i) =>
            h(
              'section',
              { class: 'team', 'data-team': team, 'aria-labelledby': `team-${i}` },
              h('h2', { id: `team-${i}`, class: 'team-name' }, team),
              h('div', { class: 'dashboard' }, list.map((p) => pipelineCard(p, loaded.get(p) ?? []))),
            ),
          ),
    );
  });
}

function pipelineCard(p: Pipeline, loaded: Job[] | string): HTMLElement {
  const ref = pipelineRef(p);
  const vars = formatInstanceVars(ref.vars);
  const jobs = typeof loaded === 'string' ? [] : loaded;
  const status = pipelineStatus(p.paused, jobs);
  const running = jobs.some(jobIsRunning);
  const lastEnd = Math.max(0, ...jobs.map((j) => j.finished_build?.end_time ?? 0));
  return h(
    'article',
    {
      class: `card ${statusClass(status)}${running ? ' running' : ''}`,
      'data-pipeline': p.name,
      'data-instance-vars': ref.vars ? JSON.stringify(ref.vars) : undefined,
      'aria-label': `pipeline ${p.name}${vars ? ` (${vars})` : ''}: ${statusLabel(status)}`,
    },
    h(
      'header',
      { class: 'card-header' },
      h('a', { href: routeHash({ page: 'pipeline', ...ref }) }, p.name, vars ? h('span', { class: 'muted small instance-vars' }, ` ${vars}`) : null),
      p.paused ? h('span', { class: 'badge status-paused' }, 'paused') : null,
    ),
    h(
      'div',
      { class: 'card-jobs' },
      typeof loaded === 'string'
        ? h('span', { class: 'muted' }, `jobs not available: ${loaded}`)
        : jobs.length === 0
        ? h('span', { class: 'muted' }, 'no jobs')
        : jobColumns(jobs).map((column) =>
            h(
              'div',
              { class: 'card-column' },
              column.map((j) => {
                const s = jobStatus(j);
                return h(
                  'a',
                  {
                    class: `card-job ${statusClass(s)}${jobIsRunning(j) ? ' running' : ''}`,
                    href: routeHash({ page: 'job', ...ref, job: j.name }),
                    title: `${j.name}: ${statusLabel(s)}`,
                    'data-job': j.name,
                  },
                  j.name,
                );
              }),
            ),
          ),
    ),
    h(
      'footer',
      { class: 'card-footer' },
      h('span', { class: `status-text ${statusClass(status)}` }, running && status !== 'started' && status !== 'pending' ? `${statusLabel(status)}, running` : statusLabel(status)),
      lastEnd > 0 ? h('span', { class: 'muted' }, formatAgo(lastEnd, Date.now())) : null,
    ),
  );
}
