// Several web nodes on one Postgres (src/db/cluster.ts, issue 17): build leases, the takeover of a
// dead node's builds, periodic passes once per interval across nodes, and check leases that free
// themselves soon after their holder dies. Real Postgres; nodes are PostgresBuildLeases instances.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { claimOrphanedBuilds, listWebNodes, PostgresBuildLeases, PostgresPassGate } from '../../src/db/cluster.ts';
import { createStartedBuild, finishBuild } from '../../src/db/builds.ts';
import { lockScopeForCheck } from '../../src/db/check-scopes.ts';
import { listComponents, setComponentPaused } from '../../src/db/components.ts';
import { PoolDatabase } from '../../src/db/database.ts';
import { silentLogger } from '../../src/log.ts';
import type { Plan } from '../../src/model/plan.ts';
import { findOrCreateResourceConfig, findOrCreateScope } from '../../src/db/versions.ts';
import { useTestDatabase } from '../support/db.ts';

const t = useTestDatabase();
const PLAN = { id: 'p1', do: [] } as unknown as Plan;

async function startedBuild(): Promise<number> {
  const team = await t.db.query<{ id: number }>("SELECT id FROM teams WHERE name = 'main'");
  return (await createStartedBuild(t.db, { teamId: team.rows[0]!.id, plan: PLAN })).id;
}

async function owner(buildId: number): Promise<string | null> {
  const r = await t.db.query<{ owner_node: string | null }>('SELECT owner_node FROM builds WHERE id = $1', [buildId]);
  return r.rows[0]!.owner_node;
}

async function newScope(source: string): Promise<number> {
  const config = await findOrCreateResourceConfig(t.db, { baseType: 'mock' }, { source });
  return (await findOrCreateScope(t.db, config.id, null)).id;
}

test('a build one node claimed is refused to another while the lease lives, and taken once it expired', async () => {
  const a = new PostgresBuildLeases(t.db, 'lease-a', 'a1', 1_500);
  const b = new PostgresBuildLeases(t.db, 'lease-b', 'b1', 1_500);
  const id = await startedBuild();
  assert.equal(await a.claim(id), true);
  assert.equal(await b.claim(id), false);
  assert.equal(await a.claim(id), true, 'the owner may claim again');
  await sleep(1_800); // a sends no heartbeat: its lease expires
  assert.equal(await b.claim(id), true);
  assert.equal(await owner(id), 'lease-b');
});

test("the heartbeat renews a live node's leases: another node never takes its builds", async () => {
  // The lease is 2 s and a renews it every 300 ms for 3 s, well past one lease: the margin keeps
  // a loaded machine (a beat delayed by a second) from expiring it, which a 400 ms lease did not.
  const a = new PostgresBuildLeases(t.db, 'beat-a', 'a1', 2_000);
  const b = new PostgresBuildLeases(t.db, 'beat-b', 'b1', 2_000);
  await a.register();
  await b.register();
  const id = await startedBuild();
  await a.claim(id);
  for (let i = 0; i < 10; i++) {
    await sleep(300);
    assert.deepEqual((await a.heartbeat()).owned.includes(id), true);
    assert.deepEqual((await b.claimOrphans(false)).filter((o) => o.id === id), [], 'no takeover of a live lease');
  }
  assert.equal(await owner(id), 'beat-a');
});

test("a starting node takes back its previous incarnation's builds at once, never another live node's", async () => {
  const a = new PostgresBuildLeases(t.db, 'start-a', 'a1', 60_000);
  const other = new PostgresBuildLeases(t.db, 'start-b', 'b1', 60_000);
  const mine = await startedBuild();
  const theirs = await startedBuild();
  await a.claim(mine);
  await other.claim(theirs);
  // start-a is killed and restarts: a new incarnation of the same name
  const restarted = new PostgresBuildLeases(t.db, 'start-a', 'a2', 60_000);
  await restarted.register();
  const orphans = await restarted.claimOrphans(true);
  assert.deepEqual(
    orphans.filter((o) => o.id === mine || o.id === theirs).map((o) => [o.id, o.previousOwner]),
    [[mine, 'start-a']],
  );
  assert.equal(await owner(theirs), 'start-b');
});

test("a dead node's expired builds are claimed by exactly one of the nodes that look", async () => {
  const dead = new PostgresBuildLeases(t.db, 'race-dead', 'd1', 200);
  const ids = [await startedBuild(), await startedBuild(), await startedBuild()];
  for (const id of ids) await dead.claim(id);
  await sleep(400);
  const nodes = ['race-1', 'race-2', 'race-3'].map((n) => new PostgresBuildLeases(t.db, n, 'x', 10_000));
  const claimed = (await Promise.all(nodes.map((n) => n.claimOrphans(false)))).flat().filter((o) => ids.includes(o.id));
  assert.deepEqual(claimed.map((o) => o.id).sort((x, y) => x - y), ids);
  assert.ok(claimed.every((o) => o.previousOwner === 'race-dead' && o.leaseExpired instanceof Date));
});

test('a started build nobody claimed is taken over only once it is older than a lease; completed builds never', async () => {
  const id = await startedBuild();
  const done = await startedBuild();
  await finishBuild(t.db, done, 'succeeded');
  const fresh = await claimOrphanedBuilds(t.db, 'fresh-node', 60_000, false);
  assert.ok(!fresh.some((o) => o.id === id), 'just started: its node is about to track it');
  await t.db.query("UPDATE builds SET start_time = now() - interval '2 minutes' WHERE id = $1", [id]);
  const old = await claimOrphanedBuilds(t.db, 'fresh-node', 60_000, false);
  assert.ok(old.some((o) => o.id === id && o.previousOwner === null));
  assert.ok(!old.some((o) => o.id === done));
});

