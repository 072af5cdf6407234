// The scale subresource's decisions (test/kube-sim/apiserver/scale.ts). One test per row.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { replicasOf, scaleOf } from './apiserver/scale.ts';
import { ApiError } from './apiserver/status.ts';
import type { KubeObject } from './apiserver/store.ts';

const deployment = (spec: Record<string, unknown>, status: Record<string, unknown> = {}): KubeObject => ({
  kind: 'Deployment',
  apiVersion: 'apps/v1',
  metadata: { name: 'web', namespace: 'ns', uid: 'u1', resourceVersion: '7', creationTimestamp: '2026-01-01T00:00:00Z' },
  spec,
  status,
});

const scaleRows: { name: string; object: KubeObject; spec: unknown; status: unknown }[] = [
  { name: 'replicas and selector', object: deployment({ replicas: 3, selector: { matchLabels: { b: '2', a: '1' } } }, { replicas: 2 }), spec: { replicas: 3 }, status: { replicas: 2, selector: 'a=1,b=2' } },
  { name: 'no replicas in the spec: 1 (the default)', object: deployment({ selector: { matchLabels: { a: '1' } } }), spec: { replicas: 1 }, status: { replicas: 0, selector: 'a=1' } },
  { name: 'no selector: none in the status', object: deployment({ replicas: 0 }), spec: { replicas: 0 }, status: { replicas: 0 } },
  { name: 'a set-based selector', object: deployment({ replicas: 1, selector: { matchExpressions: [{ key: 'tier', operator: 'In', values: ['web', 'api'] }] } }), spec: { replicas: 1 }, status: { replicas: 0, selector: 'tier in (web,api)' } },
];
for (const row of scaleRows) {
  test(`Scale of a Deployment: ${row.name}`, () => {
    const scale = scaleOf(row.object);
    assert.equal(scale.kind, 'Scale');
    assert.equal(scale.apiVersion, 'autoscaling/v1');
    assert.deepEqual(scale.metadata, { name: 'web', namespace: 'ns', uid: 'u1', resourceVersion: '7', creationTimestamp: '2026-01-01T00:00:00Z' });
    assert.deepEqual(scale.spec, row.spec);
    assert.deepEqual(scale.status, row.status);
  });
}

const current = deployment({ replicas: 1 });
const writeRows: { name: string; body: unknown; want: number | { code: number; message: RegExp } }[] = [
  { name: 'replicas 3', body: { spec: { replicas: 3 } }, want: 3 },
  { name: 'replicas 0', body: { spec: { replicas: 0 } }, want: 0 },
  { name: 'the current resourceVersion', body: { metadata: { resourceVersion: '7' }, spec: { replicas: 2 } }, want: 2 },
  { name: 'another resourceVersion: 409', body: { metadata: { resourceVersion: '6' }, spec: { replicas: 2 } }, want: { code: 409, message: /Operation cannot be fulfilled on deployments "web"/ } },
  { name: 'negative: 422 naming spec.replicas', body: { spec: { replicas: -1 } }, want: { code: 422, message: /Scale "web" is invalid: spec\.replicas: Invalid value: -1/ } },
  { name: 'a fraction: 422', body: { spec: { replicas: 1.5 } }, want: { code: 422, message: /spec\.replicas/ } },
  { name: 'a string: 422', body: { spec: { replicas: '3' } }, want: { code: 422, message: /spec\.replicas/ } },
  { name: 'no spec: 422', body: {}, want: { code: 422, message: /Invalid value: null/ } },
];
for (const row of writeRows) {
  test(`a Scale written: ${row.name}`, () => {
    if (typeof row.want === 'number') assert.equal(replicasOf(row.body, current, 'deployments'), row.want);
    else {
      const want = row.want;
      assert.throws(() => replicasOf(row.body, current, 'deployments'), (e: unknown) => e instanceof ApiError && e.code === want.code && want.message.test(e.message));
    }
  });
}
