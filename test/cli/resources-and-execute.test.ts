// The CLI against a real server whose checker, scheduler and engine run (a test node on the
// server's database): the global -t, check-resource, pin/unpin, enable/disable versions,
// pause/unpause-job, rerun-build -w with step headers, and execute end to end.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { jetway, startCliServer, PASSWORD, type CliServer } from './client-support.ts';
import { startTestNode, type TestNode } from '../support/node.ts';
import { findJob } from '../../src/db/jobs.ts';
import { listJobBuilds } from '../../src/db/builds.ts';
import { uploadSelection } from '../../src/cli/commands/execute.ts';

const PIPELINE = `resources:
- name: repo
  type: mock
  source: {no_initial_version: true}
- name: broken
  type: mock
  source: {check_failure: out of order}
- name: fixed
  type: mock
  version: {version: f1}
  source: {no_initial_version: true}
jobs:
- name: unit
  plan:
  - get: repo
  - task: show
    config:
      platform: linux
      inputs: [{name: repo}]
      run: {path: cat, args: [repo/version]}
- name: other
  plan:
  - get: broken
  - get: fixed
`;

let node: TestNode;
let s: CliServer;
let pipelineId: number;

before(async () => {
  node = await startTestNode();
  s = await startCliServer(
    {
      checker: node.checker,
      engine: { abortBuild: (id) => node.engine.abort(id), track: (id) => node.engine.track(id) },
      artifactsDir: mkdtempSync(join(tmpdir(), 'jw-cli-artifacts-')),
    },
    node.tdb,
  );
  pipelineId = await node.setPipeline('demo', PIPELINE);
});
after(async () => {
  await s.close();
  await node.stop();
});

const resource = async (name: string) => {
  const res = await s.api.app.inject({ url: `/api/v1/teams/main/pipelines/demo/resources/${name}`, headers: s.api.auth() });
  return res.json() as { pinned_version?: Record<string, string>; pin_comment?: string };
};

test('a global -t before the command, as fly allows', async () => {
  const login = await jetway('-t', 'ci', 'login', '-c', s.url, '-u', 'admin', '-p', PASSWORD);
  assert.equal(login.code, 0, login.err);
  const before = await jetway('-t', 'ci', 'pipelines');
  assert.equal(before.code, 0, before.err);
  assert.match(before.out, /^id\s+name\s.*\n\d+\s+demo\s/);
  const after = await jetway('pipelines', '-t', 'ci');
  assert.equal(after.out, before.out);
  // the command's own -t wins over the global one
  const own = await jetway('-t', 'nope', 'pipelines', '-t', 'ci');
  assert.equal(own.code, 0, own.err);
  const unknown = await jetway('-t', 'nope', 'pipelines');
  assert.equal(unknown.code, 1);
  assert.match(unknown.err, /unknown target: nope/);
  // a later run without -t does not remember the earlier global one
  const none = await jetway('pipelines');
  assert.equal(none.code, 2);
});

test('check-resource: prints the check build, follows it, and the version appears', async () => {
  const r = await jetway('check-resource', '-t', 'ci', '-r', 'demo/repo', '--from', 'version:v1');
  assert.equal(r.code, 0, r.err);
  assert.match(r.out, /^checking demo\/repo in build \d+\n/);
  assert.match(r.out, /succeeded\n$/);
  assert.ok(!r.out.includes('\x1b['), 'no colour when not on a terminal');
  for (const v of ['v2', 'v3']) assert.equal((await jetway('-t', 'ci', 'check-resource', '-r', 'demo/repo', '-f', `version:${v}`)).code, 0);
  const versions = await jetway('resource-versions', '-t', 'ci', '-r', 'demo/repo', '--json');
  assert.deepEqual(
    (JSON.parse(versions.out) as { version: { version: string } }[]).map((v) => v.version.version),
    ['v3', 'v2', 'v1'],
  );
  assert.equal((await jetway('check-resource', '-t', 'ci', '-r', 'demo/fixed', '-f', 'version:f1')).code, 0);

  const async = await jetway('check-resource', '-t', 'ci', '-r', 'demo/repo', '--async');
  assert.equal(async.code, 0, async.err);
  assert.match(async.out, /^checking demo\/repo in build (\d+)\n$/);
  await node.waitForBuild(Number(/build (\d+)/.exec(async.out)?.[1]));

  const failing = await jetway('check-resource', '-t', 'ci', '-r', 'demo/broken');
  assert.notEqual(failing.code, 0);
  assert.match(failing.out + failing.err, /intentionally failing to check: out of order/);
  assert.match(failing.out, /(failed|errored)\n$/);

  const missing = await jetway('check-resource', '-t', 'ci', '-r', 'demo/nope');
  assert.equal(missing.code, 1);
  assert.equal(missing.err, 'error: resource nope in pipeline main/demo not found (HTTP 404)\n');
  assert.equal((await jetway('check-resource', '-t', 'ci', '-r', 'demo/repo', '--from', 'nocolon')).code, 2);
  assert.equal((await jetway('check-resource', '-t', 'ci', '-r', 'demo')).code, 2);
});

