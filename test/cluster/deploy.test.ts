// Jetway deployed as a user deploys it (issue 20, part 3; docs/kubernetes-runtime.md, "Running
// Jetway in a cluster"): `jetway images push` to the cluster's registry, the namespace and the
// registry's pull secret, `kubectl apply -k` of deploy/ (an overlay with the user's edits: images,
// the Secret), then the web node with exactly the `jetway` service account's token, RBAC enforced,
// so a verb missing from deploy/rbac.yaml fails a step here. A pipeline whose job gets a mock
// resource (Jetway's mock-resource image, found next to the helper) and runs a task in a private
// registry-image goes green, and `kubectl auth can-i --list` answers what deploy/rbac.yaml grants.
//
// On the test cluster the web node runs IN the cluster, as the Deployment's pod: the kubelet gives
// it the `kubernetes` Service's address and the `jetway` service account's token, CA and namespace
// (test/kube-sim/kubelet/service-account.ts), so `--kubernetes-in-cluster` works unchanged. Its pods
// share the machine's network (test/kube-sim/kubelet/README.md), so the overlay sets the port it
// listens on (JETWAY_PORT, a free loopback port) and the external URL.
//
// Against a real cluster the web node runs OUTSIDE it (its Postgres is this machine's): from the
// pushed jetway/jetway image's own files (its Node and bundled command, pulled and unpacked here),
// with the Deployment's own arguments and environment, `--kubernetes-in-cluster` replaced by a
// kubeconfig holding exactly the service account's token (from `kubectl create token`); the
// overlay sets the Deployment's replicas to 0.
//
// Against a real cluster: JETWAY_TEST_REGISTRY=HOST[:PORT][/PREFIX] (a registry the cluster's nodes
// pull from; JETWAY_TEST_REGISTRY_USERNAME and JETWAY_TEST_REGISTRY_PASSWORD if it needs a login)
// and KUBECONFIG (an admin of the cluster). Both, or the test cluster is started here (./target.ts
// decides). The namespace is then jetway-e2e-<random>, deleted at the end.
import assert from 'node:assert/strict';
import { execFile, execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { after, before, test } from 'node:test';
import { promisify } from 'node:util';
import { parseAllDocuments, parse as parseYaml } from 'yaml';
import { RootfsBuilder } from '../../src/images/layers.ts';
import { parseManifest } from '../../src/images/oci.ts';
import { parseRepository } from '../../src/images/reference.ts';
import { RegistryClient, type RegistryCredentials } from '../../src/images/registry-client.ts';
import { newestModification } from '../../src/package.ts';
import { JETWAY_VERSION } from '../../src/version.ts';
import { startCluster, type Cluster } from '../kube-sim/cluster.ts';
import { clusterTarget } from './target.ts';
import { createEmptyDatabase, type TestDatabase } from '../support/db.ts';
import { freePort } from '../support/registry.ts';
import { jetway } from '../support/cli.ts';

const execFileAsync = promisify(execFile);
const REPO_ROOT = new URL('../../', import.meta.url).pathname;
// JETWAY_TEST_DEPLOY_DIR: another copy of deploy/ (to see this test fail with a verb taken out of rbac.yaml)
const DEPLOY = process.env.JETWAY_TEST_DEPLOY_DIR ?? join(REPO_ROOT, 'deploy');
const CHPST_BUSYBOX = '/var/cache/jetway/busybox/busybox-static-chpst';

const target = clusterTarget(process.env, randomBytes(3).toString('hex'));
const realCluster = target.kind === 'real';

/** kubectl 1.24 or newer (`kubectl create token`, kustomize's `patches:`), or why not. */
function kubectlProblem(): string | undefined {
  try {
    const out = execFileSync('kubectl', ['version', '--client', '-o', 'json'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
    const minor = Number.parseInt((JSON.parse(out) as { clientVersion?: { minor?: string } }).clientVersion?.minor ?? '0', 10);
    return minor >= 24 ? undefined : `kubectl 1.${minor} is older than 1.24 (no kubectl create token)`;
  } catch {
    return 'no kubectl on the PATH';
  }
}
const skip = kubectlProblem();
if (skip) console.log(`# deploy.test.ts skipped: ${skip}; the stock kubectl is what a user deploys with`);
else console.log(target.kind === 'real' ? `# deploy.test.ts on the cluster of ${target.kubeconfig}, namespace ${target.namespace}` : `# deploy.test.ts on the kube-sim test cluster: ${target.why}`);
const NAMESPACE = target.kind === 'real' ? target.namespace : 'jetway';

let dir: string;
let cluster: Cluster | undefined;
let kubeconfig: string;
let registry: string;
let registryCreds: RegistryCredentials | undefined;
let tdb: TestDatabase;
let web: ChildProcess | undefined;
let webUrl: string;
let webLog = '';
const adminPassword = `pw-${randomBytes(8).toString('hex')}`;
let pushed: { name: string; reference: string; digest: string }[] = [];
let sourcesAtPush = 0;
const savedHome = process.env.HOME;
const NODE_CACHE = process.env.JETWAY_CACHE_DIR ?? join(savedHome ?? tmpdir(), '.cache', 'jetway');

/** The stock kubectl; a failure throws with its stderr, or with `allowExit`, returns its stdout. */
async function kubectl(args: string[], options: { kubeconfig?: string; allowExit?: number } = {}): Promise<string> {
  try {
    return (await execFileAsync('kubectl', ['--kubeconfig', options.kubeconfig ?? kubeconfig, ...args], { maxBuffer: 16 << 20 })).stdout;
  } catch (err) {
    const e = err as { stdout?: string; stderr?: string; code?: number; message: string };
    if (options.allowExit !== undefined && e.code === options.allowExit) return `${e.stdout ?? ''}${e.stderr ?? ''}`;
    throw new Error(`kubectl ${args.join(' ')}: ${(e.stderr ?? e.message).trim()}`);
  }
}

before(async () => {
  if (skip) return;
  dir = mkdtempSync(join(tmpdir(), 'jetway-deploy-e2e-'));
  chmodSync(dir, 0o755);
  process.env.HOME = join(dir, 'home'); // jetway login's targets file
  mkdirSync(process.env.HOME);
  if (target.kind === 'real') {
    ({ kubeconfig, registry, credentials: registryCreds } = target);
  } else {
    registryCreds = { username: 'jetway', password: `reg-${randomBytes(8).toString('hex')}` };
    cluster = await startCluster({ stateDir: join(dir, 'cluster'), registryAuth: registryCreds });
    kubeconfig = cluster.kubeconfigPath;
    registry = cluster.registry?.host ?? '';
  }
  tdb = await createEmptyDatabase();
});

after(async () => {
  if (web && web.exitCode === null) {
    const exited = new Promise((r) => web?.once('exit', r));
    web.kill('SIGTERM');
    await Promise.race([exited, new Promise((r) => setTimeout(r, 15_000))]);
    if (web.exitCode === null) web.kill('SIGKILL');
  }
  if (realCluster) await kubectl(['delete', 'namespace', NAMESPACE, '--wait=false']).catch(() => undefined);
  await cluster?.stop();
  await tdb?.drop();
  process.env.HOME = savedHome;
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** The inputs of the images besides the sources: the busybox and the Node distribution's cache. */
function imageInputArgs(): string[] {
  const busybox = process.env.JETWAY_TEST_BUSYBOX ?? (existsSync(CHPST_BUSYBOX) ? CHPST_BUSYBOX : '/bin/busybox');
  // the Node distribution's cache of the user running the tests (HOME is a temporary one here)
  const args = ['--busybox', busybox, '--cache-dir', NODE_CACHE];
  // Debian's busybox-static has no chpst (scripts/build-busybox.sh builds one that has)
  if (!existsSync(CHPST_BUSYBOX) && !process.env.JETWAY_TEST_BUSYBOX) args.push('--allow-missing-applet', 'chpst');
  return args;
}

test('jetway images push: every image to the registry, each printed as repository@digest', { timeout: 1_200_000, skip }, async () => {
  sourcesAtPush = newestModification(join(REPO_ROOT, 'src')); // before the build reads them
  const passwordFile = join(dir, 'registry-password');
  writeFileSync(passwordFile, registryCreds?.password ?? '', { mode: 0o600 });
  const args = ['images', 'push', '--registry', registry, '--json', ...imageInputArgs()];
  if (registryCreds) args.push('--username', registryCreds.username, '--password-file', passwordFile);
  const r = await jetway(...args);
  assert.equal(r.code, 0, r.err);
  const out = JSON.parse(r.out) as { tag: string; images: { name: string; reference: string; digest: string; repository: string }[] };
  assert.equal(out.tag, JETWAY_VERSION);
  assert.deepEqual(
    out.images.map((i) => i.repository),
    ['jetway/jetway', 'jetway/helper', 'jetway/mock-resource', 'jetway/time-resource', 'jetway/git-resource', 'jetway/registry-image-resource'].map((p) => `${registry}/${p}`),
  );
  for (const i of out.images) assert.match(i.reference, /@sha256:[0-9a-f]{64}$/);
  pushed = out.images;
});

// Same inputs, same digests (issue 20): the web node's image pushed again by another process, the
// jetway command run from another working directory (esbuild's comments name modules relative to
// its working directory, which once made the bundles differ: src/packaging/images.ts) with the same
// busybox and Node as the first push.
test('the same inputs give the same web node image in another process and directory (deterministic digests)', { timeout: 1_200_000, skip }, async (t) => {
  const first = pushed.find((i) => i.name === 'web');
  assert.ok(first, 'the images were pushed');
  const env = { ...process.env, JETWAY_LOG_LEVEL: 'warn', ...(registryCreds ? { JETWAY_REGISTRY_USERNAME: registryCreds.username, JETWAY_REGISTRY_PASSWORD: registryCreds.password } : {}) };
  const elsewhere = join(dir, 'elsewhere');
  mkdirSync(elsewhere, { recursive: true });
  const { stdout } = await execFileAsync(process.execPath, [join(REPO_ROOT, 'bin', 'jetway.js'), 'images', 'push', '--registry', `${registry}/again`, '--only', 'web', '--json', ...imageInputArgs()], { env, cwd: elsewhere, maxBuffer: 16 << 20 });
  const again = (JSON.parse(stdout) as { images: { digest: string }[] }).images[0];
  // the web node's layer is built from src/: edited meanwhile (a working tree shared with an editor), the inputs differ
  if (newestModification(join(REPO_ROOT, 'src')) > sourcesAtPush) return t.skip('src/ changed between the two builds: different inputs');
  assert.equal(again?.digest, first.digest);
});

let webPort = 0;

/** The user's overlay of deploy/: their registry in `images:`, their Secret, and the port or replicas 0 (see the header). */
function writeOverlay(): string {
  const overlay = join(dir, 'overlay');
  mkdirSync(overlay, { recursive: true });
  writeFileSync(
    join(overlay, 'kustomization.yaml'),
    [
      'apiVersion: kustomize.config.k8s.io/v1beta1',
      'kind: Kustomization',
      ...(realCluster ? [`namespace: ${NAMESPACE}`] : []),
      'resources:',
      `  - ${relative(overlay, DEPLOY)}`,
      'images:',
      '  - name: jetway/jetway',
      `    newName: ${registry}/jetway/jetway`,
      '  - name: jetway/helper',
      `    newName: ${registry}/jetway/helper`,
      'patches:',
      '  - path: secret.yaml',
      `  - path: ${realCluster ? 'replicas.yaml' : 'listen.yaml'}`,
      '',
    ].join('\n'),
  );
  writeFileSync(
    join(overlay, 'secret.yaml'),
    `apiVersion: v1\nkind: Secret\nmetadata:\n  name: jetway\n  namespace: jetway\nstringData:\n  postgres-url: ${JSON.stringify(tdb.url)}\n  local-users: ${JSON.stringify(`admin:${adminPassword}`)}\n`,
  );
  writeFileSync(join(overlay, 'replicas.yaml'), 'apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: jetway-web\n  namespace: jetway\nspec:\n  replicas: 0\n');
  // the test cluster's pods share this machine's network: a free loopback port
  const listen = { JETWAY_PORT: String(webPort), JETWAY_BIND_IP: '127.0.0.1', JETWAY_EXTERNAL_URL: webUrl };
  writeFileSync(
    join(overlay, 'listen.yaml'),
    JSON.stringify({ apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'jetway-web', namespace: 'jetway' }, spec: { template: { spec: { containers: [{ name: 'web', env: Object.entries(listen).map(([name, value]) => ({ name, value })) }] } } } }),
  );
  return overlay;
}

interface Rendered {
  kind: string;
  metadata: { name: string; namespace?: string };
  spec?: { template?: { spec?: { containers?: { image: string; args: string[]; env: { name: string; value?: string }[] }[] } } };
}

let rendered: Rendered[] = [];

test('the namespace, the pull secret, then kubectl apply -k deploy/ (the overlay of a user) succeeds', { timeout: 300_000, skip }, async () => {
  webPort = await freePort();
  webUrl = `http://127.0.0.1:${webPort}`;
  const overlay = writeOverlay();
  rendered = parseAllDocuments(await kubectl(['kustomize', overlay])).map((d) => d.toJS() as Rendered);
  await kubectl(['create', 'namespace', NAMESPACE]);
  if (registryCreds) {
    const { registry: host } = parseRepository(`${registry}/jetway/helper`);
    const config = join(dir, 'dockerconfig.json');
    writeFileSync(config, JSON.stringify({ auths: { [host]: { username: registryCreds.username, password: registryCreds.password } } }), { mode: 0o600 });
    await kubectl(['-n', NAMESPACE, 'create', 'secret', 'generic', 'jetway-registry', '--type=kubernetes.io/dockerconfigjson', `--from-file=.dockerconfigjson=${config}`]);
  }
  const applied = await kubectl(['apply', '-k', overlay]);
  for (const object of ['serviceaccount/jetway', 'serviceaccount/jetway-step', 'role.rbac.authorization.k8s.io/jetway-runtime', 'rolebinding.rbac.authorization.k8s.io/jetway-runtime', 'secret/jetway', 'service/jetway-web', 'deployment.apps/jetway-web']) {
    assert.match(applied, new RegExp(`^${object.replace(/\./g, '\\.')} (created|configured|unchanged)$`, 'm'), applied);
  }
  const deployment = JSON.parse(await kubectl(['-n', NAMESPACE, 'get', 'deployment', 'jetway-web', '-o', 'json'])) as Rendered;
  const container = deployment.spec?.template?.spec?.containers?.[0];
  assert.equal(container?.image, `${registry}/jetway/jetway:${JETWAY_VERSION}`);
  assert.equal(container?.env.find((e) => e.name === 'JETWAY_KUBERNETES_HELPER_IMAGE')?.value, `${registry}/jetway/helper:${JETWAY_VERSION}`);
});

test('kubectl auth can-i --list for the jetway service account answers what deploy/rbac.yaml grants', { timeout: 120_000, skip }, async () => {
  const out = await kubectl(['auth', 'can-i', '--list', '-n', NAMESPACE, '--as', `system:serviceaccount:${NAMESPACE}:jetway`]);
  const granted = new Set<string>();
  for (const line of out.split('\n').slice(1)) {
    const m = /^(\S+)\s+\[(.*?)\]\s+\[(.*?)\]\s+\[(.*?)\]\s*$/.exec(line);
    if (!m?.[1]) continue; // a non-resource URL
    const resource = m[1];
    // what every authenticated user may do in any cluster (system:basic-user and the like)
    if (/^self\w+reviews\./.test(resource)) continue;
    for (const verb of (m[4] ?? '').split(' ').filter(Boolean)) granted.add(`${verb} ${resource}`);
  }
  const rbac = parseAllDocuments(readFileSync(join(DEPLOY, 'rbac.yaml'), 'utf8')).map((d) => d.toJS() as { kind: string; rules?: { apiGroups: string[]; resources: string[]; verbs: string[] }[] });
  const role = rbac.find((o) => o.kind === 'Role');
  const expected = new Set((role?.rules ?? []).flatMap((r) => r.apiGroups.flatMap((g) => r.resources.flatMap((res) => r.verbs.map((v) => `${v} ${g === '' ? res : `${res}.${g}`}`)))));
  assert.deepEqual([...granted].sort(), [...expected].sort(), out);
  // and for the step pods' account, nothing at all
  const step = await kubectl(['auth', 'can-i', 'create', 'pods', '-n', NAMESPACE, '--as', `system:serviceaccount:${NAMESPACE}:jetway-step`], { allowExit: 1 });
  assert.equal(step.trim(), 'no');
});

/** Pulls an image and unpacks its layers into `root`. */
async function unpackImage(reference: string, root: string): Promise<void> {
  const [repository, digest] = reference.split('@');
  const { registry: host, path } = parseRepository(repository ?? '');
  const client = new RegistryClient({ userAgent: 'jetway-deploy-e2e' });
  const manifest = await client.getManifest({ registry: host, path, reference: digest ?? '' }, registryCreds);
  const parsed = parseManifest(manifest.body, manifest.mediaType);
  assert.equal(parsed.kind, 'manifest');
  const builder = new RootfsBuilder(root);
  for (const layer of parsed.kind === 'manifest' ? parsed.manifest.layers : []) await builder.applyLayer(await client.getBlob({ registry: host, path }, layer.digest, registryCreds));
  builder.finish();
}

/** A kubeconfig with exactly the jetway service account's token, from the TokenRequest API. */
async function serviceAccountKubeconfig(): Promise<string> {
  const token = (await kubectl(['-n', NAMESPACE, 'create', 'token', 'jetway', '--duration', '1h'])).trim();
  const admin = parseYaml(readFileSync(kubeconfig, 'utf8')) as { clusters: { cluster: Record<string, unknown> }[]; 'current-context'?: string; contexts: { name: string; context: { cluster: string } }[] };
  const current = admin.contexts.find((c) => c.name === admin['current-context']) ?? admin.contexts[0];
  const clusterEntry = (admin.clusters as { name?: string; cluster: Record<string, unknown> }[]).find((c) => c.name === current?.context.cluster) ?? admin.clusters[0];
  const saKubeconfig = join(dir, 'kubeconfig-jetway');
  writeFileSync(
    saKubeconfig,
    JSON.stringify({
      apiVersion: 'v1',
      kind: 'Config',
      clusters: [{ name: 'c', cluster: clusterEntry?.cluster }],
      users: [{ name: 'jetway', user: { token } }],
      contexts: [{ name: 'c', context: { cluster: 'c', user: 'jetway', namespace: NAMESPACE } }],
      'current-context': 'c',
    }),
    { mode: 0o600 },
  );
  return saKubeconfig;
}

/**
 * A real cluster: the web node outside it, from the jetway/jetway image's own files, with exactly
 * the service account's token (see the header).
 */
async function startWebOutside(): Promise<void> {
  const image = pushed.find((i) => i.name === 'web');
  assert.ok(image, 'the images were pushed');
  const root = join(dir, 'web-rootfs');
  await unpackImage(image.reference, root);

  const saKubeconfig = await serviceAccountKubeconfig();
  // the Deployment's own arguments and environment, the in-cluster credentials swapped for the kubeconfig
  const deployment = rendered.find((o) => o.kind === 'Deployment');
  const container = deployment?.spec?.template?.spec?.containers?.[0];
  assert.ok(container);
  const port = webPort;
  const args = container.args.map((a) => (a === '--kubernetes-in-cluster' ? '--kubernetes-kubeconfig' : a === '$(POD_NAMESPACE)' ? NAMESPACE : a));
  args.splice(args.indexOf('--kubernetes-kubeconfig') + 1, 0, saKubeconfig);
  const dataDir = join(dir, 'web-data');
  mkdirSync(dataDir);
  const fromDeployment = Object.fromEntries(container.env.filter((e) => e.value !== undefined).map((e) => [e.name, e.value ?? '']));
  web = spawn(join(root, 'usr/local/bin/node'), [join(root, 'opt/jetway/dist/cli/jetway.mjs'), ...args, '--data-dir', dataDir, '--port', String(port), '--bind-ip', '127.0.0.1', '--external-url', webUrl, '--kubernetes-failed-pod-retention', '0s'], {
    env: {
      PATH: process.env.PATH ?? '',
      HOME: dataDir,
      ...fromDeployment,
      POD_NAMESPACE: NAMESPACE,
      JETWAY_POSTGRES_URL: tdb.url,
      JETWAY_ADD_LOCAL_USER: `admin:${adminPassword}`,
      JETWAY_LOG_LEVEL: 'info',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  web.stdout?.on('data', (d: Buffer) => (webLog = (webLog + d.toString()).slice(-20000)));
  web.stderr?.on('data', (d: Buffer) => (webLog = (webLog + d.toString()).slice(-20000)));
  const deadline = Date.now() + 120_000;
  for (;;) {
    if (web.exitCode !== null) assert.fail(`the web node exited ${web.exitCode}:\n${webLog}`);
    const ok = await fetch(`${webUrl}/api/v1/health`).then((r) => r.ok, () => false);
    if (ok) break;
    if (Date.now() > deadline) assert.fail(`the web node did not become healthy:\n${webLog}`);
    await new Promise((r) => setTimeout(r, 500));
  }
}

/** The test cluster: the Deployment's pod runs the web node with in-cluster configuration. */
async function waitForWebPod(): Promise<void> {
  const rollout = await kubectl(['-n', NAMESPACE, 'rollout', 'status', 'deployment/jetway-web', '--timeout=300s'], { allowExit: 1 });
  assert.match(rollout, /successfully rolled out/, `${rollout}\n${await webPodLog()}`);
  const pods = JSON.parse(await kubectl(['-n', NAMESPACE, 'get', 'pods', '-l', 'app.kubernetes.io/component=web', '-o', 'json'])) as { items: { metadata: { name: string }; spec: { serviceAccountName?: string }; status: { phase?: string } }[] };
  assert.equal(pods.items.length, 1);
  assert.equal(pods.items[0]?.spec.serviceAccountName, 'jetway');
  assert.equal(pods.items[0]?.status.phase, 'Running');
  const deadline = Date.now() + 180_000;
  for (;;) {
    const ok = await fetch(`${webUrl}/api/v1/health`).then((r) => r.ok, () => false);
    if (ok) break;
    if (Date.now() > deadline) assert.fail(`the web node's pod did not become healthy at ${webUrl}:\n${await webPodLog()}`);
    await new Promise((r) => setTimeout(r, 500));
  }
}

/** The web node's log: its pod's (kubectl logs), or the process's outside the cluster. */
async function webPodLog(): Promise<string> {
  if (realCluster) return webLog;
  return `--- kubectl logs deployment/jetway-web ---\n${await kubectl(['-n', NAMESPACE, 'logs', 'deployment/jetway-web', '--tail=200'], { allowExit: 1 }).catch((err: unknown) => String(err))}`;
}

test('the web node runs as the Deployment\'s pod (in-cluster configuration, the service account\'s token) and runs a pipeline green', { timeout: 900_000, skip }, async () => {
  // RBAC is enforced for the service account's token: what deploy/rbac.yaml does not grant is refused
  const saKubeconfig = await serviceAccountKubeconfig();
  const refused = await kubectl(['get', 'configmaps', '-n', NAMESPACE], { kubeconfig: saKubeconfig, allowExit: 1 });
  assert.match(refused, /configmaps is forbidden: User "system:serviceaccount:[\w-]+:jetway" cannot list/);
  if (realCluster) await startWebOutside();
  else await waitForWebPod();

  // log in and set a pipeline, as a user
  assert.equal((await jetway('login', '-t', 'e2e', '-c', webUrl, '-u', 'admin', '-p', adminPassword)).code, 0);
  const pipeline = join(dir, 'pipeline.yml');
  const source = { repository: `${registry}/jetway/helper`, tag: JETWAY_VERSION, ...(registryCreds ? { username: registryCreds.username, password: registryCreds.password } : {}) };
  writeFileSync(
    pipeline,
    JSON.stringify({
      resources: [{ name: 'ticket', type: 'mock', source: { initial_version: 'v1', create_files: { 'note.txt': 'from the mock resource' } } }],
      jobs: [
        {
          name: 'hello',
          plan: [
            { get: 'ticket', trigger: false },
            {
              task: 'say',
              config: {
                platform: 'linux',
                image_resource: { type: 'registry-image', source },
                inputs: [{ name: 'ticket' }],
                run: { path: 'sh', args: ['-c', 'echo hello from the cluster; cat ticket/note.txt'] },
              },
            },
          ],
        },
      ],
    }),
  );
  const set = await jetway('set-pipeline', '-t', 'e2e', '-p', 'e2e', '-c', pipeline, '-n');
  assert.equal(set.code, 0, set.err);
  assert.equal((await jetway('unpause-pipeline', '-t', 'e2e', '-p', 'e2e')).code, 0);
  const run = await jetway('trigger-job', '-t', 'e2e', '-j', 'e2e/hello', '-w');
  assert.equal(run.code, 0, `${run.out}\n${run.err}\n--- web node ---\n${await webPodLog()}`);
  assert.match(run.out, /hello from the cluster/);
  assert.match(run.out, /from the mock resource/);
  // the get ran in Jetway's mock-resource image (no --base-resource-type: found next to the helper,
  // pulled with the namespace's jetway-registry secret), the task in the private registry image
  assert.match(run.out, /succeeded/);
  // the web node's requests came with the jetway service account's token (the pod's, on the test cluster)
  if (cluster) assert.ok(cluster.audit.count({ verb: 'create', resource: 'pods', username: `system:serviceaccount:${NAMESPACE}:jetway` }) >= 1, 'step pods created by the jetway service account');
});
