// The OCI runtime spec (config.json) of a step's container on the local container runtime: pure,
// so every decision (capabilities, devices, namespaces, limits, masks, seccomp) is table-tested
// (test/runtime/local/containers/oci-spec.test.ts). docs/local-containers.md says why each is so.
//
// Defaults follow Docker's (what Concourse's Garden gives an unprivileged container): Docker's
// capability set, no devices beyond the standard ones (no /dev/fuse), /proc and /sys paths masked
// or read-only, a seccomp filter refusing the system calls Docker's default profile refuses.
// `privileged: true` (asked by the pipeline) lifts all of that, as Concourse's does.

export interface BindMount {
  /** host path */
  source: string;
  /** absolute path inside the container */
  destination: string;
  readonly?: boolean;
}

export interface ContainerProcess {
  args: string[];
  env: string[];
  /** absolute, inside the container */
  cwd: string;
  uid: number;
  gid: number;
  additionalGids?: number[];
}

export interface SpecOptions {
  process: ContainerProcess;
  /** the root file system (absolute: each process of a container has a bundle of its own over the same rootfs) */
  rootfs: string;
  hostname: string;
  mounts: BindMount[];
  privileged: boolean;
  /** a private network namespace (only loopback) instead of the host's */
  isolatedNetwork: boolean;
  /** Concourse's container_limits: cpu in shares (1024 = one CPU), memory in bytes; 0 or absent: none */
  limits?: { cpu?: number; memory?: number };
  /** the cgroup (relative to runc's) the container's processes go to; absent: runc's default */
  cgroupsPath?: string;
  /** the web node's own bounding set (a web node in a container may lack some capabilities) */
  bounding?: bigint;
  /** host devices a privileged container gets (absent on the host: left out) */
  privilegedDevices?: HostDevice[];
  /** Kubernetes' securityContext (the test cluster's kubelet, test/kube-sim/kubelet): capabilities over the default set */
  capabilities?: CapabilityChanges;
  /** securityContext.allowPrivilegeEscalation: false (no_new_privs; not for a privileged container) */
  noNewPrivileges?: boolean;
  /** securityContext.readOnlyRootFilesystem */
  readonlyRootfs?: boolean;
  /** the seccomp deny list of an unprivileged container (default true; false: none, Kubernetes' Unconfined) */
  seccomp?: boolean;
  /**
   * A user namespace: the container's ids 0..size-1 are the host's hostId..hostId+size-1 (its
   * team's range, docs/local-containers.md "Teams"). Absent: the host's ids (a privileged step).
   */
  userNamespace?: IdRange;
  /**
   * A user namespace with these mappings (uids and gids alike), instead of `userNamespace`'s one
   * range: a rootless container's root is the web node's uid, its 1..65535 its team's slice
   * (src/runtime/local/rootless.ts).
   */
  idMappings?: IdMapping[];
  /**
   * The web node is not root (rootless, docs/local-containers.md): runc cannot write cgroups, so
   * the spec sets no cgroup resources, device rules or cgroup path.
   */
  rootless?: boolean;
}

/** One line of a user namespace's uid_map/gid_map. */
export interface IdMapping {
  containerID: number;
  hostID: number;
  size: number;
}

/** A range of host uids and gids (the same numbers for both). */
export interface IdRange {
  hostId: number;
  size: number;
}

export interface HostDevice {
  path: string;
  type: 'c' | 'b';
  major: number;
  minor: number;
  fileMode: number;
}

/** Docker's default capability set (moby's oci/caps/defaults.go). */
export const DEFAULT_CAPABILITIES = [
  'CAP_CHOWN',
  'CAP_DAC_OVERRIDE',
  'CAP_FSETID',
  'CAP_FOWNER',
  'CAP_MKNOD',
  'CAP_NET_RAW',
  'CAP_SETGID',
  'CAP_SETUID',
  'CAP_SETFCAP',
  'CAP_SETPCAP',
  'CAP_NET_BIND_SERVICE',
  'CAP_SYS_CHROOT',
  'CAP_KILL',
  'CAP_AUDIT_WRITE',
] as const;

