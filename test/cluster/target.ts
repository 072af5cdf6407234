// Which cluster the cluster suites run against (issue 20: `npm run test:cluster` against any real
// cluster): KUBECONFIG (an admin of the cluster) and JETWAY_TEST_REGISTRY=HOST[:PORT][/PREFIX] (a
// registry its nodes pull from; JETWAY_TEST_REGISTRY_USERNAME and _PASSWORD if it needs a login)
// both set: that cluster, in a namespace of its own; otherwise the kube-sim test cluster the suite
// starts itself (test/kube-sim/apiserver/README.md). A pure decision; the suites do the starting.

export type ClusterTarget =
  | { kind: 'kube-sim'; why: string }
  | { kind: 'real'; kubeconfig: string; registry: string; credentials?: { username: string; password: string }; namespace: string };

export interface TargetEnv {
  KUBECONFIG?: string;
  JETWAY_TEST_REGISTRY?: string;
  JETWAY_TEST_REGISTRY_USERNAME?: string;
  JETWAY_TEST_REGISTRY_PASSWORD?: string;
}

/** The target from the environment; `suffix` names the real cluster's namespace (jetway-e2e-SUFFIX). Throws on a half-given login. */
export function clusterTarget(env: TargetEnv, suffix: string): ClusterTarget {
  const kubeconfig = env.KUBECONFIG ?? '';
  const registry = (env.JETWAY_TEST_REGISTRY ?? '').trim().replace(/\/+$/, '');
  const username = env.JETWAY_TEST_REGISTRY_USERNAME ?? '';
  const password = env.JETWAY_TEST_REGISTRY_PASSWORD ?? '';
  if ((username === '') !== (password === '')) {
    throw new Error(`JETWAY_TEST_REGISTRY_${username === '' ? 'PASSWORD' : 'USERNAME'} is set but JETWAY_TEST_REGISTRY_${username === '' ? 'USERNAME' : 'PASSWORD'} is not: give both for a registry login, or neither`);
  }
  if (kubeconfig === '' && registry === '') return { kind: 'kube-sim', why: 'neither KUBECONFIG nor JETWAY_TEST_REGISTRY is set' };
  if (registry === '') return { kind: 'kube-sim', why: 'KUBECONFIG is set but JETWAY_TEST_REGISTRY is not (a real cluster needs the registry its nodes pull from)' };
  if (kubeconfig === '') return { kind: 'kube-sim', why: 'JETWAY_TEST_REGISTRY is set but KUBECONFIG is not' };
  if (/\s|:\/\//.test(registry)) throw new Error(`JETWAY_TEST_REGISTRY: "${registry}" is not HOST[:PORT][/PREFIX] (no scheme, no spaces)`);
  if (!/^[a-z0-9]{1,16}$/.test(suffix)) throw new Error(`cluster target: namespace suffix "${suffix}" is not 1-16 lower-case letters or digits`);
  return { kind: 'real', kubeconfig, registry, ...(username !== '' ? { credentials: { username, password } } : {}), namespace: `jetway-e2e-${suffix}` };
}

/** A skip reason for a test needing a kube-sim-only feature (its audit log, fault injection, pull stats) on a real cluster, else false. */
export function kubeSimOnly(target: ClusterTarget, needs: string): string | false {
  return target.kind === 'real' ? `needs the test cluster's ${needs}, which a real cluster does not offer` : false;
}
