/** `fetch_artifact` steers Jetway, not the resource: it never reaches the script or the cache key (docs/image-features.md, decision 5). */
export function resourceParams(params: Record<string, unknown> | undefined): Record<string, unknown> {
  const { fetch_artifact: _ignored, ...rest } = params ?? {};
  return rest;
}

/** `fetch_artifact: true` forces a real download of an image resource (false is the default). */
export function fetchesArtifact(params: Record<string, unknown> | undefined): boolean {
  return params?.fetch_artifact === true;
}
