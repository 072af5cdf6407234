import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { savePipeline } from '../../src/db/pipelines.ts';
import { clearResourceCaches, clearScopeVersions, findOrCreateResourceCache, findOrCreateResourceConfig, findOrCreateScope, latestVersion, listVersions, saveVersions, scopeSharers, setResourceScope, setResourceTypeScope, sourceHash } from '../../src/db/versions.ts';
import { versionDigest } from '../../src/model/version.ts';
import type { Version } from '../../src/model/version.ts';
import { buildInputs, createManualBuild } from '../../src/db/builds.ts';
import type { PipelineConfig } from '../../src/config/index.ts';
import { useTestDatabase } from '../support/db.ts';

const t = useTestDatabase();

let counter = 0;
async function newScope(): Promise<number> {
  const { db } = t;
  const config = await findOrCreateResourceConfig(db, { baseType: 'mock' }, { n: ++counter });
  return (await findOrCreateScope(db, config.id, null)).id;
}
const v = (name: string): Version => ({ ver: name });
async function orders(scopeId: number): Promise<Record<string, number>> {
  const { db } = t;
  const out: Record<string, number> = {};
  for (const s of await listVersions(db, scopeId)) out[s.version.ver ?? '?'] = s.checkOrder;
  return out;
}

test('versionDigest is the sha256 of the canonical JSON, whatever the key order', () => {
  const expected = createHash('sha256').update('{"a":"1","b":"2"}').digest('hex');
  assert.equal(versionDigest({ b: '2', a: '1' }), expected);
  assert.equal(versionDigest({ a: '1', b: '2' }), expected);
  assert.notEqual(versionDigest({ a: '1' }), versionDigest({ a: '2' }));
  assert.equal(sourceHash({ y: { b: 1, a: [2, { d: 1, c: 2 }] } }), createHash('sha256').update('{"y":{"a":[2,{"c":2,"d":1}],"b":1}}').digest('hex'));
});

test('resource configs and shared scopes are found again, not duplicated', async () => {
  const { db } = t;
  const a = await findOrCreateResourceConfig(db, { baseType: 'git' }, { uri: 'x', branch: 'main' });
  const b = await findOrCreateResourceConfig(db, { baseType: 'git' }, { branch: 'main', uri: 'x' });
  assert.equal(a.id, b.id);
  assert.notEqual((await findOrCreateResourceConfig(db, { baseType: 'git' }, { uri: 'y' })).id, a.id);
  const s1 = await findOrCreateScope(db, a.id, null);
  const s2 = await findOrCreateScope(db, a.id, null);
  assert.equal(s1.id, s2.id);

  // a custom type's resource config hangs off the type image's resource cache
  const cache = await findOrCreateResourceCache(db, a.id, { ref: 'abc' }, { depth: 1 });
  assert.equal((await findOrCreateResourceCache(db, a.id, { ref: 'abc' }, { depth: 1 })).id, cache.id);
  const child = await findOrCreateResourceConfig(db, { resourceCacheId: cache.id }, { uri: 'x', branch: 'main' });
  assert.equal(child.baseResourceTypeId, null);
  assert.equal(child.resourceCacheId, cache.id);
  assert.notEqual(child.id, a.id);
});

test('§2: a first check saves versions in returned order', async () => {
  const { db } = t;
  const scope = await newScope();
  await saveVersions(db, scope, [{ version: v('v1') }, { version: v('v2') }, { version: v('v3') }]);
  assert.deepEqual(await orders(scope), { v1: 1, v2: 2, v3: 3 });
  assert.deepEqual((await latestVersion(db, scope))?.version, v('v3'));
});

test('§2: v1:1,v2:2,v3:3 + [v3,v4] → v3:4, v4:5', async () => {
  const { db } = t;
  const scope = await newScope();
  await saveVersions(db, scope, ['v1', 'v2', 'v3'].map((n) => ({ version: v(n) })));
  const r = await saveVersions(db, scope, [{ version: v('v3') }, { version: v('v4') }]);
  assert.equal(r.newVersions, 1);
  assert.deepEqual(await orders(scope), { v1: 1, v2: 2, v3: 4, v4: 5 });
});

