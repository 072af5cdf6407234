// The container runtime's pure decisions: one test per row.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  capabilitiesWithin,
  cpuShares,
  DEFAULT_CAPABILITIES,
  envMap,
  ociSpec,
  parsePasswd,
  processEnv,
  resolveUser,
  type SpecOptions,
} from '../../../../src/runtime/local/containers/oci-spec.ts';
import { resolveInsideRoot } from '../../../../src/runtime/local/containers/rootfs.ts';
import { startReason } from '../../../../src/runtime/local/containers/runc.ts';

const db = parsePasswd('root:x:0:0::/root:/bin/sh\nnonroot:x:1000:1000::/home/nonroot:/bin/sh\nbroken line\n', 'root:x:0:\nnonroot:x:1000:\nextra:x:2000:nonroot\nstaff:x:50:\n');

const userRows: [string, ReturnType<typeof resolveUser>][] = [
  ['nonroot', { ok: true, uid: 1000, gid: 1000, additionalGids: [2000] }],
  ['root', { ok: true, uid: 0, gid: 0, additionalGids: [] }],
  ['1000', { ok: true, uid: 1000, gid: 1000, additionalGids: [2000] }],
  ['4242', { ok: true, uid: 4242, gid: 0, additionalGids: [] }],
  ['nonroot:staff', { ok: true, uid: 1000, gid: 50, additionalGids: [2000] }],
  ['4242:77', { ok: true, uid: 4242, gid: 77, additionalGids: [] }],
  ['ghost', { ok: false, message: "no user 'ghost' in the image's /etc/passwd" }],
  ['nonroot:ghosts', { ok: false, message: "no group 'ghosts' in the image's /etc/group" }],
  ['', { ok: false, message: "'' names no user" }],
  ['99999999999', { ok: false, message: 'user id 99999999999 is out of range' }],
];
for (const [spec, expected] of userRows) {
  test(`resolveUser('${spec}')`, () => assert.deepEqual(resolveUser(spec, db), expected));
}

const base: SpecOptions = {
  process: { args: ['sh'], env: [], cwd: '/tmp/build/x', uid: 0, gid: 0 },
  rootfs: '/r/rootfs',
  hostname: 'x',
  mounts: [],
  privileged: false,
  isolatedNetwork: false,
  cgroupsPath: '/jetway/x',
};
const linux = (o: Partial<SpecOptions>): Record<string, unknown> => ociSpec({ ...base, ...o }).linux as Record<string, unknown>;
const proc = (o: Partial<SpecOptions>): { capabilities: { bounding: string[] } } => ociSpec({ ...base, ...o }).process as { capabilities: { bounding: string[] } };

