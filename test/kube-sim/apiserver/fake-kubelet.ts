// A minimal in-memory kubelet for the API server's own tests (no images, no runc): it binds new
// pods to itself, marks their containers running, serves logs a test appends, runs a few exec
// "commands" (echo, cat, printenv-ish, exit N), finishes terminating pods, evicts on demand.
// Only the contract (test/kube-sim/contract.ts) connects it to the API server.
import { PassThrough, type Readable } from 'node:stream';
import type { V1Pod } from '@kubernetes/client-node';
import { KubeletError, type ClusterStore, type ExecStreams, type Kubelet, type LogOptions, type PullStats } from '../contract.ts';

interface LogBuffer {
  lines: string[];
  followers: Set<PassThrough>;
  ended: boolean;
}

export class FakeKubelet implements Kubelet {
  readonly nodeName: string;
  private store: ClusterStore | undefined;
  private unsubscribe: (() => void) | undefined;
  private readonly logs_ = new Map<string, LogBuffer>();
  readonly execCalls: { namespace: string; pod: string; container: string | undefined; command: string[]; tty: boolean }[] = [];
  readonly evictions: { namespace: string; pod: string; reason: string }[] = [];
  readonly failedPulls: { pattern: string | RegExp; message: string }[] = [];
  /** Set false to leave terminating pods alone (a kubelet that never confirms). */
  finalizeDeletions = true;
  stopped = false;

  constructor(nodeName = 'kube-sim-node') {
    this.nodeName = nodeName;
  }

  start(store: ClusterStore): void {
    this.store = store;
    this.unsubscribe = store.onPodChange((type, pod) => {
      if (type === 'DELETED') return;
      setImmediate(() => this.sync(pod));
    });
    for (const pod of store.listPods()) setImmediate(() => this.sync(pod));
  }

  private key(ns: string, pod: string, container: string): string {
    return `${ns}/${pod}/${container}`;
  }

  private sync(seen: V1Pod): void {
    const store = this.store;
    if (!store || this.stopped) return;
    const ns = seen.metadata?.namespace ?? '';
    const name = seen.metadata?.name ?? '';
    const pod = store.getPod(ns, name);
    if (!pod) return;
    if (pod.metadata?.deletionTimestamp) {
      if (this.finalizeDeletions) {
        for (const c of pod.spec?.containers ?? []) this.endLog(ns, name, c.name);
        store.finalizePodDeletion(ns, name);
      }
      return;
    }
    if (!pod.spec?.nodeName) {
      store.bindPod(ns, name, this.nodeName);
      // the scheduler's event (the kubelet plays the scheduler here, as kubelet/ does)
      store.recordEvent({
        involvedObject: { apiVersion: 'v1', kind: 'Pod', namespace: ns, name, uid: pod.metadata?.uid },
        reason: 'Scheduled',
        message: `Successfully assigned ${ns}/${name} to ${this.nodeName}`,
        type: 'Normal',
        source: { component: 'default-scheduler' },
        reportingComponent: 'default-scheduler',
      });
      return;
    }
    if (pod.spec.nodeName !== this.nodeName || pod.status?.phase !== 'Pending') return;
    const now = new Date();
    store.updatePodStatus(ns, name, (status) => ({
      ...status,
      phase: 'Running',
      hostIP: '127.0.0.1',
      podIP: '10.0.0.2',
      startTime: now,
      conditions: [
        ...(status.conditions ?? []).filter((c) => !['Initialized', 'Ready', 'ContainersReady'].includes(c.type)),
        { type: 'Initialized', status: 'True', lastTransitionTime: now },
        { type: 'Ready', status: 'True', lastTransitionTime: now },
        { type: 'ContainersReady', status: 'True', lastTransitionTime: now },
      ],
      containerStatuses: (pod.spec?.containers ?? []).map((c) => ({
        name: c.name,
        image: c.image ?? '',
        imageID: '',
        ready: true,
        started: true,
        restartCount: 0,
        state: { running: { startedAt: now } },
      })),
    }));
    store.recordEvent({ involvedObject: { kind: 'Pod', namespace: ns, name, uid: pod.metadata?.uid }, reason: 'Started', message: 'Started container', type: 'Normal' });
  }

