// The controllers of kube-controller-manager a client of the test cluster notices, reduced to what
// they promise: the Deployment controller (a ReplicaSet per pod template, `pod-template-hash`,
// revisions, old ReplicaSets scaled to zero, status and the Available/Progressing conditions that
// `kubectl rollout status` reads), the ReplicaSet controller (keeps `replicas` pods, owned through
// ownerReferences, and counts the ready ones), and the garbage collector (dependents of a deleted
// owner are deleted, as with the default background propagation). They react to store events on the
// next tick, one reconcile per object at a time, as the informer-driven originals do.
import { createHash } from 'node:crypto';
import { generateSuffix, kubeTime, type CoreRegistry } from './core.ts';
import { ApiError } from './status.ts';
import type { KubeObject, StoreEvent } from './store.ts';

type Rec = Record<string, unknown>;
const isRec = (v: unknown): v is Rec => v !== null && typeof v === 'object' && !Array.isArray(v);
const arr = (v: unknown): Rec[] => (Array.isArray(v) ? v.filter(isRec) : []);

const SAFE = 'bcdfghjklmnpqrstvwxz2456789';

/**
 * A value with its objects' keys sorted and null fields left out (Go clients send the zero
 * `creationTimestamp: null`): the same template whatever way a client wrote it.
 */
function canonical(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(canonical);
  if (!isRec(v)) return v;
  return Object.fromEntries(
    Object.keys(v)
      .filter((k) => v[k] !== null)
      .sort()
      .map((k) => [k, canonical(v[k])]),
  );
}

/** The pod-template-hash label value of a template (a stable short hash, in the real alphabet). */
export function templateHash(template: unknown): string {
  const digest = createHash('sha256').update(JSON.stringify(canonical(template ?? {}))).digest();
  return [...digest.subarray(0, 10)].map((b) => SAFE[b % SAFE.length]).join('');
}

/** Whether two pod templates are the same but for the pod-template-hash label (the controller's EqualIgnoreHash). */
export function sameTemplateIgnoringHash(a: unknown, b: unknown): boolean {
  const strip = (t: unknown): unknown => {
    if (!isRec(t) || !isRec(t.metadata) || !isRec(t.metadata.labels)) return t;
    const { 'pod-template-hash': _hash, ...labels } = t.metadata.labels;
    return { ...t, metadata: { ...t.metadata, labels } };
  };
  return JSON.stringify(canonical(strip(a))) === JSON.stringify(canonical(strip(b)));
}

function ownedBy(obj: KubeObject, uid: string | undefined): boolean {
  return uid !== undefined && arr(obj.metadata?.ownerReferences).some((r) => r.uid === uid && r.controller === true);
}

function podReady(pod: KubeObject): boolean {
  const status = isRec(pod.status) ? pod.status : {};
  return !pod.metadata?.deletionTimestamp && arr(status.conditions).some((c) => c.type === 'Ready' && c.status === 'True');
}

function selectorMatches(selector: unknown, labels: Record<string, string> | undefined): boolean {
  const match = isRec(selector) && isRec(selector.matchLabels) ? selector.matchLabels : {};
  return Object.entries(match).every(([k, v]) => labels?.[k] === v);
}

export class Controllers {
  private unsubscribe: (() => void) | undefined;
  private readonly queue = new Set<string>();
  private scheduled = false;

  constructor(private readonly registry: CoreRegistry) {}

  start(): void {
    if (this.unsubscribe) return;
    this.unsubscribe = this.registry.store.subscribe((e) => this.observe(e));
    for (const d of this.registry.store.list('deployments')) this.enqueue('deployments', d);
    for (const r of this.registry.store.list('replicasets')) this.enqueue('replicasets', r);
  }

  stop(): void {
    this.unsubscribe?.();
    this.unsubscribe = undefined;
    this.queue.clear();
  }

