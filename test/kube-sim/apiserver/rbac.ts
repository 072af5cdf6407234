// RBAC as kube-apiserver's authorizer chain does it (k8s.io/kubernetes/plugin/pkg/auth/authorizer/rbac):
// the system:masters group is always allowed (the privileged-group authorizer that runs first);
// everyone else is allowed what the Roles and ClusterRoles bound to their name, groups or service
// account grant, read from the store at each request (so a binding applies at once, as the real
// authorizer's informers make it apply within moments). Also the bootstrap policy a new cluster has
// (cluster-admin, admin, edit, view, system:discovery, system:basic-user, system:public-info-viewer)
// and the answers of SelfSubjectAccessReview, SubjectAccessReview and SelfSubjectRulesReview.
import type { ObjectStore, KubeObject } from './store.ts';

export interface UserInfo {
  username: string;
  groups: string[];
  uid?: string;
}

/** What a request asks to do (authorizer.Attributes). */
export interface Attributes {
  verb: string;
  /** a resource request (false: a non-resource URL such as /healthz) */
  resourceRequest: boolean;
  group?: string;
  resource?: string;
  subresource?: string;
  namespace?: string;
  name?: string;
  /** the URL path of a non-resource request */
  path?: string;
}

export interface Decision {
  allowed: boolean;
  reason: string;
}

export interface RbacRule {
  verbs?: string[];
  apiGroups?: string[];
  resources?: string[];
  resourceNames?: string[];
  nonResourceURLs?: string[];
}

interface Subject {
  kind?: string;
  name?: string;
  namespace?: string;
}

type Rec = Record<string, unknown>;
const isRec = (v: unknown): v is Rec => v !== null && typeof v === 'object' && !Array.isArray(v);
const strings = (v: unknown): string[] => (Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : []);

export const SYSTEM_MASTERS = 'system:masters';
export const RBAC_GROUP = 'rbac.authorization.k8s.io';

/** `system:serviceaccount:NS:NAME` -> [NS, NAME] */
export function serviceAccountOf(username: string): [string, string] | undefined {
  const m = /^system:serviceaccount:([^:]+):([^:]+)$/.exec(username);
  return m?.[1] && m[2] ? [m[1], m[2]] : undefined;
}

/** The groups the authenticator adds: service accounts' groups, then system:authenticated. */
export function withImplicitGroups(username: string, groups: string[]): string[] {
  const out = [...groups];
  const sa = serviceAccountOf(username);
  if (sa) out.push('system:serviceaccounts', `system:serviceaccounts:${sa[0]}`);
  if (username !== 'system:anonymous') out.push('system:authenticated');
  return [...new Set(out)];
}

function ruleAllows(rule: RbacRule, a: Attributes): boolean {
  const verbs = strings(rule.verbs);
  if (!verbs.includes('*') && !verbs.includes(a.verb)) return false;
  if (!a.resourceRequest) {
    return strings(rule.nonResourceURLs).some((u) => u === '*' || u === a.path || (u.endsWith('*') && (a.path ?? '').startsWith(u.slice(0, -1))));
  }
  const groups = strings(rule.apiGroups);
  if (!groups.includes('*') && !groups.includes(a.group ?? '')) return false;
  const combined = a.subresource ? `${a.resource ?? ''}/${a.subresource}` : (a.resource ?? '');
  const resources = strings(rule.resources);
  if (!resources.some((r) => r === '*' || r === combined || (a.subresource !== undefined && r === `*/${a.subresource}`))) return false;
  const names = strings(rule.resourceNames);
  return names.length === 0 || (a.name !== undefined && a.name !== '' && names.includes(a.name));
}

function subjectMatches(s: Subject, user: UserInfo, bindingNamespace: string | undefined): boolean {
  switch (s.kind) {
    case 'User':
      return s.name === user.username;
    case 'Group':
      return s.name !== undefined && user.groups.includes(s.name);
    case 'ServiceAccount': {
      const ns = s.namespace || bindingNamespace;
      return ns !== undefined && user.username === `system:serviceaccount:${ns}:${s.name ?? ''}`;
    }
    default:
      return false;
  }
}

function rulesOf(role: KubeObject | undefined): RbacRule[] {
  return role && Array.isArray(role.rules) ? (role.rules.filter(isRec) as RbacRule[]) : [];
}

