// A scheduling pass over many due jobs (issue 23): the jobs read at once, locks taken and marks
// stored a chunk at a time, a job another scheduler holds left for it, and a mapping saved in
// one statement that rewrites nothing when it did not change.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import pg from 'pg';
import { saveNextInputMapping } from '../../src/db/jobs.ts';
import type { Database, Queryable } from '../../src/db/database.ts';
import { Scheduler, schedulingConcurrency } from '../../src/scheduler/scheduler.ts';
import { PoolDatabase } from '../../src/db/database.ts';
import { listen } from '../../src/db/notifications.ts';
import { useTestDatabase } from '../support/db.ts';
import { cfg, check, jobBuilds, must, RecordingChecks, RecordingTracker, setupPipeline, testLogger } from '../support/sched-support.ts';

const t = useTestDatabase();

const task = { task: 't', config: { platform: 'linux', run: { path: 'true' } } };

/** Twenty jobs, each triggered by the one resource. */
const TWENTY = cfg({
  resources: [{ name: 'repo', type: 'mock', source: {} }],
  jobs: Array.from({ length: 20 }, (_, i) => ({ name: `j${i}`, plan: [{ get: 'repo', trigger: true }, task] })),
});

/** The database with every statement counted (in transactions and on checked-out clients too). */
function counting(db: Database): { db: Database; count: () => number } {
  let n = 0;
  const wrap = <T extends Queryable>(q: T): T =>
    new Proxy(q, {
      get(target, prop, receiver) {
        if (prop === 'query') return (text: string, values?: readonly unknown[]) => (n++, target.query(text, values));
        if (prop === 'transaction') return <R>(fn: (tx: Queryable) => Promise<R>) => target.transaction((tx) => fn(wrap(tx)));
        if (prop === 'pool') {
          return new Proxy((target as unknown as Database).pool, {
            get(p, k) {
              if (k === 'connect') {
                return async () => {
                  const client = await p.connect();
                  return new Proxy(client, {
                    get(c, key) {
                      if (key === 'query') return (...a: Parameters<pg.PoolClient['query']>) => (n++, (c.query as (...x: unknown[]) => unknown)(...a));
                      const v: unknown = Reflect.get(c, key);
                      return typeof v === 'function' ? (v as (...x: unknown[]) => unknown).bind(c) : v;
                    },
                  });
                };
              }
              const v: unknown = Reflect.get(p, k);
              return typeof v === 'function' ? (v as (...x: unknown[]) => unknown).bind(p) : v;
            },
          });
        }
        const v: unknown = Reflect.get(target, prop, receiver);
        return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
      },
    });
  return { db: wrap(db), count: () => n };
}

const resolved = (resourceId: number, versionDigest: string, firstOccurrence: boolean, passedBuildIds: number[]) => ({
  resourceId,
  version: { v: versionDigest },
  versionDigest,
  firstOccurrence,
  passedBuildIds,
  hasNext: false,
});

const due = async (db: Queryable, pipelineId: number): Promise<string[]> =>
  (
    await db.query<{ name: string }>(
      'SELECT name FROM jobs WHERE pipeline_id = $1 AND schedule_requested > last_scheduled ORDER BY name',
      [pipelineId],
    )
  ).rows.map((r) => r.name);

const pipelineOf = async (db: Queryable, jobId: number): Promise<number> =>
  (await db.query<{ pipeline_id: number }>('SELECT pipeline_id FROM jobs WHERE id = $1', [jobId])).rows[0]!.pipeline_id;

test('a pass over twenty due jobs: each scheduled (a build each), all marked, a bounded number of statements a job', async () => {
  const { db } = t;
  const f = await setupPipeline(db, TWENTY);
  await check(db, f, 'repo', 'a');
  const counted = counting(db);
  const scheduler = new Scheduler(counted.db, { tracker: new RecordingTracker(), checks: new RecordingChecks(db), logger: testLogger });
  // the first pass starts a build of each job; the counted one, all due again, finds nothing new
  await f.scheduler.tick();
  const pid = await pipelineOf(db, must(f.jobs, 'j0'));
  await db.query('UPDATE jobs SET last_scheduled = schedule_requested WHERE pipeline_id <> $1', [pid]); // earlier tests' jobs
  await db.query('UPDATE jobs SET schedule_requested = clock_timestamp() WHERE pipeline_id = $1', [pid]);
  const before = counted.count();
  const results = await scheduler.tick();
  const statements = counted.count() - before;
  assert.deepEqual(
    results.map((r) => r.jobId),
    [...f.jobs.values()].sort((x, y) => x - y),
  );
  assert.deepEqual(await due(db, pid), [], 'every job marked scheduled');
  // the pass's own (the due jobs with their inputs), the latest version of `repo` once (algorithm/
  // pass-store.ts: the twenty jobs read it alike), per chunk (four of five jobs) a lock, a mark
  // and an unlock, and the jobs' first occurrences and mappings, one statement each for the jobs
  // in flight together (db/algorithm-batch.ts; two of them today, at most one a chunk): 16 (55
  // when a chunk's jobs ran one after the other; 20.7 statements a job before that)
  assert.ok(statements <= 1 + 1 + 4 * 3 + 4 * 2, `${statements} statements for 20 jobs`);
  for (let i = 0; i < 20; i++) assert.equal((await jobBuilds(db, must(f.jobs, `j${i}`))).length, 1, `j${i} has its one build`);
});