/** Every capability (a privileged container's). */
export const ALL_CAPABILITIES = [
  ...DEFAULT_CAPABILITIES,
  'CAP_DAC_READ_SEARCH',
  'CAP_LINUX_IMMUTABLE',
  'CAP_NET_BROADCAST',
  'CAP_NET_ADMIN',
  'CAP_IPC_LOCK',
  'CAP_IPC_OWNER',
  'CAP_SYS_MODULE',
  'CAP_SYS_RAWIO',
  'CAP_SYS_PTRACE',
  'CAP_SYS_PACCT',
  'CAP_SYS_ADMIN',
  'CAP_SYS_BOOT',
  'CAP_SYS_NICE',
  'CAP_SYS_RESOURCE',
  'CAP_SYS_TIME',
  'CAP_SYS_TTY_CONFIG',
  'CAP_LEASE',
  'CAP_AUDIT_CONTROL',
  'CAP_MAC_OVERRIDE',
  'CAP_MAC_ADMIN',
  'CAP_SYSLOG',
  'CAP_WAKE_ALARM',
  'CAP_BLOCK_SUSPEND',
  'CAP_AUDIT_READ',
] as const;

/** Capability numbers (linux/capability.h), to read a bounding set. */
export const CAPABILITY_NUMBERS: readonly string[] = [
  'CAP_CHOWN', 'CAP_DAC_OVERRIDE', 'CAP_DAC_READ_SEARCH', 'CAP_FOWNER', 'CAP_FSETID', 'CAP_KILL', 'CAP_SETGID', 'CAP_SETUID',
  'CAP_SETPCAP', 'CAP_LINUX_IMMUTABLE', 'CAP_NET_BIND_SERVICE', 'CAP_NET_BROADCAST', 'CAP_NET_ADMIN', 'CAP_NET_RAW', 'CAP_IPC_LOCK',
  'CAP_IPC_OWNER', 'CAP_SYS_MODULE', 'CAP_SYS_RAWIO', 'CAP_SYS_CHROOT', 'CAP_SYS_PTRACE', 'CAP_SYS_PACCT', 'CAP_SYS_ADMIN',
  'CAP_SYS_BOOT', 'CAP_SYS_NICE', 'CAP_SYS_RESOURCE', 'CAP_SYS_TIME', 'CAP_SYS_TTY_CONFIG', 'CAP_MKNOD', 'CAP_LEASE',
  'CAP_AUDIT_WRITE', 'CAP_AUDIT_CONTROL', 'CAP_SETFCAP', 'CAP_MAC_OVERRIDE', 'CAP_MAC_ADMIN', 'CAP_SYSLOG', 'CAP_WAKE_ALARM',
  'CAP_BLOCK_SUSPEND', 'CAP_AUDIT_READ',
];

/** Capabilities to drop and add (Kubernetes' securityContext.capabilities), names with or without CAP_, or ALL. */
export interface CapabilityChanges {
  add?: readonly string[];
  drop?: readonly string[];
}

/** `base` with `changes` applied as containerd does: drop first (ALL empties the set), then add (ALL: every one). */
export function changeCapabilities(base: readonly string[], changes: CapabilityChanges | undefined): string[] {
  if (!changes) return [...base];
  const norm = (name: string): string => (name.toUpperCase().startsWith('CAP_') ? name.toUpperCase() : `CAP_${name.toUpperCase()}`);
  const drop = (changes.drop ?? []).map(norm);
  let caps = drop.includes('CAP_ALL') ? [] : base.filter((cap) => !drop.includes(cap));
  for (const cap of (changes.add ?? []).map(norm)) {
    if (cap === 'CAP_ALL') caps = [...ALL_CAPABILITIES];
    else if (!caps.includes(cap)) caps.push(cap);
  }
  return caps;
}

