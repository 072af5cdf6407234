// Validation of every object the API server receives, in two layers like a real server:
//  1. the OpenAPI schema (through `kubernetes-models`, whose `validate()` runs the published
//     Kubernetes schema with ajv): a wrong JSON type is a decoding error (400 BadRequest, as the
//     real server's JSON decoder reports it), a missing required field or an unsupported enum value
//     is 422 Invalid naming the field;
//  2. the server's own rules (k8s.io/kubernetes/pkg/apis/core/validation, the parts a client can
//     reach here): object names (DNS-1123 subdomain / label), label keys and values, container
//     names and images, volume mounts, secret types (`kubernetes.io/dockerconfigjson` needs a
//     valid `.dockerconfigjson`), pod spec immutability on update.
// Every 422 carries `details.causes` with `field`, `reason` and `message`, as field.ErrorList does.
import { ConfigMap, Event, Namespace, Pod, Secret, Service, ServiceAccount } from 'kubernetes-models/v1';
import { Deployment, ReplicaSet } from 'kubernetes-models/apps/v1';
import { ClusterRole, ClusterRoleBinding, Role, RoleBinding } from 'kubernetes-models/rbac.authorization.k8s.io/v1';
import { errors, type StatusCause } from './status.ts';
import type { KubeObject } from './store.ts';

const DNS1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const DNS1123_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const QUALIFIED_NAME = /^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$/;
const CONFIG_KEY = /^[-._a-zA-Z0-9]+$/;

const DNS1123_LABEL_MSG =
  "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')";
const DNS1123_SUBDOMAIN_MSG =
  "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')";
const QUALIFIED_NAME_MSG =
  "name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')";
const LABEL_VALUE_MSG =
  "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')";

export function validateDns1123Label(value: string): string[] {
  const out: string[] = [];
  if (value.length > 63) out.push('must be no more than 63 characters');
  if (!DNS1123_LABEL.test(value)) out.push(DNS1123_LABEL_MSG);
  return out;
}

export function validateDns1123Subdomain(value: string): string[] {
  const out: string[] = [];
  if (value.length > 253) out.push('must be no more than 253 characters');
  if (!DNS1123_SUBDOMAIN.test(value)) out.push(DNS1123_SUBDOMAIN_MSG);
  return out;
}

export function validateLabelKey(key: string): string[] {
  const slash = key.indexOf('/');
  const prefix = slash >= 0 ? key.slice(0, slash) : undefined;
  const name = slash >= 0 ? key.slice(slash + 1) : key;
  const out: string[] = [];
  if (prefix !== undefined) {
    if (prefix === '') out.push('prefix part must be non-empty');
    else out.push(...validateDns1123Subdomain(prefix).map((m) => `prefix part ${m}`));
  }
  if (name === '') out.push('name part must be non-empty');
  else {
    if (name.length > 63) out.push('name part must be no more than 63 characters');
    if (!QUALIFIED_NAME.test(name)) out.push(QUALIFIED_NAME_MSG);
  }
  return out;
}

export function validateLabelValue(value: string): string[] {
  const out: string[] = [];
  if (value.length > 63) out.push('must be no more than 63 characters');
  if (value !== '' && !QUALIFIED_NAME.test(value)) out.push(LABEL_VALUE_MSG);
  return out;
}

// --- causes (field.Error) ---

function quote(value: unknown): string {
  return typeof value === 'string' ? JSON.stringify(value) : JSON.stringify(value) ?? 'null';
}
const required = (field: string): StatusCause => ({ reason: 'FieldValueRequired', message: 'Required value', field });
const invalid = (field: string, value: unknown, detail: string): StatusCause => ({
  reason: 'FieldValueInvalid',
  message: `Invalid value: ${quote(value)}: ${detail}`,
  field,
});
const notSupported = (field: string, value: unknown, supported: readonly string[]): StatusCause => ({
  reason: 'FieldValueNotSupported',
  message: `Unsupported value: ${quote(value)}: supported values: ${supported.map((s) => `"${s}"`).join(', ')}`,
  field,
});
const duplicate = (field: string, value: unknown): StatusCause => ({ reason: 'FieldValueDuplicate', message: `Duplicate value: ${quote(value)}`, field });
const notFound = (field: string, value: unknown): StatusCause => ({ reason: 'FieldValueNotFound', message: `Not found: ${quote(value)}`, field });
const forbidden = (field: string, detail: string): StatusCause => ({ reason: 'FieldValueForbidden', message: `Forbidden: ${detail}`, field });

