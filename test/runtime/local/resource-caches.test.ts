// Resource cache volumes of the local runtimes (issue 19): a get kept once, found again, never twice.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { access, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { findCachedResource, pruneCachedResources, saveCachedResource, SAVER } from '../../../src/runtime/local/resource-caches.ts';

async function volume(root: string, name: string, content: string): Promise<string> {
  const dir = join(root, 'volumes', name);
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, 'version'), content);
  return dir;
}

test('a kept get is found by its cache id with its version and metadata; its volume moved, not copied', async () => {
  const root = await mkdtemp(join(tmpdir(), 'jw-rc-'));
  try {
    assert.equal(await findCachedResource(root, 7), undefined);
    const path = await volume(root, 'a', 'v1');
    const kept = await saveCachedResource(root, 7, { kind: 'volume', path }, { version: { v: '1' }, metadata: [{ name: 'm', value: 'x' }] });
    assert.ok(kept.kind === 'volume');
    assert.equal(kept.path, join(root, 'resource-caches', '7', 'volume'));
    await assert.rejects(access(path), 'moved');
    const found = await findCachedResource(root, 7);
    assert.deepEqual(found, { version: { v: '1' }, metadata: [{ name: 'm', value: 'x' }], artifact: { kind: 'volume', path: kept.path } });
    assert.equal(await readFile(join(kept.path, 'version'), 'utf8'), 'v1');
  } finally {
    await rm(root, { recursive: true, force: true });
  }
});

test('a second get of the same cache keeps its own volume (the first kept stays)', async () => {
  const root = await mkdtemp(join(tmpdir(), 'jw-rc-'));
  try {
    await saveCachedResource(root, 3, { kind: 'volume', path: await volume(root, 'a', 'first') }, { version: {}, metadata: [] });
    const second = await volume(root, 'b', 'second');
    const back = await saveCachedResource(root, 3, { kind: 'volume', path: second }, { version: {}, metadata: [] });
    assert.deepEqual(back, { kind: 'volume', path: second });
    assert.equal(await readFile(join(second, 'version'), 'utf8'), 'second');
    const found = await findCachedResource(root, 3);
    assert.ok(found?.artifact.kind === 'volume');
    assert.equal(await readFile(join(found.artifact.path, 'version'), 'utf8'), 'first');
  } finally {
    await rm(root, { recursive: true, force: true });
  }
});

test('an invalid cache id is refused; prune removes caches the database no longer has', async () => {
  const root = await mkdtemp(join(tmpdir(), 'jw-rc-'));
  try {
    await assert.rejects(findCachedResource(root, -1), /invalid resource cache id -1/);
    await assert.rejects(saveCachedResource(root, 1.5, { kind: 'volume', path: '/x' }, { version: {}, metadata: [] }), /invalid resource cache id 1.5/);
    for (const id of [1, 2, 3]) await saveCachedResource(root, id, { kind: 'volume', path: await volume(root, `v${id}`, String(id)) }, { version: {}, metadata: [] });
    assert.equal(await pruneCachedResources(root, new Set([2])), 2);
    assert.equal(await findCachedResource(root, 1), undefined);
    assert.ok(await findCachedResource(root, 2));
  } finally {
    await rm(root, { recursive: true, force: true });
  }
});

// a dozen jobs triggered by one new version get it at once: each get finishes and keeps its volume
// in the same millisecond (a partial folder named by the time collided: EEXIST errored the builds)
test('twelve gets of one cache kept at once: one is kept, the others go on with their own volumes, none fails', async () => {
  const root = await mkdtemp(join(tmpdir(), 'jw-rc-'));
  try {
    const paths = await Promise.all(Array.from({ length: 12 }, (_, i) => volume(root, `g${i}`, `get ${i}`)));
    const results = await Promise.all(paths.map((path) => saveCachedResource(root, 5, { kind: 'volume', path }, { version: { v: '1' }, metadata: [] }, 0o700, 1)));
    const kept = join(root, 'resource-caches', 'team-1', '5', 'volume');
    assert.equal(results.filter((r) => r.kind === 'volume' && r.path === kept).length, 1, 'one kept');
    for (const [i, r] of results.entries()) {
      assert.ok(r.kind === 'volume');
      const content = await readFile(join(r.path, 'version'), 'utf8');
      if (r.path !== kept) assert.equal(content, `get ${i}`, 'its own volume, where it was');
    }
    assert.deepEqual(await readdir(join(root, 'resource-caches', 'team-1')), ['5'], 'no partial folder left');
  } finally {
    await rm(root, { recursive: true, force: true });
  }
});

test("prune removes the partial folders a killed process left (another saver's, or the old pid.time names), not this process's", async () => {
  const root = await mkdtemp(join(tmpdir(), 'jw-rc-'));
  try {
    const team = join(root, 'resource-caches', 'team-2');
    await mkdir(join(team, '9.0badf00d.1a2b3c'), { recursive: true });
    await mkdir(join(team, `9.${SAVER}.4d5e6f`), { recursive: true });
    await mkdir(join(root, 'resource-caches', '8.4242.1796471154346'), { recursive: true });
    assert.equal(await pruneCachedResources(root, new Set()), 2);
    assert.deepEqual(await readdir(team), [`9.${SAVER}.4d5e6f`], 'a save in flight in this process is left alone');
  } finally {
    await rm(root, { recursive: true, force: true });
  }
});
