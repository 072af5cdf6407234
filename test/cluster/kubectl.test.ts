// The stock kubectl against the test cluster (issue 20, part 2): TLS with the cluster's CA,
// discovery, OpenAPI (server-side field validation), RBAC enforced for service account tokens,
// auth can-i (with --as), apply -k deploy/ (read-only), server-side apply, --dry-run=server,
// Deployments with rollout status, scale and undo, table output (-o wide, get -w), logs, exec,
// delete, events.
// The in-memory FakeKubelet stands in for the node (no images, no runc); still, each kubectl call
// costs a process and discovery (seconds on a loaded machine), so this file is in test/cluster/
// (npm run test:cluster), not in npm test. Skipped, with a message, where kubectl is absent.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { parseAllDocuments } from 'yaml';
import { startCluster, type Cluster } from '../kube-sim/cluster.ts';
import { FakeKubelet } from '../kube-sim/apiserver/fake-kubelet.ts';

const KUBECTL = ['/usr/bin/kubectl', '/usr/local/bin/kubectl'].find((p) => existsSync(p));
const REPO_ROOT = new URL('../../', import.meta.url).pathname;

interface Run {
  code: number;
  out: string;
  err: string;
}

// kubectl's discovery and HTTP caches live under HOME: one per test run, so a cache of another
// server that had the same port is never read
let home = tmpdir();

function kubectl(kubeconfig: string, args: string[], input?: string): Promise<Run> {
  return new Promise((resolve) => {
    const child = execFile(KUBECTL ?? 'kubectl', args, { env: { PATH: process.env.PATH ?? '', HOME: home, KUBECONFIG: kubeconfig }, timeout: 60_000 }, (err, out, errOut) => {
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, out, err: errOut });
    });
    if (input !== undefined) child.stdin?.end(input);
  });
}

async function ok(kubeconfig: string, args: string[], input?: string): Promise<string> {
  const r = await kubectl(kubeconfig, args, input);
  assert.equal(r.code, 0, `kubectl ${args.join(' ')} failed: ${r.err}`);
  return r.out;
}

