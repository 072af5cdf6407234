// Server-side printing: `Accept: application/json;as=Table;v=v1;g=meta.k8s.io` turns a get or a
// list into a meta.k8s.io/v1 Table with the columns the real server's printers give
// (k8s.io/kubernetes/pkg/printers/internalversion), priority 1 being the extra `-o wide` columns.
// Each row carries the object as PartialObjectMetadata (includeObject=Metadata, the default), the
// whole object (Object) or nothing (None).
import type { KubeObject } from './store.ts';

type Rec = Record<string, unknown>;
const isRec = (v: unknown): v is Rec => v !== null && typeof v === 'object' && !Array.isArray(v);
const arr = (v: unknown): Rec[] => (Array.isArray(v) ? v.filter(isRec) : []);
const str = (v: unknown): string => (typeof v === 'string' ? v : typeof v === 'number' || typeof v === 'boolean' ? String(v) : '');

interface Column {
  name: string;
  type: string;
  format?: string;
  priority?: number;
  description: string;
}

/** Whether an Accept header asks for a Table (kubectl get sends Table first, then JSON). */
export function wantsTable(accept: string | undefined): boolean {
  if (!accept) return false;
  const first = accept.split(',')[0] ?? '';
  return /as=Table/.test(first) && /g=meta\.k8s\.io/.test(first);
}

