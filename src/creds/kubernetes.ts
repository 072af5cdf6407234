// The Kubernetes credential manager (Concourse's `--kubernetes-*` credential manager): `((vars))`
// from Secrets in the namespace of the build's team, `<prefix><team>`, pipeline-scoped Secrets
// first (lookup.ts has the rules). It reads Secrets through a SecretReader, the thin adapter over
// the API (kubernetes-api.ts, loaded only when the manager is on); this module does no I/O of its
// own and never loads the Kubernetes client.
import type { VarName } from '../config/var-syntax.ts';
import { walkFields, type VarLookup } from '../engine/vars.ts';
import type { CredentialManager, CredentialScope } from './credential-manager.ts';
import { DEFAULT_NAMESPACE_PREFIX, secretKey, secretLookupOrder, secretValue, type SecretData, type SecretRef } from './lookup.ts';

/** The one permission the manager needs, in every team namespace: deploy/optional/kubernetes-credentials.yaml grants it. */
export const CREDENTIAL_PERMISSIONS = [{ apiGroup: '', resource: 'secrets', verbs: ['get'] }] as const;

export const CREDENTIALS_RBAC_FILE = 'deploy/optional/kubernetes-credentials.yaml';

/** Reads Secrets (the adapter over the Kubernetes API). */
export interface SecretReader {
  /**
   * The Secret's data, decoded; `undefined` when it does not exist (404). A refusal (403) rejects
   * with CredentialsForbiddenError; other failures reject with a message naming the Secret and
   * the namespace, never its content.
   */
  read(ref: SecretRef, signal?: AbortSignal): Promise<SecretData | undefined>;
}

/** The API server refused to let Jetway read a Secret: names the namespace and the missing permission. */
export class CredentialsForbiddenError extends Error {
  override name = 'CredentialsForbiddenError';
  constructor(
    readonly ref: SecretRef,
    serverMessage?: string,
  ) {
    super(
      `the Kubernetes API refused 'get' on 'secrets' in namespace '${ref.namespace}' (reading Secret '${ref.name}' for a ((var))): ` +
        `grant Jetway's service account 'get' on secrets in that namespace (see ${CREDENTIALS_RBAC_FILE})` +
        (serverMessage ? `: ${serverMessage}` : ''),
    );
  }
}

/** Reading a Secret failed otherwise (the server's error, a connection failure). */
export class CredentialsReadError extends Error {
  override name = 'CredentialsReadError';
  constructor(
    readonly ref: SecretRef,
    detail: string,
    readonly status = 0,
  ) {
    super(`reading Secret '${ref.name}' in namespace '${ref.namespace}' for a ((var)) failed${status ? ` (HTTP ${status})` : ''}: ${detail}`);
  }
}

export class KubernetesCredentialManager implements CredentialManager {
  readonly name = 'kubernetes';

  constructor(
    private readonly reader: SecretReader,
    readonly namespacePrefix: string = DEFAULT_NAMESPACE_PREFIX,
  ) {}

  forBuild(scope: CredentialScope, signal?: AbortSignal): VarLookup {
    // One read per Secret per build, also when steps running in parallel ask at the same time;
    // a read that failed is not kept, so a later step (or attempt) asks again.
    const cache = new Map<string, Promise<SecretData | undefined>>();
    const read = (ref: SecretRef): Promise<SecretData | undefined> => {
      const key = secretKey(ref);
      const cached = cache.get(key);
      if (cached) return cached;
      const pending = this.reader.read(ref, signal);
      cache.set(key, pending);
      pending.catch(() => {
        if (cache.get(key) === pending) cache.delete(key);
      });
      return pending;
    };
    return {
      lookup: async (name: VarName): Promise<unknown> => {
        if (name.source !== undefined) return undefined;
        for (const ref of secretLookupOrder(this.namespacePrefix, scope, name.path)) {
          const data = await read(ref);
          if (data !== undefined) return walkFields(secretValue(data), name.fields);
        }
        return undefined;
      },
    };
  }
}
