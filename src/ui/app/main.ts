// The Jetway web UI: a single page served by the web node at `/`. Hash routes pick the page.
// Without a session the pages read the API without a token: public pipelines (expose-pipeline)
// and their public jobs' builds show so, and whatever answers 401 leads to the login page, saying
// why, then back to where the user was. A 401 to a logged-in user ends the session the same way.
// Logging out revokes the token too. Keyboard shortcuts: `?` lists them (shortcuts.ts).
import { Api, clearSession, loadSession, revokeToken, saveSession, type Session } from './api.ts';
import { h } from './dom.ts';
import { isPipelineRoute, parseRoute, routeHash, routePipeline } from './routes.ts';
import { isTyping, shortcutHelp } from './shortcuts.ts';
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

/** A page read without a session needs one: the login page says so, then comes back. */
function needLogin(reason?: string): void {
  if (session) return;
  notice = reason === undefined ? undefined : `Log in to see this page (${reason}).`;
  if (parseRoute(location.hash).page !== 'login') returnTo = location.hash;
  goTo('#/login');
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
  if (route.page === 'login') {
    if (session) {
      goTo('#/');
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
  if (!session) {
    const login = h('a', { href: '#/login' }, 'log in');
    login.addEventListener('click', () => {
      returnTo = location.hash;
      notice = undefined;
    });
    user.replaceChildren(login);
    renderPage(route, 'main');
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

  renderPage(route, firstTeam);
}

function renderPage(route: ReturnType<typeof parseRoute>, firstTeam: string): void {
  const ctx = new ViewContext(new Api(session, session ? endSession : needLogin), main, setCrumbs);
  current = ctx;
  switch (route.page) {
    case 'login':
      return;
    case 'dashboard':
      return dashboardView(ctx, () => needLogin());
    case 'pipeline':
      return pipelineView(ctx, routePipeline(route, firstTeam), route.groups);
    case 'job':
      return jobView(ctx, routePipeline(route, firstTeam), route.job);
    case 'resource':
      return resourceView(ctx, routePipeline(route, firstTeam), route.resource);
    case 'build':
      return buildView(ctx, route.id);
    case 'not-found':
      ctx.title([{ label: 'not found' }]);
      ctx.content.replaceChildren(
        h('section', { class: 'not-found', 'data-page': 'not-found' }, h('h1', null, '404: page not found'), h('p', null, 'Nothing lives at ', h('code', null, route.path), '. ', h('a', { href: routeHash({ page: 'dashboard' }) }, 'Back to the pipelines.'))),
      );
      return;
  }
}

// keyboard shortcuts: the page's first, then the ones of every page; never while typing
const help = shortcutHelp();
document.body.append(help.element);
window.addEventListener('keydown', (e) => {
  if (e.ctrlKey || e.metaKey || e.altKey || isTyping(e.target)) return;
  if (e.key === 'Escape' && help.open) {
    help.toggle(false);
    return;
  }
  if (current?.keyHandlers.some((handle) => handle(e.key, e))) {
    e.preventDefault();
    return;
  }
  if (e.key === '?') help.toggle();
  else if (e.key === 'd' && parseRoute(location.hash).page !== 'dashboard') goTo('#/');
  else return;
  e.preventDefault();
});
window.addEventListener('hashchange', render);
render();
