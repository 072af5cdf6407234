import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli } from '../../src/cli/program.ts';
import { capture } from '../support/cli.ts';


const dir = mkdtempSync(join(tmpdir(), 'jetway-format-'));
const messy = 'jobs: # the jobs\n- plan: [{trigger: true, get: repo}]\n  name: j\nresources: [{type: mock, name: repo}]\n';
const canonical = 'resources:\n- name: repo\n  type: mock\njobs:\n- name: j\n  plan:\n  - get: repo\n    trigger: true\n';

test('format-pipeline prints the canonical form and exits 0', async () => {
  const path = join(dir, 'p.yml');
  writeFileSync(path, messy);
  const io = capture();
  assert.equal(await runCli(['format-pipeline', '-c', path], io), 0);
  assert.equal(io.out, canonical);
  assert.equal(readFileSync(path, 'utf8'), messy);
});

test('--write rewrites the file in place; formatting again changes nothing', async () => {
  const path = join(dir, 'w.yml');
  writeFileSync(path, messy);
  assert.equal(await runCli(['format-pipeline', '-c', path, '--write'], capture()), 0);
  assert.equal(readFileSync(path, 'utf8'), canonical);
  const io = capture();
  assert.equal(await runCli(['format-pipeline', '-c', path], io), 0);
  assert.equal(io.out, canonical);
});

test('a config that does not decode exits 1 with located errors; missing -c exits 2', async () => {
  const path = join(dir, 'bad.yml');
  writeFileSync(path, 'jobs:\n- name: j\n  bogus: 1\n');
  const io = capture();
  assert.equal(await runCli(['format-pipeline', '-c', path], io), 1);
  assert.match(io.err, /bad\.yml:3:3: error: jobs\.j: unknown fields \["bogus"\]/);
  assert.equal(await runCli(['format-pipeline'], capture()), 2);
});
