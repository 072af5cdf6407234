// The fault suite of issue 17 (`npm run chaos`, not in `npm test`: about two minutes of real
// processes). Real `jetway web` processes on the local runtime and one real Postgres they share,
// killed, stopped and frozen mid-build. Each test asserts build statuses, the build's log lines
// (none lost, none twice) and that no task ran twice; the figures go to RELIABILITY.md (printed
// as `chaos figure:` lines).
import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, open, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { freePort, startEmbeddedPostgres, type EmbeddedServer } from '../../src/db/embedded.ts';
import { PoolDatabase } from '../../src/db/database.ts';
import { silentLogger } from '../../src/log.ts';
import { findOrphanProcesses } from '../../src/runtime/local/orphans.ts';

const BIN = join(import.meta.dirname, '..', '..', 'bin', 'jetway.js');
const LEASE = '3s';
/** a build printing `lines` numbered lines, one every `gap` seconds; it leaves a mark per run (nothing may run twice) */
const pipeline = (lines: number, gap: number, marks: string, silentTail = 0): string => `jobs:
- name: count
  plan:
  - task: count
    config:
      platform: linux
      run:
        path: sh
        args: [-c, 'echo run >> ${marks}/runs-$(date +%s%N); for i in $(seq 0 ${lines - 1}); do echo line $i; sleep ${gap}; done${silentTail > 0 ? `; sleep ${silentTail}` : ''}']
`;

let root: string;
let pgDir: string;
let pg: EmbeddedServer;
let pgPort: number;
let db: PoolDatabase;
const figures: string[] = [];

before(async () => {
  root = await mkdtemp(join(tmpdir(), 'jw-chaos-'));
  // the build user (a root web node runs tasks as jetway-build) writes its marks under it
  await (await import('node:fs/promises')).chmod(root, 0o755);
  pgDir = join(root, 'pg', 'postgres');
  pgPort = await freePort();
  pg = await startEmbeddedPostgres({ dataDir: pgDir, logger: silentLogger, port: pgPort });
  db = new PoolDatabase({ url: pg.url, logger: silentLogger, max: 3 });
});

after(async () => {
  for (const f of figures) console.log(`chaos figure: ${f}`);
  await db?.close().catch(() => undefined);
  await pg?.stop().catch(() => undefined);
  await rm(root, { recursive: true, force: true });
});

interface Node {
  name: string;
  url: string;
  child: ChildProcess;
  exited: Promise<number>;
  output(): string;
}

const nodes: Node[] = [];
after(() => {
  for (const n of nodes) n.child.kill('SIGKILL');
});

// Host processes, not runc containers (which `--local-runtime auto` picks as root with runc): the
// scenarios count each task's runs by marks it writes outside any container, and look for
// orphaned step processes under the node's data dir.
async function startNode(name: string, opts: { dataDir?: string; port?: number; flags?: string[]; postgresUrl?: string; env?: Record<string, string> } = {}): Promise<Node & { dataDir: string; port: number }> {
  const dataDir = opts.dataDir ?? (await mkdtemp(join(root, `${name}-`)));
  const port = opts.port ?? (await freePort());
  const child = spawn(
    process.execPath,
    [BIN, 'web', '--port', String(port), '--bind-ip', '127.0.0.1', '--data-dir', dataDir, '--postgres-url', opts.postgresUrl ?? pg.url, '--add-local-user', 'ci:chaos-pass', '--node-name', name, '--build-lease', LEASE, '--scheduler-interval', '1s', '--local-runtime', 'processes', ...(opts.flags ?? [])],
    { env: { ...process.env, JETWAY_LOG_LEVEL: 'info', ...opts.env }, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let out = '';
  child.stdout!.on('data', (c: Buffer) => (out += c.toString()));
  child.stderr!.on('data', (c: Buffer) => (out += c.toString()));
  const exited = new Promise<number>((resolve) => child.on('exit', (code, signal) => resolve(code ?? (signal ? 128 : 1))));
  const node = { name, url: `http://127.0.0.1:${port}`, child, exited, output: () => out, dataDir, port };
  nodes.push(node);
  for (let i = 0; i < 600; i++) {
    if (await fetch(`${node.url}/api/v1/health`).then((r) => r.ok, () => false)) return node;
    if (child.exitCode !== null) break;
    await sleep(100);
  }
  throw new Error(`${name} did not start:\n${out}`);
}

async function token(node: Node): Promise<Record<string, string>> {
  const res = await fetch(`${node.url}/api/v1/token`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username: 'ci', password: 'chaos-pass' }) });
  return { authorization: `Bearer ${((await res.json()) as { access_token: string }).access_token}` };
}

