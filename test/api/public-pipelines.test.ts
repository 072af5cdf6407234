// Public pipelines (expose-pipeline), with Concourse's rules (atc/wrappa/api_auth_wrappa.go,
// atc/api/auth): anyone reads a public pipeline, its jobs, their builds, its resources and their
// versions (metadata only of resources with `public: true`), a build's plan and events only when
// its job is `public: true` too; everything else still needs a login, and a pipeline that is not
// public answers 401 without one (whether it exists or not) and 403 to a user of other teams.
// One test per request, each saying who asks.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { LocalAuth } from '../../src/api/index.ts';
import { startApi, PASSWORD, type TestApi } from './helpers.ts';
import { startTestNode, type TestNode } from '../support/node.ts';
import { findResourceView } from '../../src/db/views.ts';
import { saveVersions } from '../../src/db/versions.ts';
import { finishInMemoryCheck, startInMemoryCheck } from '../../src/db/in-memory-checks.ts';

const OPEN = `resources:
- name: repo
  type: mock
  source: {initial_version: v1}
- name: shown
  type: mock
  public: true
  source: {initial_version: s1}
jobs:
- name: pub
  public: true
  plan:
  - get: repo
  - get: shown
  - task: hello
    config: {platform: linux, run: {path: echo, args: [public output]}}
- name: priv
  plan:
  - get: repo
  - task: hello
    config: {platform: linux, run: {path: echo, args: [private output]}}
`;
const CLOSED = `jobs:
- name: secret
  plan:
  - task: hello
    config: {platform: linux, run: {path: echo, args: [secret output]}}
`;

let node: TestNode;
let api: TestApi;
let outsider: string;
const ids = { pub: 0, priv: 0, closed: 0, version: 0, inMemoryCheck: 0 };
const open = '/api/v1/teams/main/pipelines/open';

before(async () => {
  node = await startTestNode();
  // admin owns team main; outsider only logs in (no role in main)
  api = await startApi({ auth: new LocalAuth({ users: [`admin:${PASSWORD}`, `outsider:${PASSWORD}`], mainTeamUsers: ['admin'] }) }, node.tdb);
  const login = await api.app.inject({ method: 'POST', url: '/api/v1/token', payload: { username: 'outsider', password: PASSWORD } });
  outsider = (login.json() as { access_token: string }).access_token;
  const openId = await node.setPipeline('open', OPEN);
  const closedId = await node.setPipeline('closed', CLOSED);
  await node.checkResource(openId, 'repo');
  await node.checkResource(openId, 'shown');
  // metadata as a put records it (a check's versions have none)
  for (const [name, version, metadata] of [['repo', 'v1', { name: 'commit', value: 'abc123' }], ['shown', 's1', { name: 'author', value: 'alice' }]] as const) {
    const r = await findResourceView(node.tdb.db, openId, name);
    await saveVersions(node.tdb.db, r!.scopeId!, [{ version: { version }, metadata: [metadata] }]);
  }
  ids.pub = (await node.trigger(openId, 'pub')).id;
  ids.priv = (await node.trigger(openId, 'priv')).id;
  ids.closed = (await node.trigger(closedId, 'secret')).id;
  // a periodic check of repo that ran in memory (no build row): the API answers it as a check build
  const repo = (await node.tdb.db.query<{ id: number; config: unknown }>(`SELECT id, config FROM resources WHERE pipeline_id = $1 AND name = 'repo'`, [openId])).rows[0]!;
  ids.inMemoryCheck = (await startInMemoryCheck(node.tdb.db, repo.id, repo.config, 60_000))!.id;
  await finishInMemoryCheck(node.tdb.db, repo.id, ids.inMemoryCheck, 'succeeded');
  const exposed = await api.app.inject({ method: 'PUT', url: `${open}/expose`, headers: api.auth() });
  assert.equal(exposed.statusCode, 200, exposed.body);
  base = await api.app.listen({ host: '127.0.0.1', port: 0 });
  const versions = await api.app.inject({ method: 'GET', url: `${open}/resources/repo/versions`, headers: api.auth() });
  ids.version = (versions.json() as { id: number }[])[0]!.id;
});
after(async () => {
  await api.close();
  await node.stop();
});

