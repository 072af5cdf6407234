// Concourse's own end-to-end pipelines (shared/fixtures/pipelines/testflight) as one table of
// cases with their expected statuses and outputs, run on every runtime: the local runtime
// (testflight.test.ts) and the Kubernetes runtime on the test cluster (kubernetes-testflight.test.ts).
// The same pipeline gives the same results on both.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import type { TestNode } from '../support/node.ts';
import { findJob } from '../../src/db/jobs.ts';
import { getBuild, listJobBuilds } from '../../src/db/builds.ts';
import { PIPELINE_FIXTURES } from '../support/shared.ts';

const FIXTURES = join(PIPELINE_FIXTURES, 'testflight');
const fixture = (name: string): string => readFileSync(join(FIXTURES, name), 'utf8');

export interface TestflightCase {
  /** the fixture's name */
  name: string;
  title: string;
  /** runs on the Kubernetes runtime too (default true) */
  kubernetes?: boolean;
  run(node: TestNode): Promise<void>;
}

async function runJob(node: TestNode, pipeline: string, job: string, vars: Record<string, unknown> = {}) {
  const id = await node.setPipeline(`${pipeline}-${randomUUID().slice(0, 8)}`, fixture(`${pipeline}.yml`), vars);
  const build = await node.trigger(id, job);
  return { pipelineId: id, build, logs: await node.logs(build.id) };
}