/** The capabilities of `caps` inside a bounding set (the web node's CapBnd, hex): runc cannot grant more than it has. */
export function capabilitiesWithin(caps: readonly string[], bounding: bigint | undefined): string[] {
  if (bounding === undefined) return [...caps];
  return caps.filter((cap) => {
    const n = CAPABILITY_NUMBERS.indexOf(cap);
    return n >= 0 && ((bounding >> BigInt(n)) & 1n) === 1n;
  });
}

/**
 * System calls an unprivileged container may not make: those Docker's default seccomp profile
 * leaves out of its allow list although a process could reach them with Docker's capabilities or
 * without any (kernel keyring, BPF, perf, module loading, clock, namespaces, handles, ...).
 * Docker's profile is an allow list of ~350 calls; this deny list keeps the same calls out without
 * breaking a new system call an image's libc may try first. They fail with EPERM.
 */
export const DENIED_SYSCALLS = [
  'acct',
  'add_key',
  'bpf',
  'clock_adjtime',
  'clock_settime',
  'create_module',
  'delete_module',
  'finit_module',
  'fsconfig',
  'fsmount',
  'fsopen',
  'fspick',
  'get_kernel_syms',
  'get_mempolicy',
  'init_module',
  'ioperm',
  'iopl',
  'kcmp',
  'kexec_file_load',
  'kexec_load',
  'keyctl',
  'lookup_dcookie',
  'mbind',
  'mount',
  'mount_setattr',
  'move_mount',
  'move_pages',
  'name_to_handle_at',
  'nfsservctl',
  'open_by_handle_at',
  'open_tree',
  'perf_event_open',
  'pivot_root',
  'process_vm_readv',
  'process_vm_writev',
  'ptrace',
  'query_module',
  'quotactl',
  'reboot',
  'request_key',
  'set_mempolicy',
  'setns',
  'settimeofday',
  'stime',
  'swapoff',
  'swapon',
  'sysfs',
  '_sysctl',
  'umount',
  'umount2',
  'unshare',
  'uselib',
  'userfaultfd',
  'ustat',
  'vm86',
  'vm86old',
] as const;

const MASKED_PATHS = [
  '/proc/acpi',
  '/proc/asound',
  '/proc/kcore',
  '/proc/keys',
  '/proc/latency_stats',
  '/proc/timer_list',
  '/proc/timer_stats',
  '/proc/sched_debug',
  '/proc/scsi',
  '/sys/firmware',
  '/sys/devices/virtual/powercap',
];
const READONLY_PATHS = ['/proc/bus', '/proc/fs', '/proc/irq', '/proc/sys', '/proc/sysrq-trigger'];

/** Concourse's CPU shares (1024 = one CPU's share) as runc takes them; runc maps shares to cgroup v2's cpu.weight. */
export function cpuShares(cpu: number | undefined): number | undefined {
  if (cpu === undefined || cpu <= 0) return undefined;
  // the kernel's range for cpu.shares
  return Math.min(Math.max(Math.round(cpu), 2), 262144);
}

/** The seccomp section: a deny list on top of "allow", for the architectures this runtime runs on. */
export function seccompProfile(): object {
  return {
    defaultAction: 'SCMP_ACT_ALLOW',
    architectures: ['SCMP_ARCH_X86_64', 'SCMP_ARCH_X86', 'SCMP_ARCH_X32', 'SCMP_ARCH_AARCH64', 'SCMP_ARCH_ARM'],
    syscalls: [{ names: [...DENIED_SYSCALLS], action: 'SCMP_ACT_ERRNO', errnoRet: 1 }],
  };
}

