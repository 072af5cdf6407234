// The dashboard: the pipelines of every team of the user (and public ones), under a heading per
// team (a team without pipelines too), each as a card, its jobs as boxes coloured by their
// latest build in the columns of the pipeline page; the card's colour is the pipeline's, and a
// mark counts the resources whose checks fail. A search (`team:`, `status:`, words of the name;
// `/` focuses it) filters the cards, and the compact view shows many pipelines as small tiles
// (kept in the browser). Logged out, the public pipelines; with none, the login page.
import type { JobSummary, Pipeline, Resource, Team } from '../../../api/wire.ts';
import { h } from '../dom.ts';
import { jobColumns } from '../layout.ts';
import { formatInstanceVars, groupByTeam, matchesSearch, parseDashboardSearch, pipelineRef } from '../pipelines.ts';
import { routeHash } from '../routes.ts';
import { checkFailing, jobIsRunning, jobStatus, pipelineStatus, statusClass, statusLabel } from '../status.ts';
import { formatAgo } from '../time.ts';
import { ApiError } from '../api.ts';
import { describeError, Region, type ViewContext } from '../view.ts';

const POLL_MS = 4000;
const COMPACT_KEY = 'jetway.dashboard.compact';

interface Loaded {
  jobs: JobSummary[] | string;
  /** how many of its resources' checks fail */
  failingChecks: number;
}

export function dashboardView(ctx: ViewContext, onNothingVisible: () => void): void {
  ctx.title([{ label: 'pipelines' }]);
  const teams = new Region(h('div', { class: 'teams' }));
  const search = h('input', { id: 'dashboard-search', type: 'search', placeholder: 'search: name, team:<name>, status:<failed|running|paused|…>', autocomplete: 'off', spellcheck: 'false' });
  let compact = localStorage.getItem(COMPACT_KEY) === 'true';
  const compactButton = h('button', { type: 'button', 'aria-pressed': String(compact), title: 'small tiles for many pipelines' }, 'compact view');
  const count = h('span', { class: 'muted small', 'aria-live': 'polite' });
  ctx.content.replaceChildren(
    h('div', { class: 'dashboard-bar' }, h('h1', null, 'Pipelines'), h('label', { for: 'dashboard-search', class: 'visually-hidden' }, 'search pipelines'), search, compactButton, count),
    teams.element,
  );
  ctx.onKey((key) => {
    if (key !== '/') return false;
    search.focus();
    return true;
  });

  let last: { pipelines: Pipeline[]; loaded: Loaded[]; teamNames: string[] } | undefined;
  const draw = (): void => {
    if (!last) return;
    const { pipelines, loaded, teamNames } = last;
    const minute = Math.floor(Date.now() / 60_000); // the "ago" texts age
    teams.update([pipelines, loaded, teamNames, minute, search.value, compact], () => {
      const query = parseDashboardSearch(search.value);
      const byPipeline = new Map(pipelines.map((p, i) => [p, loaded[i] ?? { jobs: [], failingChecks: 0 }]));
      const grouped = groupByTeam(pipelines);
      // teams without pipelines are listed too (not while searching: they match nothing)
      const searching = search.value.trim() !== '';
      for (const t of teamNames) if (!grouped.some((g) => g.team === t)) grouped.push({ team: t, pipelines: [] });
      let shown = 0;
      const sections = grouped.flatMap(({ team, pipelines: list }, i) => {
        const cards = list.filter((p) => {
          const l = byPipeline.get(p)!;
          const jobs = typeof l.jobs === 'string' ? [] : l.jobs;
          return matchesSearch(query, { team, name: p.name, vars: formatInstanceVars(pipelineRef(p).vars), status: pipelineStatus(p.paused, jobs), running: jobs.some(jobIsRunning) });
        });
        shown += cards.length;
        if (cards.length === 0 && (searching || list.length > 0)) return [];
        return [
          h(
            'section',
            { class: 'team', 'data-team': team, 'aria-labelledby': `team-${i}` },
            h('h2', { id: `team-${i}`, class: 'team-name' }, team),
            cards.length === 0
              ? h('p', { class: 'empty', 'data-empty-team': team }, 'No pipelines in this team yet.')
              : h('div', { class: compact ? 'dashboard compact' : 'dashboard' }, cards.map((p) => (compact ? pipelineTile(p, byPipeline.get(p)!) : pipelineCard(p, byPipeline.get(p)!)))),
          ),
        ];
      });
      count.textContent = searching ? `${shown} of ${pipelines.length} pipelines` : '';
      if (pipelines.length === 0 && teamNames.length === 0) return h('p', { class: 'empty' }, 'No pipelines yet. Set one with: ', h('code', null, `jetway set-pipeline -t <target> -p <name> -c pipeline.yml`));
      if (sections.length === 0) return h('p', { class: 'empty' }, 'No pipeline matches the search.');
      return sections;
    });
  };
  search.addEventListener('input', draw);
  search.addEventListener('keydown', (e) => {
    if (e.key === 'Escape') {
      search.value = '';
      search.blur();
      draw();
    }
  });
  compactButton.addEventListener('click', () => {
    compact = !compact;
    localStorage.setItem(COMPACT_KEY, String(compact));
    compactButton.setAttribute('aria-pressed', String(compact));
    draw();
  });

  ctx.poll(POLL_MS, async () => {
    // every team's at once: the API lists the pipelines of all the user's teams (and public ones)
    const [pipelines, teamList] = await Promise.all([
      ctx.api.get<Pipeline[]>('/pipelines', ctx.signal),
      ctx.api.loggedIn ? ctx.api.get<Team[]>('/teams', ctx.signal) : Promise.resolve([]),
    ]);
    if (!ctx.api.loggedIn && pipelines.length === 0) {
      onNothingVisible();
      return;
    }
    // every pipeline's jobs and resources in two requests, as Concourse's dashboard asks them
    // (not two a pipeline: a thousand pipelines made two thousand requests every poll); a failed
    // request leaves the cards without jobs or failure marks and says why
    const [jobs, resources] = await Promise.all([
      ctx.api.get<JobSummary[]>('/jobs', ctx.signal).catch((err: unknown): string => {
        if (err instanceof ApiError && err.status === 401) throw err;
        return describeError(err);
      }),
      ctx.api.get<Resource[]>('/resources', ctx.signal).catch(() => [] as Resource[]),
    ]);
    const jobsOf = new Map<number, JobSummary[]>();
    if (typeof jobs !== 'string') {
      for (const j of jobs) {
        const list = jobsOf.get(j.pipeline_id);
        if (list) list.push(j);
        else jobsOf.set(j.pipeline_id, [j]);
      }
    }
    const failing = new Map<number, number>();
    for (const r of resources) if (r.pipeline_id !== undefined && checkFailing(r)) failing.set(r.pipeline_id, (failing.get(r.pipeline_id) ?? 0) + 1);
    const loaded = pipelines.map((p): Loaded => ({ jobs: typeof jobs === 'string' ? jobs : (jobsOf.get(p.id) ?? []), failingChecks: failing.get(p.id) ?? 0 }));
    last = { pipelines, loaded, teamNames: teamList.map((t) => t.name) };
    draw();
  });
}

