// The two commands people start: `jetway quickstart` (the main job on embedded defaults) and
// `jetway web`, run as real processes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { waitForHealth } from '../support/web-process.ts';
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
    // --exit waits for what the first build triggered: hello/ship ends succeeded, not aborted
    assert.match(out, /\$ jetway watch -t quickstart -j hello\/ship\n[\s\S]*pushing release[\s\S]*succeeded\s*$/);
    assert.doesNotMatch(out, /aborted/);
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
  const unknownAdmin = jetwayProcess(['web', '--add-local-user', 'a:b', '--main-team-local-user', 'root'], {});
  assert.equal(await unknownAdmin.exited, 2);
  assert.match(unknownAdmin.output(), /--main-team-local-user: root is not a local user \(give it with --add-local-user name:password\)/);
  // a proxy URL may hold a password: refused in one line naming the flag, never echoed
  const badProxy = jetwayProcess(['web', '--add-local-user', 'a:b', '--local-https-proxy', 'ci:pr0xy-s3cret@proxy.internal:3128'], {});
  assert.equal(await badProxy.exited, 2);
  assert.match(badProxy.output(), /^error: --local-https-proxy: not an http or https URL \(http:\/\/\[user:password@\]host\[:port\]; the value is not shown, it may hold a password\)\n$/);
  assert.doesNotMatch(badProxy.output(), /pr0xy-s3cret/);
  const badRetention = jetwayProcess(['web', '--add-local-user', 'a:b', '--local-failed-container-retention', 'forever'], {});
  assert.equal(await badRetention.exited, 2);
  assert.match(badRetention.output(), /--local-failed-container-retention: 'forever' is not a duration/);

  const tdb = await createTestDatabase();
  const dir = await mkdtemp(join(tmpdir(), 'jw-web-'));
  const port = await freePort();
  const web = jetwayProcess(['web', '--port', String(port), '--bind-ip', '127.0.0.1', '--data-dir', dir, '--postgres-url', tdb.url, '--add-local-user', 'ci:s3cret-pass'], { JETWAY_LOG_LEVEL: 'info' });
  try {
    await waitForHealth(`http://127.0.0.1:${port}`, { child: web.child, output: web.output });
    const info = (await (await fetch(`http://127.0.0.1:${port}/api/v1/info`)).json()) as { version: string };
    assert.match(info.version, /^\d+\.\d+\.\d+/);
    assert.equal((await fetch(`http://127.0.0.1:${port}/api/v1/teams`)).status, 401);
    await logLevelIsLive(`http://127.0.0.1:${port}`, web.output);
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

test('SIGTERM to jetway web on embedded Postgres: a running build ends aborted and is recorded so, the database stops last', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'jw-web-embedded-'));
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const start = () => jetwayProcess(['web', '--port', String(port), '--bind-ip', '127.0.0.1', '--data-dir', dir, '--add-local-user', 'ci:s3cret-pass'], { JETWAY_POSTGRES_URL: '', JETWAY_LOG_LEVEL: 'info' });
  const ready = async (output: () => string): Promise<string> => {
    await waitForHealth(url, { output });
    const res = await fetch(`${url}/api/v1/token`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username: 'ci', password: 's3cret-pass' }) });
    return ((await res.json()) as { access_token: string }).access_token;
  };
  let web = start();
  try {
    let token = await ready(web.output);
    const auth = { authorization: `Bearer ${token}` };
    const pipeline = `${url}/api/v1/teams/main/pipelines/p`;
    const long = 'jobs:\n- name: long\n  plan:\n  - task: sleep\n    config:\n      platform: linux\n      run: {path: sh, args: [-c, "echo sleeping; sleep 120"]}\n';
    assert.ok((await fetch(`${pipeline}/config`, { method: 'PUT', headers: { ...auth, 'content-type': 'application/x-yaml', 'x-concourse-config-version': '0' }, body: long })).ok);
    assert.ok((await fetch(`${pipeline}/unpause`, { method: 'PUT', headers: auth })).ok);
    const build = (await (await fetch(`${pipeline}/jobs/long/builds`, { method: 'POST', headers: auth })).json()) as { id: number };
    // wait until the task runs
    for (let i = 0; i < 200; i++) {
      const events = await fetch(`${url}/api/v1/builds/${build.id}`, { headers: auth }).then((r) => r.json() as Promise<{ status: string }>);
      if (events.status === 'started') break;
      await new Promise((r) => setTimeout(r, 100));
    }
    web.child.kill('SIGTERM');
    assert.equal(await web.exited, 0, web.output());
    assert.doesNotMatch(web.output(), /build tracking failed|idle Postgres connection failed|database system is shutting down/);

    web = start();
    token = await ready(web.output);
    const after = (await (await fetch(`${url}/api/v1/builds/${build.id}`, { headers: { authorization: `Bearer ${token}` } })).json()) as { status: string };
    assert.equal(after.status, 'aborted', web.output());
  } finally {
    web.child.kill('SIGTERM');
    await web.exited;
    await rm(dir, { recursive: true, force: true });
  }
});

async function until(what: string, cond: () => boolean, output: () => string): Promise<void> {
  for (let i = 0; i < 300; i++) {
    if (cond()) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  assert.fail(`${what}; output:\n${output()}`);
}

/**
 * PUT /api/v1/log-level changes what every logger of the process writes at once (Concourse's
 * atc/api/loglevelserver; src/api/log-level.ts): request logs, made by loggers created long
 * before the change, stop at `error` and come back at `info`.
 */
async function logLevelIsLive(url: string, output: () => string): Promise<void> {
  const login = await fetch(`${url}/api/v1/token`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username: 'ci', password: 's3cret-pass' }) });
  const { access_token: token } = (await login.json()) as { access_token: string };
  const auth = { authorization: `Bearer ${token}` };
  const level = async (): Promise<string> => (await fetch(`${url}/api/v1/log-level`, { headers: auth })).text();
  const setLevel = async (to: string): Promise<void> => {
    const res = await fetch(`${url}/api/v1/log-level`, { method: 'PUT', headers: { ...auth, 'content-type': 'text/plain' }, body: to });
    assert.equal(res.status, 200, await res.text());
  };
  assert.equal(await level(), 'info');
  await fetch(`${url}/api/v1/info?marker=before`);
  await until('the request at info is logged', () => output().includes('marker=before'), output);
  await setLevel('error');
  assert.equal(await level(), 'error');
  await fetch(`${url}/api/v1/info?marker=silenced`);
  await setLevel('info');
  await fetch(`${url}/api/v1/info?marker=after`);
  await until('the request after the level went back to info is logged', () => output().includes('marker=after'), output);
  // the log is written synchronously, in order: the request made at `error` left no line
  assert.doesNotMatch(output(), /marker=silenced/);
}
