// The CLI's side of pending reasons (src/cli/client/pending.ts): the unpause hints, which reasons
// are said at once, and trigger-job -w's reporting while a build stays pending.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { heldByPause, reportPending, withUnpauseHints } from '../../src/cli/client/pending.ts';
import type { ApiClient } from '../../src/cli/client/http.ts';
import type { Build } from '../../src/api/wire.ts';

const hintRows: { name: string; reason: string; target: string; want: string }[] = [
  {
    name: 'a paused pipeline',
    reason: 'the pipeline demo is paused',
    target: 'ci',
    want: 'the pipeline demo is paused (unpause it: jetway unpause-pipeline -t ci -p demo)',
  },
  {
    name: 'a paused job, no target',
    reason: 'the job demo/unit is paused',
    target: '',
    want: 'the job demo/unit is paused (unpause it: jetway unpause-job -j demo/unit)',
  },
  {
    name: 'both, with an input reason left as it is',
    reason: 'the pipeline demo is paused; the job demo/unit is paused; input repo: every version of resource repo is disabled',
    target: 'ci',
    want: 'the pipeline demo is paused (unpause it: jetway unpause-pipeline -t ci -p demo); the job demo/unit is paused (unpause it: jetway unpause-job -t ci -j demo/unit); input repo: every version of resource repo is disabled',
  },
  { name: 'another pipeline named in the reason: no hint', reason: 'the pipeline other is paused', target: 'ci', want: 'the pipeline other is paused' },
];

for (const row of hintRows) {
  test(`unpause hints: ${row.name}`, () => {
    assert.equal(withUnpauseHints(row.reason, row.target, 'demo', 'unit'), row.want);
  });
}

const pauseRows: { reason: string | undefined; held: boolean }[] = [
  { reason: undefined, held: false },
  { reason: 'the pipeline demo is paused', held: true },
  { reason: 'the job demo/unit is paused; input repo: x', held: true },
  { reason: 'the pipeline demo is archived (set it again to unarchive it)', held: true },
  { reason: 'waiting for a check of repo (input repo) to finish', held: false },
  { reason: 'max-in-flight 1 reached: build unit #3 holds it', held: false },
];

for (const row of pauseRows) {
  test(`said at once: ${row.reason ?? 'no reason'} -> ${row.held}`, () => {
    assert.equal(heldByPause(row.reason), row.held);
  });
}

test('reportPending says each new reason once while the build is pending, and stops when it starts', async () => {
  const answers: Partial<Build>[] = [
    { status: 'pending', pending_reason: 'waiting for a check of repo (input repo) to finish' },
    { status: 'pending', pending_reason: 'waiting for a check of repo (input repo); its check is failing: boom' },
    { status: 'pending', pending_reason: 'waiting for a check of repo (input repo) to finish' },
    { status: 'pending', pending_reason: 'waiting for a check of repo (input repo); its check is failing: boom' },
    { status: 'pending', pending_reason: 'the job demo/unit is paused' },
    { status: 'started' },
  ];
  let asked = 0;
  const client = { get: async () => answers[Math.min(asked++, answers.length - 1)] } as unknown as ApiClient;
  const said: string[] = [];
  await reportPending(client, 1, new Promise(() => undefined), (r) => said.push(r), { everyMs: 1, alreadySaid: 'the job demo/unit is paused' });
  assert.deepEqual(said, ['waiting for a check of repo (input repo) to finish', 'waiting for a check of repo (input repo); its check is failing: boom']);
  assert.equal(asked, 6, 'it stopped asking once the build started');
});

test('reportPending stops when the watch ends, also when it failed', async () => {
  let asked = 0;
  const client = { get: async () => (asked++, { status: 'pending', pending_reason: 'x' }) } as unknown as ApiClient;
  const until = Promise.reject(new Error('the stream broke'));
  until.catch(() => undefined);
  await reportPending(client, 1, until, () => assert.fail('nothing said after the end'), { everyMs: 60_000 });
  assert.equal(asked, 0);
});
