// The Kubernetes credential manager end to end on the kube-sim cluster: Secrets created through
// the official client in `concourse-main`; pipelines that use `((api-token))` (team-scoped, with a
// pipeline-scoped override) and `((db.password))` (a map's field) with no var_sources; tasks that
// see the values, logs and events that never show them, one read per Secret per build, a missing
// var naming it, and a real 403 (a user without the grant) naming the namespace and the permission.
// On the Kubernetes runtime (task pods) and on the local runtime (host processes).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { CoreV1Api } from '@kubernetes/client-node';
import { startTestNode, type TestNode } from '../support/node.ts';
import { startKubeEnv, type KubeEnv } from '../runtime/kubernetes/support.ts';
import type { KubernetesRuntime } from '../../src/runtime/kubernetes/kubernetes-runtime.ts';
import type { CredentialManager } from '../../src/creds/credential-manager.ts';
import { createKubernetesCredentialManager } from '../../src/creds/kubernetes-api.ts';
import { createOneOffBuild } from '../../src/db/builds.ts';

const TEAM_TOKEN = 'team-token-3f9a2c';
const PIPELINE_TOKEN = 'pipeline-token-71be04';
const DB_PASSWORD = 'db-pass-8c1d5e';
const DB_USER = 'app-user-42';
const SECRETS = [TEAM_TOKEN, PIPELINE_TOKEN, DB_PASSWORD, DB_USER];

let env: KubeEnv;
let k8sNode: TestNode;
let runtime: KubernetesRuntime;
let localNode: TestNode;
/** the local node's credential manager, switched per test (another user, another prefix) */
let localManager: CredentialManager;

const sha256 = (s: string): string => createHash('sha256').update(s).digest('hex');
/** a shell test that `$VAR` holds `value`, without writing the value into the pipeline */
const holds = (variable: string, value: string): string => `[ "$(printf %s "$${variable}" | sha256sum | cut -d' ' -f1)" = ${sha256(value)} ]`;

/**
 * Tasks that print the vars (redacted in the logs) and check their values themselves; the first
 * also gets the token as an argument (`$0`), which the task events show redacted.
 */
const pipeline = (expectedToken: string, image: string): string => `
jobs:
- name: use
  plan:
  - task: first
    config:
      platform: linux
      ${image}
      params: {TOKEN: ((api-token)), DB_PASSWORD: ((db.password)), DB_USER: ((db.user))}
      run:
        path: sh
        args:
        - -ec
        - |
          echo "token=$TOKEN password=$DB_PASSWORD user=$DB_USER argument=$0"
          ${holds('TOKEN', expectedToken)} && ${holds('DB_PASSWORD', DB_PASSWORD)} && ${holds('DB_USER', DB_USER)} && [ "$0" = "$TOKEN" ] && echo first-saw-the-values
        - ((api-token))
  - task: second
    config:
      platform: linux
      ${image}
      params: {TOKEN: ((api-token)), DB: ((db.password))}
      run:
        path: sh
        args:
        - -ec
        - |
          ${holds('TOKEN', expectedToken)} && ${holds('DB', DB_PASSWORD)} && echo second-saw-the-values
- name: missing
  plan:
  - task: use
    config:
      platform: linux
      ${image}
      params: {X: ((no-such-secret)), Y: ((db.no-such-field))}
      run: {path: "true"}
`;

const K8S_IMAGE = 'image_resource: {type: mock, source: {mirror_self: true}}';
const LOCAL_IMAGE = 'rootfs_uri: docker:///busybox';

before(async () => {
  env = await startKubeEnv(['mock']);
  const api = env.kubeConfig().makeApiClient(CoreV1Api);
  await api.createNamespace({ body: { metadata: { name: 'concourse-main' } } });
  const secret = (name: string, stringData: Record<string, string>) => api.createNamespacedSecret({ namespace: 'concourse-main', body: { metadata: { name }, stringData } });
  await secret('api-token', { value: TEAM_TOKEN });
  await secret('creds.api-token', { value: PIPELINE_TOKEN });
  await secret('db', { user: DB_USER, password: DB_PASSWORD });
  // as `jetway web --kubernetes-credentials --kubernetes-kubeconfig <path>`
  const credentials = createKubernetesCredentialManager({ namespacePrefix: 'concourse-', credentials: { kind: 'kubeconfig', path: env.cluster.kubeconfigPath } });
  k8sNode = await startTestNode({ runtime: (root) => (runtime = env.runtime(root)), credentials });
  localNode = await startTestNode({ credentials: { name: 'kubernetes', forBuild: (scope) => localManager.forBuild(scope) } });
});
after(async () => {
  await runtime?.close();
  await k8sNode?.stop();
  await localNode?.stop();
  await env?.stop();
});

const secretReads = (name: string): number => env.cluster.audit.count({ verb: 'get', resource: 'secrets', namespace: 'concourse-main', name });

function assertNoSecretIn(text: string): void {
  for (const s of SECRETS) assert.ok(!text.includes(s), `a secret value leaked: ${s}`);
}

