// Concourse's routes beyond a pipeline's own (issue 21; docs/concourse-compatibility.md), each
// test naming the Concourse source it follows: GET /jobs and /resources across pipelines, one
// resource version and its causality, build comments, the wall, the log level, the users who
// logged in, workers/containers/volumes, and GET /builds's visibility, dated form and Link headers.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { LocalAuth } from '../../src/api/index.ts';
import { LiveLogLevel } from '../../src/api/log-level.ts';
import { createManualBuild } from '../../src/db/builds.ts';
import { registerWebNode } from '../../src/db/cluster.ts';
import { findOrCreateResourceConfig, findOrCreateScope, saveVersions, setResourceScope } from '../../src/db/versions.ts';
import type { InterceptableContainer } from '../../src/runtime/runtime.ts';
import { startApi, PASSWORD, type TestApi } from './helpers.ts';

const CONFIG = `resources:
- name: repo
  type: mock
  source: {}
- name: image
  type: mock
  public: false
  source: {}
- name: other
  type: mock
  source: {}
jobs:
- name: unit
  plan:
  - get: repo
  - put: image
- name: ship
  plan:
  - get: image
    passed: [unit]
  - get: other
`;

let api: TestApi;
let otherToken: string;
const level = new LiveLogLevel('info');
const base = '/api/v1/teams/main/pipelines/demo';
const ids: Record<string, number> = {};
const containers = new Map<number, InterceptableContainer[]>();

async function login(user: string, password: string): Promise<string> {
  const res = await api.app.inject({ method: 'POST', url: '/api/v1/token', payload: { username: user, password } });
  assert.equal(res.statusCode, 200, res.body);
  return (res.json() as { access_token: string }).access_token;
}

const q = async <T>(sql: string, params: unknown[] = []): Promise<T[]> => (await api.t.db.query<T & Record<string, unknown>>(sql, params)).rows;

before(async () => {
  api = await startApi({
    // admin is the only owner of team main; `other` holds no role anywhere
    auth: new LocalAuth({ users: [`admin:${PASSWORD}`, 'other:pw:with:colons'], mainTeamUsers: ['admin'] }),
    logLevel: level,
    credentialManagersInfo: { kubernetes: { in_cluster_config: true, config_path: '', namespace_config: 'concourse-', namespace_shared_config: '' } },
    runtime: { name: 'kubernetes', interceptableContainers: async (id: number) => containers.get(id) ?? [], containerBuildIds: async () => [...containers.keys()] },
  });
  otherToken = await login('other', 'pw:with:colons');
  const res = await api.app.inject({
    method: 'PUT',
    url: `${base}/config`,
    headers: { ...api.auth(), 'content-type': 'application/x-yaml', 'x-concourse-config-version': '0' },
    payload: CONFIG,
  });
  assert.equal(res.statusCode, 201, res.body);
  // versions: repo r1, r2; image i1; other o1
  for (const [name, refs] of [['repo', ['r1', 'r2']], ['image', ['i1']], ['other', ['o1']]] as const) {
    const rid = (await q<{ id: number }>('SELECT id FROM resources WHERE name = $1', [name]))[0]!.id;
    ids[name] = rid;
    const cfg = await findOrCreateResourceConfig(api.t.db, { baseType: 'mock' }, { name });
    const scope = await findOrCreateScope(api.t.db, cfg.id, rid);
    await setResourceScope(api.t.db, rid, scope);
    for (const ref of refs) await saveVersions(api.t.db, scope.id, [{ version: { ref }, metadata: [{ name: 'm', value: `meta-${ref}` }] }]);
  }
  for (const row of await q<{ id: number; ref: string }>("SELECT id, version->>'ref' AS ref FROM resource_config_versions")) ids[row.ref] = row.id;
  for (const row of await q<{ id: number; name: string }>('SELECT id, name FROM jobs')) ids[row.name] = row.id;
  // unit #1 took repo r1 and put image i1; ship #1 took image i1 and other o1
  const unit = await createManualBuild(api.t.db, ids.unit!);
  const ship = await createManualBuild(api.t.db, ids.ship!);
  ids.unitBuild = unit.id;
  ids.shipBuild = ship.id;
  const io = async (table: 'inputs' | 'outputs', build: number, resource: string, ref: string, name: string) =>
    api.t.db.query(
      `INSERT INTO build_resource_config_version_${table} (build_id, resource_id, version_digest, name)
       SELECT $1, $2, version_sha256, $4 FROM resource_config_versions WHERE version->>'ref' = $3`,
      [build, ids[resource], ref, name],
    );
  await io('inputs', unit.id, 'repo', 'r1', 'repo');
  await io('outputs', unit.id, 'image', 'i1', 'image');
  await io('inputs', ship.id, 'image', 'i1', 'image');
  await io('inputs', ship.id, 'other', 'o1', 'other');
});
after(async () => {
  await api.close();
});

