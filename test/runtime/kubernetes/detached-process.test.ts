// A task's re-attachable process (issue 17; pod-spec.ts detachedStartCommand and followCommand),
// run here with the host's busybox in place of the pod's: the start returns at once and the
// process goes on without it; a follower gives its stdout and stderr and ends with its exit code;
// a second follower (a web node re-attaching) gives the same output again from the start.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BUSYBOX, detachedStartCommand, followCommand, processCommand, RUN_DIR } from '../../../src/runtime/kubernetes/pod-spec.ts';

const dir = mkdtempSync(join(tmpdir(), 'jw-detached-'));
after(() => rmSync(dir, { recursive: true, force: true }));

/** The pod's paths mapped onto this host: busybox, /jetway/run. */
const onHost = (argv: string[]): string[] => argv.map((a) => a.replaceAll(BUSYBOX, '/bin/busybox').replaceAll(RUN_DIR, dir));

function run(argv: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const [cmd, ...args] = onHost(argv);
  return new Promise((resolve) => {
    const child = spawn(cmd!, args);
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    child.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
  });
}

test('the detached process outlives its start; followers give its output from the start and its exit code', async () => {
  const proc = processCommand({ path: '/bin/busybox', args: ['sh', '-c', 'echo one; echo err >&2; sleep 1; printf "two\\nthree"; exit 3'] }, dir, 'task');
  const started = Date.now();
  const start = await run(detachedStartCommand(proc).command);
  assert.equal(start.code, 0, start.stderr);
  assert.ok(Date.now() - started < 1000 + 5000, 'the start does not wait for the process');
  const first = await run(followCommand().command);
  assert.deepEqual(first, { code: 3, stdout: 'one\ntwo\nthree', stderr: 'err\n' });
  const again = await run(followCommand().command);
  assert.deepEqual(again, first, 'a re-attaching follower reads the same output again');
});