test('§2: v1:1,v2:2,v3:3 + [v2,v5] → v2:4, v5:5 (an old version re-returned next to a new one moves)', async () => {
  const { db } = t;
  const scope = await newScope();
  await saveVersions(db, scope, ['v1', 'v2', 'v3'].map((n) => ({ version: v(n) })));
  await saveVersions(db, scope, [{ version: v('v2') }, { version: v('v5') }]);
  assert.deepEqual(await orders(scope), { v1: 1, v2: 4, v3: 3, v5: 5 });
  assert.deepEqual((await latestVersion(db, scope))?.version, v('v5'));
});

test('§2: nothing new → nothing re-ordered, only metadata refreshed', async () => {
  const { db } = t;
  const scope = await newScope();
  await saveVersions(db, scope, ['v1', 'v2', 'v3'].map((n) => ({ version: v(n), metadata: [{ name: 'n', value: n }] })));
  const r = await saveVersions(db, scope, [{ version: v('v1'), metadata: [{ name: 'n', value: 'fresh' }] }, { version: v('v2') }]);
  assert.equal(r.newVersions, 0);
  assert.deepEqual(r.scheduledJobIds, []);
  assert.deepEqual(await orders(scope), { v1: 1, v2: 2, v3: 3 });
  const byName = new Map((await listVersions(db, scope)).map((s) => [s.version.ver, s.metadata]));
  assert.deepEqual(byName.get('v1'), [{ name: 'n', value: 'fresh' }]);
  assert.deepEqual(byName.get('v2'), [{ name: 'n', value: 'v2' }], 'absent metadata keeps the old');
});

test('a check returning [] changes nothing', async () => {
  const { db } = t;
  const scope = await newScope();
  await saveVersions(db, scope, [{ version: v('a') }]);
  assert.deepEqual(await saveVersions(db, scope, []), { newVersions: 0, scheduledJobIds: [] });
  assert.deepEqual(await orders(scope), { a: 1 });
});

test('saving into an unknown scope is an error', async () => {
  const { db } = t;
  await assert.rejects(saveVersions(db, 999_999, [{ version: v('x') }]), /scope 999999 not found/);
});

test('new versions request scheduling of jobs with a non-passed input on the scope, not of passed-only jobs', async () => {
  const { db } = t;
  const config = {
    resources: [{ name: 'repo', type: 'mock', source: {} }, { name: 'other', type: 'mock', source: {} }],
    jobs: [
      { name: 'unit', plan: [{ get: 'repo', trigger: true }] },
      { name: 'deploy', plan: [{ get: 'repo', passed: ['unit'] }] },
      { name: 'unrelated', plan: [{ get: 'other' }] },
    ],
  } as PipelineConfig;
  const saved = await savePipeline(db, { team: 'main', name: 'sched', config });
  const ids = new Map(
    (await db.query<{ id: number; name: string }>('SELECT id, name FROM jobs WHERE pipeline_id = $1', [saved.pipelineId])).rows.map((r) => [
      r.name,
      r.id,
    ]),
  );
  const repo = (await db.query<{ id: number }>(`SELECT id FROM resources WHERE pipeline_id = $1 AND name = 'repo'`, [saved.pipelineId])).rows[0]!.id;
  const rc = await findOrCreateResourceConfig(db, { baseType: 'mock' }, {});
  const scope = await findOrCreateScope(db, rc.id, repo);
  await setResourceScope(db, repo, scope);
  await db.query(`UPDATE jobs SET schedule_requested = 'epoch', last_scheduled = now() WHERE pipeline_id = $1`, [saved.pipelineId]);

  const r = await saveVersions(db, scope.id, [{ version: v('1') }]);
  assert.deepEqual(r.scheduledJobIds, [ids.get('unit')]);
  const due = await db.query<{ name: string }>(
    `SELECT name FROM jobs WHERE pipeline_id = $1 AND schedule_requested > last_scheduled ORDER BY name`,
    [saved.pipelineId],
  );
  assert.deepEqual(due.rows.map((x) => x.name), ['unit']);
});