const anon = {};
const asOther = () => ({ authorization: `Bearer ${otherToken}` });
const sortById = <T extends { id: number }>(xs: T[]): T[] => [...xs].sort((a, b) => a.id - b.id);

// ---------------------------------------------------------------- GET /jobs, GET /resources
// atc/api/jobserver/list_all.go, resourceserver/list_all.go: the caller's teams' and public pipelines'

test('GET /api/v1/jobs: every job the caller may see; a public pipeline\'s to anyone', async () => {
  const mine = await api.app.inject({ url: '/api/v1/jobs', headers: api.auth() });
  assert.equal(mine.statusCode, 200);
  assert.deepEqual((mine.json() as { name: string; pipeline_name: string; team_name: string }[]).map((j) => `${j.team_name}/${j.pipeline_name}/${j.name}`), ['main/demo/unit', 'main/demo/ship']);
  // each job as atc.JobSummary: its builds as atc.BuildSummary, inputs (with passed) and outputs,
  // empty fields left out (Go's omitempty)
  const pid = (await q<{ id: number }>("SELECT id FROM pipelines WHERE name = 'demo'"))[0]!.id;
  const summary = (job: string, build: number) => ({ id: build, name: '1', status: 'pending', team_name: 'main', pipeline_id: pid, pipeline_name: 'demo', job_name: job });
  assert.deepEqual(mine.json(), [
    {
      id: ids.unit,
      name: 'unit',
      team_name: 'main',
      pipeline_id: pid,
      pipeline_name: 'demo',
      next_build: summary('unit', ids.unitBuild!),
      inputs: [{ name: 'repo', resource: 'repo' }],
      outputs: [{ name: 'image', resource: 'image' }],
    },
    {
      id: ids.ship,
      name: 'ship',
      team_name: 'main',
      pipeline_id: pid,
      pipeline_name: 'demo',
      next_build: summary('ship', ids.shipBuild!),
      inputs: [
        { name: 'image', resource: 'image', passed: ['unit'] },
        { name: 'other', resource: 'other' },
      ],
    },
  ]);
  const none = await api.app.inject({ url: '/api/v1/jobs', headers: anon });
  assert.deepEqual(none.json(), []);
  const outsider = await api.app.inject({ url: '/api/v1/jobs', headers: asOther() });
  assert.deepEqual(outsider.json(), []);
});

test('GET /api/v1/resources: every resource the caller may see', async () => {
  const mine = await api.app.inject({ url: '/api/v1/resources', headers: api.auth() });
  assert.equal(mine.statusCode, 200);
  assert.deepEqual((mine.json() as { name: string; pipeline_name: string }[]).map((r) => `${r.pipeline_name}/${r.name}`), ['demo/repo', 'demo/image', 'demo/other']);
  assert.deepEqual((await api.app.inject({ url: '/api/v1/resources' })).json(), []);
});

