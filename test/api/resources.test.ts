import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startApi, PIPELINE, type TestApi } from './helpers.ts';
import { findOrCreateResourceConfig, findOrCreateScope, saveVersions, setResourceScope } from '../../src/db/versions.ts';

let api: TestApi;
const base = '/api/v1/teams/main/pipelines/demo';
before(async () => {
  api = await startApi();
  const res = await api.app.inject({
    method: 'PUT',
    url: `${base}/config`,
    headers: { ...api.auth(), 'content-type': 'application/x-yaml', 'x-concourse-config-version': '0' },
    payload: PIPELINE.replace('type: mock\n  source: {}', 'type: mock\n  icon: docker\n  source: {}\n  version: {ref: "3"}'),
  });
  assert.equal(res.statusCode, 201, res.body);
  // ten versions of repo: ref 1 … 10, checked in order (10 newest)
  const rid = (await api.t.db.query<{ id: number }>(`SELECT id FROM resources WHERE name = 'repo'`)).rows[0]!.id;
  const cfg = await findOrCreateResourceConfig(api.t.db, { baseType: 'mock' }, { uri: 'x' });
  const scope = await findOrCreateScope(api.t.db, cfg.id, rid);
  await setResourceScope(api.t.db, rid, scope);
  for (let i = 1; i <= 10; i++) {
    await saveVersions(api.t.db, scope.id, [{ version: { ref: String(i) }, metadata: [{ name: 'n', value: `v${i}` }] }]);
  }
  await api.t.db.query(
    `INSERT INTO resource_disabled_versions (resource_id, version_digest)
     SELECT $1, version_sha256 FROM resource_config_versions WHERE version->>'ref' = '2'`,
    [rid],
  );
});
after(async () => {
  await api.close();
});

test('resources, one resource, and resource types', async () => {
  const list = await api.app.inject({ url: `${base}/resources`, headers: api.auth() });
  assert.equal(list.statusCode, 200);
  const resources = list.json() as Record<string, unknown>[];
  assert.deepEqual(resources.map((r) => r.name), ['repo', 'image']);
  assert.equal(resources[0]?.type, 'mock');
  assert.equal(resources[0]?.pipeline_name, 'demo');
  assert.equal(resources[0]?.team_name, 'main');
  assert.equal(resources[1]?.icon, 'docker');
  assert.deepEqual(resources[1]?.pinned_version, { ref: '3' });
  assert.equal(resources[1]?.pinned_in_config, true);

  const one = await api.app.inject({ url: `${base}/resources/image`, headers: api.auth() });
  assert.equal(one.statusCode, 200);
  assert.equal((one.json() as { name: string }).name, 'image');
  const missing = await api.app.inject({ url: `${base}/resources/nope`, headers: api.auth() });
  assert.equal(missing.statusCode, 404);
  assert.deepEqual(missing.json(), { error: 'resource nope in pipeline main/demo not found', code: 'JW_RESOURCE_NOT_FOUND' });

  const types = await api.app.inject({ url: `${base}/resource-types`, headers: api.auth() });
  assert.equal(types.statusCode, 200);
  assert.deepEqual(types.json(), []);
});

interface V {
  id: number;
  version: { ref: string };
  metadata: { name: string; value: string }[];
  enabled: boolean;
}

function parseLinks(header: string | string[] | number | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const part of String(header ?? '').split(', ')) {
    const m = /^<([^>]+)>; rel="(\w+)"$/.exec(part);
    if (m?.[1] && m[2]) out[m[2]] = m[1];
  }
  return out;
}

test('versions: newest first, enabled flag, pagination with Link headers both ways', async () => {
  const first = await api.app.inject({ url: `${base}/resources/repo/versions?limit=4`, headers: api.auth() });
  assert.equal(first.statusCode, 200);
  const page1 = first.json() as V[];
  assert.deepEqual(page1.map((v) => v.version.ref), ['10', '9', '8', '7']);
  assert.deepEqual(page1[0]?.metadata, [{ name: 'n', value: 'v10' }]);
  assert.ok(page1.every((v) => v.enabled));
  let links = parseLinks(first.headers.link);
  assert.deepEqual(Object.keys(links), ['next'], 'no newer page from the top');
  // absolute, on the external URL, as Concourse's (atc/api/resourceserver/versionserver/list.go addNextLink)
  assert.match(links.next ?? '', /^http:\/\/jetway\.example:8080\/api\/v1\/teams\/main\/pipelines\/demo\/resources\/repo\/versions\?to=\d+&limit=4$/);

  const second = await api.app.inject({ url: links.next ?? '', headers: api.auth() });
  const page2 = second.json() as V[];
  assert.deepEqual(page2.map((v) => v.version.ref), ['6', '5', '4', '3']);
  links = parseLinks(second.headers.link);
  assert.deepEqual(Object.keys(links).sort(), ['next', 'previous']);

  const third = await api.app.inject({ url: links.next ?? '', headers: api.auth() });
  const page3 = third.json() as V[];
  assert.deepEqual(page3.map((v) => [v.version.ref, v.enabled]), [
    ['2', false],
    ['1', true],
  ]);
  links = parseLinks(third.headers.link);
  assert.deepEqual(Object.keys(links), ['previous'], 'no older page at the bottom');

  // going back: the page just newer than page 3 is page 2
  const back = await api.app.inject({ url: links.previous ?? '', headers: api.auth() });
  assert.deepEqual((back.json() as V[]).map((v) => v.version.ref), ['6', '5', '4', '3']);
});

test('versions: filter, bad parameters and unknown resources', async () => {
  const filtered = await api.app.inject({ url: `${base}/resources/repo/versions?filter=ref:7`, headers: api.auth() });
  assert.deepEqual((filtered.json() as V[]).map((v) => v.version.ref), ['7']);
  const badLimit = await api.app.inject({ url: `${base}/resources/repo/versions?limit=abc`, headers: api.auth() });
  assert.equal(badLimit.statusCode, 400);
  assert.deepEqual(badLimit.json(), { errors: ['query.limit: limit must be a non-negative integer'], code: 'JW_INVALID_REQUEST' });
  const badTo = await api.app.inject({ url: `${base}/resources/repo/versions?to=999999`, headers: api.auth() });
  assert.equal(badTo.statusCode, 400);
  assert.match(badTo.body, /to: version 999999 not found/);
  const none = await api.app.inject({ url: `${base}/resources/image/versions`, headers: api.auth() });
  assert.deepEqual(none.json(), []);
  const unknown = await api.app.inject({ url: `${base}/resources/nope/versions`, headers: api.auth() });
  assert.equal(unknown.statusCode, 404);
});