async function setPipeline(node: Node, name: string, yaml: string): Promise<void> {
  const auth = await token(node);
  const base = `${node.url}/api/v1/teams/main/pipelines/${name}`;
  const put = await fetch(`${base}/config`, { method: 'PUT', headers: { ...auth, 'content-type': 'application/x-yaml', 'x-concourse-config-version': '0' }, body: yaml });
  assert.ok(put.ok, await put.text());
  assert.ok((await fetch(`${base}/unpause`, { method: 'PUT', headers: auth })).ok);
}

async function trigger(node: Node, pipelineName: string): Promise<number> {
  const auth = await token(node);
  const res = await fetch(`${node.url}/api/v1/teams/main/pipelines/${pipelineName}/jobs/count/builds`, { method: 'POST', headers: auth });
  const text = await res.text();
  assert.ok(res.ok, text);
  return (JSON.parse(text) as { id: number }).id;
}

async function build(id: number, on: PoolDatabase = db): Promise<{ status: string; owner: string | null }> {
  const r = await on.query<{ status: string; owner_node: string | null }>('SELECT status, owner_node FROM builds WHERE id = $1', [id]);
  return { status: r.rows[0]!.status, owner: r.rows[0]!.owner_node };
}

async function until<T>(what: string, probe: () => Promise<T | undefined>, ms = 120_000): Promise<T> {
  const start = Date.now();
  for (;;) {
    const got = await probe().catch(() => undefined);
    if (got !== undefined) return got;
    if (Date.now() - start > ms) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await sleep(100);
  }
}

const finished = (id: number, on: PoolDatabase = db): Promise<string> =>
  until(`build ${id} to finish`, async () => {
    const b = await build(id, on);
    return ['succeeded', 'failed', 'errored', 'aborted'].includes(b.status) ? b.status : undefined;
  });

/** The build's log text and how many times each event type appears. */
async function events(id: number, on: PoolDatabase = db): Promise<{ log: string; errors: string[]; statusEvents: string[] }> {
  const r = await on.query<{ type: string; payload: { payload?: string; message?: string; status?: string } }>('SELECT type, payload FROM build_events WHERE build_id = $1 ORDER BY event_id', [id]);
  return {
    log: r.rows.filter((e) => e.type === 'log').map((e) => e.payload.payload ?? '').join(''),
    errors: r.rows.filter((e) => e.type === 'error').map((e) => e.payload.message ?? ''),
    statusEvents: r.rows.filter((e) => e.type === 'status').map((e) => e.payload.status ?? ''),
  };
}

/** The postmaster and its children (backends, background workers). */
async function postgresProcesses(): Promise<number[]> {
  const { readdir } = await import('node:fs/promises');
  const postmaster = Number((await readFile(join(pgDir, 'postmaster.pid'), 'utf8')).split('\n')[0]);
  const pids = [postmaster];
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const stat = await readFile(`/proc/${entry}/stat`, 'utf8').catch(() => '');
    const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
    if (ppid === postmaster) pids.push(Number(entry));
  }
  return pids;
}

const lines = (n: number): string => Array.from({ length: n }, (_, i) => `line ${i}\n`).join('');

async function runs(marks: string): Promise<number> {
  const { readdir } = await import('node:fs/promises');
  return (await readdir(marks).catch(() => [])).filter((f) => f.startsWith('runs-')).length;
}

async function markDir(name: string): Promise<string> {
  const dir = await mkdtemp(join(root, `marks-${name}-`));
  const { chmod } = await import('node:fs/promises');
  await chmod(dir, 0o777); // the build user writes its marks here
  return dir;
}

