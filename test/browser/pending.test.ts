// Why a build is pending, in a real browser (Debian's chromium through playwright-core) against a
// real web node: a job of a paused pipeline says on its page why it will not run; a build
// triggered there shows on its page why it waits (the reasons and Concourse's preparing-build
// list) until the pipeline is unpaused, then starts and the list goes away.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { chromium, type Browser, type Page } from 'playwright-core';
import { stringify } from 'yaml';
import { freePort } from '../../src/db/embedded.ts';
import { startWebNode, type WebNode } from '../../src/web/web-node.ts';
import { createTestDatabase, type TestDatabase } from '../support/db.ts';

const CHROMIUM = '/usr/bin/chromium';
const USER = 'dev';
const PASSWORD = 'correct-horse-battery';
const skip = existsSync(CHROMIUM) ? false : `${CHROMIUM} is missing: run bash scripts/install-test-deps.sh`;
const PIPELINE = stringify({
  resources: [{ name: 'src', type: 'mock', source: { initial_version: 'v1' } }],
  jobs: [{ name: 'unit', plan: [{ get: 'src' }, { task: 't', config: { platform: 'linux', run: { path: 'true' } } }] }],
});

let tdb: TestDatabase;
let dir: string;
let node: WebNode;
let browser: Browser;
let page: Page;
let token: string;

async function api(method: string, path: string, body?: string): Promise<Response> {
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
  dir = await mkdtemp(join(tmpdir(), 'jw-ui-pending-'));
  const port = await freePort();
  node = await startWebNode({
    dataDir: dir,
    postgresUrl: tdb.url,
    port,
    bindIp: '127.0.0.1',
    externalUrl: `http://127.0.0.1:${port}`,
    localUsers: [`${USER}:${PASSWORD}`],
    mainTeamUsers: [USER],
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
  ({ access_token: token } = (await login.json()) as { access_token: string });
  // set, not unpaused: a new pipeline is paused
  await api('PUT', '/teams/main/pipelines/held/config', PIPELINE);
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  page = await browser.newPage();
  page.setDefaultTimeout(30_000);
});

after(async () => {
  if (skip) return;
  await browser?.close();
  await node?.stop();
  await tdb?.drop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

test("a paused pipeline's job says why it will not run; its pending build says why it waits until unpaused", { skip }, async () => {
  await page.goto(`${node.url}/#/teams/main/pipelines/held/jobs/unit`);
  await page.getByLabel('username').fill(USER);
  await page.getByLabel('password').fill(PASSWORD);
  await page.getByRole('button', { name: 'log in' }).click();
  const jobReason = page.locator('[data-pending-reason]');
  await jobReason.waitFor();
  assert.equal(await jobReason.textContent(), 'Not running: the pipeline held is paused');

  await page.getByRole('button', { name: 'trigger build' }).click();
  await page.waitForURL(/#\/builds\/\d+$/);
  const reason = page.locator('[data-build-prep] [data-pending-reason]');
  await reason.waitFor();
  assert.equal(await reason.textContent(), 'Pending: the pipeline held is paused');
  const pipelineItem = page.locator('[data-build-prep] li', { hasText: 'checking pipeline is not paused' });
  assert.equal(await pipelineItem.getAttribute('data-prep-status'), 'blocking');
  const jobItem = page.locator('[data-build-prep] li', { hasText: 'checking job is not paused' });
  assert.equal(await jobItem.getAttribute('data-prep-status'), 'not_blocking');

  // unpaused, the build starts (after its check) and the list goes away
  await api('PUT', '/teams/main/pipelines/held/unpause');
  await page.locator('[data-build-status="started"], [data-build-status="succeeded"]').first().waitFor({ timeout: 60_000 });
  assert.equal(await page.locator('[data-build-prep] li').count(), 0, 'a started build has no preparation list');
});