test('the heartbeat reports builds aborted through any node, and records the node', async () => {
  const a = new PostgresBuildLeases(t.db, 'abort-a', 'a1', 10_000);
  await a.register();
  const id = await startedBuild();
  await a.claim(id);
  await t.db.query('UPDATE builds SET aborted = true WHERE id = $1', [id]);
  const beat = await a.heartbeat();
  assert.ok(beat.aborted.includes(id));
  const nodes = await listWebNodes(t.db);
  assert.ok(nodes.some((n) => n.name === 'abort-a' && n.builds >= 1 && !n.draining));
  await a.unregister();
  assert.ok(!(await listWebNodes(t.db)).some((n) => n.name === 'abort-a'));
});

test('a periodic pass runs once per interval across nodes: the second node skips while the interval lasts', async () => {
  const a = new PostgresPassGate(t.db, 'gate-a');
  const b = new PostgresPassGate(t.db, 'gate-b');
  const release = await a.begin('interval-pass', 60_000, false);
  assert.ok(release, 'the first node runs it');
  assert.equal(await b.begin('interval-pass', 60_000, false), undefined, 'held by a');
  await release();
  assert.equal(await b.begin('interval-pass', 60_000, false), undefined, 'ran within the interval');
});

test('a paused component runs on no node, nudged or not, until unpaused; it is listed with its interval from its start', async () => {
  const a = new PostgresPassGate(t.db, 'paused-a', { pollMs: 20 });
  const b = new PostgresPassGate(t.db, 'paused-b', { pollMs: 20 });
  await a.register('paused-pass', 1_000);
  assert.deepEqual(
    (await listComponents(t.db)).filter((c) => c.name === 'paused-pass').map((c) => ({ ...c, lastRanAt: c.lastRanAt === null ? null : 'set' })),
    [{ name: 'paused-pass', intervalMs: 1_000, lastRanAt: null, paused: false }],
  );
  assert.equal(await setComponentPaused(t.db, 'paused-pass', true), true);
  assert.equal(await setComponentPaused(t.db, 'no-such-pass', true), false);
  assert.equal(await a.begin('paused-pass', 1_000, false), undefined, 'paused: not on its interval');
  assert.equal(await b.begin('paused-pass', 1_000, true), undefined, 'paused: not nudged either');
  assert.equal((await listComponents(t.db)).find((c) => c.name === 'paused-pass')?.lastRanAt, null, 'it never began');
  await setComponentPaused(t.db, undefined, false);
  const release = await b.begin('paused-pass', 1_000, true);
  assert.ok(release, 'unpaused: it runs');
  await release();
  assert.ok((await listComponents(t.db)).find((c) => c.name === 'paused-pass')?.lastRanAt instanceof Date);
});

test('a nudged pass waits for the holder to finish, then runs (new work is never skipped)', async () => {
  const a = new PostgresPassGate(t.db, 'nudge-a', { leaseMs: 10_000 });
  const b = new PostgresPassGate(t.db, 'nudge-b', { leaseMs: 10_000, pollMs: 20 });
  const release = await a.begin('nudged-pass', 60_000, false);
  assert.ok(release);
  let bRan = false;
  const bTurn = b.begin('nudged-pass', 60_000, true).then((r) => {
    bRan = r !== undefined;
    return r;
  });
  await sleep(200);
  assert.equal(bRan, false, 'not while a holds it');
  await release();
  const bRelease = await bTurn;
  assert.ok(bRelease, 'b runs once a is done');
  await bRelease();
});

test("a pass whose holder died is run by another node once the holder's lease expired", async () => {
  const other = new PoolDatabase({ url: t.url, logger: silentLogger, max: 2 });
  const dying = new PostgresPassGate(other, 'dying', { leaseMs: 300 });
  assert.ok(await dying.begin('dead-holder-pass', 60_000, true));
  await other.close(); // the holder dies mid-pass: no renewal, no release
  const b = new PostgresPassGate(t.db, 'survivor', { leaseMs: 10_000, pollMs: 20 });
  const waited = Date.now();
  const release = await b.begin('dead-holder-pass', 60_000, true);
  assert.ok(release, 'taken after the lease expired');
  assert.ok(Date.now() - waited < 5_000);
  await release();
});

test("a check lease of a dead holder frees the scope within the lease's time to live, not the check's timeout", async () => {
  const scopeId = await newScope('cluster-test');
  const other = new PoolDatabase({ url: t.url, logger: silentLogger, max: 2 });
  // the check's timeout is an hour; the holder dies (its pool closes: no renewal, no release)
  await lockScopeForCheck(other, scopeId, new AbortController().signal, 3_600_000, 500);
  await other.close();
  const started = Date.now();
  const { release } = await lockScopeForCheck(t.db, scopeId, AbortSignal.timeout(10_000), 3_600_000, 500);
  assert.ok(Date.now() - started < 3_000, `freed after ${Date.now() - started} ms`);
  await release();
});

test('a live check lease is renewed while its check runs: nobody else takes the scope', async () => {
  const scopeId = await newScope('cluster-test-2');
  const { release } = await lockScopeForCheck(t.db, scopeId, new AbortController().signal, 3_600_000, 300);
  await assert.rejects(lockScopeForCheck(t.db, scopeId, AbortSignal.timeout(1_200), 3_600_000, 300), /abort|timeout/i);
  await release();
  const again = await lockScopeForCheck(t.db, scopeId, AbortSignal.timeout(2_000), 3_600_000, 300);
  await again.release();
});

