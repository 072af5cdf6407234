// A version's metadata after a get, through a real web node in this process (Postgres, the
// scheduler, the local runtime, the API): the mock type's check reports versions only, its `in`
// reports metadata, and the resource's versions JSON shows that metadata once a job's get
// fetched the version, as Concourse's get delegate saves it (UpdateResourceVersion; issue 22).
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { useWebNode } from '../support/web-node.ts';

const PIPELINE = `
resources:
- name: src
  type: mock
  source: {initial_version: v1, metadata: [{name: commit, value: 5f3c9e1}, {name: author, value: dev}]}
- name: quiet
  type: mock
  source: {initial_version: q1}
jobs:
- name: j
  plan:
  - get: src
    trigger: true
  - get: quiet
`;

const web = useWebNode('version-metadata', { localUsers: ['dev:pw-version-metadata'], mainTeamUsers: ['dev'], schedulerIntervalMs: 300 });
let token: string;

async function api(method: string, path: string, body?: string): Promise<Response> {
  const res = await fetch(`${web.node.url}/api/v1${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, ...(body !== undefined ? { 'content-type': 'application/x-yaml' } : {}) },
    ...(body !== undefined ? { body } : {}),
  });
  assert.ok(res.ok, `${method} ${path}: ${res.status} ${await res.clone().text()}`);
  return res;
}

before(async () => {
  await web.ready();
  const login = await fetch(`${web.node.url}/api/v1/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ username: 'dev', password: 'pw-version-metadata' }),
  });
  ({ access_token: token } = (await login.json()) as { access_token: string });
  await api('PUT', '/teams/main/pipelines/p/config', PIPELINE);
  await api('PUT', '/teams/main/pipelines/p/unpause');
});
type VersionJson = { version: Record<string, string>; metadata: { name: string; value: string }[] | null };
const versions = async (resource: string): Promise<VersionJson[]> => (await (await api('GET', `/teams/main/pipelines/p/resources/${resource}/versions`)).json()) as VersionJson[];

test("the versions JSON has the metadata a get's `in` reported for the version it fetched; a get that reports none adds none", async () => {
  // before any build: the check found v1, with no metadata
  for (let i = 0; i < 300 && (await versions('src')).length === 0; i++) await new Promise((r) => setTimeout(r, 100));
  let job: { finished_build?: { status: string } } = {};
  for (let i = 0; i < 600 && !job.finished_build; i++) {
    job = (await (await api('GET', '/teams/main/pipelines/p/jobs/j')).json()) as typeof job;
    if (!job.finished_build) await new Promise((r) => setTimeout(r, 100));
  }
  assert.equal(job.finished_build?.status, 'succeeded');
  assert.deepEqual(
    (await versions('src')).map((v) => ({ version: v.version, metadata: v.metadata })),
    [{ version: { version: 'v1' }, metadata: [{ name: 'commit', value: '5f3c9e1' }, { name: 'author', value: 'dev' }] }],
  );
  assert.deepEqual((await versions('quiet')).map((v) => v.metadata), [[]]);
});
