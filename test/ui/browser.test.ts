// The web UI in a real browser (Debian's chromium driven by playwright-core) against a real web
// node in this process: log in (a wrong password first), the dashboard, the pipeline's columns,
// a job, triggering a build and following its log until it succeeds; a token that stops working
// sends the user back to the login page, saying why.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { chromium, type Browser, type Page } from 'playwright-core';
import { freePort } from '../../src/db/embedded.ts';
import { packagePath } from '../../src/package.ts';
import { startWebNode, type WebNode } from '../../src/web/web-node.ts';
import { createTestDatabase, type TestDatabase } from '../support/db.ts';

const CHROMIUM = '/usr/bin/chromium';
const USER = 'dev';
const PASSWORD = 'correct-horse-battery';
const WRONG = 'not-the-password-42';
const skip = existsSync(CHROMIUM) ? false : `${CHROMIUM} is missing: run bash scripts/install-test-deps.sh`;

let tdb: TestDatabase;
let dir: string;
let node: WebNode;
let browser: Browser;
let page: Page;
const pageErrors: string[] = [];

// what the functions run in the page (page.evaluate) use; this file is checked without the DOM lib
type InPage = typeof globalThis & {
  localStorage: { length: number; getItem(key: string): string | null; setItem(key: string, value: string): void };
};

async function api(method: string, path: string, token: string, body?: string): Promise<Response> {
  const res = await fetch(`${node.url}/api/v1${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, ...(body !== undefined ? { 'content-type': 'application/x-yaml' } : {}) },
    ...(body !== undefined ? { body } : {}),
  });
  assert.ok(res.ok, `${method} ${path}: ${res.status} ${await res.clone().text()}`);
  return res;
}

before(async () => {
  if (skip) return;
  tdb = await createTestDatabase();
  dir = await mkdtemp(join(tmpdir(), 'jw-ui-browser-'));
  const port = await freePort();
  node = await startWebNode({
    dataDir: dir,
    postgresUrl: tdb.url,
    port,
    bindIp: '127.0.0.1',
    externalUrl: `http://127.0.0.1:${port}`,
    localUsers: [`${USER}:${PASSWORD}`],
    runtime: 'local',
    schedulerIntervalMs: 500,
    checkerIntervalMs: 500,
    logger: pino({ level: 'silent' }),
  });
  const login = await fetch(`${node.url}/api/v1/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ username: USER, password: PASSWORD }),
  });
  const { access_token: token } = (await login.json()) as { access_token: string };
  await api('PUT', '/teams/main/pipelines/hello/config', token, readFileSync(packagePath('examples', 'hello.yml'), 'utf8'));
  await api('PUT', '/teams/main/pipelines/hello/unpause', token);

  browser = await chromium.launch({
    executablePath: CHROMIUM,
    // as root, without the sandbox; no background traffic to hosts this machine cannot reach
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  page = await browser.newPage();
  page.setDefaultTimeout(20_000);
  page.on('pageerror', (err) => pageErrors.push(err.message));
});

after(async () => {
  if (skip) return;
  await browser?.close();
  await node?.stop();
  await tdb?.drop();
  if (dir) await rm(dir, { recursive: true, force: true });
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

test('after logging in, the dashboard shows the pipeline with its jobs', { skip }, async () => {
  await page.getByLabel('password').fill(PASSWORD);
  await page.getByRole('button', { name: 'log in' }).click();
  const card = page.locator('article[data-pipeline="hello"]');
  await card.waitFor();
  await card.locator('[data-job="unit"]').waitFor();
  await card.locator('[data-job="ship"]').waitFor();
  const stored = await page.evaluate(() => JSON.stringify((globalThis as InPage).localStorage));
  assert.ok(stored.includes('token') && !stored.includes(PASSWORD), 'the token is kept, the password is not');
});

test('the pipeline page lays the jobs out in columns by passed constraints, with the resources', { skip }, async () => {
  await page.locator('article[data-pipeline="hello"] header a').click();
  await page.locator('[data-column="0"] [data-job="unit"]').waitFor();
  await page.locator('[data-column="1"] [data-job="ship"]').waitFor();
  await page.locator('[data-resource="source-code"]').waitFor();
  await page.locator('[data-resource="release"]').waitFor();
  assert.match(page.url(), /#\/pipelines\/hello$/);
  await page.getByRole('button', { name: 'pause pipeline' }).waitFor();
});

test("a job's page triggers a build; the build page follows its log until it succeeds", { skip }, async () => {
  await page.locator('[data-job="unit"] a.job-name').click();
  await page.getByRole('heading', { name: /unit/ }).waitFor();
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
