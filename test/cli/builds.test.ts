import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { jetway, startCliServer, PASSWORD, PIPELINE, type CliServer } from './client-support.ts';
import { finishBuild, saveBuildEvent, startBuild } from '../../src/db/builds.ts';
import { findOrCreateResourceConfig, findOrCreateScope, saveVersions, setResourceScope } from '../../src/db/versions.ts';
import { buildEvent } from '../../src/model/build-events.ts';
import type { Plan } from '../../src/model/plan.ts';

let s: CliServer;
before(async () => {
  s = await startCliServer();
  assert.equal((await jetway('login', '-t', 'ci', '-c', s.url, '-u', 'admin', '-p', PASSWORD)).code, 0);
  const file = join(s.dir, 'pipeline.yml');
  writeFileSync(file, PIPELINE);
  assert.equal((await jetway('set-pipeline', '-t', 'ci', '-p', 'demo', '-c', file, '-n')).code, 0);
  const rid = (await s.api.t.db.query<{ id: number }>(`SELECT id FROM resources WHERE name = 'repo'`)).rows[0]!.id;
  const cfg = await findOrCreateResourceConfig(s.api.t.db, { baseType: 'mock' }, {});
  const scope = await findOrCreateScope(s.api.t.db, cfg.id, rid);
  await setResourceScope(s.api.t.db, rid, scope);
  for (let i = 1; i <= 7; i++) await saveVersions(s.api.t.db, scope.id, [{ version: { ref: `r${i}` } }]);
});
after(async () => {
  await s.close();
});

test('resources and resource-versions (following pages), table and JSON', async () => {
  const r = await jetway('resources', '-t', 'ci', '-p', 'demo');
  assert.equal(r.code, 0, r.err);
  assert.deepEqual(r.out.trimEnd().split('\n').map((l) => l.split(/\s{2,}/)[0]), ['name', 'repo', 'image']);
  const v = await jetway('resource-versions', '-t', 'ci', '-r', 'demo/repo', '-c', '5');
  assert.equal(v.code, 0, v.err);
  const lines = v.out.trimEnd().split('\n');
  assert.match(lines[0] ?? '', /^id\s+version\s+enabled$/);
  assert.deepEqual(lines.slice(1).map((l) => l.split(/\s+/)[1]), ['ref:r7', 'ref:r6', 'ref:r5', 'ref:r4', 'ref:r3']);
  const j = await jetway('resource-versions', '-t', 'ci', '-r', 'demo/repo', '--json');
  assert.equal((JSON.parse(j.out) as unknown[]).length, 7);
  const bad = await jetway('resource-versions', '-t', 'ci', '-r', 'demo');
  assert.equal(bad.code, 2);
  const missing = await jetway('resource-versions', '-t', 'ci', '-r', 'demo/nope');
  assert.equal(missing.code, 1);
  assert.equal(missing.err, 'error: resource nope in pipeline main/demo not found (HTTP 404)\n');
  const noPipeline = await jetway('resources', '-t', 'ci', '-p', 'nope');
  assert.equal(noPipeline.code, 1);
  assert.equal(noPipeline.err, 'error: pipeline main/nope not found (HTTP 404)\n');
});

/** Plays a build: started, a log line, the task's exit status, the final status. */
async function play(status: 'succeeded' | 'failed', exit: number, after = 0): Promise<number> {
  for (let i = 0; i < 100; i++) {
    const r = await s.api.t.db.query<{ id: number }>(`SELECT id FROM builds WHERE status = 'pending' AND id > $1 ORDER BY id DESC LIMIT 1`, [after]);
    const id = r.rows[0]?.id;
    if (id !== undefined) {
      await startBuild(s.api.t.db, id, { id: 'root', do: [] } as unknown as Plan);
      await saveBuildEvent(s.api.t.db, id, buildEvent('log', { time: 1, origin: { id: 't', source: 'stdout' }, payload: 'running tests\n' }));
      await saveBuildEvent(s.api.t.db, id, buildEvent('finish-task', { time: 2, origin: { id: 't' }, exit_status: exit }));
      await finishBuild(s.api.t.db, id, status);
      return id;
    }
    await new Promise((res) => setTimeout(res, 50));
  }
  throw new Error('no pending build appeared');
}

