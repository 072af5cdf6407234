// fly's command aliases (src/cli/aliases.ts; fly/commands/fly.go in Concourse's source): each
// alias of a command Jetway has runs that command, and no alias is ambiguous.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildProgram } from '../../src/cli/program.ts';
import { FLY_ALIASES } from '../../src/cli/aliases.ts';
import { capture } from '../support/cli.ts';

const program = buildProgram(capture());
const names = new Set(program.commands.map((c) => c.name()));

for (const [command, aliases] of Object.entries(FLY_ALIASES)) {
  if (!names.has(command)) continue; // listed as missing in docs/concourse-compatibility.md
  for (const alias of aliases) {
    test(`fly's \`${alias}\` runs \`${command}\``, () => {
      const matches = program.commands.filter((c) => c.name() === alias || c.aliases().includes(alias));
      assert.deepEqual(
        matches.map((c) => c.name()),
        [command],
      );
    });
  }
}

test('the aliases reach the commands through the parser: `jetway sp --help` is set-pipeline\'s help', async () => {
  const io = capture();
  const { runCli } = await import('../../src/cli/program.ts');
  const code = await runCli(['sp', '--help'], io);
  assert.equal(code, 0);
  assert.match(io.out, /Usage: jetway set-pipeline\|sp/);
});

test('no alias names another command or is given twice', () => {
  const seen = new Map<string, string>();
  for (const cmd of program.commands) {
    for (const alias of cmd.aliases()) {
      assert.ok(!names.has(alias), `${cmd.name()}'s alias ${alias} is a command`);
      assert.ok(!seen.has(alias), `${alias} is an alias of ${seen.get(alias)} and ${cmd.name()}`);
      seen.set(alias, cmd.name());
    }
  }
});
