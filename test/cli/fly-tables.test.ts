// The tables of builds, resources, resource-versions, pipelines, teams and targets: fly's headers,
// column order and cells (fly/commands/<command>.go in the Concourse repository), a test per
// command or row, against a real API server. Times are local: this file runs in New York, whose
// zone Go and Intl both call EST.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { jetway, startCliServer, PASSWORD, PIPELINE, type CliServer } from './client-support.ts';
import { findOrCreateResourceConfig, findOrCreateScope, saveVersions, setResourceScope } from '../../src/db/versions.ts';
import { buildNameCell, timeCells } from '../../src/cli/commands/builds.ts';
import { goDuration } from '../../src/cli/client/common.ts';
import type { Build } from '../../src/api/wire.ts';

/** 2024-01-31 13:04:05 UTC, 08:04:05 in New York. */
const T0 = 1706706245;

let s: CliServer;
let tz: string | undefined;
let instBuild = 0;
let demoBuild = 0;

const sql = async (text: string, params: unknown[] = []): Promise<void> => {
  await s.api.t.db.query(text, params);
};

before(async () => {
  tz = process.env.TZ;
  process.env.TZ = 'America/New_York';
  s = await startCliServer();
  assert.equal((await jetway('login', '-t', 'ci', '-c', s.url, '-u', 'admin', '-p', PASSWORD)).code, 0);
  const file = join(s.dir, 'pipeline.yml');
  writeFileSync(file, PIPELINE);
  assert.equal((await jetway('set-pipeline', '-t', 'ci', '-p', 'demo', '-c', file, '-n')).code, 0);
  assert.equal((await jetway('set-pipeline', '-t', 'ci', '-p', 'inst', '-c', file, '-i', 'branch=feature/x', '-n')).code, 0);
  await sql(`UPDATE pipelines SET last_updated = to_timestamp($1)`, [T0]);
  await sql(`UPDATE pipelines SET public = true WHERE name = 'inst'`);

  // a finished build of the instanced pipeline (started T0, 65 s), a pending one of demo
  assert.equal((await jetway('trigger-job', '-t', 'ci', '-j', 'inst/branch:"feature/x"/unit')).code, 0);
  instBuild = (await s.api.t.db.query<{ id: number }>(`SELECT max(id) AS id FROM builds`)).rows[0]!.id;
  await sql(`UPDATE builds SET status = 'succeeded', completed = true, start_time = to_timestamp($1), end_time = to_timestamp($2) WHERE id = $3`, [T0, T0 + 65, instBuild]);
  assert.equal((await jetway('trigger-job', '-t', 'ci', '-j', 'demo/unit')).code, 0);
  demoBuild = (await s.api.t.db.query<{ id: number }>(`SELECT max(id) AS id FROM builds`)).rows[0]!.id;

  // versions of demo/repo, two fields each; the newest disabled, the oldest pinned
  const rid = (await s.api.t.db.query<{ id: number }>(`SELECT r.id FROM resources r JOIN pipelines p ON p.id = r.pipeline_id WHERE r.name = 'repo' AND p.name = 'demo'`)).rows[0]!.id;
  const cfg = await findOrCreateResourceConfig(s.api.t.db, { baseType: 'mock' }, {});
  const scope = await findOrCreateScope(s.api.t.db, cfg.id, rid);
  await setResourceScope(s.api.t.db, rid, scope);
  for (const ref of ['r1', 'r2']) await saveVersions(s.api.t.db, scope.id, [{ version: { ref, at: `x-${ref}` } }]);
  assert.equal((await jetway('disable-resource-version', '-t', 'ci', '-r', 'demo/repo', '-v', 'ref:r2')).code, 0);
  assert.equal((await jetway('pin-resource', '-t', 'ci', '-r', 'demo/repo', '-v', 'ref:r1')).code, 0);

  const team = join(s.dir, 'team.yml');
  writeFileSync(team, 'roles:\n- name: owner\n  local:\n    users: [other]\n- name: viewer\n  local:\n    users: [admin, other]\n');
  assert.equal((await jetway('set-team', '-t', 'ci', '-n', 'web', '-c', team, '--non-interactive')).code, 0);
});

after(async () => {
  await s.close();
  if (tz === undefined) delete process.env.TZ;
  else process.env.TZ = tz;
});

const ok = async (...argv: string[]): Promise<string> => {
  const r = await jetway(...argv);
  assert.equal(r.code, 0, r.err);
  return r.out;
};

// fly/commands/builds.go: name is pipeline (with its instance vars as atc.PipelineRef.String
// shows them) / job / build name; times in timeDateLayout, local; duration as Go's Duration.
test('builds: a finished build of an instanced pipeline', async () => {
  assert.equal(
    await ok('builds', '-t', 'ci', '-j', 'inst/branch:"feature/x"/unit'),
    'id  name                            status     start                     end                       duration  team  created by\n' +
      `${instBuild}   inst/branch:"feature/x"/unit/1  succeeded  2024-01-31@08:04:05-0500  2024-01-31@08:05:10-0500  1m5s      main  admin\n`,
  );
});