/** The rules that apply to `user` in `namespace` (undefined: cluster-wide bindings only), each with where it came from. */
export function rulesFor(store: ObjectStore, user: UserInfo, namespace: string | undefined): { rule: RbacRule; source: string }[] {
  const out: { rule: RbacRule; source: string }[] = [];
  const bound = (b: KubeObject): boolean => (Array.isArray(b.subjects) ? (b.subjects.filter(isRec) as Subject[]) : []).some((s) => subjectMatches(s, user, b.metadata?.namespace));
  for (const b of store.list('clusterrolebindings')) {
    if (!bound(b)) continue;
    const ref = isRec(b.roleRef) ? b.roleRef : {};
    if (ref.kind !== 'ClusterRole') continue;
    for (const rule of rulesOf(store.get('clusterroles', undefined, String(ref.name)))) out.push({ rule, source: `ClusterRoleBinding "${b.metadata?.name ?? ''}" of ClusterRole "${String(ref.name)}"` });
  }
  if (namespace) {
    for (const b of store.list('rolebindings', namespace)) {
      if (!bound(b)) continue;
      const ref = isRec(b.roleRef) ? b.roleRef : {};
      const role = ref.kind === 'ClusterRole' ? store.get('clusterroles', undefined, String(ref.name)) : ref.kind === 'Role' ? store.get('roles', namespace, String(ref.name)) : undefined;
      for (const rule of rulesOf(role)) out.push({ rule, source: `RoleBinding "${b.metadata?.name ?? ''}/${namespace}" of ${String(ref.kind)} "${String(ref.name)}"` });
    }
  }
  return out;
}

export function authorize(store: ObjectStore, user: UserInfo, a: Attributes): Decision {
  if (user.groups.includes(SYSTEM_MASTERS)) return { allowed: true, reason: '' };
  const namespace = a.resourceRequest ? a.namespace : undefined;
  for (const { rule, source } of rulesFor(store, user, namespace)) {
    if (ruleAllows(rule, a)) return { allowed: true, reason: `RBAC: allowed by ${source}` };
  }
  return { allowed: false, reason: '' };
}

/** The 403 message of the RBAC authorizer. */
export function forbiddenMessage(user: UserInfo, a: Attributes): string {
  if (!a.resourceRequest) return `forbidden: User "${user.username}" cannot ${a.verb} path "${a.path ?? ''}"`;
  const combined = a.subresource ? `${a.resource ?? ''}/${a.subresource}` : (a.resource ?? '');
  const subject = `${a.resource ?? ''}${a.group ? `.${a.group}` : ''}${a.name ? ` "${a.name}"` : ''}`;
  const scope = a.namespace ? `in the namespace "${a.namespace}"` : 'at the cluster scope';
  return `${subject} is forbidden: User "${user.username}" cannot ${a.verb} resource "${combined}" in API group "${a.group ?? ''}" ${scope}`;
}

const ALL_VERBS = ['get', 'list', 'watch', 'create', 'update', 'patch', 'delete', 'deletecollection'];
const READ = ['get', 'list', 'watch'];

function clusterRole(name: string, rules: RbacRule[]): KubeObject {
  return {
    metadata: { name, labels: { 'kubernetes.io/bootstrapping': 'rbac-defaults' }, annotations: { 'rbac.authorization.kubernetes.io/autoupdate': 'true' } },
    rules,
  };
}

function clusterRoleBinding(name: string, role: string, subjects: Subject[]): KubeObject {
  return {
    metadata: { name, labels: { 'kubernetes.io/bootstrapping': 'rbac-defaults' }, annotations: { 'rbac.authorization.kubernetes.io/autoupdate': 'true' } },
    roleRef: { apiGroup: RBAC_GROUP, kind: 'ClusterRole', name: role },
    subjects: subjects.map((s) => ({ apiGroup: RBAC_GROUP, ...s })),
  };
}

