// Field management and server-side apply (`kubectl apply --server-side`, PATCH
// application/apply-patch+yaml), a minimal version of k8s.io/apimachinery/pkg/util/managedfields:
//  - every write records in metadata.managedFields which manager (the fieldManager parameter, else
//    the client's user agent up to its first '/') set which fields (FieldsV1: `f:` fields,
//    `k:{"name":…}` list items);
//  - an apply merges the applied configuration into the object (maps field by field, lists of
//    named items item by item, other lists whole), fails with 409 Conflict when it changes a field
//    another manager set (unless force=true, which takes the field over), and removes the fields the
//    same manager applied before and no longer applies (when no other manager also holds them).
// Not modelled: per-field ownership of atomic sub-structures by schema (x-kubernetes-list-type),
// the `.` ownership of maps, and managedFields of the status subresource apart from its writer.
import { ApiError, errors, failureStatus } from './status.ts';
import { apiVersionOf, type ResourceDef } from './resources.ts';
import type { CoreRegistry } from './core.ts';
import { clone, type KubeObject } from './store.ts';
import { kubeTime } from './core.ts';

type Rec = Record<string, unknown>;
const isRec = (v: unknown): v is Rec => v !== null && typeof v === 'object' && !Array.isArray(v);

/** A field path as FieldsV1 keys: ['f:spec', 'f:containers', 'k:{"name":"web"}', 'f:image']. */
type Path = string[];

export interface ManagedFieldsEntry {
  manager: string;
  operation: 'Apply' | 'Update';
  apiVersion: string;
  time: string;
  fieldsType: 'FieldsV1';
  fieldsV1: Rec;
  subresource?: string;
}

/** The manager of a write: the fieldManager parameter, else the user agent's program name. */
export function managerOf(fieldManager: string | null, userAgent: string | undefined, _verb: string): string {
  if (fieldManager) return fieldManager;
  const ua = (userAgent ?? '').split('/')[0]?.trim() ?? '';
  return ua === '' ? 'unknown' : ua.slice(0, 128);
}

const SYSTEM_META = new Set(['uid', 'resourceVersion', 'creationTimestamp', 'deletionTimestamp', 'deletionGracePeriodSeconds', 'generation', 'managedFields', 'selfLink', 'name', 'namespace', 'generateName']);

/** The key fields of list items that are merged item by item (patch merge keys). */
function itemKey(item: unknown): Rec | undefined {
  if (!isRec(item)) return undefined;
  for (const k of ['name', 'type', 'mountPath', 'devicePath', 'ip']) if (typeof item[k] === 'string') return { [k]: item[k] };
  for (const k of ['containerPort', 'port']) if (typeof item[k] === 'number') return { [k]: item[k], protocol: typeof item.protocol === 'string' ? item.protocol : 'TCP' };
  return undefined;
}

function keyedList(list: unknown[]): boolean {
  if (list.length === 0) return false;
  const keys = list.map((i) => (itemKey(i) ? JSON.stringify(itemKey(i)) : undefined));
  return keys.every((k) => k !== undefined) && new Set(keys).size === keys.length;
}

/** The leaf fields of an object (system metadata and, unless `withStatus`, status left out). */
export function leafPaths(obj: Rec, withStatus = false): Path[] {
  const out: Path[] = [];
  const walk = (value: unknown, path: Path): void => {
    if (isRec(value) && Object.keys(value).length > 0) {
      for (const [k, v] of Object.entries(value)) walk(v, [...path, `f:${k}`]);
    } else if (Array.isArray(value) && keyedList(value)) {
      for (const item of value) walk(item, [...path, `k:${JSON.stringify(itemKey(item))}`]);
    } else out.push(path);
  };
  for (const [k, v] of Object.entries(obj)) {
    if (k === 'apiVersion' || k === 'kind' || (k === 'status' && !withStatus)) continue;
    if (k === 'metadata' && isRec(v)) {
      for (const [mk, mv] of Object.entries(v)) if (!SYSTEM_META.has(mk)) walk(mv, ['f:metadata', `f:${mk}`]);
      continue;
    }
    walk(v, [`f:${k}`]);
  }
  return out;
}

function child(value: unknown, seg: string): unknown {
  if (seg.startsWith('f:')) return isRec(value) ? value[seg.slice(2)] : undefined;
  if (seg.startsWith('k:') && Array.isArray(value)) {
    const key = seg.slice(2);
    return value.find((i) => JSON.stringify(itemKey(i)) === key);
  }
  return undefined;
}