test('trigger-job -w follows the build and exits with the task exit status', async () => {
  const [r, id] = await Promise.all([jetway('trigger-job', '-t', 'ci', '-j', 'demo/unit', '-w'), play('failed', 7)]);
  assert.equal(r.code, 7, r.err);
  assert.equal(r.out, 'started demo/unit #1\nrunning tests\nfailed\n');
  // watching a finished build replays it
  const w = await jetway('watch', '-t', 'ci', '-b', String(id));
  assert.equal(w.code, 7);
  assert.equal(w.out, 'running tests\nfailed\n');
});

test('trigger-job without -w; watch -j; a succeeded build exits 0', async () => {
  const t = await jetway('trigger-job', '-t', 'ci', '-j', 'demo/unit');
  assert.equal(t.code, 0, t.err);
  assert.equal(t.out, 'started demo/unit #2\n');
  const [w] = await Promise.all([jetway('watch', '-t', 'ci', '-j', 'demo/unit'), play('succeeded', 0)]);
  assert.equal(w.code, 0, w.err);
  assert.equal(w.out, 'running tests\nsucceeded\n');
  const missing = await jetway('trigger-job', '-t', 'ci', '-j', 'demo/nope');
  assert.equal(missing.code, 1);
  assert.equal(missing.err, 'error: job nope in pipeline main/demo not found (HTTP 404)\n');
  assert.equal((await jetway('trigger-job', '-t', 'ci', '-j', 'demo')).code, 2);
  assert.equal((await jetway('watch', '-t', 'ci')).code, 2);
});

test('jobs and builds: tables and JSON', async () => {
  const j = await jetway('jobs', '-t', 'ci', '-p', 'demo');
  assert.equal(j.code, 0, j.err);
  const [table, held] = j.out.trimEnd().split('\n\n');
  const rows = (table ?? '').split('\n').map((l) => l.split(/\s{2,}/));
  assert.deepEqual(rows, [
    ['name', 'paused', 'status', 'next'],
    ['unit', 'no', 'succeeded', 'n/a'],
    ['ship', 'no', 'n/a', 'n/a'],
  ]);
  // under the table, why each job will not run
  assert.deepEqual(held?.split('\n'), [
    'unit: the pipeline demo is paused (unpause it: jetway unpause-pipeline -t ci -p demo)',
    'ship: the pipeline demo is paused (unpause it: jetway unpause-pipeline -t ci -p demo)',
  ]);
  const b = await jetway('builds', '-t', 'ci', '-j', 'demo/unit');
  assert.equal(b.code, 0, b.err);
  const lines = b.out.trimEnd().split('\n');
  // fly/commands/builds.go (test/cli/fly-tables.test.ts has its exact cells)
  assert.match(lines[0] ?? '', /^id\s+name\s+status\s+start\s+end\s+duration\s+team\s+created by$/);
  assert.match(lines[1] ?? '', /^\d+\s+demo\/unit\/2\s+succeeded\s+\d{4}-\d\d-\d\d@\d\d:\d\d:\d\d[+-]\d{4}\s.*\s+main\s+admin$/);
  assert.match(lines[2] ?? '', /^\d+\s+demo\/unit\/1\s+failed\s/);
  const all = await jetway('builds', '-t', 'ci', '--json', '-c', '1');
  assert.deepEqual((JSON.parse(all.out) as { name: string }[]).map((x) => x.name), ['2']);
});

test('abort-build by id and by job and name', async () => {
  const t = await jetway('trigger-job', '-t', 'ci', '-j', 'demo/unit');
  assert.equal(t.out, 'started demo/unit #3\n');
  const a = await jetway('abort-build', '-t', 'ci', '-j', 'demo/unit', '-b', '3');
  assert.equal(a.code, 0, a.err);
  assert.equal(a.out, 'build successfully aborted\n');
  const r = await s.api.t.db.query<{ aborted: boolean }>(`SELECT aborted FROM builds WHERE name = '3'`);
  assert.equal(r.rows[0]?.aborted, true);
  const missing = await jetway('abort-build', '-t', 'ci', '-b', '999999');
  assert.equal(missing.code, 1);
  assert.equal(missing.err, 'error: build 999999 not found (HTTP 404)\n');
  assert.equal((await jetway('abort-build', '-t', 'ci', '-b', 'abc')).code, 2);
});

