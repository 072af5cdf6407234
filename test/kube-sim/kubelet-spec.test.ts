// The test cluster's containers get the local runtime's OCI spec (src/runtime/local/containers/
// oci-spec.ts) with Kubernetes' securityContext (test/kube-sim/kubelet/runtime.ts containerSpec).
// One test per row.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { changeCapabilities, DEFAULT_CAPABILITIES, ALL_CAPABILITIES } from '../../src/runtime/local/containers/oci-spec.ts';
import { containerSpec, type ContainerConfig } from './kubelet/runtime.ts';

const base: ContainerConfig = { id: 'c', bundle: '/b', imageRootfs: '/img', args: ['sh'], env: ['PATH=/bin'], cwd: '/', uid: 1000, gid: 1000, hostname: 'pod', mounts: [{ source: '/h/sa', destination: '/var/run/secrets/kubernetes.io/serviceaccount', readonly: true }] };

interface Spec {
  process: { capabilities: { bounding: string[] }; noNewPrivileges: boolean; user: { uid: number } };
  root: { path: string; readonly: boolean };
  mounts: { destination: string; options?: string[] }[];
  linux: { seccomp?: unknown; cgroupsPath?: string; namespaces: { type: string }[]; resources: { memory?: { limit: number } }; maskedPaths?: string[] };
}
const spec = (c: Partial<ContainerConfig>): Spec => containerSpec({ ...base, ...c }) as unknown as Spec;
const without = (...caps: string[]): string[] => DEFAULT_CAPABILITIES.filter((c) => !caps.includes(c));

const capabilityRows: { name: string; changes: Parameters<typeof changeCapabilities>[1]; want: readonly string[] }[] = [
  { name: 'none: the default set', changes: undefined, want: DEFAULT_CAPABILITIES },
  { name: 'drop ALL: none', changes: { drop: ['ALL'] }, want: [] },
  { name: 'drop NET_RAW (without CAP_)', changes: { drop: ['NET_RAW'] }, want: without('CAP_NET_RAW') },
  { name: 'drop cap_kill (lower case, with the prefix)', changes: { drop: ['cap_kill'] }, want: without('CAP_KILL') },
  { name: 'add SYS_ADMIN', changes: { add: ['SYS_ADMIN'] }, want: [...DEFAULT_CAPABILITIES, 'CAP_SYS_ADMIN'] },
  { name: 'drop ALL, add NET_BIND_SERVICE: only it', changes: { drop: ['ALL'], add: ['NET_BIND_SERVICE'] }, want: ['CAP_NET_BIND_SERVICE'] },
  { name: 'add ALL: every one', changes: { add: ['ALL'] }, want: ALL_CAPABILITIES },
  { name: 'add one already there: once', changes: { add: ['CHOWN'] }, want: DEFAULT_CAPABILITIES },
];
for (const row of capabilityRows) {
  test(`capabilities: ${row.name}`, () => {
    assert.deepEqual(changeCapabilities(DEFAULT_CAPABILITIES, row.changes), [...row.want]);
  });
}

test('a container: the default set, the pod user, a root that can be written, no seccomp, no cgroupsPath, no network namespace', () => {
  const s = spec({});
  assert.deepEqual(s.process.capabilities.bounding, [...DEFAULT_CAPABILITIES]);
  assert.equal(s.process.user.uid, 1000);
  assert.deepEqual(s.root, { path: '/b/rootfs', readonly: false });
  assert.equal(s.process.noNewPrivileges, false);
  assert.equal(s.linux.seccomp, undefined);
  assert.equal(s.linux.cgroupsPath, undefined);
  assert.deepEqual(s.linux.namespaces.map((n) => n.type), ['pid', 'ipc', 'uts', 'mount']);
  assert.ok(s.linux.maskedPaths?.includes('/proc/kcore'));
});

test('securityContext.capabilities drop ALL: an empty set', () => {
  assert.deepEqual(spec({ capabilities: { drop: ['ALL'] } }).process.capabilities.bounding, []);
});

test('privileged: every capability whatever securityContext.capabilities drops, nothing masked', () => {
  const s = spec({ privileged: true, capabilities: { drop: ['ALL'] } });
  assert.deepEqual(s.process.capabilities.bounding, [...ALL_CAPABILITIES]);
  assert.equal(s.linux.maskedPaths, undefined);
});

test('allowPrivilegeEscalation: false sets no_new_privs', () => {
  assert.equal(spec({ noNewPrivileges: true }).process.noNewPrivileges, true);
});

test('allowPrivilegeEscalation: false has no effect on a privileged container (the API server refuses the pair)', () => {
  assert.equal(spec({ noNewPrivileges: true, privileged: true }).process.noNewPrivileges, false);
});

test('readOnlyRootFilesystem: a read-only root', () => {
  assert.equal(spec({ readonlyRootfs: true }).root.readonly, true);
});

test('resources.limits.memory: the cgroup limit', () => {
  assert.equal(spec({ memoryLimit: 64 << 20 }).linux.resources.memory?.limit, 64 << 20);
});

test('a read-only volume mount is bound read-only', () => {
  const m = spec({}).mounts.find((x) => x.destination === '/var/run/secrets/kubernetes.io/serviceaccount');
  assert.ok(m?.options?.includes('ro'));
});
