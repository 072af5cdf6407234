// Components (issue 21): GET /api/v1/components and pausing them (atc/api/componentsserver,
// admins only as atc/wrappa/api_auth_wrappa.go), and fly's get-components, pause-component and
// unpause-component (fly/commands/get_components.go, pause_component.go) against a real API
// server whose database holds the web nodes' passes (src/db/cluster.ts's PostgresPassGate).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { PostgresPassGate } from '../../src/db/cluster.ts';
import { goDuration } from '../../src/cli/client/common.ts';
import { jetway, startCliServer, PASSWORD, type CliServer } from './client-support.ts';
import { startTenants, type Tenants } from '../security/tenants.ts';

for (const [ms, want] of [
  [0, '0s'],
  [500, '500ms'],
  [10_000, '10s'],
  [1_500, '1.5s'],
  [60_000, '1m0s'],
  [90_000, '1m30s'],
  [3_600_000, '1h0m0s'],
  [5_430_000, '1h30m30s'],
] as const) {
  test(`goDuration(${ms}) is ${want}, as Go's time.Duration prints it`, () => assert.equal(goDuration(ms), want));
}

let s: CliServer;
let tenants: Tenants;
let gate: PostgresPassGate;
before(async () => {
  s = await startCliServer();
  tenants = await startTenants({}, s.api.t);
  gate = new PostgresPassGate(s.api.t.db, 'node-1');
  await gate.register('scheduler', 10_000);
  await gate.register('checker', 10_000);
  await gate.register('gc', 30_000);
  const release = await gate.begin('scheduler', 10_000, false);
  await release?.();
  assert.equal((await jetway('login', '-t', 'ci', '-c', s.url, '-u', 'admin', '-p', PASSWORD)).code, 0);
});
after(async () => {
  await tenants.close();
  await s.close();
});

const components = async (): Promise<{ name: string; interval: number; last_ran: string; paused: boolean }[]> => {
  const res = await s.api.app.inject({ url: '/api/v1/components', headers: s.api.auth() });
  assert.equal(res.statusCode, 200, res.body);
  return res.json();
};

test("GET /api/v1/components: atc.Component's fields, interval in nanoseconds, Go's zero time for a pass that never ran", async () => {
  const list = await components();
  assert.deepEqual(list.map((c) => c.name), ['checker', 'gc', 'scheduler']);
  const gc = list.find((c) => c.name === 'gc');
  assert.deepEqual(gc, { name: 'gc', interval: 30_000 * 1e6, last_ran: '0001-01-01T00:00:00Z', paused: false });
  const scheduler = list.find((c) => c.name === 'scheduler');
  assert.ok(scheduler && Date.now() - Date.parse(scheduler.last_ran) < 600_000, 'the scheduler ran just now');
});

test('only admins see or pause components; an unknown one is 404', async () => {
  for (const [method, url] of [
    ['GET', '/api/v1/components'],
    ['PUT', '/api/v1/components/pause'],
    ['PUT', '/api/v1/components/scheduler/pause'],
  ] as const) {
    const res = await tenants.as('bob', method, url);
    assert.equal(res.statusCode, 403, `${method} ${url}: ${res.body}`);
  }
  assert.equal((await components()).some((c) => c.paused), false, "bob's requests paused nothing");
  const unknown = await s.api.app.inject({ method: 'PUT', url: '/api/v1/components/nope/pause', headers: s.api.auth() });
  assert.equal(unknown.statusCode, 404);
  assert.match(unknown.body, /component nope not found/);
});

test('pause-component -n, --runtime-components and -a; unpause-component; get-components shows them; a paused pass does not run', async () => {
  const one = await jetway('pause-component', '-t', 'ci', '-n', 'gc');
  assert.equal(one.code, 0, one.err);
  assert.equal(one.out, "paused 'gc'\n");
  assert.deepEqual((await components()).filter((c) => c.paused).map((c) => c.name), ['gc']);
  const runtime = await jetway('pc', '-t', 'ci', '--runtime-components');
  // fly's lines: it sends Concourse's names (atc.ComponentsRuntime), which pause checker and scheduler
  assert.equal(runtime.code, 0, runtime.err);
  assert.equal(runtime.out, "paused 'tracker'\npaused 'scanner'\npaused 'scheduler'\n");
  // what the pause means: no web node begins the pass
  assert.equal(await new PostgresPassGate(s.api.t.db, 'node-2').begin('scheduler', 10_000, true), undefined);

  const table = await jetway('get-components', '-t', 'ci');
  assert.equal(table.code, 0, table.err);
  const rows = table.out.trim().split('\n').map((l) => l.trim().split(/\s{2,}/));
  assert.deepEqual(rows[0], ['name', 'interval', 'last ran', 'paused']);
  assert.deepEqual(rows.slice(1).map((r) => [r[0], r[1], r[3]]), [
    ['checker', '10s', 'true'],
    ['gc', '30s', 'true'],
    ['scheduler', '10s', 'true'],
  ]);
  assert.match(rows[2]?.[2] ?? '', /^0001-01-01 /);
  const json = await jetway('get-components', '-t', 'ci', '--json');
  assert.deepEqual((JSON.parse(json.out) as { name: string }[]).map((c) => c.name), ['checker', 'gc', 'scheduler']);

  const all = await jetway('unpause-component', '-t', 'ci', '-a');
  assert.equal(all.out, 'all components unpaused\n');
  assert.equal((await components()).some((c) => c.paused), false);
  const release = await new PostgresPassGate(s.api.t.db, 'node-2').begin('scheduler', 10_000, true);
  assert.ok(release, 'unpaused: it runs again');
  await release();

  const none = await jetway('pause-component', '-t', 'ci');
  assert.equal(none.code, 2);
  assert.match(none.err, /--name or --all must be provided/);
});