type Who = 'anonymous' | 'outsider' | 'member';
const headers = (who: Who): Record<string, string> => (who === 'anonymous' ? {} : who === 'outsider' ? api.auth(outsider) : api.auth());
let base = '';
/**
 * A request as `who`; an event stream over a real socket (it stays open after its end event, so
 * it is read until then and dropped).
 */
async function request(who: Who, method: 'GET' | 'PUT' | 'POST', url: string): Promise<{ statusCode: number; body: string; json(): unknown }> {
  if (!url.endsWith('/events')) return api.app.inject({ method, url, headers: headers(who) });
  const abort = new AbortController();
  const res = await fetch(`${base}${url}`, { headers: headers(who), signal: abort.signal });
  let body = '';
  if (res.ok && res.body) {
    const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
    const deadline = Date.now() + 20_000;
    while (!body.includes('event: end') && Date.now() < deadline) {
      const { done, value } = await reader.read();
      if (done) break;
      body += value;
    }
  } else body = await res.text();
  abort.abort();
  return { statusCode: res.status, body, json: () => JSON.parse(body) as unknown };
}

const rows: { who: Who; method: 'GET' | 'PUT' | 'POST'; url: () => string; status: number; why: string }[] = [
  // reading a public pipeline
  { who: 'anonymous', method: 'GET', url: () => open, status: 200, why: 'the pipeline' },
  { who: 'anonymous', method: 'GET', url: () => `${open}/jobs`, status: 200, why: 'its jobs' },
  { who: 'anonymous', method: 'GET', url: () => `${open}/jobs/priv`, status: 200, why: 'a private job of it (not its builds)' },
  { who: 'anonymous', method: 'GET', url: () => `${open}/jobs/priv/builds`, status: 200, why: "a private job's list of builds" },
  { who: 'anonymous', method: 'GET', url: () => `${open}/jobs/pub/builds/1`, status: 200, why: 'a build of a job by name' },
  { who: 'anonymous', method: 'GET', url: () => `${open}/builds`, status: 200, why: "the pipeline's builds" },
  { who: 'anonymous', method: 'GET', url: () => `${open}/resources`, status: 200, why: 'its resources' },
  { who: 'anonymous', method: 'GET', url: () => `${open}/resources/repo`, status: 200, why: 'a resource' },
  { who: 'anonymous', method: 'GET', url: () => `${open}/resource-types`, status: 200, why: 'its resource types' },
  { who: 'anonymous', method: 'GET', url: () => `${open}/resources/repo/versions`, status: 200, why: "a resource's versions" },
  { who: 'anonymous', method: 'GET', url: () => `${open}/resources/repo/versions/${ids.version}/input_to`, status: 200, why: 'the builds a version went into' },
  { who: 'anonymous', method: 'GET', url: () => `${open}/resources/repo/versions/${ids.version}/output_of`, status: 200, why: 'the builds a version came out of' },
  { who: 'anonymous', method: 'GET', url: () => `/api/v1/builds/${ids.pub}`, status: 200, why: "a public job's build" },
  { who: 'anonymous', method: 'GET', url: () => `/api/v1/builds/${ids.pub}/plan`, status: 200, why: "a public job's build plan" },
  { who: 'anonymous', method: 'GET', url: () => `/api/v1/builds/${ids.pub}/events`, status: 200, why: "a public job's build events" },
  { who: 'anonymous', method: 'GET', url: () => `/api/v1/builds/${ids.pub}/preparation`, status: 200, why: "a public job's build preparation" },
  { who: 'anonymous', method: 'GET', url: () => `/api/v1/builds/${ids.pub}/resources`, status: 200, why: "a public job's build inputs and outputs" },
  { who: 'anonymous', method: 'GET', url: () => `/api/v1/builds/${ids.priv}`, status: 200, why: "a private job's build record (as Concourse: any job of a public pipeline)" },
  { who: 'anonymous', method: 'GET', url: () => `/api/v1/builds/${ids.priv}/resources`, status: 200, why: "a private job's build inputs (as Concourse)" },
  // what still needs a login, in a public pipeline
  { who: 'anonymous', method: 'GET', url: () => `/api/v1/builds/${ids.priv}/events`, status: 401, why: "a private job's build log" },
  { who: 'anonymous', method: 'GET', url: () => `/api/v1/builds/${ids.priv}/plan`, status: 401, why: "a private job's build plan" },
  { who: 'anonymous', method: 'GET', url: () => `/api/v1/builds/${ids.priv}/preparation`, status: 401, why: "a private job's build preparation" },
  { who: 'anonymous', method: 'GET', url: () => `${open}/config`, status: 401, why: 'the config' },
  { who: 'anonymous', method: 'GET', url: () => `${open}/jobs/pub/inputs`, status: 401, why: "a job's next inputs" },
  { who: 'anonymous', method: 'GET', url: () => `${open}/resources/repo/shared`, status: 401, why: "a resource's sharers" },
  { who: 'anonymous', method: 'PUT', url: () => `${open}/pause`, status: 401, why: 'pausing it' },
  { who: 'anonymous', method: 'POST', url: () => `${open}/jobs/pub/builds`, status: 401, why: 'triggering a job' },
  { who: 'anonymous', method: 'PUT', url: () => `/api/v1/builds/${ids.pub}/abort`, status: 401, why: 'aborting a build' },
  { who: 'anonymous', method: 'POST', url: () => `${open}/resources/repo/check`, status: 401, why: 'checking a resource' },
  { who: 'anonymous', method: 'PUT', url: () => `${open}/resources/repo/versions/${ids.version}/pin`, status: 401, why: 'pinning a version' },
  { who: 'anonymous', method: 'GET', url: () => '/api/v1/teams', status: 401, why: 'the teams' },
  { who: 'anonymous', method: 'GET', url: () => '/api/v1/builds', status: 401, why: 'all builds' },
  // a pipeline that is not public
  { who: 'anonymous', method: 'GET', url: () => '/api/v1/teams/main/pipelines/closed', status: 401, why: 'a pipeline that is not public' },
  { who: 'anonymous', method: 'GET', url: () => '/api/v1/teams/main/pipelines/nowhere', status: 401, why: 'a pipeline that does not exist (not told apart)' },
  { who: 'anonymous', method: 'GET', url: () => '/api/v1/teams/main/pipelines/closed/jobs', status: 401, why: "a hidden pipeline's jobs" },
  { who: 'anonymous', method: 'GET', url: () => `/api/v1/builds/${ids.closed}`, status: 401, why: "a hidden pipeline's build" },
  { who: 'anonymous', method: 'GET', url: () => `/api/v1/builds/${ids.closed}/events`, status: 401, why: "a hidden pipeline's build log" },
  { who: 'anonymous', method: 'GET', url: () => `/api/v1/builds/${ids.inMemoryCheck}`, status: 200, why: "an in-memory check of a public pipeline's resource (as its check builds)" },
  { who: 'anonymous', method: 'GET', url: () => `/api/v1/builds/${ids.inMemoryCheck}/events`, status: 401, why: "an in-memory check's events" },
  { who: 'anonymous', method: 'GET', url: () => '/api/v1/builds/2147483000', status: 401, why: 'a build that does not exist, in memory or not (not told apart)' },
  // a user of other teams
  { who: 'outsider', method: 'GET', url: () => `/api/v1/builds/${ids.inMemoryCheck}/events`, status: 403, why: "an in-memory check's events" },
  { who: 'outsider', method: 'GET', url: () => open, status: 200, why: 'the public pipeline' },
  { who: 'outsider', method: 'GET', url: () => `/api/v1/builds/${ids.pub}/events`, status: 200, why: "a public job's build events" },
  { who: 'outsider', method: 'GET', url: () => `/api/v1/builds/${ids.priv}/events`, status: 403, why: "a private job's build log" },
  { who: 'outsider', method: 'GET', url: () => '/api/v1/teams/main/pipelines/closed', status: 403, why: 'a pipeline that is not public' },
  { who: 'outsider', method: 'GET', url: () => `/api/v1/builds/${ids.closed}`, status: 403, why: "a hidden pipeline's build" },
  { who: 'outsider', method: 'PUT', url: () => `${open}/pause`, status: 403, why: 'pausing the public pipeline' },
  { who: 'outsider', method: 'POST', url: () => `${open}/jobs/pub/builds`, status: 403, why: 'triggering a public job' },
  // the team's own
  { who: 'member', method: 'GET', url: () => `/api/v1/builds/${ids.inMemoryCheck}`, status: 200, why: 'an in-memory check' },
  { who: 'member', method: 'GET', url: () => `/api/v1/builds/${ids.inMemoryCheck}/events`, status: 200, why: "an in-memory check's events (none: its stream ends)" },
  { who: 'member', method: 'GET', url: () => `/api/v1/builds/${ids.priv}/events`, status: 200, why: "a private job's build log" },
  { who: 'member', method: 'GET', url: () => '/api/v1/teams/main/pipelines/closed', status: 200, why: 'a pipeline that is not public' },
];