test('GET /api/v1/jobs and /resources show a public pipeline to anyone', async () => {
  const expose = await api.app.inject({ method: 'PUT', url: `${base}/expose`, headers: api.auth() });
  assert.equal(expose.statusCode, 200);
  try {
    const jobs = await api.app.inject({ url: '/api/v1/jobs' });
    assert.deepEqual((jobs.json() as { name: string }[]).map((j) => j.name), ['unit', 'ship']);
    const resources = await api.app.inject({ url: '/api/v1/resources', headers: asOther() });
    assert.deepEqual((resources.json() as { name: string }[]).map((r) => r.name), ['repo', 'image', 'other']);
    // a public pipeline's version is read by anyone, its metadata only when the resource is public
    const v = await api.app.inject({ url: `${base}/resources/repo/versions/${ids.r1}` });
    assert.equal(v.statusCode, 200);
    assert.deepEqual(v.json(), { id: ids.r1, version: { ref: 'r1' }, metadata: null, enabled: true });
  } finally {
    await api.app.inject({ method: 'PUT', url: `${base}/hide`, headers: api.auth() });
  }
});

// ---------------------------------------------------------------- one version (versionserver/get.go)

test('GET …/resources/:r/versions/:id: the version, its metadata and whether it is enabled', async () => {
  const res = await api.app.inject({ url: `${base}/resources/repo/versions/${ids.r2}`, headers: api.auth() });
  assert.equal(res.statusCode, 200);
  assert.deepEqual(res.json(), { id: ids.r2, version: { ref: 'r2' }, metadata: [{ name: 'm', value: 'meta-r2' }], enabled: true });
  const disable = await api.app.inject({ method: 'PUT', url: `${base}/resources/repo/versions/${ids.r2}/disable`, headers: api.auth() });
  assert.equal(disable.statusCode, 200);
  const after = await api.app.inject({ url: `${base}/resources/repo/versions/${ids.r2}`, headers: api.auth() });
  assert.equal((after.json() as { enabled: boolean }).enabled, false);
});

test("GET …/versions/:id: another resource's version is not found", async () => {
  const res = await api.app.inject({ url: `${base}/resources/repo/versions/${ids.i1}`, headers: api.auth() });
  assert.equal(res.statusCode, 404);
  assert.equal((res.json() as { code: string }).code, 'JW_VERSION_NOT_FOUND');
});

test('GET …/versions/:id: a private pipeline answers 401 without a login and 403 to an outsider', async () => {
  assert.equal((await api.app.inject({ url: `${base}/resources/repo/versions/${ids.r1}` })).statusCode, 401);
  assert.equal((await api.app.inject({ url: `${base}/resources/repo/versions/${ids.r1}`, headers: asOther() })).statusCode, 403);
});

// ---------------------------------------------------------------- causality (versionserver/causality.go, atc/db/resource.go)

test('downstream causality: the builds a version went into, and what they put, onwards', async () => {
  const res = await api.app.inject({ url: `${base}/resources/repo/versions/${ids.r1}/downstream`, headers: api.auth() });
  assert.equal(res.statusCode, 200, res.body);
  const c = res.json() as { jobs: { id: number }[]; builds: { id: number }[]; resources: { id: number }[]; resource_versions: { id: number }[] };
  assert.deepEqual(sortById(c.jobs), sortById([
    { id: ids.unit!, name: 'unit', build_ids: [ids.unitBuild!] },
    { id: ids.ship!, name: 'ship', build_ids: [ids.shipBuild!] },
  ]));
  assert.deepEqual(sortById(c.builds), [
    { id: ids.unitBuild!, name: '1', job_id: ids.unit!, status: 'pending', resource_version_ids: [ids.i1!] },
    // ship's other input (other o1) is not part of r1's story: left out
    { id: ids.shipBuild!, name: '1', job_id: ids.ship!, status: 'pending' },
  ]);
  assert.deepEqual(sortById(c.resources), sortById([
    { id: ids.repo!, name: 'repo', version_ids: [ids.r1!] },
    { id: ids.image!, name: 'image', version_ids: [ids.i1!] },
  ]));
  assert.deepEqual(sortById(c.resource_versions), sortById([
    { id: ids.r1!, resource_id: ids.repo!, version: { ref: 'r1' }, build_ids: [ids.unitBuild!] },
    { id: ids.i1!, resource_id: ids.image!, version: { ref: 'i1' }, build_ids: [ids.shipBuild!] },
  ]));
});