export const TESTFLIGHT_CASES: TestflightCase[] = [
  {
    name: 'simple-trigger',
    title: 'simple-trigger: a new version triggers the job, which sees it',
    async run(node) {
      const hash = randomUUID();
      const id = await node.setPipeline('simple-trigger', fixture('simple-trigger.yml'), { hash });
      await node.checkResource(id, 'some-resource', { version: 'first' });
      await node.settle();
      const job = await findJob(node.tdb.db, id, 'some-passing-job');
      const { builds } = await listJobBuilds(node.tdb.db, job!.id);
      assert.equal(builds.length, 1, 'exactly one build was triggered');
      assert.equal(builds[0]!.status, 'succeeded');
      assert.match(await node.logs(builds[0]!.id), /first/);
      // a second check finding the same version triggers nothing; a new one triggers again
      await node.checkResource(id, 'some-resource', { version: 'first' });
      await node.settle();
      assert.equal((await listJobBuilds(node.tdb.db, job!.id)).builds.length, 1);
      await node.checkResource(id, 'some-resource', { version: 'second' });
      await node.settle();
      const after2 = (await listJobBuilds(node.tdb.db, job!.id)).builds;
      assert.equal(after2.length, 2);
      assert.match(await node.logs(after2[0]!.id), /second/);
    },
  },
  {
    name: 'fail',
    title: 'fail: a failing task fails the build',
    async run(node) {
      const { build } = await runJob(node, 'fail', 'failing-job');
      assert.equal(build.status, 'failed');
    },
  },
  {
    name: 'do',
    title: 'do: steps run in order',
    async run(node) {
      const { build, logs } = await runJob(node, 'do', 'do-job');
      assert.equal(build.status, 'succeeded');
      assert.match(logs, /running do step 1\n[^]*running do step 2\n[^]*running do step 3/);
    },
  },
  {
    name: 'try',
    title: 'try: a failing step inside try does not fail the build',
    async run(node) {
      const { build, logs } = await runJob(node, 'try', 'try-job');
      assert.equal(build.status, 'succeeded');
      assert.match(logs, /passing-task succeeded/);
    },
  },
  {
    name: 'retry',
    title: 'retry: attempts retry until the third succeeds; a later failure fails the build',
    async run(node) {
      const ok = await runJob(node, 'retry', 'retry-job');
      assert.equal(ok.build.status, 'succeeded', ok.logs);
      assert.match(ok.logs, /attempts: 1; failing[^]*attempts: 2; failing[^]*attempts: 3; success!/);
      const failing = await runJob(node, 'retry', 'retry-job-fail-for-hijacking');
      assert.equal(failing.build.status, 'failed');
    },
  },
  {
    name: 'timeout',
    title: 'timeout: a task within its timeout succeeds; one over it fails with "timeout exceeded"',
    async run(node) {
      const id = await node.setPipeline('timeout', fixture('timeout.yml'));
      const ok = await node.trigger(id, 'duration-successful-job');
      assert.equal(ok.status, 'succeeded', await node.logs(ok.id));
      const slow = await node.trigger(id, 'duration-fail-job');
      assert.equal(slow.status, 'failed');
      assert.match(await node.logs(slow.id), /timeout exceeded/);
    },
  },
  {
    name: 'task-outputs',
    title: 'task-outputs: outputs of one task are inputs of the next',
    async run(node) {
      const { build, logs } = await runJob(node, 'task-outputs', 'some-job');
      assert.equal(build.status, 'succeeded', logs);
      assert.match(logs, /\.\/output-1\/file-1/);
      assert.match(logs, /\.\/output-2\/file-2/);
    },
  },
  {
    name: 'optional-inputs',
    title: 'optional-inputs: a missing optional input is tolerated, a mapped one is present',
    async run(node) {
      const { build, logs } = await runJob(node, 'optional-inputs', 'job-using-optional-inputs');
      assert.equal(build.status, 'succeeded', logs);
      assert.match(logs, /step 2 complete: tolerates missing optional inputs/);
      assert.match(logs, /SUCCESS/);
    },
  },
  {
    name: 'config_params',
    title: 'config_params: a task file’s params, overridden by the step’s params',
    async run(node) {
      const id = await node.setPipeline('config-params', fixture('config_params.yml'));
      const file = await node.trigger(id, 'file-test');
      assert.equal(file.status, 'succeeded', await node.logs(file.id));
      assert.match(await node.logs(file.id), /SOURCE_PARAM is file_source\n\./);
      const overridden = await node.trigger(id, 'file-params-test');
      assert.match(await node.logs(overridden.id), /SOURCE_PARAM is job_params_source\n\./);
    },
  },
  {
    name: 'input-mapping-test',
    title: 'input-mapping-test: a version passed upstream triggers the downstream job with the same version',
    async run(node) {
      const id = await node.setPipeline('input-mapping', fixture('input-mapping-test.yml'), { task_content: 'platform: linux' });
      await node.checkResource(id, 'some-resource', { version: 'v42' });
      const upstream = await node.trigger(id, 'upstream-job');
      assert.equal(upstream.status, 'succeeded', await node.logs(upstream.id));
      await node.settle();
      const downstream = await findJob(node.tdb.db, id, 'downstream-job');
      const { builds } = await listJobBuilds(node.tdb.db, downstream!.id);
      assert.equal(builds.length, 1);
      assert.equal(builds[0]!.status, 'succeeded');
      const events = await node.events(builds[0]!.id);
      const fetched = events.flatMap((e) => (e.event === 'finish-get' ? [e.data.version] : []));
      assert.deepEqual(fetched, [{ version: 'v42' }]);
    },
  },
  {
    name: 'custom-resource-type',
    title: 'custom-resource-type: a resource of a custom type is fetched through the type image',
    async run(node) {
      const id = await node.setPipeline('custom-type', fixture('custom-resource-type.yml'));
      const build = await node.trigger(id, 'input-test');
      assert.equal(build.status, 'succeeded', await node.logs(build.id));
      const events = await node.events(build.id);
      const versions = events.flatMap((e) => (e.event === 'finish-get' ? [e.data.version] : []));
      // the type image's get (mirroring mock) and then the resource's own get
      assert.deepEqual(versions.at(-1), { version: 'custom-type-version' });
      // every container is counted on the build, image resolution apart from the steps; the type's
      // image check already ran in the resource's check build, so this build only fetched the image,
      // and not even that where the runtime reuses resource caches (the check build's get of it is kept)
      const counted = await getBuild(node.tdb.db, build.id);
      assert.deepEqual(counted?.containersCreated, node.runtime.cachedResource ? { step: { get: 1 } } : { image: { get: 1 }, step: { get: 1 } });
    },
  },
  {
    name: 'load-var-step',
    title: 'load-var-step: a loaded var is readable as ((.:name)) in a later step',
    async run(node) {
      const { build, logs } = await runJob(node, 'load-var-step', 'use-var');
      assert.equal(build.status, 'succeeded', logs);
    },
  },
  {
    name: 'across',
    title: 'across: the sub-step runs for every combination, values from a loaded (and redacted) var',
    async run(node) {
      const { pipelineId, build, logs } = await runJob(node, 'across', 'job');
      assert.equal(build.status, 'succeeded', logs);
      // load_var values are secrets unless `reveal: true`: the dynamic values are redacted in logs
      for (const s of ['static1', 'static2']) {
        assert.equal(logs.match(new RegExp(`running across ${s} \\(\\(redacted\\)\\)\\n`, 'g'))?.length, 3, logs);
        assert.match(logs, new RegExp(`running across ${s} 4\\n`));
      }
      assert.doesNotMatch(logs, /dynamic1/);
      const versions = await node.tdb.db.query<{ v: string }>(
        `SELECT v.version->>'version' AS v FROM resource_config_versions v JOIN resources r ON r.resource_config_scope_id = v.resource_config_scope_id
          WHERE r.pipeline_id = $1 AND r.name = 'mock' ORDER BY v.check_order`,
        [pipelineId],
      );
      assert.deepEqual(versions.rows.map((r) => r.v).sort(), ['mock', 'v_4', 'v_dynamic1', 'v_dynamic2', 'v_dynamic3']);
    },
  },
  {
    name: 'task-caches',
    title: 'task-caches: a cache path keeps its contents between builds of the job',
    async run(node) {
      const id = await node.setPipeline('task-caches', fixture('task-caches.yml'));
      const first = await node.trigger(id, 'simple');
      assert.equal(first.status, 'succeeded', await node.logs(first.id));
      assert.match(await node.logs(first.id), /^second-task-cache-contents$/m);
      const second = await node.trigger(id, 'simple');
      assert.match(await node.logs(second.id), /second-task-cache-contents\nsecond-task-cache-contents/);
    },
  },
  {
    name: 'resource-version-every',
    title: 'resource-version-every: every version is built, one build each, oldest first',
    async run(node) {
      const id = await node.setPipeline('every', fixture('resource-version-every.yml'), { hash: randomUUID() });
      const job = await findJob(node.tdb.db, id, 'some-passing-job');
      await node.checkResource(id, 'some-resource', { version: 'a' });
      await node.trigger(id, 'some-passing-job');
      // two versions arrive at once: each later build takes the next one not yet built
      await node.checkResource(id, 'some-resource', { version: 'b' });
      await node.checkResource(id, 'some-resource', { version: 'c' });
      await node.trigger(id, 'some-passing-job');
      await node.trigger(id, 'some-passing-job');
      const builds = (await listJobBuilds(node.tdb.db, job!.id)).builds.reverse();
      const seen = await Promise.all(builds.map(async (b) => (await node.logs(b.id)).trim().split('\n').at(-1)));
      assert.deepEqual(seen, ['a', 'b', 'c']);
    },
  },
];
