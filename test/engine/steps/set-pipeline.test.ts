// The set_pipeline step on its own (Concourse's atc/exec/set_pipeline_step_test.go): what it saves,
// whether it changed anything, bad files, and the rule that an older build of a job may not
// overwrite what a newer one set.
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { StepConfig } from '../../../src/config/index.ts';
import { BUILD_ID, JOB_ID, errorOf, eventData, eventTypes, harness, logged, type Harness, type HarnessOptions } from './harness.ts';

const CHILD = `resources:
- name: r
  type: mock
  source: {greeting: ((greeting))}
jobs:
- name: j
  plan:
  - get: r
`;

function setup(t: TestContext, options: HarnessOptions = {}): Harness {
  const h = harness(t, options);
  for (const team of ['other', 'a', 'b']) h.store.addTeam(team);
  h.volume('ci', { 'pipeline.yml': CHILD, 'vars.yml': 'greeting: from-file\n' });
  return h;
}

function child(h: Harness, name = 'child') {
  return h.store.pipelines.filter((p) => p.name === name);
}

test('set_pipeline: a valid file is saved, unpaused at creation, remembering the job and build that set it', async (t) => {
  const h = setup(t);
  const plan = h.stepPlan({ set_pipeline: 'child', file: 'ci/pipeline.yml', vars: { greeting: 'hello' } });

  assert.deepEqual(await h.run(plan), { ok: true });

  assert.deepEqual(eventTypes(h.events), ['initialize', 'start', 'set-pipeline-changed', 'finish']);
  assert.equal(eventData(h.events, 'set-pipeline-changed')[0]?.changed, true);
  assert.equal(eventData(h.events, 'finish')[0]?.succeeded, true);
  // a new pipeline's every line as added, then Concourse's two lines
  const log = logged(h.events, 'stdout');
  assert.ok(log.endsWith('setting pipeline: child\ndone\n'), log);
  assert.match(log, /^\+ resources:\n\+ - name: r\n/);
  assert.match(log, /^\+ {5}greeting: hello$/m);
  assert.doesNotMatch(log, /^[- ] /m, 'nothing removed or unchanged');

  const [row] = child(h);
  assert.ok(row);
  assert.deepEqual(
    { team: row.team, instanceVars: row.instanceVars, paused: row.paused, parentJobId: row.parentJobId, parentBuildId: row.parentBuildId },
    { team: 'main', instanceVars: null, paused: false, parentJobId: JOB_ID, parentBuildId: BUILD_ID },
  );
  assert.deepEqual(row.config.resources?.[0]?.source, { greeting: 'hello' });
  assert.ok((await h.store.resourceId(row.id, 'r')) !== undefined, "the pipeline's resources exist");
});

const AGAIN: { name: string; second: Record<string, unknown>; changed: boolean; log: string }[] = [
  { name: 'the same config again is unchanged', second: { greeting: 'hello' }, changed: false, log: 'no changes to apply.\n' },
  // the changed line with three lines of context, as `jetway set-pipeline` shows it
  { name: 'a different config is changed', second: { greeting: 'bonjour' }, changed: true, log: '  - name: r\n    type: mock\n    source:\n-     greeting: hello\n+     greeting: bonjour\n  jobs:\n  - name: j\n    plan:\nsetting pipeline: child\ndone\n' },
];
for (const row of AGAIN) {
  test(`set_pipeline: ${row.name}`, async (t) => {
    const h = setup(t);
    assert.deepEqual(await h.run(h.stepPlan({ set_pipeline: 'child', file: 'ci/pipeline.yml', vars: { greeting: 'hello' } })), { ok: true });
    h.events.length = 0;

    assert.deepEqual(await h.run(h.stepPlan({ set_pipeline: 'child', file: 'ci/pipeline.yml', vars: row.second })), { ok: true });

    assert.deepEqual(eventData(h.events, 'set-pipeline-changed').map((e) => e.changed), [row.changed]);
    assert.equal(logged(h.events, 'stdout'), row.log);
    assert.equal(child(h).length, 1);
    assert.deepEqual(child(h)[0]?.config.resources?.[0]?.source, row.second);
  });
}

