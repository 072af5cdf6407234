// The resources the simulated API server serves (core/v1, apps/v1, rbac.authorization.k8s.io/v1,
// authorization.k8s.io/v1), with what a real server publishes about them in discovery: group,
// version, kind, scope, verbs, short names, categories, selectable fields (the fields a
// fieldSelector may name), subresources. Resource names are unique across groups here.
import type { KubeObject } from './store.ts';

export interface ResourceDef {
  resource: string;
  /** API group ('' for core) and version */
  group?: string;
  version?: string;
  kind: string;
  /** what discovery lists (default: the full CRUD set) */
  verbs?: readonly string[];
  categories?: readonly string[];
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

const RBAC = 'rbac.authorization.k8s.io';
const AUTHZ = 'authorization.k8s.io';

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
    categories: ['all'],
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
  services: {
    resource: 'services',
    kind: 'Service',
    namespaced: true,
    subresources: ['status'],
    shortNames: ['svc'],
    categories: ['all'],
    verbs: ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch'],
    fields: (o) => ({ ...metaFields(o, true), 'spec.clusterIP': s(rec(o.spec).clusterIP), 'spec.type': s(rec(o.spec).type) }),
  },
  deployments: {
    resource: 'deployments',
    group: 'apps',
    kind: 'Deployment',
    namespaced: true,
    subresources: ['status', 'scale'],
    shortNames: ['deploy'],
    categories: ['all'],
    fields: (o) => metaFields(o, true),
  },
  replicasets: {
    resource: 'replicasets',
    group: 'apps',
    kind: 'ReplicaSet',
    namespaced: true,
    subresources: ['status', 'scale'],
    shortNames: ['rs'],
    categories: ['all'],
    fields: (o) => ({ ...metaFields(o, true), 'status.replicas': s(rec(o.status).replicas ?? 0) }),
  },
  roles: { resource: 'roles', group: RBAC, kind: 'Role', namespaced: true, subresources: [], fields: (o) => metaFields(o, true) },
  rolebindings: { resource: 'rolebindings', group: RBAC, kind: 'RoleBinding', namespaced: true, subresources: [], fields: (o) => metaFields(o, true) },
  clusterroles: { resource: 'clusterroles', group: RBAC, kind: 'ClusterRole', namespaced: false, subresources: [], fields: (o) => metaFields(o, false) },
  clusterrolebindings: { resource: 'clusterrolebindings', group: RBAC, kind: 'ClusterRoleBinding', namespaced: false, subresources: [], fields: (o) => metaFields(o, false) },
  selfsubjectaccessreviews: { resource: 'selfsubjectaccessreviews', group: AUTHZ, kind: 'SelfSubjectAccessReview', namespaced: false, subresources: [], verbs: ['create'], fields: (o) => metaFields(o, false) },
  selfsubjectrulesreviews: { resource: 'selfsubjectrulesreviews', group: AUTHZ, kind: 'SelfSubjectRulesReview', namespaced: false, subresources: [], verbs: ['create'], fields: (o) => metaFields(o, false) },
  subjectaccessreviews: { resource: 'subjectaccessreviews', group: AUTHZ, kind: 'SubjectAccessReview', namespaced: false, subresources: [], verbs: ['create'], fields: (o) => metaFields(o, false) },
  localsubjectaccessreviews: { resource: 'localsubjectaccessreviews', group: AUTHZ, kind: 'LocalSubjectAccessReview', namespaced: true, subresources: [], verbs: ['create'], fields: (o) => metaFields(o, true) },
};

export function selectableFields(def: ResourceDef): string[] {
  return Object.keys(def.fields({ metadata: {} }));
}

/** `v1`, `apps/v1`, ... */
export function apiVersionOf(def: ResourceDef): string {
  return def.group ? `${def.group}/${def.version ?? 'v1'}` : (def.version ?? 'v1');
}

/** The resource a path names, when it is served in that group and version. */
export function lookupResource(group: string, version: string, resource: string | undefined): ResourceDef | undefined {
  const def = resource ? RESOURCES[resource] : undefined;
  if (!def || (def.group ?? '') !== group || (def.version ?? 'v1') !== version) return undefined;
  return def;
}

/** The served group versions, core first ('' is core). */
export function servedGroups(): string[] {
  const groups: string[] = [];
  for (const def of Object.values(RESOURCES)) if (!groups.includes(def.group ?? '')) groups.push(def.group ?? '');
  return groups;
}

const CRUD = ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch'];

/** The APIResourceList served at /api/v1 or /apis/GROUP/v1 (what discovery and kubectl see). */
export function apiResourceList(group = ''): Rec {
  const resources: Rec[] = [];
  for (const def of Object.values(RESOURCES)) {
    if ((def.group ?? '') !== group) continue;
    resources.push({
      name: def.resource,
      singularName: def.kind.toLowerCase(),
      namespaced: def.namespaced,
      kind: def.kind,
      verbs: def.verbs ?? (def.resource === 'namespaces' ? CRUD.filter((v) => v !== 'deletecollection') : CRUD),
      ...(def.shortNames ? { shortNames: def.shortNames } : {}),
      ...(def.categories ? { categories: def.categories } : {}),
    });
    for (const sub of def.subresources) {
      const verbs = sub === 'log' ? ['get'] : sub === 'exec' ? ['create', 'get'] : sub === 'binding' || sub === 'eviction' || sub === 'token' ? ['create'] : ['get', 'patch', 'update'];
      const kind = sub === 'exec' ? 'PodExecOptions' : sub === 'log' ? 'Pod' : sub === 'scale' ? 'Scale' : sub === 'token' ? 'TokenRequest' : sub === 'eviction' ? 'Eviction' : sub === 'binding' ? 'Binding' : def.kind;
      resources.push({
        name: `${def.resource}/${sub}`,
        singularName: '',
        namespaced: def.namespaced,
        ...(sub === 'scale' ? { group: 'autoscaling', version: 'v1' } : sub === 'token' ? { group: 'authentication.k8s.io', version: 'v1' } : sub === 'eviction' ? { group: 'policy', version: 'v1' } : {}),
        kind,
        verbs,
      });
    }
  }
  return { kind: 'APIResourceList', apiVersion: 'v1', groupVersion: group ? `${group}/v1` : 'v1', resources };
}

/** The APIGroup for /apis/GROUP and the APIGroupList's entries. */
export function apiGroup(group: string): Rec {
  const gv = { groupVersion: `${group}/v1`, version: 'v1' };
  return { kind: 'APIGroup', apiVersion: 'v1', name: group, versions: [gv], preferredVersion: gv };
}
