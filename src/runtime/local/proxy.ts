// The operator's proxies for the local runtime's steps (`jetway web --local-http-proxy URL
// --local-https-proxy URL --local-no-proxy LIST`), as Concourse's worker gives its containers
// http_proxy, https_proxy and no_proxy (worker/workercmd/worker_config.go; the env is added in
// atc/worker/gardenruntime/worker.go containerEnv). Both cases: curl reads http_proxy in lower
// case only, many other tools (Go, Java's wrappers) the upper case. Pure, table-tested
// (test/runtime/local/proxy.test.ts). The values may hold a password: never log them.

export interface LocalProxies {
  /** http_proxy: the proxy for http:// URLs */
  http?: string;
  /** https_proxy: the proxy for https:// URLs */
  https?: string;
  /** no_proxy: hosts, domains and addresses reached directly, comma-separated */
  noProxy?: string;
}

/** The env every step gets from the operator's proxies (the step's own env and params go over it). */
export function proxyEnv(proxies: LocalProxies | undefined): Record<string, string> {
  const env: Record<string, string> = {};
  const set = (name: string, value: string | undefined): void => {
    if (value === undefined || value === '') return;
    env[name] = value;
    env[name.toUpperCase()] = value;
  };
  set('http_proxy', proxies?.http);
  set('https_proxy', proxies?.https);
  set('no_proxy', proxies?.noProxy);
  return env;
}