// where the pipeline goes and what its ((vars)) are
const TARGETS: { name: string; step: StepConfig; team: string; pipeline: string; instanceVars: Record<string, unknown> | null; greeting: string; setting?: string }[] = [
  { name: 'self is the build pipeline', step: { set_pipeline: 'self', file: 'ci/pipeline.yml', vars: { greeting: 'hi' } }, team: 'main', pipeline: 'p', instanceVars: null, greeting: 'hi' },
  { name: 'another team', step: { set_pipeline: 'child', team: 'other', file: 'ci/pipeline.yml', vars: { greeting: 'hi' } }, team: 'other', pipeline: 'child', instanceVars: null, greeting: 'hi' },
  { name: 'an instance', step: { set_pipeline: 'child', file: 'ci/pipeline.yml', instance_vars: { branch: 'main' }, vars: { greeting: 'hi' } }, team: 'main', pipeline: 'child', instanceVars: { branch: 'main' }, greeting: 'hi', setting: 'child/branch:main' },
  { name: 'var_files', step: { set_pipeline: 'child', file: 'ci/pipeline.yml', var_files: ['ci/vars.yml'] }, team: 'main', pipeline: 'child', instanceVars: null, greeting: 'from-file' },
  { name: 'vars win over var_files', step: { set_pipeline: 'child', file: 'ci/pipeline.yml', var_files: ['ci/vars.yml'], vars: { greeting: 'from-vars' } }, team: 'main', pipeline: 'child', instanceVars: null, greeting: 'from-vars' },
];
for (const row of TARGETS) {
  test(`set_pipeline: ${row.name}`, async (t) => {
    const h = setup(t);
    assert.deepEqual(await h.run(h.stepPlan(row.step)), { ok: true });
    const saved = h.store.pipelines.filter((p) => p.team === row.team && p.name === row.pipeline);
    assert.deepEqual(
      saved.map((p) => ({ instanceVars: p.instanceVars, greeting: (p.config.resources?.[0]?.source as Record<string, unknown> | undefined)?.greeting, setBy: p.parentBuildId })),
      [{ instanceVars: row.instanceVars, greeting: row.greeting, setBy: BUILD_ID }],
    );
    assert.ok(logged(h.events, 'stdout').endsWith(`setting pipeline: ${row.setting ?? row.pipeline}\ndone\n`), logged(h.events, 'stdout'));
  });
}

const INVALID: { name: string; file: string; error: RegExp }[] = [
  { name: 'a pipeline that does not validate errors with file:line', file: 'resources: []\njobs:\n- name: j\n  plan:\n  - get: missing\n', error: /^invalid pipeline ci\/bad\.yml:\nci\/bad\.yml:5:\d+: error: .*missing/ },
  { name: 'YAML that does not parse errors with file:line', file: 'jobs:\n- name: [unclosed\n', error: /^invalid pipeline ci\/bad\.yml:\nci\/bad\.yml:\d+:\d+: error/ },
];
for (const row of INVALID) {
  test(`set_pipeline: ${row.name}`, async (t) => {
    const h = setup(t);
    h.volume('ci', { 'bad.yml': row.file });
    assert.match(errorOf(await h.run(h.stepPlan({ set_pipeline: 'child', file: 'ci/bad.yml' }))), row.error);
    assert.deepEqual(child(h), [], 'nothing is saved');
    assert.deepEqual(eventTypes(h.events), ['initialize', 'start']);
  });
}