test('upstream causality: the build that put a version, and the versions it took in', async () => {
  const res = await api.app.inject({ url: `${base}/resources/image/versions/${ids.i1}/upstream`, headers: api.auth() });
  assert.equal(res.statusCode, 200, res.body);
  // lists come sorted by id
  assert.deepEqual(res.json(), {
    jobs: [{ id: ids.unit, name: 'unit', build_ids: [ids.unitBuild] }],
    builds: [{ id: ids.unitBuild, name: '1', job_id: ids.unit, status: 'pending', resource_version_ids: [ids.r1] }],
    resources: [
      { id: ids.repo, name: 'repo', version_ids: [ids.r1] },
      { id: ids.image, name: 'image', version_ids: [ids.i1] },
    ],
    resource_versions: [
      { id: ids.r1, resource_id: ids.repo, version: { ref: 'r1' } },
      { id: ids.i1, resource_id: ids.image, version: { ref: 'i1' }, build_ids: [ids.unitBuild] },
    ],
  });
});

test('causality of a version nothing used is empty', async () => {
  const res = await api.app.inject({ url: `${base}/resources/repo/versions/${ids.r2}/downstream`, headers: api.auth() });
  assert.equal(res.statusCode, 200);
  assert.deepEqual(res.json(), { jobs: [], builds: [], resources: [], resource_versions: [] });
});

// ---------------------------------------------------------------- build comments (buildserver/set_comment.go)

test('PUT /builds/:id/comment sets the comment the build then shows', async () => {
  const res = await api.app.inject({ method: 'PUT', url: `/api/v1/builds/${ids.unitBuild}/comment`, headers: api.auth(), payload: { comment: 'flaky: rerun' } });
  assert.equal(res.statusCode, 200, res.body);
  const build = await api.app.inject({ url: `/api/v1/builds/${ids.unitBuild}`, headers: api.auth() });
  assert.equal((build.json() as { comment?: string }).comment, 'flaky: rerun');
});

test('PUT /builds/:id/comment: a body that is not {"comment": string} is 400 and changes nothing', async () => {
  const res = await api.app.inject({ method: 'PUT', url: `/api/v1/builds/${ids.shipBuild}/comment`, headers: api.auth(), payload: { comment: 3 } });
  assert.equal(res.statusCode, 400);
  assert.match(res.body, /body\.comment: must be a string/);
  assert.equal((await q<{ comment: string }>('SELECT comment FROM builds WHERE id = $1', [ids.shipBuild]))[0]!.comment, '');
});

test('PUT /builds/:id/comment: 403 outside the team, 401 without a login, 404 for no build', async () => {
  assert.equal((await api.app.inject({ method: 'PUT', url: `/api/v1/builds/${ids.shipBuild}/comment`, headers: asOther(), payload: { comment: 'x' } })).statusCode, 403);
  assert.equal((await api.app.inject({ method: 'PUT', url: `/api/v1/builds/${ids.shipBuild}/comment`, payload: { comment: 'x' } })).statusCode, 401);
  const missing = await api.app.inject({ method: 'PUT', url: '/api/v1/builds/999999/comment', headers: api.auth(), payload: { comment: 'x' } });
  assert.equal(missing.statusCode, 404);
  assert.equal((await q<{ comment: string }>('SELECT comment FROM builds WHERE id = $1', [ids.shipBuild]))[0]!.comment, '');
});

// ---------------------------------------------------------------- wall (wallserver/wall.go, atc/db/wall.go)

