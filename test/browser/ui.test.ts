// The web UI in a real browser (Debian's chromium driven by playwright-core) against a real web
// node in this process (npm run test:browser; minutes, so not in npm test): log in (a wrong
// password first), the dashboard, the pipeline's graph (nodes and edges read from the DOM),
// a job, triggering a build and following its log until it succeeds; a token that stops working
// sends the user back to the login page, saying why. Then a resource's page: pinning a version,
// its pin comment, unpinning, disabling and enabling a version, and the API's refusal (409) to
// pin a resource the pipeline config pins, shown in the page. Then teams and instanced pipelines:
// the dashboard's pipelines under their teams' headings, a second team's pipeline and an
// instance's pages (every request naming the team and the instance vars), old team-less links,
// a team the user is not in; logging out revokes the token, and logs out even when it cannot.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import type { Browser, Page, Request } from 'playwright-core';
import { parse, stringify } from 'yaml';
import { packagePath } from '../../src/package.ts';
import type { WebNode } from '../../src/web/web-node.ts';
import { buildEvents } from '../../src/db/builds.ts';
import { skipWithoutChromium as skip, startBrowserNode, type BrowserNode } from '../support/browser.ts';

const USER = 'dev';
const PASSWORD = 'correct-horse-battery';
const WRONG = 'not-the-password-42';
/** a user who is no admin: only in team ops */
const VIEWER = 'viewer';
const VIEWER_PASSWORD = 'staple-battery-horse';

let web: BrowserNode;
let node: WebNode;
let browser: Browser;
let page: Page;
const pageErrors: string[] = [];
const HELLO = readFileSync(packagePath('examples', 'hello.yml'), 'utf8');
/** groups, a failing job, a fan-in, a failing check, an across step, a public job */
const GRAPH = readFileSync(packagePath('test', 'ui', 'fixtures', 'graph-pipeline.yml'), 'utf8');
const RESOURCE = '/teams/main/pipelines/hello/resources/source-code';
/** team ops's pipeline: named as main's, with other jobs */
const OPS_HELLO = stringify({ resources: [{ name: 'artifact', type: 'mock' }], jobs: [{ name: 'deploy', plan: [{ get: 'artifact' }] }] });
/** two instances of main's pipeline release, each with its own job */
const INSTANCE_A = { branch: 'feature/a b' };
const INSTANCE_B = { branch: 'b' };
const release = (job: string) => stringify({ resources: [{ name: 'src', type: 'mock' }], jobs: [{ name: job, plan: [{ get: 'src' }] }] });
/** the hash of instance A's pipeline page, as the UI prints it (JSON punctuation left readable) */
const RELEASE_A = '#/teams/main/pipelines/release?vars={%22branch%22:%22feature/a%20b%22}';

// what the functions run in the page (page.evaluate) use; this file is checked without the DOM lib
type InPage = typeof globalThis & {
  localStorage: { length: number; getItem(key: string): string | null; setItem(key: string, value: string): void };
  getComputedStyle(element: unknown): { textDecorationLine: string; strokeDasharray: string; animationName: string };
};

const api = (method: string, path: string, body?: string, headers?: Record<string, string>): Promise<Response> => web.api(method, path, body, headers);

before(async () => {
  if (skip) return;
  web = await startBrowserNode({ name: 'ui-browser', localUsers: [`${USER}:${PASSWORD}`, `${VIEWER}:${VIEWER_PASSWORD}`], mainTeamUsers: [USER], timeoutMs: 60_000 });
  ({ node, browser, page } = web);
  await api('PUT', '/teams/main/pipelines/hello/config', HELLO);
  await api('PUT', '/teams/main/pipelines/hello/unpause');
  await api('PUT', '/teams/ops', JSON.stringify({ auth: { owner: { users: [`local:${VIEWER}`] } } }), { 'content-type': 'application/json' });
  await api('PUT', '/teams/ops/pipelines/hello/config', OPS_HELLO);
  // the graph fixture: its builds run while the first tests do
  await api('PUT', '/teams/main/pipelines/graph/config', GRAPH);
  await api('PUT', '/teams/main/pipelines/graph/unpause');
  for (const [vars, job] of [[INSTANCE_A, 'build-a'], [INSTANCE_B, 'build-b']] as const) {
    await api('PUT', `/teams/main/pipelines/release/config?vars=${encodeURIComponent(JSON.stringify(vars))}`, release(job));
  }
  page.on('pageerror', (err) => pageErrors.push(err.message));
});

after(async () => {
  if (skip) return;
  await web?.stop();
});

test('a wrong password is refused clearly, and the password is shown nowhere', { skip }, async () => {
  await page.goto(`${node.url}/`);
  await page.getByLabel('username').fill(USER);
  await page.getByLabel('password').fill(WRONG);
  await page.getByRole('button', { name: 'log in' }).click();
  await page.getByRole('alert').filter({ hasText: 'invalid username or password' }).waitFor();
  assert.equal(await page.getByLabel('password').inputValue(), '', 'the password field is cleared');
  assert.ok(!(await page.content()).includes(WRONG));
  assert.equal(await page.evaluate(() => (globalThis as InPage).localStorage.length), 0, 'no session');
});

/** The graph's nodes as `<id>@<layer>`, in layer order then top to bottom. */
const graphNodes = () =>
  page.locator('svg[data-graph] g[data-node]').evaluateAll((els) =>
    els
      .map((e) => ({ id: e.getAttribute('data-node'), layer: Number(e.getAttribute('data-layer')), y: Number(/,([-\d.]+)\)/.exec(e.getAttribute('transform') ?? '')?.[1]) }))
      .sort((a, b) => a.layer - b.layer || a.y - b.y)
      .map((n) => `${n.id}@${n.layer}`),
  );
/** The graph's edges as `<source>-><target> trigger|no-trigger`, sorted. */
const graphEdges = () =>
  page.locator('svg[data-graph] path[data-edge]').evaluateAll((els) =>
    els.map((e) => `${e.getAttribute('data-edge')} ${e.getAttribute('data-trigger') === 'true' ? 'trigger' : 'no-trigger'}`).sort(),
  );

