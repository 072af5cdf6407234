// `npm run screenshots`: the README's pictures of the web UI, taken by Debian's chromium (the
// browser tests' own, through playwright-core) from a fixture: a web node of its own (embedded
// Postgres in a temporary directory, the local runtime) sets test/ui/fixtures/graph-pipeline.yml,
// lets its builds run, and photographs the pipeline graph and a build into docs/images/.
import { mkdtemp, rm } from 'node:fs/promises';
import { readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { chromium } from 'playwright-core';
import { freePort } from '../src/db/embedded.ts';
import { packagePath } from '../src/package.ts';
import { startWebNode } from '../src/web/web-node.ts';

const CHROMIUM = process.env.JETWAY_CHROMIUM ?? '/usr/bin/chromium';
const OUT = packagePath('docs', 'images');
const USER = 'screenshots';
const PASSWORD = 'screenshots-password';

async function main(): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'jw-screenshots-'));
  const port = await freePort();
  const node = await startWebNode({
    dataDir: dir,
    port,
    bindIp: '127.0.0.1',
    externalUrl: `http://127.0.0.1:${port}`,
    localUsers: [`${USER}:${PASSWORD}`],
    runtime: 'local',
    schedulerIntervalMs: 300,
    checkerIntervalMs: 300,
    logger: pino({ level: 'silent' }),
  });
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'] });
  try {
    const token = await login(node.url);
    const api = async (method: string, path: string, body?: string): Promise<Response> => {
      const res = await fetch(`${node.url}/api/v1${path}`, { method, headers: { authorization: `Bearer ${token}`, ...(body !== undefined ? { 'content-type': 'application/x-yaml' } : {}) }, ...(body !== undefined ? { body } : {}) });
      if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${await res.text()}`);
      return res;
    };
    await api('PUT', '/teams/main/pipelines/demo/config', readFileSync(packagePath('test', 'ui', 'fixtures', 'graph-pipeline.yml'), 'utf8'));
    await api('PUT', '/teams/main/pipelines/demo/unpause');
    // the builds the checks trigger: unit, lint (fails), then integration waits for lint
    const finished = async (job: string): Promise<number> => {
      for (let i = 0; i < 600; i++) {
        const j = (await (await api('GET', `/teams/main/pipelines/demo/jobs/${job}`)).json()) as { finished_build?: { id: number } };
        if (j.finished_build) return j.finished_build.id;
        await new Promise((r) => setTimeout(r, 200));
      }
      throw new Error(`job ${job} has no finished build after two minutes`);
    };
    const unit = await finished('unit');
    await finished('lint');
    await finished('docs');

    const page = await browser.newPage({ viewport: { width: 1280, height: 760 }, deviceScaleFactor: 1 });
    page.setDefaultTimeout(60_000);
    await page.goto(`${node.url}/#/login`);
    await page.getByLabel('username').fill(USER);
    await page.getByLabel('password').fill(PASSWORD);
    await page.getByRole('button', { name: 'log in' }).click();
    await page.locator('article[data-pipeline="demo"]').waitFor();
    await page.goto(`${node.url}/#/teams/main/pipelines/demo`);
    await page.locator('[data-check="failing"][data-resource="broken-feed"]').first().waitFor();
    await page.locator('g[data-job="unit"][data-status="succeeded"]').waitFor();
    await page.waitForTimeout(300); // the fit after the first draw
    await page.screenshot({ path: join(OUT, 'pipeline-graph.png') });
    await page.goto(`${node.url}/#/builds/${unit}`);
    await page.locator('[data-build-status="succeeded"]').waitFor();
    await page.locator('pre.log', { hasText: 'tests passed' }).waitFor();
    await page.screenshot({ path: join(OUT, 'build.png') });
    console.log(`wrote ${join(OUT, 'pipeline-graph.png')} and ${join(OUT, 'build.png')}`);
  } finally {
    await browser.close();
    await node.stop();
    await rm(dir, { recursive: true, force: true });
  }
}

async function login(url: string): Promise<string> {
  const res = await fetch(`${url}/api/v1/token`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username: USER, password: PASSWORD }) });
  if (!res.ok) throw new Error(`login: ${res.status} ${await res.text()}`);
  return ((await res.json()) as { access_token: string }).access_token;
}

main().catch((err: unknown) => {
  console.error(`screenshots: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
