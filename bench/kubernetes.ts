// Benchmarks on the Kubernetes test cluster (kube-sim: a real registry, runc containers).
//  - trigger_to_pod_ms: the web node's own overhead from a manual trigger to the first pod's
//    creation request (zero simulated latency), for a job of one task whose image is a private
//    registry image resolved natively. The node is driven in-process (scheduler pass, engine),
//    which leaves out the HTTP hop of the trigger request. Beside the times: the Postgres
//    statements sent between the trigger and the pod (what limits it: each is a round trip on the
//    cores the node, Postgres and the test cluster share).
import pg from 'pg';
import { createManualBuild } from '../src/db/builds.ts';
import { findJob } from '../src/db/jobs.ts';
import { startKubeEnv } from '../test/runtime/kubernetes/support.ts';
import { startTestNode } from '../test/support/node.ts';
import { groupMedians, percentile, type BenchContext, type BenchResult } from './harness.ts';

export async function benchTriggerToPod(ctx: BenchContext): Promise<BenchResult> {
  ctx.progress('starting the test cluster and pushing images');
  const kube = await startKubeEnv(['mock']);
  const node = await startTestNode({ runtime: (root) => kube.runtime(root) });
  const samples: number[] = [];
  const statements: number[] = [];
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
    // every statement any pg client of this process sends, counted while `counting`
    const query = pg.Client.prototype.query;
    let counting = false;
    let sent = 0;
    pg.Client.prototype.query = function (this: pg.Client, ...args: unknown[]) {
      if (counting) sent++;
      return (query as (...a: unknown[]) => unknown).apply(this, args);
    } as typeof query;
    try {
      for (let i = 0; i < runs + 1; i++) {
        const started = Date.now();
        sent = 0;
        counting = true;
        const build = await createManualBuild(node.tdb.db, job!.id);
        const created = kube.cluster.audit
          .waitFor({ verb: 'create', resource: 'pods', labels: { 'jetway.dev/build-id': String(build.id) } }, 60_000)
          .finally(() => (counting = false));
        await node.scheduler.tick();
        const event = await created;
        const ms = Date.parse(event.requestReceivedTimestamp) - started;
        await node.waitForBuild(build.id);
        if (i > 0) {
          // the first run warms connections and the image check
          samples.push(ms);
          statements.push(sent);
        }
      }
    } finally {
      pg.Client.prototype.query = query;
    }
  } finally {
    await node.stop();
    await kube.stop();
  }
  return {
    key: 'trigger_to_pod_ms',
    title: 'web-node overhead from a trigger to the first pod creation (zero simulated latency)',
    value: { p50: percentile(samples, 50), p99: percentile(samples, 99), runs: samples.length, statements_before_pod: percentile(statements, 50) },
    unit: 'ms',
    // noise: the p50 of each of 4 consecutive groups of runs
    samples: groupMedians(samples, 4),
  };
}