function valueAt(obj: unknown, path: Path): unknown {
  let cur = obj;
  for (const seg of path) cur = child(cur, seg);
  return cur;
}

function removeAt(obj: unknown, path: Path): void {
  if (path.length === 0) return;
  const parent = valueAt(obj, path.slice(0, -1));
  const last = path[path.length - 1] ?? '';
  if (last.startsWith('f:') && isRec(parent)) delete parent[last.slice(2)];
  else if (last.startsWith('k:') && Array.isArray(parent)) {
    const i = parent.findIndex((item) => JSON.stringify(itemKey(item)) === last.slice(2));
    if (i >= 0) parent.splice(i, 1);
  }
}

/** Merges an applied configuration into the live object. */
function merge(live: unknown, applied: unknown): unknown {
  if (isRec(live) && isRec(applied)) {
    const out: Rec = { ...live };
    for (const [k, v] of Object.entries(applied)) out[k] = k in live ? merge(live[k], v) : clone(v);
    return out;
  }
  if (Array.isArray(live) && Array.isArray(applied) && keyedList(applied) && (live.length === 0 || keyedList(live))) {
    const out = live.map((item) => {
      const match = applied.find((a) => JSON.stringify(itemKey(a)) === JSON.stringify(itemKey(item)));
      return match === undefined ? item : merge(item, match);
    });
    for (const a of applied) if (!live.some((item) => JSON.stringify(itemKey(item)) === JSON.stringify(itemKey(a)))) out.push(clone(a));
    return out;
  }
  return clone(applied);
}

export function toFieldsV1(paths: Path[]): Rec {
  const root: Rec = {};
  for (const path of paths) {
    let node = root;
    for (const seg of path) {
      if (!isRec(node[seg])) node[seg] = seg.startsWith('k:') ? { '.': {} } : {};
      node = node[seg] as Rec;
    }
  }
  return root;
}

export function fromFieldsV1(fields: unknown): Path[] {
  const out: Path[] = [];
  const walk = (node: unknown, path: Path): void => {
    const keys = isRec(node) ? Object.keys(node).filter((k) => k !== '.') : [];
    if (keys.length === 0) {
      if (path.length > 0) out.push(path);
      return;
    }
    for (const k of keys) walk((node as Rec)[k], [...path, k]);
  };
  walk(fields, []);
  return out;
}

function entriesOf(obj: KubeObject | undefined): ManagedFieldsEntry[] {
  const list = obj?.metadata?.managedFields;
  return Array.isArray(list) ? (list.filter(isRec) as unknown as ManagedFieldsEntry[]) : [];
}

const pathKey = (p: Path): string => JSON.stringify(p);
const same = (a: unknown, b: unknown): boolean => JSON.stringify(a) === JSON.stringify(b);

/** The managedFields after `manager` wrote `next` over `current` with a non-apply operation. */
export function updatedManagedFields(current: KubeObject | undefined, next: KubeObject, manager: string, apiVersion: string, subresource: string | undefined): ManagedFieldsEntry[] {
  const changed = leafPaths(next as Rec, subresource === 'status').filter((p) => (subresource === 'status' ? p[0] === 'f:status' : true) && (!current || !same(valueAt(current, p), valueAt(next, p))));
  const changedKeys = new Set(changed.map(pathKey));
  const entries: ManagedFieldsEntry[] = [];
  let mine: Path[] = [];
  for (const e of entriesOf(current)) {
    const remaining = fromFieldsV1(e.fieldsV1).filter((p) => valueAt(next, p) !== undefined && !changedKeys.has(pathKey(p)));
    if (e.manager === manager && e.operation === 'Update' && (e.subresource ?? '') === (subresource ?? '')) {
      mine = remaining;
      continue;
    }
    if (remaining.length > 0) entries.push({ ...e, fieldsV1: toFieldsV1(remaining) });
  }
  const all = [...mine, ...changed];
  if (all.length > 0) entries.push({ manager, operation: 'Update', apiVersion, time: kubeTime(), fieldsType: 'FieldsV1', fieldsV1: toFieldsV1(all), ...(subresource ? { subresource } : {}) });
  return entries;
}

