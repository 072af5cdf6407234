// Versions on the command line: `-v key:value` (repeatable; a partial version) and finding the
// resource version it matches, as fly's pin-resource and enable/disable-resource-version do.
import { CliExit, usageError } from '../io.ts';
import { enc, pipelinePath } from './common.ts';
import { refString, type PipelineRef } from './pipeline-ref.ts';
import type { ResourceVersion, Version } from '../../api/wire.ts';
import type { ApiClient } from './http.ts';

export type VersionFields = Version;

/** `["k:v", "k2:v2"]` → {k: v, k2: v2}; anything without a key is a usage error. */
export function parseVersionPairs(pairs: readonly string[], flag: string): VersionFields {
  const out: VersionFields = {};
  for (const pair of pairs) {
    const i = pair.indexOf(':');
    if (i <= 0) throw usageError(`error: ${flag} must be key:value (got '${pair}')`);
    out[pair.slice(0, i)] = pair.slice(i + 1);
  }
  return out;
}

/** The newest version of the resource that contains every given field. */
export async function findVersion(client: ApiClient, team: string, pipeline: PipelineRef, resource: string, partial: VersionFields): Promise<ResourceVersion> {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(partial)) q.append('filter', `${k}:${v}`);
  q.set('limit', '1');
  const found = await client.get<ResourceVersion[]>(pipelinePath(team, pipeline, `/resources/${enc(resource)}/versions?${q.toString()}`));
  const v = found[0];
  if (!v) throw new CliExit(1, `error: could not find version matching ${JSON.stringify(partial)} of ${refString(pipeline)}/${resource}`);
  return v;
}