test('two nodes: the second starting leaves the first its build; kill -9 of the first mid-build: the second takes it over within the lease; the first, restarted, kills its orphaned task', async () => {
  const marks = await markDir('two');
  const a = await startNode('node-a');
  // a task that goes quiet: with nobody reading its output it would not die of SIGPIPE, it runs on
  await setPipeline(a, 'two', pipeline(3, 0.1, marks, 300));
  const id = await trigger(a, 'two');
  await until('the build to run on node-a', async () => ((await build(id)).status === 'started' && (await build(id)).owner === 'node-a' ? true : undefined));
  await until('the task to print', async () => ((await events(id)).log.includes('line 2\n') ? true : undefined));
  // a second node starting never touches the first's builds
  const b = await startNode('node-b');
  await sleep(1_000);
  assert.deepEqual(await build(id), { status: 'started', owner: 'node-a' });

  a.child.kill('SIGKILL');
  const killedAt = Date.now();
  await a.exited;
  assert.equal(await finished(id), 'errored');
  const takeover = (Date.now() - killedAt) / 1000;
  figures.push(`takeover of a kill -9'd node's build: ${takeover.toFixed(1)} s (lease ${LEASE})`);
  assert.ok(takeover < 30, `taken over in ${takeover} s`);
  const ev = await events(id);
  assert.equal((await build(id)).owner, 'node-b');
  assert.ok(ev.errors.some((m) => m.startsWith('the web node node-a that ran this build stopped')), ev.errors.join('\n'));
  assert.deepEqual(ev.statusEvents, ['started', 'errored'], 'one start, one end');
  assert.equal(ev.log, lines(3), 'the lines stored before the kill are kept, once, in order');

  // node-a's task is still running unsupervised (its parent died): restarting node-a kills it
  const before = await runs(marks);
  const again = await startNode('node-a', { dataDir: a.dataDir, port: a.port });
  assert.match(again.output(), /killed \d+ step process/);
  assert.deepEqual(await findOrphanProcesses(join(a.dataDir, 'worker')), [], 'no step process of node-a is left');
  assert.equal(await runs(marks), before, 'nothing ran twice');
  assert.equal(before, 1);
  again.child.kill('SIGTERM');
  b.child.kill('SIGTERM');
  await Promise.all([again.exited, b.exited]);
});

test('check lease holder killed (kill -9) mid-check: the other node takes the check build over within the lease and checks the resource again within a minute', async () => {
  const flags = ['--checker-interval', '1s'];
  // check builds (a custom type's, a declined source's): the built-in types' periodic checks run
  // in memory (the next scenario), so these nodes check in containers
  const env = { JETWAY_IN_PROCESS_CHECKS: 'off' };
  const [a, b] = [await startNode('node-check-a', { flags, env }), await startNode('node-check-b', { flags, env })];
  // each check takes 20 s; a failed one waits its interval (10 s) before the next
  await setPipeline(a, 'lease', `resources:\n- name: slow\n  type: mock\n  check_every: 10s\n  source: {check_delay: 20s}\njobs:\n- name: use\n  plan:\n  - get: slow\n    trigger: true\n`);
  const checks = async (): Promise<{ id: number; status: string; owner: string | null }[]> =>
    (
      await db.query<{ id: number; status: string; owner_node: string | null }>(
        `SELECT b.id, b.status, b.owner_node FROM builds b JOIN resources r ON r.id = b.resource_id WHERE r.name = 'slow' ORDER BY b.id`,
      )
    ).rows.map((r) => ({ id: r.id, status: r.status, owner: r.owner_node }));
  const first = await until('the first check to run on a node', async () => (await checks()).find((c) => c.status === 'started' && c.owner !== null));
  const [holder, other] = first.owner === a.name ? [a, b] : [b, a];
  holder.child.kill('SIGKILL');
  const killedAt = Date.now();
  await holder.exited;
  const started = await until(
    `a check of the resource to start on ${other.name}`,
    async () => (await checks()).find((c) => c.id > first.id && c.owner === other.name),
    90_000,
  );
  const seconds = (Date.now() - killedAt) / 1000;
  const again = await until(`check ${started.id} to succeed`, async () => ((await checks()).find((c) => c.id === started.id && c.status === 'succeeded')));
  const done = (Date.now() - killedAt) / 1000;
  figures.push(`check lease holder kill -9'd: the resource checked again on the other node ${seconds.toFixed(1)} s after the kill, that check succeeded at ${done.toFixed(1)} s (check 20 s, interval 10 s, lease ${LEASE})`);
  assert.ok(seconds < 60, `checked again on ${other.name} ${seconds} s after the kill`);
  const all = await checks();
  assert.equal(all.find((c) => c.id === first.id)?.status, 'errored', "the dead node's check ended errored");
  assert.deepEqual((await events(first.id)).statusEvents, ['started', 'errored'], 'one start, one end');
  assert.equal(all.filter((c) => c.id < again.id && c.status === 'started').length, 0, 'no check left running beside the new one');
  other.child.kill('SIGTERM');
  await other.exited;
});