/** The bootstrap policy of a new cluster (a subset: the roles users bind to and the ones every user has). */
export function bootstrapPolicy(): { clusterroles: KubeObject[]; clusterrolebindings: KubeObject[] } {
  const workloads = ['pods', 'pods/log', 'pods/status', 'services', 'configmaps', 'secrets', 'serviceaccounts', 'events'];
  const apps = ['deployments', 'deployments/scale', 'deployments/status', 'replicasets', 'replicasets/scale', 'replicasets/status'];
  return {
    clusterroles: [
      clusterRole('cluster-admin', [
        { apiGroups: ['*'], resources: ['*'], verbs: ['*'] },
        { nonResourceURLs: ['*'], verbs: ['*'] },
      ]),
      clusterRole('admin', [
        { apiGroups: [''], resources: [...workloads, 'pods/exec', 'pods/eviction', 'serviceaccounts/token'], verbs: [...ALL_VERBS] },
        { apiGroups: ['apps'], resources: apps, verbs: [...ALL_VERBS] },
        { apiGroups: [RBAC_GROUP], resources: ['roles', 'rolebindings'], verbs: [...ALL_VERBS] },
        { apiGroups: ['authorization.k8s.io'], resources: ['localsubjectaccessreviews'], verbs: ['create'] },
        { apiGroups: [''], resources: ['namespaces'], verbs: READ },
      ]),
      clusterRole('edit', [
        { apiGroups: [''], resources: [...workloads, 'pods/exec', 'pods/eviction', 'serviceaccounts/token'], verbs: [...ALL_VERBS] },
        { apiGroups: ['apps'], resources: apps, verbs: [...ALL_VERBS] },
        { apiGroups: [''], resources: ['namespaces'], verbs: READ },
      ]),
      clusterRole('view', [
        { apiGroups: [''], resources: workloads.filter((r) => r !== 'secrets'), verbs: READ },
        { apiGroups: ['apps'], resources: apps, verbs: READ },
        { apiGroups: [''], resources: ['namespaces'], verbs: READ },
      ]),
      clusterRole('system:discovery', [{ nonResourceURLs: ['/api', '/api/*', '/apis', '/apis/*', '/healthz', '/livez', '/openapi', '/openapi/*', '/readyz', '/version', '/version/'], verbs: ['get'] }]),
      clusterRole('system:basic-user', [{ apiGroups: ['authorization.k8s.io'], resources: ['selfsubjectaccessreviews', 'selfsubjectrulesreviews'], verbs: ['create'] }]),
      clusterRole('system:public-info-viewer', [{ nonResourceURLs: ['/healthz', '/livez', '/readyz', '/version', '/version/'], verbs: ['get'] }]),
    ],
    clusterrolebindings: [
      clusterRoleBinding('cluster-admin', 'cluster-admin', [{ kind: 'Group', name: SYSTEM_MASTERS }]),
      clusterRoleBinding('system:discovery', 'system:discovery', [{ kind: 'Group', name: 'system:authenticated' }]),
      clusterRoleBinding('system:basic-user', 'system:basic-user', [{ kind: 'Group', name: 'system:authenticated' }]),
      clusterRoleBinding('system:public-info-viewer', 'system:public-info-viewer', [
        { kind: 'Group', name: 'system:authenticated' },
        { kind: 'Group', name: 'system:unauthenticated' },
      ]),
    ],
  };
}

/** status of a SelfSubjectAccessReview / SubjectAccessReview for `user` and the review's spec. */
export function reviewStatus(store: ObjectStore, user: UserInfo, spec: Rec): { allowed: boolean; reason?: string; denied?: boolean } {
  const ra = isRec(spec.resourceAttributes) ? spec.resourceAttributes : undefined;
  const nra = isRec(spec.nonResourceAttributes) ? spec.nonResourceAttributes : undefined;
  const s = (v: unknown): string | undefined => (typeof v === 'string' && v !== '' ? v : undefined);
  const attrs: Attributes = ra
    ? {
        resourceRequest: true,
        verb: s(ra.verb) ?? '',
        group: s(ra.group) ?? '',
        ...(s(ra.resource) ? { resource: s(ra.resource) } : {}),
        ...(s(ra.subresource) ? { subresource: s(ra.subresource) } : {}),
        ...(s(ra.namespace) ? { namespace: s(ra.namespace) } : {}),
        ...(s(ra.name) ? { name: s(ra.name) } : {}),
      }
    : { resourceRequest: false, verb: s(nra?.verb) ?? '', path: s(nra?.path) ?? '' };
  const d = authorize(store, user, attrs);
  return d.allowed ? { allowed: true, ...(d.reason ? { reason: d.reason } : {}) } : { allowed: false };
}

/** status of a SelfSubjectRulesReview (`kubectl auth can-i --list`). */
export function rulesReviewStatus(store: ObjectStore, user: UserInfo, namespace: string | undefined): Rec {
  const rules = user.groups.includes(SYSTEM_MASTERS)
    ? bootstrapPolicy().clusterroles[0]?.rules as RbacRule[]
    : rulesFor(store, user, namespace).map((r) => r.rule);
  return {
    resourceRules: rules.filter((r) => strings(r.nonResourceURLs).length === 0).map((r) => ({ verbs: strings(r.verbs), apiGroups: strings(r.apiGroups), resources: strings(r.resources), ...(r.resourceNames ? { resourceNames: strings(r.resourceNames) } : {}) })),
    nonResourceRules: rules.filter((r) => strings(r.nonResourceURLs).length > 0).map((r) => ({ verbs: strings(r.verbs), nonResourceURLs: strings(r.nonResourceURLs) })),
    incomplete: false,
  };
}
