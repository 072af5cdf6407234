import { createHash } from 'node:crypto';

/** JSON with object keys sorted at every level, no whitespace. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(sortKeys(value));
}

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (value !== null && typeof value === 'object') {
    const obj = value as Record<string, unknown>;
    const out: Record<string, unknown> = {};
    for (const key of Object.keys(obj).sort()) out[key] = sortKeys(obj[key]);
    return out;
  }
  return value;
}

/** Version identity: sha256 (hex) of the canonical JSON of the version. */
export function versionDigest(version: Record<string, string>): string {
  return createHash('sha256').update(canonicalJson(version)).digest('hex');
}