async function waitFor<T>(fn: () => Promise<T | undefined>, what: string, ms = 20_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe('the stock kubectl against kube-sim', { skip: KUBECTL ? false : 'kubectl is not installed (Debian: apt-get install kubernetes-client)' }, () => {
  let cluster: Cluster;
  let kc: string;
  let kubelet: FakeKubelet;
  let dir: string;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'kube-sim-kubectl-'));
    home = dir;
    kubelet = new FakeKubelet();
    cluster = await startCluster({ stateDir: dir, registry: false, kubeletFactory: () => kubelet });
    kc = cluster.kubeconfigPath;
    // deploy/ as a user applies it (the Secret's placeholders are fine here)
    await ok(kc, ['apply', '-k', join(REPO_ROOT, 'deploy')]);
  });

  after(async () => {
    await cluster?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('trusts the cluster through the CA in the kubeconfig and sends the bearer token', async () => {
    const config = readFileSync(kc, 'utf8');
    assert.match(config, /certificate-authority-data: /);
    assert.doesNotMatch(config, /insecure-skip-tls-verify/);
    assert.match(cluster.server, /^https:/);
    assert.match(await ok(kc, ['get', 'namespaces']), /^jetway\s+Active\s+\S+$/m);
  });

  it('applies deploy/ (kubectl apply -k): every object is there, and a second apply changes nothing', async () => {
    const out = await ok(kc, ['apply', '-k', join(REPO_ROOT, 'deploy')]);
    // the Secret's stringData is never stored (it becomes data), so client-side apply patches it
    // again each time, as against a real cluster
    for (const line of out.trim().split('\n')) assert.match(line, line.startsWith('secret/') ? / configured$/ : / unchanged$/, out);
    const names = await ok(kc, ['-n', 'jetway', 'get', 'serviceaccounts,roles,rolebindings,secrets,services,deployments', '-o', 'name']);
    for (const n of ['serviceaccount/jetway', 'serviceaccount/jetway-step', 'role.rbac.authorization.k8s.io/jetway-runtime', 'rolebinding.rbac.authorization.k8s.io/jetway-runtime', 'secret/jetway', 'service/jetway-web', 'deployment.apps/jetway-web']) {
      assert.ok(names.split('\n').includes(n), `${n} in ${names}`);
    }
  });

  it('answers kubectl auth can-i --as the jetway service account exactly as deploy/rbac.yaml grants', async () => {
    const docs = parseAllDocuments(readFileSync(join(REPO_ROOT, 'deploy/rbac.yaml'), 'utf8')).map((d) => d.toJSON() as { kind?: string; rules?: { resources: string[]; verbs: string[] }[] });
    const granted = new Set((docs.find((d) => d.kind === 'Role')?.rules ?? []).flatMap((r) => r.resources.flatMap((res) => r.verbs.map((v) => `${v} ${res}`))));
    assert.ok(granted.size > 0);
    const as = ['--as', 'system:serviceaccount:jetway:jetway'];
    for (const resource of ['pods', 'pods/exec', 'pods/log', 'secrets', 'events', 'deployments']) {
      for (const verb of ['create', 'get', 'list', 'delete', 'update']) {
        // kubectl's `pods/exec` would be the pod named exec: a subresource is --subresource
        const [res, sub] = resource.split('/') as [string, string | undefined];
        const r = await kubectl(kc, ['auth', 'can-i', verb, res, ...(sub ? [`--subresource=${sub}`] : []), '-n', 'jetway', ...as]);
        assert.equal(r.out.trim(), granted.has(`${verb} ${resource}`) ? 'yes' : 'no', `can-i ${verb} ${resource}`);
      }
    }
    // and nothing in another namespace
    assert.equal((await kubectl(kc, ['auth', 'can-i', 'create', 'pods', '-n', 'default', ...as])).out.trim(), 'no');
    assert.equal((await kubectl(kc, ['auth', 'can-i', '--list', '-n', 'jetway', ...as])).code, 0);
  });

  it('enforces RBAC for a service account token: the Role\'s verbs work, others are Forbidden', async () => {
    const token = (await ok(kc, ['-n', 'jetway', 'create', 'token', 'jetway'])).trim();
    assert.match(token, /^[\w-]+\.[\w-]+\.[\w-]+$/);
    const sa = join(dir, 'kubeconfig-jetway-sa');
    writeFileSync(sa, readFileSync(kc, 'utf8').replace(/token: .*/, `token: ${JSON.stringify(token)}`).replace(/user: "kube-sim-admin"|name: "kube-sim-admin"/g, (m) => m.replace('kube-sim-admin', 'jetway')), { mode: 0o600 });
    assert.match(await ok(sa, ['-n', 'jetway', 'get', 'pods']), /jetway-web-/);
    const denied = await kubectl(sa, ['-n', 'jetway', 'get', 'deployments']);
    assert.notEqual(denied.code, 0);
    assert.match(denied.err, /deployments.apps is forbidden: User "system:serviceaccount:jetway:jetway" cannot list resource "deployments" in API group "apps" in the namespace "jetway"/);
    const elsewhere = await kubectl(sa, ['-n', 'default', 'get', 'pods']);
    assert.match(elsewhere.err, /cannot list resource "pods" in API group "" in the namespace "default"/);
    // impersonation is the admin's: the service account may not use --as
    const impersonate = await kubectl(sa, ['-n', 'jetway', 'get', 'pods', '--as', 'someone']);
    assert.match(impersonate.err, /cannot impersonate resource "users"/);
    // a token from the helper and `kubectl create token` are the same kind of credential
    assert.match(await ok(cluster.serviceAccountKubeconfig('jetway', 'jetway'), ['-n', 'jetway', 'get', 'secrets', 'jetway', '-o', 'name']), /secret\/jetway/);
  });

  it('validates on the server: --dry-run=server stores nothing, an unknown field is rejected', async () => {
    const cm = 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: dry\n  namespace: jetway\ndata:\n  a: "1"\n';
    assert.match(await ok(kc, ['apply', '--dry-run=server', '-f', '-'], cm), /configmap\/dry created \(server dry run\)/);
    assert.match((await kubectl(kc, ['-n', 'jetway', 'get', 'configmap', 'dry'])).err, /NotFound|not found/);
    const typo = 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: typo\n  namespace: jetway\ndatta:\n  a: "1"\n';
    const r = await kubectl(kc, ['apply', '-f', '-'], typo);
    assert.notEqual(r.code, 0);
    assert.match(r.err, /unknown field "datta"/);
  });

  it('applies server-side: managedFields, a conflict with another manager, --force-conflicts', async () => {
    const cm = (v: string): string => `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: ssa\n  namespace: jetway\ndata:\n  key: "${v}"\n`;
    assert.match(await ok(kc, ['apply', '--server-side', '-f', '-'], cm('1')), /configmap\/ssa serverside-applied/);
    const live = JSON.parse(await ok(kc, ['-n', 'jetway', 'get', 'configmap', 'ssa', '-o', 'json', '--show-managed-fields'])) as { metadata: { managedFields: { manager: string; operation: string; fieldsV1: unknown }[] } };
    assert.deepEqual(
      live.metadata.managedFields.map((m) => [m.manager, m.operation, m.fieldsV1]),
      [['kubectl', 'Apply', { 'f:data': { 'f:key': {} } }]],
    );
    const conflict = await kubectl(kc, ['apply', '--server-side', '--field-manager', 'other', '-f', '-'], cm('2'));
    assert.notEqual(conflict.code, 0);
    assert.match(conflict.err, /conflict with "kubectl"/);
    assert.match(await ok(kc, ['apply', '--server-side', '--field-manager', 'other', '--force-conflicts', '-f', '-'], cm('2')), /serverside-applied/);
    assert.equal(await ok(kc, ['-n', 'jetway', 'get', 'configmap', 'ssa', '-o', 'jsonpath={.data.key}']), '2');
  });

  it('rolls a Deployment out: kubectl rollout status waits for the ReplicaSet\'s pods', async () => {
    const out = await ok(kc, ['-n', 'jetway', 'rollout', 'status', 'deployment/jetway-web', '--timeout=30s']);
    assert.match(out, /deployment "jetway-web" successfully rolled out/);
    await ok(kc, ['-n', 'jetway', 'set', 'image', 'deployment/jetway-web', 'web=jetway/jetway:0.2.0']);
    assert.match(await ok(kc, ['-n', 'jetway', 'rollout', 'status', 'deployment/jetway-web', '--timeout=30s']), /successfully rolled out/);
    const rs = await ok(kc, ['-n', 'jetway', 'get', 'replicasets', '-o', 'custom-columns=NAME:.metadata.name,DESIRED:.spec.replicas,REV:.metadata.annotations.deployment\\.kubernetes\\.io/revision', '--no-headers']);
    assert.deepEqual(rs.trim().split('\n').map((l) => l.trim().split(/\s+/).slice(1)).sort(), [['0', '1'], ['1', '2']]);
  });

  it('prints tables with the real columns, -o wide included', async () => {
    const pods = await ok(kc, ['-n', 'jetway', 'get', 'pods', '-o', 'wide']);
    assert.match(pods, /^NAME\s+READY\s+STATUS\s+RESTARTS\s+AGE\s+IP\s+NODE\s+NOMINATED NODE\s+READINESS GATES$/m);
    assert.match(pods, /^jetway-web-\S+\s+1\/1\s+Running\s+0\s+\S+\s+10\.0\.0\.2\s+kube-sim-node\s+<none>\s+<none>$/m);
    const deploy = await ok(kc, ['-n', 'jetway', 'get', 'deployments', '-o', 'wide']);
    assert.match(deploy, /^NAME\s+READY\s+UP-TO-DATE\s+AVAILABLE\s+AGE\s+CONTAINERS\s+IMAGES\s+SELECTOR$/m);
    assert.match(deploy, /^jetway-web\s+1\/1\s+1\s+1\s+\S+\s+web\s+jetway\/jetway:0\.2\.0\s+app\.kubernetes\.io\/component=web,app\.kubernetes\.io\/name=jetway$/m);
    const svc = await ok(kc, ['-n', 'jetway', 'get', 'services']);
    assert.match(svc, /^NAME\s+TYPE\s+CLUSTER-IP\s+EXTERNAL-IP\s+PORT\(S\)\s+AGE$/m);
    assert.match(svc, /^jetway-web\s+ClusterIP\s+10\.96\.\d+\.\d+\s+<none>\s+8080\/TCP\s+\S+$/m);
    assert.match(await ok(kc, ['get', 'services', '-n', 'default']), /^kubernetes\s+ClusterIP\s+10\.96\.0\.1\s+<none>\s+443\/TCP/m);
  });

  it('reads logs and runs commands in a pod (kubectl logs, kubectl exec)', async () => {
    const pod = (await ok(kc, ['-n', 'jetway', 'get', 'pods', '-o', 'jsonpath={.items[0].metadata.name}'])).trim();
    kubelet.appendLog('jetway', pod, 'web', 'listening on :8080');
    assert.equal(await ok(kc, ['-n', 'jetway', 'logs', pod]), 'listening on :8080\n');
    assert.equal(await ok(kc, ['-n', 'jetway', 'exec', pod, '--', 'echo', 'hello', 'kubectl']), 'hello kubectl\n');
    const failed = await kubectl(kc, ['-n', 'jetway', 'exec', pod, '--', 'exit', '3']);
    assert.equal(failed.code, 3);
  });

  it('records the Scheduled event once per pod', async () => {
    const pod = (await ok(kc, ['-n', 'jetway', 'get', 'pods', '-o', 'jsonpath={.items[0].metadata.name}'])).trim();
    const events = await ok(kc, ['-n', 'jetway', 'get', 'events', '--field-selector', `involvedObject.name=${pod},reason=Scheduled`, '-o', 'name']);
    assert.equal(events.trim().split('\n').length, 1, events);
  });

  it('scales a Deployment through its scale subresource (kubectl scale)', async () => {
    assert.match(await ok(kc, ['-n', 'jetway', 'scale', 'deployment', 'jetway-web', '--replicas=2']), /deployment\.apps\/jetway-web scaled/);
    assert.match(await ok(kc, ['-n', 'jetway', 'rollout', 'status', 'deployment/jetway-web', '--timeout=30s']), /successfully rolled out/);
    const scale = JSON.parse(await ok(kc, ['-n', 'jetway', 'get', 'deployment', 'jetway-web', '--subresource=scale', '-o', 'json'])) as { kind: string; apiVersion: string; spec: { replicas: number }; status: { replicas: number; selector: string } };
    assert.deepEqual([scale.kind, scale.apiVersion, scale.spec.replicas, scale.status.replicas, scale.status.selector], ['Scale', 'autoscaling/v1', 2, 2, 'app.kubernetes.io/component=web,app.kubernetes.io/name=jetway']);
    assert.match(await ok(kc, ['-n', 'jetway', 'get', 'deployment', 'jetway-web']), /^jetway-web\s+2\/2\s+2\s+2\s+\S+$/m);
    // --current-replicas is a precondition the server's Scale answers
    const refused = await kubectl(kc, ['-n', 'jetway', 'scale', 'deployment', 'jetway-web', '--current-replicas=5', '--replicas=1']);
    assert.notEqual(refused.code, 0);
    assert.match(refused.err, /Expected replicas to be 5, was 2/);
    await ok(kc, ['-n', 'jetway', 'scale', 'deployment', 'jetway-web', '--replicas=1']);
    await waitFor(async () => ((await ok(kc, ['-n', 'jetway', 'get', 'pods', '--no-headers'])).trim().split('\n').length === 1 ? true : undefined), 'one pod');
  });

  it('rolls a Deployment back (kubectl rollout undo): the earlier ReplicaSet comes back with the next revision', async () => {
    assert.match(await ok(kc, ['-n', 'jetway', 'rollout', 'undo', 'deployment/jetway-web']), /deployment\.apps\/jetway-web rolled back/);
    assert.match(await ok(kc, ['-n', 'jetway', 'rollout', 'status', 'deployment/jetway-web', '--timeout=30s']), /successfully rolled out/);
    const rs = await ok(kc, ['-n', 'jetway', 'get', 'replicasets', '-o', 'custom-columns=DESIRED:.spec.replicas,REV:.metadata.annotations.deployment\\.kubernetes\\.io/revision,IMAGE:.spec.template.spec.containers[0].image', '--no-headers']);
    // two ReplicaSets still (no third for a template seen before): revision 1's is revision 3 now
    assert.deepEqual(rs.trim().split('\n').map((l) => l.trim().split(/\s+/)).sort(), [['0', '2', 'jetway/jetway:0.2.0'], ['1', '3', 'jetway/jetway:0.1.0']]);
    const history = await ok(kc, ['-n', 'jetway', 'rollout', 'history', 'deployment/jetway-web']);
    assert.deepEqual(history.trim().split('\n').slice(2).map((l) => l.trim().split(/\s+/)[0]), ['2', '3']);
  });

  it('watches with table output (kubectl get -w): each change is a row with the real columns', async () => {
    const child = execFile(KUBECTL ?? 'kubectl', ['-n', 'jetway', 'get', 'pods', '-w'], { env: { PATH: process.env.PATH ?? '', HOME: home, KUBECONFIG: kc }, timeout: 60_000 });
    let out = '';
    child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
    try {
      await waitFor(async () => (/^NAME\s+READY\s+STATUS\s+RESTARTS\s+AGE$/m.test(out) && out.trim().split('\n').length >= 2 ? true : undefined), 'the table', 30_000);
      await ok(kc, ['-n', 'jetway', 'scale', 'deployment', 'jetway-web', '--replicas=2']);
      // the new pod appears as rows of the same table (not NAME/AGE only, kubectl's fallback for plain objects)
      await waitFor(async () => (out.trim().split('\n').length >= 3 ? true : undefined), 'a watch event', 30_000);
      const rows = out.trim().split('\n').slice(1);
      for (const row of rows) assert.match(row, /^jetway-web-\S+\s+\d\/1\s+(Pending|ContainerCreating|Running|Terminating)\s+\d+\s+\S+$/, out);
    } finally {
      child.kill();
    }
  });

  it('deletes a Deployment with its ReplicaSets and pods (garbage collection)', async () => {
    await ok(kc, ['-n', 'jetway', 'delete', 'deployment', 'jetway-web']);
    await waitFor(async () => ((await ok(kc, ['-n', 'jetway', 'get', 'replicasets,pods', '-o', 'name'])).trim() === '' ? true : undefined), 'no replicasets and pods');
  });
});