  private observe(e: StoreEvent): void {
    const obj = e.object;
    if (e.type === 'DELETED' && obj.metadata?.uid) this.enqueueKey(`gc|${obj.metadata.uid}|${obj.metadata.namespace ?? ''}`);
    if (e.resource === 'deployments' || e.resource === 'replicasets') this.enqueue(e.resource, obj);
    // a change of a dependent wakes its owner up
    if (e.resource === 'pods' || e.resource === 'replicasets') {
      for (const ref of arr(obj.metadata?.ownerReferences)) {
        if (ref.controller !== true || typeof ref.name !== 'string') continue;
        if (ref.kind === 'ReplicaSet') {
          this.enqueueKey(`replicasets|${obj.metadata?.namespace ?? ''}|${ref.name}`);
          // a Recreate rollout waits for the old pods to be gone: their Deployment looks again
          const rs = this.registry.store.get('replicasets', obj.metadata?.namespace, ref.name);
          for (const up of arr(rs?.metadata?.ownerReferences)) {
            if (up.controller === true && up.kind === 'Deployment' && typeof up.name === 'string') this.enqueueKey(`deployments|${obj.metadata?.namespace ?? ''}|${up.name}`);
          }
        }
        if (ref.kind === 'Deployment') this.enqueueKey(`deployments|${obj.metadata?.namespace ?? ''}|${ref.name}`);
      }
    }
  }

  private enqueue(resource: string, obj: KubeObject): void {
    this.enqueueKey(`${resource}|${obj.metadata?.namespace ?? ''}|${obj.metadata?.name ?? ''}`);
  }