test('unprivileged: Docker’s capabilities', () => assert.deepEqual(proc({}).capabilities.bounding, [...DEFAULT_CAPABILITIES]));
test('unprivileged: seccomp refuses mount, unshare, keyctl, bpf', () => {
  const seccomp = linux({}).seccomp as { syscalls: { names: string[]; action: string }[] };
  for (const call of ['mount', 'unshare', 'keyctl', 'bpf']) assert.ok(seccomp.syscalls[0]?.names.includes(call), call);
  assert.equal(seccomp.syscalls[0]?.action, 'SCMP_ACT_ERRNO');
});
test('unprivileged: /proc/kcore masked, /proc/sys read-only, no devices allowed beyond the standard ones', () => {
  const l = linux({});
  assert.ok((l.maskedPaths as string[]).includes('/proc/kcore'));
  assert.ok((l.readonlyPaths as string[]).includes('/proc/sys'));
  assert.deepEqual((l.resources as { devices: unknown[] }).devices, [{ allow: false, access: 'rwm' }]);
  assert.equal(l.devices, undefined);
});
test('privileged: every capability, no seccomp, no masks, host devices given', () => {
  const fuse = { path: '/dev/fuse', type: 'c' as const, major: 10, minor: 229, fileMode: 0o666 };
  const l = linux({ privileged: true, privilegedDevices: [fuse] });
  assert.ok(proc({ privileged: true }).capabilities.bounding.includes('CAP_SYS_ADMIN'));
  assert.equal(l.seccomp, undefined);
  assert.equal(l.maskedPaths, undefined);
  assert.deepEqual(l.devices, [{ ...fuse, uid: 0, gid: 0 }]);
});
test('privileged within a smaller bounding set: only what the web node has', () => {
  assert.deepEqual(capabilitiesWithin(['CAP_CHOWN', 'CAP_SYS_RESOURCE', 'CAP_KILL'], 0x1fffeffffffn), ['CAP_CHOWN', 'CAP_KILL']);
});
test('namespaces: pid, ipc, uts, mount; the host network by default', () => {
  assert.deepEqual(linux({}).namespaces, [{ type: 'pid' }, { type: 'ipc' }, { type: 'uts' }, { type: 'mount' }]);
});
test('namespaces: --local-network=isolated adds a network namespace', () => {
  assert.deepEqual((linux({ isolatedNetwork: true }).namespaces as { type: string }[]).map((n) => n.type), ['pid', 'ipc', 'uts', 'mount', 'network']);
});
test('a team user namespace: one range for uids and gids, and the host /sys bound read-only', () => {
  const l = linux({ userNamespace: { hostId: 1065536, size: 65536 } });
  assert.deepEqual(l.uidMappings, [{ containerID: 0, hostID: 1065536, size: 65536 }]);
  assert.deepEqual(l.gidMappings, l.uidMappings);
  assert.deepEqual((l.namespaces as { type: string }[]).at(-1), { type: 'user' });
});
test('rootless: the given mappings, no cgroup path, no cgroup resources (no delegated cgroup)', () => {
  const idMappings = [
    { containerID: 0, hostID: 0, size: 1 },
    { containerID: 1, hostID: 65537, size: 65535 },
  ];
  const l = linux({ idMappings, rootless: true });
  assert.deepEqual(l.uidMappings, idMappings);
  assert.deepEqual(l.gidMappings, idMappings);
  assert.deepEqual((l.namespaces as { type: string }[]).map((n) => n.type), ['pid', 'ipc', 'uts', 'mount', 'user']);
  assert.equal(l.cgroupsPath, undefined);
  assert.equal(l.resources, undefined);
  const sys = (ociSpec({ ...base, idMappings, rootless: true }).mounts as { destination: string; type: string; options: string[] }[]).find((m) => m.destination === '/sys');
  assert.deepEqual(sys, { destination: '/sys', type: 'bind', source: '/sys', options: ['rbind', 'nosuid', 'noexec', 'nodev', 'ro'] });
});
test('limits: memory (and swap to the same) and cpu shares', () => {
  const r = linux({ limits: { memory: 1 << 26, cpu: 512 } }).resources as Record<string, unknown>;
  assert.deepEqual(r.memory, { limit: 1 << 26, swap: 1 << 26 });
  assert.deepEqual(r.cpu, { shares: 512 });
});
test('limits: 0 means none', () => {
  const r = linux({ limits: { memory: 0, cpu: 0 } }).resources as Record<string, unknown>;
  assert.equal(r.memory, undefined);
  assert.equal(r.cpu, undefined);
});
test('cpuShares: clamped to the kernel’s range', () => assert.deepEqual([cpuShares(1), cpuShares(1024), cpuShares(10 ** 9), cpuShares(undefined)], [2, 1024, 262144, undefined]));
test('bind mounts: nosuid, nodev, read-only when asked', () => {
  const mounts = ociSpec({ ...base, mounts: [{ source: '/h', destination: '/c', readonly: true }] }).mounts as { destination: string; options: string[] }[];
  assert.deepEqual(mounts.find((m) => m.destination === '/c')?.options, ['rbind', 'nosuid', 'nodev', 'ro']);
});
test('processEnv: the image’s, then the step’s, later wins; PATH and HOME defaulted', () => {
  assert.deepEqual(processEnv([{ PATH: '/img', A: 'image' }, { A: 'step' }, undefined, { B: 'proc' }], '/root'), ['PATH=/img', 'HOME=/root', 'A=step', 'B=proc']);
});
test('envMap: NAME=value entries; junk ignored', () => assert.deepEqual(envMap(['A=1', 'B=x=y', 'noequals', 3, '=v']), { A: '1', B: 'x=y' }));
test('startReason: runc’s message without its prefixes', () => {
  assert.equal(startReason(['runc run failed: unable to start container process: exec: "x": executable file not found in $PATH']), 'exec: "x": executable file not found in $PATH');
});

const root = mkdtempSync(join(tmpdir(), 'jw-rootfs-'));
mkdirSync(join(root, 'etc'));
writeFileSync(join(root, 'etc/real'), 'x');
symlinkSync('/etc/shadow', join(root, 'etc/passwd'));
symlinkSync('../../../../etc', join(root, 'up'));
const resolveRows: [string, string][] = [
  ['/etc/real', join(root, 'etc/real')],
  ['/etc/passwd', join(root, 'etc/shadow')],
  ['/up/real', join(root, 'etc/real')],
  ['/../../etc/real', join(root, 'etc/real')],
  ['/missing/x', join(root, 'missing/x')],
];
for (const [path, expected] of resolveRows) {
  test(`resolveInsideRoot('${path}') stays in the image`, () => assert.equal(resolveInsideRoot(root, path), expected));
}
