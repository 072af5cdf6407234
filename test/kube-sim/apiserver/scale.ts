// The scale subresource of Deployments and ReplicaSets (`kubectl scale`, a HorizontalPodAutoscaler):
// an autoscaling/v1 Scale of the object's spec.replicas and status.replicas, and writes that change
// spec.replicas only. Pure: the server reads and patches the object (server.ts).
import { errors } from './status.ts';
import type { KubeObject } from './store.ts';
import { selectorString } from './tables.ts';

type Rec = Record<string, unknown>;
const isRec = (v: unknown): v is Rec => v !== null && typeof v === 'object' && !Array.isArray(v);

/** The Scale of a Deployment or ReplicaSet. */
export function scaleOf(obj: KubeObject): KubeObject {
  const spec = isRec(obj.spec) ? obj.spec : {};
  const status = isRec(obj.status) ? obj.status : {};
  const m = obj.metadata ?? {};
  const selector = selectorString(spec.selector);
  return {
    kind: 'Scale',
    apiVersion: 'autoscaling/v1',
    metadata: { name: m.name, namespace: m.namespace, uid: m.uid, resourceVersion: m.resourceVersion, creationTimestamp: m.creationTimestamp },
    spec: { replicas: typeof spec.replicas === 'number' ? spec.replicas : 1 },
    status: { replicas: typeof status.replicas === 'number' ? status.replicas : 0, ...(selector !== '<none>' ? { selector } : {}) },
  };
}

/**
 * The replicas a Scale written by a client asks for; a 409 when it names another resourceVersion
 * than `current`'s, a 422 when spec.replicas is not a whole number of at least 0.
 */
export function replicasOf(scale: unknown, current: KubeObject, resource: string): number {
  const name = current.metadata?.name ?? '';
  const body = isRec(scale) ? scale : {};
  const meta = isRec(body.metadata) ? body.metadata : {};
  if (typeof meta.resourceVersion === 'string' && meta.resourceVersion !== '' && meta.resourceVersion !== current.metadata?.resourceVersion) {
    throw errors.conflict(resource, name, 'the object has been modified; please apply your changes to the latest version and try again');
  }
  const replicas = isRec(body.spec) ? body.spec.replicas : undefined;
  if (typeof replicas !== 'number' || !Number.isInteger(replicas) || replicas < 0) {
    throw errors.invalid('Scale', name, [{ reason: 'FieldValueInvalid', message: `Invalid value: ${JSON.stringify(replicas ?? null)}: must be greater than or equal to 0`, field: 'spec.replicas' }]);
  }
  return replicas;
}