// Files are read inside their artifact only (issue 16, finding 3; docs/security.md "Builds").
const FILES: { name: string; step: StepConfig; error: string }[] = [
  { name: 'a missing file names the step, the file and the artifact', step: { set_pipeline: 'child', file: 'ci/absent.yml' }, error: "set_pipeline 'child': file 'ci/absent.yml' not found in artifact 'ci'" },
  { name: 'a file .. out of its artifact is refused', step: { set_pipeline: 'child', file: 'ci/../../outside.yml', vars: { greeting: 'hi' } }, error: "set_pipeline 'child': file 'ci/../../outside.yml' is outside artifact 'ci'" },
  { name: 'a file that is a symlink out of its artifact is refused', step: { set_pipeline: 'child', file: 'ci/link.yml', vars: { greeting: 'hi' } }, error: "set_pipeline 'child': file 'ci/link.yml' is outside artifact 'ci' (through a symlink)" },
  { name: 'a var file that is a symlink out of its artifact is refused', step: { set_pipeline: 'child', file: 'ci/pipeline.yml', var_files: ['ci/vars-link.yml'] }, error: "set_pipeline 'child': file 'ci/vars-link.yml' is outside artifact 'ci' (through a symlink)" },
  { name: 'a var file .. out of its artifact is refused', step: { set_pipeline: 'child', file: 'ci/pipeline.yml', var_files: ['ci/../../vars.yml'] }, error: "set_pipeline 'child': file 'ci/../../vars.yml' is outside artifact 'ci'" },
];
for (const row of FILES) {
  test(`set_pipeline: ${row.name}`, async (t) => {
    const h = setup(t);
    const ci = h.state.artifact('ci');
    assert.ok(ci?.kind === 'volume');
    // a valid pipeline and vars beside the artifact: read, they would be saved
    writeFileSync(join(h.dir, 'volumes', 'outside.yml'), CHILD);
    writeFileSync(join(h.dir, 'volumes', 'vars.yml'), 'greeting: outside\n');
    symlinkSync(join(h.dir, 'volumes', 'outside.yml'), join(ci.path, 'link.yml'));
    symlinkSync(join(h.dir, 'volumes', 'vars.yml'), join(ci.path, 'vars-link.yml'));

    assert.equal(errorOf(await h.run(h.stepPlan(row.step))), row.error);
    assert.deepEqual(child(h), [], 'nothing is saved');
  });
}

test('set_pipeline: self in a one-off build is an error', async (t) => {
  const h = setup(t, { oneOff: true });
  assert.equal(errorOf(await h.run(h.stepPlan({ set_pipeline: 'self', file: 'ci/pipeline.yml', vars: { greeting: 'hi' } }))), 'set_pipeline: self only works inside a pipeline');
});

// The pipeline was last set by `setter`; this build (42, of job 7 unless a one-off) sets it again.
const SETTERS: { name: string; setter: { jobId: number; buildId: number }; oneOff?: boolean; error?: string }[] = [
  { name: 'an older build of the same job may not overwrite what a newer one set', setter: { jobId: JOB_ID, buildId: 50 }, error: "pipeline 'child' was set by a newer build (50) of this job" },
  { name: 'a newer build of the same job overwrites', setter: { jobId: JOB_ID, buildId: 10 } },
  { name: "another job's newer build does not stop it", setter: { jobId: 99, buildId: 50 } },
  { name: 'a one-off build is not stopped by a job build', setter: { jobId: JOB_ID, buildId: 50 }, oneOff: true },
];
for (const row of SETTERS) {
  test(`set_pipeline: ${row.name}`, async (t) => {
    const h = setup(t, { ...(row.oneOff ? { oneOff: true } : {}) });
    const old = { resources: [], jobs: [] };
    h.store.addPipeline({ name: 'child', config: old, parentJobId: row.setter.jobId, parentBuildId: row.setter.buildId });

    const outcome = await h.run(h.stepPlan({ set_pipeline: 'child', file: 'ci/pipeline.yml', vars: { greeting: 'hi' } }));

    const [saved] = child(h);
    if (row.error) {
      assert.equal(errorOf(outcome), row.error);
      assert.deepEqual({ config: saved?.config, by: saved?.parentBuildId }, { config: old, by: row.setter.buildId }, 'nothing changed');
      assert.deepEqual(eventData(h.events, 'set-pipeline-changed'), []);
    } else {
      assert.deepEqual(outcome, { ok: true });
      assert.deepEqual({ job: saved?.parentJobId, build: saved?.parentBuildId }, { job: row.oneOff ? null : JOB_ID, build: BUILD_ID });
      assert.equal(saved?.paused, true, 'an existing pipeline keeps its paused state');
    }
  });
}

