// The artifact steps of one-off builds (`jetway execute`) on their own: an uploaded tarball becomes
// an input the build claims; a named artifact becomes a tarball the client downloads.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as tar from 'tar';
import type { Plan } from '../../../src/model/plan.ts';
import { BUILD_ID, DIGEST, errorOf, eventTypes, harness, type Harness } from './harness.ts';

const UPLOADS: { name: string; gzip: boolean }[] = [
  { name: 'a gzipped tarball', gzip: true },
  { name: 'a plain tarball', gzip: false },
];
for (const row of UPLOADS) {
  test(`artifact_input: ${row.name} is extracted into the artifact, and the build claims the upload`, async (t) => {
    const h = harness(t, { oneOff: true });
    const src = join(h.dir, 'client');
    mkdirSync(join(src, 'sub'), { recursive: true });
    writeFileSync(join(src, 'input.txt'), 'from the client\n');
    writeFileSync(join(src, 'sub', 'nested.txt'), 'nested\n');
    const upload = join(h.dir, 'upload.tar');
    await tar.c({ gzip: row.gzip, file: upload, cwd: src }, ['.']);
    const id = h.store.addUploadedArtifact(upload, 'in');

    assert.deepEqual(await h.run({ id: 'a', artifact_input: { artifact_id: id, name: 'in' } }), { ok: true });

    const artifact = h.state.artifact('in');
    assert.ok(artifact?.kind === 'volume');
    assert.ok(artifact.path.startsWith(join(h.deps.artifactsDir, 'extracted')));
    assert.equal(readFileSync(join(artifact.path, 'input.txt'), 'utf8'), 'from the client\n');
    assert.equal(readFileSync(join(artifact.path, 'sub', 'nested.txt'), 'utf8'), 'nested\n');
    assert.deepEqual(h.store.artifacts, [{ id, name: 'in', buildId: BUILD_ID, location: upload }]);
    assert.deepEqual(eventTypes(h.events), ['initialize', 'finish']);
  });
}

test('artifact_input: an unknown upload is an error', async (t) => {
  const h = harness(t, { oneOff: true });
  assert.equal(errorOf(await h.run({ id: 'a', artifact_input: { artifact_id: 999, name: 'in' } })), "artifact 999 (input 'in') not found");
  assert.equal(h.state.artifact('in'), undefined);
});

test('artifact_output: the artifact is tarred (gzip) and recorded for the client', async (t) => {
  const h = harness(t, { oneOff: true });
  h.volume('out', { 'result.txt': 'done\n', 'sub/x.txt': 'x\n' });

  assert.deepEqual(await h.run({ id: 'o', artifact_output: { name: 'out' } }), { ok: true });

  const [row] = h.store.artifacts;
  assert.ok(row?.location);
  assert.deepEqual({ name: row.name, buildId: row.buildId }, { name: 'out', buildId: BUILD_ID });
  assert.ok(row.location.startsWith(join(h.deps.artifactsDir, 'outputs')));
  assert.deepEqual([...readFileSync(row.location).subarray(0, 2)], [0x1f, 0x8b], 'gzipped');
  const dest = join(h.dir, 'download');
  mkdirSync(dest);
  await tar.x({ file: row.location, cwd: dest });
  assert.equal(readFileSync(join(dest, 'result.txt'), 'utf8'), 'done\n');
  assert.equal(readFileSync(join(dest, 'sub', 'x.txt'), 'utf8'), 'x\n');
  assert.deepEqual(eventTypes(h.events), ['initialize', 'finish']);
});

const OUTPUT_ERRORS: { name: string; setup?: (h: Harness) => void; error: string }[] = [
  { name: 'an output no step produced', error: "output 'out' was not produced" },
  {
    name: 'an output that is only an image reference',
    setup: (h) => h.state.registerArtifact('out', { kind: 'image-ref', reference: `registry.test/app@${DIGEST}`, digest: DIGEST }),
    error: "output 'out' is an image reference, not a directory",
  },
];
for (const row of OUTPUT_ERRORS) {
  test(`artifact_output: ${row.name} is an error`, async (t) => {
    const h = harness(t, { oneOff: true });
    row.setup?.(h);
    const plan: Plan = { id: 'o', artifact_output: { name: 'out' } };
    assert.equal(errorOf(await h.run(plan)), row.error);
    assert.deepEqual(h.store.artifacts, []);
  });
}
