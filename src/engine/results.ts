// What steps leave in a build's run state under their plan ids, for the steps after them.
import type { Artifact } from '../model/artifact.ts';
import type { MetadataField, Version } from '../model/version.ts';
import type { PullCredentials } from '../runtime/runtime.ts';

/** A get's result: the version fetched (or recorded), its cache, and its artifact. */
export interface GetResult {
  version: Version;
  metadata: MetadataField[];
  resourceCacheId: number;
  artifact: Artifact;
  /** a registry image's credentials (from its source), for pods that run it */
  pullCredentials?: PullCredentials;
}
