// Issue 16, finding 4, against a real `jetway web` on the local runtime (the machine runs the
// tests as root, as a web node started by root): a task read /proc/<web pid>/cmdline and printed
// `--add-local-user admin:<password>`. Now the task runs as its team's unprivileged host user
// (src/runtime/local/team-ids.ts; the processes runtime, pinned here), with an env of its own, and the web node's environ, command line, data directory and Postgres
// credentials are out of its reach.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../../src/db/embedded.ts';
import { TEAM_ID_BASE } from '../../src/runtime/local/team-ids.ts';

const BIN = join(import.meta.dirname, '..', '..', 'bin', 'jetway.js');
const PASSWORD = 'cmdline-pw-4c1d9e';
const ENV_SECRET = 'environ-secret-8b2f70';

test("a task cannot read the web node's environ, command line, data directory or Postgres credentials", { skip: process.getuid?.() !== 0 && 'the build user needs a root web node' }, async () => {
  const dir = await mkdtemp(join(tmpdir(), 'jw-sec-local-'));
  const dataDir = join(dir, 'data');
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  // the password on the command line, a secret in the environment: both what an operator might do
  const web = spawn(process.execPath, [BIN, 'web', '--port', String(port), '--bind-ip', '127.0.0.1', '--data-dir', dataDir, '--add-local-user', `admin:${PASSWORD}`, '--local-runtime', 'processes'], {
    env: { ...process.env, JETWAY_POSTGRES_URL: '', JETWAY_TEST_ENV_SECRET: ENV_SECRET, JETWAY_LOG_LEVEL: 'info' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  web.stdout.on('data', (c: Buffer) => (output += c.toString()));
  web.stderr.on('data', (c: Buffer) => (output += c.toString()));
  const exited = new Promise<number>((resolve) => web.on('exit', (code) => resolve(code ?? 1)));
  try {
    let token = '';
    for (let i = 0; i < 600 && !token; i++) {
      if (await fetch(`${url}/api/v1/health`).then((r) => r.ok, () => false)) {
        const res = await fetch(`${url}/api/v1/token`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username: 'admin', password: PASSWORD }) });
        token = ((await res.json()) as { access_token: string }).access_token;
      } else await new Promise((r) => setTimeout(r, 100));
    }
    assert.ok(token, `jetway web did not start:\n${output}`);
    assert.match(output, /local runtime: steps run as host processes, each team's as a user of its own/);
    const auth = { authorization: `Bearer ${token}` };

    // every way in a member's task would try; each line says what it got
    const script = [
      'echo "uid=$(id -u)"',
      'cat /proc/$WEB_PID/environ >/dev/null 2>&1 && echo "environ: READ" || echo "environ: refused"',
      'tr "\\0" " " < /proc/$WEB_PID/cmdline; echo',
      'ls "$DATA_DIR" >/dev/null 2>&1 && echo "data dir: LISTED" || echo "data dir: refused"',
      'cat "$DATA_DIR/postgres/jetway-credentials.json" 2>/dev/null || echo "postgres credentials: refused"',
      'ls "$DATA_DIR/postgres" >/dev/null 2>&1 && echo "postgres dir: LISTED" || echo "postgres dir: refused"',
      'ls "$DATA_DIR/artifacts" >/dev/null 2>&1 && echo "artifacts: LISTED" || echo "artifacts: refused"',
      'env',
    ].join('; ');
    const yaml = `jobs:
- name: snoop
  plan:
  - task: snoop
    config:
      platform: linux
      params: {WEB_PID: "${web.pid}", DATA_DIR: "${dataDir}"}
      run: {path: sh, args: [-c, ${JSON.stringify(script)}]}
`;
    const pipeline = `${url}/api/v1/teams/main/pipelines/snoop`;
    assert.ok((await fetch(`${pipeline}/config`, { method: 'PUT', headers: { ...auth, 'content-type': 'application/x-yaml' }, body: yaml })).ok);
    assert.ok((await fetch(`${pipeline}/unpause`, { method: 'PUT', headers: auth })).ok);
    const build = (await (await fetch(`${pipeline}/jobs/snoop/builds`, { method: 'POST', headers: auth })).json()) as { id: number };
    let status = '';
    for (let i = 0; i < 600 && !['succeeded', 'failed', 'errored', 'aborted'].includes(status); i++) {
      status = ((await (await fetch(`${url}/api/v1/builds/${build.id}`, { headers: auth })).json()) as { status: string }).status;
      if (status === 'pending' || status === 'started') await new Promise((r) => setTimeout(r, 100));
    }
    // the event stream of a finished build: read what it sends (it may stay open), up to its end
    const controller = new AbortController();
    const res = await fetch(`${url}/api/v1/builds/${build.id}/events`, { headers: auth, signal: controller.signal });
    let events = '';
    const deadline = Date.now() + 10_000;
    const reader = res.body!.getReader();
    const decoder = new TextDecoder();
    while (Date.now() < deadline && !/event: end|"status":"(succeeded|failed|errored)"/.test(events)) {
      const next = await Promise.race([reader.read(), new Promise<undefined>((r) => setTimeout(() => r(undefined), 1_000))]);
      if (next === undefined) continue;
      if (next.done) break;
      events += decoder.decode(next.value, { stream: true });
    }
    controller.abort();
    const logs = events
      .split('\n')
      .filter((l) => l.startsWith('data: '))
      .map((l) => {
        try {
          return ((JSON.parse(l.slice(6)) as { data?: { payload?: string } }).data?.payload ?? '');
        } catch {
          return '';
        }
      })
      .join('');
    assert.equal(status, 'succeeded', logs || events);
    assert.doesNotMatch(logs, /^uid=0$/m, 'not as root');
    const uid = Number(/^uid=(\d+)$/m.exec(logs)?.[1]);
    assert.ok(uid >= TEAM_ID_BASE, `the team's own host id, not ${uid}`);
    assert.match(logs, /environ: refused/);
    assert.match(logs, /^jetway web\s*$/m, 'the command line is the bare command');
    assert.match(logs, /data dir: refused/);
    assert.match(logs, /postgres credentials: refused/);
    assert.match(logs, /postgres dir: refused/);
    assert.match(logs, /artifacts: refused/);
    assert.doesNotMatch(logs, new RegExp(PASSWORD), "the admin's password");
    assert.doesNotMatch(logs, new RegExp(ENV_SECRET), "the web node's environment");
    assert.doesNotMatch(logs, /JETWAY_|postgres:\/\//, 'nothing of the web node in the env');
  } finally {
    web.kill('SIGTERM');
    await exited;
    await rm(dir, { recursive: true, force: true });
  }
});
