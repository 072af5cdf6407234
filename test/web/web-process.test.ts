// The two commands people start: `jetway quickstart` (the main job on embedded defaults) and
// `jetway web`, run as real processes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../../src/db/embedded.ts';
import { createTestDatabase } from '../support/db.ts';

const BIN = join(import.meta.dirname, '..', '..', 'bin', 'jetway.js');

function jetwayProcess(args: string[], env: NodeJS.ProcessEnv) {
  const child = spawn(process.execPath, [BIN, ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (c: Buffer) => (out += c.toString()));
  child.stderr.on('data', (c: Buffer) => (out += c.toString()));
  const exited = new Promise<number>((resolve) => child.on('exit', (code, signal) => resolve(code ?? (signal ? 128 : 1))));
  return { child, exited, output: () => out };
}

test('quickstart starts Jetway on embedded Postgres, runs the example pipeline and shows the build succeed', async () => {
  const home = await mkdtemp(join(tmpdir(), 'jw-qs-'));
  try {
    const p = jetwayProcess(['quickstart', '--exit', '--port', String(await freePort()), '--data-dir', join(home, 'data')], { HOME: home, JETWAY_POSTGRES_URL: '' });
    const code = await p.exited;
    const out = p.output();
    assert.equal(code, 0, out);
    assert.match(out, /\$ jetway set-pipeline -t quickstart -p hello/);
    assert.match(out, /hello from jetway -- tests passed/);
    assert.match(out, /succeeded\s*$/);
  } finally {
    await rm(home, { recursive: true, force: true });
  }
});

test('jetway web serves health and info, refuses bad flags naming them, and stops cleanly on SIGTERM', async () => {
  const bad = jetwayProcess(['web', '--port', 'eighty', '--add-local-user', 'a:b'], {});
  assert.equal(await bad.exited, 2);
  assert.match(bad.output(), /--port: 'eighty' is not a port/);
  const noUser = jetwayProcess(['web', '--add-local-user', 'nopassword'], {});
  assert.equal(await noUser.exited, 2);
  assert.match(noUser.output(), /--add-local-user: .*name:password/);

  const tdb = await createTestDatabase();
  const dir = await mkdtemp(join(tmpdir(), 'jw-web-'));
  const port = await freePort();
  const web = jetwayProcess(['web', '--port', String(port), '--bind-ip', '127.0.0.1', '--data-dir', dir, '--postgres-url', tdb.url, '--add-local-user', 'ci:s3cret-pass'], { JETWAY_LOG_LEVEL: 'info' });
  try {
    let health: Response | undefined;
    for (let i = 0; i < 100 && !health; i++) {
      health = await fetch(`http://127.0.0.1:${port}/api/v1/health`).catch(() => undefined);
      if (!health) await new Promise((r) => setTimeout(r, 100));
    }
    assert.equal(health?.status, 200, web.output());
    const info = (await (await fetch(`http://127.0.0.1:${port}/api/v1/info`)).json()) as { version: string };
    assert.match(info.version, /^\d+\.\d+\.\d+/);
    assert.equal((await fetch(`http://127.0.0.1:${port}/api/v1/pipelines`)).status, 401);
    web.child.kill('SIGTERM');
    assert.equal(await web.exited, 0);
    assert.doesNotMatch(web.output(), /s3cret-pass/, 'the password is never logged');
    assert.match(web.output(), /"msg":"web node stopped"/);
  } finally {
    web.child.kill('SIGKILL');
    await tdb.drop();
    await rm(dir, { recursive: true, force: true });
  }
});