// Teams (issue 16, finding 1; Concourse's atc/exec/set_pipeline_step.go): a build sets its own
// team's pipelines; only a build of team main names another. Team A owns a pipeline 'child'
// that no other team's build may overwrite; main has none that team B's build could create.
const ONLY_MAIN = "set_pipeline 'child': only main team can set another team's pipeline (this build is of team 'b')";
const TEAMS: { name: string; buildTeam: string; oneOff?: boolean; step: StepConfig; error?: string; saved?: { team: string; pipeline: string } }[] = [
  { name: "a build of team b may not create a pipeline in team main", buildTeam: 'b', step: { set_pipeline: 'child', team: 'main', file: 'ci/pipeline.yml', vars: { greeting: 'hi' } }, error: ONLY_MAIN },
  { name: "a build of team b may not overwrite team a's pipeline", buildTeam: 'b', step: { set_pipeline: 'child', team: 'a', file: 'ci/pipeline.yml', vars: { greeting: 'hi' } }, error: ONLY_MAIN },
  { name: "a one-off build of team b may not overwrite team a's pipeline", buildTeam: 'b', oneOff: true, step: { set_pipeline: 'child', team: 'a', file: 'ci/pipeline.yml', vars: { greeting: 'hi' } }, error: ONLY_MAIN },
  { name: 'a build of team b naming a team that does not exist learns nothing of it', buildTeam: 'b', step: { set_pipeline: 'child', team: 'nope', file: 'ci/pipeline.yml', vars: { greeting: 'hi' } }, error: ONLY_MAIN },
  { name: 'a build of team b may name its own team', buildTeam: 'b', step: { set_pipeline: 'child', team: 'b', file: 'ci/pipeline.yml', vars: { greeting: 'hi' } }, saved: { team: 'b', pipeline: 'child' } },
  { name: 'team: "" is the build\'s own team', buildTeam: 'b', step: { set_pipeline: 'child', team: '', file: 'ci/pipeline.yml', vars: { greeting: 'hi' } }, saved: { team: 'b', pipeline: 'child' } },
  { name: 'no team is the build\'s own team', buildTeam: 'b', step: { set_pipeline: 'child', file: 'ci/pipeline.yml', vars: { greeting: 'hi' } }, saved: { team: 'b', pipeline: 'child' } },
  { name: 'self is always the build\'s own team, whatever team: says', buildTeam: 'b', step: { set_pipeline: 'self', team: 'main', file: 'ci/pipeline.yml', vars: { greeting: 'hi' } }, saved: { team: 'b', pipeline: 'p' } },
  { name: "a build of team main may set team a's pipeline", buildTeam: 'main', step: { set_pipeline: 'child', team: 'a', file: 'ci/pipeline.yml', vars: { greeting: 'hi' } }, saved: { team: 'a', pipeline: 'child' } },
  { name: 'a one-off build of team main may set team a\'s pipeline', buildTeam: 'main', oneOff: true, step: { set_pipeline: 'child', team: 'a', file: 'ci/pipeline.yml', vars: { greeting: 'hi' } }, saved: { team: 'a', pipeline: 'child' } },
  { name: 'a build of team main naming a team that does not exist errors', buildTeam: 'main', step: { set_pipeline: 'child', team: 'nope', file: 'ci/pipeline.yml', vars: { greeting: 'hi' } }, error: "set_pipeline 'child': team 'nope' not found" },
];
for (const row of TEAMS) {
  test(`set_pipeline: ${row.name}`, async (t) => {
    const h = setup(t, { ...(row.oneOff ? { oneOff: true } : {}), build: { teamName: row.buildTeam, teamId: row.buildTeam === 'main' ? 1 : 3 } });
    const teamA = { resources: [], jobs: [] };
    h.store.addPipeline({ team: 'a', name: 'child', config: teamA, paused: false });
    const before = h.store.pipelines.map((p) => ({ team: p.team, name: p.name, config: structuredClone(p.config), by: p.parentBuildId }));

    const outcome = await h.run(h.stepPlan(row.step));

    if (row.error) {
      assert.equal(errorOf(outcome), row.error);
      assert.deepEqual(
        h.store.pipelines.map((p) => ({ team: p.team, name: p.name, config: p.config, by: p.parentBuildId })),
        before,
        'no pipeline was created or changed',
      );
      assert.deepEqual(eventData(h.events, 'set-pipeline-changed'), []);
    } else {
      assert.deepEqual(outcome, { ok: true });
      const saved = h.store.pipelines.filter((p) => p.team === row.saved!.team && p.name === row.saved!.pipeline);
      assert.deepEqual(saved.map((p) => p.parentBuildId), [BUILD_ID]);
      if (row.saved!.team !== 'a') assert.deepEqual(h.store.pipelines.find((p) => p.team === 'a')?.config, teamA, "team a's pipeline is untouched");
    }
  });
}
