// The credential manager's flags of `jetway web`: --kubernetes-credentials[=BOOL] (off by
// default), --kubernetes-credentials-namespace-prefix (default concourse-), the runtime's
// kubeconfig flags also with --runtime local; bad values are usage errors naming the flag.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { credentialsFlags, kubernetesFlags } from '../../src/cli/commands/web.ts';
import { kubernetesCredentialsConfig, kubernetesCredentialsInfo, type KubernetesCredentialsConfig } from '../../src/creds/config.ts';
import { KubernetesConfigError } from '../../src/runtime/kubernetes/config.ts';
import { FlagError } from '../../src/web/options.ts';
import { jetway } from '../support/cli.ts';

const base = { port: '8080', bindIp: '0.0.0.0', dataDir: '/tmp/x', addLocalUser: [], mainTeamLocalUser: [], logLevel: 'info', runtime: 'local' };

test('off by default; on with the default prefix and the default kubeconfig', () => {
  assert.equal(kubernetesCredentialsConfig({}), undefined);
  assert.equal(credentialsFlags(base), undefined);
  assert.equal(credentialsFlags({ ...base, kubernetesCredentials: 'false' }), undefined);
  assert.deepEqual(credentialsFlags({ ...base, kubernetesCredentials: true }), { namespacePrefix: 'concourse-', credentials: { kind: 'default' } });
  assert.deepEqual(credentialsFlags({ ...base, kubernetesCredentials: 'true' }), { namespacePrefix: 'concourse-', credentials: { kind: 'default' } });
});

test('the prefix and the kubeconfig flags, with either runtime', () => {
  assert.deepEqual(
    credentialsFlags({ ...base, kubernetesCredentials: true, kubernetesCredentialsNamespacePrefix: 'ci-', kubernetesKubeconfig: '/k/config', kubernetesContext: 'prod' }),
    { namespacePrefix: 'ci-', credentials: { kind: 'kubeconfig', path: '/k/config', context: 'prod' } },
  );
  assert.deepEqual(credentialsFlags({ ...base, kubernetesCredentials: true, kubernetesCredentialsNamespacePrefix: '' }), { namespacePrefix: '', credentials: { kind: 'default' } });
  assert.deepEqual(credentialsFlags({ ...base, runtime: 'kubernetes', kubernetesCredentials: true, kubernetesInCluster: true }), { namespacePrefix: 'concourse-', credentials: { kind: 'in-cluster' } });
  // the kubeconfig flags are the credential manager's too: accepted with the local runtime
  assert.equal(kubernetesFlags({ ...base, kubernetesCredentials: true, kubernetesKubeconfig: '/k/config', kubernetesContext: 'prod' }), undefined);
  assert.equal(kubernetesFlags({ ...base, kubernetesCredentials: true, kubernetesInCluster: true }), undefined);
});

test('bad values name the flag', () => {
  const flagError = (fn: () => unknown, pattern: RegExp): void => {
    assert.throws(fn, (err: unknown) => (err instanceof KubernetesConfigError || err instanceof FlagError) && pattern.test(err.message));
  };
  flagError(() => credentialsFlags({ ...base, kubernetesCredentials: 'maybe' }), /^--kubernetes-credentials: 'maybe' is not a boolean/);
  flagError(() => credentialsFlags({ ...base, kubernetesCredentialsNamespacePrefix: 'ci-' }), /^--kubernetes-credentials-namespace-prefix: needs --kubernetes-credentials$/);
  for (const prefix of ['Concourse-', 'ci_', '-ci', 'ci.', 'x'.repeat(63)]) {
    flagError(() => credentialsFlags({ ...base, kubernetesCredentials: true, kubernetesCredentialsNamespacePrefix: prefix }), new RegExp(`^--kubernetes-credentials-namespace-prefix: '${prefix.replace('.', '\\.')}' cannot start a namespace name`));
  }
  flagError(() => credentialsFlags({ ...base, kubernetesCredentials: true, kubernetesInCluster: true, kubernetesKubeconfig: '/k' }), /^--kubernetes-in-cluster: give either/);
  // without the credential manager, the kubeconfig flags still need the Kubernetes runtime
  flagError(() => kubernetesFlags({ ...base, kubernetesKubeconfig: '/k/config' }), /^--kubernetes-kubeconfig: needs --runtime kubernetes or --kubernetes-credentials$/);
  flagError(() => kubernetesFlags({ ...base, kubernetesCredentials: 'false', kubernetesContext: 'prod' }), /^--kubernetes-context: needs --runtime kubernetes or --kubernetes-credentials$/);
  // the runtime's own flags are not the credential manager's
  flagError(() => kubernetesFlags({ ...base, kubernetesCredentials: true, kubernetesNamespace: 'ci' }), /^--kubernetes-namespace: needs --runtime kubernetes$/);
});

test('jetway web: bad credential flags are usage errors naming the flag, before anything starts', async () => {
  const prefix = await jetway('web', '--add-local-user', 'a:b', '--kubernetes-credentials', '--kubernetes-credentials-namespace-prefix', 'Bad_');
  assert.equal(prefix.code, 2);
  assert.match(prefix.err, /--kubernetes-credentials-namespace-prefix: 'Bad_' cannot start a namespace name/);
  const alone = await jetway('web', '--add-local-user', 'a:b', '--kubernetes-credentials-namespace-prefix', 'ci-');
  assert.equal(alone.code, 2);
  assert.match(alone.err, /--kubernetes-credentials-namespace-prefix: needs --kubernetes-credentials/);
  const bool = await jetway('web', '--add-local-user', 'a:b', '--kubernetes-credentials=sometimes');
  assert.equal(bool.code, 2);
  assert.match(bool.err, /--kubernetes-credentials: 'sometimes' is not a boolean/);
  const kubeconfig = await jetway('web', '--add-local-user', 'a:b', '--kubernetes-kubeconfig', '/nowhere');
  assert.equal(kubeconfig.code, 2);
  assert.match(kubeconfig.err, /--kubernetes-kubeconfig: needs --runtime kubernetes or --kubernetes-credentials/);
});

test('jetway web --help documents the flags', async () => {
  const help = await jetway('web', '--help');
  assert.equal(help.code, 0);
  assert.match(help.out, /--kubernetes-credentials \[bool\]/);
  assert.match(help.out, /--kubernetes-credentials-namespace-prefix <prefix>/);
  assert.match(help.out, /default\s+concourse-/);
});

// GET /api/v1/info/creds shows the manager's settings with Concourse's keys, never a credential
const infoRows: { name: string; config: KubernetesCredentialsConfig; expected: Record<string, string | boolean> }[] = [
  {
    name: 'in-cluster',
    config: { namespacePrefix: 'concourse-', credentials: { kind: 'in-cluster' } },
    expected: { in_cluster_config: true, config_path: '', namespace_config: 'concourse-', namespace_shared_config: '' },
  },
  {
    name: 'a kubeconfig file',
    config: { namespacePrefix: 'ci-', credentials: { kind: 'kubeconfig', path: '/etc/jetway/kubeconfig', context: 'prod' } },
    expected: { in_cluster_config: false, config_path: '/etc/jetway/kubeconfig', namespace_config: 'ci-', namespace_shared_config: '' },
  },
  {
    name: "client-node's default",
    config: { namespacePrefix: 'concourse-', credentials: { kind: 'default' } },
    expected: { in_cluster_config: false, config_path: '', namespace_config: 'concourse-', namespace_shared_config: '' },
  },
];
for (const row of infoRows) test(`kubernetesCredentialsInfo: ${row.name}`, () => assert.deepEqual(kubernetesCredentialsInfo(row.config), row.expected));
