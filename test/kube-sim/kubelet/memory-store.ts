// A small in-memory ClusterStore with the contract's semantics, for the kubelet's own tests (the
// API server implements the real one): every change bumps a cluster-wide resourceVersion and is
// sent to the listeners after it is stored; a pod bound to a node and deleted gracefully only gets
// a deletionTimestamp until the kubelet calls finalizePodDeletion; an unbound pod, or a deletion
// with grace period 0, is removed at once (watchers see DELETED).
import { randomUUID } from 'node:crypto';
import type { CoreV1Event, V1Pod, V1PodStatus, V1Secret, V1ServiceAccount } from '@kubernetes/client-node';
import type { ClusterStore, WatchEventType } from '../contract.ts';

type Listener = (type: WatchEventType, pod: V1Pod) => void;

function clone<T>(value: T): T {
  return structuredClone(value);
}

export class MemoryClusterStore implements ClusterStore {
  private revision = 0;
  private readonly pods = new Map<string, V1Pod>();
  private readonly secrets = new Map<string, V1Secret>();
  private readonly serviceAccounts = new Map<string, V1ServiceAccount>();
  private readonly listeners = new Set<Listener>();
  readonly events: CoreV1Event[] = [];

  private nextVersion(): string {
    return String(++this.revision);
  }

  private emit(type: WatchEventType, pod: V1Pod): void {
    for (const listener of [...this.listeners]) listener(type, clone(pod));
  }

  // --- what the API server would do on client requests ---

  /** Creates a pod with the defaults the API server applies; returns the stored object. */
  createPod(input: V1Pod): V1Pod {
    const pod = clone(input);
    const namespace = pod.metadata?.namespace ?? 'default';
    const name = pod.metadata?.name;
    if (!name) throw new Error('pod without a name');
    const key = `${namespace}/${name}`;
    if (this.pods.has(key)) throw new Error(`pod ${key} already exists`);
    pod.apiVersion = 'v1';
    pod.kind = 'Pod';
    pod.metadata = { ...pod.metadata, name, namespace, uid: randomUUID(), creationTimestamp: new Date(), resourceVersion: this.nextVersion() };
    const spec = pod.spec;
    if (!spec) throw new Error('pod without a spec');
    spec.restartPolicy ??= 'Always';
    spec.terminationGracePeriodSeconds ??= 30;
    spec.serviceAccountName ??= 'default';
    spec.schedulerName ??= 'default-scheduler';
    spec.dnsPolicy ??= 'ClusterFirst';
    for (const c of [...(spec.initContainers ?? []), ...spec.containers]) {
      const image = c.image ?? '';
      const tagged = /:[\w][\w.-]*$/.test(image.slice(image.lastIndexOf('/') + 1));
      c.imagePullPolicy ??= image.includes('@') ? 'IfNotPresent' : !tagged || image.endsWith(':latest') ? 'Always' : 'IfNotPresent';
      c.terminationMessagePath ??= '/dev/termination-log';
      c.terminationMessagePolicy ??= 'File';
    }
    pod.status = { phase: 'Pending', qosClass: 'BestEffort' };
    this.pods.set(key, pod);
    this.emit('ADDED', pod);
    return clone(pod);
  }

  /** DELETE pods/NAME: graceful when the pod is on a node, else immediate. */
  deletePod(namespace: string, name: string, gracePeriodSeconds?: number): void {
    const key = `${namespace}/${name}`;
    const pod = this.pods.get(key);
    if (!pod) throw new Error(`pod ${key} not found`);
    const grace = gracePeriodSeconds ?? pod.spec?.terminationGracePeriodSeconds ?? 30;
    if (!pod.spec?.nodeName || grace === 0) {
      this.pods.delete(key);
      pod.metadata = { ...pod.metadata, resourceVersion: this.nextVersion() };
      this.emit('DELETED', pod);
      return;
    }
    if (pod.metadata?.deletionTimestamp) return;
    pod.metadata = {
      ...pod.metadata,
      deletionTimestamp: new Date(Date.now() + grace * 1000),
      deletionGracePeriodSeconds: grace,
      resourceVersion: this.nextVersion(),
    };
    this.emit('MODIFIED', pod);
  }

