import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli } from '../../src/cli/program.ts';
import { capture } from '../support/cli.ts';


const dir = mkdtempSync(join(tmpdir(), 'jetway-validate-'));
function file(name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

const valid = file('valid.yml', 'resources:\n- name: Repo\n  type: mock\n  source: {v: ((v)), n: ((n))}\njobs:\n- name: j\n  plan: [{get: Repo, attempts: ((n))}]\n');
const invalid = file('invalid.yml', 'resources:\n- name: repo\n  type: mock\njobs:\n- name: j\n  plan:\n  - get: nope\n  - get: repo\n    trigerr: 1\n');

test('a valid pipeline exits 0 and still prints its warnings', async () => {
  const io = capture();
  assert.equal(await runCli(['validate-pipeline', '-c', valid], io), 0);
  assert.match(io.out, new RegExp(`${valid}:2:9: warning \\(invalid_identifier\\): resources\\.Repo\\.name: 'Repo' is not a valid identifier`));
  assert.match(io.out, /looks good \(0 error\(s\), 2 warning\(s\)\)\n$/);
});

test('an invalid pipeline exits 1 with one line per problem and a summary', async () => {
  const io = capture();
  assert.equal(await runCli(['validate-pipeline', '-c', invalid], io), 1);
  assert.deepEqual(io.out.trim().split('\n'), [
    `${invalid}:7:10: error: jobs.j.plan.do[0].get(nope).get: unknown resource 'nope'`,
    `${invalid}:9:5: error: jobs.j.plan.do[1].get(repo): unknown fields ["trigerr"]`,
    `${invalid} is invalid: 2 error(s), 0 warning(s)`,
  ]);
});

test('--output json prints {valid, errors, warnings}', async () => {
  const io = capture();
  assert.equal(await runCli(['validate-pipeline', '-c', invalid, '--output', 'json'], io), 1);
  const parsed = JSON.parse(io.out) as { valid: boolean; errors: { line: number; path: string }[]; warnings: unknown[] };
  assert.equal(parsed.valid, false);
  assert.deepEqual(parsed.errors.map((e) => [e.line, e.path]), [
    [7, 'jobs.j.plan.do[0].get(nope).get'],
    [9, 'jobs.j.plan.do[1].get(repo)'],
  ]);
  assert.deepEqual(parsed.warnings, []);
});

test('vars from -l, -y and -v are applied (typed) and --strict rejects what is left', async () => {
  const varsFile = file('vars.yml', 'v: from-file\nn: 7\n');
  let io = capture();
  assert.equal(await runCli(['validate-pipeline', '-c', valid, '--strict', '-o', 'json'], io), 1);
  assert.deepEqual(
    (JSON.parse(io.out) as { errors: { message: string }[] }).errors.map((e) => e.message),
    ['undefined var ((v))', 'undefined var ((n))', 'undefined var ((n))'],
  );
  // every var resolved, but --strict fails on the warnings too (fly's validatepipelinehelpers/validate.go)
  io = capture();
  assert.equal(await runCli(['validate-pipeline', '-c', valid, '--strict', '-l', varsFile], io), 1);
  assert.match(io.out, /is invalid: 0 error\(s\), 2 warning\(s\) \(--strict fails on warnings\)\n$/);
  io = capture();
  assert.equal(await runCli(['validate-pipeline', '-c', valid, '-l', varsFile], io), 0);
  // a string where a number is needed: -v gives strings, -y gives typed values
  io = capture();
  assert.equal(await runCli(['validate-pipeline', '-c', valid, '-l', varsFile, '-v', 'n=2'], io), 1);
  assert.match(io.out, /attempts: expected number, got string "2"/);
  io = capture();
  assert.equal(await runCli(['validate-pipeline', '-c', valid, '-l', varsFile, '-y', 'n=2'], io), 0);
});

test('usage errors exit 2: missing -c, unreadable file, malformed -v, bad -l, bad --output', async () => {
  for (const argv of [
    ['validate-pipeline'],
    ['validate-pipeline', '-c', join(dir, 'missing.yml')],
    ['validate-pipeline', '-c', valid, '-v', 'novalue'],
    ['validate-pipeline', '-c', valid, '-l', file('list.yml', '- a\n')],
    ['validate-pipeline', '-c', valid, '--output', 'xml'],
  ]) {
    const io = capture();
    assert.equal(await runCli(argv, io), 2, argv.join(' '));
    assert.match(io.err, /error/);
  }
});

test('a missing pipeline or vars file is said to be missing (not "not valid YAML"), with the flag and the folder', async () => {
  let io = capture();
  assert.equal(await runCli(['validate-pipeline', '-c', join(dir, 'pipeline.yml')], io), 2);
  assert.equal(io.err, `error: -c ${join(dir, 'pipeline.yml')}: no such file (looked in ${dir}); create it or give the right path\n`);
  io = capture();
  assert.equal(await runCli(['validate-pipeline', '-c', valid, '-l', join(dir, 'vars.yml.missing')], io), 2);
  assert.equal(io.err, `error: -l ${join(dir, 'vars.yml.missing')}: no such file (looked in ${dir}); create it or give the right path\n`);
  io = capture();
  assert.equal(await runCli(['format-pipeline', '-c', join(dir, 'pipeline.yml')], io), 2);
  assert.match(io.err, /^error: -c .*pipeline\.yml: no such file/);
});

test('an unknown resource type is an error at validation, as Concourse reports it at set-pipeline', async () => {
  const unknown = file(
    'unknown-type.yml',
    'resource_types:\n- name: custom\n  type: registry-image\n  source: {repository: example/custom}\n- name: wrapped\n  type: no-such-base\nresources:\n- name: a\n  type: gti\n- name: b\n  type: custom\n- name: c\n  type: git\njobs:\n- name: j\n  plan: [{get: a}, {get: b}, {get: c}]\n',
  );
  const io = capture();
  assert.equal(await runCli(['validate-pipeline', '-c', unknown], io), 1);
  const lines = io.out.split('\n').filter((l) => l.includes('unknown resource type'));
  assert.equal(lines.length, 2, io.out);
  assert.match(
    lines[0] ?? '',
    /unknown-type\.yml:6:9: error: resource_types\.wrapped\.type: unknown resource type 'no-such-base': not one of Concourse's base types \(.*git.*\) nor declared in resource_types; if your web node adds it \(jetway web --base-resource-type no-such-base=IMAGE\), validate with --base-resource-type no-such-base$/,
  );
  assert.match(lines[1] ?? '', /unknown-type\.yml:9:9: error: resources\.a\.type: unknown resource type 'gti'/);
});

const operatorType = file(
  'operator-type.yml',
  'resources:\n- name: bucket\n  type: gcs\njobs:\n- name: j\n  plan: [{get: bucket}]\n',
);

test("offline, a type a web node adds with --base-resource-type is unknown, and the message says how to name it", async () => {
  const io = capture();
  assert.equal(await runCli(['validate-pipeline', '-c', operatorType], io), 1);
  assert.match(io.out, /operator-type\.yml:3:9: error: resources\.bucket\.type: unknown resource type 'gcs': .*validate with --base-resource-type gcs\n/);
});

test('validate-pipeline --base-resource-type NAME knows that type besides Concourse\'s', async () => {
  const io = capture();
  assert.equal(await runCli(['validate-pipeline', '-c', operatorType, '--base-resource-type', 'gcs'], io), 0, io.out);
  assert.match(io.out, /looks good/);
});

test('validate-pipeline --base-resource-type: another unknown type is still named, with the added ones', async () => {
  const io = capture();
  assert.equal(await runCli(['validate-pipeline', '-c', operatorType, '--base-resource-type', 'gcs-v2'], io), 1);
  assert.match(io.out, /unknown resource type 'gcs': not a base type \(Concourse's: .*; added with --base-resource-type: gcs-v2\) nor declared in resource_types\n/);
});

test('validate-pipeline --base-resource-type with a NAME=IMAGE or a bad name is a usage error', async () => {
  const io = capture();
  assert.equal(await runCli(['validate-pipeline', '-c', operatorType, '--base-resource-type', 'gcs=example/gcs'], io), 2);
  assert.match(io.err, /--base-resource-type 'gcs=example\/gcs': expected a type name/);
});

// fly/commands/validate_pipeline.go: -s is --strict (fail on warnings); -o alone prints the
// templated pipeline instead of "looks good", for the next command in a pipe
test('-s fails a pipeline that only has warnings; without it the same file passes', async () => {
  const warned = file('warned.yml', 'resources:\n- name: Repo\n  type: mock\n  source: {}\njobs:\n- name: j\n  plan: [{get: Repo}]\n');
  assert.equal(await runCli(['validate-pipeline', '-c', warned], capture()), 0);
  const io = capture();
  assert.equal(await runCli(['validate-pipeline', '-c', warned, '-s'], io), 1);
  assert.match(io.out, /warning \(invalid_identifier\)/);
});

test('-o alone prints the pipeline with its vars filled in (warnings to stderr); an invalid one still fails', async () => {
  const io = capture();
  assert.equal(await runCli(['validate-pipeline', '-c', valid, '-y', 'v=x', '-y', 'n=3', '-o'], io), 0);
  assert.doesNotMatch(io.out, /looks good|\(\(/);
  assert.match(io.out, /attempts: 3/);
  assert.match(io.out, /v: x/);
  assert.match(io.err, /invalid_identifier/);
  const bad = capture();
  assert.equal(await runCli(['validate-pipeline', '-c', invalid, '-o'], bad), 1);
  assert.match(bad.out, /is invalid: 2 error\(s\)/);
});

// unknown keys where Concourse decodes a struct (resources, jobs, task configs): fly's
// validate-pipeline decodes leniently without --strict and strictly with it
// (fly/commands/internal/validatepipelinehelpers/validate.go); a step's unknown key is an error
// either way (atc/step.go's own decoding), and the web node refuses them all (atc/config.go)
const unknownKeys = file('unknown-keys.yml', 'resources:\n- name: repo\n  type: mock\n  sorce: {x: 1}\njobs:\n- name: j\n  serial_grups: [a]\n  plan:\n  - get: repo\n');
const UNKNOWN_KEY_ROWS: { name: string; args: string[]; code: number; lines: string[] }[] = [
  {
    name: 'without --strict: warnings, exit 0',
    args: [],
    code: 0,
    lines: [
      `${unknownKeys}:4:3: warning (unknown_fields): resources.repo: unknown fields ["sorce"] (ignored; refused when the pipeline is set)`,
      `${unknownKeys}:7:3: warning (unknown_fields): jobs.j: unknown fields ["serial_grups"] (ignored; refused when the pipeline is set)`,
      'looks good (0 error(s), 2 warning(s))',
    ],
  },
  {
    name: 'with --strict: errors, exit 1',
    args: ['--strict'],
    code: 1,
    lines: [`${unknownKeys}:4:3: error: resources.repo: unknown fields ["sorce"]`, `${unknownKeys}:7:3: error: jobs.j: unknown fields ["serial_grups"]`, `${unknownKeys} is invalid: 2 error(s), 0 warning(s)`],
  },
];
for (const row of UNKNOWN_KEY_ROWS) {
  test(`unknown keys in a resource and a job, ${row.name}`, async () => {
    const io = capture();
    assert.equal(await runCli(['validate-pipeline', '-c', unknownKeys, ...row.args], io), row.code);
    assert.deepEqual(io.out.trim().split('\n'), row.lines);
  });
}