/** The config.json of a container (OCI runtime spec 1.0.2, as runc 1.1 reads it). */
export function ociSpec(o: SpecOptions): Record<string, unknown> {
  const caps = capabilitiesWithin(o.privileged ? ALL_CAPABILITIES : changeCapabilities(DEFAULT_CAPABILITIES, o.capabilities), o.bounding);
  const shares = cpuShares(o.limits?.cpu);
  const memory = o.limits?.memory !== undefined && o.limits.memory > 0 ? o.limits.memory : undefined;
  const mappings = o.idMappings ?? (o.userNamespace ? [{ containerID: 0, hostID: o.userNamespace.hostId, size: o.userNamespace.size }] : undefined);
  const resources: Record<string, unknown> = {
    // devices: the standard ones only (runc adds null, zero, full, random, urandom, tty, ptmx), all for a privileged one
    devices: o.privileged ? [{ allow: true, access: 'rwm' }] : [{ allow: false, access: 'rwm' }],
    ...(memory !== undefined ? { memory: { limit: memory, swap: memory } } : {}),
    ...(shares !== undefined ? { cpu: { shares } } : {}),
  };
  const devices = o.privileged ? (o.privilegedDevices ?? []).map((d) => ({ ...d, uid: 0, gid: 0 })) : [];
  if (o.privileged) {
    for (const d of o.privilegedDevices ?? []) (resources.devices as object[]).push({ allow: true, type: d.type, major: d.major, minor: d.minor, access: 'rwm' });
  }
  return {
    ociVersion: '1.0.2',
    process: {
      terminal: false,
      user: { uid: o.process.uid, gid: o.process.gid, ...(o.process.additionalGids && o.process.additionalGids.length > 0 ? { additionalGids: o.process.additionalGids } : {}) },
      args: o.process.args,
      env: o.process.env,
      cwd: o.process.cwd,
      capabilities: { bounding: caps, effective: caps, permitted: caps, ...(o.process.uid === 0 ? {} : { inheritable: [], ambient: [] }) },
      noNewPrivileges: o.noNewPrivileges === true && !o.privileged,
    },
    root: { path: o.rootfs, readonly: o.readonlyRootfs ?? false },
    hostname: o.hostname,
    mounts: [
      { destination: '/proc', type: 'proc', source: 'proc', options: ['nosuid', 'noexec', 'nodev'] },
      { destination: '/dev', type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'strictatime', 'mode=755', 'size=65536k'] },
      { destination: '/dev/pts', type: 'devpts', source: 'devpts', options: ['nosuid', 'noexec', 'newinstance', 'ptmxmode=0666', 'mode=0620', 'gid=5'] },
      { destination: '/dev/shm', type: 'tmpfs', source: 'shm', options: ['nosuid', 'noexec', 'nodev', 'mode=1777', 'size=65536k'] },
      { destination: '/dev/mqueue', type: 'mqueue', source: 'mqueue', options: ['nosuid', 'noexec', 'nodev'] },
      // a private network namespace cannot mount the host's sysfs read-write, nor should anyone else
      // in a user namespace on the host's network the kernel refuses a sysfs mount (sysfs belongs to the
      // network namespace's owner): the host's /sys bound read-only instead (recursively: a user namespace may not split locked submounts off)
      mappings && !o.isolatedNetwork
        ? { destination: '/sys', type: 'bind', source: '/sys', options: ['rbind', 'nosuid', 'noexec', 'nodev', 'ro'] }
        : { destination: '/sys', type: 'sysfs', source: 'sysfs', options: ['nosuid', 'noexec', 'nodev', 'ro'] },
      // the container's own cgroup, read-only (tools size themselves to their memory limit)
      { destination: '/sys/fs/cgroup', type: 'cgroup', source: 'cgroup', options: ['nosuid', 'noexec', 'nodev', 'relatime', 'ro'] },
      ...o.mounts.map((m) => ({ destination: m.destination, type: 'bind', source: m.source, options: ['rbind', 'nosuid', 'nodev', m.readonly ? 'ro' : 'rw'] })),
    ],
    linux: {
      namespaces: [{ type: 'pid' }, { type: 'ipc' }, { type: 'uts' }, { type: 'mount' }, ...(o.isolatedNetwork ? [{ type: 'network' }] : []), ...(mappings ? [{ type: 'user' }] : [])],
      ...(mappings ? { uidMappings: mappings, gidMappings: mappings } : {}),
      ...(o.cgroupsPath !== undefined && !o.rootless ? { cgroupsPath: o.cgroupsPath } : {}),
      ...(o.rootless ? {} : { resources }),
      ...(devices.length > 0 ? { devices } : {}),
      ...(o.privileged ? {} : { maskedPaths: MASKED_PATHS, readonlyPaths: READONLY_PATHS, ...(o.seccomp === false ? {} : { seccomp: seccompProfile() }) }),
    },
  };
}

