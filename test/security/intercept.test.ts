// Finding 7 of issue 16, for the intercept WebSocket (GET /api/v1/builds/:id/intercept): its
// parameters are checked and authorized as the REST routes' are. A member of another team gets
// 403 and nothing runs; a malformed build id, step, type or command gets a 400 naming it.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import WebSocket from 'ws';
import { createOneOffBuild } from '../../src/db/builds.ts';
import type { InterceptableContainer, InterceptIO, Runtime } from '../../src/runtime/runtime.ts';
import { CHANNEL, decodeFrame } from '../../src/api/intercept-protocol.ts';
import { startTenants, type Tenants } from './tenants.ts';

class FakeRuntime implements Pick<Runtime, 'name' | 'interceptableContainers' | 'intercept'> {
  readonly name = 'kubernetes';
  containers = new Map<number, InterceptableContainer[]>();
  calls: string[][] = [];
  async interceptableContainers(buildId: number): Promise<InterceptableContainer[]> {
    return this.containers.get(buildId) ?? [];
  }
  async intercept(_handle: string, command: string[], io: InterceptIO): Promise<{ exitStatus: number }> {
    this.calls.push(command);
    io.stdout(Buffer.from(`ran ${command.join(' ')}\n`));
    return { exitStatus: 0 };
  }
}

const runtime = new FakeRuntime();
let t: Tenants;
let base = '';
let buildOfA = 0;
const tokens = new Map<string, string>();

before(async () => {
  t = await startTenants({ runtime });
  const teamA = (await t.api.t.db.query<{ id: number }>(`SELECT id FROM teams WHERE name = 'a'`)).rows[0]!.id;
  buildOfA = (await createOneOffBuild(t.api.t.db, teamA, { id: '1', do: [] })).id;
  runtime.containers.set(buildOfA, [{ handle: 'h-unit', step: 'unit', type: 'task', state: 'running', name: 'pod-unit', workDir: '/tmp/build/x', createdAt: '2026-01-01T00:00:00.000Z' }]);
  for (const user of ['alice', 'bob']) {
    const res = await t.api.app.inject({ method: 'POST', url: '/api/v1/token', payload: { username: user, password: `${user}-pw` } });
    tokens.set(user, res.json<{ access_token: string }>().access_token);
  }
  await t.api.app.listen({ port: 0, host: '127.0.0.1' });
  base = `ws://127.0.0.1:${(t.api.app.server.address() as AddressInfo).port}`;
});
after(async () => t?.close());

/** The HTTP refusal of an upgrade (status and JSON body), or the output of an opened session. */
function attempt(user: string, path: string): Promise<{ status: number; body?: { error: string; code: string }; output?: string }> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`${base}${path}`, { headers: { authorization: `Bearer ${tokens.get(user)}` } });
    let output = '';
    ws.on('unexpected-response', (_req, res) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(body) as { error: string; code: string } }));
    });
    ws.on('message', (data: Buffer) => {
      const frame = decodeFrame(data);
      if (frame?.channel === CHANNEL.stdout) output += frame.payload.toString();
    });
    ws.on('close', () => resolve({ status: 101, output }));
    ws.on('error', (err) => (err.message.startsWith('Unexpected server response') ? undefined : reject(err)));
  });
}

const ROWS: { name: string; user: string; path: () => string; status: number; error?: string }[] = [
  { name: 'a member of another team', user: 'bob', path: () => `/api/v1/builds/${buildOfA}/intercept?step=unit&command=id`, status: 403 },
  { name: "a build id that climbs ('1%2F..')", user: 'alice', path: () => '/api/v1/builds/1%2F../intercept', status: 400, error: 'path parameter id: "1/.." must not contain \'/\' or \'\\\'' },
  { name: 'a build id that is not a number', user: 'alice', path: () => '/api/v1/builds/12abc/intercept', status: 400, error: "build id must be a number (got '12abc')" },
  { name: 'a build id out of range', user: 'alice', path: () => '/api/v1/builds/99999999999/intercept', status: 400, error: 'build id 99999999999 is out of range' },
  { name: 'a step with ..', user: 'alice', path: () => `/api/v1/builds/${buildOfA}/intercept?step=..`, status: 400, error: "query parameter step: \"..\" must not be '..'" },
  { name: 'a step with a control character', user: 'alice', path: () => `/api/v1/builds/${buildOfA}/intercept?step=unit%07`, status: 400, error: 'query parameter step: "unit\\u0007" must not contain control characters (found U+0007)' },
  { name: 'a step given twice', user: 'alice', path: () => `/api/v1/builds/${buildOfA}/intercept?step=unit&step=other`, status: 400, error: 'query parameter step is given 2 times; give it once' },
  { name: 'an unknown type', user: 'alice', path: () => `/api/v1/builds/${buildOfA}/intercept?step=unit&type=shell`, status: 400, error: 'query parameter type: "shell" is not a step type (check, get, put, task)' },
  { name: 'a command with a NUL byte', user: 'alice', path: () => `/api/v1/builds/${buildOfA}/intercept?step=unit&command=cat&command=a%00b`, status: 400, error: 'query parameter command: argument 2 contains a NUL byte' },
];
for (const row of ROWS) {
  test(`intercept: ${row.name} is refused (${row.status}); nothing runs`, async () => {
    const before = runtime.calls.length;
    const res = await attempt(row.user, row.path());
    assert.equal(res.status, row.status, JSON.stringify(res.body));
    if (row.error) assert.deepEqual(res.body, { error: row.error, code: 'JW_BAD_REQUEST' });
    assert.equal(runtime.calls.length, before);
  });
}

test('intercept: a member of the build\'s team runs the command', async () => {
  const res = await attempt('alice', `/api/v1/builds/${buildOfA}/intercept?step=unit&type=task&command=echo&command=hi`);
  assert.equal(res.status, 101);
  assert.equal(res.output, 'ran echo hi\n');
});