test('a node killed (kill -9) mid in-memory check: another node checks the resource within the scope lease and the check, nothing left held, no check build', async () => {
  const flags = ['--checker-interval', '1s'];
  const a = await startNode('node-mem-a', { flags });
  await setPipeline(a, 'memlease', `resources:\n- name: slowmem\n  type: mock\n  check_every: 10s\n  source: {check_delay: 20s}\njobs:\n- name: use\n  plan:\n  - get: slowmem\n    trigger: true\n`);
  const record = async (): Promise<{ id: number; status: string; lease: string | null; builds: number } | undefined> =>
    (
      await db.query<{ id: number; status: string; lease: string | null; builds: number }>(
        `SELECT r.in_memory_check_id AS id, r.in_memory_check_status AS status, s.check_lease_owner AS lease,
                (SELECT count(*)::int FROM builds b WHERE b.resource_id = r.id) AS builds
           FROM resources r LEFT JOIN resource_config_scopes s ON s.id = r.resource_config_scope_id WHERE r.name = 'slowmem'`,
      )
    ).rows[0];
  // node-mem-a alone: the check it started is its own
  const first = await until('an in-memory check to start on node-mem-a', async () => {
    const r = await record();
    return r?.status === 'started' && r.lease !== null ? r : undefined;
  });
  const b = await startNode('node-mem-b', { flags });
  a.child.kill('SIGKILL');
  const killedAt = Date.now();
  await a.exited;
  const again = await until('the resource checked in memory on node-mem-b', async () => {
    const r = await record();
    return r && r.id > first.id && r.status === 'succeeded' ? r : undefined;
  });
  const seconds = (Date.now() - killedAt) / 1000;
  figures.push(`in-memory check's node kill -9'd: the resource checked on the other node, succeeded ${seconds.toFixed(1)} s after the kill (scope lease 30 s, check 20 s)`);
  // the dead node's scope lease expires (30 s unrenewed), then the 20 s check runs
  assert.ok(seconds < 90, `checked on node-mem-b ${seconds} s after the kill`);
  assert.equal(again.lease, null, 'the scope lease let go');
  assert.equal(again.builds, 0, 'no check build: both checks ran in memory');
  b.child.kill('SIGTERM');
  await b.exited;
});

test('three nodes on one Postgres, one killed mid-build: builds of the others finish succeeded, the dead one\'s are taken over once', async () => {
  const marks = await markDir('three');
  const [x, y, z] = [await startNode('node-x'), await startNode('node-y'), await startNode('node-z')];
  await setPipeline(x, 'three-x', pipeline(30, 0.1, marks));
  await setPipeline(y, 'three-y', pipeline(30, 0.1, marks));
  await setPipeline(z, 'three-z', pipeline(200, 0.1, marks));
  const ids = { x: await trigger(x, 'three-x'), y: await trigger(y, 'three-y'), z: await trigger(z, 'three-z') };
  await until('z to run its build', async () => ((await events(ids.z)).log.includes('line 1\n') ? true : undefined));
  z.child.kill('SIGKILL');
  await z.exited;
  const statuses = { x: await finished(ids.x), y: await finished(ids.y), z: await finished(ids.z) };
  // builds are tracked by whichever node's scheduler started them; those of the live nodes succeed
  const owners = { x: (await build(ids.x)).owner, y: (await build(ids.y)).owner };
  for (const k of ['x', 'y'] as const) {
    if (owners[k] !== 'node-z') {
      assert.equal(statuses[k], 'succeeded', `${k} on ${owners[k]}`);
      const ev = await events(ids[k]);
      assert.equal(ev.log, lines(30), 'every line once, in order');
      assert.deepEqual(ev.statusEvents, ['started', 'succeeded']);
    }
  }
  assert.equal(statuses.z, 'errored');
  assert.deepEqual((await events(ids.z)).statusEvents, ['started', 'errored']);
  assert.equal(await runs(marks), 3, 'each build ran once');
  for (const n of [x, y]) n.child.kill('SIGTERM');
  await Promise.all([x.exited, y.exited]);
});

