// kube-sim's RBAC authorizer, server-side apply and printers as pure functions over a store:
// one test per row. (The stock kubectl against the whole cluster: test/cluster/kubectl.test.ts.)
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { CoreRegistry } from './apiserver/core.ts';
import { ObjectStore } from './apiserver/store.ts';
import { authorize, forbiddenMessage, withImplicitGroups, type Attributes } from './apiserver/rbac.ts';
import { serverSideApply, fromFieldsV1, leafPaths, toFieldsV1, updatedManagedFields } from './apiserver/apply.ts';
import { humanDuration, toTable } from './apiserver/tables.ts';
import { RESOURCES } from './apiserver/resources.ts';
import { ApiError } from './apiserver/status.ts';

function cluster(): CoreRegistry {
  const r = new CoreRegistry(new ObjectStore());
  r.bootstrap();
  r.create('namespaces', undefined, { metadata: { name: 'jetway' } });
  r.create('serviceaccounts', 'jetway', { metadata: { name: 'jetway' } });
  r.create('roles', 'jetway', {
    metadata: { name: 'runtime' },
    rules: [
      { apiGroups: [''], resources: ['pods'], verbs: ['create', 'get', 'list', 'watch', 'delete'] },
      { apiGroups: [''], resources: ['pods/exec'], verbs: ['create'] },
      { apiGroups: [''], resources: ['secrets'], resourceNames: ['only-this'], verbs: ['get'] },
    ],
  });
  r.create('rolebindings', 'jetway', {
    metadata: { name: 'runtime' },
    roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'runtime' },
    subjects: [{ kind: 'ServiceAccount', name: 'jetway', namespace: 'jetway' }],
  });
  r.create('clusterrolebindings', undefined, {
    metadata: { name: 'alice-view' },
    roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'view' },
    subjects: [{ kind: 'User', name: 'alice' }],
  });
  return r;
}

const sa = { username: 'system:serviceaccount:jetway:jetway', groups: withImplicitGroups('system:serviceaccount:jetway:jetway', []) };
const alice = { username: 'alice', groups: withImplicitGroups('alice', []) };
const admin = { username: 'admin', groups: withImplicitGroups('admin', ['system:masters']) };
const res = (verb: string, resource: string, namespace?: string, extra: Partial<Attributes> = {}): Attributes => ({ resourceRequest: true, verb, group: '', resource, ...(namespace ? { namespace } : {}), ...extra });

describe('RBAC authorization', () => {
  const r = cluster();
  const rows: [string, { username: string; groups: string[] }, Attributes, boolean][] = [
    ['a service account creates pods where its Role is bound', sa, res('create', 'pods', 'jetway'), true],
    ['…but not in another namespace', sa, res('create', 'pods', 'default'), false],
    ['…nor a verb its Role lacks', sa, res('update', 'pods', 'jetway'), false],
    ['pods/exec is its own resource', sa, res('create', 'pods', 'jetway', { subresource: 'exec' }), true],
    ['pods/log is not granted by pods', sa, res('get', 'pods', 'jetway', { subresource: 'log' }), false],
    ['resourceNames limit a rule to those names', sa, res('get', 'secrets', 'jetway', { name: 'only-this' }), true],
    ['…and other names are refused', sa, res('get', 'secrets', 'jetway', { name: 'other' }), false],
    ['…and a list (no name) is refused', sa, res('list', 'secrets', 'jetway'), false],
    ['the group must match (apps deployments)', sa, res('list', 'deployments', 'jetway', { group: 'apps' }), false],
    ['every authenticated user may ask SelfSubjectAccessReviews', sa, res('create', 'selfsubjectaccessreviews', undefined, { group: 'authorization.k8s.io' }), true],
    ['discovery is allowed (system:discovery)', sa, { resourceRequest: false, verb: 'get', path: '/apis/apps/v1' }, true],
    ['other non-resource paths are not', sa, { resourceRequest: false, verb: 'get', path: '/metrics' }, false],
    ['a ClusterRoleBinding to view reads everywhere', alice, res('list', 'pods', 'kube-system'), true],
    ['…but view does not read secrets', alice, res('get', 'secrets', 'default', { name: 'x' }), false],
    ['system:masters may do anything', admin, res('delete', 'namespaces', undefined, { name: 'x' }), true],
  ];
  for (const [name, user, attrs, allowed] of rows) {
    test(name, () => assert.equal(authorize(r.store, user, attrs).allowed, allowed));
  }
  test('the Forbidden message is the real authorizer\'s', () => {
    assert.equal(
      forbiddenMessage(sa, res('list', 'deployments', 'jetway', { group: 'apps' })),
      'deployments.apps is forbidden: User "system:serviceaccount:jetway:jetway" cannot list resource "deployments" in API group "apps" in the namespace "jetway"',
    );
  });
  test('a binding deleted takes the right away at once', () => {
    const r2 = cluster();
    r2.delete('rolebindings', 'jetway', 'runtime');
    assert.equal(authorize(r2.store, sa, res('create', 'pods', 'jetway')).allowed, false);
  });
});