// --- the OpenAPI schema through kubernetes-models ---

interface AjvError {
  instancePath: string;
  keyword: string;
  params: Record<string, unknown>;
  message?: string;
}

type ModelClass = new (data: never) => { validate(): void };

const MODELS: Record<string, ModelClass> = {
  Pod: Pod as unknown as ModelClass,
  Secret: Secret as unknown as ModelClass,
  ServiceAccount: ServiceAccount as unknown as ModelClass,
  Namespace: Namespace as unknown as ModelClass,
  Event: Event as unknown as ModelClass,
  ConfigMap: ConfigMap as unknown as ModelClass,
  Service: Service as unknown as ModelClass,
  Deployment: Deployment as unknown as ModelClass,
  ReplicaSet: ReplicaSet as unknown as ModelClass,
  Role: Role as unknown as ModelClass,
  ClusterRole: ClusterRole as unknown as ModelClass,
  RoleBinding: RoleBinding as unknown as ModelClass,
  ClusterRoleBinding: ClusterRoleBinding as unknown as ModelClass,
};

/** `/spec/containers/0/image` -> `spec.containers[0].image` (field.Path's string form). */
export function fieldPath(pointer: string, extra?: string): string {
  const segments = pointer.split('/').slice(1).map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'));
  if (extra !== undefined) segments.push(extra);
  let out = '';
  for (const s of segments) {
    if (/^\d+$/.test(s)) out += `[${s}]`;
    else if (/^[A-Za-z_][A-Za-z0-9_]*$/.test(s)) out += out === '' ? s : `.${s}`;
    else out += `[${s}]`;
  }
  return out;
}

function valueAt(obj: unknown, pointer: string): unknown {
  let cur: unknown = obj;
  for (const s of pointer.split('/').slice(1)) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = (cur as Record<string, unknown>)[s];
  }
  return cur;
}

function isAjvErrorList(value: unknown): value is AjvError[] {
  return Array.isArray(value) && value.every((e) => e !== null && typeof e === 'object' && typeof (e as AjvError).instancePath === 'string');
}

function schemaCheck(kind: string, obj: KubeObject): void {
  const Model = MODELS[kind];
  if (!Model) return;
  try {
    // The models fill apiVersion/kind themselves; validate the object as received.
    new Model(obj as never).validate();
  } catch (err) {
    const list = (err as { errors?: unknown }).errors;
    if (!isAjvErrorList(list)) throw err;
    const typeError = list.find((e) => e.keyword === 'type');
    if (typeError) {
      const expected = String(typeError.params.type ?? 'value');
      const got = valueAt(obj, typeError.instancePath);
      const gotType = Array.isArray(got) ? 'array' : got === null ? 'null' : typeof got;
      throw errors.badRequest(
        `${kind} in version "${String(obj.apiVersion ?? 'v1').split('/').pop() ?? 'v1'}" cannot be handled as a ${kind}: json: cannot unmarshal ${gotType} into Go struct field ${fieldPath(typeError.instancePath)} of type ${expected}`,
      );
    }
    const causes = list.map((e): StatusCause => {
      const value = valueAt(obj, e.instancePath);
      if (e.keyword === 'required') return required(fieldPath(e.instancePath, String(e.params.missingProperty)));
      if (e.keyword === 'enum') {
        const allowed = Array.isArray(e.params.allowedValues) ? e.params.allowedValues.map(String) : [];
        return notSupported(fieldPath(e.instancePath), value, allowed);
      }
      return invalid(fieldPath(e.instancePath), value, e.message ?? e.keyword);
    });
    throw errors.invalid(kind, objName(obj), dedupe(causes));
  }
}

