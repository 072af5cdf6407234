// The browser tests' set-up (test/browser/*): a real web node in this process on its own test
// database and data folder, its first local user's token for the API, and Debian's chromium
// driven by playwright-core. One helper, so each file states only its users and pipelines.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { chromium, type Browser, type Page } from 'playwright-core';
import { freePort } from '../../src/db/embedded.ts';
import { startWebNode, type WebNode } from '../../src/web/web-node.ts';
import { createTestDatabase, type TestDatabase } from './db.ts';
import type { Database } from '../../src/db/database.ts';

export const CHROMIUM = '/usr/bin/chromium';
/** node:test's `skip` option: the reason when chromium is not installed */
export const skipWithoutChromium: string | false = existsSync(CHROMIUM) ? false : `${CHROMIUM} is missing: run bash scripts/install-test-deps.sh`;

export interface BrowserNodeOptions {
  /** the data folder's prefix in the temporary folder, naming the test file */
  name: string;
  /** local users as `user:password`; the first one's token is `token` */
  localUsers: readonly string[];
  /** the users of team main (its owners) */
  mainTeamUsers: readonly string[];
  /** playwright's default timeout for the page's waits */
  timeoutMs: number;
}

export interface BrowserNode {
  node: WebNode;
  /** the node's database, for what a failing test reports (a build's events) */
  db: Database;
  browser: Browser;
  page: Page;
  /** the first local user's bearer token */
  token: string;
  /**
   * Calls the API with the token; a body is YAML unless `headers` say otherwise. Fails the test
   * with the method, path, status and answer when the answer is not 2xx.
   */
  api(method: string, path: string, body?: string, headers?: Record<string, string>): Promise<Response>;
  /** closes the browser, stops the node, drops the database and removes the data folder */
  stop(): Promise<void>;
}

export async function startBrowserNode(options: BrowserNodeOptions): Promise<BrowserNode> {
  const tdb: TestDatabase = await createTestDatabase();
  const dir = await mkdtemp(join(tmpdir(), `jw-${options.name}-`));
  let node: WebNode | undefined;
  let browser: Browser | undefined;
  const stop = async (): Promise<void> => {
    await browser?.close();
    await node?.stop();
    await tdb.drop();
    await rm(dir, { recursive: true, force: true });
  };
  try {
    const port = await freePort();
    node = await startWebNode({
      dataDir: dir,
      postgresUrl: tdb.url,
      port,
      bindIp: '127.0.0.1',
      externalUrl: `http://127.0.0.1:${port}`,
      localUsers: [...options.localUsers],
      mainTeamUsers: [...options.mainTeamUsers],
      runtime: 'local',
      schedulerIntervalMs: 500,
      checkerIntervalMs: 500,
      logger: pino({ level: 'silent' }),
    });
    const url = node.url;
    const [username, password] = splitUser(options.localUsers[0] ?? '');
    const login = await fetch(`${url}/api/v1/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username, password }),
    });
    assert.ok(login.ok, `logging in as ${username}: ${login.status} ${await login.clone().text()}`);
    const { access_token: token } = (await login.json()) as { access_token: string };
    const api = async (method: string, path: string, body?: string, headers: Record<string, string> = {}): Promise<Response> => {
      const res = await fetch(`${url}/api/v1${path}`, {
        method,
        headers: { authorization: `Bearer ${token}`, ...(body !== undefined ? { 'content-type': 'application/x-yaml' } : {}), ...headers },
        ...(body !== undefined ? { body } : {}),
      });
      assert.ok(res.ok, `${method} ${path}: ${res.status} ${await res.clone().text()}`);
      return res;
    };
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      // as root, without the sandbox; no background traffic to hosts this machine cannot reach
      args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });
    const page = await browser.newPage();
    page.setDefaultTimeout(options.timeoutMs);
    return { node, db: tdb.db, browser, page, token, api, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}

function splitUser(entry: string): [string, string] {
  const colon = entry.indexOf(':');
  assert.ok(colon > 0, `a local user is user:password, got ${JSON.stringify(entry.slice(0, colon < 0 ? entry.length : colon))}`);
  return [entry.slice(0, colon), entry.slice(colon + 1)];
}
