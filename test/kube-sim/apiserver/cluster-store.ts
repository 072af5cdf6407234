// The in-process ClusterStore the kubelet uses (test/kube-sim/contract.ts): typed client-node
// objects (Dates and all, through client-node's own ObjectSerializer) over the JSON the API
// server stores. Writes are audited as the node's user, as a real kubelet's requests would be.
import { randomBytes } from 'node:crypto';
import type { CoreV1Event, V1Pod, V1PodStatus, V1Secret, V1ServiceAccount } from '@kubernetes/client-node';
import { ObjectSerializer } from '@kubernetes/client-node/dist/gen/models/ObjectSerializer.js';
import type { ClusterStore, InClusterCredentials, LatencyProfile, WatchEventType } from '../contract.ts';
import type { AuditLog } from './audit.ts';
import { microTime } from './audit.ts';
import { kubeTime, type CoreRegistry } from './core.ts';
import { ApiError } from './status.ts';
import type { KubeObject } from './store.ts';

function typed<T>(obj: unknown, type: string): T {
  return ObjectSerializer.deserialize(obj, type, '') as T;
}

function wire(obj: unknown, type: string): unknown {
  return JSON.parse(JSON.stringify(ObjectSerializer.serialize(obj, type, ''))) as unknown;
}

export class InProcessClusterStore implements ClusterStore {
  constructor(
    private readonly registry: CoreRegistry,
    private readonly audit: AuditLog,
    private readonly currentLatency: () => LatencyProfile,
    private readonly nodeName: () => string,
    /** the API server's service account tokens and address (ClusterStore.inClusterCredentials) */
    private readonly inCluster?: (namespace: string, serviceAccount: string | undefined, options: { expirationSeconds: number }) => InClusterCredentials | undefined,
  ) {}

  inClusterCredentials(namespace: string, serviceAccount: string | undefined, options: { expirationSeconds: number }): InClusterCredentials | undefined {
    const out = this.inCluster?.(namespace, serviceAccount, options);
    // the kubelet's TokenRequest (POST serviceaccounts/NAME/token), audited as the node's
    if (out?.token !== undefined && serviceAccount) this.record('create', 'serviceaccounts', namespace, serviceAccount, 'token', 201);
    return out;
  }

  private record(verb: string, resource: string, namespace: string, name: string | undefined, subresource: string | undefined, code: number, requestObject?: unknown): void {
    const now = new Date();
    const path = `/api/v1/namespaces/${namespace}/${resource}${name ? `/${name}` : ''}${subresource ? `/${subresource}` : ''}`;
    this.audit.record({
      requestURI: path,
      verb,
      user: { username: `system:node:${this.nodeName()}`, groups: ['system:nodes', 'system:authenticated'] },
      sourceIPs: ['127.0.0.1'],
      userAgent: 'kube-sim-kubelet',
      objectRef: { resource, namespace, ...(name ? { name } : {}), ...(subresource ? { subresource } : {}), apiVersion: 'v1' },
      responseStatus: { metadata: {}, code },
      ...(requestObject !== undefined ? { requestObject } : {}),
      requestReceivedTimestamp: microTime(now),
      stageTimestamp: microTime(new Date()),
    });
  }

  private audited<T>(verb: string, resource: string, namespace: string, name: string | undefined, subresource: string | undefined, okCode: number, fn: () => T, requestObject?: unknown): T {
    try {
      const out = fn();
      this.record(verb, resource, namespace, name, subresource, okCode, requestObject);
      return out;
    } catch (err) {
      this.record(verb, resource, namespace, name, subresource, err instanceof ApiError ? err.code : 500, requestObject);
      throw err;
    }
  }

  getPod(namespace: string, name: string): V1Pod | undefined {
    const obj = this.registry.find('pods', namespace, name);
    return obj ? typed<V1Pod>(obj, 'V1Pod') : undefined;
  }

  listPods(): V1Pod[] {
    return this.registry.store.list('pods').map((p) => typed<V1Pod>({ apiVersion: 'v1', kind: 'Pod', ...p }, 'V1Pod'));
  }

  onPodChange(listener: (type: WatchEventType, pod: V1Pod) => void): () => void {
    return this.registry.store.subscribe((event) => {
      if (event.resource !== 'pods') return;
      listener(event.type, typed<V1Pod>({ apiVersion: 'v1', kind: 'Pod', ...event.object }, 'V1Pod'));
    });
  }

