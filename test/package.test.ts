import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, utimesSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { bundleIsFresh, newestModification, packagePath, packageRoot } from '../src/package.ts';

test('packageRoot is the directory of the jetway package.json, whatever the working directory', () => {
  const manifest = JSON.parse(readFileSync(join(packageRoot(), 'package.json'), 'utf8')) as { name: string };
  assert.equal(manifest.name, 'jetway');
  assert.ok(existsSync(packagePath('src', 'db', 'migrations')));
});

test('a bundle is fresh only when it exists and is not older than any source file', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'jw-fresh-'));
  try {
    const bundle = join(dir, 'bundle.mjs');
    assert.equal(bundleIsFresh(bundle), false, 'missing');
    writeFileSync(bundle, '');
    assert.equal(bundleIsFresh(bundle), true, 'written after every source');
    const newest = newestModification(packagePath('src'));
    const older = new Date(newest - 60_000);
    utimesSync(bundle, older, older);
    assert.equal(bundleIsFresh(bundle), false, 'a source edited after the bundle');
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
