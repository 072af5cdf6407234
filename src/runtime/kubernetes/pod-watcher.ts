// One list+watch of Jetway's pods in the namespace, shared by every step: a cache of the pods by
// name, and subscribers told of every change of "their" pod. A dropped watch (connection closed,
// 410 Expired, server error) is followed by a new list and a new watch from its resourceVersion,
// so no change is missed and nothing polls.
import { type Logger } from '../../log.ts';
import { Watch, type V1Pod, type V1PodList } from '@kubernetes/client-node';
import { MANAGED_SELECTOR } from './naming.ts';
import { sleep, type KubeClient } from './client.ts';

/** A pod's state as seen by the watch: the pod, or `deleted` when it is gone. */
export type PodUpdate = { kind: 'pod'; pod: V1Pod } | { kind: 'deleted'; lastSeen?: V1Pod };

export type PodListener = (update: PodUpdate) => void;

export class PodWatcher {
  private readonly pods = new Map<string, V1Pod>();
  private readonly listeners = new Map<string, Set<PodListener>>();
  private resourceVersion: string | undefined;
  private running = false;
  private stopped = false;
  private current: AbortController | undefined;
  private firstList: Promise<void> | undefined;
  private resolveFirst: (() => void) | undefined;
  /** watches started (tests: a dropped watch is re-established) */
  watches = 0;

  constructor(
    private readonly client: KubeClient,
    private readonly logger: Logger,
  ) {}

  /** Starts listing and watching (once); resolves after the first list. */
  start(): Promise<void> {
    if (!this.firstList) {
      this.firstList = new Promise((resolve) => (this.resolveFirst = resolve));
      this.running = true;
      void this.loop();
    }
    return this.firstList;
  }

  stop(): void {
    this.stopped = true;
    this.current?.abort();
    this.resolveFirst?.();
  }

  /** The cached pod (undefined: not seen, or gone). */
  get(name: string): V1Pod | undefined {
    return this.pods.get(name);
  }

  /** Every cached pod. */
  list(): V1Pod[] {
    return [...this.pods.values()];
  }

  /** Calls `listener` on every change of the pod `name` (at once with the cached state, if any); returns the unsubscribe. */
  subscribe(name: string, listener: PodListener): () => void {
    let set = this.listeners.get(name);
    if (!set) {
      set = new Set();
      this.listeners.set(name, set);
    }
    set.add(listener);
    const known = this.pods.get(name);
    if (known) queueMicrotask(() => listener({ kind: 'pod', pod: known }));
    return () => {
      const s = this.listeners.get(name);
      s?.delete(listener);
      if (s && s.size === 0) this.listeners.delete(name);
    };
  }

  private notify(name: string, update: PodUpdate): void {
    for (const listener of [...(this.listeners.get(name) ?? [])]) {
      try {
        listener(update);
      } catch (err) {
        this.logger.warn({ pod: name, err }, 'pod listener failed');
      }
    }
  }

  private async loop(): Promise<void> {
    let backoff = 100;
    while (!this.stopped) {
      try {
        await this.relist();
        this.resolveFirst?.();
        backoff = 100;
        await this.watch();
      } catch (err) {
        if (this.stopped) break;
        this.logger.warn({ err }, 'watching pods failed; listing again');
        await sleep(backoff);
        backoff = Math.min(5_000, backoff * 2);
      }
    }
    this.running = false;
  }

  private async relist(): Promise<void> {
    const list: V1PodList = await this.client.call({ verb: 'list', resource: 'pods' }, () =>
      this.client.core.listNamespacedPod({ namespace: this.client.namespace, labelSelector: MANAGED_SELECTOR }),
    );
    const seen = new Set<string>();
    for (const pod of list.items) {
      const name = pod.metadata?.name;
      if (!name) continue;
      seen.add(name);
      this.update(name, pod);
    }
    for (const [name, pod] of [...this.pods]) {
      if (!seen.has(name)) {
        this.pods.delete(name);
        this.notify(name, { kind: 'deleted', lastSeen: pod });
      }
    }
    this.resourceVersion = list.metadata?.resourceVersion;
  }

  private update(name: string, pod: V1Pod): void {
    const known = this.pods.get(name);
    if (known?.metadata?.resourceVersion !== undefined && known.metadata.resourceVersion === pod.metadata?.resourceVersion) return;
    this.pods.set(name, pod);
    this.notify(name, { kind: 'pod', pod });
  }

  /** One watch from the last resourceVersion; resolves when it ends (to be listed again). */
  private watch(): Promise<void> {
    return new Promise((resolve, reject) => {
      if (this.stopped) {
        resolve();
        return;
      }
      this.watches++;
      let expired = false;
      const watch = new Watch(this.client.kc);
      watch
        .watch(
          `/api/v1/namespaces/${encodeURIComponent(this.client.namespace)}/pods`,
          { labelSelector: MANAGED_SELECTOR, allowWatchBookmarks: true, ...(this.resourceVersion ? { resourceVersion: this.resourceVersion } : {}) },
          (type: string, obj: unknown) => {
            const pod = obj as V1Pod;
            if (type === 'BOOKMARK') {
              if (pod.metadata?.resourceVersion) this.resourceVersion = pod.metadata.resourceVersion;
              return;
            }
            if (type === 'ERROR') {
              // 410 Expired (or another Status): list again
              expired = true;
              this.current?.abort();
              return;
            }
            const name = pod.metadata?.name;
            if (!name) return;
            if (pod.metadata?.resourceVersion) this.resourceVersion = pod.metadata.resourceVersion;
            if (type === 'DELETED') {
              this.pods.delete(name);
              this.notify(name, { kind: 'deleted', lastSeen: pod });
            } else {
              this.update(name, pod);
            }
          },
          (err: unknown) => {
            if (err && !this.stopped && !expired && !(err instanceof Error && err.name === 'AbortError')) reject(err instanceof Error ? err : new Error(String(err)));
            else resolve();
          },
        )
        .then(
          (controller) => {
            this.current = controller;
            if (this.stopped) controller.abort();
          },
          (err: unknown) => reject(err instanceof Error ? err : new Error(String(err))),
        );
    });
  }

  get active(): boolean {
    return this.running;
  }
}