test('check-resource-type: an unknown type is a clear error', async () => {
  const r = await jetway('check-resource-type', '-t', 'ci', '-r', 'demo/nope');
  assert.equal(r.code, 1);
  assert.equal(r.err, 'error: resource type nope in pipeline main/demo not found (HTTP 404)\n');
});

test('pin-resource (partial version, comment), unpin-resource, config pins refused', async () => {
  const pin = await jetway('pin-resource', '-t', 'ci', '-r', 'demo/repo', '-v', 'version:v1', '-c', 'v2 is broken');
  assert.equal(pin.code, 0, pin.err);
  assert.equal(pin.out, `pinned 'repo' with version {"version":"v1"}\npin comment 'v2 is broken' is saved\n`);
  let r = await resource('repo');
  assert.deepEqual(r.pinned_version, { version: 'v1' });
  assert.equal(r.pin_comment, 'v2 is broken');

  const unpin = await jetway('unpin-resource', '-t', 'ci', '-r', 'demo/repo');
  assert.equal(unpin.code, 0, unpin.err);
  assert.equal(unpin.out, "unpinned 'repo'\n");
  r = await resource('repo');
  assert.equal(r.pinned_version, undefined);

  const noMatch = await jetway('pin-resource', '-t', 'ci', '-r', 'demo/repo', '-v', 'version:v9');
  assert.equal(noMatch.code, 1);
  assert.equal(noMatch.err, 'error: could not find version matching {"version":"v9"} of demo/repo\n');
  const config = await jetway('unpin-resource', '-t', 'ci', '-r', 'demo/fixed');
  assert.equal(config.code, 1);
  assert.match(config.err, /^error: resource fixed in pipeline main\/demo is pinned in the pipeline config .*\(HTTP 409\)\n$/);
  assert.deepEqual((await resource('fixed')).pinned_version, { version: 'f1' });
  assert.equal((await jetway('pin-resource', '-t', 'ci', '-r', 'demo/repo')).code, 2);
});

test('disable/enable-resource-version, and a job uses the newest enabled version', async () => {
  const off = await jetway('disable-resource-version', '-t', 'ci', '-r', 'demo/repo', '-v', 'version:v3');
  assert.equal(off.code, 0, off.err);
  assert.equal(off.out, `disabled 'repo' with version {"version":"v3"}\n`);
  const versions = await jetway('resource-versions', '-t', 'ci', '-r', 'demo/repo');
  assert.match(versions.out, /version:v3\s+no\n/);
  const build = await node.trigger(pipelineId, 'unit');
  assert.equal(build.status, 'succeeded');
  assert.match(await node.logs(build.id), /^v2$/m);
  const on = await jetway('enable-resource-version', '-t', 'ci', '-r', 'demo/repo', '-v', 'version:v3');
  assert.equal(on.code, 0, on.err);
  assert.equal(on.out, `enabled 'repo' with version {"version":"v3"}\n`);
});

