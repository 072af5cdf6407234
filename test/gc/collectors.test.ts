// The garbage collectors' policy (grace periods, retention, the order of the collections, the
// counts and the log, the periodic runner) against an in-memory store: no Postgres. The SQL
// behind the port is tested in collector.test.ts and resource-caches.test.ts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { access, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { silentLogger, type Logger } from '../../src/log.ts';
import { Collector, type CollectionResult, type CollectorOptions } from '../../src/gc/collector.ts';
import { FakeGcStore, type FakeBuild, type FakeGcState } from './fake-store.ts';

const NOW = new Date('2026-11-22T12:00:00Z');
const minutesAgo = (m: number): Date => new Date(NOW.getTime() - m * 60_000);
const NOTHING: CollectionResult = { artifacts: 0, tokens: 0, buildLogs: 0, resourceCaches: 0, resourceConfigs: 0, keptResourceCaches: 0 };

const build = (id: number, over: Partial<FakeBuild> = {}): FakeBuild => ({
  id,
  jobId: null,
  status: 'succeeded',
  completed: true,
  endTime: minutesAgo(24 * 60),
  reapTime: null,
  events: 3,
  ...over,
});
const artifact = (id: number, buildId: number | null, createdAt = minutesAgo(0)): FakeGcState['artifacts'][number] => ({
  id,
  buildId,
  location: null,
  createdAt,
});
/** the builds of job 1, oldest (id 1) first, one an hour apart */
const jobBuilds = (n: number): FakeBuild[] => Array.from({ length: n }, (_, i) => build(i + 1, { jobId: 1, endTime: minutesAgo((n - i) * 60) }));

/** What is left after one collection, by id (builds: those whose logs were reaped). */
interface Left {
  artifacts?: number[];
  tokens?: string[];
  reaped?: number[];
  resourceCaches?: number[];
  resourceConfigs?: number[];
}

function left(store: FakeGcStore): Required<Left> {
  const s = store.state;
  return {
    artifacts: s.artifacts.map((a) => a.id),
    tokens: s.tokens.map((t) => t.sha256),
    reaped: s.builds.filter((b) => b.reapTime !== null).map((b) => b.id),
    resourceCaches: s.resourceCaches.map((c) => c.id),
    resourceConfigs: s.resourceConfigs.map((c) => c.id),
  };
}

interface Row {
  name: string;
  opts?: Partial<CollectorOptions>;
  given: Partial<FakeGcState>;
  collected: Partial<CollectionResult>;
  left: Left;
}

