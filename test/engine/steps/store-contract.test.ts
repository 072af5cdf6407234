// The StepStore contract the step tests rely on, run against the in-memory fake
// (test/support/memory-engine-store.ts) and, when a test Postgres is given
// (JETWAY_TEST_POSTGRES_URL, as scripts/test.ts sets it), against the Postgres adapter: the
// same scenarios must hold on both, so the fake stays faithful. Alone (`npx tsx --test` on this
// file without the URL) only the fake runs.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { PipelineConfig } from '../../../src/config/index.ts';
import type { Database } from '../../../src/db/database.ts';
import { PostgresEngineStore } from '../../../src/db/engine-store.ts';
import { savePipeline } from '../../../src/db/pipelines.ts';
import type { StepStore } from '../../../src/engine/store.ts';
import { MemoryEngineStore } from '../../support/memory-engine-store.ts';
import { useTestDatabase } from '../../support/db.ts';

/** A store and the rows a scenario needs around it, made the way each store makes them. */
interface World {
  store: StepStore;
  /** a pipeline with the config's resources, types and jobs */
  pipeline(name: string, config: PipelineConfig): Promise<number>;
  jobId(pipelineId: number, name: string): Promise<number>;
  build(pipelineId: number): Promise<number>;
  upload(location: string): Promise<number>;
  /** the resource caches recorded as the build's images */
  imageCaches(buildId: number): Promise<number[]>;
}

function memoryWorld(): World {
  const store = new MemoryEngineStore();
  let builds = 100;
  return {
    store,
    pipeline: async (name, config) => store.addPipeline({ name, config }),
    jobId: async (pipelineId, name) => pipelineId * 1000 + name.length,
    build: async () => builds++,
    upload: async (location) => store.addUploadedArtifact(location),
    imageCaches: async (buildId) => store.imageResourceCaches.filter((r) => r.buildId === buildId).map((r) => r.resourceCacheId),
  };
}

function postgresWorld(db: Database): World {
  return {
    store: new PostgresEngineStore(db),
    pipeline: async (name, config) => (await savePipeline(db, { team: 'main', name, config })).pipelineId,
    jobId: async (pipelineId, name) => (await db.query<{ id: number }>('SELECT id FROM jobs WHERE pipeline_id = $1 AND name = $2', [pipelineId, name])).rows[0]!.id,
    build: async (pipelineId) =>
      (await db.query<{ id: number }>(`INSERT INTO builds (name, team_id, pipeline_id, status) VALUES ('1', 1, $1, 'started') RETURNING id`, [pipelineId])).rows[0]!.id,
    upload: async (location) => (await db.query<{ id: number }>(`INSERT INTO artifacts (name, location) VALUES ('up', $1) RETURNING id`, [location])).rows[0]!.id,
    imageCaches: async (buildId) =>
      (await db.query<{ id: number }>('SELECT resource_cache_id AS id FROM build_image_resource_caches WHERE build_id = $1 ORDER BY resource_cache_id', [buildId])).rows.map((r) => r.id),
  };
}

let pipelines = 0;
/** A pipeline of its own per scenario (names are unique per team). */
function pipelineName(): string {
  return `contract-${pipelines++}`;
}

const CONFIG: PipelineConfig = {
  resource_types: [{ name: 't', type: 'mock' }],
  resources: [{ name: 'r', type: 'mock', source: {} }],
  jobs: [{ name: 'j', plan: [{ get: 'r' }] }],
};

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

