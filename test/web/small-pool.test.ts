// A web node on the smallest pool `--postgres-max-conns` allows (3: one connection LISTENs, one
// holds a scheduling chunk's locks, one works): a dozen jobs triggered at once all run to success,
// and the node never holds more than its three connections. Before the scheduler fitted its
// chunks to the pool (src/scheduler/scheduler.ts schedulingConcurrency), four chunks held every
// connection for their locks and waited for another until the connect timeout.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { useWebNode } from '../support/web-node.ts';
import { jetway } from '../support/cli.ts';

const JOBS = 12;
const PIPELINE = `
resources:
- name: src
  type: mock
  source: {initial_version: v1}
jobs:
${Array.from({ length: JOBS }, (_, i) => `- name: j${i}\n  plan:\n  - get: src\n    trigger: true\n  - task: t\n    config: {platform: linux, run: {path: sh, args: [-c, 'echo ran ${i}']}}`).join('\n')}
`;

const web = useWebNode('small-pool', { postgresMaxConnections: 3, localUsers: ['dev:pw-small-pool'], schedulerIntervalMs: 200 }, { home: true });

test('--postgres-max-conns 3: twelve jobs triggered at once all succeed; the node holds three connections at most', async () => {
  const { node, tdb, dir } = web;
  assert.equal(node.db.pool.options.max, 3);
  let most = 0;
  const sampler = setInterval(() => (most = Math.max(most, node.db.pool.totalCount)), 5);
  try {
    await writeFile(join(dir, 'pipeline.yml'), PIPELINE);
    assert.equal((await jetway('login', '-t', 'small', '-c', node.url.replace('localhost', '127.0.0.1'), '-u', 'dev', '-p', 'pw-small-pool')).code, 0);
    assert.equal((await jetway('set-pipeline', '-t', 'small', '-p', 'many', '-c', join(dir, 'pipeline.yml'), '-n')).code, 0);
    assert.equal((await jetway('unpause-pipeline', '-t', 'small', '-p', 'many')).code, 0);
    const statuses = async (): Promise<string[]> =>
      (await tdb.db.query<{ status: string }>("SELECT b.status FROM builds b JOIN jobs j ON j.id = b.job_id WHERE b.job_id IS NOT NULL ORDER BY j.name")).rows.map((r) => r.status);
    for (let i = 0; i < 600; i++) {
      const s = await statuses();
      if (s.length === JOBS && s.every((x) => x !== 'pending' && x !== 'started')) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    assert.deepEqual(await statuses(), Array.from({ length: JOBS }, () => 'succeeded'));
    const log = await jetway('watch', '-t', 'small', '-j', 'many/j7');
    assert.match(log.out, /ran 7/);
  } finally {
    clearInterval(sampler);
  }
  assert.ok(most >= 1 && most <= 3, `${most} connections at most`);
});