const rows: Row[] = [
  {
    name: 'the artifacts of a build that ended more than the grace period (1 h) ago go',
    given: { builds: [build(1, { endTime: minutesAgo(61) })], artifacts: [artifact(1, 1)] },
    collected: { artifacts: 1 },
    left: { artifacts: [] },
  },
  {
    name: 'the artifacts of a build that ended within the grace period stay downloadable',
    given: { builds: [build(1, { endTime: minutesAgo(59) })], artifacts: [artifact(1, 1)] },
    collected: {},
    left: { artifacts: [1] },
  },
  {
    name: 'the artifacts of a running build stay, however old',
    given: { builds: [build(1, { completed: false, status: 'started', endTime: null })], artifacts: [artifact(1, 1, minutesAgo(24 * 60))] },
    collected: {},
    left: { artifacts: [1] },
  },
  {
    name: 'an upload no build used goes after its own grace period (1 h)',
    given: { artifacts: [artifact(1, null, minutesAgo(61)), artifact(2, null, minutesAgo(59))] },
    collected: { artifacts: 1 },
    left: { artifacts: [2] },
  },
  {
    name: 'artifactGraceMs and unusedUploadMs set the two grace periods',
    opts: { artifactGraceMs: 10 * 60_000, unusedUploadMs: 5 * 60_000 },
    given: {
      builds: [build(1, { endTime: minutesAgo(11) }), build(2, { endTime: minutesAgo(9) })],
      artifacts: [artifact(1, 1), artifact(2, 2), artifact(3, null, minutesAgo(6)), artifact(4, null, minutesAgo(4))],
    },
    collected: { artifacts: 2 },
    left: { artifacts: [2, 4] },
  },
  {
    name: 'expired access tokens go, the others stay',
    given: {
      tokens: [
        { sha256: 'expired', expiresAt: minutesAgo(1) },
        { sha256: 'valid', expiresAt: minutesAgo(-1) },
      ],
    },
    collected: { tokens: 1 },
    left: { tokens: ['valid'] },
  },
  {
    name: 'build_log_retention builds: the logs of builds older than the newest n are reaped',
    given: { jobs: [{ id: 1, config: { build_log_retention: { builds: 2 } } }], builds: jobBuilds(4) },
    collected: { buildLogs: 2 },
    left: { reaped: [1, 2] },
  },
  {
    name: 'the deprecated build_logs_to_retain reaps the same way',
    given: { jobs: [{ id: 1, config: { build_logs_to_retain: 1 } }], builds: jobBuilds(3) },
    collected: { buildLogs: 2 },
    left: { reaped: [1, 2] },
  },
  {
    name: 'build_log_retention days: the logs of builds that ended longer ago are reaped',
    given: { jobs: [{ id: 1, config: { build_log_retention: { days: 1 } } }], builds: [build(1, { jobId: 1, endTime: minutesAgo(25 * 60) }), build(2, { jobId: 1, endTime: minutesAgo(60) })] },
    collected: { buildLogs: 1 },
    left: { reaped: [1] },
  },
  {
    name: 'a retention asking for no limit (a minimum alone) reaps nothing',
    given: { jobs: [{ id: 1, config: { build_log_retention: { minimum_succeeded_builds: 2 } } }], builds: jobBuilds(4) },
    collected: {},
    left: { reaped: [] },
  },
  {
    name: "the builds of a job without retention and one-off builds keep their logs",
    given: { jobs: [{ id: 1, config: {} }], builds: [...jobBuilds(3), build(9)] },
    collected: {},
    left: { reaped: [] },
  },
  {
    name: 'an unreferenced resource cache goes after the grace period (1 h); a younger one stays',
    given: {
      resourceCaches: [
        { id: 1, resourceConfigId: null, lastReferenced: minutesAgo(61), referenced: false },
        { id: 2, resourceConfigId: null, lastReferenced: minutesAgo(59), referenced: false },
      ],
    },
    collected: { resourceCaches: 1 },
    left: { resourceCaches: [2] },
  },
  {
    name: 'a resource cache something keeps alive stays, however old',
    given: { resourceCaches: [{ id: 1, resourceConfigId: null, lastReferenced: minutesAgo(24 * 60), referenced: true }] },
    collected: {},
    left: { resourceCaches: [1] },
  },
  {
    name: 'an unreferenced resource config goes after the grace period; a younger or referenced one stays',
    given: {
      resourceConfigs: [
        { id: 1, lastReferenced: minutesAgo(61), referenced: false },
        { id: 2, lastReferenced: minutesAgo(59), referenced: false },
        { id: 3, lastReferenced: minutesAgo(24 * 60), referenced: true },
      ],
    },
    collected: { resourceConfigs: 1 },
    left: { resourceConfigs: [2, 3] },
  },
  {
    name: 'a resource config whose last cache goes goes in the same pass (caches are collected first)',
    given: {
      resourceCaches: [{ id: 1, resourceConfigId: 1, lastReferenced: minutesAgo(61), referenced: false }],
      resourceConfigs: [{ id: 1, lastReferenced: minutesAgo(61), referenced: false }],
    },
    collected: { resourceCaches: 1, resourceConfigs: 1 },
    left: { resourceCaches: [], resourceConfigs: [] },
  },
  {
    name: 'a resource config with a cache that stays stays',
    given: {
      resourceCaches: [{ id: 1, resourceConfigId: 1, lastReferenced: minutesAgo(59), referenced: false }],
      resourceConfigs: [{ id: 1, lastReferenced: minutesAgo(61), referenced: false }],
    },
    collected: {},
    left: { resourceCaches: [1], resourceConfigs: [1] },
  },
  {
    name: 'resourceGraceMs sets the grace period of caches and configs',
    opts: { resourceGraceMs: 10 * 60_000 },
    given: {
      resourceCaches: [
        { id: 1, resourceConfigId: null, lastReferenced: minutesAgo(11), referenced: false },
        { id: 2, resourceConfigId: null, lastReferenced: minutesAgo(9), referenced: false },
      ],
      resourceConfigs: [
        { id: 1, lastReferenced: minutesAgo(11), referenced: false },
        { id: 2, lastReferenced: minutesAgo(9), referenced: false },
      ],
    },
    collected: { resourceCaches: 1, resourceConfigs: 1 },
    left: { resourceCaches: [2], resourceConfigs: [2] },
  },
];

for (const row of rows) {
  test(row.name, async () => {
    const store = new FakeGcStore(row.given);
    const result = await new Collector(store, { logger: silentLogger, ...row.opts }).collect(NOW);
    assert.deepEqual(result, { ...NOTHING, ...row.collected });
    const after = left(store);
    for (const key of Object.keys(row.left) as (keyof Left)[]) assert.deepEqual(after[key], row.left[key], key);
  });
}

test('reaped builds lose their events and get the collection time as their reap time', async () => {
  const store = new FakeGcStore({ jobs: [{ id: 1, config: { build_log_retention: { builds: 1 } } }], builds: jobBuilds(2) });
  await new Collector(store, { logger: silentLogger }).collect(NOW);
  assert.deepEqual(
    store.state.builds.map((b) => ({ id: b.id, events: b.events, reapTime: b.reapTime })),
    [
      { id: 1, events: 0, reapTime: NOW },
      { id: 2, events: 3, reapTime: null },
    ],
  );
});

