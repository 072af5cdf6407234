// `jetway containers` (fly's containers): the team's running builds' containers as the runtime
// lists them, through GET /api/v1/teams/:team/containers, against a runtime stand-in.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { jetway, startCliServer, PASSWORD, PIPELINE, type CliServer } from './client-support.ts';
import { createManualBuild } from '../../src/db/builds.ts';
import { findJob } from '../../src/db/jobs.ts';
import type { InterceptableContainer, Runtime } from '../../src/runtime/runtime.ts';

class FakeRuntime implements Pick<Runtime, 'name' | 'interceptableContainers'> {
  readonly name = 'local';
  containers = new Map<number, InterceptableContainer[]>();
  async interceptableContainers(buildId: number): Promise<InterceptableContainer[]> {
    return this.containers.get(buildId) ?? [];
  }
}

const fake = new FakeRuntime();
let s: CliServer;
let build: number;

before(async () => {
  s = await startCliServer({ runtime: fake });
  assert.equal((await jetway('login', '-t', 'ci', '-c', s.url, '-u', 'admin', '-p', PASSWORD)).code, 0);
  const file = join(s.dir, 'pipeline.yml');
  writeFileSync(file, PIPELINE);
  assert.equal((await jetway('set-pipeline', '-t', 'ci', '-p', 'demo', '-c', file, '-n')).code, 0);
  const pid = (await s.api.t.db.query<{ id: number }>(`SELECT id FROM pipelines WHERE name = 'demo'`)).rows[0]!.id;
  build = (await createManualBuild(s.api.t.db, (await findJob(s.api.t.db, pid, 'unit'))!.id)).id;
  fake.containers.set(build, [
    { handle: 'h-test', step: 'test', type: 'task', state: 'failed', name: 'c1', workDir: '/tmp/build/abc', createdAt: '2026-01-01T00:00:00.000Z' },
    { handle: 'h-repo', step: 'repo', type: 'get', state: 'running', name: 'c2', workDir: '/tmp/build/def', createdAt: '2026-01-01T00:00:00.000Z' },
  ]);
});
after(async () => {
  await s?.close();
});

test('jetway containers: handle, build, pipeline/job, step, type and state of each container', async () => {
  const r = await jetway('containers', '-t', 'ci');
  assert.equal(r.code, 0, r.err);
  const lines = r.out.trim().split('\n').map((l) => l.trim().split(/\s+/));
  assert.deepEqual(lines[0], ['handle', 'build', 'pipeline/job', 'step', 'type', 'state']);
  assert.deepEqual(lines.slice(1).map((l) => [l[0], l[1], l.at(-4), l.at(-3), l.at(-2), l.at(-1)]), [
    ['h-test', String(build), 'demo/unit', 'test', 'task', 'failed'],
    ['h-repo', String(build), 'demo/unit', 'repo', 'get', 'created'],
  ]);
});

test('jetway containers --json: the API’s objects', async () => {
  const r = await jetway('containers', '-t', 'ci', '--json');
  assert.equal(r.code, 0, r.err);
  const list = JSON.parse(r.out) as { id: string; build_id: number; step_name: string }[];
  assert.deepEqual(list.map((c) => [c.id, c.build_id, c.step_name]), [['h-test', build, 'test'], ['h-repo', build, 'repo']]);
});
