// Benchmarks on the Kubernetes test cluster (kube-sim: a real registry, runc containers).
//  - trigger_to_pod_ms: the web node's own overhead from a manual trigger to the first pod's
//    creation request (zero simulated latency), for a job of one task whose image is a private
//    registry image resolved natively. The node is driven in-process (scheduler pass, engine),
//    which leaves out the HTTP hop of the trigger request. The test cluster runs as its own
//    process (`npm run kube-sim`), as an API server and kubelets run beside a web node, not in
//    its event loop: the pod's creation is read from its audit file. Each trigger waits for the
//    previous build's pod to be deleted and the machine to be quiet (its teardown is kubelet work,
//    on a cluster's own machines); `back_to_back` is the same without that wait. Beside the
//    times: the Postgres statements sent between the trigger and the pod (what limits it: each is
//    a round trip on the cores the node, Postgres and the test cluster share).
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, open, rm } from 'node:fs/promises';
import { watch } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { createManualBuild } from '../src/db/builds.ts';
import { findJob } from '../src/db/jobs.ts';
import { AuditLog, type AuditEvent, type AuditFilter } from '../test/kube-sim/apiserver/audit.ts';
import { startTargetKubeEnv } from '../test/runtime/kubernetes/support.ts';
import { startTestNode } from '../test/support/node.ts';
import { groupMedians, percentile, waitForQuietMachine, type BenchContext, type BenchResult } from './harness.ts';

/** The kube-sim command, started as a process of its own: its kubeconfig, registry and audit file. */
interface KubeSimProcess {
  kubeconfig: string;
  registry: string;
  audit: string;
  pid: number | undefined;
  stop(): Promise<void>;
}

