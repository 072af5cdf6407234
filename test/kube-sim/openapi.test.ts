// unknownFields (apiserver/openapi.ts): what fieldValidation=Strict (kubectl apply's default) refuses.
// The server says v1.31 (/version) while its documents are 1.22's: fields added since are known
// through client-node's models, typos still refused. One test per row.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { unknownFields } from './apiserver/openapi.ts';
import { RESOURCES } from './apiserver/resources.ts';

type Rec = Record<string, unknown>;
const deployment = (podSpec: Rec): Rec => ({ apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'web' }, spec: { selector: { matchLabels: { app: 'web' } }, template: { metadata: { labels: { app: 'web' } }, spec: podSpec } } });
const container = (extra: Rec = {}): Rec => ({ name: 'c', image: 'i', ...extra });

const rows: { name: string; obj: Rec; unknown: string[] }[] = [
  { name: 'fields 1.22 has: none unknown', obj: deployment({ containers: [container({ ports: [{ containerPort: 8080 }] })] }), unknown: [] },
  { name: 'a typo in a container: refused with its path', obj: deployment({ containers: [container({ imag: 'x' })] }), unknown: ['spec.template.spec.containers[0].imag'] },
  { name: 'a typo at the top of the spec: refused', obj: { ...deployment({ containers: [container()] }), spec: { replica: 1 } }, unknown: ['spec.replica'] },
  { name: 'hostUsers (1.25) and os (1.23) on a pod spec: known', obj: deployment({ hostUsers: false, os: { name: 'linux' }, containers: [container()] }), unknown: [] },
  { name: "a sidecar's restartPolicy (1.28) on an init container: known", obj: deployment({ initContainers: [container({ restartPolicy: 'Always' })], containers: [container()] }), unknown: [] },
  { name: 'resizePolicy (1.27), appArmorProfile (1.30) and a grpc probe (1.23) on a container: known', obj: deployment({ containers: [container({ resizePolicy: [], securityContext: { appArmorProfile: { type: 'RuntimeDefault' } }, readinessProbe: { grpc: { port: 1 } } })] }), unknown: [] },
];

for (const row of rows) {
  test(`unknown fields: ${row.name}`, () => {
    assert.deepEqual(unknownFields(RESOURCES.deployments!, row.obj), row.unknown);
  });
}
