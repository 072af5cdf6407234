import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { loadPipeline, loadTaskConfig, formatDiagnostic } from '../../src/config/index.ts';
import { PIPELINE_FIXTURES } from '../support/shared.ts';

const FIXTURES = PIPELINE_FIXTURES;

function ymlFiles(dir: string): string[] {
  return readdirSync(join(FIXTURES, dir))
    .filter((f) => f.endsWith('.yml'))
    .sort();
}

// Two testflight files are task configs (used with `task: file:`), not pipelines.
function isTaskConfig(text: string): boolean {
  return /^platform:/m.test(text) && !/^jobs:/m.test(text);
}

for (const dir of ['testflight', 'jetway']) {
  const files = ymlFiles(dir);
  test(`there are ${dir} fixtures`, () => assert.ok(files.length > 0));
  for (const f of files) {
    test(`${dir}/${f} validates with no errors (vars unresolved)`, () => {
      const text = readFileSync(join(FIXTURES, dir, f), 'utf8');
      const result = isTaskConfig(text) ? loadTaskConfig(text, { file: f }) : loadPipeline(text, { file: f });
      assert.deepEqual(result.errors.map(formatDiagnostic), []);
      assert.ok(result.config, 'it has a config');
    });
  }
}

// The README's table: | file | line | message contains |
const table = readFileSync(join(FIXTURES, 'invalid', 'README.md'), 'utf8')
  .split('\n')
  .map((l) => /^\|\s*([\w-]+\.yml)\s*\|\s*(\d+)\s*\|\s*(.+?)\s*\|$/.exec(l))
  .filter((m): m is RegExpExecArray => m !== null)
  .map((m) => ({ file: m[1] as string, line: Number(m[2]), fragment: (m[3] as string).replace(/^`|`$/g, '') }));

test('the invalid README table covers every invalid fixture', () => {
  assert.deepEqual(table.map((r) => r.file).sort(), ymlFiles('invalid'));
});

for (const row of table) {
  test(`invalid/${row.file} is rejected with "${row.fragment}" at line ${row.line}`, () => {
    const text = readFileSync(join(FIXTURES, 'invalid', row.file), 'utf8');
    const result = loadPipeline(text, { file: row.file });
    assert.equal(result.config, undefined);
    const hit = result.errors.find((e) => e.message.includes(row.fragment) && e.line === row.line);
    assert.ok(hit, `no error containing "${row.fragment}" at line ${row.line}: ${result.errors.map(formatDiagnostic).join('; ')}`);
    assert.equal(hit.file, row.file);
  });
}