const SCENARIOS: { name: string; run(w: World): Promise<void> }[] = [
  {
    name: 'configs, scopes and caches: one stable id per key',
    async run({ store }) {
      const git = { baseType: 'git' };
      const s1 = await store.findOrCreateScope(git, { uri: 'x', branch: 'main' }, null);
      assert.deepEqual(await store.findOrCreateScope(git, { branch: 'main', uri: 'x' }, null), s1, 'key order does not count');
      const c1 = s1.resourceConfigId;
      assert.notEqual((await store.findOrCreateScope(git, { uri: 'y' }, null)).resourceConfigId, c1);
      assert.notEqual((await store.findOrCreateScope({ baseType: 'hg' }, { uri: 'x', branch: 'main' }, null)).resourceConfigId, c1);
      const k1 = await store.findOrCreateResourceCache(git, { uri: 'x', branch: 'main' }, { ref: 'a' });
      assert.equal(k1.resourceConfigId, c1, "a cache of the scope's config");
      assert.deepEqual(await store.findOrCreateResourceCache(git, { branch: 'main', uri: 'x' }, { ref: 'a' }, {}), k1, 'no params are {}');
      assert.notEqual((await store.findOrCreateResourceCache(git, { uri: 'x', branch: 'main' }, { ref: 'a' }, { depth: 1 })).id, k1.id);
      assert.notEqual((await store.findOrCreateResourceCache(git, { uri: 'x', branch: 'main' }, { ref: 'b' })).id, k1.id);
      const child = await store.findOrCreateScope({ resourceCacheId: k1.id }, { uri: 'x', branch: 'main' }, null);
      assert.notEqual(child.resourceConfigId, c1);
      assert.deepEqual(await store.findOrCreateScope({ resourceCacheId: k1.id }, { uri: 'x', branch: 'main' }, null), child);
      const childCache = await store.findOrCreateResourceCache({ resourceCacheId: k1.id }, { uri: 'x', branch: 'main' }, { ref: 'a' });
      assert.equal(childCache.resourceConfigId, child.resourceConfigId);
      assert.notEqual(childCache.id, k1.id);
    },
  },
  {
    name: "a cache recorded as a build's image with it (imageOf), of a base type's config and of a custom type's",
    async run(w) {
      const { store } = w;
      const pid = await w.pipeline(pipelineName(), CONFIG);
      const build = await w.build(pid);
      const source = { repository: `registry.test/image-of-${pid}` };
      const plain = await store.findOrCreateResourceCache({ baseType: 'registry-image' }, source, { digest: 'sha256:aa' });
      assert.deepEqual(await w.imageCaches(build), [], 'without imageOf: no image record');
      const image = await store.findOrCreateResourceCache({ baseType: 'registry-image' }, source, { digest: 'sha256:aa' }, {}, { buildId: build, jobId: null });
      assert.equal(image.id, plain.id, 'the same cache');
      assert.deepEqual(await w.imageCaches(build), [plain.id]);
      await store.findOrCreateResourceCache({ baseType: 'registry-image' }, source, { digest: 'sha256:aa' }, {}, { buildId: build, jobId: null });
      assert.deepEqual(await w.imageCaches(build), [plain.id], 'recorded once');
      const child = await store.findOrCreateResourceCache({ resourceCacheId: plain.id }, { x: 1 }, { v: '1' }, {}, { buildId: build, jobId: null });
      assert.deepEqual(await w.imageCaches(build), [plain.id, child.id].sort((a, b) => a - b));
    },
  },
  {
    name: 'saveVersions: check order moves only when something is new',
    async run({ store }) {
      const scope = await store.findOrCreateScope({ baseType: 'mock' }, { order: pipelineName() }, null);
      const latest = async (): Promise<string | undefined> => (await store.scopeLatestVersion(scope.id))?.v;
      assert.equal(await latest(), undefined);
      await store.saveVersions(scope.id, [{ v: 'a' }, { v: 'b' }, { v: 'c' }]);
      assert.equal(await latest(), 'c');
      await store.saveVersions(scope.id, [{ v: 'a' }]);
      assert.equal(await latest(), 'c', 'nothing new: nothing moves');
      await store.saveVersions(scope.id, [{ v: 'a' }, { v: 'd' }]);
      assert.equal(await latest(), 'd');
      await store.saveVersions(scope.id, [{ v: 'e' }, { v: 'b' }]);
      assert.equal(await latest(), 'b', 'with something new, every given version moves up in the order given');
    },
  },
  {
    name: "scopes: a resource's scope replaces its scopes of other configs; shared scopes stay",
    async run(w) {
      const { store } = w;
      const pid = await w.pipeline(pipelineName(), CONFIG);
      const rid = (await store.resourceId(pid, 'r'))!;
      const mock = { baseType: 'mock' };
      const s1 = await store.findOrCreateScope(mock, { scopes: pid, n: 1 }, rid);
      assert.deepEqual(s1, { id: s1.id, resourceConfigId: s1.resourceConfigId, resourceId: rid });
      assert.deepEqual(await store.findOrCreateScope(mock, { n: 1, scopes: pid }, rid), s1);
      const shared = await store.findOrCreateScope(mock, { scopes: pid, n: 1 }, null);
      assert.equal(shared.resourceConfigId, s1.resourceConfigId, 'the same config');
      assert.notEqual(shared.id, s1.id);
      await store.saveVersions(s1.id, [{ v: '1' }]);
      await store.saveVersions(shared.id, [{ v: 'shared' }]);

      await store.findOrCreateScope(mock, { scopes: pid, n: 2 }, rid);
      await assert.rejects(store.scopeCheckState(s1.id), /not found/);
      assert.equal(await store.scopeLatestVersion(s1.id), undefined, 'its versions went with it');
      const again = await store.findOrCreateScope(mock, { scopes: pid, n: 1 }, rid);
      assert.notEqual(again.id, s1.id, 'a new history');
      assert.deepEqual(await store.scopeLatestVersion(shared.id), { v: 'shared' });
    },
  },
  {
    name: 'check state: started, finished, next check one interval later',
    async run({ store }) {
      const scope = await store.findOrCreateScope({ baseType: 'mock' }, { state: pipelineName() }, null);
      assert.deepEqual(await store.scopeCheckState(scope.id), { lastCheckStartTime: null, lastCheckEndTime: null, lastCheckSucceeded: false, nextCheckTime: null });
      await store.markCheckStarted(scope.id);
      const started = await store.scopeCheckState(scope.id);
      assert.ok(started.lastCheckStartTime instanceof Date);
      assert.equal(started.lastCheckEndTime, null);
      await store.markCheckFinished(scope.id, true, 60_000);
      const finished = await store.scopeCheckState(scope.id);
      assert.equal(finished.lastCheckSucceeded, true);
      assert.equal(finished.nextCheckTime!.getTime() - finished.lastCheckEndTime!.getTime(), 60_000);
      await store.markCheckFinished(scope.id, false, undefined);
      const never = await store.scopeCheckState(scope.id);
      assert.deepEqual({ succeeded: never.lastCheckSucceeded, next: never.nextCheckTime }, { succeeded: false, next: null });
    },
  },
  {
    name: 'the check lease: a second lock waits for the release or the expiry; an abort ends the wait',
    async run({ store }) {
      const scope = await store.findOrCreateScope({ baseType: 'mock' }, { lease: pipelineName() }, null);
      const never = new AbortController().signal;
      const { release } = await store.lockScopeForCheck(scope.id, never, 60_000);
      let taken = false;
      const second = store.lockScopeForCheck(scope.id, never, 60_000).then((r) => {
        taken = true;
        return r;
      });
      await sleep(250); // Postgres polls every 100 ms
      assert.equal(taken, false, 'the second check waits');
      await release();
      const { release: releaseSecond } = await second;
      assert.equal(taken, true);

      const abort = new AbortController();
      setTimeout(() => abort.abort(new Error('aborted')), 50);
      await assert.rejects(store.lockScopeForCheck(scope.id, abort.signal, 60_000), /aborted/);
      await releaseSecond();

      await store.lockScopeForCheck(scope.id, never, 1);
      await sleep(20);
      const afterExpiry = await store.lockScopeForCheck(scope.id, never, 60_000);
      await afterExpiry.release();
    },
  },
  {
    name: 'the check lease answers the scope’s state and newest version; finish records the end, lets it go and answers the newest',
    async run({ store }) {
      const scope = await store.findOrCreateScope({ baseType: 'mock' }, { finish: pipelineName() }, null);
      await store.saveVersions(scope.id, [{ v: '1' }]);
      await store.markCheckFinished(scope.id, true, 60_000);
      const never = new AbortController().signal;
      const lease = await store.lockScopeForCheck(scope.id, never, 60_000);
      assert.deepEqual(lease.latest, { v: '1' });
      assert.equal(lease.state.lastCheckSucceeded, true);
      assert.ok(lease.state.nextCheckTime instanceof Date);
      await store.saveVersions(scope.id, [{ v: '2' }]);
      assert.deepEqual(await lease.finish(false, undefined), { v: '2' }, 'the newest version at the end');
      const ended = await store.scopeCheckState(scope.id);
      assert.deepEqual({ succeeded: ended.lastCheckSucceeded, next: ended.nextCheckTime }, { succeeded: false, next: null });
      // let go: another check takes it at once
      const next = await store.lockScopeForCheck(scope.id, AbortSignal.timeout(2_000), 60_000);
      assert.equal(next.state.lastCheckSucceeded, false);
      await lease.release(); // nothing: finished already (the next one keeps it)
      await assert.rejects(store.lockScopeForCheck(scope.id, AbortSignal.timeout(300), 60_000), /abort|timeout/i, 'still held by the next check');
      await next.release();
    },
  },
  {
    name: 'finish saves what a successful check found before the end: new versions, or (the steady state) none',
    async run({ store }) {
      const scope = await store.findOrCreateScope({ baseType: 'mock' }, { found: pipelineName() }, null);
      const never = new AbortController().signal;
      const first = await store.lockScopeForCheck(scope.id, never, 60_000);
      assert.deepEqual(await first.finish(true, 60_000, [{ v: '1' }, { v: '2' }]), { v: '2' }, 'saved, the newest answered');
      const state = await store.scopeCheckState(scope.id);
      assert.equal(state.lastCheckSucceeded, true);
      assert.ok(state.nextCheckTime instanceof Date, 'the next check one interval later');

      await store.markCheckFinished(scope.id, false, undefined);
      const steady = await store.lockScopeForCheck(scope.id, never, 60_000);
      assert.deepEqual(await steady.finish(true, 60_000, [{ v: '2' }]), { v: '2' }, 'every version known: the order stays');
      const again = await store.scopeCheckState(scope.id);
      assert.equal(again.lastCheckSucceeded, true, 'the end is recorded in the steady state too');
      assert.ok(again.nextCheckTime instanceof Date);

      const mixed = await store.lockScopeForCheck(scope.id, AbortSignal.timeout(2_000), 60_000);
      assert.deepEqual(await mixed.finish(true, 60_000, [{ v: '1' }, { v: '3' }]), { v: '3' }, 'one new version: all of them move up, in order');
      const failed = await store.lockScopeForCheck(scope.id, AbortSignal.timeout(2_000), 60_000);
      assert.deepEqual(await failed.finish(false, 60_000, [{ v: '4' }]), { v: '3' }, 'a failed check saves nothing');
      assert.equal((await store.scopeCheckState(scope.id)).lastCheckSucceeded, false);
      const free = await store.lockScopeForCheck(scope.id, AbortSignal.timeout(2_000), 60_000);
      await free.release();
    },
  },
  {
    name: "versionMetadata: what the resource's scope knows of a version; a put's output refreshes it",
    async run(w) {
      const { store } = w;
      const pid = await w.pipeline(pipelineName(), CONFIG);
      const rid = (await store.resourceId(pid, 'r'))!;
      assert.equal(await store.resourceId(pid, 'nope'), undefined);
      assert.equal(typeof (await store.resourceTypeId(pid, 't')), 'number');
      const scope = await store.findOrCreateScope({ baseType: 'mock' }, { meta: pid }, rid);
      assert.deepEqual(await store.versionMetadata(pid, 'r', { v: '1' }), [], 'the resource points at no scope yet');
      await store.setResourceScope(rid, scope);
      await store.saveVersions(scope.id, [{ v: '1' }]);
      assert.deepEqual(await store.versionMetadata(pid, 'r', { v: '1' }), []);
      const build = await w.build(pid);
      const metadata = [{ name: 'commit', value: 'abc' }];
      await store.saveBuildOutput(build, { resourceId: rid, scopeId: scope.id, name: 'r', version: { v: '1' }, metadata });
      assert.deepEqual(await store.versionMetadata(pid, 'r', { v: '1' }), metadata);
      await store.saveVersions(scope.id, [{ v: '1' }, { v: '2' }]);
      assert.deepEqual(await store.versionMetadata(pid, 'r', { v: '1' }), metadata, 'a check without metadata keeps it');
      assert.deepEqual(await store.scopeLatestVersion(scope.id), { v: '2' });
      await store.saveBuildOutput(build, { resourceId: rid, scopeId: scope.id, name: 'r', version: { v: '3' }, metadata: [] });
      assert.deepEqual(await store.scopeLatestVersion(scope.id), { v: '3' }, "a put's version is the newest");

      const typeId = (await store.resourceTypeId(pid, 't'))!;
      await store.setResourceTypeScope(typeId, await store.findOrCreateScope({ baseType: 'mock' }, { meta: pid }, null));
      await assert.rejects(store.setResourceScope(987_654, scope), /not found/);
    },
  },
  {
    name: "saveVersionMetadata: a get's metadata onto a version of the resource's history, never a new version",
    async run(w) {
      const { store } = w;
      const pid = await w.pipeline(pipelineName(), CONFIG);
      const rid = (await store.resourceId(pid, 'r'))!;
      const metadata = [{ name: 'commit', value: 'abc' }];
      assert.equal(await store.saveVersionMetadata(pid, 'r', { v: '1' }, metadata), false, 'the resource points at no scope yet');
      const scope = await store.findOrCreateScope({ baseType: 'mock' }, { meta: pid }, rid);
      await store.setResourceScope(rid, scope);
      await store.saveVersions(scope.id, [{ v: '1' }]);
      assert.equal(await store.saveVersionMetadata(pid, 'r', { v: '1' }, metadata), true);
      assert.deepEqual(await store.versionMetadata(pid, 'r', { v: '1' }), metadata);
      assert.equal(await store.saveVersionMetadata(pid, 'r', { v: '2' }, metadata), false, 'a version the history lacks');
      assert.deepEqual(await store.scopeLatestVersion(scope.id), { v: '1' }, 'no version was added');
      assert.equal(await store.saveVersionMetadata(pid, 'nope', { v: '1' }, metadata), false);
      await store.saveVersions(scope.id, [{ v: '1' }]);
      assert.deepEqual(await store.versionMetadata(pid, 'r', { v: '1' }), metadata, 'a check without metadata keeps it');
    },
  },
  {
    name: 'setPipelineFromBuild: changed by canonical JSON, and not over a newer build of the same job',
    async run(w) {
      const { store } = w;
      const parent = await w.pipeline(pipelineName(), CONFIG);
      const job = await w.jobId(parent, 'j');
      const older = await w.build(parent);
      const newer = await w.build(parent);
      const name = pipelineName();
      const setFull = (config: PipelineConfig, buildId: number, jobId: number | null, instanceVars: Record<string, unknown> | null = null) =>
        store.setPipelineFromBuild({ team: 'main', name, instanceVars, config, buildId, jobId });
      // whether it changed (what it replaced is checked below)
      const set = async (...args: Parameters<typeof setFull>) => {
        const r = await setFull(...args);
        return 'changed' in r ? { changed: r.changed } : r;
      };
      const reordered: PipelineConfig = { jobs: CONFIG.jobs, resources: CONFIG.resources, resource_types: CONFIG.resource_types };

      assert.deepEqual(await set(CONFIG, newer, job), { changed: true });
      assert.deepEqual(await set(reordered, newer, job), { changed: false }, 'key order does not count');
      assert.deepEqual(await set(CONFIG, older, job), { setByNewerBuild: newer });
      assert.deepEqual(await set(CONFIG, older, null), { changed: false }, 'a one-off build is not a build of the job');
      assert.deepEqual(await set(CONFIG, newer, job, {}), { changed: false }, 'empty instance vars are none');
      assert.deepEqual(await set(CONFIG, newer, job, { branch: 'x' }), { changed: true }, 'an instance is a pipeline of its own');
      assert.deepEqual(await set({ ...CONFIG, resources: [{ name: 'r', type: 'mock', source: { changed: true } }] }, newer, job), { changed: true });
      // what it replaced, for the step's diff: the config saved before (none for a new pipeline)
      const replaced = await setFull(CONFIG, newer, job);
      assert.ok('previous' in replaced);
      assert.deepEqual(replaced.previous?.resources, [{ name: 'r', type: 'mock', source: { changed: true } }]);
      const fresh = await setFull(CONFIG, newer, job, { branch: 'new-one' });
      assert.deepEqual(fresh, { changed: true, previous: null });
    },
  },
  {
    name: 'setPipelineFromBuild: an unknown team saves nothing',
    async run(w) {
      const { store } = w;
      const parent = await w.pipeline(pipelineName(), CONFIG);
      const build = await w.build(parent);
      const name = pipelineName();
      assert.deepEqual(await store.setPipelineFromBuild({ team: 'no-such-team', name, instanceVars: null, config: CONFIG, buildId: build, jobId: null }), { teamNotFound: true });
      assert.deepEqual(await store.setPipelineFromBuild({ team: 'main', name, instanceVars: null, config: CONFIG, buildId: build, jobId: null }), { changed: true, previous: null }, 'nothing was saved before');
    },
  },
  {
    name: 'uploaded artifacts: claimed by one build, which may read it again; another build and unknown ids get undefined',
    async run(w) {
      const { store } = w;
      const pid = await w.pipeline(pipelineName(), CONFIG);
      const build = await w.build(pid);
      const id = await w.upload('/tmp/upload.tgz');
      assert.equal(await store.claimUploadedArtifact(id, build), '/tmp/upload.tgz');
      assert.equal(await store.claimUploadedArtifact(id, build), '/tmp/upload.tgz', 'the same build again');
      assert.equal(await store.claimUploadedArtifact(id, await w.build(pid)), undefined, "another build cannot read it");
      assert.equal(await store.claimUploadedArtifact(987_654, build), undefined);
      await store.saveArtifactOutput(build, 'out', '/tmp/out.tgz');
    },
  },
];

for (const scenario of SCENARIOS) {
  test(`store contract (memory): ${scenario.name}`, () => scenario.run(memoryWorld()));
}

if (process.env.JETWAY_TEST_POSTGRES_URL) {
  const pg = useTestDatabase();
  for (const scenario of SCENARIOS) {
    test(`store contract (postgres): ${scenario.name}`, () => scenario.run(postgresWorld(pg.db)));
  }
}
