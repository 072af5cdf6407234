// End to end through the database: a pipeline of three jobs chained by `passed`, driven tick
// by tick through many check/build cycles, with simulated checks (saveVersions) and simulated
// builds (finishBuild, and saveBuildOutput for the put).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { saveBuildOutput, type BuildStatus } from '../../src/db/builds.ts';
import { useTestDatabase } from '../support/db.ts';
import { cfg, check, inputsOf, jobBuilds, must, settle, setupPipeline } from '../support/sched-support.ts';

const t = useTestDatabase();

const chain = cfg({
  resources: [
    { name: 'repo', type: 'mock', source: {} },
    { name: 'tools', type: 'mock', source: {} },
  ],
  jobs: [
    { name: 'unit', plan: [{ get: 'repo', trigger: true }, { task: 'test', config: { platform: 'linux', run: { path: 'true' } } }] },
    {
      name: 'build',
      plan: [{ get: 'repo', trigger: true, passed: ['unit'] }, { put: 'tools', params: {} }],
    },
    {
      name: 'deploy',
      plan: [
        { get: 'repo', trigger: true, passed: ['build'] },
        { get: 'tools', trigger: true, passed: ['build'] },
      ],
    },
  ],
});

test('three jobs chained by passed propagate versions across many check/build cycles, with no extra builds', async () => {
  const { db } = t;
  const f = await setupPipeline(db, chain);
  const unit = must(f.jobs, 'unit');
  const build = must(f.jobs, 'build');
  const deploy = must(f.jobs, 'deploy');
  const tools = must(f.resources, 'tools');

  // The simulated engine: `build` puts tools-<repo version>; unit fails on versions named bad-*.
  const run = async (buildId: number): Promise<BuildStatus> => {
    const { db } = t;
    const b = await db.query<{ job_id: number }>('SELECT job_id FROM builds WHERE id = $1', [buildId]);
    const jobId = b.rows[0]!.job_id;
    const inputs = await inputsOf(db, buildId);
    if (jobId === unit && inputs.repo?.startsWith('bad')) return 'failed';
    if (jobId === build) await saveBuildOutput(db, buildId, tools, { v: `tools-${inputs.repo}` }, 'tools');
    return 'succeeded';
  };

  // nothing checked yet: nothing runs
  await settle(db, f, run);
  assert.deepEqual(await jobBuilds(db, unit), []);

  // one version per cycle: each flows through the three jobs exactly once
  for (const v of ['v1', 'v2', 'v3', 'v4']) {
    await check(db, f, 'repo', v);
    await settle(db, f, run);
  }
  // two versions in one check: `latest` only builds the newest
  await check(db, f, 'repo', 'v5', 'v6');
  await settle(db, f, run);
  // a version that fails unit does not go further
  await check(db, f, 'repo', 'bad7');
  await settle(db, f, run);
  // a check that finds nothing new, and settling again, change nothing
  await check(db, f, 'repo', 'v6');
  await settle(db, f, run);
  await check(db, f, 'repo', 'v8');
  await settle(db, f, run);

  const summary = async (jobId: number): Promise<string[]> => {
    const { db } = t;
    const out: string[] = [];
    for (const b of await jobBuilds(db, jobId)) {
      const inputs = await inputsOf(db, b.id);
      out.push(`${b.name}:${b.status}:${Object.entries(inputs).map(([k, v]) => `${k}=${v}`).join(',')}`);
    }
    return out;
  };
  assert.deepEqual(await summary(unit), [
    '1:succeeded:repo=v1',
    '2:succeeded:repo=v2',
    '3:succeeded:repo=v3',
    '4:succeeded:repo=v4',
    '5:succeeded:repo=v6',
    '6:failed:repo=bad7',
    '7:succeeded:repo=v8',
  ]);
  assert.deepEqual(await summary(build), [
    '1:succeeded:repo=v1',
    '2:succeeded:repo=v2',
    '3:succeeded:repo=v3',
    '4:succeeded:repo=v4',
    '5:succeeded:repo=v6',
    '6:succeeded:repo=v8',
  ]);
  // deploy gets each repo version together with the tools version built from it
  assert.deepEqual(await summary(deploy), [
    '1:succeeded:repo=v1,tools=tools-v1',
    '2:succeeded:repo=v2,tools=tools-v2',
    '3:succeeded:repo=v3,tools=tools-v3',
    '4:succeeded:repo=v4,tools=tools-v4',
    '5:succeeded:repo=v6,tools=tools-v6',
    '6:succeeded:repo=v8,tools=tools-v8',
  ]);

  // the build pipes record which upstream build vouched for each input
  const lastDeploy = (await jobBuilds(db, deploy)).at(-1)!;
  const lastBuild = (await jobBuilds(db, build)).at(-1)!;
  const pipes = await db.query<{ from_build_id: number }>('SELECT from_build_id FROM build_pipes WHERE to_build_id = $1', [lastDeploy.id]);
  assert.deepEqual(
    pipes.rows.map((r) => r.from_build_id),
    [lastBuild.id],
  );

  // quiescent: nothing is due any more
  const due = await db.query('SELECT id FROM jobs WHERE pipeline_id = $1 AND schedule_requested > last_scheduled', [f.pipelineId]);
  assert.equal(due.rowCount, 0);
});

test('version: every walks every version through the chain, one build each', async () => {
  const { db } = t;
  const f = await setupPipeline(
    db,
    cfg({
      resources: [{ name: 'repo', type: 'mock', source: {} }],
      jobs: [
        { name: 'a', plan: [{ get: 'repo', trigger: true, version: 'every' }] },
        { name: 'b', plan: [{ get: 'repo', trigger: true, version: 'every', passed: ['a'] }] },
        { name: 'c', plan: [{ get: 'repo', trigger: true, passed: ['b'] }] },
      ],
    }),
  );
  await check(db, f, 'repo', 'e1');
  await settle(db, f);
  await check(db, f, 'repo', 'e2', 'e3', 'e4');
  await settle(db, f);
  const versions = async (job: string): Promise<string[]> =>
    Promise.all((await jobBuilds(db, must(f.jobs, job))).map(async (b) => (await inputsOf(db, b.id)).repo ?? '?'));
  assert.deepEqual(await versions('a'), ['e1', 'e2', 'e3', 'e4']);
  assert.deepEqual(await versions('b'), ['e1', 'e2', 'e3', 'e4']);
  // c uses latest: every b build that lands triggers it only when it brings a new version
  const c = await versions('c');
  assert.equal(c[0], 'e1');
  assert.equal(c.at(-1), 'e4');
  assert.equal(new Set(c).size, c.length, 'no version built twice by c');
});