test('wall: anyone reads it, an admin sets it with a TTL in nanoseconds, and clears it', async () => {
  assert.deepEqual((await api.app.inject({ url: '/api/v1/wall' })).json(), {});
  const set = await api.app.inject({ method: 'PUT', url: '/api/v1/wall', headers: api.auth(), payload: { message: 'upgrade at 18:00', TTL: 3_600_000_000_000 } });
  assert.equal(set.statusCode, 200, set.body);
  const wall = (await api.app.inject({ url: '/api/v1/wall' })).json() as { message: string; TTL: number };
  assert.equal(wall.message, 'upgrade at 18:00');
  assert.ok(wall.TTL > 3_500_000_000_000 && wall.TTL <= 3_600_000_000_000, String(wall.TTL));
  const noTtl = await api.app.inject({ method: 'PUT', url: '/api/v1/wall', headers: api.auth(), payload: { message: 'for good' } });
  assert.equal(noTtl.statusCode, 200);
  assert.deepEqual((await api.app.inject({ url: '/api/v1/wall', headers: asOther() })).json(), { message: 'for good' });
  const clear = await api.app.inject({ method: 'DELETE', url: '/api/v1/wall', headers: api.auth() });
  assert.equal(clear.statusCode, 200);
  assert.deepEqual((await api.app.inject({ url: '/api/v1/wall' })).json(), {});
});

test('wall: an expired message reads as none', async () => {
  await api.app.inject({ method: 'PUT', url: '/api/v1/wall', headers: api.auth(), payload: { message: 'soon gone', TTL: 1_000_000 } });
  // 1 ms: expired by the time it is read again (waiting on the condition, not a fixed time)
  for (let i = 0; i < 200; i++) {
    const wall = (await api.app.inject({ url: '/api/v1/wall' })).json() as { message?: string };
    if (wall.message === undefined) return;
    await new Promise((r) => setTimeout(r, 10));
  }
  assert.fail('the expired wall message is still shown');
});

test('wall: only an admin sets or clears it; an empty message is 400', async () => {
  await api.app.inject({ method: 'PUT', url: '/api/v1/wall', headers: api.auth(), payload: { message: 'kept' } });
  const refused = await api.app.inject({ method: 'PUT', url: '/api/v1/wall', headers: asOther(), payload: { message: 'mine' } });
  assert.equal(refused.statusCode, 403);
  assert.match(refused.json<{ error: string }>().error, /^user \S+ cannot PUT \/api\/v1\/wall: only an admin \(an owner of team main\) can$/);
  assert.equal((await api.app.inject({ method: 'DELETE', url: '/api/v1/wall', headers: asOther() })).statusCode, 403);
  assert.equal((await api.app.inject({ method: 'PUT', url: '/api/v1/wall', payload: { message: 'anon' } })).statusCode, 401);
  const empty = await api.app.inject({ method: 'PUT', url: '/api/v1/wall', headers: api.auth(), payload: { message: '' } });
  assert.equal(empty.statusCode, 400);
  assert.match(empty.body, /cannot be empty/);
  assert.deepEqual((await api.app.inject({ url: '/api/v1/wall' })).json(), { message: 'kept' });
  await api.app.inject({ method: 'DELETE', url: '/api/v1/wall', headers: api.auth() });
});

// ---------------------------------------------------------------- log level (loglevelserver/get.go, set.go)

test('log level: an admin reads and sets it as plain text, and it takes effect', async () => {
  const get = await api.app.inject({ url: '/api/v1/log-level', headers: api.auth() });
  assert.equal(get.statusCode, 200);
  assert.equal(get.body, 'info');
  assert.match(String(get.headers['content-type']), /^text\/plain/);
  const set = await api.app.inject({ method: 'PUT', url: '/api/v1/log-level', headers: { ...api.auth(), 'content-type': 'text/plain' }, payload: 'debug' });
  assert.equal(set.statusCode, 200, set.body);
  assert.equal((await api.app.inject({ url: '/api/v1/log-level', headers: api.auth() })).body, 'debug');
  assert.equal(level.get(), 'debug');
  // fly-style clients send no content type at all
  const bare = await api.app.inject({ method: 'PUT', url: '/api/v1/log-level', headers: api.auth(), payload: 'error' });
  assert.equal(bare.statusCode, 200, bare.body);
  assert.equal(level.get(), 'error');
  level.set('info');
});