/** PATCH application/apply-patch+yaml. */
export function serverSideApply(
  registry: CoreRegistry,
  def: ResourceDef,
  namespace: string | undefined,
  name: string,
  body: unknown,
  manager: string,
  force: boolean,
  dryRun: boolean,
): { object: KubeObject; created: boolean } {
  const apiVersion = apiVersionOf(def);
  if (!isRec(body)) throw errors.badRequest('error decoding YAML: the applied configuration must be an object');
  if (body.apiVersion !== apiVersion || body.kind !== def.kind) {
    throw errors.badRequest(`invalid object type: ${String(body.apiVersion ?? '')}, Kind=${String(body.kind ?? '')}: expected ${apiVersion}, Kind=${def.kind}`);
  }
  const meta = isRec(body.metadata) ? body.metadata : {};
  if (meta.name !== undefined && meta.name !== name) throw errors.badRequest(`the name of the object (${String(meta.name)}) does not match the name on the URL (${name})`);
  const applied = clone(body) as KubeObject;
  applied.metadata = { ...meta, name };
  const appliedPaths = leafPaths(applied as Rec);
  const entry = (paths: Path[]): ManagedFieldsEntry => ({ manager, operation: 'Apply', apiVersion, time: kubeTime(), fieldsType: 'FieldsV1', fieldsV1: toFieldsV1(paths) });
  const current = registry.find(def.resource, namespace, name);
  if (!current) {
    const created = registry.create(def.resource, namespace, applied, { dryRun, managedFields: () => [entry(appliedPaths)] });
    return { object: created, created: true };
  }
  const entries = entriesOf(current);
  const conflicts: { manager: string; field: string; apiVersion: string }[] = [];
  for (const p of appliedPaths) {
    if (same(valueAt(current, p), valueAt(applied, p))) continue;
    for (const e of entries) {
      if (e.manager === manager && e.operation === 'Apply') continue;
      if (fromFieldsV1(e.fieldsV1).some((q) => pathKey(q) === pathKey(p))) conflicts.push({ manager: e.manager, field: p.map((s) => (s.startsWith('f:') ? `.${s.slice(2)}` : `[${s.slice(2)}]`)).join(''), apiVersion: e.apiVersion });
    }
  }
  if (conflicts.length > 0 && !force) {
    const lines = conflicts.map((c) => `conflict with "${c.manager}" using ${c.apiVersion}: ${c.field}`);
    const message = conflicts.length === 1 ? `Apply failed with 1 conflict: ${lines[0] ?? ''}` : `Apply failed with ${conflicts.length} conflicts: ${lines.join('\n')}`;
    throw new ApiError(
      failureStatus(409, 'Conflict', message, {
        causes: conflicts.map((c) => ({ reason: 'FieldManagerConflict', message: `conflict with "${c.manager}" using ${c.apiVersion}`, field: c.field })),
      }),
    );
  }
  const appliedKeys = new Set(appliedPaths.map(pathKey));
  const merged = merge(current, applied) as KubeObject;
  // fields this manager applied before and applies no more go, unless someone else holds them too
  const previous = entries.find((e) => e.manager === manager && e.operation === 'Apply');
  const heldByOthers = new Set(entries.filter((e) => e !== previous).flatMap((e) => fromFieldsV1(e.fieldsV1).map(pathKey)));
  for (const p of previous ? fromFieldsV1(previous.fieldsV1) : []) {
    if (!appliedKeys.has(pathKey(p)) && !heldByOthers.has(pathKey(p))) removeAt(merged, p);
  }
  const taken = new Set(conflicts.map((c) => c.field));
  const display = (p: Path): string => p.map((s) => (s.startsWith('f:') ? `.${s.slice(2)}` : `[${s.slice(2)}]`)).join('');
  const nextEntries: ManagedFieldsEntry[] = [];
  for (const e of entries) {
    if (e === previous) continue;
    const kept = fromFieldsV1(e.fieldsV1).filter((p) => !taken.has(display(p)));
    if (kept.length > 0) nextEntries.push({ ...e, fieldsV1: toFieldsV1(kept) });
  }
  nextEntries.push(entry(appliedPaths));
  merged.metadata = { ...(merged.metadata ?? {}), resourceVersion: current.metadata?.resourceVersion };
  const object = registry.update(def.resource, namespace, name, merged, undefined, { dryRun, managedFields: () => nextEntries });
  return { object, created: false };
}
