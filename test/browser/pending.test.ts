// Why a build is pending, in a real browser (Debian's chromium through playwright-core) against a
// real web node: a job of a paused pipeline says on its page why it will not run; a build
// triggered there shows on its page why it waits (the reasons and Concourse's preparing-build
// list) until the pipeline is unpaused, then starts and the list goes away. Then the keyboard
// shortcuts of the job and build pages (T, A, h, l) and the pages' titles.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import type { Page } from 'playwright-core';
import { stringify } from 'yaml';
import { skipWithoutChromium as skip, startBrowserNode, type BrowserNode } from '../support/browser.ts';

const USER = 'dev';
const PASSWORD = 'correct-horse-battery';
const PIPELINE = stringify({
  resources: [{ name: 'src', type: 'mock', source: { initial_version: 'v1' } }],
  jobs: [{ name: 'unit', plan: [{ get: 'src' }, { task: 't', config: { platform: 'linux', run: { path: 'true' } } }] }],
});

let web: BrowserNode;
let page: Page;

before(async () => {
  if (skip) return;
  web = await startBrowserNode({ name: 'ui-pending', localUsers: [`${USER}:${PASSWORD}`], mainTeamUsers: [USER], timeoutMs: 30_000 });
  ({ page } = web);
  // set, not unpaused: a new pipeline is paused
  await web.api('PUT', '/teams/main/pipelines/held/config', PIPELINE);
});

after(async () => {
  if (skip) return;
  await web?.stop();
});

test("a paused pipeline's job says why it will not run; its pending build says why it waits until unpaused", { skip }, async () => {
  await page.goto(`${web.node.url}/#/teams/main/pipelines/held/jobs/unit`);
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
  await web.api('PUT', '/teams/main/pipelines/held/unpause');
  await page.locator('[data-build-status="started"], [data-build-status="succeeded"]').first().waitFor({ timeout: 60_000 });
  assert.equal(await page.locator('[data-build-prep] li').count(), 0, 'a started build has no preparation list');
});

test('the job, build and resource pages are titled after what they show; T triggers a build, A aborts it, h and l step through the job builds', { skip }, async () => {
  // paused again, so the build T triggers waits and A has a build to abort
  await web.api('PUT', '/teams/main/pipelines/held/pause');
  await page.goto(`${web.node.url}/#/teams/main/pipelines/held/jobs/unit`);
  await page.getByRole('heading', { level: 1, name: /^unit\b/ }).waitFor();
  assert.equal(await page.title(), 'unit - held - main - Jetway');

  await page.keyboard.press('T');
  await page.waitForURL(/#\/builds\/\d+$/);
  const second = page.url();
  await page.getByRole('heading', { level: 1, name: /^unit #2\b/ }).waitFor();
  assert.equal(await page.title(), '#2 - unit - held - main - Jetway');
  await page.locator('[data-build-status="pending"]').waitFor();
  await page.keyboard.press('A');
  await page.locator('[data-build-status="aborted"]').waitFor();

  // the job's builds are listed (the tabs) before h and l can step through them
  await page.locator('[data-build-tab="1"]').waitFor();
  await page.keyboard.press('h');
  await page.getByRole('heading', { level: 1, name: /^unit #1\b/ }).waitFor();
  assert.notEqual(page.url(), second, 'h opened the earlier build');
  await page.locator('[data-build-tab="2"]').waitFor();
  await page.keyboard.press('l');
  await page.waitForURL(second);
  await page.getByRole('heading', { level: 1, name: /^unit #2\b/ }).waitFor();

  await page.goto(`${web.node.url}/#/teams/main/pipelines/held/resources/src`);
  await page.getByRole('heading', { level: 1, name: /^src\b/ }).waitFor();
  assert.equal(await page.title(), 'src - held - main - Jetway');
});
