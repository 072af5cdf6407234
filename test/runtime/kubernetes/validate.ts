// Validates Kubernetes objects as the API server would: the schema (kubernetes-models), plus the
// checks the schema has no words for (name and label syntax, container and volume references),
// which kubernetes-models does not make. Throws an Error listing every problem.
import { Namespace, Pod, Secret, Service, ServiceAccount } from 'kubernetes-models/v1';
import { Deployment } from 'kubernetes-models/apps/v1';
import { ClusterRole, Role, RoleBinding } from 'kubernetes-models/rbac.authorization.k8s.io/v1';

const DNS1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const DNS1123_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const QUALIFIED_NAME = /^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$/;
const LABEL_VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;

type Obj = Record<string, unknown> & { apiVersion?: string; kind?: string };

interface Validatable {
  validate(): void;
}

const MODELS: Record<string, (o: Obj) => Validatable> = {
  'v1/Pod': (o) => new Pod(o as never),
  'v1/Secret': (o) => new Secret(o as never),
  'v1/Service': (o) => new Service(o as never),
  'v1/ServiceAccount': (o) => new ServiceAccount(o as never),
  'v1/Namespace': (o) => new Namespace(o as never),
  'apps/v1/Deployment': (o) => new Deployment(o as never),
  'rbac.authorization.k8s.io/v1/Role': (o) => new Role(o as never),
  'rbac.authorization.k8s.io/v1/ClusterRole': (o) => new ClusterRole(o as never),
  'rbac.authorization.k8s.io/v1/RoleBinding': (o) => new RoleBinding(o as never),
};

export function isDns1123Label(name: string): boolean {
  return name.length <= 63 && DNS1123_LABEL.test(name);
}

export function isLabelValue(value: string): boolean {
  return value.length <= 63 && LABEL_VALUE.test(value);
}

export function isQualifiedKey(key: string): boolean {
  const slash = key.indexOf('/');
  const prefix = slash >= 0 ? key.slice(0, slash) : undefined;
  const name = slash >= 0 ? key.slice(slash + 1) : key;
  if (prefix !== undefined && (prefix.length > 253 || !DNS1123_SUBDOMAIN.test(prefix))) return false;
  return name.length <= 63 && QUALIFIED_NAME.test(name);
}

/** Throws when the object is not valid; returns it otherwise. */
export function assertValidObject<T extends object>(object: T): T {
  const o = object as Obj;
  const problems: string[] = [];
  const key = `${o.apiVersion ?? '?'}/${o.kind ?? '?'}`;
  const model = MODELS[key];
  if (!model) throw new Error(`no schema for ${key}`);
  try {
    model(JSON.parse(JSON.stringify(o)) as Obj).validate();
  } catch (err) {
    problems.push(`schema: ${err instanceof Error ? err.message : String(err)}`);
  }
  const meta = (o.metadata ?? {}) as { name?: string; namespace?: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  if (!meta.name || meta.name.length > 253 || !DNS1123_SUBDOMAIN.test(meta.name)) problems.push(`metadata.name '${meta.name}' is not a DNS-1123 subdomain`);
  if (meta.namespace !== undefined && !isDns1123Label(meta.namespace)) problems.push(`metadata.namespace '${meta.namespace}' is not a DNS-1123 label`);
  for (const [k, v] of Object.entries(meta.labels ?? {})) {
    if (!isQualifiedKey(k)) problems.push(`label key '${k}' is malformed`);
    if (!isLabelValue(v)) problems.push(`label ${k}: value '${v}' is malformed`);
  }
  for (const k of Object.keys(meta.annotations ?? {})) if (!isQualifiedKey(k)) problems.push(`annotation key '${k}' is malformed`);
  if (o.kind === 'Pod') problems.push(...podProblems(o));
  if (o.kind === 'Deployment') {
    const template = (o.spec as { template?: Obj } | undefined)?.template;
    if (template) problems.push(...podProblems(template));
  }
  if (o.kind === 'Secret' && o.type === 'kubernetes.io/dockerconfigjson') {
    const data = (o.data ?? {}) as Record<string, string>;
    const encoded = data['.dockerconfigjson'];
    try {
      const parsed = JSON.parse(Buffer.from(encoded ?? '', 'base64').toString('utf8')) as { auths?: unknown };
      if (typeof parsed.auths !== 'object' || parsed.auths === null) problems.push('.dockerconfigjson has no auths');
    } catch {
      problems.push('.dockerconfigjson is not base64 JSON');
    }
  }
  if (problems.length > 0) throw new Error(`${key} '${meta.name}' is invalid:\n  ${problems.join('\n  ')}`);
  return object;
}

interface ContainerLike {
  name?: string;
  image?: string;
  volumeMounts?: { name?: string; mountPath?: string }[];
  env?: { name?: string }[];
}

function podProblems(pod: Obj): string[] {
  const spec = (pod.spec ?? {}) as { containers?: ContainerLike[]; initContainers?: ContainerLike[]; volumes?: { name?: string }[]; restartPolicy?: string };
  const out: string[] = [];
  const volumes = new Set<string>();
  for (const v of spec.volumes ?? []) {
    if (!v.name || !isDns1123Label(v.name)) out.push(`volume name '${v.name}' is not a DNS-1123 label`);
    if (v.name && volumes.has(v.name)) out.push(`volume '${v.name}' is declared twice`);
    if (v.name) volumes.add(v.name);
  }
  const names = new Set<string>();
  const all = [...(spec.initContainers ?? []), ...(spec.containers ?? [])];
  if ((spec.containers ?? []).length === 0) out.push('a pod needs at least one container');
  for (const c of all) {
    if (!c.name || !isDns1123Label(c.name)) out.push(`container name '${c.name}' is not a DNS-1123 label`);
    if (c.name && names.has(c.name)) out.push(`container name '${c.name}' is used twice`);
    if (c.name) names.add(c.name);
    if (!c.image) out.push(`container '${c.name}' has no image`);
    const paths = new Set<string>();
    for (const m of c.volumeMounts ?? []) {
      if (!m.name || !volumes.has(m.name)) out.push(`container '${c.name}' mounts the undeclared volume '${m.name}'`);
      if (!m.mountPath?.startsWith('/')) out.push(`container '${c.name}': mountPath '${m.mountPath}' is not absolute`);
      if (m.mountPath && paths.has(m.mountPath)) out.push(`container '${c.name}': mountPath '${m.mountPath}' is used twice`);
      if (m.mountPath) paths.add(m.mountPath);
    }
    const envNames = new Set<string>();
    for (const e of c.env ?? []) {
      if (!e.name || e.name.includes('=')) out.push(`container '${c.name}': env name '${e.name}' is malformed`);
      if (e.name && envNames.has(e.name)) out.push(`container '${c.name}': env '${e.name}' is set twice`);
      if (e.name) envNames.add(e.name);
    }
  }
  return out;
}
