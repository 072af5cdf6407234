// The bundled jetway command (what `npm install` writes to dist/cli and bin/jetway.js runs) behaves
// as the sources do, and keeps the Kubernetes client out of the start-up path.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { writeCliBundle } from '../../src/cli/bundle.ts';
import { packagePath } from '../../src/package.ts';
import { PIPELINE_FIXTURES } from '../support/shared.ts';

const BIN = packagePath('bin', 'jetway.js');
const INVALID = join(PIPELINE_FIXTURES, 'invalid');

test('the bundle runs commands like the sources, from another working directory', async () => {
  // inside the package (paths are found from its root), away from dist/cli, which other tests use
  const outdir = packagePath('dist', `test-${randomBytes(4).toString('hex')}`);
  try {
    const entry = await writeCliBundle(outdir);
    const version = (JSON.parse(readFileSync(packagePath('package.json'), 'utf8')) as { version: string }).version;
    assert.equal(execFileSync(process.execPath, [entry, '--version'], { cwd: '/' }).toString().trim(), version);

    const example = packagePath('examples', 'hello.yml');
    const bundled = spawnSync(process.execPath, [entry, 'validate-pipeline', '-c', example, '--output', 'json'], { cwd: '/' });
    const sources = spawnSync(process.execPath, [BIN, 'validate-pipeline', '-c', example, '--output', 'json'], { cwd: '/', env: { ...process.env, JETWAY_BUNDLE: 'off' } });
    assert.equal(bundled.status, 0, bundled.stderr.toString());
    assert.equal(bundled.stdout.toString(), sources.stdout.toString());

    // an invalid pipeline: the same message and exit code both ways
    const bad = readdirSync(INVALID).filter((f) => f.endsWith('.yml'))[0];
    assert.ok(bad, 'an invalid fixture');
    const a = spawnSync(process.execPath, [entry, 'validate-pipeline', '-c', join(INVALID, bad)]);
    const b = spawnSync(process.execPath, [BIN, 'validate-pipeline', '-c', join(INVALID, bad)], { env: { ...process.env, JETWAY_BUNDLE: 'off' } });
    assert.notEqual(a.status, 0);
    assert.equal(a.status, b.status);
    assert.equal(a.stderr.toString() + a.stdout.toString(), b.stderr.toString() + b.stdout.toString());

    // the Kubernetes client is imported by a chunk loaded on demand, never by the entry point
    const files = readdirSync(outdir);
    const importsClient = (f: string): boolean => /from\s*["']@kubernetes\/client-node["']/.test(readFileSync(join(outdir, f), 'utf8'));
    assert.equal(importsClient('jetway.mjs'), false);
    assert.ok(files.some((f) => f !== 'jetway.mjs' && importsClient(f)), `a chunk imports the client: ${files.join(', ')}`);
  } finally {
    await rm(outdir, { recursive: true, force: true });
  }
});
