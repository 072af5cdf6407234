// The manifests in deploy/: every object valid against the Kubernetes schema, the Role granting
// exactly what the runtime uses, and the pieces wired together (service account, secret keys,
// probes, images of this version).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { parse as parseYaml, parseAllDocuments } from 'yaml';
import { RUNTIME_PERMISSIONS, forbiddenMessage, permissionPairs } from '../../../src/runtime/kubernetes/permissions.ts';
import { kubernetesRuntimeConfig } from '../../../src/runtime/kubernetes/config.ts';
import { JETWAY_VERSION } from '../../../src/version.ts';
import { assertValidObject } from './validate.ts';

const DEPLOY = new URL('../../../deploy/', import.meta.url).pathname;

interface Obj {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string };
  [key: string]: unknown;
}

function load(file: string): Obj[] {
  const docs = parseAllDocuments(readFileSync(join(DEPLOY, file), 'utf8'));
  return docs.map((d) => {
    assert.equal(d.errors.length, 0, `${file}: ${d.errors.map((e) => e.message).join('; ')}`);
    return d.toJS() as Obj;
  }).filter((o) => o !== null);
}

const manifests = readdirSync(DEPLOY).filter((f) => f.endsWith('.yaml') && f !== 'kustomization.yaml' && f !== 'kustomizeconfig.yaml').sort();
const objects = manifests.flatMap((f) => load(f).map((o) => ({ file: f, o })));
const find = <T>(kind: string, name: string): T => {
  const hit = objects.find(({ o }) => o.kind === kind && o.metadata.name === name);
  assert.ok(hit, `${kind} ${name}`);
  return hit.o as unknown as T;
};

test('every manifest is valid against the Kubernetes schema, in the jetway namespace', () => {
  assert.deepEqual(manifests, ['namespace.yaml', 'rbac.yaml', 'secret.yaml', 'web.yaml']);
  const kinds = objects.map(({ o }) => `${o.kind}/${o.metadata.name}`).sort();
  assert.deepEqual(kinds, [
    'Deployment/jetway-web',
    'Namespace/jetway',
    'Role/jetway-runtime',
    'RoleBinding/jetway-runtime',
    'Secret/jetway',
    'Service/jetway-web',
    'ServiceAccount/jetway',
    'ServiceAccount/jetway-step',
  ]);
  for (const { file, o } of objects) {
    assert.doesNotThrow(() => assertValidObject(o), `${file}: ${o.kind}/${o.metadata.name}`);
    if (o.kind !== 'Namespace') assert.equal(o.metadata.namespace, 'jetway', `${o.kind}/${o.metadata.name}`);
  }
  const kustomization = readFileSync(join(DEPLOY, 'kustomization.yaml'), 'utf8');
  for (const f of manifests) assert.ok(kustomization.includes(`- ${f}`), `kustomization lists ${f}`);
});

test('the validator rejects what the API server would (so the test above can fail)', () => {
  const pod = { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'Bad_Name', labels: { 'jetway.dev/x': 'not ok!' } }, spec: { containers: [{ name: 'c', image: 'i', volumeMounts: [{ name: 'missing', mountPath: 'rel' }] }] } };
  assert.throws(() => assertValidObject(pod), (err: unknown) => {
    const m = err instanceof Error ? err.message : '';
    return /metadata.name 'Bad_Name'/.test(m) && /value 'not ok!'/.test(m) && /undeclared volume 'missing'/.test(m) && /mountPath 'rel'/.test(m);
  });
  assert.throws(() => assertValidObject({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'x' }, spec: { containers: [{ name: 'c', securityContext: { privileged: 'yes' } }] } }), /schema/);
  assert.throws(() => assertValidObject({ apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'Role', metadata: { name: 'r' }, rules: [{ apiGroups: [''], resources: ['pods'] }] }), /verbs/);
});