  private enqueueKey(key: string): void {
    this.queue.add(key);
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      const keys = [...this.queue];
      this.queue.clear();
      for (const k of keys) {
        const [kind, a, b] = k.split('|') as [string, string, string];
        try {
          if (kind === 'gc') this.collect(a, b);
          else if (kind === 'deployments') this.syncDeployment(a, b);
          else if (kind === 'replicasets') this.syncReplicaSet(a, b);
        } catch (err) {
          if (!(err instanceof ApiError)) throw err;
          if (process.env.KUBE_SIM_DEBUG) console.error('controller', k, err.message);
          // a conflict or a vanished object: the next event brings the controller back
        }
      }
    });
  }

  /** The garbage collector: dependents of a deleted owner go (background propagation). */
  private collect(uid: string, namespace: string): void {
    for (const resource of ['replicasets', 'pods']) {
      for (const obj of this.registry.store.list(resource, namespace || undefined)) {
        if (!arr(obj.metadata?.ownerReferences).some((r) => r.uid === uid)) continue;
        try {
          this.registry.delete(resource, obj.metadata?.namespace, obj.metadata?.name ?? '');
        } catch (err) {
          if (!(err instanceof ApiError)) throw err;
        }
      }
    }
  }

  private event(involved: KubeObject, kind: string, type: string, reason: string, message: string, component: string): void {
    const ns = involved.metadata?.namespace ?? 'default';
    try {
      this.registry.create('events', ns, {
        metadata: { name: `${involved.metadata?.name ?? 'x'}.${generateSuffix(10)}`, namespace: ns },
        involvedObject: { kind, namespace: ns, name: involved.metadata?.name, uid: involved.metadata?.uid, apiVersion: 'apps/v1', resourceVersion: involved.metadata?.resourceVersion },
        reason,
        message,
        type,
        source: { component },
        reportingComponent: component,
        reportingInstance: '',
        firstTimestamp: kubeTime(),
        lastTimestamp: kubeTime(),
        count: 1,
      });
    } catch (err) {
      if (!(err instanceof ApiError)) throw err;
    }
  }

  private writeStatus(resource: string, obj: KubeObject, status: Rec): void {
    if (JSON.stringify(obj.status ?? {}) === JSON.stringify(status)) return;
    this.registry.store.update(resource, { ...obj, status });
  }

  private syncReplicaSet(namespace: string, name: string): void {
    const rs = this.registry.store.get('replicasets', namespace, name);
    if (!rs || rs.metadata?.deletionTimestamp) return;
    const spec = isRec(rs.spec) ? rs.spec : {};
    const want = typeof spec.replicas === 'number' ? spec.replicas : 1;
    const pods = this.registry.store.list('pods', namespace).filter((p) => ownedBy(p, rs.metadata?.uid));
    const active = pods.filter((p) => !p.metadata?.deletionTimestamp && !['Succeeded', 'Failed'].includes(String(isRec(p.status) ? p.status.phase : '')));
    const template = isRec(spec.template) ? spec.template : {};
    const tmeta = isRec(template.metadata) ? template.metadata : {};
    for (let i = active.length; i < want; i++) {
      try {
        const pod = this.registry.create('pods', namespace, {
          metadata: {
            generateName: `${name}-`,
            labels: isRec(tmeta.labels) ? tmeta.labels : {},
            ...(isRec(tmeta.annotations) ? { annotations: tmeta.annotations } : {}),
            ownerReferences: [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name, uid: rs.metadata?.uid, controller: true, blockOwnerDeletion: true }],
          },
          spec: template.spec,
        });
        this.event(rs, 'ReplicaSet', 'Normal', 'SuccessfulCreate', `Created pod: ${pod.metadata?.name ?? ''}`, 'replicaset-controller');
      } catch (err) {
        if (!(err instanceof ApiError)) throw err;
        this.event(rs, 'ReplicaSet', 'Warning', 'FailedCreate', `Error creating: ${err.message}`, 'replicaset-controller');
        break;
      }
    }
    // scale down: not-ready pods first, then the newest
    const surplus = [...active].sort((a, b) => Number(podReady(a)) - Number(podReady(b)) || String(b.metadata?.creationTimestamp).localeCompare(String(a.metadata?.creationTimestamp))).slice(0, Math.max(0, active.length - want));
    for (const p of surplus) {
      this.registry.delete('pods', namespace, p.metadata?.name ?? '');
      this.event(rs, 'ReplicaSet', 'Normal', 'SuccessfulDelete', `Deleted pod: ${p.metadata?.name ?? ''}`, 'replicaset-controller');
    }
    const now = this.registry.store.list('pods', namespace).filter((p) => ownedBy(p, rs.metadata?.uid) && !p.metadata?.deletionTimestamp);
    const current = this.registry.store.get('replicasets', namespace, name);
    if (!current) return;
    const ready = now.filter(podReady).length;
    this.writeStatus('replicasets', current, {
      replicas: now.length,
      fullyLabeledReplicas: now.filter((p) => selectorMatches(spec.selector, p.metadata?.labels)).length,
      readyReplicas: ready,
      availableReplicas: ready,
      observedGeneration: current.metadata?.generation ?? 1,
    });
  }

  private syncDeployment(namespace: string, name: string): void {
    const d = this.registry.store.get('deployments', namespace, name);
    if (!d || d.metadata?.deletionTimestamp) return;
    const spec = isRec(d.spec) ? d.spec : {};
    const want = typeof spec.replicas === 'number' ? spec.replicas : 1;
    const template = isRec(spec.template) ? spec.template : {};
    const hash = templateHash(template);
    const owned = this.registry.store.list('replicasets', namespace).filter((r) => ownedBy(r, d.metadata?.uid));
    // the template's ReplicaSet: by its hash, or one of an earlier revision with the same template
    // (a rollback, `kubectl rollout undo`, brings that one back rather than a new one)
    let newRs = owned.find((r) => r.metadata?.labels?.['pod-template-hash'] === hash) ?? owned.find((r) => isRec(r.spec) && sameTemplateIgnoringHash(r.spec.template, template));
    const old = owned.filter((r) => r !== newRs);
    const revisionOf = (r: KubeObject): number => Number(r.metadata?.annotations?.['deployment.kubernetes.io/revision'] ?? 0);
    const maxOldRevision = Math.max(0, ...old.map(revisionOf));
    const recreate = isRec(spec.strategy) && spec.strategy.type === 'Recreate';
    // old ReplicaSets are scaled to zero (Recreate: the new one starts once their pods are gone)
    for (const r of old) {
      if (isRec(r.spec) && r.spec.replicas !== 0) {
        this.registry.store.update('replicasets', { ...r, spec: { ...r.spec, replicas: 0 }, metadata: { ...r.metadata, generation: (r.metadata?.generation ?? 1) + 1 } });
        this.event(d, 'Deployment', 'Normal', 'ScalingReplicaSet', `Scaled down replica set ${r.metadata?.name ?? ''} from ${String(r.spec.replicas)} to 0`, 'deployment-controller');
      }
    }
    const oldPods = this.registry.store.list('pods', namespace).filter((p) => old.some((r) => ownedBy(p, r.metadata?.uid)));
    const tmeta = isRec(template.metadata) ? template.metadata : {};
    const labels = { ...(isRec(tmeta.labels) ? (tmeta.labels as Record<string, string>) : {}), 'pod-template-hash': hash };
    // the newest template has the highest revision (a ReplicaSet brought back gets the next one)
    const revision = String(maxOldRevision + 1);
    if (!newRs && !(recreate && oldPods.length > 0)) {
      const selector = isRec(spec.selector) ? spec.selector : {};
      newRs = this.registry.create('replicasets', namespace, {
        metadata: {
          name: `${name}-${hash}`,
          labels,
          annotations: { 'deployment.kubernetes.io/desired-replicas': String(want), 'deployment.kubernetes.io/max-replicas': String(want), 'deployment.kubernetes.io/revision': revision },
          ownerReferences: [{ apiVersion: 'apps/v1', kind: 'Deployment', name, uid: d.metadata?.uid, controller: true, blockOwnerDeletion: true }],
        },
        spec: {
          replicas: want,
          selector: { ...selector, matchLabels: { ...(isRec(selector.matchLabels) ? selector.matchLabels : {}), 'pod-template-hash': hash } },
          template: { ...template, metadata: { ...tmeta, labels } },
        },
      });
      this.event(d, 'Deployment', 'Normal', 'ScalingReplicaSet', `Scaled up replica set ${newRs.metadata?.name ?? ''} from 0 to ${want}`, 'deployment-controller');
    } else if (newRs && isRec(newRs.spec)) {
      const from = newRs.spec.replicas;
      // Recreate: a ReplicaSet brought back starts once the old pods are gone
      const to = recreate && oldPods.length > 0 && from === 0 ? 0 : want;
      const bump = revisionOf(newRs) <= maxOldRevision;
      if (from !== to || bump) {
        const annotations = { ...newRs.metadata?.annotations, 'deployment.kubernetes.io/desired-replicas': String(want), ...(bump ? { 'deployment.kubernetes.io/revision': revision } : {}) };
        this.registry.store.update('replicasets', { ...newRs, spec: { ...newRs.spec, replicas: to }, metadata: { ...newRs.metadata, generation: (newRs.metadata?.generation ?? 1) + (from !== to ? 1 : 0), annotations } });
        if (from !== to) this.event(d, 'Deployment', 'Normal', 'ScalingReplicaSet', `Scaled ${typeof from === 'number' && from > to ? 'down' : 'up'} replica set ${newRs.metadata?.name ?? ''} from ${String(from)} to ${to}`, 'deployment-controller');
      }
    }
    const current = this.registry.store.get('deployments', namespace, name);
    if (!current) return;
    const all = this.registry.store.list('replicasets', namespace).filter((r) => ownedBy(r, d.metadata?.uid));
    const st = (r: KubeObject | undefined, k: string): number => (r && isRec(r.status) && typeof r.status[k] === 'number' ? (r.status[k] as number) : 0);
    const fresh = newRs ? this.registry.store.get('replicasets', namespace, newRs.metadata?.name ?? '') : undefined;
    const replicas = all.reduce((n, r) => n + st(r, 'replicas'), 0);
    const available = all.reduce((n, r) => n + st(r, 'availableReplicas'), 0);
    const ready = all.reduce((n, r) => n + st(r, 'readyReplicas'), 0);
    const updated = st(fresh, 'replicas');
    const complete = updated === want && replicas === want && available === want && oldPods.length === 0;
    const prev = isRec(current.status) ? arr(current.status.conditions) : [];
    const condition = (type: string, status: string, reason: string, message: string): Rec => {
      const before = prev.find((c) => c.type === type);
      const now = kubeTime();
      const transition = before && before.status === status ? before.lastTransitionTime : now;
      const update = before && before.status === status && before.reason === reason ? before.lastUpdateTime : now;
      return { type, status, lastUpdateTime: update, lastTransitionTime: transition, reason, message };
    };
    const rsName = fresh?.metadata?.name ?? `${name}-${hash}`;
    this.writeStatus('deployments', current, {
      observedGeneration: current.metadata?.generation ?? 1,
      ...(replicas ? { replicas } : {}),
      ...(updated ? { updatedReplicas: updated } : {}),
      ...(ready ? { readyReplicas: ready } : {}),
      ...(available ? { availableReplicas: available } : {}),
      ...(want - available > 0 ? { unavailableReplicas: want - available } : {}),
      conditions: [
        available >= want
          ? condition('Available', 'True', 'MinimumReplicasAvailable', 'Deployment has minimum availability.')
          : condition('Available', 'False', 'MinimumReplicasUnavailable', 'Deployment does not have minimum availability.'),
        complete
          ? condition('Progressing', 'True', 'NewReplicaSetAvailable', `ReplicaSet "${rsName}" has successfully progressed.`)
          : condition('Progressing', 'True', 'ReplicaSetUpdated', `ReplicaSet "${rsName}" is progressing.`),
      ],
    });
  }
}