// Each chunk holds a connection for its locks while its jobs take others from the same pool: the
// pool keeps one for the node's LISTEN and one for the work (src/scheduler/scheduler.ts)
const concurrencyRows: [requested: number, pool: number, expected: number][] = [
  [4, 10, 4],
  [4, 6, 4],
  [4, 5, 3],
  [4, 4, 2],
  [4, 3, 1],
  [4, 2, 1],
  [1, 100, 1],
  [16, 100, 16],
];
for (const [requested, pool, expected] of concurrencyRows) {
  test(`schedulingConcurrency: ${requested} chunks asked on a pool of ${pool}: ${expected}`, () => {
    assert.equal(schedulingConcurrency(requested, pool), expected);
  });
}

test('the smallest pool (3, one LISTENing as on a web node): four chunks asked, every job scheduled, none waits for a connection', async () => {
  const { db } = t;
  const f = await setupPipeline(db, TWENTY);
  await check(db, f, 'repo', 'a');
  const pid = await pipelineOf(db, must(f.jobs, 'j0'));
  await db.query('UPDATE jobs SET last_scheduled = schedule_requested WHERE pipeline_id <> $1', [pid]); // earlier tests' jobs
  // a short connect timeout: a pass whose chunks held every connection would fail in 2 s, not 10
  const small = new PoolDatabase({ url: t.url, logger: testLogger, max: 3, connectTimeoutMs: 2_000 });
  const listener = await listen(small, ['jetway_test_pool'], { onNotification: () => undefined, onError: () => undefined });
  try {
    const errors: string[] = [];
    const logger = { ...testLogger, error: (_: unknown, msg: string) => void errors.push(msg) };
    const scheduler = new Scheduler(small, { tracker: new RecordingTracker(), checks: new RecordingChecks(small), logger, concurrency: 4 });
    const results = await scheduler.tick();
    assert.deepEqual(errors, []);
    assert.equal(results.filter((r) => r.locked && r.createdBuildId !== undefined).length, 20, 'a build created for each job');
    assert.deepEqual(await due(db, pid), [], 'every job marked scheduled');
    for (let i = 0; i < 20; i++) assert.equal((await jobBuilds(db, must(f.jobs, `j${i}`))).length, 1, `j${i} has its one build`);
  } finally {
    await listener.close();
    await small.close();
  }
});

test('a job another scheduler holds is left to it: not scheduled, still due; the others of its chunk are', async () => {
  const { db } = t;
  const f = await setupPipeline(db, TWENTY);
  await check(db, f, 'repo', 'a');
  const held = must(f.jobs, 'j3');
  const other = new pg.Client({ connectionString: t.url });
  await other.connect();
  try {
    const got = await other.query<{ ok: boolean }>('SELECT pg_try_advisory_lock($1, $2) AS ok', [0x6a7703, held]);
    assert.equal(got.rows[0]!.ok, true);
    const results = await f.scheduler.tick();
    const mine = results.filter((r) => [...f.jobs.values()].includes(r.jobId));
    assert.deepEqual(
      mine.filter((r) => !r.locked).map((r) => r.jobId),
      [held],
    );
    assert.equal((await jobBuilds(db, held)).length, 0, 'the held job got no build from this scheduler');
    assert.deepEqual(await due(db, await pipelineOf(db, held)), ['j3'], 'it stays due');
    assert.equal((await jobBuilds(db, must(f.jobs, 'j2'))).length, 1);
    assert.equal((await jobBuilds(db, must(f.jobs, 'j4'))).length, 1);
  } finally {
    await other.end();
  }
  // released: the next pass schedules it
  await f.scheduler.tick();
  assert.equal((await jobBuilds(db, held)).length, 1);
  // and the scheduler's own locks were let go: another session can take them all
  const probe = new pg.Client({ connectionString: t.url });
  await probe.connect();
  try {
    const ids = [...f.jobs.values()];
    const r = await probe.query<{ n: number }>('SELECT count(*)::int AS n FROM unnest($1::int[]) id WHERE pg_try_advisory_lock($2, id)', [ids, 0x6a7703]);
    assert.equal(r.rows[0]!.n, ids.length);
  } finally {
    await probe.end();
  }
});