test('a per-resource scope for a new config replaces the resource\'s old scope (new history)', async () => {
  const { db } = t;
  const saved = await savePipeline(db, {
    team: 'main',
    name: 'scopes',
    config: { resources: [{ name: 'r', type: 'mock', source: { a: 1 } }], jobs: [] } as PipelineConfig,
  });
  const rid = (await db.query<{ id: number }>(`SELECT id FROM resources WHERE pipeline_id = $1`, [saved.pipelineId])).rows[0]!.id;
  const c1 = await findOrCreateResourceConfig(db, { baseType: 'mock' }, { a: 1 });
  const s1 = await findOrCreateScope(db, c1.id, rid);
  assert.equal((await findOrCreateScope(db, c1.id, rid)).id, s1.id);
  await setResourceScope(db, rid, s1);
  await saveVersions(db, s1.id, [{ version: v('old') }]);
  const c2 = await findOrCreateResourceConfig(db, { baseType: 'mock' }, { a: 2 });
  const s2 = await findOrCreateScope(db, c2.id, rid);
  assert.notEqual(s2.id, s1.id);
  assert.equal((await db.query('SELECT 1 FROM resource_config_scopes WHERE id = $1', [s1.id])).rowCount, 0);
  assert.deepEqual(await listVersions(db, s1.id), []);
  // the shared scope of the same config is separate from per-resource scopes
  assert.notEqual((await findOrCreateScope(db, c2.id, null)).id, s2.id);
});

async function checkBatchesContiguous(scope: number, batches: { version: Version }[][], extra: number): Promise<Map<string, number>> {
  const { db } = t;
  const stored = await listVersions(db, scope);
  assert.equal(stored.length, extra + batches.length * (batches[0]?.length ?? 0));
  const checkOrders = stored.map((s) => s.checkOrder);
  assert.equal(new Set(checkOrders).size, checkOrders.length, 'no two versions share a check_order');
  const order = new Map(stored.map((s) => [s.version.ver ?? '', s.checkOrder]));
  for (const batch of batches) {
    const got = batch.map((b) => order.get(b.version.ver ?? '') ?? -1);
    // each batch's versions are consecutive, in returned order (saves do not interleave)
    for (let i = 1; i < got.length; i++) assert.equal(got[i], got[0]! + i, `batch ${batch[0]?.version.ver} is contiguous`);
  }
  return order;
}

test('concurrent saves of new versions into one scope give a consistent order', async () => {
  const { db } = t;
  for (let round = 0; round < 5; round++) {
    const scope = await newScope();
    await saveVersions(db, scope, [{ version: v('base') }]);
    const batches = Array.from({ length: 6 }, (_, b) => Array.from({ length: 5 }, (_, i) => ({ version: v(`b${b}-${i}`) })));
    await Promise.all(batches.map((batch) => saveVersions(db, scope, batch)));
    const order = await checkBatchesContiguous(scope, batches, 1);
    assert.equal(order.get('base'), 1);
    assert.equal(Math.max(...order.values()), 1 + 6 * 5);
  }
});

test('concurrent saves re-returning a shared old version next to new ones stay consistent', async () => {
  const { db } = t;
  const scope = await newScope();
  await saveVersions(db, scope, [{ version: v('base') }]);
  const batches = Array.from({ length: 8 }, (_, b) => Array.from({ length: 5 }, (_, i) => ({ version: v(`b${b}-${i}`) })));
  await Promise.all(batches.map((batch) => saveVersions(db, scope, [{ version: v('base') }, ...batch])));
  const order = await checkBatchesContiguous(scope, batches, 1);
  // the base version was moved by the last save to run: right before that save's batch
  const baseOrder = order.get('base')!;
  assert.ok(batches.some((batch) => order.get(batch[0]!.version.ver ?? '') === baseOrder + 1), 'base sits right before one batch');
  assert.equal(Math.max(...order.values()), baseOrder + 5);
});