// fly/commands/builds.go populateTimeCells: a build not started has n/a for start, end and duration
test('builds: a pending build', async () => {
  const out = await ok('builds', '-t', 'ci', '-j', 'demo/unit');
  const [table] = out.split('\n\n');
  assert.equal(`${table}\n`, `id  name         status   start  end  duration  team  created by\n${demoBuild}   demo/unit/1  pending  n/a    n/a  n/a       main  admin\n`);
});

// fly/commands/builds.go: a one-off build shows its name alone; a check build its pipeline/resource/name
test('builds: the name cell of one-off and check builds', () => {
  const base = { id: 9, team_name: 'main', name: '9', status: 'started', api_url: '', containers_created: {} } satisfies Build;
  assert.equal(buildNameCell(base), '9');
  assert.equal(buildNameCell({ ...base, pipeline_name: 'p', pipeline_instance_vars: { n: 1 }, resource_name: 'repo', name: '3' }), 'p/n:1/repo/3');
});

// fly/commands/builds.go populateTimeCells: a running build's duration so far, whole seconds, then '+'
test('builds: a running build', () => {
  const b = { id: 9, team_name: 'main', name: '9', status: 'started', api_url: '', containers_created: {}, start_time: T0 } satisfies Build;
  assert.deepEqual(timeCells(b, (T0 + 3725) * 1000 + 999), ['2024-01-31@08:04:05-0500', 'n/a', '1h2m5s+']);
});

test("durations as Go's time.Duration String()", () => {
  assert.deepEqual([0, 7, 60, 65, 3600, 90061].map((s) => goDuration(s * 1000)), ['0s', '7s', '1m0s', '1m5s', '1h0m0s', '25h1m1s']);
});

// fly/commands/resources.go: name, type, pinned (fly/ui/present.go PresentVersion: k:v sorted), check status
test('resources: pinned version and no check yet', async () => {
  assert.equal(await ok('resources', '-t', 'ci', '-p', 'demo'), 'name   type  pinned          check status\nrepo   mock  at:x-r1,ref:r1  n/a\nimage  mock  n/a             n/a\n');
});

// fly/commands/resource_versions.go: id, version (k:v sorted), enabled yes/no
test('resource-versions: the newest version, disabled', async () => {
  const [newest] = JSON.parse(await ok('resource-versions', '-t', 'ci', '-r', 'demo/repo', '--json')) as { id: number }[];
  assert.equal(await ok('resource-versions', '-t', 'ci', '-r', 'demo/repo', '-c', '1'), `id  version         enabled\n${newest?.id}   at:x-r2,ref:r2  no\n`);
});

// fly/commands/pipelines.go: id, name (with instance vars), paused, public, last updated (Go's time.String)
test('pipelines: id, name with instance vars, paused, public, last updated', async () => {
  const ids = (JSON.parse(await ok('pipelines', '-t', 'ci', '--json')) as { id: number }[]).map((p) => p.id);
  assert.equal(
    await ok('pipelines', '-t', 'ci'),
    'id  name                     paused  public  last updated\n' +
      `${ids[0]}   demo                     yes     no      2024-01-31 08:04:05 -0500 EST\n` +
      `${ids[1]}   inst/branch:"feature/x"  yes     yes     2024-01-31 08:04:05 -0500 EST\n`,
  );
});

// fly/commands/pipelines.go: -a adds the team column after the name
test('pipelines -a: a team column', async () => {
  const out = await ok('pipelines', '-t', 'ci', '-a');
  const lines = out.split('\n');
  assert.equal(lines[0], 'id  name                     team  paused  public  last updated');
  assert.match(lines[1] ?? '', /^\d+ {3}demo {21}main {2}yes {5}no {6}2024-01-31 08:04:05 -0500 EST$/);
});

// fly/commands/teams.go: names sorted
test('teams: names, sorted', async () => {
  assert.equal(await ok('teams', '-t', 'ci'), 'name\nmain\nweb\n');
});

// fly/commands/teams.go --details: a row per team/role, users and groups (`none` when empty), sorted
test('teams -d: a row per role', async () => {
  assert.equal(
    await ok('teams', '-t', 'ci', '-d'),
    'name/role   users                    groups\n' +
      'main/owner  local:admin,local:other  none\n' +
      'web/owner   local:other              none\n' +
      'web/viewer  local:admin,local:other  none\n',
  );
});

// fly/commands/targets.go: name, url, team, expiry (UTC, RFC 1123; n/a without a token), sorted by name
test('targets: expiry as RFC 1123 in UTC', async () => {
  const home = process.env.HOME;
  process.env.HOME = mkdtempSync(join(tmpdir(), 'jetway-home-'));
  try {
    writeFileSync(
      join(process.env.HOME, '.jetwayrc'),
      stringify({
        targets: {
          prod: { api: 'https://ci.example', team: 'ops', token: { type: 'bearer', value: 'v', expiry: '2024-01-31T13:04:05.000Z' } },
          dev: { api: 'http://localhost:8080', team: 'main' },
        },
      }),
    );
    assert.equal(
      await ok('targets'),
      'name  url                    team  expiry\n' + 'dev   http://localhost:8080  main  n/a\n' + 'prod  https://ci.example     ops   Wed, 31 Jan 2024 13:04:05 UTC\n',
    );
  } finally {
    process.env.HOME = home;
  }
});