test('saving a mapping: changed rows replaced, gone ones deleted, pipes replaced, an unchanged mapping rewrites nothing', async () => {
  const { db } = t;
  const f = await setupPipeline(
    db,
    cfg({
      resources: [
        { name: 'a', type: 'mock', source: {} },
        { name: 'b', type: 'mock', source: {} },
      ],
      jobs: [{ name: 'j', plan: [{ get: 'a' }, { get: 'b' }, task] }],
    }),
  );
  const j = must(f.jobs, 'j');
  const a = must(f.resources, 'a');
  const b = must(f.resources, 'b');
  const [b1, b2] = (
    await db.query<{ id: number }>(
      `INSERT INTO builds (name, job_id, pipeline_id, team_id, status) SELECT n::text, id, pipeline_id, 1, 'succeeded' FROM jobs, generate_series(1, 2) n WHERE id = $1 RETURNING id`,
      [j],
    )
  ).rows.map((r) => r.id);
  const rows = async () =>
    (
      await db.query<{ input_name: string; version_digest: string | null; first_occurrence: boolean; resolve_error: string | null; xmin: string }>(
        'SELECT input_name, version_digest, first_occurrence, resolve_error, xmin::text FROM next_build_inputs WHERE job_id = $1 ORDER BY input_name',
        [j],
      )
    ).rows;
  const pipes = async () =>
    (await db.query<{ from_build_id: number }>('SELECT from_build_id FROM next_build_pipes WHERE to_job_id = $1 ORDER BY 1', [j])).rows.map((r) => r.from_build_id);
  const determined = async () => (await db.query<{ d: boolean; n: boolean }>('SELECT inputs_determined AS d, has_new_inputs AS n FROM jobs WHERE id = $1', [j])).rows[0];

  const mapping = {
    ok: true,
    hasNext: false,
    mapping: {
      a: resolved(a, 'da1', true, [b1!]),
      b: resolved(b, 'db1', false, []),
    },
  };
  await saveNextInputMapping(db, j, mapping, true);
  const first = await rows();
  assert.deepEqual(
    first.map(({ xmin: _, ...r }) => r),
    [
      { input_name: 'a', version_digest: 'da1', first_occurrence: true, resolve_error: null },
      { input_name: 'b', version_digest: 'db1', first_occurrence: false, resolve_error: null },
    ],
  );
  assert.deepEqual(await pipes(), [b1]);
  assert.deepEqual(await determined(), { d: true, n: true });

  // the same mapping again: no row rewritten (same xmin)
  await saveNextInputMapping(db, j, mapping);
  assert.deepEqual(await rows(), first);
  assert.deepEqual(await determined(), { d: true, n: true }, 'has_new_inputs left as it was when not given');

  // a changed, b unresolvable; another vouching build
  await saveNextInputMapping(
    db,
    j,
    {
      ok: false,
      hasNext: false,
      mapping: {
        a: resolved(a, 'da2', false, [b2!]),
        b: { resolveError: 'latest version of resource not found' },
      },
    },
    false,
  );
  assert.deepEqual(
    (await rows()).map(({ xmin: _, ...r }) => r),
    [
      { input_name: 'a', version_digest: 'da2', first_occurrence: false, resolve_error: null },
      { input_name: 'b', version_digest: null, first_occurrence: false, resolve_error: 'latest version of resource not found' },
    ],
  );
  assert.deepEqual(await pipes(), [b2]);
  assert.deepEqual(await determined(), { d: false, n: false });

  // an input gone from the config
  await saveNextInputMapping(db, j, { ok: true, hasNext: false, mapping: { a: resolved(a, 'da2', false, []) } });
  assert.deepEqual((await rows()).map((r) => r.input_name), ['a']);
  assert.deepEqual(await pipes(), []);
});

test('marks that cannot be stored: the pass ends saying so, its jobs stay due, no lock is left held', async () => {
  const { db } = t;
  const f = await setupPipeline(db, TWENTY);
  await check(db, f, 'repo', 'a');
  const pid = await pipelineOf(db, must(f.jobs, 'j0'));
  await db.query('UPDATE jobs SET last_scheduled = schedule_requested WHERE pipeline_id <> $1', [pid]);
  const failing = new Proxy(db, {
    get(target, prop, receiver) {
      if (prop === 'query') {
        return (text: string, values?: readonly unknown[]) =>
          /SET last_scheduled/.test(text) ? Promise.reject(new Error('connection terminated unexpectedly')) : target.query(text, values);
      }
      const v: unknown = Reflect.get(target, prop, receiver);
      return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
    },
  });
  const errors: string[] = [];
  const logger = { ...testLogger, error: (_: unknown, msg: string) => void errors.push(msg) };
  const scheduler = new Scheduler(failing, { tracker: new RecordingTracker(), checks: new RecordingChecks(db), logger });
  const results = await scheduler.tick();
  assert.deepEqual(results, [], 'no chunk completed');
  assert.ok(errors.length > 0 && errors.every((m) => m === 'scheduling jobs failed'), errors.join('; '));
  assert.equal((await due(db, pid)).length, 20, 'every job still due');
  // the locks were let go: the real scheduler schedules them all now
  await f.scheduler.tick();
  assert.deepEqual(await due(db, pid), []);
});