function failingMark(n: number): HTMLElement | null {
  if (n === 0) return null;
  const text = n === 1 ? "1 resource's check is failing" : `${n} resources' checks are failing`;
  return h('span', { class: 'check-failing-mark', title: text, 'aria-label': text, 'data-failing-checks': n }, '!');
}

function pipelineTile(p: Pipeline, l: Loaded): HTMLElement {
  const ref = pipelineRef(p);
  const vars = formatInstanceVars(ref.vars);
  const jobs = typeof l.jobs === 'string' ? [] : l.jobs;
  const status = pipelineStatus(p.paused, jobs);
  const running = jobs.some(jobIsRunning);
  return h(
    'a',
    {
      class: `tile ${statusClass(status)}${running ? ' running' : ''}`,
      href: routeHash({ page: 'pipeline', ...ref }),
      'data-pipeline': p.name,
      'data-status': status,
      title: `${p.name}${vars ? ` (${vars})` : ''}: ${statusLabel(status)}${running ? ', running' : ''}`,
    },
    h('span', { class: 'tile-name' }, p.name, vars ? h('span', { class: 'muted small' }, ` ${vars}`) : null),
    failingMark(l.failingChecks),
  );
}

function pipelineCard(p: Pipeline, l: Loaded): HTMLElement {
  const ref = pipelineRef(p);
  const vars = formatInstanceVars(ref.vars);
  const jobs = typeof l.jobs === 'string' ? [] : l.jobs;
  const status = pipelineStatus(p.paused, jobs);
  const running = jobs.some(jobIsRunning);
  const lastEnd = Math.max(0, ...jobs.map((j) => j.finished_build?.end_time ?? 0));
  return h(
    'article',
    {
      class: `card ${statusClass(status)}${running ? ' running' : ''}`,
      'data-pipeline': p.name,
      'data-status': status,
      'data-instance-vars': ref.vars ? JSON.stringify(ref.vars) : undefined,
      'aria-label': `pipeline ${p.name}${vars ? ` (${vars})` : ''}: ${statusLabel(status)}`,
    },
    h(
      'header',
      { class: 'card-header' },
      h('a', { href: routeHash({ page: 'pipeline', ...ref }) }, p.name, vars ? h('span', { class: 'muted small instance-vars' }, ` ${vars}`) : null),
      p.paused ? h('span', { class: 'badge status-paused' }, 'paused') : null,
      p.public ? h('span', { class: 'badge', title: 'readable without logging in' }, 'public') : null,
      failingMark(l.failingChecks),
    ),
    h(
      'div',
      { class: 'card-jobs' },
      typeof l.jobs === 'string'
        ? h('span', { class: 'muted' }, `jobs not available: ${l.jobs}`)
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