test('the Role grants exactly the permissions the runtime uses', () => {
  const role = find<{ rules: { apiGroups: string[]; resources: string[]; verbs: string[]; resourceNames?: string[] }[] }>('Role', 'jetway-runtime');
  const granted = role.rules
    .flatMap((r) => r.apiGroups.flatMap((g) => r.resources.flatMap((res) => r.verbs.map((v) => `${v} ${g === '' ? '' : `${g}/`}${res}`))))
    .sort();
  assert.deepEqual(granted, permissionPairs());
  assert.ok(role.rules.every((r) => !r.verbs.includes('*') && !r.resources.includes('*')));
  for (const p of RUNTIME_PERMISSIONS) for (const v of p.verbs) assert.ok(p.why[v], `why ${v} ${p.resource}`);
  assert.deepEqual(permissionPairs(), [
    'create pods',
    'create pods/exec',
    'create secrets',
    'delete pods',
    'delete secrets',
    'get pods',
    'get pods/log',
    'get secrets',
    'list events',
    'list pods',
    'patch pods',
    'watch events',
    'watch pods',
  ]);
  const binding = find<{ roleRef: { name: string; kind: string }; subjects: { kind: string; name: string; namespace: string }[] }>('RoleBinding', 'jetway-runtime');
  assert.deepEqual(binding.roleRef.kind, 'Role');
  assert.deepEqual(binding.roleRef.name, 'jetway-runtime');
  assert.deepEqual(binding.subjects, [{ kind: 'ServiceAccount', name: 'jetway', namespace: 'jetway' }]);
});

test('a 403 names the missing permission', () => {
  const m = forbiddenMessage('create', 'pods/exec', 'ci', 'pods "x" is forbidden');
  assert.match(m, /refused 'create' on 'pods\/exec' in namespace 'ci' \(needed to run resource scripts/);
  assert.match(m, /deploy\/rbac\.yaml\): pods "x" is forbidden$/);
  assert.match(forbiddenMessage('deletecollection', 'pods', undefined), /refused 'deletecollection' on 'pods'; grant it/);
});

test('the web Deployment: the runtime flags parse, secrets wired, probes on /api/v1/health, images of this version', () => {
  interface Container {
    image: string;
    args: string[];
    env: { name: string; valueFrom?: { secretKeyRef?: { name: string; key: string } } }[];
    readinessProbe: { httpGet: { path: string; port: string } };
    livenessProbe: { httpGet: { path: string; port: string } };
    ports: { name: string; containerPort: number }[];
  }
  const deployment = find<{ spec: { replicas: number; strategy: { type: string }; template: { spec: { serviceAccountName: string; containers: Container[] } } } }>('Deployment', 'jetway-web');
  assert.equal(deployment.spec.replicas, 1);
  assert.equal(deployment.spec.strategy.type, 'Recreate');
  assert.equal(deployment.spec.template.spec.serviceAccountName, 'jetway');
  const [web] = deployment.spec.template.spec.containers;
  assert.ok(web);
  assert.equal(web.image, `jetway/jetway:${JETWAY_VERSION}`);
  assert.deepEqual(web.args.slice(0, 3), ['web', '--runtime', 'kubernetes']);
  const flag = (name: string): string | undefined => web.args[web.args.indexOf(name) + 1];
  assert.equal(flag('--kubernetes-service-account'), 'jetway-step');
  // the flags given parse (the namespace comes from the downward API through $(POD_NAMESPACE))
  const cfg = kubernetesRuntimeConfig({ kubernetesInCluster: web.args.includes('--kubernetes-in-cluster'), kubernetesServiceAccount: flag('--kubernetes-service-account'), kubernetesNamespace: 'jetway' });
  assert.deepEqual(cfg.credentials, { kind: 'in-cluster' });
  assert.equal(flag('--kubernetes-namespace'), '$(POD_NAMESPACE)');
  assert.ok(web.env.some((e) => e.name === 'POD_NAMESPACE'));
  const secret = find<{ stringData: Record<string, string> }>('Secret', 'jetway');
  for (const [envName, key] of [['JETWAY_POSTGRES_URL', 'postgres-url'], ['JETWAY_ADD_LOCAL_USER', 'local-users']] as const) {
    const entry: Container['env'][number] | undefined = web.env.find((e) => e.name === envName);
    assert.deepEqual(entry?.valueFrom?.secretKeyRef, { name: 'jetway', key }, envName);
    assert.ok(secret.stringData[key], key);
  }
  assert.equal(web.readinessProbe.httpGet.path, '/api/v1/health');
  assert.equal(web.livenessProbe.httpGet.path, '/api/v1/health');
  assert.equal(web.readinessProbe.httpGet.port, 'http');
  assert.deepEqual(web.ports, [{ name: 'http', containerPort: 8080 }]);
  const service = find<{ spec: { selector: Record<string, string>; ports: { targetPort: string }[] } }>('Service', 'jetway-web');
  assert.deepEqual(service.spec.selector, { 'app.kubernetes.io/name': 'jetway', 'app.kubernetes.io/component': 'web' });
  assert.equal(service.spec.ports[0]?.targetPort, 'http');
  const step = find<{ automountServiceAccountToken: boolean }>('ServiceAccount', 'jetway-step');
  assert.equal(step.automountServiceAccountToken, false);
});

