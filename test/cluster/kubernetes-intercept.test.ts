// `jetway intercept` end to end on the kube-sim cluster: a failed task's pod is kept
// (--kubernetes-failed-pod-retention), and commands run in its step container through the API's
// WebSocket and the exec API, with stdin, stdout, stderr and the exit status.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import WebSocket from 'ws';
import { startTestNode, type TestNode } from '../support/node.ts';
import { startTargetKubeEnv, type TargetKubeEnv } from '../runtime/kubernetes/support.ts';
import type { KubernetesRuntime } from '../../src/runtime/kubernetes/kubernetes-runtime.ts';
import { runCli } from '../../src/cli/program.ts';
import { createManualBuild, getBuild } from '../../src/db/builds.ts';
import { findJob } from '../../src/db/jobs.ts';
import { jetway, startCliServer, PASSWORD, type CliServer, type Run } from '../cli/client-support.ts';

let env: TargetKubeEnv;
let node: TestNode;
let runtime: KubernetesRuntime;
let server: CliServer;
let failedBuild: number;

before(async () => {
  env = await startTargetKubeEnv(['mock']);
  console.log(env.target.kind === 'real' ? `# on the cluster of ${env.target.kubeconfig}, namespace ${env.target.namespace}` : `# on the kube-sim test cluster: ${env.target.why}`);
  node = await startTestNode({ runtime: (root) => (runtime = env.runtime(root, { kubernetesFailedPodRetention: '10m' })) });
  server = await startCliServer({ runtime }, node.tdb);
  assert.equal((await jetway('login', '-t', 'k', '-c', server.url, '-u', 'admin', '-p', PASSWORD)).code, 0);
  const id = await node.setPipeline(
    'debug',
    `
jobs:
- name: unit
  plan:
  - task: fails
    config:
      platform: linux
      image_resource: {type: mock, source: {mirror_self: true}}
      run:
        path: sh
        args: [-ec, "echo 'the report of the failed run' > report.txt; echo failing; exit 1"]
`,
  );
  const build = await node.trigger(id, 'unit');
  assert.equal(build.status, 'failed', await node.logs(build.id));
  failedBuild = build.id;
});
after(async () => {
  await server?.close();
  await runtime?.close();
  await node?.stop();
  await env?.stop();
});

async function jetwayIn(stdin: string, ...argv: string[]): Promise<Run> {
  const r = { code: 0, out: '', err: '' };
  r.code = await runCli(argv, { stdout: (t) => (r.out += t), stderr: (t) => (r.err += t), stdin: Readable.from([Buffer.from(stdin)]) });
  return r;
}

test('the failed task\'s kept pod is listed, and a command in its work dir prints the file it wrote', async () => {
  const list = (await (await fetch(`${server.url}/api/v1/builds/${failedBuild}/containers`, { headers: server.api.auth() })).json()) as { step: string; type: string; state: string; work_dir: string }[];
  assert.deepEqual(list.map((c) => [c.step, c.type, c.state]), [['fails', 'task', 'failed']]);
  assert.match(list[0]!.work_dir, /^\/tmp\/build\/[0-9a-f]{8}$/);
  const r = await jetway('intercept', '-t', 'k', '-b', String(failedBuild), '-s', 'fails', '--', 'cat', 'report.txt');
  assert.equal(r.code, 0, r.err);
  assert.equal(r.out, 'the report of the failed run\n');
  // without -s: the only container; -j: the job's latest build
  const pwd = await jetway('intercept', '-t', 'k', '-j', 'debug/unit', '--', 'pwd');
  assert.equal(pwd.code, 0, pwd.err);
  assert.equal(pwd.out, `${list[0]!.work_dir}\n`);
});

test('the exit status, stderr and stdin of the command', async () => {
  const seven = await jetway('intercept', '-t', 'k', '-b', String(failedBuild), '-s', 'fails', '--', 'sh', '-c', 'echo to-stderr >&2; exit 7');
  assert.equal(seven.code, 7);
  assert.equal(seven.out, '');
  assert.equal(seven.err, 'to-stderr\n');
  const cat = await jetwayIn('piped in\nover stdin\n', 'intercept', '-t', 'k', '-b', String(failedBuild), '-s', 'fails', '--', 'cat');
  assert.equal(cat.code, 0, cat.err);
  assert.equal(cat.out, 'piped in\nover stdin\n');
  // no command: busybox sh reading its commands from stdin
  const shell = await jetwayIn('cat report.txt\nexit 3\n', 'intercept', '-t', 'k', '-b', String(failedBuild), '-s', 'fails');
  assert.equal(shell.code, 3, shell.err);
  assert.equal(shell.out, 'the report of the failed run\n');
  const missing = await jetway('intercept', '-t', 'k', '-b', String(failedBuild), '-s', 'fails', '--', 'no-such-command');
  assert.equal(missing.code, 127);
});

test('the session is logged with its user and program, never the arguments (they may carry a token)', async () => {
  const r = await jetway('intercept', '-t', 'k', '-b', String(failedBuild), '-s', 'fails', '--', 'sh', '-c', 'test -n "$0"', 'tok-3f9a1c-typed-by-hand');
  assert.equal(r.code, 0, r.err);
  const sessions = server.api.logs.filter((l) => l.includes('"intercept session"')).map((l) => JSON.parse(l) as { user: string; program: string });
  assert.ok(sessions.some((s) => s.user === 'admin' && s.program === 'sh'), server.api.logs.join(''));
  assert.ok(!server.api.logs.some((l) => l.includes('tok-3f9a1c-typed-by-hand')));
});

