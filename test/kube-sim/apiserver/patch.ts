// PATCH bodies: JSON merge patch (RFC 7386), JSON patch (RFC 6902) and an approximation of
// strategic merge patch (lists of objects with a `name` — containers, env, volumes, volumeMounts,
// imagePullSecrets, conditions by `type` — merge by that key; `$patch: delete` removes an entry;
// other lists are replaced, as for merge patch).
import { errors } from './status.ts';

type Json = unknown;
type Rec = Record<string, unknown>;
const isRec = (v: unknown): v is Rec => v !== null && typeof v === 'object' && !Array.isArray(v);

export function mergePatch(target: Json, patch: Json): Json {
  if (!isRec(patch)) return structuredClone(patch);
  const out: Rec = isRec(target) ? { ...target } : {};
  for (const [k, v] of Object.entries(patch)) {
    if (v === null) delete out[k];
    else out[k] = mergePatch(out[k], v);
  }
  return out;
}

const MERGE_KEYS = ['name', 'type', 'containerPort', 'mountPath', 'devicePath', 'ip'];

function mergeKey(items: unknown[]): string | undefined {
  const first = items.find(isRec);
  if (!first) return undefined;
  return MERGE_KEYS.find((k) => items.every((i) => isRec(i) && i[k] !== undefined)) ?? (first.name !== undefined ? 'name' : undefined);
}

export function strategicMergePatch(target: Json, patch: Json): Json {
  if (!isRec(patch)) return structuredClone(patch);
  const out: Rec = isRec(target) ? { ...target } : {};
  for (const [k, v] of Object.entries(patch)) {
    if (k.startsWith('$')) continue;
    if (v === null) {
      delete out[k];
      continue;
    }
    const current = out[k];
    if (Array.isArray(v) && Array.isArray(current)) {
      const key = mergeKey([...current, ...v]);
      if (key) {
        const merged: unknown[] = [...current];
        for (const item of v) {
          if (!isRec(item)) continue;
          const idx = merged.findIndex((m) => isRec(m) && m[key] === item[key]);
          if (item.$patch === 'delete') {
            if (idx >= 0) merged.splice(idx, 1);
          } else if (idx >= 0) merged[idx] = strategicMergePatch(merged[idx], item);
          else merged.push(strategicMergePatch(undefined, item));
        }
        out[k] = merged;
        continue;
      }
    }
    out[k] = strategicMergePatch(current, v);
  }
  return out;
}

interface JsonPatchOp {
  op: string;
  path: string;
  value?: unknown;
  from?: string;
}

function parsePointer(pointer: string): string[] {
  if (pointer === '') return [];
  if (!pointer.startsWith('/')) throw errors.badRequest(`the server rejected our request due to an error in our request: invalid JSON pointer ${JSON.stringify(pointer)}`);
  return pointer
    .slice(1)
    .split('/')
    .map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'));
}

function container(doc: Json, segments: string[], pointer: string): { parent: Rec | unknown[]; key: string } {
  let cur: unknown = doc;
  for (const seg of segments.slice(0, -1)) {
    if (Array.isArray(cur)) cur = cur[Number(seg)];
    else if (isRec(cur)) cur = cur[seg];
    else cur = undefined;
    if (cur === undefined) throw errors.internal(`jsonpatch: doc is missing path: "${pointer}": missing value`);
  }
  if (!Array.isArray(cur) && !isRec(cur)) throw errors.internal(`jsonpatch: doc is missing path: "${pointer}": missing value`);
  return { parent: cur, key: segments[segments.length - 1] ?? '' };
}

function getAt(doc: Json, pointer: string): unknown {
  let cur: unknown = doc;
  for (const seg of parsePointer(pointer)) {
    if (Array.isArray(cur)) cur = cur[Number(seg)];
    else if (isRec(cur)) cur = cur[seg];
    else return undefined;
  }
  return cur;
}

export function jsonPatch(target: Json, ops: unknown): Json {
  if (!Array.isArray(ops)) throw errors.badRequest('the server rejected our request due to an error in our request: json patch must be an array');
  let doc = structuredClone(target);
  for (const raw of ops) {
    if (!isRec(raw) || typeof raw.op !== 'string' || typeof raw.path !== 'string') throw errors.badRequest('the server rejected our request due to an error in our request: invalid json patch operation');
    const op = raw as unknown as JsonPatchOp;
    const segments = parsePointer(op.path);
    const apply = (kind: string, value: unknown): void => {
      if (segments.length === 0) {
        if (kind === 'remove') doc = undefined;
        else doc = structuredClone(value);
        return;
      }
      const { parent, key } = container(doc, segments, op.path);
      if (Array.isArray(parent)) {
        const idx = key === '-' ? parent.length : Number(key);
        if (!Number.isInteger(idx) || idx < 0 || idx > parent.length) throw errors.internal(`jsonpatch ${kind} operation does not apply: index out of range: ${op.path}`);
        if (kind === 'add') parent.splice(idx, 0, structuredClone(value));
        else if (kind === 'replace') parent[idx] = structuredClone(value);
        else parent.splice(idx, 1);
      } else {
        if ((kind === 'remove' || kind === 'replace') && !(key in parent)) {
          throw errors.internal(`jsonpatch ${kind} operation does not apply: doc is missing key: ${op.path}: missing value`);
        }
        if (kind === 'remove') delete parent[key];
        else parent[key] = structuredClone(value);
      }
    };
    switch (op.op) {
      case 'add':
      case 'replace':
      case 'remove':
        apply(op.op, op.value);
        break;
      case 'test':
        if (JSON.stringify(getAt(doc, op.path)) !== JSON.stringify(op.value)) throw errors.internal(`testing value ${op.path} failed: test failed`);
        break;
      case 'copy':
      case 'move': {
        const value = getAt(doc, op.from ?? '');
        if (value === undefined) throw errors.internal(`jsonpatch ${op.op} operation does not apply: doc is missing from path: ${op.from}`);
        if (op.op === 'move') {
          const fromSegments = parsePointer(op.from ?? '');
          const { parent, key } = container(doc, fromSegments, op.from ?? '');
          if (Array.isArray(parent)) parent.splice(Number(key), 1);
          else delete parent[key];
        }
        apply('add', value);
        break;
      }
      default:
        throw errors.badRequest(`the server rejected our request due to an error in our request: unexpected kind: ${op.op}`);
    }
  }
  return doc;
}
