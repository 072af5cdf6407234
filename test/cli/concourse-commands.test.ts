// docs/concourse-compatibility.md's command table stays true: each fly command marked `yes` is a
// `jetway` command (or, for fly's `hijack` and `help`, the command or feature named there), and
// every other one is not (adding one means updating the page).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildProgram } from '../../src/cli/program.ts';
import { capture } from '../support/cli.ts';

const DOC = join(import.meta.dirname, '..', '..', 'docs', 'concourse-compatibility.md');
const rows = readFileSync(DOC, 'utf8')
  .split('\n')
  .flatMap((line) => {
    const m = /^\| `([a-z-]+)` \| ([^|]+) \|$/.exec(line);
    return m ? [{ command: m[1]!, status: m[2]!.trim() }] : [];
  });

const program = buildProgram(capture());
/** names and aliases jetway answers to; `help` is commander's own */
const answers = new Set(['help', ...program.commands.flatMap((c) => [c.name(), ...c.aliases()])]);

test("the page lists all 68 of fly's commands once", () => {
  assert.equal(rows.length, 68);
  assert.equal(new Set(rows.map((r) => r.command)).size, 68);
});

for (const row of rows) {
  const has = row.status.startsWith('yes');
  test(`fly ${row.command}: ${has ? 'jetway has it' : `jetway has not (${row.status.split(':')[0]})`}`, () => {
    assert.equal(answers.has(row.command), has, has ? `jetway ${row.command} is not a command` : `jetway ${row.command} exists now: mark it yes in docs/concourse-compatibility.md`);
  });
}