/** A pipeline's card on the dashboard, under its team's heading. */
const card = (team: string, pipeline: string) => page.locator(`section[data-team="${team}"] article[data-pipeline="${pipeline}"]`);

test('after logging in, the dashboard shows the pipeline with its jobs', { skip }, async () => {
  await page.getByLabel('password').fill(PASSWORD);
  await page.getByRole('button', { name: 'log in' }).click();
  const hello = card('main', 'hello');
  await hello.waitFor();
  await hello.locator('[data-job="unit"]').waitFor();
  await hello.locator('[data-job="ship"]').waitFor();
  const stored = await page.evaluate(() => JSON.stringify((globalThis as InPage).localStorage));
  assert.ok(stored.includes('token') && !stored.includes(PASSWORD), 'the token is kept, the password is not');
});

test("the pipeline page draws the pipeline's graph: its resources and jobs in layers, joined by how versions flow", { skip }, async () => {
  await card('main', 'hello').locator('header a').click();
  await page.locator('svg[data-graph] g[data-node="job:ship"]').waitFor();
  assert.match(page.url(), /#\/teams\/main\/pipelines\/hello$/);
  // ship's passed version of source-code comes through a box of source-code after unit, as Concourse draws it
  assert.deepEqual(await graphNodes(), ['input:source-code@0', 'job:unit@1', 'passed:unit:source-code@2', 'job:ship@3', 'output:release@4']);
  assert.deepEqual(await graphEdges(), [
    'input:source-code->job:unit trigger',
    'job:ship->output:release trigger',
    'job:unit->passed:unit:source-code trigger',
    'passed:unit:source-code->job:ship trigger',
  ]);
  await page.locator('[data-resource-row="source-code"]').waitFor();
  await page.getByRole('button', { name: 'pause pipeline' }).waitFor();
});

test("a job's page triggers a build; the build page follows its log until it succeeds", { skip }, async () => {
  await page.locator('g[data-job="unit"] a').click();
  // level 1: once the job has a build (its trigger may have run already), its log's heading names it too
  await page.getByRole('heading', { level: 1, name: /unit/ }).waitFor();
  await page.getByRole('button', { name: 'trigger build' }).click();
  await page.waitForURL(/#\/builds\/\d+$/);
  const task = page.locator('[data-step="task: test"]');
  await task.locator('pre.log', { hasText: 'hello from jetway -- tests passed' }).waitFor();
  await page.locator('[data-build-status="succeeded"]').waitFor();
  await page.locator('[data-step="task: test"][data-status="succeeded"]').waitFor();
  await page.locator('[data-step="get: source-code"][data-status="succeeded"]').waitFor();
  // a get's section starts closed and opens on a click
  const get = page.locator('[data-step="get: source-code"] button.step-header');
  assert.equal(await get.getAttribute('aria-expanded'), 'false');
  await get.click();
  assert.equal(await get.getAttribute('aria-expanded'), 'true');
});

test("a failed action's error stays shown while the page refreshes, until the next action", { skip }, async () => {
  const buildPage = page.url(); // the next test starts from it
  await page.goto(`${node.url}/#/teams/main/pipelines/hello/jobs/unit`);
  await page.getByRole('button', { name: 'trigger build' }).waitFor();
  // the server refuses this one trigger
  await page.route('**/api/v1/teams/main/pipelines/hello/jobs/unit/builds', (route) =>
    route.request().method() === 'POST'
      ? route.fulfill({ status: 500, contentType: 'application/json', body: JSON.stringify({ errors: ['the scheduler is on a break'] }) })
      : route.continue(),
  );
  await page.getByRole('button', { name: 'trigger build' }).click();
  const banner = page.getByRole('alert');
  await banner.filter({ hasText: 'the scheduler is on a break' }).waitFor();
  // two successful refreshes of the job later, it is still there
  for (let i = 0; i < 2; i++) await page.waitForResponse((r) => r.url().endsWith('/api/v1/teams/main/pipelines/hello/jobs/unit') && r.ok());
  assert.match((await banner.textContent()) ?? '', /the scheduler is on a break/);
  await page.unroute('**/api/v1/teams/main/pipelines/hello/jobs/unit/builds');
  // the next action that works clears it
  await page.getByRole('button', { name: /pause/ }).click();
  await banner.waitFor({ state: 'hidden' });
  await page.getByRole('button', { name: /unpause/ }).click();
  await page.getByRole('button', { name: /^pause/ }).waitFor();
  await page.goto(buildPage);
  await page.locator('[data-build-status="succeeded"]').waitFor();
});

test('a token that no longer works sends the user to the login page, saying why', { skip }, async () => {
  await page.evaluate(() => {
    const { localStorage } = globalThis as InPage;
    const session = JSON.parse(localStorage.getItem('jetway.session') ?? '{}') as { token?: string };
    session.token = 'revoked';
    localStorage.setItem('jetway.session', JSON.stringify(session));
  });
  await page.reload();
  await page.getByRole('status').filter({ hasText: 'session is no longer valid' }).waitFor();
  assert.match(page.url(), /#\/login$/);
  // logging in again returns to the page the user was on
  await page.getByLabel('username').fill(USER);
  await page.getByLabel('password').fill(PASSWORD);
  await page.getByRole('button', { name: 'log in' }).click();
  await page.waitForURL(/#\/builds\/\d+$/);
  await page.locator('[data-build-status="succeeded"]').waitFor();
  assert.deepEqual(pageErrors, [], 'no uncaught errors in the page');
});

// ---------------------------------------------------------------- a resource's pin and versions

interface ResourceJson {
  pinned_version?: Record<string, string>;
  pinned_in_config?: boolean;
  pin_comment?: string;
}
interface VersionJson {
  id: number;
  version: Record<string, string>;
  enabled: boolean;
}

const getJson = async <T>(path: string): Promise<T> => (await (await api('GET', path)).json()) as T;
/** A check of source-code from a version: the mock type finds exactly that version. */
const checkFrom = (version: string) => api('POST', `${RESOURCE}/check`, JSON.stringify({ from: { version } }), { 'content-type': 'application/json' });
/** Sets the pipeline's config again (an update names the config version it replaces). */
const setPipeline = async (config: string): Promise<void> => {
  const current = await api('GET', '/teams/main/pipelines/hello/config');
  const version = current.headers.get('x-concourse-config-version') ?? '';
  await api('PUT', '/teams/main/pipelines/hello/config', config, { 'x-concourse-config-version': version });
};
const versionOf = async (version: string): Promise<VersionJson> => {
  const found = (await getJson<VersionJson[]>(`${RESOURCE}/versions`)).find((v) => v.version.version === version);
  assert.ok(found, `version ${version} is listed by the API`);
  return found;
};
/** The row of a version on the resource page. */
const row = (version: string) => page.locator('.version-list li', { has: page.locator('code', { hasText: new RegExp(`^version: ${version}$`) }) });
const pinBanner = () => page.getByRole('region', { name: 'pinned version' });

test("a resource's page lists the versions its checks found, newest first, each with pin and disable", { skip }, async () => {
  await page.goto(`${node.url}/#/teams/main/pipelines/hello`);
  await page.locator('g[data-node="input:source-code"] a').click();
  await page.getByRole('heading', { name: /source-code/ }).waitFor();
  await row('v1').waitFor();
  await checkFrom('v2');
  await row('v2').waitFor();
  await checkFrom('v3');
  await row('v3').waitFor();
  assert.deepEqual(await page.locator('.version-list li code').allTextContents(), ['version: v3', 'version: v2', 'version: v1']);
  for (const v of ['v1', 'v2', 'v3']) {
    assert.equal(await row(v).getAttribute('data-state'), 'enabled');
    assert.deepEqual(await row(v).getByRole('button').allTextContents(), ['pin', 'disable']);
  }
  assert.equal(await pinBanner().count(), 0, 'no pin banner: the resource is not pinned');
});

test('pinning a version from its row shows the pin banner and highlights the row', { skip }, async () => {
  await row('v2').getByRole('button', { name: 'pin version: v2' }).click();
  await pinBanner().locator('code', { hasText: 'version: v2' }).waitFor();
  await row('v2').and(page.locator('[data-state="pinned"]')).waitFor();
  assert.match((await row('v2').getAttribute('class')) ?? '', /\bpinned\b/);
  assert.equal(await row('v2').getByRole('button', { name: /^pin/ }).count(), 0, 'the pinned version has no pin button');
  assert.equal(await row('v2').getByText('pinned', { exact: true }).count(), 1, 'the row says it is pinned, in words');
  assert.equal(await row('v3').getByRole('button', { name: 'pin version: v3' }).count(), 1, 'another version can be pinned instead');
  assert.ok(!(await pinBanner().textContent())?.includes('pipeline config'), 'a pin made here is not a config pin');
  await pinBanner().getByRole('button', { name: 'unpin' }).waitFor();
  const resource = await getJson<ResourceJson>(RESOURCE);
  assert.deepEqual(resource.pinned_version, { version: 'v2' });
  assert.equal(resource.pinned_in_config, undefined);
});

test('the pin comment is added and edited in the banner', { skip }, async () => {
  const first = 'v3 breaks the integration tests';
  await pinBanner().getByRole('button', { name: 'add comment' }).click();
  await page.getByLabel('pin comment').fill(first);
  await pinBanner().getByRole('button', { name: 'save comment' }).click();
  await pinBanner().locator('.pin-comment-text', { hasText: first }).waitFor();
  assert.equal((await getJson<ResourceJson>(RESOURCE)).pin_comment, first);

  const second = 'v3 breaks the integration tests (issue 42)';
  await pinBanner().getByRole('button', { name: 'edit comment' }).click();
  assert.equal(await page.getByLabel('pin comment').inputValue(), first, 'the form starts from the saved comment');
  await page.getByLabel('pin comment').fill(second);
  await page.getByLabel('pin comment').press('Enter');
  await pinBanner().locator('.pin-comment-text', { hasText: second }).waitFor();
  assert.equal((await getJson<ResourceJson>(RESOURCE)).pin_comment, second);
  assert.equal(await page.getByLabel('pin comment').count(), 0, 'the form closes once saved');
});

test('unpinning from the banner removes the pin', { skip }, async () => {
  await pinBanner().getByRole('button', { name: 'unpin' }).click();
  await row('v2').getByRole('button', { name: 'pin version: v2' }).waitFor();
  await pinBanner().waitFor({ state: 'hidden' });
  assert.equal(await row('v2').getAttribute('data-state'), 'enabled');
  const resource = await getJson<ResourceJson>(RESOURCE);
  assert.equal(resource.pinned_version, undefined);
  assert.equal(resource.pin_comment, undefined);
});

test('a disabled version is marked disabled, in words and struck through, and is enabled again', { skip }, async () => {
  await row('v1').getByRole('button', { name: 'disable version: v1' }).click();
  await row('v1').and(page.locator('[data-state="disabled"]')).waitFor();
  assert.equal(await row('v1').getByText('disabled', { exact: true }).count(), 1, 'the row says it is disabled, in words');
  const decoration = await row('v1')
    .locator('code')
    .evaluate((el) => (globalThis as InPage).getComputedStyle(el).textDecorationLine);
  assert.equal(decoration, 'line-through');
  assert.deepEqual(await row('v1').getByRole('button').allTextContents(), ['pin', 'enable']);
  assert.equal((await versionOf('v1')).enabled, false);
  assert.equal((await versionOf('v2')).enabled, true, 'only that version is disabled');

  await row('v1').getByRole('button', { name: 'enable version: v1' }).click();
  await row('v1').and(page.locator('[data-state="enabled"]')).waitFor();
  assert.equal(await row('v1').getByText('disabled', { exact: true }).count(), 0);
  assert.equal((await versionOf('v1')).enabled, true);
});

test("pinning a resource the config pins is refused (409), and the page says so and shows the config's pin", { skip }, async () => {
  const pinned = parse(HELLO) as { resources: Record<string, unknown>[] };
  pinned.resources[0]!.version = { version: 'v1' };
  // hold the page's reads of the resource while the config changes behind its back: it still
  // offers the pin buttons, as a page open in another tab would
  let release!: () => void;
  const gate = new Promise<void>((resolve) => (release = resolve));
  let heldOne!: () => void;
  const held = new Promise<void>((resolve) => (heldOne = resolve));
  const reads = (url: URL) => url.pathname.startsWith(`/api/v1${RESOURCE}`);
  await page.route(reads, async (route) => {
    if (route.request().method() === 'GET') {
      heldOne();
      await gate;
    }
    await route.continue();
  });
  try {
    await held; // the page's next refresh waits: what it shows is what it read before
    await setPipeline(stringify(pinned));
    await row('v3').getByRole('button', { name: 'pin version: v3' }).click();
    const alert = page.getByRole('alert').filter({ hasText: 'Could not pin version: v3' });
    await alert.waitFor();
    const text = (await alert.textContent()) ?? '';
    assert.match(text, /pinned in the pipeline config/);
    assert.match(text, /HTTP 409/);
  } finally {
    release();
    await page.unrouteAll({ behavior: 'wait' }); // after the held reads went on (else the browser lets them go too)
  }
  // the page reads the resource again: the config's pin, which cannot be removed here
  await pinBanner().filter({ hasText: 'in the pipeline config' }).locator('code', { hasText: 'version: v1' }).waitFor();
  await row('v1').and(page.locator('[data-state="pinned"]')).waitFor();
  assert.equal(await pinBanner().getByRole('button').count(), 0, 'neither unpin nor comment on a config pin');
  assert.equal(await page.locator('.version-list').getByRole('button', { name: /^pin/ }).count(), 0, 'no version can be pinned');
  assert.ok(await page.getByRole('alert').filter({ hasText: 'HTTP 409' }).isVisible(), 'the refusal stays on the page');
  const resource = await getJson<ResourceJson>(RESOURCE);
  assert.deepEqual(resource.pinned_version, { version: 'v1' });
  assert.equal(resource.pinned_in_config, true);

  // the config without the pin: the banner goes, the pin buttons come back
  await setPipeline(HELLO);
  await pinBanner().waitFor({ state: 'hidden' });
  await row('v3').getByRole('button', { name: 'pin version: v3' }).waitFor();
  assert.equal((await getJson<ResourceJson>(RESOURCE)).pinned_version, undefined);
  // the refusal stays until it is dismissed
  const refusal = page.getByRole('alert').filter({ hasText: 'HTTP 409' });
  await refusal.getByRole('button', { name: 'dismiss' }).click();
  await refusal.waitFor({ state: 'hidden' });
  assert.deepEqual(pageErrors, [], 'no uncaught errors in the page');
});

// ---------------------------------------------------------------- the graph, checks, versions, builds

const GRAPH_PAGE = '/#/teams/main/pipelines/graph';
/** The graph's layers: node ids per layer, sorted (their order is the layout's, tested in test/ui/graph-layout.test.ts). */
const graphLayers = async (): Promise<string[][]> => {
  const layers: string[][] = [];
  for (const n of await graphNodes()) {
    const [id, layer] = n.split('@') as [string, string];
    (layers[Number(layer)] ??= []).push(id);
  }
  return layers.map((l) => l.sort());
};
/** The API's JSON, as the admin. */
const jobJson = (pipeline: string, job: string) => getJson<{ finished_build?: { id: number; name: string; status: string } }>(`/teams/main/pipelines/${pipeline}/jobs/${job}`);
async function finishedBuild(pipeline: string, job: string): Promise<{ id: number; name: string; status: string }> {
  for (let i = 0; i < 300; i++) {
    const b = (await jobJson(pipeline, job)).finished_build;
    if (b) return b;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`${pipeline}/${job} has no finished build after a minute`);
}

/**
 * The job's first build, once finished, must have succeeded: when it did not, the failure says
 * how it ended and what its events said (its log, its errors), not only that a page waited.
 */
async function succeededBuild(pipeline: string, job: string): Promise<void> {
  const b = await finishedBuild(pipeline, job);
  if (b.status === 'succeeded') return;
  const events = (await buildEvents(web.db, b.id)).map((e) => `${e.event.event} ${JSON.stringify(e.event.data)}`);
  assert.fail(`${pipeline}/${job} #${b.name} ended ${b.status}; its events:\n${events.join('\n').slice(0, 4000)}`);
}

test('the graph of a fixture pipeline: resources and jobs in their layers, trigger edges solid and others dashed, jobs coloured by their builds, a failing check marked', { skip }, async () => {
  await succeededBuild('graph', 'unit');
  await finishedBuild('graph', 'lint');
  await page.goto(`${node.url}${GRAPH_PAGE}`);
  await page.locator('g[data-job="lint"][data-status="failed"]').waitFor();
  await page.locator('g[data-job="unit"][data-status="succeeded"]').waitFor();
  await page.locator('g[data-resource="broken-feed"][data-check="failing"]').waitFor({ timeout: 60_000 });
  assert.deepEqual(await graphLayers(), [
    ['input:source-code', 'job:matrix'],
    ['job:lint', 'job:unit'],
    ['input:docs-src', 'input:nightly', 'passed:lint:source-code', 'passed:unit:source-code'],
    ['job:docs', 'job:integration'],
    ['input:broken-feed', 'passed:integration:source-code'],
    ['job:ship'],
    ['output:release'],
  ]);
  assert.deepEqual(await graphEdges(), [
    'input:broken-feed->job:ship no-trigger',
    'input:docs-src->job:docs trigger',
    'input:nightly->job:integration no-trigger',
    'input:source-code->job:lint trigger',
    'input:source-code->job:unit trigger',
    'job:integration->passed:integration:source-code trigger',
    'job:lint->passed:lint:source-code trigger',
    'job:ship->output:release trigger',
    'job:unit->passed:unit:source-code trigger',
    'passed:integration:source-code->job:ship trigger',
    'passed:lint:source-code->job:integration trigger',
    'passed:unit:source-code->job:docs no-trigger',
    'passed:unit:source-code->job:integration trigger',
  ]);
  // dashed is drawn dashed
  const dash = await page.locator('path[data-edge="input:nightly->job:integration"]').evaluate((el) => (globalThis as InPage).getComputedStyle(el).strokeDasharray);
  assert.notEqual(dash, 'none');
  assert.equal(await page.locator('path[data-edge="passed:unit:source-code->job:integration"]').evaluate((el) => (globalThis as InPage).getComputedStyle(el).strokeDasharray), 'none');
  assert.equal(await page.title(), 'graph - main - Jetway');
});

test('the graph marks a pinned resource, and a job with a build on its way pulses until the build ends', { skip }, async () => {
  const versions = await getJson<{ id: number }[]>('/teams/main/pipelines/graph/resources/nightly/versions');
  assert.ok(versions[0], 'nightly has a version to pin');
  assert.equal((await api('PUT', `/teams/main/pipelines/graph/resources/nightly/versions/${versions[0].id}/pin`)).status, 200);
  // ship waits for broken-feed, whose check fails: its build stays pending, as a waiting one does
  const build = (await (await api('POST', '/teams/main/pipelines/graph/jobs/ship/builds')).json()) as { id: number };
  try {
    await page.locator('g[data-resource="nightly"][data-pinned="true"] .pin-mark').waitFor({ timeout: 30_000 });
    assert.match((await page.locator('g[data-resource="nightly"] a').getAttribute('aria-label')) ?? '', /pinned/);
    const ship = page.locator('g[data-job="ship"][data-running="true"]');
    await ship.waitFor({ timeout: 30_000 });
    assert.match((await ship.locator('a').getAttribute('aria-label')) ?? '', /, running$/);
    assert.notEqual(await ship.evaluate((el) => (globalThis as InPage).getComputedStyle(el.querySelector('rect')!).animationName), 'none', 'a running job is animated');
    assert.equal(await page.locator('g[data-job="unit"][data-running="true"]').count(), 0, 'a job with no build on its way is still');
  } finally {
    await api('PUT', `/builds/${build.id}/abort`);
    await api('PUT', '/teams/main/pipelines/graph/resources/nightly/unpin');
  }
  await page.locator('g[data-job="ship"]:not([data-running])').waitFor({ timeout: 30_000 });
  await page.locator('g[data-resource="nightly"]:not([data-pinned])').waitFor({ timeout: 30_000 });
});

test('group tabs filter the graph and are kept in the address; the graph zooms; a click on a job opens it', { skip }, async () => {
  await page.locator('nav[aria-label="groups"] a[data-group="build"]').click();
  await page.waitForURL((url) => url.hash === '#/teams/main/pipelines/graph?group=build');
  await page.locator('g[data-job="integration"]').waitFor();
  assert.deepEqual(await graphLayers(), [['input:source-code', 'job:matrix'], ['job:lint', 'job:unit'], ['input:nightly', 'passed:lint:source-code', 'passed:unit:source-code'], ['job:integration']]);
  // the address alone shows the group (a reload, a shared link)
  await page.reload();
  await page.locator('g[data-job="integration"]').waitFor();
  assert.equal(await page.locator('g[data-job="ship"]').count(), 0);
  assert.equal(await page.locator('a[data-group="build"]').getAttribute('aria-current'), 'true');
  await page.locator('a[data-group=""]').click();
  await page.locator('g[data-job="ship"]').waitFor();

  const zoom = async () => Number(await page.locator('svg[data-graph]').getAttribute('data-zoom'));
  const before = await zoom();
  await page.getByRole('button', { name: 'zoom in' }).click();
  assert.ok((await zoom()) > before, 'zoomed in');
  await page.keyboard.press('-');
  await page.keyboard.press('-');
  assert.ok((await zoom()) < before, 'zoomed out with the keyboard');
  await page.getByRole('button', { name: 'fit the graph' }).click();
  assert.equal(await zoom(), before);

  await page.locator('g[data-job="unit"] a').click();
  await page.waitForURL(/#\/teams\/main\/pipelines\/graph\/jobs\/unit$/);
});

test("the job page shows its latest build's log, with tabs for the earlier builds and each line's time on demand", { skip }, async () => {
  const shown = page.locator('[data-job-build]');
  await shown.locator('[data-build-status="succeeded"]').waitFor();
  await shown.locator('pre.log', { hasText: 'tests passed' }).waitFor();
  await api('POST', '/teams/main/pipelines/graph/jobs/unit/builds');
  // the new build becomes the one shown, and the first gets a tab
  await shown.locator('h2', { hasText: 'unit #2' }).waitFor({ timeout: 60_000 });
  await shown.locator('[data-build-tab="1"]').click();
  await shown.locator('h2', { hasText: 'unit #1' }).waitFor();
  assert.equal(await shown.locator('[data-build-tab="1"]').getAttribute('aria-current'), 'page');
  assert.match(page.url(), /\/jobs\/unit$/, 'the tab switched the build in place');

  const task = shown.locator('[data-step="task: test"]');
  const times = task.locator('pre.log-times');
  assert.equal(await times.isVisible(), false, 'no times until asked');
  await shown.getByRole('button', { name: 'timestamps' }).click();
  await times.waitFor();
  const lines = ((await times.textContent()) ?? '').split('\n');
  const logLines = ((await task.locator('pre.log').textContent()) ?? '').replace(/\n$/, '').split('\n');
  assert.equal(lines.length, logLines.length, 'a time per line of the log');
  for (const l of lines) assert.match(l, /^\d\d:\d\d:\d\d$/);
  await page.keyboard.press('t');
  await times.waitFor({ state: 'hidden' });
});

test("a failing check's error and when it ran are on the resource's page, and the dashboard marks the pipeline", { skip }, async () => {
  await page.goto(`${node.url}/#/teams/main/pipelines/graph/resources/broken-feed`);
  const error = page.locator('[data-check-error]');
  await error.first().waitFor();
  assert.match((await error.allTextContents()).join('\n'), /feed_version/);
  await page.locator('.last-check', { hasText: 'check failing' }).locator('time').waitFor();
  await page.goto(`${node.url}/#/`);
  await card('main', 'graph').locator('[data-failing-checks="1"]').waitFor();
  assert.equal(await card('main', 'hello').locator('[data-failing-checks]').count(), 0);
});

test('the dashboard searches by name, team and status, and has a compact view', { skip }, async () => {
  const search = page.getByLabel('search pipelines');
  await search.fill('gra');
  await card('main', 'hello').waitFor({ state: 'detached' });
  await card('main', 'graph').waitFor();
  await search.fill('status:failed');
  await card('main', 'graph').waitFor();
  assert.equal(await card('main', 'hello').count(), 0);
  await search.fill('team:ops');
  await card('ops', 'hello').waitFor();
  assert.equal(await page.locator('section[data-team="main"]').count(), 0);
  await search.press('Escape');
  await card('main', 'hello').waitFor();
  await page.getByRole('button', { name: 'compact view' }).click();
  await page.locator('section[data-team="main"] a.tile[data-pipeline="graph"][data-status="failed"]').waitFor();
  await page.getByRole('button', { name: 'compact view' }).click();
  await card('main', 'graph').waitFor();
});

test("a version's builds: those it went into and those it came out of", { skip }, async () => {
  await page.goto(`${node.url}/#/teams/main/pipelines/graph/resources/source-code`);
  const v1 = page.locator('.version-list li', { has: page.locator('code', { hasText: /^version: v1$/ }) });
  await v1.locator('summary', { hasText: 'builds' }).click();
  const inputs = v1.locator('[data-builds="input-to"]');
  await inputs.locator('li').first().waitFor();
  const into = await inputs.locator('li a').allTextContents();
  for (const b of ['unit #1', 'unit #2', 'lint #1']) assert.ok(into.includes(b), `${b} in ${into.join(', ')}`);
  assert.equal(await v1.locator('[data-builds="output-of"] li').count(), 0, 'a check found it, no build put it');
  // hello's release: put by ship
  await finishedBuild('hello', 'ship');
  await page.goto(`${node.url}/#/teams/main/pipelines/hello/resources/release`);
  const shipped = page.locator('.version-list li').first();
  await shipped.locator('summary', { hasText: 'builds' }).click();
  await shipped.locator('[data-builds="output-of"] li a', { hasText: 'ship #1' }).waitFor();
});

test("a version's metadata is what the get that fetched it reported (the check reports none), in the API and on the resource page", { skip }, async () => {
  await finishedBuild('graph', 'unit');
  const want = [{ name: 'commit', value: '5f3c9e1' }, { name: 'author', value: 'dev' }];
  // the get saves it before its build goes on; wait for it a while rather than race the build
  let metadata: { name: string; value: string }[] | undefined;
  for (let i = 0; i < 300 && !metadata?.length; i++) {
    const versions = await getJson<(VersionJson & { metadata?: { name: string; value: string }[] })[]>('/teams/main/pipelines/graph/resources/source-code/versions');
    metadata = versions.find((v) => v.version.version === 'v1')?.metadata;
    if (!metadata?.length) await new Promise((r) => setTimeout(r, 200));
  }
  assert.deepEqual(metadata, want);
  await page.goto(`${node.url}/#/teams/main/pipelines/graph/resources/source-code`);
  const v1 = page.locator('.version-list li', { has: page.locator('code', { hasText: /^version: v1$/ }) });
  await v1.locator('dl.metadata-list').waitFor();
  assert.deepEqual(await v1.locator('dl.metadata-list dt').allTextContents(), ['commit', 'author']);
  assert.deepEqual(await v1.locator('dl.metadata-list dd').allTextContents(), ['5f3c9e1', 'dev']);
  // docs-src's get reports no metadata: nothing is shown, nothing invented
  await page.goto(`${node.url}/#/teams/main/pipelines/graph/resources/docs-src`);
  await page.locator('.version-list li').first().waitFor();
  assert.equal(await page.locator('.version-list dl.metadata-list').count(), 0);
});

test("a build's across steps are labelled with each combination's values", { skip }, async () => {
  const build = (await (await api('POST', '/teams/main/pipelines/graph/jobs/matrix/builds')).json()) as { id: number };
  await page.goto(`${node.url}/#/builds/${build.id}`);
  await page.locator('[data-build-status="succeeded"]').waitFor({ timeout: 60_000 });
  assert.deepEqual(await page.locator('[data-step="task: build"] .step-label').allTextContents(), ['across 1/2: os=linux:', 'across 2/2: os=darwin:']);
  await page.locator('[data-step="task: build"] pre.log', { hasText: 'building for darwin' }).waitFor();
});

test('a page that does not exist says so; ? lists the keyboard shortcuts and d goes to the dashboard', { skip }, async () => {
  await page.goto(`${node.url}/#/no/such/page`);
  await page.getByRole('heading', { name: '404: page not found' }).waitFor();
  assert.equal(await page.title(), 'not found - Jetway');
  await page.keyboard.press('?');
  const help = page.getByRole('dialog', { name: 'keyboard shortcuts' });
  await help.waitFor();
  assert.ok((await help.textContent())?.includes('zoom in, zoom out, fit the graph'));
  await page.keyboard.press('Escape');
  await help.waitFor({ state: 'hidden' });
  await page.keyboard.press('d');
  await page.waitForURL((url) => url.hash === '#/');
  assert.deepEqual(pageErrors, [], 'no uncaught errors in the page');
});

// ---------------------------------------------------------------- teams and instanced pipelines

/** Records the page's API requests under /teams/ until stop(). */
function recordRequests(): { urls: URL[]; stop(): void } {
  const urls: URL[] = [];
  const onRequest = (r: Request): void => {
    const url = new URL(r.url());
    if (url.pathname.startsWith('/api/v1/teams/')) urls.push(url);
  };
  page.on('request', onRequest);
  return { urls, stop: () => void page.off('request', onRequest) };
}
const crumbs = () => page.getByRole('navigation', { name: 'breadcrumb' });
const teamHeadings = () => page.locator('section[data-team] > h2').allTextContents();
const sessionToken = () =>
  page.evaluate(() => (JSON.parse((globalThis as InPage).localStorage.getItem('jetway.session') ?? '{}') as { token?: string }).token);
const userStatus = async (bearer: string | undefined): Promise<number> =>
  (await fetch(`${node.url}/api/v1/user`, { headers: { authorization: `Bearer ${bearer ?? ''}` } })).status;

test("the dashboard shows every team's pipelines under the team's heading; a second team's pipeline opens in its team", { skip }, async () => {
  // every pipeline's jobs and resources in one request each, as Concourse's dashboard asks them
  const asked: string[] = [];
  const onRequest = (r: Request): void => {
    const { pathname } = new URL(r.url());
    if (pathname.startsWith('/api/v1/')) asked.push(pathname);
  };
  page.on('request', onRequest);
  await page.goto(`${node.url}/#/`);
  await card('ops', 'hello').locator('[data-job="deploy"]').waitFor();
  await card('main', 'hello').locator('[data-job="unit"]').waitFor();
  page.off('request', onRequest);
  assert.ok(asked.includes('/api/v1/jobs') && asked.includes('/api/v1/resources'), asked.join(' '));
  assert.deepEqual(
    asked.filter((a) => a.startsWith('/api/v1/teams/')),
    [],
    'no request per pipeline',
  );
  // a heading per team, in the API's order, over the team's own pipelines
  assert.deepEqual(await teamHeadings(), ['main', 'ops']);
  const ops = page.getByRole('region', { name: 'ops' });
  assert.equal(await ops.getByRole('article').count(), 1, 'ops has one pipeline');
  assert.equal(await card('ops', 'hello').locator('[data-job]').count(), 1, "ops's hello has its own job, not main's");

  await card('ops', 'hello').locator('header a').click();
  await page.waitForURL(/#\/teams\/ops\/pipelines\/hello$/);
  await page.locator('g[data-job="deploy"]').waitFor();
  await page.locator('g[data-resource="artifact"]').waitFor();
  assert.equal(await page.locator('[data-job="unit"]').count(), 0, "main's hello is not shown");
  assert.equal(await crumbs().textContent(), '/ops/hello');
  const requests = recordRequests();
  try {
    await page.locator('g[data-job="deploy"] a').click();
    await page.waitForURL(/#\/teams\/ops\/pipelines\/hello\/jobs\/deploy$/);
    await page.getByText('No builds yet.').waitFor();
    await page.getByRole('link', { name: 'artifact' }).click();
    await page.waitForURL(/#\/teams\/ops\/pipelines\/hello\/resources\/artifact$/);
    await page.locator('h1', { hasText: 'mock' }).waitFor();
  } finally {
    requests.stop();
  }
  assert.ok(requests.urls.length >= 4, 'the job and the resource were read');
  for (const u of requests.urls) assert.match(u.pathname, /^\/api\/v1\/teams\/ops\/pipelines\/hello\//);
});

test('a team without pipelines is listed on the dashboard, saying it has none yet', { skip }, async () => {
  assert.equal((await api('PUT', '/teams/qa', JSON.stringify({ auth: { owner: { users: [`local:${USER}`] } } }), { 'content-type': 'application/json' })).status < 300, true);
  try {
    await page.goto(`${node.url}/#/`);
    await page.locator('p[data-empty-team="qa"]').waitFor();
    assert.deepEqual(await teamHeadings(), ['main', 'ops', 'qa']);
    assert.equal(await page.getByRole('region', { name: 'qa' }).locator('p.empty').textContent(), 'No pipelines in this team yet.');
    assert.equal(await page.getByRole('region', { name: 'qa' }).getByRole('article').count(), 0);
  } finally {
    await api('DELETE', '/teams/qa');
  }
});

test("an instanced pipeline's card opens that instance: its jobs, its vars in the title, in its links and in every request", { skip }, async () => {
  const jobA = '#/teams/main/pipelines/release/jobs/build-a?vars={%22branch%22:%22feature/a%20b%22}';
  await page.goto(`${node.url}/#/`);
  const release = page.locator('section[data-team="main"] article[data-pipeline="release"]');
  const a = release.filter({ hasText: 'branch: feature/a b' });
  await a.locator('[data-job="build-a"]').waitFor();
  await release.filter({ hasText: 'branch: b' }).locator('[data-job="build-b"]').waitFor();
  assert.equal(await a.locator('[data-job="build-b"]').count(), 0);
  assert.equal(await a.locator('[data-job="build-a"]').getAttribute('href'), jobA);

  const requests = recordRequests();
  try {
    await a.locator('header a').click();
    // the address is the one the UI printed: the browser escaped nothing more
    await page.waitForURL((url) => url.hash === RELEASE_A);
    await page.locator('g[data-job="build-a"]').waitFor();
    assert.equal(await page.locator('[data-job="build-b"]').count(), 0, "the other instance's job is not shown");
    await page.locator('h1 [data-instance-vars]', { hasText: 'branch: feature/a b' }).waitFor();
    assert.equal(await crumbs().textContent(), '/main/release branch: feature/a b');
    assert.equal(await page.title(), 'release (branch: feature/a b) - main - Jetway');
    assert.equal(
      await page.locator('g[data-resource="src"] a').getAttribute('href'),
      '#/teams/main/pipelines/release/resources/src?vars={%22branch%22:%22feature/a%20b%22}',
    );

    // the job's page, and a build of it: both lead back to the instance
    await page.locator('g[data-job="build-a"] a').click();
    await page.waitForURL((url) => url.hash === jobA);
    await page.getByText('No builds yet.').waitFor();
    await page.getByRole('button', { name: 'trigger build' }).click();
    await page.waitForURL(/#\/builds\/\d+$/);
    const back = crumbs().getByRole('link', { name: /release/ });
    await back.waitFor();
    assert.equal(await back.getAttribute('href'), RELEASE_A);
    assert.equal(await crumbs().getByRole('link', { name: 'build-a' }).getAttribute('href'), jobA);
    await back.click();
    await page.waitForURL((url) => url.hash === RELEASE_A);
    await page.locator('g[data-resource="src"] a').click();
    await page.locator('h1', { hasText: 'mock' }).waitFor();
  } finally {
    requests.stop();
  }
  const ofRelease = requests.urls.filter((u) => u.pathname.startsWith('/api/v1/teams/main/pipelines/release'));
  assert.equal(ofRelease.length, requests.urls.length, 'no request for another pipeline');
  for (const u of ofRelease) assert.deepEqual(JSON.parse(u.searchParams.get('vars') ?? 'null'), INSTANCE_A, u.href);
  const asked = (path: string, limit?: string) =>
    ofRelease.some((u) => u.pathname === `/api/v1/teams/main/pipelines/release${path}` && u.searchParams.get('limit') === (limit ?? null));
  for (const path of ['', '/jobs', '/resources', '/jobs/build-a', '/resources/src']) assert.ok(asked(path), path);
  assert.ok(asked('/jobs/build-a/builds', '50'), 'the builds, paged, with the vars');
  assert.ok(asked('/resources/src/versions', '100'), 'the versions, paged, with the vars');
  assert.deepEqual(pageErrors, [], 'no uncaught errors in the page');
});

test("an old, team-less link opens the pipeline in the user's first team, at its new address", { skip }, async () => {
  await page.goto(`${node.url}/#/pipelines/hello/jobs/unit`);
  await page.waitForURL(/#\/teams\/main\/pipelines\/hello\/jobs\/unit$/);
  await page.locator('[data-build]').first().waitFor(); // main's unit has builds; ops's hello has no unit
  assert.equal(await crumbs().getByRole('link', { name: 'hello' }).getAttribute('href'), '#/teams/main/pipelines/hello');
});

test('logging out revokes the token', { skip }, async () => {
  const old = await sessionToken();
  assert.equal(await userStatus(old), 200);
  const revoked = page.waitForResponse((r) => r.url().endsWith('/api/v1/token') && r.request().method() === 'DELETE');
  await page.getByRole('button', { name: 'log out' }).click();
  await page.getByRole('status').filter({ hasText: 'You have logged out.' }).waitFor();
  assert.equal((await revoked).status(), 204);
  assert.equal(await sessionToken(), undefined);
  assert.equal(await userStatus(old), 401, 'a copy of the token no longer works');
});

test("a user of one team sees its pipelines only, old links go to that team, another team's page says the user is not in it", { skip }, async () => {
  await page.getByLabel('username').fill(VIEWER);
  await page.getByLabel('password').fill(VIEWER_PASSWORD);
  await page.getByRole('button', { name: 'log in' }).click();
  await card('ops', 'hello').locator('[data-job="deploy"]').waitFor();
  assert.deepEqual(await teamHeadings(), ['ops']);
  await page.goto(`${node.url}/#/pipelines/hello`);
  await page.waitForURL(/#\/teams\/ops\/pipelines\/hello$/);
  await page.locator('[data-job="deploy"]').waitFor();

  await page.goto(`${node.url}/#/teams/main/pipelines/hello`);
  await page.getByRole('alert').filter({ hasText: `user ${VIEWER} is not a member of team main (HTTP 403)` }).waitFor();
  assert.match(page.url(), /#\/teams\/main\/pipelines\/hello$/, 'the user stays at the address asked for');
  assert.equal(await page.locator('[data-job]').count(), 0);
});

test('logging out when the token cannot be revoked still logs out here', { skip }, async () => {
  const old = await sessionToken();
  await page.route('**/api/v1/token', (route) => (route.request().method() === 'DELETE' ? route.abort() : route.continue()));
  try {
    const tried = page.waitForRequest((r) => r.url().endsWith('/api/v1/token') && r.method() === 'DELETE');
    await page.getByRole('button', { name: 'log out' }).click();
    await tried;
    await page.getByRole('status').filter({ hasText: 'You have logged out.' }).waitFor();
    assert.match(page.url(), /#\/login$/);
    assert.equal(await sessionToken(), undefined, 'the session is gone from the browser');
  } finally {
    await page.unrouteAll({ behavior: 'wait' });
  }
  assert.equal(await userStatus(old), 200, 'the revocation never reached the server');
  assert.deepEqual(pageErrors, [], 'no uncaught errors in the page');
});

// ---------------------------------------------------------------- a public pipeline, logged out

test('logged out, an exposed pipeline is on the dashboard with its graph, its public job shows its log, a private job asks for a login', { skip }, async () => {
  await api('PUT', '/teams/main/pipelines/graph/expose');
  const visitor = await browser.newContext();
  const errors: string[] = [];
  try {
    const p = await visitor.newPage();
    p.setDefaultTimeout(20_000);
    p.on('pageerror', (err) => errors.push(err.message));
    await p.goto(`${node.url}/#/`);
    await p.locator('article[data-pipeline="graph"]').waitFor();
    assert.equal(await p.locator('article[data-pipeline="hello"]').count(), 0, 'a pipeline that is not public is not shown');
    await p.getByRole('link', { name: 'log in' }).waitFor();
    await p.locator('article[data-pipeline="graph"] header a').click();
    await p.locator('g[data-job="unit"][data-status="succeeded"]').waitFor();
    // 11 boxes and the 3 a passed version goes through (unit's, lint's and integration's source-code)
    assert.equal(await p.locator('svg[data-graph] g[data-node]').count(), 14);
    assert.equal(await p.getByRole('button', { name: /pause pipeline/ }).count(), 0, 'nothing to change logged out');
    // unit is public: its builds' logs
    await p.locator('g[data-job="unit"] a').click();
    await p.locator('[data-job-build] pre.log', { hasText: 'tests passed' }).first().waitFor();
    assert.equal(await p.getByRole('button', { name: 'trigger build' }).count(), 0);
    // lint is not: its build's log needs a login, and the login page says so
    const lint = await finishedBuild('graph', 'lint');
    await p.goto(`${node.url}/#/builds/${lint.id}`);
    await p.getByRole('status').filter({ hasText: 'Log in to see this page' }).waitFor();
    assert.match(p.url(), /#\/login$/);
  } finally {
    await visitor.close();
    await api('PUT', '/teams/main/pipelines/graph/hide');
  }
  assert.deepEqual(errors, [], 'no uncaught errors in the page');
});