/** kubectl's duration.HumanDuration. */
export function humanDuration(ms: number): string {
  const seconds = Math.max(0, Math.floor(ms / 1000));
  if (seconds < 60 * 2) return `${seconds}s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 10) return seconds % 60 === 0 ? `${minutes}m` : `${minutes}m${seconds % 60}s`;
  if (minutes < 60 * 3) return `${minutes}m`;
  const hours = Math.floor(minutes / 60);
  if (hours < 8) return minutes % 60 === 0 ? `${hours}h` : `${hours}h${minutes % 60}m`;
  if (hours < 48) return `${hours}h`;
  if (hours < 24 * 8) return hours % 24 === 0 ? `${Math.floor(hours / 24)}d` : `${Math.floor(hours / 24)}d${hours % 24}h`;
  if (hours < 24 * 365 * 2) return `${Math.floor(hours / 24)}d`;
  return `${Math.floor(hours / 24 / 365)}y`;
}

function age(ts: unknown, now: number): string {
  return typeof ts === 'string' && ts !== '' ? humanDuration(now - Date.parse(ts)) : '<unknown>';
}

const NAME: Column = { name: 'Name', type: 'string', format: 'name', description: 'Name must be unique within a namespace.' };
const AGE: Column = { name: 'Age', type: 'string', description: 'CreationTimestamp is a timestamp representing the server time when this object was created.' };
const col = (name: string, description: string, priority = 0, type = 'string'): Column => ({ name, type, description, ...(priority ? { priority } : {}) });

function podStatus(pod: KubeObject): { ready: string; status: string; restarts: string } {
  const spec = isRec(pod.spec) ? pod.spec : {};
  const status = isRec(pod.status) ? pod.status : {};
  let reason = str(status.reason) || str(status.phase);
  let restarts = 0;
  let ready = 0;
  const containers = arr(spec.containers);
  let initializing = false;
  arr(status.initContainerStatuses).forEach((c, i) => {
    restarts += Number(c.restartCount ?? 0);
    const state = isRec(c.state) ? c.state : {};
    const term = isRec(state.terminated) ? state.terminated : undefined;
    const wait = isRec(state.waiting) ? state.waiting : undefined;
    if (term && term.exitCode === 0) return;
    if (initializing) return;
    initializing = true;
    if (term) reason = `Init:${str(term.reason) || `ExitCode:${str(term.exitCode)}`}`;
    else if (wait && str(wait.reason) && wait.reason !== 'PodInitializing') reason = `Init:${str(wait.reason)}`;
    else reason = `Init:${i}/${arr(spec.initContainers).length}`;
  });
  if (!initializing) {
    let hasRunning = false;
    for (const c of [...arr(status.containerStatuses)].reverse()) {
      restarts += Number(c.restartCount ?? 0);
      const state = isRec(c.state) ? c.state : {};
      const wait = isRec(state.waiting) ? state.waiting : undefined;
      const term = isRec(state.terminated) ? state.terminated : undefined;
      if (wait && str(wait.reason)) reason = str(wait.reason);
      else if (term && str(term.reason)) reason = str(term.reason);
      else if (term) reason = Number(term.signal ?? 0) !== 0 ? `Signal:${str(term.signal)}` : `ExitCode:${str(term.exitCode)}`;
      else if (isRec(state.running) && c.ready === true) {
        hasRunning = true;
        ready++;
      } else if (isRec(state.running)) hasRunning = true;
    }
    if (reason === 'Completed' && hasRunning) reason = 'Running';
  }
  if (pod.metadata?.deletionTimestamp) reason = status.reason === 'NodeLost' ? 'Unknown' : 'Terminating';
  return { ready: `${ready}/${containers.length}`, status: reason, restarts: String(restarts) };
}

function containersAndImages(template: unknown): [string, string] {
  const spec = isRec(template) && isRec(template.spec) ? template.spec : {};
  const cs = arr(spec.containers);
  return [cs.map((c) => str(c.name)).join(','), cs.map((c) => str(c.image)).join(',')];
}

/** A label selector as kubectl prints it (metav1.FormatLabelSelector). */
export function selectorString(sel: unknown): string {
  if (!isRec(sel)) return '<none>';
  const parts = Object.entries(isRec(sel.matchLabels) ? sel.matchLabels : {}).map(([k, v]) => `${k}=${str(v)}`);
  for (const e of arr(sel.matchExpressions)) {
    const values = Array.isArray(e.values) ? e.values.map(str).join(',') : '';
    parts.push(e.operator === 'Exists' ? str(e.key) : e.operator === 'DoesNotExist' ? `!${str(e.key)}` : `${str(e.key)} ${str(e.operator).toLowerCase()} (${values})`);
  }
  return parts.length ? parts.sort().join(',') : '<none>';
}

function subjectsOf(b: KubeObject, kind: string): string {
  return arr(b.subjects)
    .filter((s) => s.kind === kind)
    .map((s) => (kind === 'ServiceAccount' ? `${str(s.namespace)}/${str(s.name)}` : str(s.name)))
    .join(', ');
}

function definition(kind: string, now: number): { columns: Column[]; cells: (o: KubeObject) => unknown[] } {
  switch (kind) {
    case 'Pod':
      return {
        columns: [NAME, col('Ready', 'The aggregate readiness state of this pod for accepting traffic.'), col('Status', 'The aggregate status of the containers in this pod.'), col('Restarts', 'The number of times the containers in this pod have been restarted and when the last container in this pod has restarted.'), AGE, col('IP', 'IP address allocated to the pod. Routable at least within the cluster. Empty if not yet allocated.', 1), col('Node', 'Name of the node the pod is scheduled to, if any.', 1), col('Nominated Node', "nominatedNodeName is set only when this pod preempts other pods on the node, but it cannot be scheduled right away as preemption victims receive their graceful termination periods.", 1), col('Readiness Gates', 'If specified, all readiness gates will be evaluated for pod readiness.', 1)],
        cells: (o) => {
          const p = podStatus(o);
          const spec = isRec(o.spec) ? o.spec : {};
          const status = isRec(o.status) ? o.status : {};
          return [o.metadata?.name, p.ready, p.status, Number(p.restarts), age(o.metadata?.creationTimestamp, now), str(status.podIP) || '<none>', str(spec.nodeName) || '<none>', str(status.nominatedNodeName) || '<none>', '<none>'];
        },
      };
    case 'Deployment':
      return {
        columns: [NAME, col('Ready', 'Number of the pod with ready state'), col('Up-to-date', 'Total number of non-terminated pods targeted by this deployment that have the desired template spec.', 0, 'integer'), col('Available', 'Total number of available pods (ready for at least minReadySeconds) targeted by this deployment.', 0, 'integer'), AGE, col('Containers', 'Names of each container in the template.', 1), col('Images', 'Images referenced by each container in the template.', 1), col('Selector', 'Label selector for pods. Existing ReplicaSets whose pods are selected by this will be the ones affected by this deployment.', 1)],
        cells: (o) => {
          const spec = isRec(o.spec) ? o.spec : {};
          const status = isRec(o.status) ? o.status : {};
          const [c, i] = containersAndImages(spec.template);
          return [o.metadata?.name, `${Number(status.readyReplicas ?? 0)}/${Number(spec.replicas ?? 0)}`, Number(status.updatedReplicas ?? 0), Number(status.availableReplicas ?? 0), age(o.metadata?.creationTimestamp, now), c, i, selectorString(spec.selector)];
        },
      };
    case 'ReplicaSet':
      return {
        columns: [NAME, col('Desired', 'Replicas is the number of desired replicas.', 0, 'integer'), col('Current', 'Replicas is the most recently observed number of replicas.', 0, 'integer'), col('Ready', 'The number of ready replicas for this replica set.', 0, 'integer'), AGE, col('Containers', 'Names of each container in the template.', 1), col('Images', 'Images referenced by each container in the template.', 1), col('Selector', 'Selector is a label query over pods that should match the replica count.', 1)],
        cells: (o) => {
          const spec = isRec(o.spec) ? o.spec : {};
          const status = isRec(o.status) ? o.status : {};
          const [c, i] = containersAndImages(spec.template);
          return [o.metadata?.name, Number(spec.replicas ?? 0), Number(status.replicas ?? 0), Number(status.readyReplicas ?? 0), age(o.metadata?.creationTimestamp, now), c, i, selectorString(spec.selector)];
        },
      };
    case 'Service':
      return {
        columns: [NAME, col('Type', 'type determines how the Service is exposed.'), col('Cluster-IP', 'clusterIP is the IP address of the service and is usually assigned randomly.'), col('External-IP', 'externalIPs is a list of IP addresses for which nodes in the cluster will also accept traffic for this service.'), col('Port(s)', 'The list of ports that are exposed by this service.'), AGE, col('Selector', 'Route service traffic to pods with label keys and values matching this selector.', 1)],
        cells: (o) => {
          const spec = isRec(o.spec) ? o.spec : {};
          const ports = arr(spec.ports).map((p) => `${str(p.port)}${p.nodePort ? `:${str(p.nodePort)}` : ''}/${str(p.protocol) || 'TCP'}`).join(',');
          const external = Array.isArray(spec.externalIPs) && spec.externalIPs.length ? spec.externalIPs.map(str).join(',') : spec.type === 'LoadBalancer' ? '<pending>' : '<none>';
          const sel = isRec(spec.selector) ? Object.entries(spec.selector).map(([k, v]) => `${k}=${str(v)}`).sort().join(',') : '';
          return [o.metadata?.name, str(spec.type), str(spec.clusterIP) || '<none>', external, ports || '<none>', age(o.metadata?.creationTimestamp, now), sel || '<none>'];
        },
      };
    case 'Namespace':
      return {
        columns: [NAME, col('Status', 'The status of the namespace'), AGE],
        cells: (o) => [o.metadata?.name, str(isRec(o.status) ? o.status.phase : ''), age(o.metadata?.creationTimestamp, now)],
      };
    case 'Secret':
      return {
        columns: [NAME, col('Type', 'The type of the secret'), col('Data', 'The total number of data entries in the secret', 0, 'integer'), AGE],
        cells: (o) => [o.metadata?.name, str(o.type), Object.keys(isRec(o.data) ? o.data : {}).length, age(o.metadata?.creationTimestamp, now)],
      };
    case 'ConfigMap':
      return {
        columns: [NAME, col('Data', 'Number of data entries', 0, 'integer'), AGE],
        cells: (o) => [o.metadata?.name, Object.keys(isRec(o.data) ? o.data : {}).length + Object.keys(isRec(o.binaryData) ? o.binaryData : {}).length, age(o.metadata?.creationTimestamp, now)],
      };
    case 'ServiceAccount':
      return {
        columns: [NAME, col('Secrets', 'Secrets is a list of the secrets in the same namespace that pods running using this ServiceAccount are allowed to use.', 0, 'integer'), AGE],
        cells: (o) => [o.metadata?.name, arr(o.secrets).length, age(o.metadata?.creationTimestamp, now)],
      };
    case 'Event':
      return {
        columns: [col('Last Seen', 'Time when last this event was observed'), col('Type', 'Type of this event (Normal, Warning), new types could be added in the future.'), col('Reason', 'This should be a short, machine understandable string that gives the reason for the transition into the object\'s current status.'), col('Object', 'The object that this event is about.'), col('Subobject', 'The subobject that this event is about.', 1), col('Source', 'The component reporting this event.', 1), col('Message', 'A human-readable description of the status of this operation.'), col('First Seen', 'The time at which the event was first recorded.', 1), col('Count', 'The number of times this event has occurred.', 1, 'integer'), { ...NAME, priority: 1 }],
        cells: (o) => {
          const inv = isRec(o.involvedObject) ? o.involvedObject : {};
          const src = isRec(o.source) ? o.source : {};
          const last = str(o.lastTimestamp) || str(o.eventTime) || str(o.metadata?.creationTimestamp);
          const series = isRec(o.series) ? o.series : undefined;
          const count = Number(series?.count ?? o.count ?? 1);
          const lastSeen = count > 1 ? `${age(last, now)} (x${count} over ${age(str(o.firstTimestamp) || last, now)})` : age(last, now);
          return [lastSeen, str(o.type), str(o.reason), `${str(inv.kind).toLowerCase()}/${str(inv.name)}`, str(inv.fieldPath), [str(src.component) || str(o.reportingComponent), str(src.host)].filter(Boolean).join(', '), str(o.message), age(str(o.firstTimestamp) || last, now), count, o.metadata?.name];
        },
      };
    case 'RoleBinding':
    case 'ClusterRoleBinding':
      return {
        columns: [NAME, col('Role', 'Role references a role.'), AGE, col('Users', 'Users in the binding', 1), col('Groups', 'Groups in the binding', 1), col('ServiceAccounts', 'ServiceAccounts in the binding', 1)],
        cells: (o) => {
          const ref = isRec(o.roleRef) ? o.roleRef : {};
          return [o.metadata?.name, `${str(ref.kind)}/${str(ref.name)}`, age(o.metadata?.creationTimestamp, now), subjectsOf(o, 'User'), subjectsOf(o, 'Group'), subjectsOf(o, 'ServiceAccount')];
        },
      };
    case 'Role':
    case 'ClusterRole':
      return {
        columns: [NAME, col('Created At', 'CreationTimestamp is a timestamp representing the server time when this object was created.', 0, 'date')],
        cells: (o) => [o.metadata?.name, str(o.metadata?.creationTimestamp)],
      };
    default:
      return { columns: [NAME, AGE], cells: (o) => [o.metadata?.name, age(o.metadata?.creationTimestamp, now)] };
  }
}

/** A Table of `items` (of `kind`) for a list or a single get. */
export function toTable(kind: string, apiVersion: string, items: KubeObject[], resourceVersion: string | undefined, includeObject: string | null, extraMeta: Rec = {}): Rec {
  const { columns, cells } = definition(kind, Date.now());
  return {
    kind: 'Table',
    apiVersion: 'meta.k8s.io/v1',
    metadata: { ...(resourceVersion ? { resourceVersion } : {}), ...extraMeta },
    columnDefinitions: columns.map((c) => ({ name: c.name, type: c.type, format: c.format ?? '', description: c.description, priority: c.priority ?? 0 })),
    rows: items.map((o) => ({
      cells: cells(o),
      ...(includeObject === 'None'
        ? {}
        : { object: includeObject === 'Object' ? { kind, apiVersion, ...o } : { kind: 'PartialObjectMetadata', apiVersion: 'meta.k8s.io/v1', metadata: o.metadata ?? {} } }),
    })),
  };
}
