// The UI's pages and their addresses: hash routes shaped as Concourse's web paths
// (`#/teams/main/pipelines/hello/jobs/unit`), so the web node serves one page and the browser
// does the rest. Names are URI-encoded per segment; an instanced pipeline's instance vars follow
// the path as the API takes them, `?vars=<JSON object>` (Concourse's `?vars.<name>=<JSON>` is
// read too). The UI's first, team-less hashes (`#/pipelines/hello`) still parse, without a
// team: they mean the user's first team, so saved links keep working. Pure.

/** An instanced pipeline's instance vars (a JSON object). */
export type InstanceVars = Record<string, unknown>;

/** A pipeline as pages and the API name it. */
export interface PipelineRef {
  team: string;
  pipeline: string;
  /** absent for a pipeline that is not instanced */
  vars?: InstanceVars;
}

/** The pipeline in a route: no team in an old, team-less hash. */
type InPipeline = Omit<PipelineRef, 'team'> & { team?: string };

/** A pipeline's page: the groups whose tabs are selected (`?group=a&group=b`, Concourse's), none for all jobs. */
export type PipelineRoute = ({ page: 'pipeline'; groups?: string[] } & InPipeline) | ({ page: 'job'; job: string } & InPipeline) | ({ page: 'resource'; resource: string } & InPipeline);

export type Route =
  | { page: 'dashboard' }
  | { page: 'login' }
  | PipelineRoute
  | { page: 'build'; id: number }
  | { page: 'not-found'; path: string };

const enc = encodeURIComponent;

function decode(segment: string): string | undefined {
  try {
    return decodeURIComponent(segment);
  } catch {
    return undefined;
  }
}

/** Instance vars with at least one var (the API treats `{}` as none, so do the routes). */
function hasVars(vars: InstanceVars | undefined): vars is InstanceVars {
  return vars !== undefined && Object.keys(vars).length > 0;
}

function isObject(value: unknown): value is InstanceVars {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function parseJson(text: string): { value: unknown } | undefined {
  try {
    return { value: JSON.parse(text) as unknown };
  } catch {
    return undefined;
  }
}

/** The instance vars of a route's query, as the API reads them; null when they are malformed. */
function varsOf(query: string): InstanceVars | undefined | null {
  const params = new URLSearchParams(query);
  let vars: InstanceVars | undefined;
  const all = params.getAll('vars');
  if (all.length > 1) return null;
  if (all[0] !== undefined) {
    const parsed = parseJson(all[0]);
    if (!parsed || !isObject(parsed.value)) return null;
    vars = parsed.value;
  }
  for (const [key, value] of params) {
    if (!key.startsWith('vars.') || key === 'vars.') continue;
    const parsed = parseJson(value);
    if (!parsed) return null;
    vars = { ...vars, [key.slice('vars.'.length)]: parsed.value };
  }
  return hasVars(vars) ? vars : undefined;
}

/** The route of a location hash ("#/builds/12"; "" and "#/" are the dashboard). */
export function parseRoute(hash: string): Route {
  const full = hash.replace(/^#/, '');
  const q = full.indexOf('?');
  const path = q < 0 ? full : full.slice(0, q);
  const query = q < 0 ? '' : full.slice(q + 1);
  const notFound: Route = { page: 'not-found', path: full };
  const parts = path
    .split('/')
    .filter((s) => s !== '')
    .map(decode);
  if (parts.some((p) => p === undefined)) return notFound;
  const [a, b, c, ...more] = parts as string[];
  if (a === undefined) return { page: 'dashboard' };
  if (a === 'login' && b === undefined) return { page: 'login' };
  if (a === 'builds' && b !== undefined && /^\d+$/.test(b) && c === undefined) return { page: 'build', id: Number(b) };
  // `teams/:team/pipelines/…`, or the old `pipelines/…`
  let team: string | undefined;
  let rest: string[];
  if (a === 'teams' && b !== undefined && c === 'pipelines') {
    team = b;
    rest = more;
  } else if (a === 'pipelines') {
    rest = parts.slice(1) as string[];
  } else {
    return notFound;
  }
  const [pipeline, kind, name, ...extra] = rest;
  if (pipeline === undefined || extra.length > 0) return notFound;
  const vars = varsOf(query);
  if (vars === null) return notFound;
  const at: InPipeline = { ...(team !== undefined ? { team } : {}), pipeline, ...(vars ? { vars } : {}) };
  if (kind === undefined) {
    const groups = new URLSearchParams(query).getAll('group').filter((g) => g !== '');
    return { page: 'pipeline', ...at, ...(groups.length > 0 ? { groups } : {}) };
  }
  if (kind === 'jobs' && name !== undefined) return { page: 'job', ...at, job: name };
  if (kind === 'resources' && name !== undefined) return { page: 'resource', ...at, resource: name };
  return notFound;
}

/**
 * Instance vars in a hash: percent-encoded, except the JSON punctuation a fragment may hold as
 * it is (browsers leave it alone), so the vars stay readable in the address bar.
 */
function hashVars(vars: InstanceVars): string {
  return enc(JSON.stringify(vars)).replace(/%(7B|7D|5B|5D|3A|2C|2F)/g, (escaped) => decodeURIComponent(escaped));
}

/** The hash that shows a route (the inverse of parseRoute). */
export function routeHash(route: Route): string {
  switch (route.page) {
    case 'dashboard':
      return '#/';
    case 'login':
      return '#/login';
    case 'pipeline':
    case 'job':
    case 'resource': {
      const base = `#${route.team !== undefined ? `/teams/${enc(route.team)}` : ''}/pipelines/${enc(route.pipeline)}`;
      const sub = route.page === 'job' ? `/jobs/${enc(route.job)}` : route.page === 'resource' ? `/resources/${enc(route.resource)}` : '';
      const query = [
        ...(hasVars(route.vars) ? [`vars=${hashVars(route.vars)}`] : []),
        ...(route.page === 'pipeline' ? (route.groups ?? []).map((g) => `group=${enc(g)}`) : []),
      ];
      return `${base}${sub}${query.length > 0 ? `?${query.join('&')}` : ''}`;
    }
    case 'build':
      return `#/builds/${route.id}`;
    case 'not-found':
      return `#${route.path}`;
  }
}

export function isPipelineRoute(route: Route): route is PipelineRoute {
  return route.page === 'pipeline' || route.page === 'job' || route.page === 'resource';
}

/** The pipeline a route names; an old, team-less hash names one of firstTeam's. */
export function routePipeline(route: PipelineRoute, firstTeam: string): PipelineRef {
  return { team: route.team ?? firstTeam, pipeline: route.pipeline, ...(hasVars(route.vars) ? { vars: route.vars } : {}) };
}

/**
 * The API path of a pipeline or of something in it (sub: `/jobs/unit`), with the query params
 * given and the pipeline's instance vars: `/teams/main/pipelines/hello/jobs/unit/builds?limit=50`.
 */
export function pipelineApiPath(ref: PipelineRef, sub = '', params: Record<string, string> = {}): string {
  const query = Object.entries({ ...params, ...(hasVars(ref.vars) ? { vars: JSON.stringify(ref.vars) } : {}) }).map(([k, v]) => `${enc(k)}=${enc(v)}`);
  return `/teams/${enc(ref.team)}/pipelines/${enc(ref.pipeline)}${sub}${query.length > 0 ? `?${query.join('&')}` : ''}`;
}