test('a step without a container: 404 with a clear message', async () => {
  const r = await jetway('intercept', '-t', 'k', '-b', String(failedBuild), '-s', 'unit', '--', 'true');
  assert.equal(r.code, 1);
  assert.match(r.err, new RegExp(`^error: build ${failedBuild} has no container for step 'unit' \\(running or kept after a failure\\): steps that succeeded are deleted at once, .*; it has fails \\(task, failed\\) \\(HTTP 404\\)\\n$`));
});

test('a running step can be intercepted; its pod goes as soon as it succeeds', async () => {
  const id = await node.setPipeline(
    'waits',
    `
jobs:
- name: gate
  plan:
  - task: wait-for-go
    config:
      platform: linux
      image_resource: {type: mock, source: {mirror_self: true}}
      run:
        path: sh
        args: [-ec, "while [ ! -f go ]; do sleep 0.1; done; echo released"]
`,
  );
  const job = await findJob(node.tdb.db, id, 'gate');
  const build = await createManualBuild(node.tdb.db, job!.id);
  const done = node.waitForBuild(build.id);
  const list = async (): Promise<{ step: string; state: string }[]> =>
    (await (await fetch(`${server.url}/api/v1/builds/${build.id}/containers`, { headers: server.api.auth() })).json()) as { step: string; state: string }[];
  const deadline = Date.now() + 30_000;
  // (the pods of the task's image come and go first: also interceptable while they run)
  while (!(await list()).some((c) => c.step === 'wait-for-go')) {
    assert.ok(Date.now() < deadline, 'the running step never became interceptable');
    await new Promise((r) => setTimeout(r, 100));
  }
  assert.deepEqual((await list()).filter((c) => c.step === 'wait-for-go').map((c) => c.state), ['running']);
  const r = await jetway('intercept', '-t', 'k', '-b', String(build.id), '-s', 'wait-for-go', '--', 'touch', 'go');
  assert.equal(r.code, 0, r.err);
  const finished = await done;
  assert.equal(finished.status, 'succeeded', await node.logs(build.id));
  assert.equal((await getBuild(node.tdb.db, build.id))?.status, 'succeeded');
  assert.deepEqual(await list(), []);
  const gone = await jetway('intercept', '-t', 'k', '-b', String(build.id));
  assert.equal(gone.code, 1);
  assert.match(gone.err, /has no containers \(running or kept after a failure\): steps that succeeded are deleted at once/);
});

/** One hijack session as fly's hijacker speaks it (fly/commands/internal/hijacker/hijacker.go): the spec, stdin, closed; the outputs. */
function hijack(handle: string, spec: Record<string, unknown>, stdin: string): Promise<Record<string, unknown>[]> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`${server.url.replace(/^http/, 'ws')}/api/v1/teams/main/containers/${handle}/hijack`, { headers: server.api.auth() });
    const messages: Record<string, unknown>[] = [];
    ws.on('open', () => {
      ws.send(JSON.stringify(spec));
      ws.send(JSON.stringify({ stdin: Buffer.from(stdin).toString('base64') }));
      ws.send(JSON.stringify({ closed: true }));
    });
    ws.on('message', (data: Buffer) => messages.push(JSON.parse(data.toString()) as Record<string, unknown>));
    ws.on('close', () => resolve(messages));
    ws.on('error', reject);
  });
}

// a stock `fly intercept -j debug/unit` (fly/commands/hijack.go): the locator's query, the sole
// match entered, bash first, and sh after executable_not_found, as against Concourse
test("a stock fly intercept's requests: the job's container by Concourse's filters, bash missing from the image, then sh", async () => {
  const res = await fetch(`${server.url}/api/v1/teams/main/containers?pipeline_name=debug&job_name=unit`, { headers: server.api.auth() });
  const containers = (await res.json()) as { id: string; state: string; step_name: string; working_directory: string }[];
  assert.deepEqual(containers.map((c) => [c.step_name, c.state]), [['fails', 'failed']]);
  const c = containers[0]!;
  const spec = { path: 'bash', args: null, env: ['TERM=xterm'], dir: c.working_directory, user: '', privileged: true, tty: null };
  const first = await hijack(c.id, spec, '');
  assert.deepEqual(first, [{ executable_not_found: true }, { error: 'exec: "bash": executable file not found in $PATH' }]);
  // fly's terminal is raw and its spec asks for a tty: Enter is \r, echo and \r\n are the session's
  const second = await hijack(c.id, { ...spec, path: 'sh', tty: { window_size: { columns: 80, rows: 24 } } }, 'cat report.txt\rexit 3\r');
  const out = second.flatMap((m) => (typeof m.stdout === 'string' ? [Buffer.from(m.stdout, 'base64').toString()] : [])).join('');
  assert.equal(out, 'cat report.txt\r\nexit 3\r\nthe report of the failed run\r\n');
  assert.deepEqual(second.at(-1), { exit_status: 3 });
});