test('pause-job, unpause-job', async () => {
  const p = await jetway('pause-job', '-t', 'ci', '-j', 'demo/unit');
  assert.equal(p.code, 0, p.err);
  assert.equal(p.out, "paused 'unit'\n");
  const job = await findJob(node.tdb.db, pipelineId, 'unit');
  assert.equal(job?.paused, true);
  const u = await jetway('unpause-job', '-t', 'ci', '-j', 'demo/unit');
  assert.equal(u.out, "unpaused 'unit'\n");
  assert.equal((await findJob(node.tdb.db, pipelineId, 'unit'))?.paused, false);
  const missing = await jetway('pause-job', '-t', 'ci', '-j', 'demo/nope');
  assert.equal(missing.code, 1);
  assert.equal(missing.err, 'error: job nope in pipeline main/demo not found (HTTP 404)\n');
});

test('rerun-build -w: a rerun with the same inputs, streamed with step headers', async () => {
  const job = await findJob(node.tdb.db, pipelineId, 'unit');
  const original = (await listJobBuilds(node.tdb.db, job!.id)).builds[0]!;
  // run the scheduler while the CLI follows the rerun
  const drive = (async () => {
    for (let i = 0; i < 200; i++) {
      const b = (await listJobBuilds(node.tdb.db, job!.id)).builds.find((x) => x.name === `${original.name}.1`);
      if (b) return node.waitForBuild(b.id);
      await new Promise((res) => setTimeout(res, 25));
    }
    throw new Error('no rerun appeared');
  })();
  const [r] = await Promise.all([jetway('rerun-build', '-t', 'ci', '-j', 'demo/unit', '-b', original.name, '-w'), drive]);
  assert.equal(r.code, 0, r.err);
  const lines = r.out.split('\n');
  assert.equal(lines[0], `started demo/unit #${original.name}.1`);
  assert.ok(lines.includes('fetching repo'), r.out);
  assert.ok(lines.includes('initializing'), r.out);
  assert.ok(lines.some((l) => l.startsWith('selected worker: ')), r.out);
  assert.ok(lines.includes('running cat repo/version'), r.out);
  assert.ok(lines.includes('v2'), 'the rerun used the original build\'s version, not the re-enabled v3');
  assert.equal(lines.at(-2), 'succeeded');
  assert.equal(lines.at(-1), '');
  const missing = await jetway('rerun-build', '-t', 'ci', '-j', 'demo/unit', '-b', '999');
  assert.equal(missing.code, 1);
  assert.equal(missing.err, 'error: build 999 of job demo/unit not found (HTTP 404)\n');
});