test('Postgres frozen (SIGSTOP) mid-build: /health says 503 naming the database within seconds; once thawed the build succeeds with every line once', async () => {
  const marks = await markDir('frozen');
  const n = await startNode('node-frozen');
  await setPipeline(n, 'frozen', pipeline(60, 0.1, marks));
  const id = await trigger(n, 'frozen');
  await until('the task to print', async () => ((await events(id)).log.includes('line 3\n') ? true : undefined));
  // the whole server stops (a paused VM or container): the postmaster and every backend
  const pids = await postgresProcesses();
  for (const pid of pids) process.kill(pid, 'SIGSTOP');
  let health: { code: number; body: { database?: { error?: string } }; ms: number };
  try {
    await sleep(500);
    const asked = Date.now();
    const res = await fetch(`${n.url}/api/v1/health`, { signal: AbortSignal.timeout(15_000) });
    health = { code: res.status, body: (await res.json()) as { database?: { error?: string } }, ms: Date.now() - asked };
    await sleep(5_000); // the task keeps printing into the buffer meanwhile
  } finally {
    for (const pid of pids) process.kill(pid, 'SIGCONT');
  }
  figures.push(`/health with Postgres frozen: ${health.code} in ${health.ms} ms`);
  assert.equal(health.code, 503);
  assert.match(health.body.database?.error ?? '', /did not answer within/);
  assert.equal(await finished(id), 'succeeded');
  const ev = await events(id);
  assert.equal(ev.log, lines(60), 'no line lost or doubled');
  assert.deepEqual(ev.statusEvents, ['started', 'succeeded']);
  assert.equal(await runs(marks), 1);
  n.child.kill('SIGTERM');
  await n.exited;
});

test('disk full for real (Postgres and the data dir on a tmpfs, filled mid-build): /health says the disk; the builds end errored saying the disk was full, an abort ends its build aborted, once there is room', { skip: process.getuid?.() === 0 ? false : 'mounting a tmpfs needs root' }, async () => {
  const mnt = await mkdtemp(join(root, 'tmpfs-'));
  execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=160m', 'tmpfs', mnt]);
  let server: EmbeddedServer | undefined;
  let fdb: PoolDatabase | undefined;
  let n: Node | undefined;
  try {
    server = await startEmbeddedPostgres({ dataDir: join(mnt, 'pg'), logger: silentLogger, port: await freePort() });
    fdb = new PoolDatabase({ url: server.url, logger: silentLogger, max: 2 });
    const on = fdb;
    const marks = await markDir('disk');
    const node = await startNode('node-disk', { postgresUrl: server.url, dataDir: await mkdtemp(join(mnt, 'node-')) });
    n = node;
    await setPipeline(node, 'disk', pipeline(80, 0.1, marks));
    const finishing = await trigger(node, 'disk');
    const aborting = await trigger(node, 'disk');
    await until('both builds to print', async () => ((await events(finishing, on)).log.includes('line 2\n') && (await events(aborting, on)).log.includes('line 2\n') ? true : undefined));
    // fill the disk: what is left goes to a file of zeros
    const filler = await open(join(mnt, 'filler'), 'w');
    try {
      for (;;) await filler.write(Buffer.alloc(1 << 20));
    } catch (err) {
      assert.equal((err as NodeJS.ErrnoException).code, 'ENOSPC');
    } finally {
      await filler.close();
    }
    const health = await until('/health to say the disk', async () => {
      const res = await fetch(`${node.url}/api/v1/health`);
      const body = (await res.json()) as { disk?: { error: string } };
      return res.status === 503 && body.disk ? body : undefined;
    }, 30_000);
    assert.match(health.disk?.error ?? '', /full/);
    const abort = await fetch(`${node.url}/api/v1/builds/${aborting}/abort`, { method: 'PUT', headers: await token(node) });
    figures.push(`disk full: /health ${JSON.stringify(health)}; abort while full answered ${abort.status}`);
    // the tasks end (8 s) while the disk is full; then room is made
    await sleep(10_000);
    assert.equal((await build(finishing, on)).status, 'started', 'not ended while nothing can be recorded');
    await rm(join(mnt, 'filler'));
    if (!abort.ok) assert.ok((await fetch(`${node.url}/api/v1/builds/${aborting}/abort`, { method: 'PUT', headers: await token(node) })).ok);
    assert.equal(await finished(finishing, on), 'errored');
    const ev = await events(finishing, on);
    assert.ok(ev.errors.some((m) => /disk (is|was) full/.test(m)), ev.errors.join('\n'));
    assert.deepEqual(ev.statusEvents, ['started', 'errored']);
    assert.equal(ev.log, lines(80), 'the lines refused while the disk was full waited and were written, once, in order');
    const status = await finished(aborting, on);
    figures.push(`disk full: the finishing build ended ${(await build(finishing, on)).status} (${ev.errors.join(' | ')}), the aborted one ${status}`);
    assert.equal(status, 'aborted');
    assert.equal(await runs(marks), 2, 'each build ran once');
  } finally {
    n?.child.kill('SIGTERM');
    await n?.exited;
    await fdb?.close().catch(() => undefined);
    await server?.stop().catch(() => undefined);
    execFileSync('umount', [mnt]);
  }
});