test('trigger-job -w on a paused pipeline or job says the build stays pending and how to unpause', async () => {
  // builds of the tests above may still be pending (an aborted one): play only the new ones
  const newest = async (): Promise<number> => (await s.api.t.db.query<{ id: number }>('SELECT coalesce(max(id), 0) AS id FROM builds')).rows[0]!.id;
  const beforeR = await newest();
  const [r] = await Promise.all([jetway('trigger-job', '-t', 'ci', '-j', 'demo/unit', '-w'), play('succeeded', 0, beforeR)]);
  assert.equal(r.code, 0, r.err);
  assert.match(r.err, /^demo\/unit #\d+ stays pending: the pipeline demo is paused \(unpause it: jetway unpause-pipeline -t ci -p demo\)\n$/);

  assert.equal((await jetway('unpause-pipeline', '-t', 'ci', '-p', 'demo')).code, 0);
  assert.equal((await jetway('pause-job', '-t', 'ci', '-j', 'demo/unit')).code, 0);
  const beforeJ = await newest();
  const [j] = await Promise.all([jetway('trigger-job', '-t', 'ci', '-j', 'demo/unit', '-w'), play('succeeded', 0, beforeJ)]);
  assert.equal(j.code, 0, j.err);
  assert.match(j.err, /stays pending: the job demo\/unit is paused \(unpause it: jetway unpause-job -t ci -j demo\/unit\)\n$/);

  assert.equal((await jetway('unpause-job', '-t', 'ci', '-j', 'demo/unit')).code, 0);
  const beforeU = await newest();
  const [u] = await Promise.all([jetway('trigger-job', '-t', 'ci', '-j', 'demo/unit', '-w'), play('succeeded', 0, beforeU)]);
  assert.equal(u.err, '', 'nothing paused: nothing said');
  assert.equal((await jetway('pause-pipeline', '-t', 'ci', '-p', 'demo')).code, 0);
});

test('builds and jobs say why a pending build waits, with the command that lifts the pause', async () => {
  // the pipeline is paused again (the test above): a new build of ship stays pending
  const t = await jetway('trigger-job', '-t', 'ci', '-j', 'demo/ship');
  assert.equal(t.code, 0, t.err);
  const name = /#(\d+)/.exec(t.out)?.[1];
  const b = await jetway('builds', '-t', 'ci', '-j', 'demo/ship');
  assert.equal(b.code, 0, b.err);
  const [, reasons] = b.out.split('\n\n');
  assert.equal(reasons, `demo/ship #${name} pending: the pipeline demo is paused (unpause it: jetway unpause-pipeline -t ci -p demo)\n`);
  assert.equal((await jetway('pause-job', '-t', 'ci', '-j', 'demo/ship')).code, 0);
  const j = await jetway('jobs', '-t', 'ci', '-p', 'demo');
  assert.equal(j.code, 0, j.err);
  assert.deepEqual(j.out.split('\n\n')[1]?.trimEnd().split('\n'), [
    'unit: the pipeline demo is paused (unpause it: jetway unpause-pipeline -t ci -p demo)',
    'ship: the pipeline demo is paused (unpause it: jetway unpause-pipeline -t ci -p demo); the job demo/ship is paused (unpause it: jetway unpause-job -t ci -j demo/ship)',
  ]);
  const json = JSON.parse((await jetway('builds', '-t', 'ci', '-j', 'demo/ship', '--json')).out) as { name: string; pending_reason?: string }[];
  assert.equal(json.find((x) => x.name === name)?.pending_reason, 'the pipeline demo is paused; the job demo/ship is paused');
  assert.equal((await jetway('unpause-job', '-t', 'ci', '-j', 'demo/ship')).code, 0);
  assert.equal((await jetway('abort-build', '-t', 'ci', '-j', 'demo/ship', '-b', name ?? '')).code, 0);
});
