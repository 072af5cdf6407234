import { FETCH_ARTIFACT_MUST, readFetchArtifact } from '../../config/fetch-artifact.ts';

/** `fetch_artifact` steers Jetway, not the resource: it never reaches the script or the cache key (docs/image-features.md, decision 5). */
export function resourceParams(params: Record<string, unknown> | undefined): Record<string, unknown> {
  const { fetch_artifact: _ignored, ...rest } = params ?? {};
  return rest;
}

/**
 * Whether a get's (interpolated) params force a real download of an image resource
 * (docs/image-features.md, decision 5): `true` (or the string "true" a ((var)) leaves) does;
 * `false`, "false" or no key is the default. Any other value throws, naming the param and what it
 * got. The rule is the one set-pipeline validates with (src/config/fetch-artifact.ts).
 */
export function fetchesArtifact(params: Record<string, unknown> | undefined): boolean {
  const read = readFetchArtifact(params?.fetch_artifact);
  if ('fetch' in read) return read.fetch;
  throw new Error(`params.${FETCH_ARTIFACT_MUST}, got ${read.got}`);
}