test('log level: an unknown level is 400 and changes nothing; only an admin may', async () => {
  const bad = await api.app.inject({ method: 'PUT', url: '/api/v1/log-level', headers: { ...api.auth(), 'content-type': 'text/plain' }, payload: 'loud' });
  assert.equal(bad.statusCode, 400);
  assert.match(bad.body, /log level \\"loud\\" is not one of debug, info, error, fatal/);
  assert.equal(level.get(), 'info');
  assert.equal((await api.app.inject({ url: '/api/v1/log-level', headers: asOther() })).statusCode, 403);
  assert.equal((await api.app.inject({ method: 'PUT', url: '/api/v1/log-level', headers: { ...asOther(), 'content-type': 'text/plain' }, payload: 'debug' })).statusCode, 403);
  assert.equal(level.get(), 'info');
});

test("log level: a server without a live level answers 503", async () => {
  const other = await startApi({}, api.t);
  try {
    const res = await other.app.inject({ url: '/api/v1/log-level', headers: other.auth() });
    assert.equal(res.statusCode, 503);
    assert.equal((res.json() as { code: string }).code, 'JW_UNAVAILABLE');
  } finally {
    await other.close();
  }
});

// ---------------------------------------------------------------- credential managers (infoserver/creds.go)

test('GET /info/creds: an admin reads the configured managers by name; others get 403; none configured is {}', async () => {
  const res = await api.app.inject({ url: '/api/v1/info/creds', headers: api.auth() });
  assert.equal(res.statusCode, 200, res.body);
  assert.deepEqual(res.json(), { kubernetes: { in_cluster_config: true, config_path: '', namespace_config: 'concourse-', namespace_shared_config: '' } });
  assert.equal((await api.app.inject({ url: '/api/v1/info/creds', headers: asOther() })).statusCode, 403);
  assert.equal((await api.app.inject({ url: '/api/v1/info/creds', headers: anon })).statusCode, 401);
  const bare = await startApi({}, api.t);
  try {
    const none = await bare.app.inject({ url: '/api/v1/info/creds', headers: bare.auth() });
    assert.equal(none.statusCode, 200);
    assert.deepEqual(none.json(), {});
  } finally {
    await bare.close();
  }
});

// ---------------------------------------------------------------- users (usersserver/get_since.go)

test('GET /users: the users who logged in, with the time of their last login', async () => {
  const res = await api.app.inject({ url: '/api/v1/users', headers: api.auth() });
  assert.equal(res.statusCode, 200);
  const users = res.json() as { username: string; connector: string; last_login: number }[];
  assert.deepEqual(users.map((u) => u.username).sort(), ['admin', 'other']);
  for (const u of users) {
    assert.equal(u.connector, 'local');
    assert.ok(Math.abs(u.last_login - Date.now() / 1000) < 600, String(u.last_login));
  }
  assert.deepEqual((await api.app.inject({ url: '/api/v1/users?since=2999-01-01', headers: api.auth() })).json(), []);
  assert.equal((await api.app.inject({ url: '/api/v1/users?since=2000-01-01', headers: api.auth() })).json().length, 2);
});

test('GET /users: a bad date is 400; only an admin may list', async () => {
  const bad = await api.app.inject({ url: '/api/v1/users?since=01/02/2020', headers: api.auth() });
  assert.equal(bad.statusCode, 400);
  assert.match(bad.body, /yyyy-mm-dd/);
  assert.equal((await api.app.inject({ url: '/api/v1/users', headers: asOther() })).statusCode, 403);
});

// ---------------------------------------------------------------- workers, containers, volumes

test('GET /workers: each web node as one worker (workerserver/list.go)', async () => {
  await registerWebNode(api.t.db, 'web-0', 'inc-1');
  const res = await api.app.inject({ url: '/api/v1/workers', headers: api.auth() });
  assert.equal(res.statusCode, 200);
  const [w, ...rest] = res.json() as Record<string, unknown>[];
  assert.equal(rest.length, 0);
  assert.equal(w?.name, 'web-0');
  assert.equal(w?.state, 'running');
  assert.equal(w?.platform, 'linux');
  assert.equal(w?.runtime, 'kubernetes');
  assert.ok((w?.resource_types as { type: string }[]).some((t) => t.type === 'git'));
  // an outsider holds no role in any team (CheckAnyTeamAccessHandler)
  assert.equal((await api.app.inject({ url: '/api/v1/workers', headers: asOther() })).statusCode, 403);
});