for (const row of rows) {
  test(`${row.who}: ${row.method} ${row.why} answers ${row.status}`, async () => {
    const res = await request(row.who, row.method, row.url());
    assert.equal(res.statusCode, row.status, `${row.method} ${row.url()}: ${res.body.slice(0, 300)}`);
  });
}

const names = async (who: Who, url: string): Promise<string[]> => {
  const res = await request(who, 'GET', url);
  assert.equal(res.statusCode, 200, res.body);
  return (res.json() as { name: string }[]).map((p) => p.name).sort();
};

test('without a login, the pipelines listed are the public ones', async () => {
  assert.deepEqual(await names('anonymous', '/api/v1/pipelines'), ['open']);
  assert.deepEqual(await names('anonymous', '/api/v1/teams/main/pipelines'), ['open']);
});

test("a user of other teams is listed the public pipelines of a team it is not in", async () => {
  assert.deepEqual(await names('outsider', '/api/v1/pipelines'), ['open']);
  assert.deepEqual(await names('outsider', '/api/v1/teams/main/pipelines'), ['open']);
});

test("the team's member is listed all of its pipelines", async () => {
  assert.deepEqual(await names('member', '/api/v1/pipelines'), ['closed', 'open']);
});

type VersionJson = { version: Record<string, string>; metadata: { name: string; value: string }[] | null };
const versions = async (who: Who, resource: string): Promise<VersionJson[]> => (await request(who, 'GET', `${open}/resources/${resource}/versions`)).json() as VersionJson[];