test('Postgres killed (kill -9) and restarted mid-build: the events wait and are written, the build succeeds with every line once', async () => {
  const marks = await markDir('killed');
  const n = await startNode('node-pgkill');
  await setPipeline(n, 'pgkill', pipeline(60, 0.1, marks));
  const id = await trigger(n, 'pgkill');
  await until('the task to print', async () => ((await events(id)).log.includes('line 3\n') ? true : undefined));
  const pid = Number((await readFile(join(pgDir, 'postmaster.pid'), 'utf8')).split('\n')[0]);
  process.kill(pid, 'SIGKILL');
  const killedAt = Date.now();
  await sleep(3_000);
  // the same cluster, on the same port, as an operator's restart would bring it back
  pg = await startEmbeddedPostgres({ dataDir: pgDir, logger: silentLogger, port: pgPort });
  figures.push(`Postgres down for ${((Date.now() - killedAt) / 1000).toFixed(1)} s mid-build`);
  assert.equal(await finished(id), 'succeeded', n.output().slice(-3000));
  const ev = await events(id);
  const lost = 60 - ev.log.split('\n').filter((l) => /^line \d+$/.test(l)).length;
  figures.push(`events lost with Postgres killed mid-build: ${lost}`);
  assert.equal(ev.log, lines(60), 'no line lost or doubled');
  assert.deepEqual(ev.statusEvents, ['started', 'succeeded']);
  assert.equal(await runs(marks), 1);
  n.child.kill('SIGTERM');
  await n.exited;
});

test('rolling restart of two nodes (SIGTERM, then start again, one after the other) with builds running: every build ends with a recorded status, none stuck, none run twice', async () => {
  const marks = await markDir('rolling');
  let p = await startNode('node-p');
  let q = await startNode('node-q');
  await setPipeline(p, 'rolling', pipeline(80, 0.1, marks));
  const ids = [await trigger(p, 'rolling'), await trigger(q, 'rolling')];
  await until('both builds to run', async () => ((await Promise.all(ids.map((id) => build(id)))).every((b) => b.status === 'started' && b.owner) ? true : undefined));
  for (const which of ['p', 'q'] as const) {
    const n = which === 'p' ? p : q;
    n.child.kill('SIGTERM');
    assert.equal(await n.exited, 0, n.output().slice(-2000));
    const again = await startNode(n.name, { dataDir: (n as Node & { dataDir: string }).dataDir, port: (n as Node & { port: number }).port });
    if (which === 'p') p = again;
    else q = again;
  }
  const statuses = await Promise.all(ids.map((id) => finished(id)));
  const asTheyWould = statuses.filter((s) => s === 'succeeded').length;
  figures.push(`rolling restart of two nodes on the local runtime: ${asTheyWould}/${ids.length} builds finished as they would have (${statuses.join(', ')}); the local runtime cannot hand a running process over`);
  for (const id of ids) assert.equal((await events(id)).statusEvents.length, 2, 'one start, one end');
  assert.ok(statuses.every((s) => s === 'aborted' || s === 'succeeded'), statuses.join(', '));
  assert.equal(await runs(marks), ids.length, 'nothing ran twice');
  for (const n of [p, q]) n.child.kill('SIGTERM');
  await Promise.all([p.exited, q.exited]);
});
