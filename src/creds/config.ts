// The credential manager's flags of `jetway web`: `--kubernetes-credentials` turns the Kubernetes
// credential manager on, `--kubernetes-credentials-namespace-prefix` sets where team Secrets live
// (`concourse-` by default, as Concourse's `--kubernetes-namespace-prefix`), and it reaches the
// cluster with the runtime's kubeconfig flags. Pure: checked before anything starts; a problem
// throws KubernetesConfigError naming the flag.
import { credentials, KubernetesConfigError, type KubernetesCredentials, type KubernetesRuntimeOptions } from '../runtime/kubernetes/config.ts';
import { DEFAULT_NAMESPACE_PREFIX } from './lookup.ts';

export const CREDENTIALS_FLAGS = {
  enable: '--kubernetes-credentials',
  namespacePrefix: '--kubernetes-credentials-namespace-prefix',
} as const;

export interface KubernetesCredentialsConfig {
  /** a team's Secrets are in namespace `<namespacePrefix><team>` */
  namespacePrefix: string;
  /** how the web node reaches the API server (the runtime's kubeconfig flags) */
  credentials: KubernetesCredentials;
}

/** The flags as commander parses them, with the runtime's kubeconfig flags. */
export interface KubernetesCredentialsOptions extends Pick<KubernetesRuntimeOptions, 'kubernetesKubeconfig' | 'kubernetesContext' | 'kubernetesInCluster'> {
  kubernetesCredentials?: boolean;
  kubernetesCredentialsNamespacePrefix?: string;
}

/** A prefix that leaves a valid namespace name (a DNS-1123 label) for a team name after it. */
const PREFIX = /^([a-z0-9][-a-z0-9]*)?$/;
const MAX_PREFIX = 62;

/** The manager's configuration, or undefined when it is off; throws KubernetesConfigError naming the flag. */
export function kubernetesCredentialsConfig(opts: KubernetesCredentialsOptions): KubernetesCredentialsConfig | undefined {
  const prefix = opts.kubernetesCredentialsNamespacePrefix;
  if (opts.kubernetesCredentials !== true) {
    if (prefix !== undefined) throw new KubernetesConfigError(CREDENTIALS_FLAGS.namespacePrefix, `needs ${CREDENTIALS_FLAGS.enable}`);
    return undefined;
  }
  if (prefix !== undefined && (prefix.length > MAX_PREFIX || !PREFIX.test(prefix))) {
    throw new KubernetesConfigError(
      CREDENTIALS_FLAGS.namespacePrefix,
      `'${prefix}' cannot start a namespace name (lowercase letters, digits and '-', starting with a letter or digit, at most ${MAX_PREFIX} characters; the team name follows it)`,
    );
  }
  return { namespacePrefix: prefix ?? DEFAULT_NAMESPACE_PREFIX, credentials: credentials(opts) };
}

/**
 * What `GET /api/v1/info/creds` shows of the Kubernetes credential manager: Concourse's keys
 * (atc/creds/kubernetes/manager.go MarshalJSON), settings only, never a credential. Jetway has
 * no shared namespace (`namespace_shared_config` is empty).
 */
export function kubernetesCredentialsInfo(config: KubernetesCredentialsConfig): Record<string, string | boolean> {
  return {
    in_cluster_config: config.credentials.kind === 'in-cluster',
    config_path: config.credentials.kind === 'kubeconfig' ? config.credentials.path : '',
    namespace_config: config.namespacePrefix,
    namespace_shared_config: '',
  };
}