// ------------------------------------------------------------------------------ clearing

async function idsOf(table: 'resources' | 'resource_types' | 'jobs', pipelineId: number): Promise<Map<string, number>> {
  const { db } = t;
  const r = await db.query<{ id: number; name: string }>(`SELECT id, name FROM ${table} WHERE pipeline_id = $1`, [pipelineId]);
  return new Map(r.rows.map((row) => [row.name, row.id]));
}

async function cacheIds(configId: number): Promise<number[]> {
  const { db } = t;
  const r = await db.query<{ id: number }>('SELECT id FROM resource_caches WHERE resource_config_id = $1 ORDER BY id', [configId]);
  return r.rows.map((row) => row.id);
}

test('clearResourceCaches: the caches of the resource\'s config (of one exact version), never a custom type\'s image', async () => {
  const { db } = t;
  const saved = await savePipeline(db, {
    team: 'main',
    name: 'clear-caches',
    config: {
      resources: [
        { name: 'img', type: 'mock', source: { mirror_self: true } },
        { name: 'unchecked', type: 'mock', source: { u: 1 } },
      ],
      jobs: [],
    } as PipelineConfig,
  });
  const resources = await idsOf('resources', saved.pipelineId);
  const img = resources.get('img')!;
  const config = await findOrCreateResourceConfig(db, { baseType: 'mock' }, { mirror_self: true });
  await setResourceScope(db, img, await findOrCreateScope(db, config.id, img));
  await findOrCreateResourceCache(db, config.id, v('1'));
  await findOrCreateResourceCache(db, config.id, v('1'), { depth: 1 });
  const v2 = await findOrCreateResourceCache(db, config.id, v('2'));
  // the same config is a custom type's image: resources of that type hang off this cache
  const image = await findOrCreateResourceCache(db, config.id, v('image'));
  const child = await findOrCreateResourceConfig(db, { resourceCacheId: image.id }, { t: 1 });
  const childScope = await findOrCreateScope(db, child.id, null);
  await saveVersions(db, childScope.id, [{ version: v('x') }]);
  const other = await findOrCreateResourceConfig(db, { baseType: 'mock' }, { other: true });
  const otherCache = await findOrCreateResourceCache(db, other.id, v('1'));

  assert.equal(await clearResourceCaches(db, img, v('3')), 0, 'no cache of that version');
  assert.equal(await clearResourceCaches(db, img, { ver: '1', extra: 'x' }), 0, 'a version is matched exactly');
  assert.equal(await clearResourceCaches(db, img, v('1')), 2, 'every params hash of the version');
  assert.deepEqual(await cacheIds(config.id), [v2.id, image.id]);
  assert.equal(await clearResourceCaches(db, img), 1, 'the rest but the type image');
  assert.deepEqual(await cacheIds(config.id), [image.id]);
  assert.deepEqual((await listVersions(db, childScope.id)).map((x) => x.version), [v('x')], 'the custom type\'s resources keep their config and history');
  assert.deepEqual(await cacheIds(other.id), [otherCache.id], 'other configs\' caches stay');
  assert.equal(await clearResourceCaches(db, resources.get('unchecked')!), 0, 'a resource never checked has no config');
});

