/** `fetch_artifact` steers Jetway, not the resource: it never reaches the script or the cache key (docs/image-features.md, decision 5). */
export function resourceParams(params: Record<string, unknown> | undefined): Record<string, unknown> {
  const { fetch_artifact: _ignored, ...rest } = params ?? {};
  return rest;
}

/**
 * Whether a get's (interpolated) params force a real download of an image resource
 * (docs/image-features.md, decision 5): `true` does; `false` or no key is the default. A `((var))`
 * from a credential manager arrives as a string, so "true" and "false" count as the booleans they
 * spell; any other value throws, naming the param and what it got.
 */
export function fetchesArtifact(params: Record<string, unknown> | undefined): boolean {
  const value = params?.fetch_artifact;
  if (value === undefined || value === false || value === 'false') return false;
  if (value === true || value === 'true') return true;
  throw new Error(`params.fetch_artifact must be a boolean (true or false), got ${describeValue(value)}`);
}

function describeValue(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'a map';
  return `a ${typeof value} (${JSON.stringify(value)})`;
}
