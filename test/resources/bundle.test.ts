import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeResourcesBundle } from '../../src/resources/bundle.ts';

test('the bundled resource types speak the protocol, and write mirror_self scripts that run the bundle', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'jw-bundle-'));
  try {
    // laid out as in a resource-type image: renamed, no Jetway package around it
    const bundle = join(dir, 'cli.js');
    await writeResourcesBundle(bundle);
    await writeFile(join(dir, 'package.json'), '{"type":"module"}\n');
    const out = execFileSync(process.execPath, [bundle, 'mock', 'check'], { input: JSON.stringify({ source: { initial_version: 'b1' } }), cwd: dir });
    assert.deepEqual(JSON.parse(out.toString()), [{ version: 'b1' }]);
    // in, from inside the bundle: the mirrored image's scripts must run the bundle itself
    const getDir = join(dir, 'get');
    execFileSync(process.execPath, [bundle, 'mock', 'in', getDir], { input: JSON.stringify({ source: { mirror_self: true }, version: { version: 'b1' } }), cwd: dir });
    const checked = execFileSync(join(getDir, 'rootfs', 'opt', 'resource', 'check'), { input: JSON.stringify({ source: {} }) });
    assert.deepEqual(JSON.parse(checked.toString()), [{ version: 'mock' }]);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
