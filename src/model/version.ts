// Version identity (docs/concourse-semantics.md §2): a version is identified by the sha256 of its canonical
// JSON, as Go's json.Marshal writes a map (keys sorted). Storage and input resolution both use it.
import { createHash } from 'node:crypto';

/** A version: a flat map of strings, e.g. `{"ref": "abc123"}` (the one definition in Jetway). */
export type Version = Record<string, string>;

/** A name/value pair shown next to a version (a resource script's `metadata`). */
export interface MetadataField {
  name: string;
  value: string;
}

/** JSON with object keys sorted (recursively), no whitespace: the form that gets hashed. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map((v) => canonicalJson(v === undefined ? null : v)).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const obj = value as Record<string, unknown>;
    const keys = Object.keys(obj)
      .filter((k) => obj[k] !== undefined)
      .sort();
    return `{${keys.map((k) => `${JSON.stringify(k)}:${canonicalJson(obj[k])}`).join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

export function sha256Hex(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

/** A version's identity: sha256 hex of its canonical JSON (`version_sha256`, `version_digest`). */
export function versionDigest(version: Version): string {
  return sha256Hex(canonicalJson(version));
}