/** Where a user name or number of `run.user` (or the image's USER) was looked up, for messages. */
export interface Passwd {
  users: { name: string; uid: number; gid: number }[];
  groups: { name: string; gid: number; members: string[] }[];
}

/** Parses /etc/passwd and /etc/group (malformed lines are skipped). */
export function parsePasswd(passwd: string, group: string): Passwd {
  const users: Passwd['users'] = [];
  for (const line of passwd.split('\n')) {
    const [name, , uid, gid] = line.split(':');
    const u = Number(uid);
    const g = Number(gid);
    if (name && Number.isInteger(u) && u >= 0 && Number.isInteger(g) && g >= 0 && uid !== '' && gid !== '') users.push({ name, uid: u, gid: g });
  }
  const groups: Passwd['groups'] = [];
  for (const line of group.split('\n')) {
    const [name, , gid, members] = line.split(':');
    const g = Number(gid);
    if (name && gid !== '' && Number.isInteger(g) && g >= 0) groups.push({ name, gid: g, members: (members ?? '').split(',').filter((m) => m !== '') });
  }
  return { users, groups };
}

export type ResolvedUser = { ok: true; uid: number; gid: number; additionalGids: number[]; home?: string } | { ok: false; message: string };

const MAX_ID = 2 ** 32 - 2;

/**
 * `user`, `uid`, `user:group`, `uid:gid` (Docker's USER forms) against the image's passwd and
 * group files: a name must exist there, a number need not (gid 0 then, as Docker).
 */
export function resolveUser(spec: string, db: Passwd): ResolvedUser {
  const [userPart = '', groupPart] = spec.split(':', 2);
  if (userPart === '') return { ok: false, message: `'${spec}' names no user` };
  let uid: number;
  let gid: number;
  let name: string | undefined;
  if (/^\d+$/.test(userPart)) {
    uid = Number(userPart);
    if (uid > MAX_ID) return { ok: false, message: `user id ${userPart} is out of range` };
    const known = db.users.find((u) => u.uid === uid);
    gid = known?.gid ?? 0;
    name = known?.name;
  } else {
    const known = db.users.find((u) => u.name === userPart);
    if (!known) return { ok: false, message: `no user '${userPart}' in the image's /etc/passwd` };
    ({ uid, gid, name } = known);
  }
  if (groupPart !== undefined) {
    if (/^\d+$/.test(groupPart)) {
      gid = Number(groupPart);
      if (gid > MAX_ID) return { ok: false, message: `group id ${groupPart} is out of range` };
    } else {
      const group = db.groups.find((g) => g.name === groupPart);
      if (!group) return { ok: false, message: `no group '${groupPart}' in the image's /etc/group` };
      gid = group.gid;
    }
  }
  const additionalGids = name === undefined ? [] : db.groups.filter((g) => g.members.includes(name) && g.gid !== gid).map((g) => g.gid);
  return { ok: true, uid, gid, additionalGids };
}

/** `NAME=value` entries (an image config's Env) as a map; the later of two equal names wins. */
export function envMap(entries: readonly unknown[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const entry of entries) {
    if (typeof entry !== 'string') continue;
    const eq = entry.indexOf('=');
    if (eq > 0) out[entry.slice(0, eq)] = entry.slice(eq + 1);
  }
  return out;
}

/** The default PATH of a container whose image sets none (Docker's). */
export const DEFAULT_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

/** A process's env: the image's, then the step's layers in order (later wins); PATH and HOME always set. */
export function processEnv(layers: readonly (Record<string, string> | undefined)[], home: string): string[] {
  const env: Record<string, string> = { PATH: DEFAULT_PATH, HOME: home };
  for (const layer of layers) Object.assign(env, layer ?? {});
  return Object.entries(env).map(([k, v]) => `${k}=${v}`);
}