test('execute: uploads inputs, streams the task, downloads outputs; exit code is the task\'s', async () => {
  const src = join(s.dir, 'src');
  mkdirSync(join(src, 'sub'), { recursive: true });
  writeFileSync(join(src, 'hello.txt'), 'hello from the laptop\n');
  writeFileSync(join(src, 'sub', 'n.txt'), '42\n');
  const task = join(s.dir, 'task.yml');
  writeFileSync(
    task,
    `platform: linux
inputs:
- name: src
outputs:
- name: out
params:
  GREETING: ((greeting))
  CODE: "0"   # fly execute: a param set in the environment takes its value from there
run:
  path: sh
  args:
  - -c
  - |
    cat src/hello.txt
    echo "$GREETING $(cat src/sub/n.txt)" > out/result.txt
    exit $CODE
`,
  );
  const outDir = join(s.dir, 'results');
  process.env.CODE = '0';
  let r;
  try {
    r = await jetway('execute', '-t', 'ci', '-c', task, '-i', `src=${src}`, '-o', `out=${outDir}`, '-v', 'greeting=hi');
  } finally {
    delete process.env.CODE;
  }
  assert.equal(r.code, 0, r.err + r.out);
  assert.match(r.err, /^uploading src\.\.\. done\nexecuting build (\d+) at http:\/\/127\.0\.0\.1:\d+\/#\/builds\/\1\n/);
  assert.match(r.out, /^initializing\n/m);
  assert.match(r.out, /^running sh -c /m);
  assert.match(r.out, /^hello from the laptop\n/m);
  assert.match(r.out, /succeeded\n$/);
  assert.match(r.err, /downloading out to .*results\.\.\. done\n$/);
  assert.equal(readFileSync(join(outDir, 'result.txt'), 'utf8'), 'hi 42\n');

  // a failing task: its exit status, and the outputs still come back
  const failedOut = join(s.dir, 'failed');
  process.env.CODE = '3';
  try {
    r = await jetway('execute', '-t', 'ci', '-c', task, '-i', `src=${src}`, '-o', `out=${failedOut}`, '-v', 'greeting=bye');
  } finally {
    delete process.env.CODE;
  }
  assert.equal(r.code, 3, r.err + r.out);
  assert.match(r.out, /failed\n$/);
  assert.equal(readFileSync(join(failedOut, 'result.txt'), 'utf8'), 'bye 42\n');

  // usage errors before anything is sent
  const unknown = await jetway('execute', '-t', 'ci', '-c', task, '-i', `nope=${src}`);
  assert.equal(unknown.code, 2);
  assert.match(unknown.err, /unknown input 'nope'/);
  const badOut = await jetway('execute', '-t', 'ci', '-c', task, '-i', `src=${src}`, '-o', 'nope=x');
  assert.equal(badOut.code, 2);
  assert.match(badOut.err, /unknown output 'nope'/);
  const notDir = await jetway('execute', '-t', 'ci', '-c', task, '-i', `src=${join(src, 'hello.txt')}`);
  assert.equal(notDir.code, 2);
  assert.ok(!existsSync(join(s.dir, 'nope')));
});

// fly execute uploads an input in a git work tree as its tracked (still existing) and unignored
// untracked files, everything with --include-ignored (fly/commands/internal/executehelpers/
// uploads.go; fly/integration/execute_test.go "by default apply .gitignore")
test('execute: an input in a git work tree leaves out what .gitignore excludes, unless --include-ignored', async () => {
  const src = join(s.dir, 'git-src');
  mkdirSync(join(src, 'build'), { recursive: true });
  const git = (...args: string[]): void => {
    execFileSync('git', ['-c', 'user.name=t', '-c', 'user.email=t@example.com', ...args], { cwd: src, stdio: 'ignore' });
  };
  git('init', '-q');
  writeFileSync(join(src, '.gitignore'), '*.test\nbuild/\n');
  writeFileSync(join(src, 'a.txt'), 'tracked\n');
  writeFileSync(join(src, 'gone.txt'), 'deleted after commit\n');
  git('add', '.');
  git('commit', '-q', '-m', 'init');
  rmSync(join(src, 'gone.txt'));
  writeFileSync(join(src, 'new.txt'), 'untracked\n');
  writeFileSync(join(src, 'dev.test'), 'ignored\n');
  writeFileSync(join(src, 'build', 'out.bin'), 'ignored too\n');
  const task = join(s.dir, 'task-git.yml');
  writeFileSync(task, 'platform: linux\ninputs:\n- name: src\nrun:\n  path: sh\n  args: [-c, "cd src && find . -type f | sort | sed s/^/file:/"]\n');

  const files = (out: string): string[] => [...out.matchAll(/^file:(.*)$/gm)].map((m) => m[1] ?? '').filter((f) => !f.startsWith('./.git/'));
  const plain = await jetway('execute', '-t', 'ci', '-c', task, '-i', `src=${src}`);
  assert.equal(plain.code, 0, plain.err + plain.out);
  assert.deepEqual(files(plain.out), ['./.gitignore', './a.txt', './new.txt']);
  assert.doesNotMatch(plain.out, /^file:\.\/\.git\//m, 'no .git directory');

  const all = await jetway('execute', '-t', 'ci', '-c', task, '-i', `src=${src}`, '--include-ignored');
  assert.equal(all.code, 0, all.err + all.out);
  assert.deepEqual(files(all.out), ['./.gitignore', './a.txt', './build/out.bin', './dev.test', './new.txt']);
  assert.match(all.out, /^file:\.\/\.git\/HEAD$/m, 'everything, .git included, as fly uploads it');
});

const SELECTION: { name: string; listing: Parameters<typeof uploadSelection>[0]; want: string[] }[] = [
  { name: 'not a git work tree: everything', listing: undefined, want: ['.'] },
  { name: 'tracked and untracked files', listing: { tracked: ['a', 'b/c'], deleted: [], untracked: ['n'] }, want: ['a', 'b/c', 'n'] },
  { name: 'a tracked file deleted from the work tree is left out', listing: { tracked: ['a', 'gone'], deleted: ['gone'], untracked: [] }, want: ['a'] },
  { name: 'nothing to upload', listing: { tracked: [], deleted: [], untracked: [] }, want: [] },
];
for (const row of SELECTION) test(`execute's upload selection: ${row.name}`, () => assert.deepEqual(uploadSelection(row.listing), row.want));

// fly execute -j/--inputs-from (fly/commands/execute.go) through CreatePipelineBuild
// (atc/api/pipelineserver/build.go): the inputs not given come from the job's, in its pipeline
test("execute -j PIPELINE/JOB: the task's other inputs are the job's, fetched in the pipeline; the build is the pipeline's", async () => {
  const local = join(s.dir, 'local-j');
  mkdirSync(local, { recursive: true });
  writeFileSync(join(local, 'x.txt'), 'from my laptop\n');
  const task = join(s.dir, 'task-j.yml');
  writeFileSync(task, 'platform: linux\ninputs:\n- name: repo\n- name: local\nrun:\n  path: sh\n  args: [-c, "cat repo/version local/x.txt"]\n');
  const r = await jetway('execute', '-t', 'ci', '-c', task, '-j', 'demo/unit', '-i', `local=${local}`);
  assert.equal(r.code, 0, r.err + r.out);
  // the version the job would use now (v3 is enabled again), and the uploaded input
  assert.match(r.out, /^v3\nfrom my laptop$/m);
  const id = Number(/executing build (\d+)/.exec(r.err)?.[1]);
  const build = await s.api.app.inject({ url: `/api/v1/builds/${id}`, headers: s.api.auth() });
  assert.equal((build.json() as { pipeline_name?: string; job_name?: string }).pipeline_name, 'demo');
  assert.equal((build.json() as { job_name?: string }).job_name, undefined, 'a one-off build of the pipeline, not a job build');

  const noJob = await jetway('execute', '-t', 'ci', '-c', task, '-j', 'demo/nope', '-i', `local=${local}`);
  assert.equal(noJob.code, 1);
  assert.match(noJob.err, /job nope in pipeline main\/demo not found/);
  // a get of a resource the pipeline does not have is refused naming it, and nothing runs
  const bad = await s.api.app.inject({
    method: 'POST',
    url: '/api/v1/teams/main/pipelines/demo/builds',
    headers: s.api.auth(),
    payload: { id: '1', get: { name: 'x', resource: 'nope', version: { version: 'v1' } } },
  });
  assert.equal(bad.statusCode, 400);
  assert.match(bad.body, /plan\.get\.resource: the pipeline has no resource 'nope'/);
});

test('execute: Ctrl-C aborts the one-off build, which ends aborted (exit code 3)', async () => {
  const task = join(s.dir, 'slow-task.yml');
  writeFileSync(task, `platform: linux\nrun: {path: sh, args: [-c, "echo started-sleeping; sleep 60"]}\n`);
  const others = new Set(process.listeners('SIGINT'));
  const running = jetway('execute', '-t', 'ci', '-c', task);
  // interrupt once the task runs (its first log line is in the build's events)
  const deadline = Date.now() + 30_000;
  let buildId: number | undefined;
  while (buildId === undefined && Date.now() < deadline) {
    const r = await node.tdb.db.query<{ build_id: number }>(`SELECT build_id FROM build_events WHERE type = 'log' AND payload->>'payload' LIKE 'started-sleeping%' LIMIT 1`);
    buildId = r.rows[0]?.build_id;
    if (buildId === undefined) await new Promise((r) => setTimeout(r, 100));
  }
  assert.ok(buildId !== undefined, 'the task started');
  // the command's own handler, as the signal would call it: process.emit would also reach other
  // handlers of this test process (embedded Postgres stops itself on SIGINT)
  const handlers = process.listeners('SIGINT').filter((l) => !others.has(l));
  assert.equal(handlers.length, 1, 'execute listens for Ctrl-C while the build runs');
  for (const handler of handlers) handler('SIGINT');
  const r = await running;
  assert.equal(r.code, 3, r.err);
  assert.match(r.err, /interrupted: aborting build \d+/);
  const status = await node.tdb.db.query<{ status: string }>('SELECT status FROM builds WHERE id = $1', [buildId]);
  assert.equal(status.rows[0]?.status, 'aborted');
  assert.deepEqual(process.listeners('SIGINT').filter((l) => !others.has(l)), [], 'the handler is gone after the build');
});
