// The object store behind the API server: plain JSON objects per resource, one global
// resourceVersion counter (like etcd's revision), and a bounded event history that watches replay
// from. When the history is trimmed (or `compact()` is called, as etcd compaction does) a watch
// from an older resourceVersion gets 410 Expired.

export interface ObjectMeta {
  name?: string;
  generateName?: string;
  namespace?: string;
  uid?: string;
  resourceVersion?: string;
  creationTimestamp?: string;
  deletionTimestamp?: string;
  deletionGracePeriodSeconds?: number;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  finalizers?: string[];
  generation?: number;
  [key: string]: unknown;
}

/** A Kubernetes object as JSON (what is on the wire). */
export interface KubeObject {
  apiVersion?: string;
  kind?: string;
  metadata?: ObjectMeta;
  [key: string]: unknown;
}

export type StoreEventType = 'ADDED' | 'MODIFIED' | 'DELETED';

export interface StoreEvent {
  resourceVersion: number;
  resource: string;
  type: StoreEventType;
  object: KubeObject;
  /** The object before a MODIFIED or DELETED change. */
  previous?: KubeObject;
}

export type StoreListener = (event: StoreEvent) => void;

export function objectKey(namespace: string | undefined, name: string): string {
  return `${namespace ?? ''}/${name}`;
}

export function clone<T>(value: T): T {
  return structuredClone(value);
}

export class ObjectStore {
  private revision = 0;
  private readonly objects = new Map<string, Map<string, KubeObject>>();
  private readonly history: StoreEvent[] = [];
  /** Events up to and including this revision are gone from the history. */
  private compactedRevision = 0;
  private readonly listeners = new Set<StoreListener>();

  constructor(private readonly historyLimit = 2000) {}

  currentRevision(): number {
    return this.revision;
  }

  oldestRevision(): number {
    return this.compactedRevision;
  }

  /** Drops the whole event history (as etcd compaction): watches from before now get 410. */
  compact(): void {
    this.history.length = 0;
    this.compactedRevision = this.revision;
  }

  private table(resource: string): Map<string, KubeObject> {
    let t = this.objects.get(resource);
    if (!t) {
      t = new Map();
      this.objects.set(resource, t);
    }
    return t;
  }

  get(resource: string, namespace: string | undefined, name: string): KubeObject | undefined {
    const obj = this.table(resource).get(objectKey(namespace, name));
    return obj ? clone(obj) : undefined;
  }

  /** Objects of a resource, sorted by namespace/name (etcd key order); all namespaces when undefined. */
  list(resource: string, namespace?: string): KubeObject[] {
    const out: KubeObject[] = [];
    const entries = [...this.table(resource).entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    for (const [, obj] of entries) {
      if (namespace === undefined || obj.metadata?.namespace === namespace) out.push(clone(obj));
    }
    return out;
  }

  private commit(resource: string, type: StoreEventType, object: KubeObject, previous?: KubeObject): KubeObject {
    this.revision++;
    const stored = clone(object);
    stored.metadata = { ...(stored.metadata ?? {}), resourceVersion: String(this.revision) };
    const key = objectKey(stored.metadata.namespace, stored.metadata.name ?? '');
    if (type === 'DELETED') this.table(resource).delete(key);
    else this.table(resource).set(key, stored);
    const event: StoreEvent = { resourceVersion: this.revision, resource, type, object: stored, ...(previous ? { previous } : {}) };
    this.history.push(event);
    while (this.history.length > this.historyLimit) {
      const dropped = this.history.shift();
      if (dropped) this.compactedRevision = dropped.resourceVersion;
    }
    for (const listener of [...this.listeners]) {
      try {
        listener({ ...event, object: clone(stored), ...(previous ? { previous: clone(previous) } : {}) });
      } catch (err) {
        console.error('kube-sim store listener failed:', err);
      }
    }
    return clone(stored);
  }

  /** Stores a new object (the caller checked it does not exist); returns it with its resourceVersion. */
  create(resource: string, object: KubeObject): KubeObject {
    return this.commit(resource, 'ADDED', object);
  }

  update(resource: string, object: KubeObject): KubeObject {
    const previous = this.table(resource).get(objectKey(object.metadata?.namespace, object.metadata?.name ?? ''));
    return this.commit(resource, 'MODIFIED', object, previous ? clone(previous) : undefined);
  }

  /** Removes an object; watchers see DELETED with a new resourceVersion (as etcd reports). */
  remove(resource: string, namespace: string | undefined, name: string): KubeObject | undefined {
    const previous = this.table(resource).get(objectKey(namespace, name));
    if (!previous) return undefined;
    return this.commit(resource, 'DELETED', previous, clone(previous));
  }

  subscribe(listener: StoreListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /**
   * Events of `resource` after `revision`, or `expired` when some of them were compacted away.
   */
  eventsSince(resource: string, revision: number): StoreEvent[] | 'expired' {
    if (revision < this.compactedRevision) return 'expired';
    return this.history.filter((e) => e.resource === resource && e.resourceVersion > revision).map((e) => clone(e));
  }
}
