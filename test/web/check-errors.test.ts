// A resource whose check fails (an undefined ((var)) in its source) on a web node running in
// this process: `jetway resources` shows the failing state and the error, `jetway
// check-resource` prints the error and exits non-zero, and the failing check runs no more often
// than a healthy one (it waits its interval). And a task whose `file:` is missing from its
// artifact: `trigger-job -w` names the step, the artifact and the path, not an internal path.
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { useWebNode } from '../support/web-node.ts';
import { jetway } from '../support/cli.ts';

const PIPELINE = `
resources:
- name: broken
  type: mock
  source: {initial_version: ((not_set_anywhere))}
- name: fine
  type: mock
  source: {initial_version: v1}
jobs:
- name: j
  plan:
  - get: broken
    trigger: true
  - get: fine
    trigger: true
- name: missing-file
  plan:
  - get: fine
  - task: run-it
    file: fine/ci/task.yml
`;

const web = useWebNode('check-errors', { localUsers: ['dev:pw-check-errors'] }, { home: true });

before(async () => {
  const { node, dir } = await web.ready();
  await writeFile(join(dir, 'pipeline.yml'), PIPELINE);
  assert.equal((await jetway('login', '-t', 'ci', '-c', node.url.replace('localhost', '127.0.0.1'), '-u', 'dev', '-p', 'pw-check-errors')).code, 0);
  assert.equal((await jetway('set-pipeline', '-t', 'ci', '-p', 'demo', '-c', join(dir, 'pipeline.yml'), '-n')).code, 0);
  assert.equal((await jetway('unpause-pipeline', '-t', 'ci', '-p', 'demo')).code, 0);
});

const checkBuilds = async (resource: string): Promise<{ status: string; manual: boolean }[]> =>
  (
    await web.tdb.db.query<{ status: string; manually_triggered: boolean }>(
      'SELECT b.status, b.manually_triggered FROM builds b JOIN resources r ON r.id = b.resource_id WHERE r.name = $1 ORDER BY b.id',
      [resource],
    )
  ).rows.map((r) => ({ status: r.status, manual: r.manually_triggered }));

/** The resource's latest in-memory check (migration 0021): a periodic check of a built-in type, without a build row. */
const inMemoryCheck = async (resource: string): Promise<{ id: number | null; status: string | null }> =>
  (await web.tdb.db.query<{ id: number | null; status: string | null }>('SELECT in_memory_check_id AS id, in_memory_check_status AS status FROM resources WHERE name = $1', [resource])).rows[0]!;

test('resources shows a failing check with its error; check-resource prints it; it is not checked more often than a healthy resource', async () => {
  // the first periodic checks of both resources
  for (let i = 0; i < 100; i++) {
    const [b, f] = [await checkBuilds('broken'), await inMemoryCheck('fine')];
    if (b.some((x) => x.status === 'errored' || x.status === 'failed') && f.status === 'succeeded') break;
    await new Promise((r) => setTimeout(r, 100));
  }
  const r = await jetway('resources', '-t', 'ci', '-p', 'demo');
  assert.equal(r.code, 0, r.err);
  const rows = r.out.split('\n').map((l) => l.split(/\s{2,}/));
  assert.deepEqual(rows.find((row) => row[0] === 'broken')?.slice(0, 4), ['broken', 'mock', 'n/a', 'errored'], r.out);
  assert.deepEqual(rows.find((row) => row[0] === 'fine')?.slice(0, 4), ['fine', 'mock', 'n/a', 'succeeded'], r.out);
  assert.match(r.out, /\nbroken: check errored \(build \d+\): .*not_set_anywhere.*\n {2}check again: jetway check-resource -t ci -r demo\/broken\n/);

  // the checker scans every 200 ms for two seconds: the failed check waits its interval (1m), as the healthy one
  const healthy = await inMemoryCheck('fine');
  await new Promise((res) => setTimeout(res, 2000));
  assert.equal((await checkBuilds('broken')).filter((b) => !b.manual).length, 1, 'one periodic check of the failing resource: a check build with its error');
  assert.deepEqual(await inMemoryCheck('fine'), healthy, 'one periodic check of the healthy resource');
  assert.deepEqual(await checkBuilds('fine'), [], 'the healthy one ran in memory: no check build');

  const c = await jetway('check-resource', '-t', 'ci', '-r', 'demo/broken');
  assert.notEqual(c.code, 0);
  assert.match(c.err, /not_set_anywhere/, 'check-resource prints the error');
  assert.match(c.out, /errored\n$/);
});

test("a task whose file: is missing names the step, the artifact and the path inside it (no internal path)", async () => {
  const r = await jetway('trigger-job', '-t', 'ci', '-j', 'demo/missing-file', '-w');
  assert.notEqual(r.code, 0);
  assert.match(r.err, /task 'run-it': file 'fine\/ci\/task\.yml' not found in artifact 'fine'/, r.err);
  assert.doesNotMatch(r.err + r.out, /ENOENT/);
  assert.ok(!(r.err + r.out).includes(web.dir), `no path of the web node's data directory:\n${r.err}`);
});

test('a manual build waiting for a failing check asks for one check, not one per scheduling pass', async () => {
  const t = await jetway('trigger-job', '-t', 'ci', '-j', 'demo/j');
  assert.equal(t.code, 0, t.err);
  const build = (
    await web.tdb.db.query<{ id: number }>("SELECT b.id FROM builds b JOIN jobs j ON j.id = b.job_id WHERE j.name = 'j' ORDER BY b.id DESC LIMIT 1")
  ).rows[0]!.id;
  const since = async (): Promise<{ status: string }[]> =>
    (
      await web.tdb.db.query<{ status: string }>(
        "SELECT b.status FROM builds b JOIN resources r ON r.id = b.resource_id WHERE r.name = 'broken' AND b.id > $1 ORDER BY b.id",
        [build],
      )
    ).rows;
  // the check made for the build, and its failure
  for (let i = 0; i < 100 && !(await since()).some((b) => b.status === 'errored' || b.status === 'failed'); i++) await new Promise((r) => setTimeout(r, 100));
  // five scheduling passes (1 s each) while the build waits: the failed check waits its interval (1m)
  await new Promise((res) => setTimeout(res, 5000));
  assert.equal((await since()).length, 1, 'one check of the failing resource for the waiting build');
  const b = await jetway('builds', '-t', 'ci', '-j', 'demo/j');
  assert.match(b.out, /not_set_anywhere|broken/, 'the build says why it waits');
});
