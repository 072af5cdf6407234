// deploy/optional/kubernetes-credentials.yaml: valid objects granting the credential manager
// exactly what it uses (get on secrets), in a team namespace, to the web node's service account.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { parseAllDocuments } from 'yaml';
import { CREDENTIAL_PERMISSIONS, CREDENTIALS_RBAC_FILE } from '../../src/creds/kubernetes.ts';
import { assertValidObject } from '../runtime/kubernetes/validate.ts';

interface Obj {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string };
  rules?: { apiGroups: string[]; resources: string[]; verbs: string[] }[];
  roleRef?: { apiGroup: string; kind: string; name: string };
  subjects?: { kind: string; name: string; namespace: string }[];
}

const objects = parseAllDocuments(readFileSync(new URL(`../../${CREDENTIALS_RBAC_FILE}`, import.meta.url), 'utf8')).map((d) => {
  assert.equal(d.errors.length, 0, d.errors.map((e) => e.message).join('; '));
  return d.toJS() as Obj;
});

test('the optional manifest: a ClusterRole with get on secrets, bound in the team namespace to the web node', () => {
  assert.deepEqual(objects.map((o) => `${o.kind}/${o.metadata.namespace ?? ''}/${o.metadata.name}`), ['ClusterRole//jetway-credentials', 'RoleBinding/concourse-main/jetway-credentials']);
  for (const o of objects) assert.doesNotThrow(() => assertValidObject(o), `${o.kind}/${o.metadata.name}`);
  const [role, binding] = objects as [Obj, Obj];
  const granted = role.rules!.flatMap((r) => r.apiGroups.flatMap((g) => r.resources.flatMap((res) => r.verbs.map((v) => `${v} ${g}/${res}`))));
  assert.deepEqual(granted, CREDENTIAL_PERMISSIONS.flatMap((p) => p.verbs.map((v) => `${v} ${p.apiGroup}/${p.resource}`)));
  assert.deepEqual(granted, ['get /secrets']);
  assert.deepEqual(binding.roleRef, { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'jetway-credentials' });
  // the web node's service account of deploy/rbac.yaml
  assert.deepEqual(binding.subjects, [{ kind: 'ServiceAccount', name: 'jetway', namespace: 'jetway' }]);
});