test("GET /teams/:team/containers: a failed step's container kept for intercept is listed after its build ended", async () => {
  const build = await createManualBuild(api.t.db, ids.unit!);
  await api.t.db.query("UPDATE builds SET status = 'failed', end_time = now() WHERE id = $1", [build.id]);
  containers.set(build.id, [{ handle: 'h-kept', step: 'test', type: 'task', state: 'failed', name: 'jw-kept', workDir: '/tmp/kept' }]);
  // a build id that does not exist (deleted meanwhile) lists nothing and fails nothing
  containers.set(999_999, [{ handle: 'h-ghost', step: 'x', type: 'task', state: 'failed', name: 'jw-ghost', workDir: '/tmp/x' }]);
  try {
    const res = await api.app.inject({ url: '/api/v1/teams/main/containers', headers: api.auth() });
    assert.equal(res.statusCode, 200);
    const list = res.json() as { id: string; state: string; build_id: number; step_name: string }[];
    assert.deepEqual(
      list.map((c) => [c.id, c.state, c.build_id, c.step_name]),
      [['h-kept', 'failed', build.id, 'test']],
    );
    const one = await api.app.inject({ url: '/api/v1/teams/main/containers/h-kept', headers: api.auth() });
    assert.equal(one.statusCode, 200);
    assert.equal((one.json() as { build_id: number }).build_id, build.id);
  } finally {
    containers.clear();
    // the GET /builds tests below count the builds
    await api.t.db.query('DELETE FROM builds WHERE id = $1', [build.id]);
  }
});

test("GET /teams/:team/containers: the containers of the team's running builds (containerserver/list.go)", async () => {
  containers.set(ids.unitBuild!, [{ handle: 'h-1', step: 'repo', type: 'get', state: 'running', name: 'pod-1', workDir: '/tmp/build' }]);
  try {
    const res = await api.app.inject({ url: '/api/v1/teams/main/containers', headers: api.auth() });
    assert.equal(res.statusCode, 200);
    assert.deepEqual(res.json(), [
      {
        id: 'h-1',
        worker_name: 'pod-1',
        state: 'created',
        type: 'get',
        step_name: 'repo',
        build_id: ids.unitBuild,
        build_name: '1',
        pipeline_id: (await q<{ id: number }>("SELECT id FROM pipelines WHERE name = 'demo'"))[0]!.id,
        pipeline_name: 'demo',
        job_id: ids.unit,
        job_name: 'unit',
        working_directory: '/tmp/build',
      },
    ]);
    const one = await api.app.inject({ url: '/api/v1/teams/main/containers/h-1', headers: api.auth() });
    assert.equal((one.json() as { id: string }).id, 'h-1');
    assert.equal((await api.app.inject({ url: '/api/v1/teams/main/containers/h-2', headers: api.auth() })).statusCode, 404);
    assert.equal((await api.app.inject({ url: '/api/v1/teams/main/containers', headers: asOther() })).statusCode, 403);
  } finally {
    containers.clear();
  }
});

