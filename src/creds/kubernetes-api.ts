// The Kubernetes credential manager's adapter to the API server: Secrets read with
// @kubernetes/client-node's CoreV1Api.readNamespacedSecret, with the kubeconfig flags the runtime
// uses (--kubernetes-kubeconfig, --kubernetes-context, --kubernetes-in-cluster). The web node
// imports this module only when --kubernetes-credentials is on: the Kubernetes client costs
// memory a local web node does not need.
//
// 404 is "no such Secret"; 403 is CredentialsForbiddenError (namespace and permission); 429, 5xx
// and dropped connections are retried as the runtime's requests are (withRetries); anything else is a
// CredentialsReadError. No message carries a Secret's content.
import { CoreV1Api, KubeConfig, type V1Secret } from '@kubernetes/client-node';
import { DEFAULT_RETRY, errorStatus, loadKubeConfig, serverMessage, withRetries, type RetryPolicy } from '../runtime/kubernetes/client.ts';
import type { KubernetesCredentialsConfig } from './config.ts';
import { CredentialsForbiddenError, CredentialsReadError, KubernetesCredentialManager, type SecretReader } from './kubernetes.ts';
import type { SecretData, SecretRef } from './lookup.ts';

/** The part of CoreV1Api the reader uses (tests give a fake). */
export interface SecretsApi {
  readNamespacedSecret(param: { name: string; namespace: string }): Promise<V1Secret>;
}

export class KubernetesSecretReader implements SecretReader {
  constructor(
    private readonly api: SecretsApi,
    private readonly retry: RetryPolicy = DEFAULT_RETRY,
  ) {}

  async read(ref: SecretRef, signal?: AbortSignal): Promise<SecretData | undefined> {
    signal?.throwIfAborted();
    const secret = await withRetries(
      this.retry,
      // 404 is an answer: no such Secret
      () => this.api.readNamespacedSecret({ name: ref.name, namespace: ref.namespace }).catch((err: unknown) => (errorStatus(err) === 404 ? undefined : Promise.reject(err))),
      {
        // an aborted build does not sit out the backoff
        ...(signal ? { signal } : {}),
        describe: (err) => {
          const status = errorStatus(err);
          if (status === 403) return new CredentialsForbiddenError(ref, serverMessage(err));
          return new CredentialsReadError(ref, describe(err), status);
        },
      },
    );
    return secret === undefined ? undefined : decode(secret);
  }
}

/** A Secret's data (base64 on the wire), decoded as UTF-8. */
function decode(secret: V1Secret): SecretData {
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(secret.data ?? {})) out[key] = Buffer.from(value, 'base64').toString('utf8');
  return out;
}

function describe(err: unknown): string {
  // A response that could not be parsed may quote its body, which would be the Secret: never shown.
  if (err instanceof SyntaxError) return "the API server's answer could not be read";
  return serverMessage(err);
}

/** The manager on the cluster the flags name (a KubeConfig given by tests wins). */
export function createKubernetesCredentialManager(config: KubernetesCredentialsConfig, opts: { kubeConfig?: KubeConfig; retry?: RetryPolicy } = {}): KubernetesCredentialManager {
  const kc = opts.kubeConfig ?? loadKubeConfig(config.credentials);
  return new KubernetesCredentialManager(new KubernetesSecretReader(kc.makeApiClient(CoreV1Api), opts.retry), config.namespacePrefix);
}
