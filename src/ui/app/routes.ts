// The UI's pages and their addresses: hash routes (`#/pipelines/hello/jobs/unit`), so the web
// node serves one page and the browser does the rest. Names are URI-encoded per segment. Pure.

export type Route =
  | { page: 'dashboard' }
  | { page: 'login' }
  | { page: 'pipeline'; pipeline: string }
  | { page: 'job'; pipeline: string; job: string }
  | { page: 'resource'; pipeline: string; resource: string }
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

/** The route of a location hash ("#/builds/12"; "" and "#/" are the dashboard). */
export function parseRoute(hash: string): Route {
  const path = hash.replace(/^#/, '').replace(/\?.*$/, '');
  const raw = path.split('/').filter((s) => s !== '');
  const parts = raw.map(decode);
  if (parts.some((p) => p === undefined)) return { page: 'not-found', path };
  const [a, b, c, d, ...rest] = parts as string[];
  if (a === undefined) return { page: 'dashboard' };
  if (a === 'login' && b === undefined) return { page: 'login' };
  if (a === 'builds' && b !== undefined && /^\d+$/.test(b) && c === undefined) return { page: 'build', id: Number(b) };
  if (a === 'pipelines' && b !== undefined && rest.length === 0) {
    if (c === undefined) return { page: 'pipeline', pipeline: b };
    if (c === 'jobs' && d !== undefined) return { page: 'job', pipeline: b, job: d };
    if (c === 'resources' && d !== undefined) return { page: 'resource', pipeline: b, resource: d };
  }
  return { page: 'not-found', path };
}

/** The hash that shows a route (the inverse of parseRoute). */
export function routeHash(route: Route): string {
  switch (route.page) {
    case 'dashboard':
      return '#/';
    case 'login':
      return '#/login';
    case 'pipeline':
      return `#/pipelines/${enc(route.pipeline)}`;
    case 'job':
      return `#/pipelines/${enc(route.pipeline)}/jobs/${enc(route.job)}`;
    case 'resource':
      return `#/pipelines/${enc(route.pipeline)}/resources/${enc(route.resource)}`;
    case 'build':
      return `#/builds/${route.id}`;
    case 'not-found':
      return `#${route.path}`;
  }
}

/** The API path of a pipeline of a team: `/teams/main/pipelines/hello`. */
export function pipelineApiPath(team: string, pipeline: string): string {
  return `/teams/${enc(team)}/pipelines/${enc(pipeline)}`;
}
