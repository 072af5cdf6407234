// In-memory checks end to end on Postgres, the real engine and the checker (an in-process node):
// a periodic check of a mock resource saves its versions with no check build, and the resource
// shows it; a web node that died mid-check (its record left started, its scope lease expired)
// does not stop the next scan from checking; a source that names a local git repository is a
// check build after all.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { InProcessChecks } from '../../src/resources/in-process.ts';
import { findResourceView } from '../../src/db/views.ts';
import { startTestNode, type TestNode } from '../support/node.ts';

const PIPELINE = `
resources:
- {name: repo, type: mock, source: {initial_version: v1}}
- {name: local, type: git, source: {uri: /nonexistent/repo.git}}
jobs:
- name: j
  plan: [{get: repo, trigger: true}, {get: local, trigger: true}]
`;

async function node(t: { after(fn: () => Promise<void>): void }): Promise<{ n: TestNode; pipelineId: number }> {
  const n = await startTestNode({ inProcessChecks: new InProcessChecks({ gitMirrorDir: '/nonexistent/git-mirrors' }), inMemoryChecks: true });
  t.after(() => n.stop());
  const pipelineId = await n.setPipeline('p', PIPELINE);
  return { n, pipelineId };
}

const checkBuilds = async (n: TestNode, resource: string): Promise<number> =>
  Number((await n.tdb.db.query<{ c: string }>('SELECT count(*) AS c FROM builds b JOIN resources r ON r.id = b.resource_id WHERE r.name = $1', [resource])).rows[0]!.c);

const versions = async (n: TestNode, resource: string): Promise<string[]> =>
  (
    await n.tdb.db.query<{ v: string }>(
      `SELECT v.version->>'version' AS v FROM resource_config_versions v JOIN resources r ON r.resource_config_scope_id = v.resource_config_scope_id WHERE r.name = $1 ORDER BY v.check_order`,
      [resource],
    )
  ).rows.map((r) => r.v);

test('a periodic check of a mock resource runs in memory: its version saved, no check build, the resource shows it succeeded', async (t) => {
  const { n, pipelineId } = await node(t);
  await n.checker.scan();
  await n.checker.inMemoryIdle();
  assert.deepEqual(await versions(n, 'repo'), ['v1']);
  assert.equal(await checkBuilds(n, 'repo'), 0);
  const view = await findResourceView(n.tdb.db, pipelineId, 'repo');
  assert.equal(view?.lastCheckBuild?.status, 'succeeded');
  assert.equal(view?.lastCheckSucceeded, true);
});

test('a local git source is declined by the web node: a check build checks it, as the build user', async (t) => {
  const { n } = await node(t);
  await n.checker.scan();
  await n.checker.inMemoryIdle();
  await n.engine.idle();
  assert.equal(await checkBuilds(n, 'local'), 1);
  assert.equal((await n.tdb.db.query('SELECT in_memory_check_id FROM resources WHERE name = $1', ['local'])).rows[0]?.in_memory_check_id, null);
});

test('a node that died mid-check (record started, lease expired) does not hold the resource: the next scan checks it', async (t) => {
  const { n } = await node(t);
  const rid = (await n.tdb.db.query<{ id: number }>(`SELECT id FROM resources WHERE name = 'repo'`)).rows[0]!.id;
  // what a node killed mid-check leaves: its record started, the scope's lease taken and expired
  await n.tdb.db.query(`UPDATE resources SET in_memory_check_id = 999999, in_memory_check_status = 'started', in_memory_check_start = now() WHERE id = $1`, [rid]);
  await n.checker.scan();
  await n.checker.inMemoryIdle();
  await n.tdb.db.query(
    `UPDATE resource_config_scopes SET check_lease_owner = 'dead-node', check_lease_until = now() - interval '1 second', next_check_time = now() - interval '1 second'
      WHERE id = (SELECT resource_config_scope_id FROM resources WHERE id = $1)`,
    [rid],
  );
  const before = (await n.tdb.db.query<{ id: number }>('SELECT in_memory_check_id AS id FROM resources WHERE id = $1', [rid])).rows[0]!.id;
  await n.checker.scan();
  await n.checker.inMemoryIdle();
  const after = (await n.tdb.db.query<{ id: number; status: string }>('SELECT in_memory_check_id AS id, in_memory_check_status AS status FROM resources WHERE id = $1', [rid])).rows[0]!;
  assert.ok(after.id > before, 'checked again');
  assert.equal(after.status, 'succeeded');
  const scope = (await n.tdb.db.query<{ owner: string | null }>('SELECT check_lease_owner AS owner FROM resource_config_scopes WHERE id = (SELECT resource_config_scope_id FROM resources WHERE id = $1)', [rid])).rows[0];
  assert.equal(scope?.owner, null, 'the expired lease was taken and let go');
});