// fly intercept -j demo/unit -s repo sends these (fly/commands/hijack.go stepContainerLocator) and
// enters a sole match without asking; Concourse filters them (containerserver/list.go)
test("GET /teams/:team/containers reads Concourse's filters: fly intercept's query finds its job's container, never another job's", async () => {
  containers.set(ids.unitBuild!, [{ handle: 'h-unit', step: 'repo', type: 'get', state: 'running', name: 'pod-1', workDir: '/tmp/build' }]);
  containers.set(ids.shipBuild!, [{ handle: 'h-ship', step: 'image', type: 'get', state: 'running', name: 'pod-2', workDir: '/tmp/build' }]);
  const list = async (query: string): Promise<string[]> => {
    const res = await api.app.inject({ url: `/api/v1/teams/main/containers?${query}`, headers: api.auth() });
    assert.equal(res.statusCode, 200, res.body);
    return (res.json() as { id: string }[]).map((c) => c.id).sort();
  };
  try {
    assert.deepEqual(await list(''), ['h-ship', 'h-unit']);
    assert.deepEqual(await list('pipeline_name=demo&job_name=unit&step_name=repo'), ['h-unit']);
    assert.deepEqual(await list('pipeline_name=demo&job_name=ship&build_name=1'), ['h-ship']);
    assert.deepEqual(await list(`build_id=${ids.shipBuild}&type=get`), ['h-ship']);
    assert.deepEqual(await list('pipeline_name=demo&job_name=unit&type=task'), []);
    const bad = await api.app.inject({ url: '/api/v1/teams/main/containers?type=volume', headers: api.auth() });
    assert.equal(bad.statusCode, 400);
    assert.match(bad.body, /unrecognized containerType: volume/);
  } finally {
    containers.clear();
  }
});

test('GET /teams/:team/volumes: empty (Jetway keeps no worker volumes)', async () => {
  const res = await api.app.inject({ url: '/api/v1/teams/main/volumes', headers: api.auth() });
  assert.equal(res.statusCode, 200);
  assert.deepEqual(res.json(), []);
});

// ---------------------------------------------------------------- GET /builds (buildserver/list.go, atc/db/build_factory.go)

test('GET /builds: absolute Link headers as Concourse sends them (from/to/limit)', async () => {
  const first = await api.app.inject({ url: '/api/v1/builds?limit=1', headers: api.auth() });
  assert.equal(first.statusCode, 200);
  assert.deepEqual((first.json() as { id: number }[]).map((b) => b.id), [ids.shipBuild]);
  assert.equal(first.headers.link, `<http://jetway.example:8080/api/v1/builds?to=${ids.unitBuild}&limit=1>; rel="next"`);
  const second = await api.app.inject({ url: `/api/v1/builds?to=${ids.unitBuild}&limit=1`, headers: api.auth() });
  assert.deepEqual((second.json() as { id: number }[]).map((b) => b.id), [ids.unitBuild]);
  assert.equal(second.headers.link, `<http://jetway.example:8080/api/v1/builds?from=${ids.shipBuild}&limit=1>; rel="previous"`);
});

test('GET /builds?timestamps=true: from/to are start times (fly builds --since/--until)', async () => {
  await api.t.db.query("UPDATE builds SET start_time = to_timestamp(1700000000) WHERE id = $1", [ids.unitBuild]);
  await api.t.db.query("UPDATE builds SET start_time = to_timestamp(1700000100) WHERE id = $1", [ids.shipBuild]);
  const list = async (query: string): Promise<number[]> => {
    const res = await api.app.inject({ url: `/api/v1/builds?timestamps=true&${query}`, headers: api.auth() });
    assert.equal(res.statusCode, 200, res.body);
    assert.equal(res.headers.link, undefined);
    return (res.json() as { id: number }[]).map((b) => b.id);
  };
  assert.deepEqual(await list('from=1700000050'), [ids.shipBuild]);
  assert.deepEqual(await list('to=1700000050'), [ids.unitBuild]);
  assert.deepEqual(await list('from=1700000000&to=1700000100'), [ids.shipBuild, ids.unitBuild]);
  assert.deepEqual(await list('from=1700000101'), []);
});

test("GET /builds: an outsider sees a public pipeline's builds only", async () => {
  assert.deepEqual((await api.app.inject({ url: '/api/v1/builds', headers: asOther() })).json(), []);
  await api.app.inject({ method: 'PUT', url: `${base}/expose`, headers: api.auth() });
  try {
    const res = await api.app.inject({ url: '/api/v1/builds', headers: asOther() });
    assert.deepEqual((res.json() as { id: number }[]).map((b) => b.id), [ids.shipBuild, ids.unitBuild]);
  } finally {
    await api.app.inject({ method: 'PUT', url: `${base}/hide`, headers: api.auth() });
  }
});

