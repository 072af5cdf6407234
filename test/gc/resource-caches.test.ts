// The resource cache and config collectors against a real pipeline: what nothing keeps alive goes
// after the grace period; the cache chain of a custom type, a resource's history and the images
// of a job's latest succeeded build stay, and the pipeline goes on working.
import { silentLogger } from '../../src/log.ts';
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { PostgresGcStore } from '../../src/db/gc.ts';
import { Collector } from '../../src/gc/collector.ts';
import { startTestNode, type TestNode } from '../support/node.ts';

const quiet = silentLogger;
let node: TestNode;

before(async () => {
  node = await startTestNode();
});
after(async () => {
  await node?.stop();
});

const PIPELINE = `
resource_types:
- name: mirrored-mock
  type: mock
  source: {mirror_self: true, initial_version: type-v1}
resources:
- name: custom
  type: mirrored-mock
  source: {initial_version: c1}
- name: plain
  type: mock
  source: {initial_version: p1}
jobs:
- name: use
  plan:
  - get: custom
  - get: plain
  - task: show
    config:
      platform: linux
      inputs: [{name: custom}, {name: plain}]
      run: {path: sh, args: [-c, "cat custom/version plain/version"]}
`;

const count = async (table: string): Promise<number> => Number((await node.tdb.db.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${table}`)).rows[0]!.n);

test('unreferenced caches and configs go after the grace period; chains, histories and the pipeline stay', async () => {
  const { db } = node.tdb;
  const id = await node.setPipeline('gc', PIPELINE);
  await node.checkResource(id, 'custom');
  await node.checkResource(id, 'plain');
  const first = await node.trigger(id, 'use');
  assert.equal(first.status, 'succeeded', await node.logs(first.id));
  // garbage: a cache and a config nothing points at (a source the pipeline no longer has)
  const base = (await db.query<{ id: number }>(`SELECT id FROM base_resource_types WHERE name = 'mock'`)).rows[0]!.id;
  const orphanConfig = (await db.query<{ id: number }>(`INSERT INTO resource_configs (base_resource_type_id, source_hash) VALUES ($1, 'old-source') RETURNING id`, [base])).rows[0]!.id;
  await db.query(`INSERT INTO resource_caches (resource_config_id, version, version_digest, params_hash) VALUES ($1, '{"v":"old"}', 'd-old', 'p')`, [orphanConfig]);
  const caches = await count('resource_caches');
  const configs = await count('resource_configs');

  // within the grace period nothing goes
  const soon = await new Collector(new PostgresGcStore(db), { logger: quiet }).collect(new Date(Date.now() + 60_000));
  assert.deepEqual([soon.resourceCaches, soon.resourceConfigs], [0, 0]);

  // after it: the orphans go (the config in the pass after its cache)
  const later = new Date(Date.now() + 2 * 3_600_000);
  const pass1 = await new Collector(new PostgresGcStore(db), { logger: quiet }).collect(later);
  const pass2 = await new Collector(new PostgresGcStore(db), { logger: quiet }).collect(later);
  assert.ok(pass1.resourceCaches >= 1, JSON.stringify(pass1));
  assert.equal(pass1.resourceConfigs + pass2.resourceConfigs >= 1, true);
  assert.equal((await db.query('SELECT 1 FROM resource_configs WHERE id = $1', [orphanConfig])).rowCount, 0);
  assert.ok((await count('resource_caches')) < caches && (await count('resource_configs')) < configs);

  // what stays: custom's config hangs off the type image's cache, and both histories are whole
  const chain = await db.query<{ parent: number | null }>(
    `SELECT rc.resource_cache_id AS parent FROM resources r JOIN resource_configs rc ON rc.id = r.resource_config_id WHERE r.name = 'custom' AND r.pipeline_id = $1`,
    [id],
  );
  assert.ok(chain.rows[0]?.parent, 'the custom resource keeps its parent cache');
  assert.equal((await db.query('SELECT 1 FROM resource_caches WHERE id = $1', [chain.rows[0]!.parent])).rowCount, 1);
  const histories = await db.query<{ name: string; n: number }>(
    `SELECT r.name, count(v.id)::int AS n FROM resources r JOIN resource_config_versions v ON v.resource_config_scope_id = r.resource_config_scope_id WHERE r.pipeline_id = $1 GROUP BY r.name ORDER BY r.name`,
    [id],
  );
  assert.deepEqual(histories.rows, [
    { name: 'custom', n: 1 },
    { name: 'plain', n: 1 },
  ]);

  // and the pipeline goes on: new versions, a new build through the same chain
  await node.checkResource(id, 'custom', { version: 'c2' });
  await node.checkResource(id, 'plain', { version: 'p2' });
  const second = await node.trigger(id, 'use');
  const logs = await node.logs(second.id);
  assert.equal(second.status, 'succeeded', logs);
  assert.match(logs, /c2\s*p2/);
});
