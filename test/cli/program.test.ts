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