  updatePodStatus(namespace: string, name: string, update: (status: V1PodStatus) => V1PodStatus): void {
    const current = this.registry.find('pods', namespace, name);
    if (!current) {
      this.record('patch', 'pods', namespace, name, 'status', 404);
      throw new ApiError({ kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', reason: 'NotFound', message: `pods "${name}" not found`, code: 404 });
    }
    const status = typed<V1PodStatus>(current.status ?? {}, 'V1PodStatus');
    const next = wire(update(status), 'V1PodStatus');
    this.audited('patch', 'pods', namespace, name, 'status', 200, () => this.registry.setPodStatus(namespace, name, next), { status: next });
  }

  bindPod(namespace: string, name: string, nodeName: string): void {
    const binding = { kind: 'Binding', apiVersion: 'v1', metadata: { name, namespace }, target: { kind: 'Node', name: nodeName } };
    // the Scheduled event is the scheduler's (the kubelet records it after binding), not the binding's
    this.audited('create', 'pods', namespace, name, 'binding', 201, () => this.registry.bind(namespace, name, nodeName), binding);
  }

  finalizePodDeletion(namespace: string, name: string): void {
    this.audited('delete', 'pods', namespace, name, undefined, 200, () => this.registry.finalizePod(namespace, name));
  }

  getSecret(namespace: string, name: string): V1Secret | undefined {
    const obj = this.registry.find('secrets', namespace, name);
    return obj ? typed<V1Secret>(obj, 'V1Secret') : undefined;
  }

  getServiceAccount(namespace: string, name: string): V1ServiceAccount | undefined {
    const obj = this.registry.find('serviceaccounts', namespace, name);
    return obj ? typed<V1ServiceAccount>(obj, 'V1ServiceAccount') : undefined;
  }

  recordEvent(event: Omit<CoreV1Event, 'metadata'> & { metadata?: CoreV1Event['metadata'] }): void {
    const body = wire({ ...event, metadata: event.metadata ?? {} }, 'CoreV1Event') as KubeObject;
    const involved = (body.involvedObject ?? {}) as { namespace?: string; name?: string };
    const namespace = body.metadata?.namespace ?? involved.namespace ?? 'default';
    const now = kubeTime();
    const obj: KubeObject = {
      ...body,
      metadata: { ...(body.metadata ?? {}), namespace, name: body.metadata?.name ?? `${involved.name ?? 'event'}.${randomBytes(8).toString('hex')}` },
      firstTimestamp: body.firstTimestamp ?? now,
      lastTimestamp: body.lastTimestamp ?? now,
      count: body.count ?? 1,
      source: body.source ?? { component: 'kubelet', host: this.nodeName() },
      reportingComponent: body.reportingComponent ?? 'kubelet',
      reportingInstance: body.reportingInstance ?? this.nodeName(),
    };
    // client-go's EventCorrelator: the same event again (same object, reason, message, type, source)
    // increments count and lastTimestamp of the one recorded before, with a PATCH, instead of a new Event
    const same = (e: KubeObject): boolean => {
      const a = (e.involvedObject ?? {}) as Record<string, unknown>;
      const b = (obj.involvedObject ?? {}) as Record<string, unknown>;
      const src = (x: KubeObject): string => JSON.stringify([((x.source ?? {}) as Record<string, unknown>).component, ((x.source ?? {}) as Record<string, unknown>).host]);
      return a.kind === b.kind && a.name === b.name && a.uid === b.uid && a.fieldPath === b.fieldPath && e.reason === obj.reason && e.message === obj.message && e.type === obj.type && src(e) === src(obj);
    };
    const previous = body.metadata?.name ? undefined : this.registry.store.list('events', namespace).find(same);
    if (previous?.metadata?.name) {
      const patch = { count: (typeof previous.count === 'number' ? previous.count : 1) + 1, lastTimestamp: now };
      const prevName = previous.metadata.name;
      try {
        this.audited('patch', 'events', namespace, prevName, undefined, 200, () => this.registry.patch('events', namespace, prevName, 'application/strategic-merge-patch+json', patch), patch);
        return;
      } catch (err) {
        if (!(err instanceof ApiError)) throw err;
      }
    }
    try {
      this.audited('create', 'events', namespace, undefined, undefined, 201, () => this.registry.create('events', namespace, obj), obj);
    } catch (err) {
      // a real kubelet's event recorder drops events it cannot write (namespace gone, ...)
      if (!(err instanceof ApiError)) throw err;
    }
  }

  latency(): LatencyProfile {
    return { ...this.currentLatency() };
  }
}