// fly/commands/pause_component.go's --runtime-components and --gc-components send Concourse's
// names (atc/component.go), one PUT each, and stop at the first that is not 200: each must name a
// pass of Jetway's (src/component/concourse-names.ts), even kubernetes-reaper's absent here.
test("a stock fly's Concourse component names pause the Jetway passes doing that work; --gc-components completes without the Kubernetes reaper", async () => {
  const put = (name: string, verb: string): Promise<{ statusCode: number; body: string }> =>
    s.api.app.inject({ method: 'PUT', url: `/api/v1/components/${name}/${verb}`, headers: s.api.auth() });
  for (const name of ['tracker', 'scanner', 'scheduler']) assert.equal((await put(name, 'pause')).statusCode, 200, name);
  assert.deepEqual((await components()).filter((c) => c.paused).map((c) => c.name), ['checker', 'scheduler']);
  assert.equal(await new PostgresPassGate(s.api.t.db, 'node-2').begin('checker', 10_000, true), undefined, 'scanner paused: no node begins the checker');
  assert.equal((await put('tracker', 'unpause')).statusCode, 200);
  assert.equal((await put('scanner', 'unpause')).statusCode, 200);
  assert.equal((await components()).some((c) => c.paused), false);

  const gc = await jetway('pause-component', '-t', 'ci', '--gc-components');
  assert.equal(gc.code, 0, gc.err);
  assert.equal(gc.out.split('\n')[0], "paused 'reaper'");
  assert.match(gc.out, /paused 'collector_containers'\n[^]*paused 'pipeline_pauser'\n$/);
  assert.equal(gc.out.trim().split('\n').length, 14);
  assert.deepEqual((await components()).filter((c) => c.paused).map((c) => c.name), ['gc']);
  const back = await jetway('uc', '-t', 'ci', '--gc-components');
  assert.equal(back.code, 0, back.err);
  assert.equal((await components()).some((c) => c.paused), false);
  // a Jetway name that is no pass here is still 404, as any unknown name
  assert.equal((await put('kubernetes-reaper', 'pause')).statusCode, 404);
});

// fly/commands/health.go against GET /api/v1/health (atc/api/healthserver/health.go's shape)
test('jetway health: the subsystems as fly prints them, the components among them; --json is atc.Health', async () => {
  const r = await jetway('health', '-t', 'ci');
  assert.equal(r.code, 0, r.err);
  const rows = r.out.trim().split('\n').map((l) => l.trim().split(/\s{2,}/));
  assert.deepEqual(rows[0], ['subsystem', 'status', 'detail']);
  assert.deepEqual(rows[1]?.slice(0, 2), ['overall', 'ok']);
  assert.match(rows[1]?.[2] ?? '', /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
  assert.deepEqual(rows[2], ['database', 'healthy']);
  assert.deepEqual(rows[3], ['workers', 'healthy', '0/0 running']);
  assert.deepEqual(rows.slice(4).map((row) => row.slice(0, 2)), [
    ['checker', 'healthy'],
    ['gc', 'healthy'],
    ['scheduler', 'healthy'],
  ]);
  assert.match(rows.find((row) => row[0] === 'scheduler')?.[2] ?? '', /^last ran: \d{4}-/);
  const json = JSON.parse((await jetway('health', '-t', 'ci', '--json')).out) as Record<string, unknown>;
  assert.deepEqual(Object.keys(json).sort(), ['components', 'database', 'status', 'timestamp', 'workers']);
  // a paused component says so
  await jetway('pause-component', '-t', 'ci', '-n', 'gc');
  const paused = await jetway('health', '-t', 'ci');
  assert.match(paused.out, /gc\s+healthy\s+paused\n/);
  await jetway('unpause-component', '-t', 'ci', '-n', 'gc');
});
