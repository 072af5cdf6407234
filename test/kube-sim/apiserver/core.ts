// The core/v1 registry: what the API server does with objects once a request is authenticated
// and authorized — defaults, admission (namespace lifecycle, service accounts), validation,
// optimistic concurrency, graceful pod deletion, finalizers, namespace deletion — on top of the
// ObjectStore. It knows nothing about HTTP; the server and the in-process ClusterStore both use it.
import { randomBytes, randomUUID } from 'node:crypto';
import { jsonPatch, mergePatch, strategicMergePatch } from './patch.ts';
import { apiVersionOf, RESOURCES, selectableFields, type ResourceDef } from './resources.ts';
import { matchFields, matchLabels, parseFieldSelector, parseLabelSelector } from './selectors.ts';
import { ApiError, errors, failureStatus, successStatus, type KubeStatus } from './status.ts';
import { clone, ObjectStore, type KubeObject } from './store.ts';
import { validateDataUpdate, validateObject, validatePodUpdate } from './validation.ts';
import { bootstrapPolicy } from './rbac.ts';

type Rec = Record<string, unknown>;
const isRec = (v: unknown): v is Rec => v !== null && typeof v === 'object' && !Array.isArray(v);

/** RFC 3339 with second precision, as metav1.Time marshals. */
export function kubeTime(date = new Date()): string {
  return date.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

const GENERATE_ALPHABET = 'bcdfghjklmnpqrstvwxz2456789';
export function generateSuffix(length = 5): string {
  const bytes = randomBytes(length);
  return [...bytes].map((b) => GENERATE_ALPHABET[b % GENERATE_ALPHABET.length]).join('');
}

export const PROTECTED_NAMESPACES = ['default', 'kube-system', 'kube-public'];
export const INITIAL_NAMESPACES = ['default', 'kube-system', 'kube-public', 'kube-node-lease'];

export interface ListOptions {
  labelSelector?: string | null;
  fieldSelector?: string | null;
  limit?: number;
  continue?: string | null;
}

export interface ListResult {
  items: KubeObject[];
  resourceVersion: string;
  continue?: string;
  remainingItemCount?: number;
}

export interface DeleteOptions {
  gracePeriodSeconds?: number;
  preconditions?: { uid?: string; resourceVersion?: string };
  dryRun?: boolean;
}

export interface WriteOptions {
  dryRun?: boolean;
  /** metadata.managedFields of the object written (from the current object, if any, and the next) */
  managedFields?: (current: KubeObject | undefined, next: KubeObject) => unknown[];
}

export function resourceDef(resource: string): ResourceDef {
  const def = RESOURCES[resource];
  if (!def) throw new ApiError(failureStatus(404, 'NotFound', 'the server could not find the requested resource', {}));
  return def;
}

/** Adds kind and apiVersion (as a GET or a watch event carries them). */
export function withTypeMeta(def: ResourceDef, obj: KubeObject): KubeObject {
  const { apiVersion: _a, kind: _k, ...rest } = obj;
  return { kind: def.kind, apiVersion: apiVersionOf(def), ...rest };
}

function imagePullPolicyFor(image: string): string {
  if (image.includes('@')) return 'IfNotPresent';
  const last = image.slice(image.lastIndexOf('/') + 1);
  const colon = last.lastIndexOf(':');
  const tag = colon >= 0 ? last.slice(colon + 1) : 'latest';
  return tag === 'latest' ? 'Always' : 'IfNotPresent';
}

function qosClass(spec: Rec): string {
  const containers = [...(Array.isArray(spec.containers) ? spec.containers : []), ...(Array.isArray(spec.initContainers) ? spec.initContainers : [])].filter(isRec);
  let any = false;
  let guaranteed = containers.length > 0;
  for (const c of containers) {
    const res = isRec(c.resources) ? c.resources : {};
    const req = isRec(res.requests) ? res.requests : {};
    const lim = isRec(res.limits) ? res.limits : {};
    if (Object.keys(req).length > 0 || Object.keys(lim).length > 0) any = true;
    for (const r of ['cpu', 'memory']) {
      if (lim[r] === undefined || (req[r] !== undefined && String(req[r]) !== String(lim[r]))) guaranteed = false;
    }
  }
  if (!any) return 'BestEffort';
  return guaranteed ? 'Guaranteed' : 'Burstable';
}

function defaultContainer(c: unknown): unknown {
  if (!isRec(c)) return c;
  const image = typeof c.image === 'string' ? c.image : '';
  return {
    terminationMessagePath: '/dev/termination-log',
    terminationMessagePolicy: 'File',
    imagePullPolicy: imagePullPolicyFor(image),
    resources: {},
    ...c,
  };
}

/** Pod template defaults (the same as a pod's, where a template can hold them). */
function defaultPodTemplate(template: Rec): Rec {
  const spec: Rec = isRec(template.spec) ? { ...template.spec } : {};
  if (Array.isArray(spec.containers)) spec.containers = spec.containers.map(defaultContainer);
  if (Array.isArray(spec.initContainers)) spec.initContainers = spec.initContainers.map(defaultContainer);
  spec.restartPolicy ??= 'Always';
  spec.terminationGracePeriodSeconds ??= 30;
  spec.dnsPolicy ??= 'ClusterFirst';
  spec.schedulerName ??= 'default-scheduler';
  spec.securityContext ??= {};
  return { ...template, metadata: isRec(template.metadata) ? template.metadata : { creationTimestamp: null }, spec };
}

export class CoreRegistry {
  /** Called when a namespace finished terminating (all its content gone). */
  private readonly namespaceWatchers = new Map<string, () => void>();

  /** The token controller: fills a `kubernetes.io/service-account-token` Secret (set by the API server). */
  tokenMinter: ((namespace: string, serviceAccount: string) => { token: string; caCert: string } | undefined) | undefined;
  private nextClusterIp = 1;

  constructor(readonly store: ObjectStore) {}

  /** The namespaces, `default` service accounts, RBAC bootstrap policy and `kubernetes` Service every cluster starts with. */
  bootstrap(): void {
    for (const ns of INITIAL_NAMESPACES) {
      if (!this.store.get('namespaces', undefined, ns)) this.create('namespaces', undefined, { metadata: { name: ns } });
    }
    const policy = bootstrapPolicy();
    for (const r of policy.clusterroles) if (!this.store.get('clusterroles', undefined, r.metadata?.name ?? '')) this.create('clusterroles', undefined, r);
    for (const b of policy.clusterrolebindings) if (!this.store.get('clusterrolebindings', undefined, b.metadata?.name ?? '')) this.create('clusterrolebindings', undefined, b);
    if (!this.store.get('services', 'default', 'kubernetes')) {
      this.create('services', 'default', {
        metadata: { name: 'kubernetes', labels: { component: 'apiserver', provider: 'kubernetes' } },
        spec: { ports: [{ name: 'https', port: 443, protocol: 'TCP', targetPort: 6443 }] },
      });
    }
  }

  get(resource: string, namespace: string | undefined, name: string): KubeObject {
    const def = resourceDef(resource);
    const obj = this.store.get(resource, def.namespaced ? namespace : undefined, name);
    if (!obj) throw errors.notFound(resource, name);
    return withTypeMeta(def, obj);
  }

  find(resource: string, namespace: string | undefined, name: string): KubeObject | undefined {
    const def = resourceDef(resource);
    const obj = this.store.get(resource, def.namespaced ? namespace : undefined, name);
    return obj ? withTypeMeta(def, obj) : undefined;
  }

  /** A filter for list and watch (label and field selectors), throwing 400 for a bad selector. */
  matcher(resource: string, opts: Pick<ListOptions, 'labelSelector' | 'fieldSelector'>): (obj: KubeObject) => boolean {
    const def = resourceDef(resource);
    const labels = parseLabelSelector(opts.labelSelector);
    const fields = parseFieldSelector(opts.fieldSelector, selectableFields(def));
    return (obj) => matchLabels(labels, obj.metadata?.labels) && matchFields(fields, def.fields(obj));
  }

  list(resource: string, namespace: string | undefined, opts: ListOptions = {}): ListResult {
    const def = resourceDef(resource);
    const match = this.matcher(resource, opts);
    const resourceVersion = String(this.store.currentRevision());
    let items = this.store.list(resource, def.namespaced ? namespace : undefined).filter(match);
    const key = (o: KubeObject): string => `${o.metadata?.namespace ?? ''}/${o.metadata?.name ?? ''}`;
    if (opts.continue) {
      let token: { rv?: unknown; start?: unknown };
      try {
        token = JSON.parse(Buffer.from(opts.continue, 'base64url').toString('utf8')) as { rv?: unknown; start?: unknown };
      } catch {
        throw errors.badRequest('continue key is not valid: illegal base64 data at input byte 0');
      }
      if (typeof token.rv !== 'number' || typeof token.start !== 'string') throw errors.badRequest('continue key is not valid: incorrect encoded start resourceVersion (version meta.k8s.io/v1)');
      if (token.rv < this.store.oldestRevision()) {
        throw new ApiError(
          failureStatus(
            410,
            'Expired',
            'The provided continue parameter is too old to display a consistent list result. You can start a new list without the continue parameter, or use the continue token in this response to retrieve the remainder of the results. Continuing with the provided token results in an inconsistent list - objects that were created, modified, or deleted between the time the first chunk was returned and now may show up in the list.',
          ),
        );
      }
      const start = token.start;
      items = items.filter((o) => key(o) > start);
    }
    const result: ListResult = { items, resourceVersion };
    if (opts.limit && opts.limit > 0 && items.length > opts.limit) {
      const page = items.slice(0, opts.limit);
      const last = page[page.length - 1];
      result.items = page;
      result.remainingItemCount = items.length - opts.limit;
      result.continue = Buffer.from(JSON.stringify({ rv: this.store.currentRevision(), start: last ? key(last) : '' })).toString('base64url');
    }
    // List items carry no kind/apiVersion on the wire.
    result.items = result.items.map(({ apiVersion: _a, kind: _k, ...rest }) => rest);
    return result;
  }

  private requireNamespace(namespace: string | undefined, forCreate: boolean): void {
    if (!namespace) throw errors.badRequest('the server could not find the requested resource: a namespace is required');
    const ns = this.store.get('namespaces', undefined, namespace);
    if (!ns) throw errors.notFound('namespaces', namespace);
    if (forCreate && ns.metadata?.deletionTimestamp) {
      throw new ApiError(
        failureStatus(403, 'Forbidden', `unable to create new content in namespace ${namespace} because it is being terminated`, {
          name: namespace,
          kind: 'namespaces',
          causes: [{ reason: 'NamespaceTerminating', message: `namespace ${namespace} is being terminated`, field: 'metadata.namespace' }],
        }),
      );
    }
  }

  create(resource: string, namespace: string | undefined, body: unknown, opts: WriteOptions = {}): KubeObject {
    const def = resourceDef(resource);
    if (!isRec(body)) throw errors.badRequest(`${def.kind} in version "${def.version ?? 'v1'}" cannot be handled as a ${def.kind}: the request body must be a JSON object`);
    const obj = clone(body) as KubeObject;
    if (obj.kind !== undefined && obj.kind !== def.kind) {
      throw errors.badRequest(`${def.kind} in version "${def.version ?? 'v1'}" cannot be handled as a ${def.kind}: the object provided is unrecognized (must be of type ${def.kind}): kind ${String(obj.kind)}`);
    }
    const meta = isRec(obj.metadata) ? { ...obj.metadata } : {};
    if (def.namespaced) {
      if (meta.namespace !== undefined && meta.namespace !== '' && meta.namespace !== namespace) {
        throw errors.badRequest('the namespace of the provided object does not match the namespace sent on the request');
      }
      this.requireNamespace(namespace, true);
      meta.namespace = namespace;
    } else delete meta.namespace;
    if (!meta.name && typeof meta.generateName === 'string' && meta.generateName !== '') {
      meta.name = `${meta.generateName}${generateSuffix()}`;
    }
    // System fields are the server's.
    for (const k of ['uid', 'resourceVersion', 'creationTimestamp', 'deletionTimestamp', 'deletionGracePeriodSeconds', 'selfLink', 'managedFields']) delete meta[k];
    meta.uid = randomUUID();
    meta.creationTimestamp = kubeTime();
    obj.metadata = meta;
    obj.apiVersion = apiVersionOf(def);
    obj.kind = def.kind;

    this.applyCreateDefaults(def, obj);
    validateObject(def.kind, obj, namespace);
    const name = meta.name ?? '';
    if (this.store.get(resource, def.namespaced ? namespace : undefined, name)) throw errors.alreadyExists(resource, name);
    if (def.kind === 'Pod') this.admitPod(obj);
    if (opts.managedFields) meta.managedFields = opts.managedFields(undefined, obj);
    if (opts.dryRun) return withTypeMeta(def, obj);
    const stored = withTypeMeta(def, this.store.create(resource, obj));
    if (def.kind === 'Namespace') {
      // the service account controller
      this.create('serviceaccounts', name, { metadata: { name: 'default' } });
    }
    return stored;
  }

  private applyCreateDefaults(def: ResourceDef, obj: KubeObject): void {
    const meta = obj.metadata ?? {};
    switch (def.kind) {
      case 'Namespace': {
        meta.labels = { ...(meta.labels ?? {}), 'kubernetes.io/metadata.name': meta.name ?? '' };
        obj.spec = { finalizers: ['kubernetes'] };
        obj.status = { phase: 'Active' };
        break;
      }
      case 'Pod': {
        const spec: Rec = isRec(obj.spec) ? { ...obj.spec } : {};
        if (isRec(obj.spec)) {
          spec.containers = Array.isArray(spec.containers) ? spec.containers.map(defaultContainer) : spec.containers;
          if (Array.isArray(spec.initContainers)) spec.initContainers = spec.initContainers.map(defaultContainer);
          spec.restartPolicy ??= 'Always';
          spec.terminationGracePeriodSeconds ??= 30;
          spec.dnsPolicy ??= 'ClusterFirst';
          spec.schedulerName ??= 'default-scheduler';
          spec.securityContext ??= {};
          spec.enableServiceLinks ??= true;
          spec.preemptionPolicy ??= 'PreemptLowerPriority';
          spec.priority ??= 0;
          spec.serviceAccountName = typeof spec.serviceAccountName === 'string' && spec.serviceAccountName !== '' ? spec.serviceAccountName : 'default';
          spec.serviceAccount = spec.serviceAccountName;
          spec.tolerations ??= [
            { key: 'node.kubernetes.io/not-ready', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 300 },
            { key: 'node.kubernetes.io/unreachable', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 300 },
          ];
          obj.spec = spec;
        }
        obj.status = { phase: 'Pending', qosClass: qosClass(spec) };
        break;
      }
      case 'Secret': {
        obj.type = typeof obj.type === 'string' && obj.type !== '' ? obj.type : 'Opaque';
        this.foldStringData(obj);
        const sa = meta.annotations?.['kubernetes.io/service-account.name'];
        if (obj.type === 'kubernetes.io/service-account-token' && typeof sa === 'string' && this.tokenMinter) {
          // the token controller fills the secret (token, ca.crt, namespace) once the account exists
          const account = this.store.get('serviceaccounts', meta.namespace, sa);
          const minted = account ? this.tokenMinter(meta.namespace ?? '', sa) : undefined;
          if (account && minted) {
            meta.annotations = { ...meta.annotations, 'kubernetes.io/service-account.uid': account.metadata?.uid ?? '' };
            const b64 = (v: string): string => Buffer.from(v, 'utf8').toString('base64');
            obj.data = { ...(isRec(obj.data) ? obj.data : {}), token: b64(minted.token), 'ca.crt': b64(minted.caCert), namespace: b64(meta.namespace ?? '') };
          }
        }
        break;
      }
      case 'ConfigMap':
        break;
      case 'Deployment':
      case 'ReplicaSet': {
        meta.generation = 1;
        const spec: Rec = isRec(obj.spec) ? { ...obj.spec } : {};
        spec.replicas ??= 1;
        spec.revisionHistoryLimit ??= 10;
        if (def.kind === 'Deployment') {
          spec.progressDeadlineSeconds ??= 600;
          const strategy: Rec = isRec(spec.strategy) ? { ...spec.strategy } : {};
          strategy.type ??= 'RollingUpdate';
          if (strategy.type === 'RollingUpdate') strategy.rollingUpdate ??= { maxUnavailable: '25%', maxSurge: '25%' };
          spec.strategy = strategy;
        } else delete spec.revisionHistoryLimit;
        if (isRec(spec.template)) spec.template = defaultPodTemplate(spec.template);
        obj.spec = spec;
        obj.status = def.kind === 'ReplicaSet' ? { replicas: 0 } : {};
        break;
      }
      case 'Service': {
        const spec: Rec = isRec(obj.spec) ? { ...obj.spec } : {};
        spec.type ??= 'ClusterIP';
        spec.sessionAffinity ??= 'None';
        if (Array.isArray(spec.ports)) {
          spec.ports = spec.ports.map((p: unknown) => (isRec(p) ? { protocol: 'TCP', ...p, targetPort: p.targetPort ?? p.port } : p));
        }
        if (spec.type !== 'ExternalName') {
          if (spec.clusterIP === undefined || spec.clusterIP === '') spec.clusterIP = this.allocateClusterIp(meta.namespace === 'default' && meta.name === 'kubernetes');
          spec.clusterIPs ??= [spec.clusterIP];
          spec.ipFamilies ??= ['IPv4'];
          spec.ipFamilyPolicy ??= 'SingleStack';
          spec.internalTrafficPolicy ??= 'Cluster';
        }
        obj.spec = spec;
        obj.status = { loadBalancer: {} };
        break;
      }
      case 'Event': {
        const now = kubeTime();
        if (obj.firstTimestamp === undefined && obj.eventTime === undefined) obj.firstTimestamp = now;
        if (obj.lastTimestamp === undefined && obj.eventTime === undefined) obj.lastTimestamp = now;
        obj.count ??= 1;
        obj.type ??= 'Normal';
        break;
      }
    }
    obj.metadata = meta;
  }

  /** The service IP allocator: 10.96.0.0/12, 10.96.0.1 being the `kubernetes` Service's. */
  private allocateClusterIp(first: boolean): string {
    if (first) return '10.96.0.1';
    const used = new Set(this.store.list('services').map((s) => (isRec(s.spec) ? String(s.spec.clusterIP) : '')));
    for (;;) {
      const n = ++this.nextClusterIp;
      const ip = `10.96.${Math.floor(n / 256) % 256}.${n % 256}`;
      if (n % 256 !== 0 && n % 256 !== 255 && !used.has(ip)) return ip;
    }
  }

  private foldStringData(obj: KubeObject): void {
    if (isRec(obj.stringData)) {
      const data: Rec = isRec(obj.data) ? { ...obj.data } : {};
      for (const [k, v] of Object.entries(obj.stringData)) data[k] = Buffer.from(String(v), 'utf8').toString('base64');
      obj.data = data;
    }
    delete obj.stringData;
  }

  /** The ServiceAccount admission plugin: the account must exist; its imagePullSecrets fill an empty list. */
  private admitPod(obj: KubeObject): void {
    const spec = isRec(obj.spec) ? obj.spec : {};
    const namespace = obj.metadata?.namespace ?? '';
    const saName = typeof spec.serviceAccountName === 'string' ? spec.serviceAccountName : 'default';
    const sa = this.store.get('serviceaccounts', namespace, saName);
    if (!sa) {
      throw errors.forbidden(
        `pods "${obj.metadata?.name ?? ''}" is forbidden: error looking up service account ${namespace}/${saName}: serviceaccount "${saName}" not found`,
        'pods',
        obj.metadata?.name,
      );
    }
    const own = Array.isArray(spec.imagePullSecrets) ? spec.imagePullSecrets : [];
    if (own.length === 0 && Array.isArray(sa.imagePullSecrets) && sa.imagePullSecrets.length > 0) {
      spec.imagePullSecrets = clone(sa.imagePullSecrets);
    }
  }

  /** PUT of an object or of its status subresource. */
  update(resource: string, namespace: string | undefined, name: string, body: unknown, subresource?: string, opts: WriteOptions = {}): KubeObject {
    const def = resourceDef(resource);
    if (!isRec(body)) throw errors.badRequest(`${def.kind} in version "${def.version ?? 'v1'}" cannot be handled as a ${def.kind}: the request body must be a JSON object`);
    const incoming = clone(body) as KubeObject;
    const bodyName = incoming.metadata?.name;
    if (bodyName !== undefined && bodyName !== name) {
      throw errors.badRequest(`the name of the object (${bodyName}) does not match the name on the URL (${name})`);
    }
    if (def.namespaced && incoming.metadata?.namespace && incoming.metadata.namespace !== namespace) {
      throw errors.badRequest('the namespace of the provided object does not match the namespace sent on the request');
    }
    const current = this.store.get(resource, def.namespaced ? namespace : undefined, name);
    if (!current) throw errors.notFound(resource, name);
    const rv = incoming.metadata?.resourceVersion;
    if (rv !== undefined && rv !== '' && rv !== current.metadata?.resourceVersion) {
      throw errors.conflict(resource, name, 'the object has been modified; please apply your changes to the latest version and try again');
    }
    if ((rv === undefined || rv === '') && def.kind === 'Pod') {
      throw errors.invalid(def.kind, name, [{ reason: 'FieldValueInvalid', message: 'Invalid value: 0: must be specified for an update', field: 'metadata.resourceVersion' }]);
    }
    return this.replace(def, current, incoming, subresource, opts);
  }

  /** PATCH of an object or of its status subresource. */
  patch(resource: string, namespace: string | undefined, name: string, contentType: string, patch: unknown, subresource?: string, opts: WriteOptions = {}): KubeObject {
    const def = resourceDef(resource);
    const current = this.store.get(resource, def.namespaced ? namespace : undefined, name);
    if (!current) throw errors.notFound(resource, name);
    const base = withTypeMeta(def, current);
    let patched: unknown;
    if (contentType === 'application/json-patch+json') patched = jsonPatch(base, patch);
    else if (contentType === 'application/merge-patch+json') patched = mergePatch(base, patch);
    else if (contentType === 'application/strategic-merge-patch+json') patched = strategicMergePatch(base, patch);
    else throw errors.unsupportedMediaType(contentType);
    if (!isRec(patched)) throw errors.badRequest('the patch produced a value that is not an object');
    const incoming = patched as KubeObject;
    if (incoming.metadata?.name !== name) throw errors.badRequest(`the name of the object (${incoming.metadata?.name ?? ''}) does not match the name on the URL (${name})`);
    const rv = incoming.metadata?.resourceVersion;
    if (rv !== undefined && rv !== current.metadata?.resourceVersion) {
      throw errors.conflict(resource, name, 'the object has been modified; please apply your changes to the latest version and try again');
    }
    return this.replace(def, current, incoming, subresource, opts);
  }

  private replace(def: ResourceDef, current: KubeObject, incoming: KubeObject, subresource: string | undefined, opts: WriteOptions): KubeObject {
    const name = current.metadata?.name ?? '';
    let next: KubeObject;
    const systemMeta = (meta: KubeObject['metadata']): KubeObject['metadata'] => ({
      ...(meta ?? {}),
      name,
      ...(current.metadata?.namespace ? { namespace: current.metadata.namespace } : {}),
      uid: current.metadata?.uid,
      creationTimestamp: current.metadata?.creationTimestamp,
      ...(current.metadata?.deletionTimestamp ? { deletionTimestamp: current.metadata.deletionTimestamp } : {}),
      ...(current.metadata?.deletionGracePeriodSeconds !== undefined ? { deletionGracePeriodSeconds: current.metadata.deletionGracePeriodSeconds } : {}),
      resourceVersion: current.metadata?.resourceVersion,
    });
    if (subresource === 'status') {
      next = { ...clone(current), status: incoming.status };
    } else if (subresource !== undefined) {
      throw errors.methodNotAllowed();
    } else {
      next = { ...incoming, metadata: systemMeta(incoming.metadata) };
      if (def.subresources.includes('status')) next.status = current.status;
      if (current.metadata?.generation !== undefined) {
        // metadata.generation counts changes of the desired state (spec), as the registry strategies do
        const changed = JSON.stringify(incoming.spec) !== JSON.stringify(current.spec);
        next.metadata = { ...next.metadata, generation: current.metadata.generation + (changed ? 1 : 0) };
      }
      if ((def.kind === 'Deployment' || def.kind === 'ReplicaSet') && isRec(next.spec) && isRec(next.spec.template)) {
        next.spec = { ...next.spec, template: defaultPodTemplate(next.spec.template) };
      }
      if (def.kind === 'Namespace') next.spec = current.spec;
      if (def.kind === 'Pod' && current.metadata?.deletionTimestamp) {
        // a terminating pod may only lose finalizers
        const added = (next.metadata?.finalizers ?? []).filter((f) => !(current.metadata?.finalizers ?? []).includes(f));
        if (added.length > 0) {
          throw errors.invalid('Pod', name, [{ reason: 'FieldValueForbidden', message: 'Forbidden: no new finalizers can be added if the object is being deleted', field: 'metadata.finalizers' }]);
        }
      }
      if (def.kind === 'Secret') this.foldStringData(next);
    }
    next.apiVersion = apiVersionOf(def);
    next.kind = def.kind;
    validateObject(def.kind, next, current.metadata?.namespace);
    if (def.kind === 'Pod') validatePodUpdate(current, next);
    if (def.kind === 'Secret' || def.kind === 'ConfigMap') validateDataUpdate(def.kind, current, next);
    const strip = (o: KubeObject): string => JSON.stringify({ ...o, apiVersion: undefined, kind: undefined, metadata: { ...(o.metadata ?? {}), resourceVersion: undefined } });
    next.metadata = { ...(next.metadata ?? {}), managedFields: current.metadata?.managedFields };
    if (opts.managedFields) {
      // a new owner of unchanged values is a change of metadata; a new time alone is not
      const managed = opts.managedFields(current, next);
      const untimed = (v: unknown): string => JSON.stringify(Array.isArray(v) ? v.map((e) => ({ ...(e as Record<string, unknown>), time: undefined })) : v);
      if (untimed(managed) !== untimed(current.metadata?.managedFields)) next.metadata.managedFields = managed;
    }
    if (next.metadata.managedFields === undefined) delete next.metadata.managedFields;
    if (strip(next) === strip(withTypeMeta(def, current))) return withTypeMeta(def, current); // no-op: no write, no event
    if (opts.dryRun) return withTypeMeta(def, next);
    const stored = this.store.update(def.resource, next);
    this.maybeFinalize(def, stored);
    return withTypeMeta(def, this.store.get(def.resource, stored.metadata?.namespace, name) ?? stored);
  }

  /** Removes an object marked for deletion once nothing holds it (finalizers, and for pods the kubelet). */
  private maybeFinalize(def: ResourceDef, obj: KubeObject): void {
    const meta = obj.metadata ?? {};
    if (!meta.deletionTimestamp || (meta.finalizers ?? []).length > 0) return;
    if (def.kind === 'Pod' && meta.deletionGracePeriodSeconds !== 0) return;
    if (def.kind === 'Namespace') return;
    this.store.remove(def.resource, meta.namespace, meta.name ?? '');
  }

  delete(resource: string, namespace: string | undefined, name: string, opts: DeleteOptions = {}): KubeObject | KubeStatus {
    const def = resourceDef(resource);
    const current = this.store.get(resource, def.namespaced ? namespace : undefined, name);
    if (!current) throw errors.notFound(resource, name);
    const pre = opts.preconditions ?? {};
    if (pre.uid !== undefined && pre.uid !== current.metadata?.uid) {
      throw errors.conflict(resource, name, `Precondition failed: UID in precondition: ${pre.uid}, UID in object meta: ${current.metadata?.uid ?? ''}`);
    }
    if (pre.resourceVersion !== undefined && pre.resourceVersion !== current.metadata?.resourceVersion) {
      throw errors.conflict(resource, name, `Precondition failed: ResourceVersion in precondition: ${pre.resourceVersion}, ResourceVersion in object meta: ${current.metadata?.resourceVersion ?? ''}`);
    }
    const deleted = (): KubeStatus => successStatus({ name, kind: resource, uid: current.metadata?.uid ?? '' });
    if (def.kind === 'Namespace') return this.deleteNamespace(current, opts);
    if (def.kind !== 'Pod') {
      if ((current.metadata?.finalizers ?? []).length > 0) {
        if (current.metadata?.deletionTimestamp || opts.dryRun) return withTypeMeta(def, current);
        return withTypeMeta(def, this.store.update(resource, { ...current, metadata: { ...current.metadata, deletionTimestamp: kubeTime(), deletionGracePeriodSeconds: 0 } }));
      }
      if (!opts.dryRun) this.store.remove(resource, namespace, name);
      return deleted();
    }
    // Pods: graceful deletion. Pods never bound to a node, or already terminal, go at once.
    const spec = isRec(current.spec) ? current.spec : {};
    const phase = isRec(current.status) ? current.status.phase : undefined;
    let grace = opts.gracePeriodSeconds ?? (typeof spec.terminationGracePeriodSeconds === 'number' ? spec.terminationGracePeriodSeconds : 30);
    if (!spec.nodeName || phase === 'Succeeded' || phase === 'Failed') grace = 0;
    const meta = current.metadata ?? {};
    if (meta.deletionTimestamp) {
      const currentGrace = meta.deletionGracePeriodSeconds ?? 0;
      if (grace >= currentGrace || opts.dryRun) return withTypeMeta(def, current);
    }
    if (opts.dryRun) return withTypeMeta(def, current);
    if (grace === 0 && (meta.finalizers ?? []).length === 0) {
      this.store.remove(resource, namespace, name);
      return deleted();
    }
    const when = new Date(Date.now() + grace * 1000);
    const updated = this.store.update(resource, { ...current, metadata: { ...meta, deletionTimestamp: kubeTime(when), deletionGracePeriodSeconds: grace } });
    return withTypeMeta(def, updated);
  }

  private deleteNamespace(current: KubeObject, opts: DeleteOptions): KubeObject {
    const def = resourceDef('namespaces');
    const name = current.metadata?.name ?? '';
    if (PROTECTED_NAMESPACES.includes(name)) {
      throw errors.forbidden(`namespaces "${name}" is forbidden: this namespace may not be deleted`, 'namespaces', name);
    }
    if (current.metadata?.deletionTimestamp || opts.dryRun) return withTypeMeta(def, current);
    const marked = this.store.update('namespaces', {
      ...current,
      metadata: { ...current.metadata, deletionTimestamp: kubeTime(), deletionGracePeriodSeconds: 0 },
      status: { phase: 'Terminating' },
    });
    // The namespace controller: delete the content, then the namespace once no pod is left.
    for (const resource of Object.keys(RESOURCES)) {
      if (resource === 'namespaces' || resource === 'pods') continue;
      for (const obj of this.store.list(resource, name)) this.store.remove(resource, name, obj.metadata?.name ?? '');
    }
    for (const pod of this.store.list('pods', name)) {
      try {
        this.delete('pods', name, pod.metadata?.name ?? '');
      } catch {
        // already gone
      }
    }
    const finish = (): boolean => {
      if (this.store.list('pods', name).length > 0) return false;
      this.namespaceWatchers.get(name)?.();
      this.namespaceWatchers.delete(name);
      if (this.store.get('namespaces', undefined, name)) this.store.remove('namespaces', undefined, name);
      return true;
    };
    if (!finish()) {
      const unsubscribe = this.store.subscribe((e) => {
        if (e.resource === 'pods' && e.type === 'DELETED' && e.object.metadata?.namespace === name) finish();
      });
      this.namespaceWatchers.set(name, unsubscribe);
    }
    return withTypeMeta(def, marked);
  }

  /** pods/binding: assigns the node and sets PodScheduled=True, as the binding REST storage does. */
  bind(namespace: string, name: string, nodeName: string): KubeObject {
    const current = this.store.get('pods', namespace, name);
    if (!current) throw errors.notFound('pods', name);
    const spec = isRec(current.spec) ? current.spec : {};
    if (current.metadata?.deletionTimestamp) throw errors.conflict('pods', name, 'pod is being deleted, cannot be assigned to a host');
    if (spec.nodeName) {
      if (spec.nodeName === nodeName) return withTypeMeta(resourceDef('pods'), current);
      throw errors.conflict('pods', name, `pod ${name} is already assigned to node "${String(spec.nodeName)}"`);
    }
    const status: Rec = isRec(current.status) ? { ...current.status } : {};
    const conditions = (Array.isArray(status.conditions) ? status.conditions.filter(isRec) : []).filter((c) => c.type !== 'PodScheduled');
    conditions.push({ type: 'PodScheduled', status: 'True', lastProbeTime: null, lastTransitionTime: kubeTime() });
    status.conditions = conditions;
    const updated = this.store.update('pods', { ...current, spec: { ...spec, nodeName }, status });
    return withTypeMeta(resourceDef('pods'), updated);
  }

  /** The kubelet confirms a terminating pod has no processes left (a delete with grace 0). */
  finalizePod(namespace: string, name: string): void {
    const current = this.store.get('pods', namespace, name);
    if (!current || !current.metadata?.deletionTimestamp) return;
    if ((current.metadata.finalizers ?? []).length > 0) {
      if (current.metadata.deletionGracePeriodSeconds !== 0) {
        this.store.update('pods', { ...current, metadata: { ...current.metadata, deletionGracePeriodSeconds: 0 } });
      }
      return;
    }
    this.store.remove('pods', namespace, name);
  }

  /** Replaces a pod's status (pods/status as the kubelet writes it). */
  setPodStatus(namespace: string, name: string, status: unknown): KubeObject {
    const current = this.store.get('pods', namespace, name);
    if (!current) throw errors.notFound('pods', name);
    if (JSON.stringify(current.status) === JSON.stringify(status)) return withTypeMeta(resourceDef('pods'), current);
    return withTypeMeta(resourceDef('pods'), this.store.update('pods', { ...current, status }));
  }
}

export function isStatus(value: KubeObject | KubeStatus): value is KubeStatus {
  return value.kind === 'Status';
}