test('Kubernetes runtime: a pipeline-scoped Secret overrides the team one, a map gives its fields; values reach the task, never the logs', async () => {
  const id = await k8sNode.setPipeline('creds', pipeline(PIPELINE_TOKEN, K8S_IMAGE));
  const before = { pipelineToken: secretReads('creds.api-token'), teamToken: secretReads('api-token'), pipelineDb: secretReads('creds.db'), db: secretReads('db') };
  const build = await k8sNode.trigger(id, 'use');
  const logs = await k8sNode.logs(build.id);
  assert.equal(build.status, 'succeeded', logs);
  assert.match(logs, /first-saw-the-values/);
  assert.match(logs, /second-saw-the-values/);
  assert.match(logs, /token=\(\(redacted\)\) password=\(\(redacted\)\) user=\(\(redacted\)\) argument=\(\(redacted\)\)/);
  const events = await k8sNode.events(build.id);
  assertNoSecretIn(JSON.stringify(events));
  // the task's config in its events: the argument the var filled in, redacted
  const started = events.find((e) => e.event === 'start-task') as { data: { config: { run: { args: string[] } } } } | undefined;
  assert.equal(started?.data.config.run.args[2], '((redacted))');
  // one request per Secret per build (two tasks use them); the team token was never needed
  assert.deepEqual(
    { pipelineToken: secretReads('creds.api-token') - before.pipelineToken, teamToken: secretReads('api-token') - before.teamToken, pipelineDb: secretReads('creds.db') - before.pipelineDb, db: secretReads('db') - before.db },
    { pipelineToken: 1, teamToken: 0, pipelineDb: 1, db: 1 },
  );
});

test('Kubernetes runtime: another pipeline of the team gets the team-scoped Secret', async () => {
  const id = await k8sNode.setPipeline('other', pipeline(TEAM_TOKEN, K8S_IMAGE));
  const build = await k8sNode.trigger(id, 'use');
  const logs = await k8sNode.logs(build.id);
  assert.equal(build.status, 'succeeded', logs);
  assert.match(logs, /first-saw-the-values/);
  assertNoSecretIn(JSON.stringify(await k8sNode.events(build.id)));
});

test('a var no Secret provides fails the step naming it', async () => {
  const id = await k8sNode.setPipeline('creds', pipeline(PIPELINE_TOKEN, K8S_IMAGE));
  const build = await k8sNode.trigger(id, 'missing');
  assert.equal(build.status, 'errored');
  const logs = await k8sNode.logs(build.id);
  assert.match(logs, /undefined vars: no-such-secret, db\.no-such-field/);
  assertNoSecretIn(JSON.stringify(await k8sNode.events(build.id)));
});

test('local runtime: a web node allowed only `get secrets` in concourse-main (the optional RBAC) reads them', async () => {
  const kubeconfig = env.cluster.addUser('jetway-credentials', [{ verbs: ['get'], resources: ['secrets'], namespaces: ['concourse-main'] }]);
  localManager = createKubernetesCredentialManager({ namespacePrefix: 'concourse-', credentials: { kind: 'kubeconfig', path: kubeconfig } });
  const id = await localNode.setPipeline('creds', pipeline(PIPELINE_TOKEN, LOCAL_IMAGE));
  const build = await localNode.trigger(id, 'use');
  const logs = await localNode.logs(build.id);
  assert.equal(build.status, 'succeeded', logs);
  assert.match(logs, /first-saw-the-values/);
  assert.match(logs, /token=\(\(redacted\)\)/);
  assertNoSecretIn(JSON.stringify(await localNode.events(build.id)));
});

test('local runtime: a one-off build (no pipeline) reads only the team-scoped Secret', async () => {
  const kubeconfig = env.cluster.addUser('jetway-one-off', [{ verbs: ['get'], resources: ['secrets'], namespaces: ['concourse-main'] }]);
  localManager = createKubernetesCredentialManager({ namespacePrefix: 'concourse-', credentials: { kind: 'kubeconfig', path: kubeconfig } });
  const created = await createOneOffBuild(localNode.tdb.db, 1, {
    id: '1',
    task: { name: 'one-off', config: { platform: 'linux', params: { TOKEN: '((api-token))' }, run: { path: 'sh', args: ['-ec', `${holds('TOKEN', TEAM_TOKEN)} && echo one-off-saw-the-team-token`] } } },
  });
  localNode.engine.track(created.id);
  const build = await localNode.waitForBuild(created.id);
  const logs = await localNode.logs(build.id);
  assert.equal(build.status, 'succeeded', logs);
  assert.match(logs, /one-off-saw-the-team-token/);
  assert.deepEqual(
    env.cluster.audit.events({ verb: 'get', resource: 'secrets', username: 'jetway-one-off' }).map((e) => `${e.objectRef?.namespace}/${e.objectRef?.name}`),
    ['concourse-main/api-token'],
  );
});

test('a 403 errors the step naming the namespace and the missing permission, never a value', async () => {
  // allowed in concourse-main only; the team's Secrets looked for under another prefix
  const kubeconfig = env.cluster.addUser('jetway-elsewhere', [{ verbs: ['get'], resources: ['secrets'], namespaces: ['concourse-main'] }]);
  localManager = createKubernetesCredentialManager({ namespacePrefix: 'ci-', credentials: { kind: 'kubeconfig', path: kubeconfig } });
  const id = await localNode.setPipeline('creds', pipeline(PIPELINE_TOKEN, LOCAL_IMAGE));
  const build = await localNode.trigger(id, 'use');
  assert.equal(build.status, 'errored');
  const logs = await localNode.logs(build.id);
  assert.match(logs, /the Kubernetes API refused 'get' on 'secrets' in namespace 'ci-main'/);
  assert.match(logs, /grant Jetway's service account 'get' on secrets in that namespace \(see deploy\/optional\/kubernetes-credentials\.yaml\)/);
  assert.doesNotMatch(logs, /first-saw-the-values/);
  assertNoSecretIn(JSON.stringify(await localNode.events(build.id)));
  assert.ok(env.cluster.audit.count({ verb: 'get', resource: 'secrets', namespace: 'ci-main', username: 'jetway-elsewhere', code: 403 }) >= 1);
});
