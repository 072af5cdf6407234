// Every fixture pipeline (Concourse's testflight set and Jetway's own) survives a save and a
// load unchanged: no field is lost (a Go fork lost `produces` on read).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { getPipelineConfig, savePipeline } from '../../src/db/pipelines.ts';
import type { PipelineConfig } from '../../src/config/index.ts';
import { useTestDatabase } from '../support/db.ts';
import { PIPELINE_FIXTURES } from '../support/shared.ts';

const FIXTURES = PIPELINE_FIXTURES;
const fixtureFiles = ['testflight', 'jetway'].flatMap((dir) =>
  readdirSync(join(FIXTURES, dir))
    .filter((f) => f.endsWith('.yml') || f.endsWith('.yaml'))
    .sort()
    .map((f) => join(dir, f)),
);

const t = useTestDatabase();

test('the fixture set is there', () => {
  assert.ok(fixtureFiles.length >= 30, `found ${fixtureFiles.length} fixtures`);
  assert.ok(fixtureFiles.includes('jetway/native-images.yml'));
});

for (const file of fixtureFiles) {
  test(`round trip: ${file}`, async () => {
    const { db } = t;
    const parsed: unknown = parse(readFileSync(join(FIXTURES, file), 'utf8'));
    const config = parsed as PipelineConfig;
    const name = file.replace(/[/.]/g, '-');
    const saved = await savePipeline(db, { team: 'main', name, config });
    const loaded = await getPipelineConfig(db, { team: 'main', name });
    assert.ok(loaded);
    assert.equal(loaded.version, saved.version);
    assert.deepStrictEqual(loaded.config, parsed);
    // key order survives too (get-pipeline prints what was set)
    assert.equal(JSON.stringify(loaded.config), JSON.stringify(parsed));

    // saving the loaded config again is a no-op apart from the version
    const again = await savePipeline(db, { team: 'main', name, config: loaded.config, expectedVersion: loaded.version });
    assert.equal(again.pipelineId, saved.pipelineId);
    assert.deepStrictEqual((await getPipelineConfig(db, { team: 'main', name }))?.config, parsed);
  });
}

test('fields that a Go fork lost survive: produces, defaults, check_every, tags, params, fetch_artifact', async () => {
  const { db } = t;
  const config = {
    resource_types: [
      {
        name: 'oci',
        type: 'registry-image',
        source: { repository: 'x/y' },
        produces: 'registry-image',
        defaults: { insecure: true },
        params: { format: 'oci' },
        check_every: '10m',
        tags: ['k8s'],
        privileged: true,
      },
    ],
    resources: [{ name: 'img', type: 'oci', source: { tag: 'v1' }, check_every: 'never', tags: ['a'], public: true, icon: 'docker', webhook_token: 'tok' }],
    jobs: [
      {
        name: 'j',
        public: true,
        build_log_retention: { builds: 3 },
        plan: [{ get: 'img', params: { fetch_artifact: false }, fetch_artifact: true, tags: ['t'] }, { task: 'x', image: 'img', config: { platform: 'linux', run: { path: 'true' } } }],
      },
    ],
    groups: [{ name: 'g', jobs: ['j'] }],
    display: { background_image: 'https://example.com/x.png' },
  };
  await savePipeline(db, { team: 'main', name: 'lost-fields', config: config as unknown as PipelineConfig });
  const loaded = await getPipelineConfig(db, { team: 'main', name: 'lost-fields' });
  assert.deepStrictEqual(loaded?.config, config);
  const types = await db.query<{ config: Record<string, unknown> }>(
    `SELECT rt.config FROM resource_types rt JOIN pipelines p ON p.id = rt.pipeline_id WHERE p.name = 'lost-fields'`,
  );
  assert.equal(types.rows[0]?.config.produces, 'registry-image', 'the per-type row keeps produces too');
});