test("outside the team, a version's metadata is hidden unless its resource is public: true", async () => {
  assert.deepEqual((await versions('member', 'repo'))[0]!.metadata, [{ name: 'commit', value: 'abc123' }], 'the member sees it (so hiding it is a choice)');
  assert.equal((await versions('anonymous', 'repo'))[0]!.metadata, null);
  assert.equal((await versions('outsider', 'repo'))[0]!.metadata, null);
  assert.deepEqual((await versions('anonymous', 'shown'))[0]!.metadata, [{ name: 'author', value: 'alice' }]);
});

test("a public job's build log is streamed without a login", async () => {
  const res = await request('anonymous', 'GET', `/api/v1/builds/${ids.pub}/events`);
  assert.match(res.body, /public output/);
});

test('once hidden again, the pipeline needs a login', async () => {
  const hidden = await request('member', 'PUT', `${open}/hide`);
  assert.equal(hidden.statusCode, 200, hidden.body);
  try {
    assert.equal((await request('anonymous', 'GET', open)).statusCode, 401);
    assert.equal((await request('anonymous', 'GET', `/api/v1/builds/${ids.pub}/events`)).statusCode, 401);
    assert.deepEqual(await names('anonymous', '/api/v1/pipelines'), []);
  } finally {
    await request('member', 'PUT', `${open}/expose`);
  }
});

test("member: an in-memory check reads as a succeeded check build of its resource", async () => {
  const res = await request('member', 'GET', `/api/v1/builds/${ids.inMemoryCheck}`);
  const b = res.json() as { id: number; name: string; status: string; team_name: string; pipeline_name: string; resource_name?: string };
  assert.deepEqual([b.id, b.name, b.status, b.team_name, b.pipeline_name], [ids.inMemoryCheck, 'check', 'succeeded', 'main', 'open']);
});
