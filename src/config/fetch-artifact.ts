// `fetch_artifact`'s value (docs/image-features.md, decision 5), one rule for set-pipeline's
// validation and for the get step once its ((vars)) are resolved, so both agree. Interpolation
// leaves strings (`set-pipeline -v fa=true`, a credential manager), so after it the strings
// "true" and "false" count as the booleans they spell; any other value is refused, naming its type.

export const FETCH_ARTIFACT_MUST = 'fetch_artifact must be a boolean (true or false)';

/** Whether a get with `fetch_artifact: value` downloads (no value is the default), or what the value was instead. */
export function readFetchArtifact(value: unknown): { fetch: boolean } | { got: string } {
  if (value === undefined || value === false || value === 'false') return { fetch: false };
  if (value === true || value === 'true') return { fetch: true };
  return { got: describeValue(value) };
}

/** A value's type for a message, with the value itself when it is short (a scalar). */
function describeValue(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'a map';
  return `a ${typeof value} (${JSON.stringify(value)})`;
}