  putSecret(secret: V1Secret): void {
    const namespace = secret.metadata?.namespace ?? 'default';
    this.secrets.set(`${namespace}/${secret.metadata?.name ?? ''}`, clone({ ...secret, metadata: { ...secret.metadata, namespace, resourceVersion: this.nextVersion() } }));
  }

  putServiceAccount(sa: V1ServiceAccount): void {
    const namespace = sa.metadata?.namespace ?? 'default';
    this.serviceAccounts.set(`${namespace}/${sa.metadata?.name ?? ''}`, clone({ ...sa, metadata: { ...sa.metadata, namespace, resourceVersion: this.nextVersion() } }));
  }

  /** Resolves with the pod once `predicate` holds (checked now and on every change), or rejects after `timeoutMs`. */
  waitForPod(namespace: string, name: string, predicate: (pod: V1Pod | undefined) => boolean, timeoutMs = 15_000): Promise<V1Pod | undefined> {
    return new Promise((resolve, reject) => {
      const check = (): boolean => {
        const pod = this.getPod(namespace, name);
        if (!predicate(pod)) return false;
        clearTimeout(timer);
        unsubscribe();
        resolve(pod);
        return true;
      };
      const timer = setTimeout(() => {
        unsubscribe();
        reject(new Error(`timed out waiting for pod ${namespace}/${name}; last status: ${JSON.stringify(this.getPod(namespace, name)?.status)}`));
      }, timeoutMs);
      const unsubscribe = this.onPodChange(() => void check());
      check();
    });
  }

  // --- ClusterStore ---

  getPod(namespace: string, name: string): V1Pod | undefined {
    const pod = this.pods.get(`${namespace}/${name}`);
    return pod ? clone(pod) : undefined;
  }

  listPods(): V1Pod[] {
    return [...this.pods.values()].map(clone);
  }

  onPodChange(listener: Listener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  updatePodStatus(namespace: string, name: string, update: (status: V1PodStatus) => V1PodStatus): void {
    const pod = this.pods.get(`${namespace}/${name}`);
    if (!pod) throw new Error(`pod ${namespace}/${name} not found`);
    pod.status = clone(update(clone(pod.status ?? {})));
    pod.metadata = { ...pod.metadata, resourceVersion: this.nextVersion() };
    this.emit('MODIFIED', pod);
  }

  bindPod(namespace: string, name: string, nodeName: string): void {
    const pod = this.pods.get(`${namespace}/${name}`);
    if (!pod?.spec) throw new Error(`pod ${namespace}/${name} not found`);
    if (pod.spec.nodeName) throw new Error(`pod ${namespace}/${name} is already bound to ${pod.spec.nodeName}`);
    pod.spec.nodeName = nodeName;
    const conditions = (pod.status?.conditions ?? []).filter((c) => c.type !== 'PodScheduled');
    conditions.push({ type: 'PodScheduled', status: 'True', lastTransitionTime: new Date() });
    pod.status = { ...pod.status, conditions };
    pod.metadata = { ...pod.metadata, resourceVersion: this.nextVersion() };
    this.emit('MODIFIED', pod);
  }

  finalizePodDeletion(namespace: string, name: string): void {
    const key = `${namespace}/${name}`;
    const pod = this.pods.get(key);
    if (!pod) return;
    if (!pod.metadata?.deletionTimestamp) throw new Error(`pod ${key} is not being deleted`);
    this.pods.delete(key);
    pod.metadata = { ...pod.metadata, resourceVersion: this.nextVersion() };
    this.emit('DELETED', pod);
  }

  getSecret(namespace: string, name: string): V1Secret | undefined {
    const secret = this.secrets.get(`${namespace}/${name}`);
    return secret ? clone(secret) : undefined;
  }

  getServiceAccount(namespace: string, name: string): V1ServiceAccount | undefined {
    const sa = this.serviceAccounts.get(`${namespace}/${name}`);
    return sa ? clone(sa) : undefined;
  }

  recordEvent(event: Omit<CoreV1Event, 'metadata'> & { metadata?: CoreV1Event['metadata'] }): void {
    const namespace = event.involvedObject.namespace ?? 'default';
    this.events.push({ ...event, metadata: { name: `${event.involvedObject.name ?? 'x'}.${randomUUID().slice(0, 8)}`, namespace, ...event.metadata, resourceVersion: this.nextVersion() } });
  }
}
