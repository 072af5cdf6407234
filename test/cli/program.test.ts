import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runCli } from '../../src/cli/program.ts';
import { capture } from '../support/cli.ts';


test('an unknown flag is a usage error with exit status 2 naming the flag', async () => {
  const io = capture();
  const code = await runCli(['--no-such-flag'], io);
  assert.equal(code, 2);
  assert.match(io.err, /--no-such-flag/);
});

test('--help prints usage and exits 0', async () => {
  const io = capture();
  const code = await runCli(['--help'], io);
  assert.equal(code, 0);
  assert.match(io.out, /Usage: jetway/);
});

test('an unknown command names the closest commands and a pointer, not the whole usage', async () => {
  const io = capture();
  assert.equal(await runCli(['pipelinez'], io), 2);
  assert.equal(io.err, "error: unknown command 'pipelinez'\n(Did you mean pipelines?)\nrun 'jetway --help' to list the commands\n");
  assert.equal(io.out, '');
});

test("a command's own usage error still shows that command's help", async () => {
  const io = capture();
  assert.equal(await runCli(['trigger-job', '--bogus'], io), 2);
  assert.match(io.err, /unknown option '--bogus'[\s\S]*Usage: jetway trigger-job/);
});

test('no help shows a default twice (the description and commander\'s "(default: …)")', async () => {
  const { buildProgram } = await import('../../src/cli/program.ts');
  const program = buildProgram(capture());
  for (const cmd of program.commands) {
    const help = cmd.helpInformation();
    for (const line of help.split('\n')) {
      assert.doesNotMatch(line, /\(default[^)]*\).*\(default/, `jetway ${cmd.name()} --help: ${line.trim()}`);
    }
  }
});

// "(repeatable; default: every local user) (default: [])" passed the line test above: the
// description's default is not in parentheses of its own. Commander's part is what it appends.
test("no option whose description says its default gets commander's \"(default: …)\" too", async () => {
  const { buildProgram } = await import('../../src/cli/program.ts');
  const program = buildProgram(capture());
  for (const cmd of [program, ...program.commands]) {
    const help = cmd.createHelp();
    for (const option of cmd.options) {
      if (!/\bdefaults?\b/i.test(option.description)) continue;
      assert.equal(help.optionDescription(option).replace(/ \(env: [A-Z_]+\)$/, ''), option.description, `jetway ${cmd.name()} ${option.flags}`);
    }
  }
});
