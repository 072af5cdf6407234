// One-off builds: artifact upload and download, plan validation, and a one-off build that takes
// an uploaded directory in and gives a produced one back (run by a test node's engine).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import * as tar from 'tar';
import { startApi, type TestApi } from './helpers.ts';
import { startTestNode, type TestNode } from '../support/node.ts';
import { checkPlan } from '../../src/api/routes/artifacts.ts';

let node: TestNode;
let api: TestApi;
let dir: string;

before(async () => {
  node = await startTestNode();
  dir = mkdtempSync(join(tmpdir(), 'jw-artifacts-'));
  api = await startApi(
    { artifactsDir: join(dir, 'store'), artifactBodyLimit: 64 * 1024, engine: { abortBuild: (id) => node.engine.abort(id), track: (id) => node.engine.track(id) } },
    node.tdb,
  );
});
after(async () => {
  await api.close();
  await node.stop();
  rmSync(dir, { recursive: true, force: true });
});

/** A gzipped tarball of a directory holding the given files. */
async function tarball(files: Record<string, string>, gzip = true): Promise<Buffer> {
  const src = mkdtempSync(join(dir, 'src-'));
  for (const [name, content] of Object.entries(files)) {
    mkdirSync(join(src, name, '..'), { recursive: true });
    writeFileSync(join(src, name), content);
  }
  const chunks: Buffer[] = [];
  const stream = tar.c({ gzip, cwd: src, portable: true }, ['.']);
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

/** The files of a tarball (gzipped or not): path → content. */
async function untar(body: Buffer): Promise<Record<string, string>> {
  const raw = body[0] === 0x1f && body[1] === 0x8b ? gunzipSync(body) : body;
  const out = mkdtempSync(join(dir, 'out-'));
  const file = join(out, '..', `${out.split('/').pop()}.tar`);
  writeFileSync(file, raw);
  const files: Record<string, string> = {};
  await tar.t({
    file,
    onReadEntry: (e) => {
      if (e.type === 'File') {
        const parts: Buffer[] = [];
        e.on('data', (c: Buffer) => parts.push(c));
        e.on('end', () => (files[e.path.replace(/^\.\//, '')] = Buffer.concat(parts).toString()));
      }
    },
  });
  return files;
}

const upload = (body: Buffer | string, contentType = 'application/octet-stream', team = 'main') =>
  api.app.inject({ method: 'POST', url: `/api/v1/teams/${team}/artifacts`, headers: { ...api.auth(), 'content-type': contentType }, payload: body });

test('artifacts: upload and download round trip (gzip and plain tar)', async () => {
  for (const gzip of [true, false]) {
    const body = await tarball({ 'hello.txt': 'hello\n', 'sub/deep.txt': 'deep' }, gzip);
    const res = await upload(body, gzip ? 'application/gzip' : 'application/x-tar');
    assert.equal(res.statusCode, 201, res.body);
    const a = res.json() as { id: number; name: string; created_at: number };
    assert.ok(a.id > 0);
    assert.equal(typeof a.created_at, 'number');
    const got = await api.app.inject({ url: `/api/v1/teams/main/artifacts/${a.id}`, headers: api.auth() });
    assert.equal(got.statusCode, 200);
    assert.equal(got.headers['content-type'], 'application/octet-stream');
    assert.deepEqual(got.rawPayload, body, 'the stored bytes come back as they were sent');
    assert.deepEqual(await untar(got.rawPayload), { 'hello.txt': 'hello\n', 'sub/deep.txt': 'deep' });
  }
});

test('artifacts: refusals', async () => {
  const notTar = await upload('this is not a tarball, just some text that is long enough '.repeat(20));
  assert.equal(notTar.statusCode, 400);
  assert.match((notTar.json() as { error: string }).error, /not a tar archive/);
  assert.equal(notTar.json<{ code: string }>().code, 'JW_INVALID_ARTIFACT');
  const empty = await upload('');
  assert.equal(empty.statusCode, 400);
  const json = await api.app.inject({ method: 'POST', url: '/api/v1/teams/main/artifacts', headers: api.auth(), payload: { a: 1 } });
  assert.equal(json.statusCode, 415);
  const big = await upload(Buffer.alloc(100 * 1024, 1));
  assert.equal(big.statusCode, 413);
  const otherTeam = await upload(await tarball({ a: 'a' }), 'application/gzip', 'other');
  assert.equal(otherTeam.statusCode, 403);
  const anonymous = await api.app.inject({ method: 'POST', url: '/api/v1/teams/main/artifacts', headers: { 'content-type': 'application/gzip' }, payload: 'x' });
  assert.equal(anonymous.statusCode, 401);
  const missing = await api.app.inject({ url: '/api/v1/teams/main/artifacts/999999', headers: api.auth() });
  assert.equal(missing.statusCode, 404);
  assert.deepEqual(missing.json(), { error: 'artifact 999999 of team main not found', code: 'JW_ARTIFACT_NOT_FOUND' });
  const rows = await api.t.db.query<{ n: number }>(`SELECT count(*)::int AS n FROM artifacts`);
  assert.equal(rows.rows[0]?.n, 2, 'only the two good uploads were recorded');
});

test('artifacts: without an artifacts directory the routes answer 503', async () => {
  const bare = await startApi({}, node.tdb);
  try {
    const res = await bare.app.inject({
      method: 'POST',
      url: '/api/v1/teams/main/artifacts',
      headers: { ...bare.auth(), 'content-type': 'application/gzip' },
      payload: await tarball({ a: 'a' }),
    });
    assert.equal(res.statusCode, 503);
  } finally {
    await bare.close();
  }
});

test('one-off plans: validation names the field', () => {
  assert.deepEqual(checkPlan({ id: 'a', task: { name: 't', config: { platform: 'linux', run: { path: 'true' } } } }).errors, []);
  assert.deepEqual(checkPlan({ id: 'a', task: { name: 't', config: {} } }).errors, ["body.task.config: missing 'platform'"]);
  assert.deepEqual(checkPlan('x').errors, ['body: must be a plan object ({"id": …, "<step>": …})']);
  assert.deepEqual(checkPlan({ task: { name: 't', config: { platform: 'linux' } } }).errors, ['body.id: required: a non-empty string']);
  assert.match(checkPlan({ id: 'a', tusk: {} }).errors[0] ?? '', /^body: has no step: expected one of get, put, .* \(got tusk\)$/);
  assert.deepEqual(checkPlan({ id: 'a', get: { name: 'x', type: 'mock', source: {} }, task: { name: 't', config: {} } }).errors, [
    'body: has more than one step (get, task); a plan node has exactly one',
  ]);
  assert.deepEqual(
    checkPlan({
      id: 'a',
      do: [
        { id: 'b', artifact_input: { name: 'src', artifact_id: 'one' } },
        { id: 'c', in_parallel: { steps: [{ id: 'd', task: { name: '' } }] } },
        { id: 'e', ensure: { step: { id: 'f', artifact_output: {} }, ensure: 'no' } },
      ],
    }).errors,
    [
      'body.do[0].artifact_input.artifact_id: required: a positive integer (the id POST /teams/:team/artifacts returned)',
      'body.do[1].in_parallel.steps[0].task.name: required: a non-empty string',
      'body.do[1].in_parallel.steps[0].task: needs config (inline) or config_path',
      'body.do[2].ensure.step.artifact_output.name: required: a non-empty string',
      'body.do[2].ensure.ensure: must be a plan object ({"id": …, "<step>": …})',
    ],
  );
});

test('one-off builds: a bad plan is 400 naming the field and creates nothing', async () => {
  const count = async () => (await api.t.db.query<{ n: number }>('SELECT count(*)::int AS n FROM builds')).rows[0]!.n;
  const before = await count();
  const bad = await api.app.inject({
    method: 'POST',
    url: '/api/v1/teams/main/builds',
    headers: api.auth(),
    payload: { id: 'root', do: [{ id: 'in', artifact_input: { artifact_id: 424242, name: 'src' } }, { id: 't', task: {} }] },
  });
  assert.equal(bad.statusCode, 400);
  assert.deepEqual(bad.json(), {
    errors: [
      'body.do[1].task.name: required: a non-empty string',
      'body.do[1].task: needs config (inline) or config_path',
      'body.do[0].artifact_input.artifact_id: artifact 424242 not found in team main',
    ],
    code: 'JW_INVALID_PLAN',
  });
  const empty = await api.app.inject({ method: 'POST', url: '/api/v1/teams/main/builds', headers: { ...api.auth(), 'content-type': 'application/json' }, payload: 'null' });
  assert.equal(empty.statusCode, 400);
  const noEngine = await startApi({}, node.tdb);
  try {
    const res = await noEngine.app.inject({
      method: 'POST',
      url: '/api/v1/teams/main/builds',
      headers: noEngine.auth(),
      payload: { id: 'a', task: { name: 't', config: { platform: 'linux', run: { path: 'true' } } } },
    });
    assert.equal(res.statusCode, 503);
  } finally {
    await noEngine.close();
  }
  assert.equal(await count(), before);
});

test('one-off builds: an uploaded input in, a task, an output out', async (t) => {
  const up = await upload(await tarball({ 'hello.txt': 'hello from the client\n' }), 'application/gzip');
  const artifactId = (up.json() as { id: number }).id;
  const plan = {
    id: 'root',
    ensure: {
      step: {
        id: 'main',
        do: [
          { id: 'in', artifact_input: { artifact_id: artifactId, name: 'src' } },
          {
            id: 'task',
            task: {
              name: 'one-off',
              config: {
                platform: 'linux',
                inputs: [{ name: 'src' }],
                outputs: [{ name: 'out' }],
                run: { path: 'sh', args: ['-c', 'cat src/hello.txt && tr a-z A-Z < src/hello.txt > out/shout.txt'] },
              },
            },
          },
        ],
      },
      ensure: { id: 'out', artifact_output: { name: 'out' } },
    },
  };
  const res = await api.app.inject({ method: 'POST', url: '/api/v1/teams/main/builds', headers: api.auth(), payload: plan });
  assert.equal(res.statusCode, 201, res.body);
  const build = res.json() as { id: number; name: string; status: string; job_name?: string; created_by: string };
  assert.equal(build.name, String(build.id));
  assert.equal(build.status, 'started');
  assert.equal(build.job_name, undefined);
  assert.equal(build.created_by, 'admin');
  await node.engine.wait(build.id);
  const done = await api.app.inject({ url: `/api/v1/builds/${build.id}`, headers: api.auth() });
  const logs = await node.logs(build.id);
  if ((done.json() as { status: string }).status !== 'succeeded' && /artifact/.test(logs)) {
    t.diagnostic(`the engine's artifact steps failed: ${logs}`);
  }
  assert.equal((done.json() as { status: string }).status, 'succeeded', logs);
  assert.match(logs, /hello from the client/);

  const list = await api.app.inject({ url: `/api/v1/builds/${build.id}/artifacts`, headers: api.auth() });
  const out = (list.json() as { id: number; name: string }[]).find((a) => a.name === 'out');
  assert.ok(out, list.body);
  const got = await api.app.inject({ url: `/api/v1/teams/main/artifacts/${out.id}`, headers: api.auth() });
  assert.equal(got.statusCode, 200);
  assert.deepEqual(await untar(got.rawPayload), { 'shout.txt': 'HELLO FROM THE CLIENT\n' });
});