test("kustomize's images: name the web node's and the helper's images, this version; the built-in types follow the helper", () => {
  const kustomization = parseYaml(readFileSync(join(DEPLOY, 'kustomization.yaml'), 'utf8')) as { images: { name: string; newName: string; newTag: string }[]; configurations: string[] };
  assert.deepEqual(kustomization.images, [
    { name: 'jetway/jetway', newName: 'jetway/jetway', newTag: JETWAY_VERSION },
    { name: 'jetway/helper', newName: 'jetway/helper', newTag: JETWAY_VERSION },
  ]);
  assert.deepEqual(kustomization.configurations, ['kustomizeconfig.yaml']);
  const deployment = find<{ spec: { template: { spec: { containers: { env: { name: string; value?: string }[] }[] } } } }>('Deployment', 'jetway-web');
  const helper = deployment.spec.template.spec.containers[0]?.env.find((e) => e.name === 'JETWAY_KUBERNETES_HELPER_IMAGE')?.value;
  assert.equal(helper, `jetway/helper:${JETWAY_VERSION}`);
  const cfg = kubernetesRuntimeConfig({ kubernetesHelperImage: helper ?? '' });
  assert.equal(cfg.baseResourceTypes.git, `jetway/git-resource:${JETWAY_VERSION}`);
  for (const name of ['jetway', 'jetway-step']) {
    assert.deepEqual(find<{ imagePullSecrets: { name: string }[] }>('ServiceAccount', name).imagePullSecrets, [{ name: 'jetway-registry' }], name);
  }
});

test('kubectl kustomize: one images: edit points the web node, the helper and so the resource types at a registry', { skip: !hasKubectl() && 'no kubectl on the PATH' }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'jetway-kustomize-'));
  try {
    const reg = 'registry.example.com:5000/team';
    writeFileSync(
      join(dir, 'kustomization.yaml'),
      `resources:\n  - ${relative(dir, DEPLOY)}\nimages:\n  - name: jetway/jetway\n    newName: ${reg}/jetway/jetway\n  - name: jetway/helper\n    newName: ${reg}/jetway/helper\n    newTag: "0.2.0"\n`,
    );
    const out = execFileSync('kubectl', ['kustomize', dir], { encoding: 'utf8' });
    const rendered = parseAllDocuments(out).map((d) => d.toJS() as Obj);
    const deployment = rendered.find((o) => o.kind === 'Deployment') as unknown as { spec: { template: { spec: { containers: { image: string; env: { name: string; value?: string }[] }[] } } } };
    const web = deployment.spec.template.spec.containers[0];
    assert.equal(web?.image, `${reg}/jetway/jetway:${JETWAY_VERSION}`);
    const helper = web?.env.find((e) => e.name === 'JETWAY_KUBERNETES_HELPER_IMAGE')?.value;
    assert.equal(helper, `${reg}/jetway/helper:0.2.0`);
    assert.equal(kubernetesRuntimeConfig({ kubernetesHelperImage: helper ?? '' }).baseResourceTypes['registry-image'], `${reg}/jetway/registry-image-resource:0.2.0`);
    assert.equal(web?.env.find((e) => e.name === 'POD_NAMESPACE')?.value, undefined, 'other env values are left alone');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

function hasKubectl(): boolean {
  try {
    execFileSync('kubectl', ['version', '--client'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}