function dedupe(causes: StatusCause[]): StatusCause[] {
  const seen = new Set<string>();
  return causes.filter((c) => {
    const key = `${c.field}|${c.message}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

function objName(obj: KubeObject): string {
  return obj.metadata?.name ?? obj.metadata?.generateName ?? '';
}

// --- the server's own rules ---

type Rec = Record<string, unknown>;
const isRec = (v: unknown): v is Rec => v !== null && typeof v === 'object' && !Array.isArray(v);
const arr = (v: unknown): Rec[] => (Array.isArray(v) ? v.filter(isRec) : []);
const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);

function metadataCauses(obj: KubeObject, nameRule: 'subdomain' | 'label', namespaced: boolean): StatusCause[] {
  const causes: StatusCause[] = [];
  const meta = obj.metadata ?? {};
  const name = meta.name;
  if (!name) {
    if (!meta.generateName) causes.push({ ...required('metadata.name'), message: 'Required value: name or generateName is required' });
  } else {
    const problems = nameRule === 'label' ? validateDns1123Label(name) : validateDns1123Subdomain(name);
    for (const p of problems) causes.push(invalid('metadata.name', name, p));
  }
  if (namespaced && meta.namespace !== undefined && meta.namespace !== '') {
    for (const p of validateDns1123Label(meta.namespace)) causes.push(invalid('metadata.namespace', meta.namespace, p));
  }
  for (const [k, v] of Object.entries(meta.labels ?? {})) {
    for (const p of validateLabelKey(k)) causes.push(invalid('metadata.labels', k, p));
    for (const p of validateLabelValue(String(v))) causes.push(invalid('metadata.labels', v, p));
  }
  for (const k of Object.keys(meta.annotations ?? {})) {
    for (const p of validateLabelKey(k.toLowerCase())) causes.push(invalid('metadata.annotations', k, p));
  }
  const annotationBytes = Object.entries(meta.annotations ?? {}).reduce((n, [k, v]) => n + k.length + String(v).length, 0);
  if (annotationBytes > 256 * 1024) {
    causes.push({ reason: 'FieldValueTooLong', message: 'Too long: must have at most 262144 bytes', field: 'metadata.annotations' });
  }
  return causes;
}

const RESTART_POLICIES = ['Always', 'OnFailure', 'Never'] as const;
const PULL_POLICIES = ['Always', 'IfNotPresent', 'Never'] as const;

function containerCauses(containers: Rec[], path: string, names: Set<string>, volumes: Set<string>, isInit: boolean): StatusCause[] {
  const causes: StatusCause[] = [];
  containers.forEach((c, i) => {
    const p = `${path}[${i}]`;
    const name = str(c.name);
    if (!name) causes.push(required(`${p}.name`));
    else {
      for (const problem of validateDns1123Label(name)) causes.push(invalid(`${p}.name`, name, problem));
      if (names.has(name)) causes.push(duplicate(`${p}.name`, name));
      names.add(name);
    }
    const image = str(c.image);
    if (!image || image.trim() === '') causes.push(required(`${p}.image`));
    else if (image !== image.trim()) causes.push(invalid(`${p}.image`, image, 'must not have leading or trailing whitespace'));
    const pull = c.imagePullPolicy;
    if (pull !== undefined && !PULL_POLICIES.includes(pull as never)) causes.push(notSupported(`${p}.imagePullPolicy`, pull, PULL_POLICIES));
    arr(c.volumeMounts).forEach((m, j) => {
      const mp = `${p}.volumeMounts[${j}]`;
      const mname = str(m.name);
      if (!mname) causes.push(required(`${mp}.name`));
      else if (!volumes.has(mname)) causes.push(notFound(`${mp}.name`, mname));
      if (!str(m.mountPath)) causes.push(required(`${mp}.mountPath`));
    });
    arr(c.env).forEach((e, j) => {
      if (!str(e.name)) causes.push(required(`${p}.env[${j}].name`));
    });
    const restart = c.restartPolicy;
    if (restart !== undefined) {
      if (!isInit) causes.push(forbidden(`${p}.restartPolicy`, 'may not be set for non init containers'));
      else if (restart !== 'Always') causes.push(notSupported(`${p}.restartPolicy`, restart, ['Always']));
    }
  });
  return causes;
}

function podCauses(obj: KubeObject): StatusCause[] {
  const spec = isRec(obj.spec) ? obj.spec : undefined;
  if (!spec) return [required('spec')];
  const causes: StatusCause[] = [];
  const volumes = new Set<string>();
  arr(spec.volumes).forEach((v, i) => {
    const name = str(v.name);
    if (!name) causes.push(required(`spec.volumes[${i}].name`));
    else {
      for (const p of validateDns1123Label(name)) causes.push(invalid(`spec.volumes[${i}].name`, name, p));
      if (volumes.has(name)) causes.push(duplicate(`spec.volumes[${i}].name`, name));
      volumes.add(name);
    }
  });
  const names = new Set<string>();
  const containers = arr(spec.containers);
  if (containers.length === 0) causes.push(required('spec.containers'));
  causes.push(...containerCauses(arr(spec.initContainers), 'spec.initContainers', names, volumes, true));
  causes.push(...containerCauses(containers, 'spec.containers', names, volumes, false));
  if (spec.restartPolicy !== undefined && !RESTART_POLICIES.includes(spec.restartPolicy as never)) {
    causes.push(notSupported('spec.restartPolicy', spec.restartPolicy, RESTART_POLICIES));
  }
  if (typeof spec.activeDeadlineSeconds === 'number' && spec.activeDeadlineSeconds <= 0) {
    causes.push(invalid('spec.activeDeadlineSeconds', spec.activeDeadlineSeconds, 'must be between 1 and 2147483647, inclusive'));
  }
  if (typeof spec.terminationGracePeriodSeconds === 'number' && spec.terminationGracePeriodSeconds < 0) {
    causes.push(invalid('spec.terminationGracePeriodSeconds', spec.terminationGracePeriodSeconds, 'must be greater than or equal to 0'));
  }
  arr(spec.imagePullSecrets).forEach((s, i) => {
    const name = str(s.name);
    if (name !== undefined && name !== '') for (const p of validateDns1123Subdomain(name)) causes.push(invalid(`spec.imagePullSecrets[${i}].name`, name, p));
  });
  const sa = str(spec.serviceAccountName);
  if (sa) for (const p of validateDns1123Subdomain(sa)) causes.push(invalid('spec.serviceAccountName', sa, p));
  return causes;
}

function dataKeyCauses(data: unknown, field: string): StatusCause[] {
  if (!isRec(data)) return [];
  const causes: StatusCause[] = [];
  for (const key of Object.keys(data)) {
    if (key.length > 253 || !CONFIG_KEY.test(key) || key === '.' || key === '..') {
      causes.push(invalid(field, key, "a valid config key must consist of alphanumeric characters, '-', '_' or '.' (e.g. 'key.name',  or 'KEY_NAME',  or 'key-name', regex used for validation is '[-._a-zA-Z0-9]+')"));
    }
  }
  return causes;
}

/** Secret data values are base64 in JSON; anything else fails to decode (400), as on a real server. */
function checkSecretEncoding(obj: KubeObject): void {
  const data = obj.data;
  if (!isRec(data)) return;
  for (const [k, v] of Object.entries(data)) {
    if (typeof v !== 'string' || !/^[A-Za-z0-9+/]*={0,2}$/.test(v) || v.length % 4 !== 0) {
      throw errors.badRequest(`Secret in version "v1" cannot be handled as a Secret: illegal base64 data at input byte 0 (data[${k}])`);
    }
  }
}

const DOCKER_KEYS: Record<string, string> = { 'kubernetes.io/dockerconfigjson': '.dockerconfigjson', 'kubernetes.io/dockercfg': '.dockercfg' };

function secretCauses(obj: KubeObject): StatusCause[] {
  const causes = dataKeyCauses(obj.data, 'data');
  const type = str(obj.type) ?? 'Opaque';
  const data = isRec(obj.data) ? obj.data : {};
  const key = DOCKER_KEYS[type];
  if (key) {
    const raw = data[key];
    if (typeof raw !== 'string') causes.push(required(`data[${key}]`));
    else {
      const text = Buffer.from(raw, 'base64').toString('utf8');
      try {
        const parsed: unknown = JSON.parse(text);
        if (!isRec(parsed)) throw new Error('json: cannot unmarshal into Go value of type credentialprovider.DockerConfigJSON');
        if (type === 'kubernetes.io/dockerconfigjson' && parsed.auths !== undefined && !isRec(parsed.auths)) {
          throw new Error('json: cannot unmarshal into Go struct field DockerConfigJSON.auths');
        }
      } catch (err) {
        causes.push(invalid(`data[${key}]`, '<secret contents redacted>', (err as Error).message));
      }
    }
  }
  if (type === 'kubernetes.io/basic-auth' && data.username === undefined && data.password === undefined) {
    causes.push(required('data[username]'));
  }
  if (type === 'kubernetes.io/service-account-token') {
    const ann = obj.metadata?.annotations ?? {};
    if (!ann['kubernetes.io/service-account.name']) causes.push(required('metadata.annotations[kubernetes.io/service-account.name]'));
  }
  return causes;
}

function eventCauses(obj: KubeObject, namespace: string | undefined): StatusCause[] {
  const causes: StatusCause[] = [];
  const involved = isRec(obj.involvedObject) ? obj.involvedObject : undefined;
  if (!involved) causes.push(required('involvedObject'));
  else if (namespace && involved.namespace !== undefined && involved.namespace !== namespace) {
    causes.push(invalid('involvedObject.namespace', involved.namespace, 'does not match event.namespace'));
  }
  return causes;
}

/** RBAC names are path segments (ValidateRBACName), not DNS names: `system:discovery` is valid. */
function rbacCauses(kind: string, obj: KubeObject): StatusCause[] {
  const causes: StatusCause[] = [];
  const name = obj.metadata?.name;
  if (!name) causes.push({ ...required('metadata.name'), message: 'Required value: name or generateName is required' });
  else if (name === '.' || name === '..' || name.includes('/') || name.includes('%')) causes.push(invalid('metadata.name', name, 'may not contain \'/\' or \'%\', or be \'.\' or \'..\''));
  if (kind === 'RoleBinding' || kind === 'ClusterRoleBinding') {
    const ref = isRec(obj.roleRef) ? obj.roleRef : {};
    const allowed = kind === 'RoleBinding' ? ['Role', 'ClusterRole'] : ['ClusterRole'];
    if (!str(ref.name)) causes.push(required('roleRef.name'));
    if (!allowed.includes(str(ref.kind) ?? '')) causes.push(notSupported('roleRef.kind', ref.kind ?? '', allowed));
    if (ref.apiGroup !== 'rbac.authorization.k8s.io') causes.push(notSupported('roleRef.apiGroup', ref.apiGroup ?? '', ['rbac.authorization.k8s.io']));
    arr(obj.subjects).forEach((s, i) => {
      const k = str(s.kind);
      if (!['ServiceAccount', 'User', 'Group'].includes(k ?? '')) causes.push(notSupported(`subjects[${i}].kind`, k ?? '', ['ServiceAccount', 'User', 'Group']));
      if (!str(s.name)) causes.push(required(`subjects[${i}].name`));
      if (k === 'ServiceAccount' && kind === 'ClusterRoleBinding' && !str(s.namespace)) causes.push(required(`subjects[${i}].namespace`));
    });
  } else {
    arr(obj.rules).forEach((r, i) => {
      if (strings(r.verbs).length === 0) causes.push(required(`rules[${i}].verbs`));
      if (strings(r.nonResourceURLs).length > 0 && kind === 'Role') causes.push(invalid(`rules[${i}].nonResourceURLs`, strings(r.nonResourceURLs), 'namespaced rules cannot apply to non-resource URLs'));
      if (strings(r.nonResourceURLs).length === 0 && strings(r.resources).length === 0) causes.push(required(`rules[${i}].resources`));
    });
  }
  return causes;
}

const strings = (v: unknown): string[] => (Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : []);

/** A Deployment's or ReplicaSet's selector must select its template (ValidateDeploymentSpec). */
function workloadCauses(obj: KubeObject): StatusCause[] {
  const causes: StatusCause[] = [];
  const spec = isRec(obj.spec) ? obj.spec : {};
  const selector = isRec(spec.selector) ? spec.selector : undefined;
  if (!selector) return [required('spec.selector')];
  const match = isRec(selector.matchLabels) ? selector.matchLabels : {};
  if (Object.keys(match).length === 0 && arr(selector.matchExpressions).length === 0) causes.push(invalid('spec.selector', selector, 'empty selector is invalid for deployment'));
  const template = isRec(spec.template) ? spec.template : {};
  const labels = isRec(template.metadata) && isRec(template.metadata.labels) ? template.metadata.labels : {};
  if (Object.entries(match).some(([k, v]) => labels[k] !== v)) causes.push(invalid('spec.template.metadata.labels', labels, '`selector` does not match template `labels`'));
  if (typeof spec.replicas === 'number' && spec.replicas < 0) causes.push(invalid('spec.replicas', spec.replicas, 'must be greater than or equal to 0'));
  const podSpec = isRec(template.spec) ? template.spec : {};
  if (arr(podSpec.containers).length === 0) causes.push(required('spec.template.spec.containers'));
  return causes;
}

function serviceCauses(obj: KubeObject): StatusCause[] {
  const spec = isRec(obj.spec) ? obj.spec : {};
  const causes: StatusCause[] = [];
  const type = str(spec.type) ?? 'ClusterIP';
  if (arr(spec.ports).length === 0 && type !== 'ExternalName' && spec.clusterIP !== 'None') causes.push(required('spec.ports'));
  arr(spec.ports).forEach((p, i) => {
    if (typeof p.port !== 'number' || p.port < 1 || p.port > 65535) causes.push(invalid(`spec.ports[${i}].port`, p.port, 'must be between 1 and 65535, inclusive'));
    if (arr(spec.ports).length > 1 && !str(p.name)) causes.push(required(`spec.ports[${i}].name`));
  });
  return causes;
}

/** Validates an object about to be stored (after defaults); throws an ApiError (400 or 422). */
export function validateObject(kind: string, obj: KubeObject, namespace: string | undefined): void {
  if (kind === 'Secret') checkSecretEncoding(obj);
  schemaCheck(kind, obj);
  const causes: StatusCause[] = [];
  switch (kind) {
    case 'Namespace':
      causes.push(...metadataCauses(obj, 'label', false));
      break;
    case 'Pod':
      causes.push(...metadataCauses(obj, 'subdomain', true), ...podCauses(obj));
      break;
    case 'Secret':
      causes.push(...metadataCauses(obj, 'subdomain', true), ...secretCauses(obj));
      break;
    case 'ConfigMap':
      causes.push(...metadataCauses(obj, 'subdomain', true), ...dataKeyCauses(obj.data, 'data'), ...dataKeyCauses(obj.binaryData, 'binaryData'));
      break;
    case 'Event':
      causes.push(...metadataCauses(obj, 'subdomain', true), ...eventCauses(obj, namespace));
      break;
    case 'Role':
    case 'ClusterRole':
    case 'RoleBinding':
    case 'ClusterRoleBinding':
      causes.push(...rbacCauses(kind, obj));
      break;
    case 'Deployment':
    case 'ReplicaSet':
      causes.push(...metadataCauses(obj, 'subdomain', true), ...workloadCauses(obj));
      break;
    case 'Service':
      causes.push(...metadataCauses(obj, 'label', true), ...serviceCauses(obj));
      break;
    default:
      causes.push(...metadataCauses(obj, 'subdomain', true));
  }
  if (causes.length > 0) throw errors.invalid(kind, objName(obj), causes);
}

/** What may change in a pod's spec on update (ValidatePodUpdate): images, activeDeadlineSeconds, added tolerations. */
export function validatePodUpdate(oldObj: KubeObject, newObj: KubeObject): void {
  const strip = (spec: unknown): unknown => {
    if (!isRec(spec)) return spec;
    const copy: Rec = { ...spec };
    for (const key of ['containers', 'initContainers'] as const) {
      copy[key] = arr(copy[key]).map((c) => ({ ...c, image: undefined }));
    }
    delete copy.activeDeadlineSeconds;
    delete copy.tolerations;
    return copy;
  };
  if (JSON.stringify(strip(oldObj.spec)) !== JSON.stringify(strip(newObj.spec))) {
    throw errors.invalid('Pod', objName(newObj), [
      forbidden(
        'spec',
        'pod updates may not change fields other than `spec.containers[*].image`,`spec.initContainers[*].image`,`spec.activeDeadlineSeconds`,`spec.tolerations` (only additions to existing tolerations),`spec.terminationGracePeriodSeconds` (allow it to be set to 1 if it was previously negative)',
      ),
    ]);
  }
}

/** Secret `type` is immutable; so is everything in an `immutable: true` Secret or ConfigMap. */
export function validateDataUpdate(kind: string, oldObj: KubeObject, newObj: KubeObject): void {
  const causes: StatusCause[] = [];
  if (kind === 'Secret' && (oldObj.type ?? 'Opaque') !== (newObj.type ?? 'Opaque')) causes.push(invalid('type', newObj.type, 'field is immutable'));
  if (oldObj.immutable === true) {
    if (JSON.stringify(oldObj.data) !== JSON.stringify(newObj.data)) causes.push(forbidden('data', `field is immutable when \`immutable\` is set`));
    if (newObj.immutable !== true) causes.push(forbidden('immutable', 'field is immutable when `immutable` is set'));
  }
  if (causes.length > 0) throw errors.invalid(kind, objName(newObj), causes);
}