test("an expired artifact's file goes with it", async () => {
  const dir = await mkdtemp(join(tmpdir(), 'jw-gc-unit-'));
  try {
    const file = join(dir, 'out.tgz');
    await writeFile(file, 'x');
    const store = new FakeGcStore({ artifacts: [{ id: 1, buildId: null, location: file, createdAt: minutesAgo(61) }] });
    await new Collector(store, { logger: silentLogger }).collect(NOW);
    await assert.rejects(access(file), { code: 'ENOENT' });
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

/** A logger recording what it is given. */
function recordingLogger(): Logger & { lines: { level: string; obj: object; msg: string | undefined }[] } {
  const lines: { level: string; obj: object; msg: string | undefined }[] = [];
  const at =
    (level: string) =>
    (obj: object, msg?: string): void => {
      lines.push({ level, obj, msg });
    };
  const logger = { lines, debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error'), child: () => logger };
  return logger;
}

test('a collection that found something logs the counts; one that found nothing logs nothing', async () => {
  const logger = recordingLogger();
  const store = new FakeGcStore({ tokens: [{ sha256: 'expired', expiresAt: minutesAgo(1) }] });
  const collector = new Collector(store, { logger });
  await collector.collect(NOW);
  await collector.collect(NOW);
  assert.deepEqual(logger.lines, [{ level: 'info', obj: { ...NOTHING, tokens: 1 }, msg: 'garbage collected' }]);
});

test('the periodic collection: the first one interval after start, one at a time; a failure is logged with its error', async () => {
  const logger = recordingLogger();
  let running = 0;
  let most = 0;
  let passes = 0;
  const failure = new Error('connection refused');
  class SlowStore extends FakeGcStore {
    override async removeExpiredAccessTokens(): Promise<number> {
      running++;
      most = Math.max(most, running);
      passes++;
      await new Promise((resolve) => setTimeout(resolve, 30));
      running--;
      if (passes === 1) throw failure;
      return 0;
    }
  }
  const collector = new Collector(new SlowStore(), { logger, intervalMs: 10 });
  collector.start();
  assert.equal(passes, 0, 'no collection at start');
  await new Promise((resolve) => setTimeout(resolve, 120));
  await collector.stop();
  const stoppedAt = passes;
  assert.ok(passes >= 2, `collections ran (${passes})`);
  assert.equal(most, 1, 'never two at once');
  assert.equal(running, 0, 'stop waited for the collection in progress');
  assert.deepEqual(logger.lines[0], { level: 'warn', obj: { err: failure }, msg: 'garbage collection failed' });
  await new Promise((resolve) => setTimeout(resolve, 30));
  assert.equal(passes, stoppedAt, 'none after stop');
});

test("kept resource cache volumes: those of caches that went go after them, at most max per pass; one newer than every id read stays", async () => {
  const { pruneCachedResources, saveCachedResource, findCachedResource } = await import('../../src/runtime/local/resource-caches.ts');
  const root = await mkdtemp(join(tmpdir(), 'jw-gc-kept-'));
  try {
    for (const [id, team] of [[1, 1], [2, 1], [3, 2], [4, 2], [9, 1]] as const) {
      const vol = join(root, `v${id}`);
      await import('node:fs/promises').then((fs) => fs.mkdir(vol));
      await saveCachedResource(root, id, { kind: 'volume', path: vol }, { version: {}, metadata: [] }, 0o700, team);
    }
    // the database has caches 2 and 4 (1 and 3 went, unreferenced for long); 9 was kept after the ids were read
    const cache = (id: number, referenced: boolean): FakeGcState['resourceCaches'][number] => ({ id, resourceConfigId: null, lastReferenced: minutesAgo(24 * 60), referenced });
    const store = new FakeGcStore({ resourceCaches: [cache(1, false), cache(2, true), cache(3, false), cache(4, true)] });
    const kept = { pruneResourceCaches: (keep: (id: number) => boolean, max: number) => pruneCachedResources(root, keep, max) };
    const first = await new Collector(store, { logger: silentLogger, keptResourceCaches: kept, maxKeptResourceCachesPerPass: 1 }).collect(NOW);
    assert.deepEqual({ resourceCaches: first.resourceCaches, keptResourceCaches: first.keptResourceCaches }, { resourceCaches: 2, keptResourceCaches: 1 });
    const second = await new Collector(store, { logger: silentLogger, keptResourceCaches: kept, maxKeptResourceCachesPerPass: 1 }).collect(NOW);
    assert.equal(second.keptResourceCaches, 1);
    const third = await new Collector(store, { logger: silentLogger, keptResourceCaches: kept }).collect(NOW);
    assert.equal(third.keptResourceCaches, 0);
    const left = await Promise.all([[1, 1], [2, 1], [3, 2], [4, 2], [9, 1]].map(async ([id, team]) => (await findCachedResource(root, id!, team)) !== undefined));
    assert.deepEqual(left, [false, true, false, true, true]);
  } finally {
    await rm(root, { recursive: true, force: true });
  }
});
