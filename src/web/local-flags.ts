// The local runtime's flags of `jetway web` (docs/local-containers.md): the proxies every step
// gets (as a Concourse worker's --http-proxy, --https-proxy, --no-proxy) and how long a failed
// step's container is kept for intercept (as --kubernetes-failed-pod-retention). Checked before
// anything starts; a mistake names its flag, and a proxy URL is never echoed (it may hold a password).
import type { LocalProxies } from '../runtime/local/proxy.ts';
import { checkNoProxy, checkProxyUrl, FlagError, parseDurationOrZero } from './options.ts';

export const LOCAL_FLAGS = {
  httpProxy: '--local-http-proxy',
  httpsProxy: '--local-https-proxy',
  noProxy: '--local-no-proxy',
  failedContainerRetention: '--local-failed-container-retention',
} as const;

export interface LocalFlagValues {
  runtime: string;
  localHttpProxy?: string;
  localHttpsProxy?: string;
  localNoProxy?: string;
  localFailedContainerRetention?: string;
}

/** The web node's options from the local runtime's flags (a FlagError names the flag). */
export function localRuntimeFlags(flags: LocalFlagValues): { localProxies?: LocalProxies; localFailedContainerRetentionMs?: number } {
  const values: [string | undefined, string][] = [
    [flags.localHttpProxy, LOCAL_FLAGS.httpProxy],
    [flags.localHttpsProxy, LOCAL_FLAGS.httpsProxy],
    [flags.localNoProxy, LOCAL_FLAGS.noProxy],
    [flags.localFailedContainerRetention, LOCAL_FLAGS.failedContainerRetention],
  ];
  if (flags.runtime !== 'local') {
    for (const [value, flag] of values) if (value !== undefined) throw new FlagError(`${flag}: needs --runtime local`);
    return {};
  }
  const http = checkProxyUrl(flags.localHttpProxy, LOCAL_FLAGS.httpProxy);
  const https = checkProxyUrl(flags.localHttpsProxy, LOCAL_FLAGS.httpsProxy);
  const noProxy = checkNoProxy(flags.localNoProxy, LOCAL_FLAGS.noProxy);
  const retentionMs = parseDurationOrZero(flags.localFailedContainerRetention, LOCAL_FLAGS.failedContainerRetention);
  const localProxies: LocalProxies = { ...(http ? { http } : {}), ...(https ? { https } : {}), ...(noProxy ? { noProxy } : {}) };
  return {
    ...(Object.keys(localProxies).length > 0 ? { localProxies } : {}),
    ...(retentionMs !== undefined ? { localFailedContainerRetentionMs: retentionMs } : {}),
  };
}
