// The core/v1 resources the simulated API server serves, with what a real server publishes about
// them: kind, scope, selectable fields (the fields a fieldSelector may name), subresources.
import type { KubeObject } from './store.ts';

export interface ResourceDef {
  resource: string;
  kind: string;
  namespaced: boolean;
  subresources: readonly string[];
  shortNames?: readonly string[];
  /** field name -> value, for field selectors */
  fields(obj: KubeObject): Record<string, string>;
}

type Rec = Record<string, unknown>;
const rec = (v: unknown): Rec => (v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Rec) : {});
const s = (v: unknown): string => (typeof v === 'string' ? v : typeof v === 'boolean' || typeof v === 'number' ? String(v) : '');

function metaFields(obj: KubeObject, namespaced: boolean): Record<string, string> {
  return { 'metadata.name': obj.metadata?.name ?? '', ...(namespaced ? { 'metadata.namespace': obj.metadata?.namespace ?? '' } : {}) };
}

export const RESOURCES: Record<string, ResourceDef> = {
  namespaces: {
    resource: 'namespaces',
    kind: 'Namespace',
    namespaced: false,
    subresources: ['status', 'finalize'],
    shortNames: ['ns'],
    fields: (o) => ({ ...metaFields(o, false), 'status.phase': s(rec(o.status).phase) }),
  },
  pods: {
    resource: 'pods',
    kind: 'Pod',
    namespaced: true,
    subresources: ['status', 'log', 'exec', 'binding', 'eviction'],
    shortNames: ['po'],
    fields: (o) => {
      const spec = rec(o.spec);
      const status = rec(o.status);
      return {
        ...metaFields(o, true),
        'spec.nodeName': s(spec.nodeName),
        'spec.restartPolicy': s(spec.restartPolicy),
        'spec.schedulerName': s(spec.schedulerName),
        'spec.serviceAccountName': s(spec.serviceAccountName),
        'spec.hostNetwork': s(spec.hostNetwork ?? false),
        'status.phase': s(status.phase),
        'status.podIP': s(status.podIP),
        'status.nominatedNodeName': s(status.nominatedNodeName),
      };
    },
  },
  secrets: {
    resource: 'secrets',
    kind: 'Secret',
    namespaced: true,
    subresources: [],
    fields: (o) => ({ ...metaFields(o, true), type: s(o.type) }),
  },
  configmaps: {
    resource: 'configmaps',
    kind: 'ConfigMap',
    namespaced: true,
    subresources: [],
    shortNames: ['cm'],
    fields: (o) => metaFields(o, true),
  },
  serviceaccounts: {
    resource: 'serviceaccounts',
    kind: 'ServiceAccount',
    namespaced: true,
    subresources: ['token'],
    shortNames: ['sa'],
    fields: (o) => metaFields(o, true),
  },
  events: {
    resource: 'events',
    kind: 'Event',
    namespaced: true,
    subresources: [],
    shortNames: ['ev'],
    fields: (o) => {
      const involved = rec(o.involvedObject);
      const source = rec(o.source);
      return {
        ...metaFields(o, true),
        'involvedObject.kind': s(involved.kind),
        'involvedObject.namespace': s(involved.namespace),
        'involvedObject.name': s(involved.name),
        'involvedObject.uid': s(involved.uid),
        'involvedObject.apiVersion': s(involved.apiVersion),
        'involvedObject.resourceVersion': s(involved.resourceVersion),
        'involvedObject.fieldPath': s(involved.fieldPath),
        reason: s(o.reason),
        reportingComponent: s(o.reportingComponent),
        source: s(source.component),
        type: s(o.type),
      };
    },
  },
};

export function selectableFields(def: ResourceDef): string[] {
  return Object.keys(def.fields({ metadata: {} }));
}

/** The APIResourceList served at /api/v1 (what discovery and kubectl see). */
export function apiResourceList(): Rec {
  const verbsFor = (def: ResourceDef): string[] =>
    def.resource === 'events' || def.resource === 'pods' || def.resource === 'secrets' || def.resource === 'configmaps' || def.resource === 'serviceaccounts'
      ? ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch']
      : ['create', 'delete', 'get', 'list', 'patch', 'update', 'watch'];
  const resources: Rec[] = [];
  for (const def of Object.values(RESOURCES)) {
    resources.push({
      name: def.resource,
      singularName: def.kind.toLowerCase(),
      namespaced: def.namespaced,
      kind: def.kind,
      verbs: verbsFor(def),
      ...(def.shortNames ? { shortNames: def.shortNames } : {}),
    });
    for (const sub of def.subresources) {
      const verbs = sub === 'log' ? ['get'] : sub === 'exec' ? ['create', 'get'] : sub === 'binding' || sub === 'eviction' || sub === 'token' ? ['create'] : ['get', 'patch', 'update'];
      resources.push({ name: `${def.resource}/${sub}`, singularName: '', namespaced: def.namespaced, kind: sub === 'exec' ? 'PodExecOptions' : sub === 'log' ? 'Pod' : def.kind, verbs });
    }
  }
  return { kind: 'APIResourceList', groupVersion: 'v1', resources };
}
