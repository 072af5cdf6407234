// The cluster's credential manager (docs/concourse-semantics.md §1.7): where a build's `((name))` and
// `((name.field))` come from when they name no var source, after the build's local vars and the
// pipeline's var_sources. Concourse scopes every lookup to the build's team and pipeline; so does
// Jetway. The engine asks for one lookup per build (forBuild), which caches what it read, so each
// secret costs at most one request per build.
import type { VarLookup } from '../engine/vars.ts';

/** Whose vars a build may read: its team's, and its pipeline's first (one-off builds have none). */
export interface CredentialScope {
  team: string;
  pipeline?: string;
}

export interface CredentialManager {
  /** what it is, for logs (`kubernetes`) */
  readonly name: string;
  /**
   * The lookup of one build. Values it finds are secrets (the engine redacts them); not found is
   * `undefined`; a store that refuses or fails rejects with a message that names what was asked,
   * never a value. An aborted build (signal) stops waiting for the store.
   */
  forBuild(scope: CredentialScope, signal?: AbortSignal): VarLookup;
}