export async function startKubeSimProcess(): Promise<KubeSimProcess> {
  const stateDir = await mkdtemp(join(tmpdir(), 'jw-bench-kube-'));
  const child: ChildProcess = spawn(process.execPath, ['--import', 'tsx', 'test/kube-sim/main.ts', '--state-dir', stateDir, '--latency', 'zero'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-4000)));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const stop = async (): Promise<void> => {
    if (child.exitCode === null) child.kill('SIGTERM');
    await exited;
    await rm(stateDir, { recursive: true, force: true });
  };
  try {
    const line = await new Promise<string>((resolve, reject) => {
      let out = '';
      const timer = setTimeout(() => reject(new Error(`kube-sim did not start within 120 s: ${stderr.trim()}`)), 120_000);
      child.stdout?.on('data', (d: Buffer) => {
        out += d.toString();
        const ready = out.split('\n').find((l) => l.includes('kube-sim ready'));
        if (ready) {
          clearTimeout(timer);
          resolve(ready);
        }
      });
      child.once('exit', (code) => (clearTimeout(timer), reject(new Error(`kube-sim exited (${code}) before it was ready: ${stderr.trim()}`))));
    });
    const field = (name: string): string => {
      const m = new RegExp(`${name}=(\\S+)`).exec(line);
      if (!m?.[1]) throw new Error(`kube-sim's ready line has no ${name}: ${line}`);
      return m[1];
    };
    return { kubeconfig: field('kubeconfig'), registry: field('registry'), audit: field('audit'), pid: child.pid, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}

/** Follows an audit file as the API server appends to it (inotify, and a slow poll besides), into an AuditLog to wait on. */
export class AuditFollower {
  private offset = 0;
  private rest = '';
  private readonly log = new AuditLog();
  private readonly watcher;
  private readonly poll;
  private reading: Promise<void> = Promise.resolve();

  constructor(private readonly path: string) {
    this.watcher = watch(path, () => this.read());
    this.poll = setInterval(() => this.read(), 50);
  }

  private read(): void {
    this.reading = this.reading.then(async () => {
      const file = await open(this.path, 'r');
      try {
        const { size } = await file.stat();
        if (size <= this.offset) return;
        const buf = Buffer.alloc(size - this.offset);
        await file.read(buf, 0, buf.length, this.offset);
        this.offset = size;
        const lines = (this.rest + buf.toString()).split('\n');
        this.rest = lines.pop() ?? '';
        for (const l of lines) if (l.trim() !== '') this.log.record(JSON.parse(l) as AuditEvent);
      } finally {
        await file.close();
      }
    });
  }

  waitFor(filter: AuditFilter, timeoutMs: number): Promise<AuditEvent> {
    return this.log.waitFor(filter, timeoutMs);
  }

  close(): void {
    this.watcher.close();
    clearInterval(this.poll);
  }
}

export async function benchTriggerToPod(ctx: BenchContext): Promise<BenchResult> {
  ctx.progress('starting the test cluster (its own process) and pushing images');
  const sim = await startKubeSimProcess();
  const audit = new AuditFollower(sim.audit);
  let kube: Awaited<ReturnType<typeof startTargetKubeEnv>>;
  try {
    kube = await startTargetKubeEnv(['mock'], { kind: 'real', kubeconfig: sim.kubeconfig, registry: sim.registry, namespace: 'jetway-bench' });
  } catch (err) {
    audit.close();
    await sim.stop();
    throw err;
  }
  const node = await startTestNode({ runtime: (root) => kube.runtime(root) });
  const samples: number[] = [];
  const statements: number[] = [];
  const backToBack: number[] = [];
  try {
    const id = await node.setPipeline(
      'overhead',
      `
jobs:
- name: one-task
  plan:
  - task: t
    config:
      platform: linux
      image_resource: {type: registry-image, source: {repository: ${kube.helperImage.replace(/:test$/, '')}, tag: test}}
      run: {path: /bin/busybox, args: ["true"]}
`,
    );
    const job = await findJob(node.tdb.db, id, 'one-task');
    const runs = ctx.quick ? 5 : 20;
    // when each statement any pg client of this process sends went, while `counting`: those up to
    // the API server's receipt of the pod (the follower sees it a little later) are counted
    const query = pg.Client.prototype.query;
    let counting = false;
    let sent: number[] = [];
    pg.Client.prototype.query = function (this: pg.Client, ...args: unknown[]) {
      if (counting) sent.push(Date.now());
      return (query as (...a: unknown[]) => unknown).apply(this, args);
    } as typeof query;
    /** `n` triggers after one that warms connections and the image check; settled: each after the machine is quiet. */
    const measure = async (n: number, settled: boolean): Promise<{ ms: number[]; statements: number[] }> => {
      const out = { ms: [] as number[], statements: [] as number[] };
      for (let i = 0; i < n + 1; i++) {
        const started = Date.now();
        sent = [];
        counting = true;
        const build = await createManualBuild(node.tdb.db, job!.id);
        const created = audit.waitFor({ verb: 'create', resource: 'pods', labels: { 'jetway.dev/build-id': String(build.id) } }, 60_000).finally(() => (counting = false));
        await node.scheduler.tick();
        const event = await created;
        const received = Date.parse(event.requestReceivedTimestamp);
        await node.waitForBuild(build.id);
        // settled: the build's pod deleted and the machine quiet before the next trigger. The test
        // cluster's kubelet tears the pod down (runc) on the cores the node shares with it (~70 ms
        // of CPU in the 50 ms after the deletion), where a cluster's kubelets run on machines of
        // their own; back to back, every trigger meets that teardown.
        const pod = event.objectRef?.name;
        if (pod) await audit.waitFor({ verb: 'delete', resource: 'pods', name: pod }, 60_000);
        if (settled) await waitForQuietMachine();
        if (i === 0) continue;
        out.ms.push(received - started);
        out.statements.push(sent.filter((t) => t <= received).length);
      }
      return out;
    };
    try {
      const settled = await measure(runs, true);
      samples.push(...settled.ms);
      statements.push(...settled.statements);
      ctx.progress('the same, back to back');
      backToBack.push(...(await measure(runs, false)).ms);
    } finally {
      pg.Client.prototype.query = query;
    }
  } finally {
    await node.stop();
    await kube.stop();
    audit.close();
    await sim.stop();
  }
  return {
    key: 'trigger_to_pod_ms',
    title: 'web-node overhead from a trigger to the first pod creation (zero simulated latency)',
    value: {
      p50: percentile(samples, 50),
      p99: percentile(samples, 99),
      runs: samples.length,
      statements_before_pod: percentile(statements, 50),
      back_to_back: { p50: percentile(backToBack, 50), p99: percentile(backToBack, 99) },
    },
    unit: 'ms',
    // noise: the p50 of each of 4 consecutive groups of the settled runs
    samples: groupMedians(samples, 4),
  };
}
