// The cluster's credential manager (docs/concourse-semantics.md §1.7): where a build's `((name))` and
// `((name.field))` come from when they name no var source, after the build's local vars and the
// pipeline's var_sources. Concourse scopes every lookup to the build's team and pipeline; so does
// Jetway. The engine asks for one lookup per build (forBuild), which caches what it read, so each
// secret costs at most one request per build.
// The port is the engine's, its consumer (src/engine/vars.ts); this module names it for the
// credential managers that implement it.
export type { CredentialManager, CredentialScope } from '../engine/vars.ts';