  private buffer(ns: string, pod: string, container: string): LogBuffer {
    const k = this.key(ns, pod, container);
    let b = this.logs_.get(k);
    if (!b) {
      b = { lines: [], followers: new Set(), ended: false };
      this.logs_.set(k, b);
    }
    return b;
  }

  /** A container writes a line to its log. */
  appendLog(ns: string, pod: string, container: string, line: string): void {
    const b = this.buffer(ns, pod, container);
    b.lines.push(line);
    for (const f of b.followers) f.write(line + '\n');
  }

  /** A container exits: followers' streams end. */
  endLog(ns: string, pod: string, container: string): void {
    const b = this.buffer(ns, pod, container);
    b.ended = true;
    for (const f of b.followers) f.end();
    b.followers.clear();
  }

  logs(namespace: string, pod: string, container: string | undefined, opts: LogOptions): Readable {
    if (!container) throw new KubeletError(400, 'a container name is required');
    if (!this.store?.getPod(namespace, pod)) throw new KubeletError(404, `pod ${namespace}/${pod} not found on this node`);
    const b = this.buffer(namespace, pod, container);
    const lines = opts.tailLines !== undefined ? b.lines.slice(-opts.tailLines) : b.lines;
    const out = new PassThrough();
    out.write(lines.map((l) => l + '\n').join(''));
    if (opts.follow && !b.ended) {
      b.followers.add(out);
      out.on('close', () => b.followers.delete(out));
    } else out.end();
    return out;
  }

  async exec(namespace: string, pod: string, container: string | undefined, command: string[], streams: ExecStreams): Promise<{ exitCode: number }> {
    this.execCalls.push({ namespace, pod, container, command, tty: streams.tty });
    const [cmd, ...args] = command;
    const write = (w: NodeJS.WritableStream, text: string): Promise<void> => new Promise((r) => w.write(text, () => r()));
    switch (cmd) {
      case 'echo':
        await write(streams.stdout, args.join(' ') + '\n');
        return { exitCode: 0 };
      case 'warn':
        await write(streams.stderr, args.join(' ') + '\n');
        return { exitCode: 0 };
      case 'cat': {
        if (!streams.stdin) return { exitCode: 0 };
        for await (const chunk of streams.stdin) await write(streams.stdout, Buffer.from(chunk as Buffer).toString());
        return { exitCode: 0 };
      }
      case 'exit':
        await write(streams.stderr, `exiting with ${args[0] ?? '0'}\n`);
        return { exitCode: Number(args[0] ?? '0') };
      case 'sleep':
        await new Promise<void>((resolve) => {
          const t = setTimeout(resolve, Number(args[0] ?? '1') * 1000);
          streams.signal?.addEventListener('abort', () => {
            clearTimeout(t);
            resolve();
          });
        });
        return { exitCode: streams.signal?.aborted ? 137 : 0 };
      default:
        throw new KubeletError(500, `failed to exec in container: exec: "${cmd ?? ''}": executable file not found in $PATH`);
    }
  }

  async evict(namespace: string, pod: string, reason: string): Promise<void> {
    this.evictions.push({ namespace, pod, reason });
    const store = this.store;
    if (!store) return;
    const now = new Date();
    store.updatePodStatus(namespace, pod, (status) => ({
      ...status,
      phase: 'Failed',
      reason: 'Evicted',
      message: reason,
      containerStatuses: (status.containerStatuses ?? []).map((c) => ({ ...c, ready: false, started: false, state: { terminated: { exitCode: 137, reason: 'Error', startedAt: now, finishedAt: now } } })),
    }));
    for (const c of store.getPod(namespace, pod)?.spec?.containers ?? []) this.endLog(namespace, pod, c.name);
  }

  pullStats(): PullStats {
    return { pulls: {}, bytes: 0 };
  }

  failNextPull(pattern: string | RegExp, message: string): void {
    this.failedPulls.push({ pattern, message });
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.unsubscribe?.();
    for (const b of this.logs_.values()) for (const f of b.followers) f.end();
  }
}
