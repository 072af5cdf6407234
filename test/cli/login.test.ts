import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createServer, type AddressInfo } from 'node:net';
import { parse } from 'yaml';
import { jetway, startCliServer, PASSWORD, type CliServer, revokeAllTokens } from './client-support.ts';

let s: CliServer;
before(async () => {
  s = await startCliServer();
});
after(async () => {
  await s.close();
});

test('login saves the target (YAML, mode 0600) with a working token', async () => {
  const r = await jetway('login', '-t', 'ci', '-c', `${s.url}/`, '-u', 'admin', '-p', PASSWORD);
  assert.equal(r.code, 0, r.err);
  assert.match(r.out, /logging in to team 'main'/);
  assert.match(r.out, /target saved/);
  const path = join(s.home, '.jetwayrc');
  assert.equal(statSync(path).mode & 0o777, 0o600);
  const rc = parse(readFileSync(path, 'utf8')) as { targets: Record<string, { api: string; team: string; token: { type: string; value: string } }> };
  assert.equal(rc.targets.ci?.api, s.url);
  assert.equal(rc.targets.ci?.team, 'main');
  assert.equal(rc.targets.ci?.token.type, 'bearer');
  assert.ok(!readFileSync(path, 'utf8').includes(PASSWORD), 'the password is not saved');
  const p = await jetway('pipelines', '-t', 'ci');
  assert.equal(p.code, 0, p.err);
});

test('login again reuses the saved URL; JETWAY_PASSWORD supplies the password', async () => {
  process.env.JETWAY_PASSWORD = PASSWORD;
  try {
    const r = await jetway('login', '-t', 'ci', '-u', 'admin');
    assert.equal(r.code, 0, r.err);
  } finally {
    delete process.env.JETWAY_PASSWORD;
  }
});

test('wrong credentials: exit 1 with the server message and status; nothing saved', async () => {
  const r = await jetway('login', '-t', 'bad', '-c', s.url, '-u', 'admin', '-p', 'wrong');
  assert.equal(r.code, 1);
  assert.equal(r.err, 'error: invalid username or password (HTTP 401)\n');
  const rc = parse(readFileSync(join(s.home, '.jetwayrc'), 'utf8')) as { targets: Record<string, unknown> };
  assert.deepEqual(Object.keys(rc.targets), ['ci']);
});

test('a server that is not there is named by URL', async () => {
  const port = await new Promise<number>((resolve) => {
    const srv = createServer().listen(0, '127.0.0.1', () => {
      const p = (srv.address() as AddressInfo).port;
      srv.close(() => resolve(p));
    });
  });
  const r = await jetway('login', '-t', 'x', '-c', `http://127.0.0.1:${port}`, '-u', 'admin', '-p', 'pw');
  assert.equal(r.code, 1);
  assert.equal(r.err, `error: could not reach the Jetway server at http://127.0.0.1:${port}: ECONNREFUSED\n`);
});

test('usage errors exit 2; an unknown target exits 1 naming the known ones', async () => {
  assert.equal((await jetway('login', '-c', s.url, '-u', 'a', '-p', 'b')).code, 2);
  assert.equal((await jetway('login', '-t', 'y', '-c', 'ftp://x', '-u', 'a', '-p', 'b')).code, 2);
  assert.equal((await jetway('pipelines')).code, 2);
  const r = await jetway('pipelines', '-t', 'nope');
  assert.equal(r.code, 1);
  assert.match(r.err, /unknown target: nope\nknown targets: ci\n/);
});

test('an expired or revoked token tells the user to log in again', async () => {
  await revokeAllTokens(s);
  const r = await jetway('pipelines', '-t', 'ci');
  assert.equal(r.code, 1);
  assert.match(r.err, /not authorized: invalid token; log in again/);
  assert.match(r.err, /jetway login -t ci/);
  assert.match(r.err, /\(HTTP 401\)/);
});

test('a malformed ~/.jetwayrc is reported', async () => {
  const path = join(s.home, '.jetwayrc');
  const saved = readFileSync(path, 'utf8');
  writeFileSync(path, 'targets: [1, 2');
  try {
    const r = await jetway('pipelines', '-t', 'ci');
    assert.equal(r.code, 1);
    assert.match(r.err, /\.jetwayrc is not valid YAML/);
  } finally {
    writeFileSync(path, saved);
  }
});

test('login creates a $HOME that does not exist yet (a fresh container user)', async () => {
  const home = process.env.HOME;
  process.env.HOME = join(s.dir, 'no-such-home', 'user');
  try {
    const r = await jetway('login', '-t', 'fresh', '-c', s.url, '-u', 'admin', '-p', PASSWORD);
    assert.equal(r.code, 0, r.err);
    assert.match(r.out, /target saved/);
    assert.equal(statSync(join(s.dir, 'no-such-home', 'user', '.jetwayrc')).mode & 0o777, 0o600);
  } finally {
    process.env.HOME = home;
  }
});