describe('server-side apply', () => {
  const def = RESOURCES.configmaps;
  const cm = (data: Record<string, string>): Record<string, unknown> => ({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'c' }, data });
  const setup = (): CoreRegistry => {
    const r = cluster();
    if (!def) throw new Error('no configmaps');
    serverSideApply(r, def, 'jetway', 'c', cm({ a: '1', b: '2' }), 'first', false, false);
    return r;
  };
  test('an apply creates the object and records the applier\'s fields', () => {
    const obj = setup().find('configmaps', 'jetway', 'c');
    assert.deepEqual(obj?.data, { a: '1', b: '2' });
    assert.deepEqual((obj?.metadata?.managedFields as { manager: string; operation: string; fieldsV1: unknown }[]).map((m) => [m.manager, m.operation, m.fieldsV1]), [['first', 'Apply', { 'f:data': { 'f:a': {}, 'f:b': {} } }]]);
  });
  test('another manager changing an owned field conflicts (409)', () => {
    const r = setup();
    assert.throws(() => def && serverSideApply(r, def, 'jetway', 'c', cm({ a: '9' }), 'second', false, false), (e: unknown) => e instanceof ApiError && e.code === 409 && /conflict with "first" using v1: \.data\.a/.test(e.message));
  });
  test('the same value is shared without conflict', () => {
    const r = setup();
    if (def) serverSideApply(r, def, 'jetway', 'c', cm({ a: '1' }), 'second', false, false);
    assert.equal((r.find('configmaps', 'jetway', 'c')?.metadata?.managedFields as unknown[]).length, 2);
  });
  test('force takes the field over', () => {
    const r = setup();
    if (def) serverSideApply(r, def, 'jetway', 'c', cm({ a: '9' }), 'second', true, false);
    const obj = r.find('configmaps', 'jetway', 'c');
    assert.deepEqual(obj?.data, { a: '9', b: '2' });
    const first = (obj?.metadata?.managedFields as { manager: string; fieldsV1: unknown }[]).find((m) => m.manager === 'first');
    assert.deepEqual(first?.fieldsV1, { 'f:data': { 'f:b': {} } });
  });
  test('a field the applier no longer applies is removed', () => {
    const r = setup();
    if (def) serverSideApply(r, def, 'jetway', 'c', cm({ a: '1' }), 'first', false, false);
    assert.deepEqual(r.find('configmaps', 'jetway', 'c')?.data, { a: '1' });
  });
  test('a dry run stores nothing', () => {
    const r = cluster();
    if (def) serverSideApply(r, def, 'jetway', 'c', cm({ a: '1' }), 'first', false, true);
    assert.equal(r.find('configmaps', 'jetway', 'c'), undefined);
  });
  test('list items with names are fields of their own (k:{"name":…})', () => {
    const paths = leafPaths({ spec: { containers: [{ name: 'web', image: 'x' }] } });
    assert.deepEqual(paths, [['f:spec', 'f:containers', 'k:{"name":"web"}', 'f:name'], ['f:spec', 'f:containers', 'k:{"name":"web"}', 'f:image']]);
    assert.deepEqual(fromFieldsV1(toFieldsV1(paths)), paths);
  });
  test('an update owns the fields it changed', () => {
    const before = { metadata: { name: 'c' }, data: { a: '1' } };
    const after = { metadata: { name: 'c' }, data: { a: '1', b: '2' } };
    assert.deepEqual(updatedManagedFields(before, after, 'kubectl-edit', 'v1', undefined).map((e) => [e.manager, e.fieldsV1]), [['kubectl-edit', { 'f:data': { 'f:b': {} } }]]);
  });
});

describe('printing', () => {
  const rows: [number, string][] = [
    [5_000, '5s'],
    [119_000, '119s'],
    [150_000, '2m30s'],
    [45 * 60_000, '45m'],
    [5 * 3_600_000 + 7 * 60_000, '5h7m'],
    [30 * 3_600_000, '30h'],
    [3 * 86_400_000 + 4 * 3_600_000, '3d4h'],
    [40 * 86_400_000, '40d'],
  ];
  for (const [ms, text] of rows) test(`an age of ${ms} ms prints as ${text}`, () => assert.equal(humanDuration(ms), text));
  test('a pod row: ready count, status, restarts', () => {
    const table = toTable('Pod', 'v1', [{ metadata: { name: 'p', creationTimestamp: new Date().toISOString() }, spec: { containers: [{ name: 'a' }, { name: 'b' }], nodeName: 'n' }, status: { phase: 'Running', podIP: '10.0.0.2', containerStatuses: [{ name: 'a', ready: true, restartCount: 2, state: { running: {} } }, { name: 'b', ready: false, restartCount: 0, state: { waiting: { reason: 'CrashLoopBackOff' } } }] } }], '7', null) as { rows: { cells: unknown[] }[] };
    assert.deepEqual(table.rows[0]?.cells.slice(0, 4), ['p', '1/2', 'CrashLoopBackOff', 2]);
    assert.deepEqual(table.rows[0]?.cells.slice(5, 7), ['10.0.0.2', 'n']);
  });
});