test('clearScopeVersions: the whole history goes, jobs on it reschedule, builds keep their inputs', async () => {
  const { db } = t;
  const saved = await savePipeline(db, {
    team: 'main',
    name: 'clear-versions',
    config: {
      resources: [
        { name: 'repo', type: 'mock', source: { clear: 1 } },
        { name: 'other', type: 'mock', source: { clear: 2 } },
      ],
      jobs: [
        { name: 'unit', plan: [{ get: 'repo' }] },
        { name: 'deploy', plan: [{ get: 'repo', passed: ['unit'] }] },
        { name: 'unrelated', plan: [{ get: 'other' }] },
      ],
    } as PipelineConfig,
  });
  const resources = await idsOf('resources', saved.pipelineId);
  const jobs = await idsOf('jobs', saved.pipelineId);
  const repo = resources.get('repo')!;
  const config = await findOrCreateResourceConfig(db, { baseType: 'mock' }, { clear: 1 });
  const scope = await findOrCreateScope(db, config.id, repo);
  await setResourceScope(db, repo, scope);
  await saveVersions(db, scope.id, [{ version: v('1') }, { version: v('2') }]);
  const build = await createManualBuild(db, jobs.get('unit')!);
  await db.query(`INSERT INTO build_resource_config_version_inputs (build_id, resource_id, version_digest, name) VALUES ($1, $2, $3, 'repo')`, [
    build.id,
    repo,
    versionDigest(v('2')),
  ]);
  await db.query(`UPDATE jobs SET schedule_requested = 'epoch', last_scheduled = now() WHERE pipeline_id = $1`, [saved.pipelineId]);

  const cleared = await clearScopeVersions(db, { resourceId: repo });
  assert.equal(cleared.removed, 2);
  assert.deepEqual(cleared.scheduledJobIds, [jobs.get('unit'), jobs.get('deploy')].sort((a, b) => a! - b!));
  assert.deepEqual(await listVersions(db, scope.id), []);
  const inputs = await buildInputs(db, build.id);
  assert.deepEqual(inputs.map((i) => [i.name, i.versionDigest, i.version]), [['repo', versionDigest(v('2')), undefined]], 'the build keeps its input');
  // found again by a check: the build shows its version again
  await saveVersions(db, scope.id, [{ version: v('2') }]);
  assert.deepEqual((await buildInputs(db, build.id))[0]?.version, v('2'));

  assert.deepEqual(await clearScopeVersions(db, { resourceId: resources.get('other')! }), { removed: 0, scheduledJobIds: [] }, 'never checked: no history');
});

test('scopeSharers and clearScopeVersions: resource types of the same type and source share one history across pipelines', async () => {
  const { db } = t;
  const withType = (name: string) =>
    savePipeline(db, {
      team: 'main',
      name,
      config: { resource_types: [{ name: 'custom', type: 'mock', source: { shared: true } }], resources: [{ name: 'r', type: 'mock', source: {} }], jobs: [] } as PipelineConfig,
    });
  const a = await withType('shares-a');
  const b = await withType('shares-b');
  const typeA = (await idsOf('resource_types', a.pipelineId)).get('custom')!;
  const typeB = (await idsOf('resource_types', b.pipelineId)).get('custom')!;
  const config = await findOrCreateResourceConfig(db, { baseType: 'mock' }, { shared: true });
  const scope = await findOrCreateScope(db, config.id, null);
  await setResourceTypeScope(db, typeA, scope);
  await setResourceTypeScope(db, typeB, scope);
  await saveVersions(db, scope.id, [{ version: v('1') }]);

  const sharers = await scopeSharers(db, { resourceTypeId: typeB });
  assert.deepEqual(
    sharers.map((x) => [x.kind, x.pipelineName, x.name, x.teamName]),
    [
      ['resource_type', 'shares-b', 'custom', 'main'],
      ['resource_type', 'shares-a', 'custom', 'main'],
    ],
    'the owner first',
  );
  const resourceA = (await idsOf('resources', a.pipelineId)).get('r')!;
  assert.deepEqual((await scopeSharers(db, { resourceId: resourceA })).map((x) => [x.kind, x.pipelineName, x.name]), [['resource', 'shares-a', 'r']], 'unchecked: itself');

  assert.equal((await clearScopeVersions(db, { resourceTypeId: typeA })).removed, 1);
  assert.deepEqual(await listVersions(db, scope.id), [], 'gone for the other pipeline\'s type too');
});
