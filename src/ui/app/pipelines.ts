// Pipelines as the dashboard and the page titles show them: grouped by team, and an instanced
// pipeline named by its instance vars too (several instances share a name). Pure (no DOM).
import type { Pipeline } from '../../api/wire.ts';
import type { InstanceVars, PipelineRef } from './routes.ts';

export interface TeamPipelines<P> {
  team: string;
  pipelines: P[];
}

/** The pipelines by team, teams and pipelines in the order the API lists them. */
export function groupByTeam<P extends Pick<Pipeline, 'team_name'>>(pipelines: readonly P[]): TeamPipelines<P>[] {
  const groups = new Map<string, P[]>();
  for (const p of pipelines) {
    const list = groups.get(p.team_name);
    if (list) list.push(p);
    else groups.set(p.team_name, [p]);
  }
  return [...groups].map(([team, list]) => ({ team, pipelines: list }));
}

/** The page of a pipeline the API listed. */
export function pipelineRef(p: Pick<Pipeline, 'team_name' | 'name' | 'instance_vars'>): PipelineRef {
  return { team: p.team_name, pipeline: p.name, ...(p.instance_vars && Object.keys(p.instance_vars).length > 0 ? { vars: p.instance_vars } : {}) };
}

/** Instance vars as text, `branch: main, n: 2` (strings as they are, other values as JSON); '' for none. */
export function formatInstanceVars(vars: InstanceVars | undefined): string {
  return Object.entries(vars ?? {})
    .map(([k, v]) => `${k}: ${typeof v === 'string' ? v : JSON.stringify(v)}`)
    .join(', ');
}

/**
 * A dashboard search, as Concourse's: `team:<name>` and `status:<status>` terms (each repeatable,
 * any of them matches), the other words parts of the pipeline's name (or instance vars), all of
 * which must match. Case does not matter.
 */
export interface DashboardSearch {
  words: string[];
  teams: string[];
  statuses: string[];
}

export function parseDashboardSearch(text: string): DashboardSearch {
  const search: DashboardSearch = { words: [], teams: [], statuses: [] };
  for (const term of text.toLowerCase().split(/\s+/).filter((t) => t !== '')) {
    if (term.startsWith('team:') && term.length > 5) search.teams.push(term.slice(5));
    else if (term.startsWith('status:') && term.length > 7) search.statuses.push(term.slice(7));
    else search.words.push(term);
  }
  return search;
}

/** What a search looks at on a pipeline's card. */
export interface SearchedPipeline {
  team: string;
  name: string;
  /** its instance vars as text ('' for none) */
  vars: string;
  /** its colour (a DisplayStatus) */
  status: string;
  running: boolean;
}

export function matchesSearch(search: DashboardSearch, p: SearchedPipeline): boolean {
  if (search.teams.length > 0 && !search.teams.includes(p.team.toLowerCase())) return false;
  if (search.statuses.length > 0 && !search.statuses.some((s) => s === p.status || (s === 'running' && p.running))) return false;
  const named = `${p.name} ${p.vars}`.toLowerCase();
  return search.words.every((w) => named.includes(w));
}
