// The Jetway web UI: a single page served by the web node at `/`. Hash routes pick the page;
// without a valid session every route leads to the login page, and a 401 from any request ends
// the session and goes there too, saying why, then back to where the user was. Logging out
// revokes the token too.
import { Api, clearSession, loadSession, revokeToken, saveSession, type Session } from './api.ts';
import { h } from './dom.ts';
import { isPipelineRoute, parseRoute, routeHash, routePipeline } from './routes.ts';
import { ViewContext, type Crumb } from './view.ts';
import { buildView } from './views/build.ts';
import { dashboardView } from './views/dashboard.ts';
import { jobView } from './views/job.ts';
import { loginView } from './views/login.ts';
import { pipelineView } from './views/pipeline.ts';
import { resourceView } from './views/resource.ts';

const crumbs = h('nav', { class: 'crumbs', 'aria-label': 'breadcrumb' });
const user = h('div', { class: 'user' });
const main = h('main', { id: 'main' });
document.body.replaceChildren(
  h('header', { class: 'top' }, h('a', { class: 'brand', href: '#/' }, 'Jetway'), crumbs, user),
  main,
);

let session: Session | undefined = loadSession();
let current: ViewContext | undefined;
/** shown on the login page: why the session ended */
let notice: string | undefined;
/** where to go after logging in */
let returnTo: string | undefined;

function setCrumbs(list: Crumb[]): void {
  crumbs.replaceChildren(
    ...list.flatMap((c, i) => [
      h('span', { class: 'sep', 'aria-hidden': 'true' }, '/'),
      c.href && i < list.length - 1
        ? h('a', { href: c.href }, c.label, detail(c))
        : h('span', { 'aria-current': i === list.length - 1 ? 'page' : undefined }, c.label, detail(c)),
    ]),
  );
}

function detail(c: Crumb): HTMLElement | null {
  return c.detail ? h('span', { class: 'muted small crumb-detail' }, ` ${c.detail}`) : null;
}

function goTo(hash: string): void {
  if (location.hash === hash) render();
  else location.hash = hash;
}

function endSession(reason: string): void {
  if (!session) return; // several requests can fail at once: end it once
  session = undefined;
  clearSession();
  notice = `Your session is no longer valid (${reason}). Log in again.`;
  if (parseRoute(location.hash).page !== 'login') returnTo = location.hash;
  goTo('#/login');
}

function render(): void {
  current?.dispose();
  current = undefined;
  const route = parseRoute(location.hash);
  if (!session) {
    if (route.page !== 'login') {
      returnTo = location.hash;
      goTo('#/login');
      return;
    }
    setCrumbs([]);
    user.replaceChildren();
    loginView(main, {
      ...(notice !== undefined ? { notice } : {}),
      onLoggedIn: (s) => {
        session = s;
        saveSession(s);
        notice = undefined;
        const to = returnTo && parseRoute(returnTo).page !== 'login' ? returnTo : '#/';
        returnTo = undefined;
        goTo(to);
      },
    });
    return;
  }
  if (route.page === 'login') {
    goTo('#/');
    return;
  }
  const logout = h('button', { type: 'button', class: 'link-button' }, 'log out');
  logout.addEventListener('click', () => {
    // best effort: the session ends here even when the server cannot be told
    if (session) void revokeToken(session.token);
    session = undefined;
    clearSession();
    notice = 'You have logged out.';
    goTo('#/login');
  });
  user.replaceChildren(h('span', { class: 'muted' }, session.username), logout);

  // an old, team-less hash means the user's first team: show the address it now has
  const firstTeam = session.teams[0] ?? 'main';
  if (isPipelineRoute(route) && route.team === undefined) history.replaceState(null, '', routeHash({ ...route, team: firstTeam }));

  const ctx = new ViewContext(new Api(session, endSession), main, setCrumbs);
  current = ctx;
  switch (route.page) {
    case 'dashboard':
      return dashboardView(ctx);
    case 'pipeline':
      return pipelineView(ctx, routePipeline(route, firstTeam));
    case 'job':
      return jobView(ctx, routePipeline(route, firstTeam), route.job);
    case 'resource':
      return resourceView(ctx, routePipeline(route, firstTeam), route.resource);
    case 'build':
      return buildView(ctx, route.id);
    case 'not-found':
      ctx.title([{ label: 'not found' }]);
      ctx.content.replaceChildren(h('h1', null, 'Page not found'), h('p', null, 'Nothing lives at ', h('code', null, route.path), '. ', h('a', { href: routeHash({ page: 'dashboard' }) }, 'Back to the pipelines.')));
      return;
  }
}

window.addEventListener('hashchange', render);
render();
