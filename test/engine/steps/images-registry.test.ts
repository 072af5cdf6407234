// The web-node check of decision 12 (docs/image-features.md) against a real registry
// (test/support/registry.ts): the version it starts from reaches registry-image's check. Apart
// from images.test.ts so that only these tests start a registry (docs/mutation-testing.md: a
// survivor of src/engine/image/native.ts that only a registry can tell).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RegistryClient } from '../../../src/images/registry-client.ts';
import type { Version } from '../../../src/model/version.ts';
import { buildTestImage, pushTestImage, startRegistry } from '../../support/registry.ts';
import { harness } from './harness.ts';

const FROM: { name: string; from?: string; found: string[] }[] = [
  { name: 'with no version to start from, only the latest semver tag', found: ['1.1.0'] },
  { name: 'from 1.0.0, every tag from it on', from: '1.0.0', found: ['1.0.0', '1.1.0'] },
];
for (const row of FROM) {
  test(`images natively: a registry-image check in the web node, ${row.name}`, async (t) => {
    const registry = await startRegistry();
    t.after(() => registry.stop());
    const image = buildTestImage({ layers: [[{ type: 'file', path: 'etc/release', content: 'v1\n' }]] });
    const repo = { registry: registry.host, path: 'team/semver' };
    let digest = '';
    for (const tag of ['0.9.0', '1.0.0', '1.1.0']) digest = await pushTestImage(new RegistryClient(), repo, tag, image);
    const pipeline = `resources:\n- name: semver\n  type: registry-image\n  source: {repository: ${registry.host}/team/semver}\n`;
    const h = harness(t, { pipeline, nativeImages: true, runsImages: true });
    const from: Version | undefined = row.from ? { tag: row.from, digest } : undefined;

    assert.deepEqual(await h.run(h.checkPlan('semver', from ? { fromVersion: from } : {})), { ok: true });

    assert.deepEqual(h.runtime.containers, []);
    assert.deepEqual(
      h.store.versions.map((v) => v.version.tag),
      row.found,
    );
  });
}
